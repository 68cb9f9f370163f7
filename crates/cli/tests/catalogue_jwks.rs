//! `elicense catalogue` (load, print as JSON, refuse unknown keys) and `elicense jwks`.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn catalogue_json_lists_the_sample_types() {
    let d = DataDir::empty();
    // An empty node prints an empty catalogue.
    let out = d.run(&["catalogue", "--json"]);
    out.ok();
    assert_eq!(out.json(), Value::Array(vec![]));

    let sample = sample_catalogue();
    let out = d.run(&["catalogue", "--load", sample.to_str().unwrap(), "--json"]);
    out.ok();
    let loaded = out.json();

    let out = d.run(&["catalogue", "--json"]);
    out.ok();
    let types = out.json();
    assert_eq!(
        types, loaded,
        "--load --json prints the catalogue after loading"
    );
    let types = types.as_array().expect("an array of types");
    let mut codes: Vec<&str> = types.iter().map(|t| t["code"].as_str().unwrap()).collect();
    codes.sort_unstable();
    let mut want = vec![
        BUSINESS_LICENSE,
        elicense_core::sample::FOOD_BUSINESS_LICENSE,
        RESIDENT_ID_CARD,
        DRIVING_LICENSE,
    ];
    want.sort_unstable();
    assert_eq!(codes, want);
    for t in types {
        assert!(t["name"].as_str().is_some_and(|n| !n.is_empty()), "{t}");
        assert_eq!(t["version"], 1, "{t}");
        let issuers = t["issuers"].as_array().expect("issuers");
        assert!(!issuers.is_empty(), "{t}");
        for i in issuers {
            run(&["id", "check", i.as_str().unwrap()]).ok();
        }
        let items = t["items"].as_array().expect("items");
        assert!(!items.is_empty());
        for item in items {
            for key in ["name", "label", "type", "required", "example"] {
                assert!(item.get(key).is_some(), "item has {key}: {item}");
            }
            assert!(item["required"].is_boolean(), "{item}");
            assert!(
                item["example"].as_str().is_some_and(|e| !e.is_empty()),
                "every item has an example: {item}"
            );
        }
    }
    let driving = types.iter().find(|t| t["code"] == DRIVING_LICENSE).unwrap();
    assert_eq!(driving["name"], "机动车驾驶证");
    assert!(driving["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == BEIJING_TRAFFIC_POLICE));
    let class = driving["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "vehicle_class")
        .unwrap();
    assert_eq!(class["required"], true);
    assert_eq!(class["example"], "C1");

    // Loading the same file again changes nothing (same versions).
    let out = d.run(&["catalogue", "--load", sample.to_str().unwrap(), "--json"]);
    out.ok();
    assert_eq!(&out.json(), &loaded);

    // The example values issue: they are valid data of their type, for the holder whose
    // resident ID they fit (born 1990-03-07, 男).
    let d = d.setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let mut args = vec![
        "issue",
        "--type",
        DRIVING_LICENSE,
        "--issuer",
        BEIJING_TRAFFIC_POLICE,
        "--holder-name",
        "张伟",
        "--holder-id",
        elicense_core::sample::EXAMPLE_RESIDENT_ID,
        "--alg",
        "ed25519",
        "--json",
    ];
    let fields: Vec<String> = driving["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}={}",
                i["name"].as_str().unwrap(),
                i["example"].as_str().unwrap()
            )
        })
        .collect();
    for f in &fields {
        args.extend(["--field", f.as_str()]);
    }
    d.run(&args).ok();
}

#[test]
fn catalogue_with_an_unknown_key_is_refused() {
    let d = DataDir::empty();
    let text = std::fs::read_to_string(sample_catalogue()).unwrap();
    let cases = [
        // In a type.
        text.replacen(
            "face_template = \"faces/business_license.svg\"",
            "face_template = \"faces/business_license.svg\"\ncolour = \"red\"",
            1,
        ),
        // At the top level.
        format!("bogus = 1\n{text}"),
        // In an issuer.
        text.replacen("area = \"110000\"", "area = \"110000\"\nfoo = 1", 1),
    ];
    for (i, toml) in cases.iter().enumerate() {
        assert_ne!(toml, &text, "case {i} changes the file");
        let file = d.path(&format!("bad{i}.toml"));
        std::fs::write(&file, toml).unwrap();
        let out = d.run(&["catalogue", "--load", file.to_str().unwrap()]);
        out.expect_code(2);
        assert!(
            out.stderr.starts_with("error[catalogue.unknown_field]"),
            "case {i}: {out:?}"
        );
        let out = d.run(&["catalogue", "--load", file.to_str().unwrap(), "--json"]);
        out.expect_code(2);
        assert_eq!(
            out.stderr_json()["error"]["code"],
            "catalogue.unknown_field",
            "case {i}"
        );
    }
    // Nothing was loaded.
    let out = d.run(&["catalogue", "--json"]);
    out.ok();
    assert_eq!(out.json(), Value::Array(vec![]));

    // A file that is not there.
    let out = d.run(&[
        "catalogue",
        "--load",
        d.path("missing.toml").to_str().unwrap(),
    ]);
    out.expect_code(2);
}

#[test]
fn jwks_prints_the_issuer_keys() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    let out = d.run(&["jwks", "--issuer", BEIJING_TRAFFIC_POLICE]);
    out.ok();
    let jwks = out.json();
    let keys = jwks["keys"].as_array().expect("{\"keys\":[...]}");
    assert_eq!(keys.len(), 1, "{jwks}");
    let k = &keys[0];
    assert_eq!(k["kty"], "EC");
    assert_eq!(k["crv"], "SM2");
    assert!(
        k["x"].is_string() && k["y"].is_string() && k["kid"].is_string(),
        "{k}"
    );
    assert!(k.get("d").is_none(), "no private part: {k}");

    // A second key (another algorithm) joins the set; both stay published.
    let out = d.run(&[
        "keygen",
        "--issuer",
        BEIJING_TRAFFIC_POLICE,
        "--alg",
        "ed25519",
    ]);
    out.ok();
    let ed = out.json();
    let out = d.run(&["jwks", "--issuer", BEIJING_TRAFFIC_POLICE]);
    out.ok();
    let jwks = out.json();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{jwks}");
    assert!(keys
        .iter()
        .any(|k| k["crv"] == "SM2" && k["kid"] == jwks["keys"][0]["kid"]));
    assert!(
        keys.iter()
            .any(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519" && k["kid"] == ed["kid"]),
        "{jwks}"
    );

    // The private keys are stored encrypted, never in clear.
    let pems: Vec<String> = d
        .sql()
        .prepare("SELECT encrypted_pem FROM issuer_keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(pems.len(), 2);
    assert!(
        pems.iter().all(|p| p.contains("ENCRYPTED PRIVATE KEY")),
        "{pems:?}"
    );

    // An issuer with no key has an empty set; an unknown issuer is an error.
    let out = d.run(&["jwks", "--issuer", BEIJING_SAMR]);
    out.ok();
    assert_eq!(out.json()["keys"], Value::Array(vec![]));
    let out = d.run(&["jwks", "--issuer", "91330000755918469E"]);
    out.expect_code(2);
    assert_eq!(out.stderr_json()["error"]["code"], "issuer.unknown");
}
