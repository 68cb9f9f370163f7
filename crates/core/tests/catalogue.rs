//! The sample catalogue, loading rules, and one test per validation error code.

use std::collections::BTreeMap;

use elicense_core::catalogue::{Derived, ItemType};
use elicense_core::license::check_holder_items;
use elicense_core::sample::{self, SAMPLE_TOML};
use elicense_core::{
    Catalogue, CatalogueError, Disclosure, ErrorCode, HolderCode, HolderCodeType, LicenseError,
    LicenseType, ResidentId, TypeCode, Uscc, ValidityRule,
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

#[test]
fn derived_items_are_declared_and_checked_at_load() {
    let cat = Catalogue::sample();
    for code in [sample::RESIDENT_ID_CARD, sample::DRIVING_LICENSE] {
        let t = ty(code);
        assert_eq!(t.item("sex").unwrap().derives, Some(Derived::Sex), "{code}");
        assert_eq!(
            t.item("birth_date").unwrap().derives,
            Some(Derived::BirthDate),
            "{code}"
        );
    }
    // Every type's examples fit the example holder.
    let holder =
        HolderCode::parse(HolderCodeType::ResidentId, sample::EXAMPLE_RESIDENT_ID).unwrap();
    for t in cat
        .types
        .iter()
        .filter(|t| t.holder_kind == HolderCodeType::ResidentId)
    {
        let data = t.validate(&t.example_fields()).unwrap();
        check_holder_items(t, &holder, &data).unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
    let dl_sex = "example = \"男\"\nderives = \"sex\"\n\n[[types.items]]\nname = \"nationality\"";
    let dl_birth = "example = \"1990-03-07\"\nderives = \"birth_date\"\n\n[[types.items]]\nname = \"address\"\nlabel = \"住址\"\ntype = \"string\"\nrequired = true\nmax_length = 128\nexample = \"北京市东城区东长安街1号院3单元502室\"\n\n[[types.items]]\nname = \"first_issue_date\"";
    let cases = [
        // A fact on an item that cannot hold it.
        (dl_birth, dl_birth.replacen("derives = \"birth_date\"", "derives = \"sex\"", 1), "needs an enum item"),
        (dl_sex, dl_sex.replacen("derives = \"sex\"", "derives = \"birth_date\"", 1), "needs a date item"),
        // Twice the same fact.
        (
            "name = \"first_issue_date\"\nlabel = \"初次领证日期\"\ntype = \"date\"\nrequired = true\nexample = \"2010-06-15\"",
            "name = \"first_issue_date\"\nlabel = \"初次领证日期\"\ntype = \"date\"\nrequired = true\nexample = \"2010-06-15\"\nderives = \"birth_date\"".to_owned(),
            "already derives",
        ),
        // Holders without resident IDs.
        (
            "name = \"established\"\nlabel = \"成立日期\"\ntype = \"date\"\nrequired = true\nexample = \"2015-03-12\"",
            "name = \"established\"\nlabel = \"成立日期\"\ntype = \"date\"\nrequired = true\nexample = \"2015-03-12\"\nderives = \"birth_date\"".to_owned(),
            "holder_kind",
        ),
    ];
    for (from, to, why) in cases {
        assert!(SAMPLE_TOML.contains(from), "{from}");
        let e = Catalogue::from_toml_str(&SAMPLE_TOML.replacen(from, &to, 1)).expect_err(&to);
        assert_eq!(e.code(), "catalogue.invalid", "{to}: {e}");
        assert!(e.to_string().contains(why), "{e}");
    }
    let unknown = SAMPLE_TOML.replacen("derives = \"sex\"", "derives = \"age\"", 1);
    assert!(Catalogue::from_toml_str(&unknown).is_err());
    let json = serde_json::to_string(&cat).unwrap();
    assert!(json.contains(r#""derives":"birth_date""#), "{json}");
    assert_eq!(Catalogue::from_json_str(&json).unwrap(), cat);
}

#[test]
fn derived_items_must_agree_with_the_holders_id() {
    let dl = ty(sample::DRIVING_LICENSE);
    // 11010519491231002X: born 1949-12-31, digit 17 even (女).
    let holder = HolderCode::parse(HolderCodeType::ResidentId, "11010519491231002X").unwrap();
    let data = |pairs: &[(&str, &str)]| {
        let mut f = dl.example_fields();
        f.extend(fields(pairs));
        dl.validate(&f).unwrap()
    };
    let e = check_holder_items(&dl, &holder, &data(&[("birth_date", "1949-12-31")])).unwrap_err();
    assert_eq!(e.code(), "license.holder_mismatch");
    assert!(
        matches!(&e, LicenseError::HolderMismatch { field, expected, found, .. }
            if field == "sex" && expected == "女" && found == "男"),
        "{e:?}"
    );
    assert!(e.to_string().contains("性别(sex)"), "{e}");
    let e = check_holder_items(&dl, &holder, &data(&[("sex", "女")])).unwrap_err();
    assert!(
        matches!(&e, LicenseError::HolderMismatch { field, expected, .. }
            if field == "birth_date" && expected == "1949-12-31"),
        "{e:?}"
    );
    check_holder_items(
        &dl,
        &holder,
        &data(&[("sex", "女"), ("birth_date", "1949-12-31")]),
    )
    .unwrap();
    assert_eq!(
        dl.derived_fields(&ResidentId::parse("11010519491231002X").unwrap()),
        fields(&[("birth_date", "1949-12-31"), ("sex", "女")])
    );
    // Items not given are not checked here (validate decides whether they are required).
    let mut partial = data(&[]);
    partial.remove("sex");
    partial.remove("birth_date");
    check_holder_items(&dl, &holder, &partial).unwrap();
    // Enterprise holders: nothing to derive.
    let bl = ty(sample::BUSINESS_LICENSE);
    let firm = HolderCode::parse(HolderCodeType::Uscc, "91110101MA00000018").unwrap();
    check_holder_items(&bl, &firm, &bl.validate(&bl.example_fields()).unwrap()).unwrap();
}

proptest::proptest! {
    /// For any resident ID, the derived values are what GB 11643 says, and the check accepts
    /// exactly them.
    #[test]
    fn derived_values_follow_gb11643(
        days in 0i64..80_000,
        seq in 0u32..1000,
        other_days in 1i64..30_000,
    ) {
        let born = date!(1900 - 01 - 01) + time::Duration::days(days);
        let body = format!(
            "110101{:04}{:02}{:02}{seq:03}",
            born.year(),
            u8::from(born.month()),
            born.day()
        );
        let id = ResidentId::parse(&format!("{body}{}", ResidentId::check_char_for(&body).unwrap())).unwrap();
        let holder = HolderCode::parse(HolderCodeType::ResidentId, id.as_str()).unwrap();
        let dl = ty(sample::DRIVING_LICENSE);
        let derived = dl.derived_fields(&id);
        let sex = if seq % 2 == 1 { "男" } else { "女" };
        proptest::prop_assert_eq!(derived.get("sex").map(String::as_str), Some(sex));
        proptest::prop_assert_eq!(derived.get("birth_date").cloned(), Some(elicense_core::date::format_date(born)));
        let mut f = dl.example_fields();
        f.extend(derived.clone());
        proptest::prop_assert!(check_holder_items(&dl, &holder, &dl.validate(&f).unwrap()).is_ok());
        let wrong_day = elicense_core::date::format_date(born + time::Duration::days(other_days));
        f.insert("birth_date".into(), wrong_day);
        let e = check_holder_items(&dl, &holder, &dl.validate(&f).unwrap()).unwrap_err();
        proptest::prop_assert_eq!(e.code(), "license.holder_mismatch");
        f.extend(derived);
        f.insert("sex".into(), if sex == "男" { "女".into() } else { "男".into() });
        let e = check_holder_items(&dl, &holder, &dl.validate(&f).unwrap()).unwrap_err();
        proptest::prop_assert_eq!(e.code(), "license.holder_mismatch");
    }
}

#[test]
fn the_representative_item_is_declared_and_checked_at_load() {
    let t = ty(sample::BUSINESS_LICENSE);
    let rep = t
        .representative_item()
        .expect("the business license names one");
    assert_eq!(rep.name, "legal_representative_id");
    assert_eq!(rep.item_type, ItemType::ResidentId);
    assert!(ty(sample::DRIVING_LICENSE).representative_item().is_none());
    let item = "name = \"legal_representative_id\"\nlabel = \"法定代表人身份证件号码\"\ntype = \"resident_id\"\nmax_length = 18\nexample = \"11010519491231002X\"\nrepresents = true";
    assert!(SAMPLE_TOML.contains(item));
    let cases = [
        // Not a resident ID.
        (
            item.to_owned(),
            item.replacen("type = \"resident_id\"", "type = \"string\"", 1),
            "needs a resident_id item",
        ),
        // Twice in one type.
        (
            item.to_owned(),
            format!("{item}\n\n[[types.items]]\n{}", item.replacen("legal_representative_id", "deputy_id", 1)),
            "already names the representative",
        ),
        // On a type whose holders are people.
        (
            "name = \"first_issue_date\"".to_owned(),
            "name = \"holder_rep\"\nlabel = \"代表\"\ntype = \"resident_id\"\nexample = \"11010519491231002X\"\nrepresents = true\n\n[[types.items]]\nname = \"first_issue_date\"".to_owned(),
            "holder_kind = \"049\"",
        ),
    ];
    for (from, to, why) in cases {
        assert!(SAMPLE_TOML.contains(&from), "{from}");
        let e = Catalogue::from_toml_str(&SAMPLE_TOML.replacen(&from, &to, 1)).expect_err(&to);
        assert_eq!(e.code(), "catalogue.invalid", "{to}: {e}");
        assert!(e.to_string().contains(why), "{why}: {e}");
    }
    let json = serde_json::to_string(&Catalogue::sample()).unwrap();
    assert_eq!(json.matches(r#""represents":true"#).count(), 1, "{json}");
}

#[test]
fn a_joint_matter_is_one_matter_under_several_types_named_alike() {
    let c = Catalogue::sample();
    let parts: Vec<_> = c
        .types
        .iter()
        .filter_map(|t| t.matters.iter().find(|m| m.code == "enterprise_loan"))
        .collect();
    assert_eq!(parts.len(), 2, "the sample's joint matter has two parts");
    assert_ne!(
        parts[0].fields, parts[1].fields,
        "each part names its own fields"
    );
    // The parts must agree on the names and the legal basis.
    let renamed = SAMPLE_TOML.replacen(
        "name = \"企业贷款申请\"\nname_en = \"Applying for a company loan\"\nfields = [\"holder_name\"",
        "name = \"企业贷款\"\nname_en = \"Applying for a company loan\"\nfields = [\"holder_name\"",
        1,
    );
    assert_ne!(renamed, SAMPLE_TOML);
    let e = Catalogue::from_toml_str(&renamed).unwrap_err();
    assert_eq!(e.code(), "catalogue.invalid");
    assert!(e.to_string().contains("enterprise_loan"), "{e}");
    let based = SAMPLE_TOML.replacen(
        "fields = [\"holder_name\", \"holder_id\", \"address\"]\n",
        "fields = [\"holder_name\", \"holder_id\", \"address\"]\nlegal_basis = \"某条例\"\n",
        1,
    );
    assert_ne!(based, SAMPLE_TOML);
    assert_eq!(
        Catalogue::from_toml_str(&based).unwrap_err().code(),
        "catalogue.invalid"
    );
    // A newer version of one type that drops the matter ends the disagreement.
    let mut newer = c.clone();
    let mut id_card = newer
        .types
        .iter()
        .find(|t| {
            t.holder_kind == HolderCodeType::ResidentId
                && t.matters.iter().any(|m| m.code == "enterprise_loan")
        })
        .unwrap()
        .clone();
    id_card.version += 1;
    id_card.matters.retain(|m| m.code != "enterprise_loan");
    let old = newer
        .types
        .iter()
        .position(|t| t.code == id_card.code)
        .unwrap();
    newer.types[old]
        .matters
        .iter_mut()
        .filter(|m| m.code == "enterprise_loan")
        .for_each(|m| m.name = "旧名".into());
    newer.types.push(id_card);
    newer.check().expect("only the latest versions take part");
}
