//! `elicense id check`: every vector of testdata/identifiers.json (GB 11643 resident IDs,
//! GB 32100 USCCs, GB/T 36904 e-license identifiers).

mod common;

use common::run;
use serde_json::Value;

/// (kind prefix of the error code, values) for the valid and the invalid vectors.
struct Vectors {
    valid: Vec<(&'static str, String)>,
    invalid: Vec<(&'static str, String)>,
}

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(common::testdata("identifiers.json"))
        .expect("testdata/identifiers.json");
    let doc: Value = serde_json::from_str(&text).expect("identifiers.json is JSON");
    let mut v = Vectors {
        valid: vec![],
        invalid: vec![],
    };
    for (section, kind) in [
        ("gb11643", "resident_id"),
        ("gb32100", "uscc"),
        ("gbt36904", "identifier"),
    ] {
        for (list, out) in [("valid", &mut v.valid), ("invalid", &mut v.invalid)] {
            let entries = doc[section][list]
                .as_array()
                .unwrap_or_else(|| panic!("{section}.{list}"));
            assert!(!entries.is_empty(), "{section}.{list} has vectors");
            for e in entries {
                out.push((kind, e["value"].as_str().expect("value").to_string()));
            }
        }
    }
    v
}

#[test]
fn all_valid_vectors_together_exit_0() {
    let v = vectors();
    let mut args = vec!["id", "check", "--json"];
    args.extend(v.valid.iter().map(|(_, s)| s.as_str()));
    let out = run(&args);
    out.ok();
    let results = out.json();
    let results = results.as_array().expect("an array, one result per value");
    assert_eq!(results.len(), v.valid.len());
    for ((kind, value), r) in v.valid.iter().zip(results) {
        assert_eq!(r["value"], *value, "results are in argument order");
        assert_eq!(r["valid"], true, "{value}: {r}");
        assert_eq!(r["kind"], *kind, "{value} is a {kind}: {r}");
    }

    // The human form says ok for each and exits 0 too.
    let mut args = vec!["id", "check"];
    args.extend(v.valid.iter().map(|(_, s)| s.as_str()));
    let out = run(&args);
    out.ok();
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("ok")).count(),
        v.valid.len(),
        "{}",
        out.stdout
    );
}

#[test]
fn each_invalid_vector_exits_1_with_a_code_of_its_kind() {
    let v = vectors();
    let mut wrong_kind = Vec::new();
    for (kind, value) in &v.invalid {
        let out = run(&["id", "check", "--json", value]);
        out.expect_code(1);
        let results = out.json();
        let r = &results[0];
        assert_eq!(
            results.as_array().map(Vec::len),
            Some(1),
            "{value}: {results}"
        );
        assert_eq!(r["valid"], false, "{value}: {r}");
        let code = r["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{value}: an invalid value has a code: {r}"));
        assert!(
            r["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{value}: says what is wrong: {r}"
        );
        let reported = r["kind"].as_str().unwrap_or("");
        assert!(
            code.starts_with(&format!("{reported}.")),
            "{value}: code {code} does not match the reported kind {reported}"
        );
        if !code.starts_with(&format!("{kind}.")) {
            wrong_kind.push(format!(
                "{value:?} is a {kind} but was checked as a {reported} ({code})"
            ));
        }

        // Human form: INVALID and the code in brackets, same exit code.
        let human = run(&["id", "check", value]);
        human.expect_code(1);
        assert!(
            human.stdout.contains("INVALID") && human.stdout.contains(&format!("[{code}]")),
            "{value}: {human:?}"
        );
    }
    assert!(
        wrong_kind.is_empty(),
        "values checked against the wrong standard:\n{}",
        wrong_kind.join("\n")
    );
}

#[test]
fn mixed_valid_and_invalid_exits_1_and_reports_each() {
    let v = vectors();
    // One valid and one invalid of each kind, interleaved.
    let mut values: Vec<(&str, bool)> = Vec::new();
    for kind in ["resident_id", "uscc", "identifier"] {
        let good = v.valid.iter().find(|(k, _)| *k == kind).unwrap();
        let bad = v.invalid.iter().find(|(k, _)| *k == kind).unwrap();
        values.push((&good.1, true));
        values.push((&bad.1, false));
    }
    let mut args = vec!["id", "check", "--json"];
    args.extend(values.iter().map(|(s, _)| *s));
    let out = run(&args);
    out.expect_code(1);
    let results = out.json();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), values.len());
    for ((value, valid), r) in values.iter().zip(results) {
        assert_eq!(r["value"], *value);
        assert_eq!(r["valid"], *valid, "{value}: {r}");
        assert_eq!(
            r["code"].is_string(),
            !valid,
            "only invalid values carry a code: {r}"
        );
    }
}

#[test]
fn no_value_is_a_usage_error() {
    let out = run(&["id", "check"]);
    out.expect_code(2);
    assert!(out.stdout.is_empty());
}
