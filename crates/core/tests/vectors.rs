//! Every vector of testdata/identifiers.json gives its expected outcome and error kind.

use elicense_core::{ErrorCode, Identifier, ResidentId, Uscc};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/identifiers.json");
    let text = std::fs::read_to_string(path).expect("read identifiers.json");
    serde_json::from_str(&text).expect("parse identifiers.json")
}

fn list<'a>(v: &'a Value, standard: &str, which: &str) -> &'a Vec<Value> {
    v[standard][which].as_array().expect("vector list")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn gb11643_vectors() {
    let v = vectors();
    for case in list(&v, "gb11643", "valid") {
        let value = text(case, "value");
        let id = ResidentId::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(id.as_str(), value);
    }
    for case in list(&v, "gb11643", "invalid") {
        let value = text(case, "value");
        let err = ResidentId::parse(value).expect_err(value);
        let expected = match text(case, "kind") {
            "length" => "resident_id.bad_length",
            "charset" => "resident_id.bad_char",
            "case" => "resident_id.lowercase",
            "date" => "resident_id.bad_date",
            "region" => "resident_id.bad_region",
            "check" => "resident_id.bad_check",
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(err.code(), expected, "{value}: {err}");
    }
}

#[test]
fn gb11643_messages_locate_the_fault() {
    let e = ResidentId::parse("１1010519491231002X").unwrap_err();
    assert!(e.to_string().contains("position 1"), "{e}");
    assert!(e.to_string().contains("U+FF11"), "{e}");
    let e = ResidentId::parse("440524188001010015").unwrap_err();
    assert!(
        e.to_string().contains("'5'") && e.to_string().contains("'4'"),
        "{e}"
    );
}

#[test]
fn gb32100_vectors() {
    let v = vectors();
    for case in list(&v, "gb32100", "valid") {
        let value = text(case, "value");
        Uscc::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
    }
    for case in list(&v, "gb32100", "invalid") {
        let value = text(case, "value");
        let err = Uscc::parse(value).expect_err(value);
        let expected = match text(case, "kind") {
            "length" => "uscc.bad_length",
            "charset" => "uscc.bad_char",
            "case" => "uscc.lowercase",
            "check" => "uscc.bad_check",
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(err.code(), expected, "{value}: {err}");
        if expected == "uscc.bad_char" {
            assert!(err.to_string().contains("forbidden letter"), "{err}");
        }
    }
}

#[test]
fn gbt36904_valid_vectors() {
    let v = vectors();
    for case in list(&v, "gbt36904", "valid") {
        let value = text(case, "value");
        let id = Identifier::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(id.to_string(), value);
        assert_eq!(id.type_code().as_str(), text(case, "type_code"));
        assert_eq!(id.issuer().as_str(), text(case, "issuer_code"));
        assert_eq!(id.serial(), text(case, "serial"));
        assert_eq!(format!("{:03}", id.version()), text(case, "version"));
        assert_eq!(id.check_char().to_string(), text(case, "check"));
        let rebuilt = Identifier::new(
            id.type_code().clone(),
            id.issuer().clone(),
            id.serial(),
            id.version(),
        )
        .unwrap();
        assert_eq!(rebuilt, id);
        let lenient = Identifier::parse_lenient(value).unwrap();
        assert!(
            lenient.deviations.is_empty(),
            "{value}: {:?}",
            lenient.deviations
        );
        assert_eq!(lenient.identifier, Some(id));
    }
}

#[test]
fn gbt36904_invalid_vectors() {
    let v = vectors();
    for case in list(&v, "gbt36904", "invalid") {
        let value = text(case, "value");
        let kind = text(case, "kind");
        let err = Identifier::parse(value).expect_err(value);
        let expected = match kind {
            "root" => "identifier.bad_root",
            "structure" => "identifier.bad_structure",
            "type_code" => "identifier.bad_type_code",
            "issuer_code" => "identifier.bad_issuer_code",
            "serial" => "identifier.bad_serial",
            "version" => "identifier.bad_version",
            "check" => "identifier.bad_check",
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(err.code(), expected, "{value}: {err}");

        let lenient = Identifier::parse_lenient(value);
        if matches!(kind, "root" | "structure") {
            assert_eq!(lenient.unwrap_err().code(), expected, "{value}");
            continue;
        }
        let lenient = lenient.unwrap_or_else(|e| panic!("lenient {value}: {e}"));
        assert!(lenient.identifier.is_none(), "{value}");
        assert!(!lenient.deviations.is_empty(), "{value}");
        let check_ok = case["check_char_ok"].as_bool().expect("check_char_ok");
        let check_deviates = lenient.deviations.iter().any(|d| {
            matches!(
                d.code(),
                "identifier.bad_check" | "identifier.check_nonstandard"
            )
        });
        assert_eq!(
            check_deviates, !check_ok,
            "{value}: {:?}",
            lenient.deviations
        );
        for d in &lenient.deviations {
            assert!(!d.to_string().is_empty());
        }
    }
}

#[test]
fn lenient_names_the_area_code_issuer() {
    let value = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9";
    let lenient = Identifier::parse_lenient(value).unwrap();
    let codes: Vec<&str> = lenient.deviations.iter().map(|d| d.code()).collect();
    assert_eq!(codes, ["identifier.issuer_not_uscc"]);
    assert!(lenient.deviations[0].to_string().contains("area code"));
}

#[test]
fn lenient_reports_vendor_check_char() {
    let value = "1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M";
    let lenient = Identifier::parse_lenient(value).unwrap();
    assert_eq!(lenient.deviations.len(), 1);
    assert_eq!(
        lenient.deviations[0].to_string(),
        "check character is \"M\", expected 'D'"
    );
}
