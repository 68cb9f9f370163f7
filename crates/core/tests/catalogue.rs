//! The sample catalogue, loading rules, and one test per validation error code.

use std::collections::BTreeMap;

use elicense_core::sample::{self, SAMPLE_TOML};
use elicense_core::{
    Catalogue, CatalogueError, Disclosure, ErrorCode, HolderCodeType, LicenseType, TypeCode, Uscc,
    ValidityRule,
};
use serde_json::json;
use time::macros::date;

fn ty(code: &str) -> LicenseType {
    let code = TypeCode::parse(code).unwrap();
    Catalogue::sample().get(&code).unwrap().clone()
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn sample_loads_and_every_example_validates() {
    let cat = Catalogue::sample();
    assert_eq!(cat.types.len(), 4);
    assert!(cat.issuers.len() >= 4);
    let provinces: std::collections::BTreeSet<&str> =
        cat.issuers.iter().map(|i| i.area.province()).collect();
    assert!(provinces.len() >= 2);
    for t in &cat.types {
        let data = t.validate(&t.example_fields()).unwrap();
        assert_eq!(data.len(), t.items.len(), "{}", t.name);
        for issuer in &t.issuers {
            assert!(cat.issuer(issuer).is_some());
        }
        assert_eq!(t.code.defining_body(), t.code.defining_body());
    }
    let dl = ty(sample::DRIVING_LICENSE);
    assert_eq!(dl.name, "机动车驾驶证");
    assert_eq!(dl.holder_kind, HolderCodeType::ResidentId);
    assert_eq!(dl.validity, ValidityRule::FixedYears(6));
    assert_eq!(
        dl.item("file_number").unwrap().disclosure,
        Disclosure::Never
    );
    let bl = ty(sample::BUSINESS_LICENSE);
    assert_eq!(bl.validity, ValidityRule::LongTerm);
    assert_eq!(bl.holder_kind, HolderCodeType::Uscc);
    assert!(bl.may_issue(&Uscc::parse(sample::BEIJING_SAMR).unwrap()));
    assert!(!bl.may_issue(&Uscc::parse(sample::BEIJING_TRAFFIC_POLICE).unwrap()));
    let e = bl
        .check_issuer(&Uscc::parse(sample::BEIJING_TRAFFIC_POLICE).unwrap())
        .unwrap_err();
    assert_eq!(e.code(), "catalogue.issuer_not_allowed");
}

#[test]
fn sample_round_trips_through_json() {
    let cat = Catalogue::sample();
    let json = serde_json::to_string(&cat).unwrap();
    assert!(json.contains(r#""validity":{"kind":"fixed_years","years":6}"#));
    assert!(json.contains(r#""type":{"enum":["男","女"]}"#));
    assert_eq!(Catalogue::from_json_str(&json).unwrap(), cat);
}

#[test]
fn integers_become_numbers() {
    let toml = SAMPLE_TOML.replace(
        "name = \"registered_capital\"\nlabel = \"注册资本\"\ntype = \"string\"\nmax_length = 50\nexample = \"100万元人民币\"",
        "name = \"registered_capital\"\nlabel = \"注册资本（万元）\"\ntype = \"integer\"\nexample = \"100\"",
    );
    assert_ne!(toml, SAMPLE_TOML);
    let cat = Catalogue::from_toml_str(&toml).unwrap();
    let bl = cat
        .get(&TypeCode::parse(sample::BUSINESS_LICENSE).unwrap())
        .unwrap();
    let data = bl.validate(&bl.example_fields()).unwrap();
    assert_eq!(data["registered_capital"], json!(100));
    assert_eq!(data["established"], json!("2015-03-12"));
}

fn field_error(t: &LicenseType, pairs: &[(&str, &str)]) -> CatalogueError {
    let mut f = t.example_fields();
    for (k, v) in pairs {
        f.insert(k.to_string(), v.to_string());
    }
    t.validate(&f).unwrap_err()
}

#[test]
fn each_field_error_code() {
    let bl = ty(sample::BUSINESS_LICENSE);
    let e = field_error(&bl, &[("colour", "red")]);
    assert_eq!(e.code(), "catalogue.field_unknown");

    let mut f = bl.example_fields();
    f.remove("legal_representative");
    let e = bl.validate(&f).unwrap_err();
    assert_eq!(e.code(), "catalogue.field_required");
    assert!(e.to_string().contains("法定代表人") && e.to_string().contains("legal_representative"));
    let e = field_error(&bl, &[("legal_representative", "")]);
    assert_eq!(e.code(), "catalogue.field_required");
    // An optional field may be absent or empty.
    let mut f = bl.example_fields();
    f.remove("business_term");
    f.insert("registered_capital".into(), String::new());
    assert!(!bl.validate(&f).unwrap().contains_key("registered_capital"));

    // 50 Chinese characters are 150 bytes but 50 chars: allowed; 51 are too many.
    let fifty = "张".repeat(50);
    assert!(bl
        .validate(&fields_with(&bl, "legal_representative", &fifty))
        .is_ok());
    let e = field_error(&bl, &[("legal_representative", &"张".repeat(51))]);
    assert_eq!(e.code(), "catalogue.field_too_long");
    assert!(e.to_string().contains("51"));

    let food = ty(sample::FOOD_BUSINESS_LICENSE);
    let e = field_error(&food, &[("license_number", "JY2310115000001")]);
    assert_eq!(e.code(), "catalogue.field_pattern");
    assert!(e.to_string().contains("许可证编号"));
    let e = field_error(&food, &[("license_number", "XJY23101150000015")]);
    assert_eq!(e.code(), "catalogue.field_pattern", "pattern is anchored");

    for (field, value) in [
        ("established", "2015-02-30"),
        ("established", "2015/03/12"),
        ("uscc", "91110101MA00000019"),
    ] {
        let e = field_error(&bl, &[(field, value)]);
        assert_eq!(e.code(), "catalogue.field_type", "{field}={value}");
    }
    let e = field_error(&food, &[("main_business_format", "食品生产者")]);
    assert_eq!(e.code(), "catalogue.field_type");
    let id = ty(sample::RESIDENT_ID_CARD);
    let e = field_error(&id, &[("birth_date", "1990-3-7")]);
    assert!(e.to_string().contains("出生"), "{e}");
}

fn fields_with(t: &LicenseType, k: &str, v: &str) -> BTreeMap<String, String> {
    let mut f = t.example_fields();
    f.insert(k.into(), v.into());
    f
}

#[test]
fn typed_items_of_every_kind() {
    let toml = r#"
[[issuers]]
code = "11110000000000011T"
name = "北京市市场监督管理局"
area = "110000"

[[types]]
code = "11100000000000001M009"
name = "测试证"
name_en = "Test"
version = 1
defining_body = "测试"
issuers = ["11110000000000011T"]
holder_kind = "111"
validity = { kind = "given_by_issuer" }
face_template = "faces/test.svg"
items = [
  { name = "count", label = "数量", type = "integer", example = "-3" },
  { name = "person", label = "人员", type = "resident_id", example = "11010519491231002X" },
  { name = "area", label = "区划", type = "area_code", example = "110101" },
]
"#;
    let cat = Catalogue::from_toml_str(toml).unwrap();
    let t = &cat.types[0];
    assert_eq!(
        t.validate(&fields(&[("count", "12")])).unwrap()["count"],
        json!(12)
    );
    for (k, v) in [
        ("count", "12a"),
        ("count", "012"),
        ("person", "11010519491231002x"),
        ("area", "990000"),
    ] {
        let e = t.validate(&fields(&[(k, v)])).unwrap_err();
        assert_eq!(e.code(), "catalogue.field_type", "{k}={v}");
    }
}

#[test]
fn validity_rules() {
    let d = date!(2020 - 06 - 15);
    let dl = ty(sample::DRIVING_LICENSE);
    let v = dl.validity(d, None).unwrap();
    assert_eq!((v.from, v.until), (d, Some(date!(2026 - 06 - 15))));
    assert!(v.contains(date!(2026 - 06 - 15)) && !v.contains(date!(2026 - 06 - 16)));
    assert_eq!(
        dl.validity(d, Some(date!(2025 - 01 - 01))).unwrap().until,
        Some(date!(2025 - 01 - 01))
    );
    assert_eq!(
        dl.validity(d, Some(date!(2026 - 06 - 16)))
            .unwrap_err()
            .code(),
        "catalogue.validity"
    );
    assert_eq!(
        dl.validity(d, Some(date!(2020 - 06 - 14)))
            .unwrap_err()
            .code(),
        "catalogue.validity"
    );
    let leap = ty(sample::RESIDENT_ID_CARD)
        .validity(date!(2024 - 02 - 29), None)
        .unwrap();
    assert_eq!(leap.until, Some(date!(2044 - 02 - 29)));
    let bl = ty(sample::BUSINESS_LICENSE);
    assert_eq!(bl.validity(d, None).unwrap().until, None);
    assert_eq!(
        bl.validity(d, Some(d)).unwrap_err().code(),
        "catalogue.validity"
    );
    let mut given = bl.clone();
    given.validity = ValidityRule::GivenByIssuer;
    assert_eq!(
        given.validity(d, None).unwrap_err().code(),
        "catalogue.validity"
    );
    assert_eq!(
        given
            .validity(d, Some(date!(2030 - 01 - 01)))
            .unwrap()
            .until,
        Some(date!(2030 - 01 - 01))
    );
    given.validity = ValidityRule::FixedMonths(18);
    assert_eq!(
        given.validity(d, None).unwrap().until,
        Some(date!(2021 - 12 - 15))
    );
}

#[test]
fn unknown_keys_fail_with_their_name() {
    let toml = SAMPLE_TOML.replacen(
        "name_en = \"Business License\"",
        "name_en = \"Business License\"\ncolour = \"red\"",
        1,
    );
    let e = Catalogue::from_toml_str(&toml).unwrap_err();
    assert_eq!(e.code(), "catalogue.unknown_field");
    assert!(
        matches!(&e, CatalogueError::UnknownField { key, .. } if key == "colour"),
        "{e}"
    );
    let toml = SAMPLE_TOML.replacen("example = \"张伟\"", "example = \"张伟\"\nhint = \"x\"", 1);
    let e = Catalogue::from_toml_str(&toml).unwrap_err();
    assert!(
        matches!(&e, CatalogueError::UnknownField { key, .. } if key == "hint"),
        "{e}"
    );
    let toml = SAMPLE_TOML.replacen(
        "{ kind = \"fixed_years\", years = 5 }",
        "{ kind = \"fixed_years\", years = 5, months = 2 }",
        1,
    );
    let e = Catalogue::from_toml_str(&toml).unwrap_err();
    assert!(
        matches!(&e, CatalogueError::UnknownField { key, .. } if key == "months"),
        "{e}"
    );
    let json = r#"{"types":[],"issuers":[],"extra":1}"#;
    let e = Catalogue::from_json_str(json).unwrap_err();
    assert!(
        matches!(&e, CatalogueError::UnknownField { key, .. } if key == "extra"),
        "{e}"
    );
}

#[test]
fn loading_rules() {
    let cases = [
        ("example = \"张伟\"", "example = \"\""),
        ("example = \"JY23101150000015\"", "example = \"JY231\""),
        ("name = \"entity_type\"", "name = \"legal_representative\""),
        ("name = \"entity_type\"", "name = \"Entity\""),
        ("pattern = \"[0-9]{12}\"", "pattern = \"[0-9]{12\""),
        (
            "issuers = [\"11110101000000013L\"]",
            "issuers = [\"11220000013544541J\"]",
        ),
        (
            "version = 1\ndefining_body = \"公安部\"\nissuers = [\"11110101000000013L\"]",
            "version = 0\ndefining_body = \"公安部\"\nissuers = [\"11110101000000013L\"]",
        ),
        ("years = 20", "years = 0"),
        (
            "code = \"11220000000000011M\"",
            "code = \"11110000000000011T\"",
        ),
        ("type = { enum = [\"男\", \"女\"] }", "type = { enum = [] }"),
        (
            "code = \"11100000000000002Q002\"",
            "code = \"11100000000000002Q001\"",
        ),
    ];
    for (from, to) in cases {
        assert!(SAMPLE_TOML.contains(from), "{from}");
        let toml = SAMPLE_TOML.replacen(from, to, 1);
        let e = Catalogue::from_toml_str(&toml).expect_err(to);
        assert_eq!(e.code(), "catalogue.invalid", "{to}: {e}");
    }
    let bad_code = SAMPLE_TOML.replacen("\"11110000000000011T\"", "\"11110000000000011U\"", 1);
    assert_eq!(
        Catalogue::from_toml_str(&bad_code).unwrap_err().code(),
        "catalogue.invalid"
    );
    assert_eq!(
        Catalogue::from_toml_str("types = 3").unwrap_err().code(),
        "catalogue.invalid"
    );
}

#[test]
fn versions_and_canonical_json() {
    let mut cat = Catalogue::sample();
    let code = TypeCode::parse(sample::DRIVING_LICENSE).unwrap();
    let v1 = cat.get(&code).unwrap().clone();
    let mut v2 = v1.clone();
    v2.version = 2;
    assert_eq!(v1.canonical_json(), v2.canonical_json());
    assert_eq!(v1.content_hash(), v1.canonical_json());
    assert!(!v1.canonical_json().contains("\"version\""));
    assert!(v1.canonical_json().starts_with("{\"code\":"));
    v2.items[0].label = "性 别".into();
    assert_ne!(v1.canonical_json(), v2.canonical_json());
    cat.types.push(v2);
    cat.check().unwrap();
    assert_eq!(cat.get(&code).unwrap().version, 2);
    assert_eq!(cat.type_version(&code, 1).unwrap().version, 1);
}
