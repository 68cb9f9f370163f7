//! `elicense institution add|list|key`: register a relying institution with its business
//! scope, print its API key once, list institutions, refuse bad input with a code.

mod common;

use common::*;

/// `elicense institution VERB --data DIR REST...`.
fn institution(d: &DataDir, args: &[&str]) -> Out {
    let mut v = vec!["institution", args[0], "--data", d.data()];
    v.extend_from_slice(&args[1..]);
    run(&v)
}

#[test]
fn institutions_are_registered_listed_and_given_keys() {
    let d = DataDir::empty().setup(&[]);
    let out = institution(
        &d,
        &[&["add"][..], &RENTAL_ADD, &["--matter", "age_check"]].concat(),
    );
    out.ok();
    let added = out.json();
    assert_eq!(added["code"], RENTAL);
    assert_eq!(
        added["matters"],
        serde_json::json!(["car_rental", "age_check"])
    );
    let first_key = added["api_key"].as_str().unwrap().to_owned();
    assert!(first_key.starts_with("eli_"), "{added}");

    let out = institution(&d, &["key", "--code", RENTAL, "--label", "branch 2"]);
    out.ok();
    let second_key = out.stdout.trim().to_owned();
    assert!(second_key.starts_with("eli_") && second_key != first_key);

    let out = institution(&d, &["list"]);
    out.ok();
    let list = out.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "示例汽车租赁有限公司");
    assert!(
        !out.stdout.contains(&first_key) && !out.stdout.contains(&second_key),
        "keys are not listed"
    );

    // Bad input: a code with a wrong check character, a matter no type names, an unknown
    // institution. Each exits 2 with its code and stores nothing.
    for (args, code) in [
        (
            vec![
                "institution",
                "add",
                "--code",
                "91110105MA01B2C3DX",
                "--name",
                "x",
                "--area",
                "110105",
                "--matter",
                "car_rental",
            ],
            "uscc.bad_check",
        ),
        (
            vec![
                "institution",
                "add",
                "--code",
                RENTAL,
                "--name",
                "x",
                "--area",
                "110105",
                "--matter",
                "no_such_matter",
            ],
            "institution.unknown_matter",
        ),
        (
            vec!["institution", "key", "--code", "91310101MA1FPX0Q1Y"],
            "institution.unknown",
        ),
    ] {
        let out = institution(&d, &args[1..]);
        out.expect_code(2);
        assert!(out.stderr.contains(code), "{code}: {}", out.stderr);
    }
    let out = institution(&d, &["list"]);
    assert_eq!(
        out.json()[0]["matters"],
        serde_json::json!(["car_rental", "age_check"])
    );
}
