//! License metadata: serde form and consistency with its license type.

use elicense_core::sample;
use elicense_core::{
    Catalogue, ErrorCode, Holder, HolderCode, Identifier, LicenseMeta, TypeCode, Uscc,
};
use serde_json::json;
use time::macros::date;

fn driving_license() -> (Catalogue, LicenseMeta) {
    let cat = Catalogue::sample();
    let code = TypeCode::parse(sample::DRIVING_LICENSE).unwrap();
    let ty = cat.get(&code).unwrap();
    let issuer = cat
        .issuer(&Uscc::parse(sample::BEIJING_TRAFFIC_POLICE).unwrap())
        .unwrap();
    let identifier = Identifier::new(code.clone(), issuer.code.clone(), "2020000001", 1).unwrap();
    let validity = ty.validity(date!(2020 - 06 - 15), None).unwrap();
    let meta = LicenseMeta {
        identifier,
        license_number: "110101199003071233".into(),
        type_code: code,
        type_name: ty.name.clone(),
        catalogue_version: ty.version,
        issuer_code: issuer.code.clone(),
        issuer_name: issuer.name.clone(),
        issue_date: date!(2020 - 06 - 15),
        valid_from: validity.from,
        valid_until: validity.until,
        area_code: issuer.area.clone(),
        holder: Holder {
            name: "张伟".into(),
            code: HolderCode::detect("110101199003071233").unwrap(),
        },
        related_matter: None,
        data: ty.validate(&ty.example_fields()).unwrap(),
        extension: json!({}),
        replaces: None,
    };
    (cat, meta)
}

#[test]
fn serde_round_trip() {
    let (_, meta) = driving_license();
    let value = serde_json::to_value(&meta).unwrap();
    assert_eq!(value["valid_until"], json!("2026-06-15"));
    assert_eq!(
        value["holder"]["code"],
        json!({"type": "111", "value": "110101199003071233"})
    );
    assert_eq!(value["identifier"], json!(meta.identifier.as_str()));
    let back: LicenseMeta = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(back, meta);
    let mut bad = value;
    bad["issue_date"] = json!("2020-6-15");
    assert!(serde_json::from_value::<LicenseMeta>(bad).is_err());
}

#[test]
fn consistency() {
    let (cat, meta) = driving_license();
    let ty = cat.get(&meta.type_code).unwrap();
    meta.check_against(ty).unwrap();

    let mut next = meta.clone();
    next.identifier = meta.identifier.next_version().unwrap();
    next.replaces = Some(meta.identifier.clone());
    next.check_against(ty).unwrap();
    let mut wrong = next.clone();
    wrong.replaces = Some(next.identifier.clone());
    assert_eq!(
        wrong.check_against(ty).unwrap_err().code(),
        "license.inconsistent"
    );

    let mut wrong = meta.clone();
    wrong.holder.code = HolderCode::detect("91110101MA00000018").unwrap();
    assert_eq!(
        wrong.check_against(ty).unwrap_err().code(),
        "license.holder_kind"
    );

    let mut wrong = meta.clone();
    wrong.data.insert("vehicle_class".into(), json!("Z9"));
    assert_eq!(
        wrong.check_against(ty).unwrap_err().code(),
        "catalogue.field_type"
    );

    let mut wrong = meta.clone();
    wrong.issuer_code = Uscc::parse(sample::BEIJING_SAMR).unwrap();
    assert_eq!(
        wrong.check_against(ty).unwrap_err().code(),
        "license.inconsistent"
    );
    let other = Identifier::new(meta.type_code.clone(), wrong.issuer_code.clone(), "1", 1).unwrap();
    wrong.identifier = other;
    assert_eq!(
        wrong.check_against(ty).unwrap_err().code(),
        "catalogue.issuer_not_allowed"
    );
}
