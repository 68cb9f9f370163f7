//! Issuing: identifiers, credentials, claims, disclosure rules, holder binding, and bad input
//! that must change nothing.

mod common;

use common::*;
use elicense_app::issue::issue;
use elicense_app::verify::{verify, VerifyOptions};
use elicense_app::ErrorKind;
use elicense_core::catalogue::Disclosure;
use elicense_core::ident::Identifier;
use elicense_crypto::sdjwt::{add_key_binding, present};
use elicense_crypto::{Alg, KeyPair};
use serde_json::{json, Value};

const TYPES: [&str; 4] = [BUSINESS, FOOD, RESIDENT_ID, DRIVING];

#[tokio::test]
async fn every_type_and_alg_issues_a_valid_credential() {
    let env = env().await;
    for code in TYPES {
        let t = sample_type(code);
        for alg in Alg::ALL {
            let req = request(code, 0, alg);
            let issued = issue_ok(&env, req.clone()).await;
            let what = format!("{code} {alg:?}");

            let id = Identifier::parse(issued.identifier.as_str()).expect("strict identifier");
            assert_eq!(id.version(), 1, "{what}");
            assert!(issued
                .identifier
                .as_str()
                .ends_with(&format!(".001.{}", id.check_char())));
            assert_eq!(id.type_code().as_str(), code, "{what}");
            assert_eq!(id.issuer().as_str(), req.issuer, "{what}");

            let (header, payload) = jwt_parts(&issued.credential);
            assert_eq!(header["alg"], json!(alg.jws_name()), "{what}");
            assert_eq!(header["typ"], json!("dc+sd-jwt"), "{what}");
            assert_eq!(payload["iss"], json!(env.node.issuer_url(&req.issuer)));
            assert_eq!(payload["vct"], json!(format!("urn:elicense:type:{code}")));

            let verdict = verify(&env.node, &issued.credential, &VerifyOptions::default())
                .await
                .expect("verifiable");
            assert!(verdict.valid, "{what}: {:?}", verdict.problems);
            assert!(verdict.problems.is_empty());
            assert_eq!(
                verdict.identifier.as_deref(),
                Some(issued.identifier.as_str())
            );
            assert_eq!(verdict.issuer.as_deref(), Some(req.issuer.as_str()));
            assert_eq!(verdict.status.as_ref().unwrap().code, "valid");

            let claims = &verdict.claims;
            assert_eq!(claims["holder_name"], json!(req.holder_name), "{what}");
            assert_eq!(claims["holder_id"], json!(req.holder_id), "{what}");
            assert_eq!(
                claims["holder_id_type"],
                json!(t.holder_kind.code()),
                "{what}"
            );
            let disclosed = disclosures(&issued.credential);
            for item in &t.items {
                let value = &req.fields[&item.name];
                match item.disclosure {
                    Disclosure::Never => {
                        assert!(!claims.contains_key(&item.name), "{what}: {}", item.name);
                        assert!(payload.get(&item.name).is_none());
                        assert!(
                            !disclosed
                                .iter()
                                .any(|d| d[1] == json!(item.name) || d[2] == json!(value)),
                            "{what}: never item {} in a disclosure",
                            item.name
                        );
                        assert!(!payload.to_string().contains(value.as_str()));
                    }
                    Disclosure::Always => {
                        assert_eq!(payload[&item.name], json!(value), "{what}: {}", item.name);
                        assert_eq!(claims[&item.name], json!(value));
                    }
                    Disclosure::Selective => {
                        assert!(payload.get(&item.name).is_none(), "{what}: {}", item.name);
                        assert_eq!(claims[&item.name], json!(value), "{what}: {}", item.name);
                    }
                }
            }

            // The status reference points at this node's list, as the store has it.
            let list = env
                .node
                .status
                .list_id(&issued.status.uri)
                .expect("a list of this node");
            assert_eq!(issued.status.uri, format!("{BASE_URL}/status-lists/{list}"));
            assert_eq!(
                claims["status"]["status_list"],
                json!({"uri": issued.status.uri, "idx": issued.status.idx})
            );
            let rec = env
                .store
                .license(issued.identifier.as_str())
                .await
                .unwrap()
                .unwrap();
            assert_eq!((rec.status_list, rec.status_idx), (list, issued.status.idx));
            assert_eq!(rec.alg, alg.cli_name());
            assert_eq!(
                env.node
                    .status
                    .value(list, issued.status.idx)
                    .await
                    .unwrap(),
                Some(0)
            );
        }
    }
    assert_eq!(env.store.count().await.unwrap(), 12);
}

#[tokio::test]
async fn status_slots_and_serials_are_distinct() {
    let env = env().await;
    let mut seen = std::collections::HashSet::new();
    let mut ids = std::collections::HashSet::new();
    for n in 0..3 {
        for alg in Alg::ALL {
            let issued = issue_ok(&env, request(DRIVING, n, alg)).await;
            assert!(seen.insert((issued.status.uri.clone(), issued.status.idx)));
            assert!(ids.insert(
                Identifier::parse(issued.identifier.as_str())
                    .unwrap()
                    .serial()
                    .to_string()
            ));
        }
    }
}

fn holder_bound_request() -> (KeyPair, elicense_app::issue::IssueRequest) {
    let holder = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
    let mut req = request(DRIVING, 1, Alg::Sm2);
    req.holder_jwk = Some(holder.public_jwk());
    (holder, req)
}

fn opts(nonce: &str, aud: &str) -> VerifyOptions {
    VerifyOptions {
        nonce: Some(nonce.into()),
        audience: Some(aud.into()),
        ..Default::default()
    }
}

fn codes(v: &elicense_app::verify::Verdict) -> Vec<&str> {
    v.problems.iter().map(|p| p.code.as_str()).collect()
}

#[tokio::test]
async fn holder_bound_presentation_with_key_binding() {
    let env = env().await;
    let (holder, req) = holder_bound_request();
    let issued = issue_ok(&env, req).await;
    let (_, payload) = jwt_parts(&issued.credential);
    assert_eq!(
        payload["cnf"]["jwk"]["x"],
        json!(holder.public_jwk().x),
        "credential is bound to the holder key"
    );

    let pres = present(&issued.credential, &["holder_name", "vehicle_class"]).unwrap();
    let aud = "https://hotel.example";
    let kb = add_key_binding(&pres, &holder, aud, "n-123", T0).unwrap();

    let ok = verify(&env.node, &kb, &opts("n-123", aud)).await.unwrap();
    assert!(ok.valid, "{:?}", ok.problems);
    assert!(ok.key_binding);
    assert_eq!(ok.claims["vehicle_class"], json!("C1"));
    assert!(ok.claims.get("address").is_none(), "not disclosed");
    assert!(ok.claims.get("holder_id").is_none(), "not disclosed");

    let wrong_nonce = verify(&env.node, &kb, &opts("n-999", aud)).await.unwrap();
    assert!(!wrong_nonce.valid);
    assert!(
        codes(&wrong_nonce).contains(&"kb.nonce"),
        "{:?}",
        codes(&wrong_nonce)
    );

    let wrong_aud = verify(&env.node, &kb, &opts("n-123", "https://evil.example"))
        .await
        .unwrap();
    assert!(!wrong_aud.valid);
    assert!(
        codes(&wrong_aud).contains(&"kb.aud"),
        "{:?}",
        codes(&wrong_aud)
    );

    let missing = verify(&env.node, &pres, &opts("n-123", aud)).await.unwrap();
    assert!(!missing.valid);
    assert!(codes(&missing).contains(&"kb.missing"));

    let required = VerifyOptions {
        require_key_binding: true,
        ..Default::default()
    };
    let missing = verify(&env.node, &pres, &required).await.unwrap();
    assert_eq!(codes(&missing), vec!["kb.missing"]);

    // A KB-JWT made ten minutes before now is too old (default max age 300 s).
    let stale = add_key_binding(&pres, &holder, aud, "n-123", T0 - 600).unwrap();
    let v = verify(&env.node, &stale, &opts("n-123", aud))
        .await
        .unwrap();
    assert!(!v.valid);
    assert!(
        codes(&v).iter().any(|c| c.starts_with("kb.")),
        "{:?}",
        codes(&v)
    );

    // The KB-JWT covers exactly the disclosures presented: adding one breaks sd_hash.
    let extra = issued
        .credential
        .split('~')
        .skip(1)
        .find(|d| !pres.contains(*d))
        .unwrap();
    let (body, kb_jwt) = kb.rsplit_once('~').unwrap();
    let widened = format!("{body}~{extra}~{kb_jwt}");
    let v = verify(&env.node, &widened, &opts("n-123", aud))
        .await
        .unwrap();
    assert!(!v.valid);
    assert_eq!(codes(&v), vec!["kb.sd_hash"]);

    // Signed by another key than the bound one.
    let other = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
    let forged = add_key_binding(&pres, &other, aud, "n-123", T0).unwrap();
    let v = verify(&env.node, &forged, &opts("n-123", aud))
        .await
        .unwrap();
    assert!(!v.valid);
    assert!(
        codes(&v).iter().any(|c| c.starts_with("kb.")),
        "{:?}",
        codes(&v)
    );
}

#[tokio::test]
async fn key_binding_on_an_unbound_credential_is_a_problem() {
    let env = env().await;
    let issued = issue_ok(&env, request(DRIVING, 0, Alg::EdDSA)).await;
    let holder = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
    let pres = present(&issued.credential, &["holder_name"]).unwrap();
    let kb = add_key_binding(&pres, &holder, "aud", "n", T0).unwrap();
    let v = verify(&env.node, &kb, &opts("n", "aud")).await.unwrap();
    assert!(!v.valid);
    assert!(codes(&v).contains(&"kb.unexpected"), "{:?}", codes(&v));
}

/// Every bad request: the error code, and nothing stored.
#[tokio::test]
async fn bad_input_is_refused_and_stores_nothing() {
    let env = env().await;
    issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let before = env.store.count().await.unwrap();
    let events_before = env.store.status_epoch().await.unwrap();

    let mut cases: Vec<(&str, elicense_app::issue::IssueRequest, &str)> = Vec::new();
    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.type_code = "11100000000000001M009".into();
    cases.push(("unknown type", r, "catalogue.unknown_type"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.type_code = "not a type".into();
    cases.push(("malformed type", r, "catalogue.unknown_type"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.issuer = "91330000755918469E".into(); // a valid USCC, not an issuer of this node
    cases.push(("unknown issuer", r, "issuer.unknown"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.issuer = BJ_TRAFFIC.into();
    cases.push(("issuer not allowed", r, "catalogue.issuer_not_allowed"));

    let mut r = request(DRIVING, 0, Alg::EdDSA);
    r.holder_id = "110105194912310021".into(); // check char should be X
    cases.push(("bad resident id", r, "resident_id.bad_check"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.holder_id = "91330000755918469F".into(); // check char should be E
    cases.push(("bad uscc", r, "uscc.bad_check"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.fields.insert("uscc".into(), "91330000755918469F".into());
    cases.push(("bad uscc item", r, "catalogue.field_type"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.fields.remove("address");
    cases.push(("missing required", r, "catalogue.field_required"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.fields.insert("address".into(), String::new());
    cases.push(("empty required", r, "catalogue.field_required"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.fields.insert("favourite_colour".into(), "红".into());
    cases.push(("unknown field", r, "catalogue.field_unknown"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.fields.insert("name".into(), "长".repeat(101));
    cases.push(("too long", r, "catalogue.field_too_long"));

    let mut r = request(FOOD, 0, Alg::EdDSA);
    r.fields
        .insert("license_number".into(), "JY2310115000001X".into());
    cases.push(("pattern mismatch", r, "catalogue.field_pattern"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.fields.insert("established".into(), "2015-02-30".into());
    cases.push(("bad date item", r, "catalogue.field_type"));

    let mut r = request(DRIVING, 0, Alg::EdDSA);
    r.fields.insert("vehicle_class".into(), "Z9".into());
    cases.push(("bad enum", r, "catalogue.field_type"));

    let mut r = request(DRIVING, 0, Alg::EdDSA);
    r.valid_until = Some("2027-13-01".into());
    cases.push(("bad valid_until", r, "license.bad_date"));

    let mut r = request(DRIVING, 0, Alg::EdDSA);
    r.valid_until = Some("2050-01-01".into()); // longer than the 6-year term
    cases.push(("validity too long", r, "catalogue.validity"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.valid_until = Some("2030-01-01".into()); // long-term type
    cases.push(("end date on long-term", r, "catalogue.validity"));

    let mut r = request(BUSINESS, 0, Alg::EdDSA);
    r.holder_name = "  ".into();
    cases.push(("no holder name", r, "holder.name_required"));

    for (what, req, code) in cases {
        let e = issue(&env.node, req).await.expect_err(what);
        assert_eq!(e.code, code, "{what}: {e}");
        assert!(
            matches!(
                e.kind,
                ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Forbidden
            ),
            "{what}: {:?}",
            e.kind
        );
        assert_eq!(
            env.store.count().await.unwrap(),
            before,
            "{what} stored something"
        );
    }
    assert_eq!(env.store.status_epoch().await.unwrap(), events_before);
}

#[tokio::test]
async fn valid_until_shortens_a_fixed_term() {
    let env = env().await;
    let mut req = request(DRIVING, 0, Alg::Es256);
    req.valid_until = Some("2027-02-02".into());
    let issued = issue_ok(&env, req).await;
    let (_, payload) = jwt_parts(&issued.credential);
    // End of 2027-02-02 CST = 2027-02-02T16:00Z.
    assert_eq!(payload["exp"], json!(1_801_584_000i64));
    let rec = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.valid_until, Some(1_801_584_000));
    let meta: Value = serde_json::from_str(&rec.meta).unwrap();
    assert_eq!(meta["valid_until"], json!("2027-02-02"));
}

/// Finding 11: birth date and sex recorded on a license (`derives` in the catalogue) must be
/// what the holder's resident ID says, at issuance and for every new version.
#[tokio::test]
async fn items_the_holders_id_determines_must_agree_with_it() {
    use elicense_app::lifecycle::{apply, ActionRequest};
    use elicense_core::lifecycle::Action;

    let env = env().await;
    // SAMPLE_CITIZENS[0]: 11010519491231002X, born 1949-12-31, digit 17 even: 女.
    let before = env.store.count().await.unwrap();
    for code in [DRIVING, RESIDENT_ID] {
        for (field, wrong) in [("sex", "男"), ("birth_date", "1990-03-07")] {
            let mut r = request(code, 0, Alg::EdDSA);
            r.fields.insert(field.into(), wrong.into());
            let e = issue(&env.node, r).await.expect_err(field);
            assert_eq!(e.code, "license.holder_mismatch", "{code} {field}: {e}");
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert!(e.message.contains(field), "names the item: {e}");
        }
    }
    assert_eq!(env.store.count().await.unwrap(), before, "nothing stored");

    // The values the ID gives are accepted (the request helper takes them from the ID).
    let issued = issue_ok(&env, request(DRIVING, 0, Alg::EdDSA)).await;
    let v = verify(&env.node, &issued.credential, &Default::default())
        .await
        .unwrap();
    assert_eq!(v.claims["sex"], json!("女"));
    assert_eq!(v.claims["birth_date"], json!("1949-12-31"));

    // A change may not make them disagree ...
    let mut change = ActionRequest::new(Action::Change, "clerk");
    change.fields = fields(&[("sex", "男")]);
    let e = apply(&env.node, &issued.identifier, change)
        .await
        .expect_err("change");
    assert_eq!(e.code, "license.holder_mismatch", "{e}");
    // ... nor a transfer to someone the items do not describe.
    let (name, id) = elicense_app::seed::SAMPLE_CITIZENS[3];
    let transfer = |items: &[(&str, &str)]| {
        let mut tr = ActionRequest::new(Action::Transfer, "clerk");
        tr.new_holder_name = Some(name.into());
        tr.new_holder_id = Some(id.into());
        tr.fields = fields(items);
        tr
    };
    let e = apply(&env.node, &issued.identifier, transfer(&[]))
        .await
        .expect_err("transfer");
    assert_eq!(e.code, "license.holder_mismatch", "{e}");
    assert_eq!(env.store.count().await.unwrap(), before + 1);
    // 440306199910101239: born 1999-10-10, 男.
    let out = apply(
        &env.node,
        &issued.identifier,
        transfer(&[("sex", "男"), ("birth_date", "1999-10-10")]),
    )
    .await
    .unwrap();
    assert!(out.successor.is_some());
}
