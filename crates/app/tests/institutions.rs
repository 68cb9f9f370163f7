//! Relying institutions on a real SQLite node: registration with a business scope, API keys,
//! sharing requests answered by the matter's legal basis or by the holder's consent or
//! refusal, annotated copies (加注件) that carry only the matter's fields and die with the
//! license, and every use in the license's history and the signed log.

mod common;

use common::*;
use elicense_app::face::FaceFormat;
use elicense_app::institutions::{self, Ask, NewInstitution};
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::limit::Rate;
use elicense_app::verify::{verify, VerifyOptions};
use elicense_app::wallet::licenses;
use elicense_app::ErrorKind;
use elicense_core::lifecycle::Action;
use elicense_core::Identifier;
use elicense_crypto::Alg;
use elicense_store::InstitutionRecord;

/// A bank (no legal basis for its matter: the holder consents) and a hotel (legal basis).
const BANK: &str = "91110105MA01B2C3DL";
const HOTEL: &str = "91310101MA1FPX0Q1Y";

async fn register(env: &Env, code: &str, name: &str, matters: &[&str]) -> InstitutionRecord {
    let inst = institutions::register(
        &env.node,
        NewInstitution {
            code: code.into(),
            name: name.into(),
            area: "110105".into(),
            matters: matters.iter().map(|m| m.to_string()).collect(),
        },
    )
    .await
    .expect("register");
    clerk(env, &inst).await;
    inst
}

async fn bank(env: &Env) -> InstitutionRecord {
    register(env, BANK, "示例商业银行北京分行", &["bank_account_opening"]).await
}

async fn hotel(env: &Env) -> InstitutionRecord {
    register(
        env,
        HOTEL,
        "上海样本大酒店",
        &["hotel_check_in", "age_check"],
    )
    .await
}

fn ask(matter: &str, holder_id: &str) -> Ask {
    Ask {
        matter: matter.into(),
        holder_id: holder_id.into(),
        holder_name: None,
        purpose: "办理业务".into(),
        staff: CLERK.into(),
        keep_days: None,
        license_type: None,
    }
}

/// A hotel check-in (legal basis) for `holder`, naming them as the law requires.
fn hotel_ask(holder: (&str, &str)) -> Ask {
    Ask {
        holder_name: Some(holder.0.into()),
        ..ask("hotel_check_in", holder.1)
    }
}

/// The history of license `identifier` as its holder sees it, oldest first.
async fn history_of(env: &Env, identifier: &Identifier) -> Vec<licenses::HistoryEntry> {
    let record = env
        .store
        .license(identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let holder = elicense_app::wallet::Identity {
        account: "holder".into(),
        username: "holder".into(),
        name: "holder".into(),
        person_masked: String::new(),
        person_key: record.holder_key,
        enterprises: vec![],
    };
    let opened = licenses::open(&env.node, &holder, identifier)
        .await
        .unwrap();
    let mut h = licenses::history(&env.node, &opened, 0)
        .await
        .unwrap()
        .entries;
    h.reverse();
    h
}

async fn kinds(env: &Env, identifier: &Identifier) -> Vec<(String, String, Option<u64>)> {
    history_of(env, identifier)
        .await
        .into_iter()
        .map(|h| (h.kind.to_string(), h.actor, h.log_index))
        .collect()
}

#[tokio::test]
async fn registration_checks_code_area_name_and_scope() {
    let env = env().await;
    let new = |code: &str, area: &str, name: &str, matters: &[&str]| NewInstitution {
        code: code.into(),
        area: area.into(),
        name: name.into(),
        matters: matters.iter().map(|m| m.to_string()).collect(),
    };
    for (bad, code) in [
        (
            new("91110105MA01B2C3DX", "110105", "x", &["age_check"]),
            "uscc.bad_check",
        ),
        (
            new(BANK, "999999", "x", &["age_check"]),
            "area.bad_province",
        ),
        (
            new(BANK, "110105", " ", &["age_check"]),
            "institution.no_name",
        ),
        (new(BANK, "110105", "x", &[]), "institution.no_matters"),
        (
            new(BANK, "110105", "x", &["no_such_matter"]),
            "institution.unknown_matter",
        ),
    ] {
        expect_code(institutions::register(&env.node, bad).await, code);
    }
    assert!(institutions::list(&env.node).await.unwrap().is_empty());

    // Re-registering replaces the scope and keeps the first registration time.
    let first = register(
        &env,
        BANK,
        "银行",
        &["bank_account_opening", "bank_account_opening"],
    )
    .await;
    assert_eq!(first.matters, ["bank_account_opening"], "duplicates merged");
    env.clock.advance(100);
    let again = register(&env, BANK, "银行北京分行", &["age_check"]).await;
    assert_eq!(again.created_at, first.created_at);
    assert_eq!(again.name, "银行北京分行");
    assert_eq!(again.matters, ["age_check"]);
    assert_eq!(institutions::list(&env.node).await.unwrap(), [again]);
}

#[tokio::test]
async fn institution_keys_authenticate_only_their_institution() {
    let env = env().await;
    let b = bank(&env).await;
    let (token, _id) = institutions::create_key(&env.node, BANK, "core banking")
        .await
        .unwrap();
    assert!(token.starts_with("eli_"));
    assert_eq!(
        institutions::authenticate(&env.node, &token).await.unwrap(),
        b
    );
    // A wrong secret, an issuer key, garbage: all the same 401 code.
    // (The last character is replaced by a different one: `0`, or `1` where it already is `0`.)
    let last = if token.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &token[..token.len() - 1]);
    let issuer_key = elicense_app::apikeys::create(&env.node, BJ_SAMR, "t")
        .await
        .unwrap()
        .0;
    for bad in [tampered.as_str(), issuer_key.as_str(), "eli_", "nonsense"] {
        expect_code(
            institutions::authenticate(&env.node, bad).await,
            "auth.invalid_key",
        );
    }
    // An institution key is no issuer key either.
    expect_code(
        elicense_app::apikeys::authenticate(&env.node, &token).await,
        "auth.invalid_key",
    );
    expect_code(
        institutions::create_key(&env.node, HOTEL, "x").await,
        "institution.unknown",
    );
    // A disabled institution is refused with its own code.
    elicense_app::operator::set_institution_disabled(
        &env.node,
        &elicense_core::OperatorActor::Cli,
        &b.code,
        true,
    )
    .await
    .unwrap();
    expect_code(
        institutions::authenticate(&env.node, &token).await,
        "institution.disabled",
    );
}

#[tokio::test]
async fn a_matter_with_a_legal_basis_gets_its_annotated_copy_at_once() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;
    let mut a = hotel_ask(ZHANG);
    a.keep_days = Some(7);
    let v = institutions::ask(&env.node, &h, a).await.unwrap();
    assert_eq!((v.state.as_str(), v.basis.as_str()), ("granted", "legal"));
    assert!(v
        .legal_basis
        .as_deref()
        .unwrap()
        .contains("旅馆业治安管理办法"));
    assert_eq!(
        v.identifier, None,
        "the institution is not told the identifier"
    );
    let copy = v.copy.expect("copy");
    assert_eq!(copy.until, T0 + 7 * 86_400);
    assert_eq!(copy.verify_url, format!("{BASE_URL}/verify/c/{}", v.id));

    // Exactly the matter's fields, nothing else.
    let mut names: Vec<&str> = copy.fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["address", "ethnicity", "holder_id", "holder_name", "sex"]
    );
    assert_eq!(copy.fields["holder_name"], ZHANG.0);

    // The copy verifies like a license and says what it is.
    let verdict = verify(&env.node, &copy.credential, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(verdict.valid, "{:?}", verdict.problems);
    assert_eq!(verdict.identifier.as_deref(), Some(lic.identifier.as_str()));
    assert!(!verdict.claims.contains_key("birth_date"));
    let ann = verdict.annotation.expect("annotation claim");
    assert_eq!(ann["institution"]["code"], HOTEL);
    assert_eq!(ann["matter"]["code"], "hotel_check_in");
    assert_eq!(
        ann["staff"], "柜员 李明（clerk）",
        "the registered staff member"
    );
    assert_eq!(ann["share"], v.id.as_str());

    // The history names the query and the copy, by the institution, each in the signed log.
    let h = kinds(&env, &lic.identifier).await;
    let tail: Vec<(&str, &str)> = h[1..]
        .iter()
        .map(|(k, a, _)| (k.as_str(), a.as_str()))
        .collect();
    let actor = format!("institution:{HOTEL}");
    assert_eq!(
        tail,
        [
            ("share_query", actor.as_str()),
            ("annotated_copy", actor.as_str())
        ]
    );
    assert!(h.iter().all(|(_, _, log)| log.is_some()), "{h:?}");
    let full = history_of(&env, &lic.identifier).await;
    assert_eq!(full[1].institution.as_deref(), Some("上海样本大酒店"));
    assert_eq!(full[1].matter.as_deref(), Some("hotel_check_in"));
    // A use moves no status.
    assert_eq!(
        env.store
            .license(lic.identifier.as_str())
            .await
            .unwrap()
            .unwrap()
            .status,
        "valid"
    );
}

#[tokio::test]
async fn without_a_legal_basis_the_holder_consents_or_refuses() {
    let env = env().await;
    let company = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await; // 北京示例科技
    let b = bank(&env).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;

    let pending = institutions::ask(&env.node, &b, ask("bank_account_opening", COMPANY.1))
        .await
        .unwrap();
    assert_eq!(
        (pending.state.as_str(), pending.basis.as_str()),
        ("pending", "consent")
    );
    assert!(pending.copy.is_none());
    assert_eq!(pending.expires_at, T0 + institutions::PENDING_SECS);

    // The legal representative sees it (with the identifier); someone else sees nothing and
    // cannot decide it.
    let seen = institutions::for_holder(&env.node, &zhang).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].identifier.as_deref(),
        Some(company.identifier.as_str())
    );
    assert_eq!(seen[0].institution_name, "示例商业银行北京分行");
    assert!(seen[0].copy.is_none(), "the holder's view carries no copy");
    assert!(institutions::for_holder(&env.node, &li)
        .await
        .unwrap()
        .is_empty());
    expect_code(
        institutions::decide(&env.node, &li, &pending.id, true).await,
        "share.not_found",
    );

    env.clock.advance(30);
    let granted = institutions::decide(&env.node, &zhang, &pending.id, true)
        .await
        .unwrap();
    assert_eq!(granted.state, "granted");
    assert_eq!(granted.decided_at, Some(T0 + 30));
    expect_code(
        institutions::decide(&env.node, &zhang, &pending.id, false).await,
        "share.decided",
    );

    // The bank now gets the copy: the matter's fields only.
    let got = institutions::get(&env.node, &b, &pending.id).await.unwrap();
    let copy = got.copy.expect("copy after consent");
    let mut names: Vec<&str> = copy.fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "address",
            "entity_type",
            "legal_representative",
            "name",
            "uscc"
        ]
    );
    assert_eq!(copy.until, T0 + 30 + 30 * 86_400, "default period 30 days");
    // Another institution does not see the bank's request.
    let h = hotel(&env).await;
    expect_code(
        institutions::get(&env.node, &h, &pending.id).await,
        "share.not_found",
    );

    // A second request, refused: the bank gets nothing.
    let second = institutions::ask(&env.node, &b, ask("bank_account_opening", COMPANY.1))
        .await
        .unwrap();
    let refused = institutions::decide(&env.node, &zhang, &second.id, false)
        .await
        .unwrap();
    assert_eq!(refused.state, "refused");
    assert!(institutions::get(&env.node, &b, &second.id)
        .await
        .unwrap()
        .copy
        .is_none());
    let list = institutions::of_institution(&env.node, &b, 10)
        .await
        .unwrap();
    let states: Vec<&str> = list.iter().map(|v| v.state.as_str()).collect();
    assert_eq!(states, ["refused", "granted"], "newest first");

    let h = kinds(&env, &company.identifier).await;
    let kinds: Vec<(&str, &str)> = h[1..]
        .iter()
        .map(|(k, a, _)| (k.as_str(), a.as_str()))
        .collect();
    let bank_actor = format!("institution:{BANK}");
    assert_eq!(
        kinds,
        [
            ("share_query", bank_actor.as_str()),
            ("consent", "holder"),
            ("annotated_copy", bank_actor.as_str()),
            ("share_query", bank_actor.as_str()),
            ("refusal", "holder"),
        ]
    );
    assert!(h.iter().all(|(_, _, log)| log.is_some()));
}

#[tokio::test]
async fn a_pending_request_lapses_after_a_day() {
    let env = env().await;
    issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await;
    let b = bank(&env).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let pending = institutions::ask(&env.node, &b, ask("bank_account_opening", COMPANY.1))
        .await
        .unwrap();
    env.clock.advance(institutions::PENDING_SECS);
    assert_eq!(
        institutions::get(&env.node, &b, &pending.id)
            .await
            .unwrap()
            .state,
        "expired"
    );
    let err = expect_code(
        institutions::decide(&env.node, &zhang, &pending.id, true).await,
        "share.decided",
    );
    assert!(err.message.contains("expired"), "{}", err.message);
}

#[tokio::test]
async fn bad_requests_are_refused_with_their_code_and_store_nothing() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await;
    let h = hotel(&env).await;
    let cases = [
        (ask("bank_account_opening", COMPANY.1), "share.out_of_scope"),
        (
            ask("hotel_check_in", "11010519491231002Y"),
            "share.bad_holder_id",
        ),
        (hotel_ask(LI), "share.no_license"),
        (ask("hotel_check_in", ZHANG.1), "share.holder_name_required"),
        (
            Ask {
                holder_name: Some("李四".into()),
                ..hotel_ask(ZHANG)
            },
            "share.no_license",
        ),
        (
            Ask {
                purpose: " ".into(),
                ..hotel_ask(ZHANG)
            },
            "share.missing_purpose",
        ),
        (
            Ask {
                staff: "".into(),
                ..hotel_ask(ZHANG)
            },
            "share.missing_purpose",
        ),
        (
            Ask {
                staff: "柜员 001".into(),
                ..hotel_ask(ZHANG)
            },
            "share.unknown_staff",
        ),
        (
            Ask {
                keep_days: Some(0),
                ..hotel_ask(ZHANG)
            },
            "share.bad_period",
        ),
        (
            Ask {
                keep_days: Some(institutions::MAX_KEEP_DAYS + 1),
                ..hotel_ask(ZHANG)
            },
            "share.bad_period",
        ),
    ];
    for (a, code) in cases {
        expect_code(institutions::ask(&env.node, &h, a).await, code);
    }
    assert!(institutions::of_institution(&env.node, &h, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        kinds(&env, &lic.identifier).await.len(),
        1,
        "only the issue"
    );

    // A revoked license is not in force: no copy of it is made.
    apply(
        &env.node,
        &lic.identifier,
        ActionRequest::new(Action::Revoke, "test"),
    )
    .await
    .unwrap();
    expect_code(
        institutions::ask(&env.node, &h, hotel_ask(ZHANG)).await,
        "share.no_license",
    );
}

#[tokio::test]
async fn a_copy_ends_with_its_period_and_with_the_license() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await;
    let h = hotel(&env).await;
    let v = institutions::ask(
        &env.node,
        &h,
        Ask {
            keep_days: Some(1),
            ..ask("age_check", ZHANG.1)
        },
    )
    .await;
    // age_check has no legal basis: it waits for the holder.
    let v = v.unwrap();
    assert_eq!(v.state, "pending");
    let zhang = account(&env, "zhangwei", ZHANG).await;
    institutions::decide(&env.node, &zhang, &v.id, true)
        .await
        .unwrap();
    let copy = institutions::get(&env.node, &h, &v.id)
        .await
        .unwrap()
        .copy
        .unwrap();
    assert_eq!(copy.fields.keys().collect::<Vec<_>>(), ["birth_date"]);

    let public = institutions::public_copy(&env.node, &v.id).await.unwrap();
    assert!(public.usable);
    assert_eq!(public.institution_name, "上海样本大酒店");
    let text = serde_json::to_string(&public).unwrap();
    for personal in [ZHANG.0, ZHANG.1, "1949-12-31"] {
        assert!(!text.contains(personal), "public view leaks {personal}");
    }
    expect_code(
        institutions::public_copy(&env.node, "nope").await,
        "copy.not_found",
    );

    // After its day the copy no longer verifies, with its own problem code.
    env.clock.advance(86_400);
    let late = verify(&env.node, &copy.credential, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(!late.valid);
    let codes: Vec<&str> = late.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["copy.expired"]);
    assert!(
        !institutions::public_copy(&env.node, &v.id)
            .await
            .unwrap()
            .usable
    );

    // A fresh copy dies with the license it was made from.
    let again = institutions::ask(&env.node, &h, hotel_ask(ZHANG))
        .await
        .unwrap()
        .copy
        .unwrap();
    let mut req = ActionRequest::new(Action::Revoke, "test");
    req.reason = Some("证件遗失".into());
    apply(&env.node, &lic.identifier, req).await.unwrap();
    env.node.status.invalidate();
    let revoked = verify(&env.node, &again.credential, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(!revoked.valid);
    assert_eq!(revoked.status.unwrap().code, "revoked");
}

#[tokio::test]
async fn an_institutions_verification_is_a_use_in_the_history() {
    let env = env().await;
    let lic = issue_ok(&env, request(DRIVING, 0, Alg::Sm2)).await;
    let b = bank(&env).await;
    let verdict = verify(&env.node, &lic.credential, &VerifyOptions::default())
        .await
        .unwrap();
    institutions::record_verification(&env.node, &b, &verdict)
        .await
        .unwrap();
    let h = kinds(&env, &lic.identifier).await;
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].0, "verify");
    assert_eq!(h[1].1, format!("institution:{BANK}"));
    assert!(h[1].2.is_some(), "in the log");
    // A credential of a license this node does not hold is not recorded (and is no error).
    let mut foreign = verdict.clone();
    foreign.identifier = Some("1.2.156.3005.2.unknown".into());
    institutions::record_verification(&env.node, &b, &foreign)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_copys_face_shows_only_the_matters_fields_with_a_watermark() {
    let env = env().await;
    issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await;
    let b = bank(&env).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let v = institutions::ask(&env.node, &b, ask("bank_account_opening", COMPANY.1))
        .await
        .unwrap();
    // No copy yet, no face.
    expect_code(
        institutions::copy_face(&env.node, &b, &v.id, FaceFormat::Svg).await,
        "share.not_found",
    );
    institutions::decide(&env.node, &zhang, &v.id, true)
        .await
        .unwrap();
    let svg = institutions::copy_face(&env.node, &b, &v.id, FaceFormat::Svg)
        .await
        .unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(
        svg.contains("北京示例科技有限公司"),
        "a field the matter needs"
    );
    assert!(svg.contains("加注件"), "watermark");
    assert!(svg.contains("示例商业银行北京分行"));
    assert!(
        !svg.contains("100万元人民币"),
        "registered capital is not needed"
    );
    assert!(
        !svg.contains("技术开发、技术咨询"),
        "business scope is not needed"
    );
    let pdf = institutions::copy_face(&env.node, &b, &v.id, FaceFormat::Pdf)
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let h = hotel(&env).await;
    expect_code(
        institutions::copy_face(&env.node, &h, &v.id, FaceFormat::Pdf).await,
        "share.not_found",
    );
}

#[tokio::test]
async fn demo_institutions_keep_their_keys_across_restarts() {
    let env = env().await;
    let first = institutions::seed_demo(&env.node).await.unwrap();
    let again = institutions::seed_demo(&env.node).await.unwrap();
    assert_eq!(first.len(), 2);
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(a.api_key, b.api_key);
        let inst = institutions::authenticate(&env.node, &a.api_key)
            .await
            .unwrap();
        assert_eq!(inst.code, a.code);
    }
}

/// A node whose institutions may make `legal` legal-basis requests at once (then one every
/// 10 s) and miss `misses` times (then once a minute).
async fn limited_env(legal: u32, misses: u32) -> Env {
    let mut config = elicense_app::NodeConfig::ephemeral(BASE_URL);
    config.share_limits = elicense_app::config::ShareLimits {
        legal: Rate::new(legal, 6, 60).unwrap(),
        misses: Rate::new(misses, 60, 3600).unwrap(),
    };
    env_with(config).await
}

#[tokio::test]
async fn an_id_number_alone_reaches_nothing_under_a_legal_basis() {
    let env = env().await;
    issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;

    // No name, or only whitespace: refused before anything is looked up.
    for name in [None, Some(" \u{3000} ")] {
        let e = expect_code(
            institutions::ask(
                &env.node,
                &h,
                Ask {
                    holder_name: name.map(str::to_owned),
                    ..ask("hotel_check_in", ZHANG.1)
                },
            )
            .await,
            "share.holder_name_required",
        );
        assert_eq!(e.kind, ErrorKind::Invalid);
    }

    // A wrong name and a holder without a license get the very same answer.
    let wrong = expect_code(
        institutions::ask(
            &env.node,
            &h,
            Ask {
                holder_name: Some("张伟伟".into()),
                ..hotel_ask(ZHANG)
            },
        )
        .await,
        "share.no_license",
    );
    let unknown = expect_code(
        institutions::ask(&env.node, &h, hotel_ask(LI)).await,
        "share.no_license",
    );
    assert_eq!((wrong.kind, wrong.message), (unknown.kind, unknown.message));
    // Nor a similar one: another script, a space inside.
    for similar in ["張偉", "张 伟"] {
        expect_code(
            institutions::ask(
                &env.node,
                &h,
                Ask {
                    holder_name: Some(similar.into()),
                    ..hotel_ask(ZHANG)
                },
            )
            .await,
            "share.no_license",
        );
    }

    // The right name, however it was typed (full-width space around it), is granted.
    let v = institutions::ask(
        &env.node,
        &h,
        Ask {
            holder_name: Some(format!("\u{3000}{} ", ZHANG.0)),
            ..hotel_ask(ZHANG)
        },
    )
    .await
    .unwrap();
    assert_eq!(v.state, "granted");

    // A request that needs consent may leave the name out; a name it gives must match.
    let pending = institutions::ask(&env.node, &h, ask("age_check", ZHANG.1))
        .await
        .unwrap();
    assert_eq!(pending.state, "pending");
    expect_code(
        institutions::ask(
            &env.node,
            &h,
            Ask {
                holder_name: Some("李四".into()),
                ..ask("age_check", ZHANG.1)
            },
        )
        .await,
        "share.no_license",
    );
}

#[tokio::test]
async fn legal_basis_requests_are_rate_limited_per_institution_with_one_alert() {
    let env = limited_env(3, 100).await;
    issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;
    let other = register(&env, BANK, "另一家酒店", &["hotel_check_in"]).await;
    for _ in 0..3 {
        institutions::ask(&env.node, &h, hotel_ask(ZHANG))
            .await
            .unwrap();
    }
    assert!(env.node.share_guard.alerts().is_empty());
    let e = expect_code(
        institutions::ask(&env.node, &h, hotel_ask(ZHANG)).await,
        "share.throttled",
    );
    assert_eq!(
        e.kind,
        ErrorKind::Throttled {
            retry_after_secs: 10
        }
    );
    // Refused again: still one alert for the spell.
    env.clock.advance(3);
    let e = expect_code(
        institutions::ask(&env.node, &h, hotel_ask(ZHANG)).await,
        "share.throttled",
    );
    assert_eq!(
        e.kind,
        ErrorKind::Throttled {
            retry_after_secs: 7
        }
    );
    let alerts = env.node.share_guard.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (alerts[0].kind, alerts[0].institution.as_str(), alerts[0].at),
        (institutions::AlertKind::Throttled, HOTEL, T0)
    );
    assert_eq!(alerts[0].kind.code(), "share.alert.throttled");

    // Another institution and consent-based requests are not held back.
    institutions::ask(&env.node, &other, hotel_ask(ZHANG))
        .await
        .unwrap();
    let pending = institutions::ask(&env.node, &h, ask("age_check", ZHANG.1))
        .await
        .unwrap();
    assert_eq!(pending.state, "pending");

    // After the wait, one more goes through, then the rate holds again.
    env.clock.advance(7);
    let v = institutions::ask(&env.node, &h, hotel_ask(ZHANG))
        .await
        .unwrap();
    assert_eq!(v.state, "granted");
    expect_code(
        institutions::ask(&env.node, &h, hotel_ask(ZHANG)).await,
        "share.throttled",
    );
    assert_eq!(env.node.share_guard.alerts().len(), 1);
}

#[tokio::test]
async fn an_institution_probing_id_numbers_is_stopped_and_alerts() {
    let env = limited_env(100, 3).await;
    issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;
    // Misses of either kind count alike: an unknown holder, a wrong name.
    let probes = [
        hotel_ask(LI),
        Ask {
            holder_name: Some("王五".into()),
            ..hotel_ask(ZHANG)
        },
        hotel_ask(("赵六", "110105198001010032")),
    ];
    for (i, probe) in probes.into_iter().enumerate() {
        assert!(env.node.share_guard.alerts().is_empty(), "before miss {i}");
        expect_code(
            institutions::ask(&env.node, &h, probe).await,
            "share.no_license",
        );
    }
    let alerts = env.node.share_guard.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (alerts[0].kind, alerts[0].institution.as_str()),
        (institutions::AlertKind::Probing, HOTEL)
    );
    assert_eq!(alerts[0].kind.code(), "share.alert.probing");

    // Now every request of the institution waits, the right name and consent alike.
    for a in [hotel_ask(ZHANG), ask("age_check", ZHANG.1)] {
        let e = expect_code(
            institutions::ask(&env.node, &h, a).await,
            "share.too_many_misses",
        );
        assert_eq!(
            e.kind,
            ErrorKind::Throttled {
                retry_after_secs: 60
            }
        );
    }
    env.clock.advance(60);
    let v = institutions::ask(&env.node, &h, hotel_ask(ZHANG))
        .await
        .unwrap();
    assert_eq!(v.state, "granted");
    assert_eq!(env.node.share_guard.alerts().len(), 1);
}

#[tokio::test]
async fn a_busy_hotel_under_the_default_limits_is_never_held_back() {
    let env = env().await;
    issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;
    // A tour group at once, then a guest every few seconds for ten minutes, with a typo
    // now and then: all within the defaults (60 at once, 30 a minute; 20 misses).
    for _ in 0..40 {
        institutions::ask(&env.node, &h, hotel_ask(ZHANG))
            .await
            .unwrap();
    }
    for i in 0..200 {
        env.clock.advance(3);
        let a = if i % 20 == 0 {
            Ask {
                holder_name: Some("张玮".into()),
                ..hotel_ask(ZHANG)
            }
        } else {
            hotel_ask(ZHANG)
        };
        match institutions::ask(&env.node, &h, a).await {
            Ok(v) => assert_eq!(v.state, "granted"),
            Err(e) => assert_eq!(e.code, "share.no_license", "request {i}: {e:?}"),
        }
    }
    assert!(env.node.share_guard.alerts().is_empty());
}

#[tokio::test]
async fn staff_ask_only_for_their_matters_while_enabled() {
    use elicense_app::institutions::staff::{self, StaffInput};
    let env = env().await;
    issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;
    let night = |matters: &[&str]| StaffInput {
        name: "夜班 孙七".into(),
        matters: matters.iter().map(|m| m.to_string()).collect(),
        resident_id: None,
    };
    // The administrator assigns matters of the institution's scope only.
    expect_code(
        staff::put(&env.node, &h, "night", night(&["bank_account_opening"])).await,
        "staff.out_of_scope",
    );
    expect_code(
        staff::put(&env.node, &h, "night", night(&[])).await,
        "staff.no_matters",
    );
    expect_code(
        staff::put(&env.node, &h, "Night Shift", night(&["age_check"])).await,
        "staff.bad_username",
    );
    let made = staff::put(&env.node, &h, "night", night(&["age_check"]))
        .await
        .unwrap();
    assert_eq!(made.matters, ["age_check"]);
    let as_night = Ask {
        staff: "night".into(),
        ..hotel_ask(ZHANG)
    };
    // Another institution's staff member is nobody here.
    let b = bank(&env).await;
    expect_code(
        institutions::ask(
            &env.node,
            &b,
            Ask {
                matter: "bank_account_opening".into(),
                ..as_night.clone()
            },
        )
        .await,
        "share.unknown_staff",
    );
    // A matter not assigned to them: refused, nothing recorded.
    expect_code(
        institutions::ask(&env.node, &h, as_night.clone()).await,
        "share.staff_not_assigned",
    );
    assert!(institutions::of_institution(&env.node, &h, 10)
        .await
        .unwrap()
        .is_empty());
    // Assigned, they may; disabled, they may not; enabled again, they may.
    staff::put(
        &env.node,
        &h,
        "night",
        night(&["age_check", "hotel_check_in"]),
    )
    .await
    .unwrap();
    let asked = institutions::ask(&env.node, &h, as_night.clone())
        .await
        .unwrap();
    assert_eq!(asked.staff, "夜班 孙七（night）");
    let off = staff::set_disabled(&env.node, &h, "night", true)
        .await
        .unwrap();
    assert!(off.disabled_at.is_some());
    // Re-registering keeps them disabled.
    staff::put(&env.node, &h, "night", night(&["hotel_check_in"]))
        .await
        .unwrap();
    expect_code(
        institutions::ask(&env.node, &h, as_night.clone()).await,
        "share.staff_disabled",
    );
    staff::set_disabled(&env.node, &h, "night", false)
        .await
        .unwrap();
    institutions::ask(&env.node, &h, as_night).await.unwrap();
    expect_code(
        staff::set_disabled(&env.node, &h, "nobody", true).await,
        "staff.not_found",
    );
    let all = staff::list(&env.node, &h).await.unwrap();
    let names: Vec<&str> = all.iter().map(|s| s.username.as_str()).collect();
    assert_eq!(names, [CLERK, "night"]);
    // The holder's history names the registered staff member.
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let mine = institutions::for_holder(&env.node, &zhang).await.unwrap();
    assert!(
        mine.iter().all(|r| r.staff == "夜班 孙七（night）"),
        "{mine:?}"
    );
    assert_eq!(mine.len(), 2);
}

#[tokio::test]
async fn a_granted_request_returns_the_form_filled_and_verified_from_the_license() {
    use elicense_app::institutions::forms::{self, Form, FormField};
    let env = env().await;
    issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let h = hotel(&env).await;
    let field = |name: &str, label: &str, claim: &str| FormField {
        name: name.into(),
        label: label.into(),
        claim: claim.into(),
        license_type: None,
    };
    let form = |fields: Vec<FormField>| Form { fields };
    // Only claims the matter's copy carries, in the institution's scope.
    let t = sample_type(RESIDENT_ID);
    let need = t
        .matters
        .iter()
        .find(|m| m.code == "hotel_check_in")
        .expect("the sample matter");
    let outside = t
        .items
        .iter()
        .map(|i| i.name.clone())
        .find(|n| !need.fields.contains(n))
        .expect("an item the matter does not carry");
    expect_code(
        forms::put(
            &env.node,
            &h,
            "hotel_check_in",
            form(vec![field("x", "某项", &outside)]),
        )
        .await,
        "form.unknown_claim",
    );
    expect_code(
        forms::put(
            &env.node,
            &h,
            "bank_account_opening",
            form(vec![field("x", "名称", "name")]),
        )
        .await,
        "share.out_of_scope",
    );
    expect_code(
        forms::put(&env.node, &h, "hotel_check_in", form(vec![])).await,
        "form.bad_field",
    );
    let claims: Vec<FormField> = need
        .fields
        .iter()
        .enumerate()
        .map(|(i, c)| field(&format!("f{i}"), &format!("项目 {i}"), c))
        .collect();
    let twice = form(vec![claims[0].clone(), claims[0].clone()]);
    expect_code(
        forms::put(&env.node, &h, "hotel_check_in", twice).await,
        "form.bad_field",
    );
    expect_code(
        forms::get(&env.node, &h, "hotel_check_in").await,
        "form.not_defined",
    );
    forms::put(&env.node, &h, "hotel_check_in", form(claims.clone()))
        .await
        .unwrap();

    // A legal-basis check-in is granted at once: the form comes back filled from its copy.
    let asked = institutions::ask(&env.node, &h, hotel_ask(ZHANG))
        .await
        .unwrap();
    let filled = forms::filled(&env.node, &h, &asked.id).await.unwrap();
    let copy = asked.copy.expect("granted with its copy");
    assert_eq!(filled.fields.len(), claims.len());
    for (f, c) in filled.fields.iter().zip(&claims) {
        assert!(f.verified, "{f:?}");
        assert_eq!(Some(&f.value), copy.fields.get(&c.claim), "{f:?}");
        let src = f.source.as_ref().unwrap();
        assert_eq!(src.claim, c.claim);
        assert_eq!(src.verify_url, copy.verify_url);
        assert_eq!(src.type_name, t.name);
    }
    let holder_name = need.fields.iter().position(|c| c == "holder_name");
    if let Some(i) = holder_name {
        assert_eq!(filled.fields[i].value, serde_json::json!(ZHANG.0));
    }

    // Another institution's request is not found; a pending one has no copy to fill from.
    let b = bank(&env).await;
    expect_code(
        forms::filled(&env.node, &b, &asked.id).await,
        "share.not_found",
    );
    issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await;
    forms::put(
        &env.node,
        &b,
        "bank_account_opening",
        form(vec![field("company", "单位名称", "name")]),
    )
    .await
    .unwrap();
    let pending = institutions::ask(&env.node, &b, ask("bank_account_opening", COMPANY.1))
        .await
        .unwrap();
    expect_code(
        forms::filled(&env.node, &b, &pending.id).await,
        "form.not_granted",
    );
}
