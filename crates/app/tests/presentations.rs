//! Verification at the counter with OpenID4VP 1.0 on a real SQLite node: a clerk starts a
//! presentation request, a wallet (written here with the crypto crate, as any wallet would
//! be) fetches the signed request object, checks it against the `x509_hash` client
//! identifier, presents exactly the DCQL query's claims with a KB-JWT for the request's
//! nonce and the verifier's client id, and posts the response, plain (`direct_post`) or
//! encrypted to the request's key (`direct_post.jwt`). Every refusal has its stable code and
//! leaves the request open for the real holder. (The outside wallet from npm is in
//! crates/server/tests/oid4vp.rs.)

mod common;

use common::*;
use elicense_app::institutions::presentations::{self, ResponseForm, StartRequest};
use elicense_app::institutions::{self, NewInstitution};
use elicense_app::wallet::present;
use elicense_app::wallet::Identity;
use elicense_core::Identifier;
use elicense_crypto::{jws, sdjwt, x509, Alg};
use elicense_store::InstitutionRecord;
use serde_json::{json, Value};

const BANK: &str = "91110105MA01B2C3DL";
const MATTER: &str = "bank_account_opening";

struct Counter {
    env: Env,
    bank: InstitutionRecord,
    zhang: Identity,
    license: Identifier,
}

async fn counter() -> Counter {
    let env = env().await;
    let license = issue_ok(&env, request(BUSINESS, 0, Alg::Es256))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let bank = institutions::register(
        &env.node,
        NewInstitution {
            code: BANK.into(),
            name: "示例商业银行北京分行".into(),
            area: "110105".into(),
            matters: vec![MATTER.into()],
        },
    )
    .await
    .unwrap();
    clerk(&env, &bank).await;
    Counter {
        env,
        bank,
        zhang,
        license,
    }
}

/// A hotel (another institution, another scope) with its clerk.
async fn hotel(env: &Env) -> InstitutionRecord {
    let hotel = institutions::register(
        &env.node,
        NewInstitution {
            code: "91310101MA1FPX0Q1Y".into(),
            name: "上海样本大酒店".into(),
            area: "310101".into(),
            matters: vec!["hotel_check_in".into()],
        },
    )
    .await
    .unwrap();
    clerk(env, &hotel).await;
    hotel
}

fn start_req(mode: &str) -> StartRequest {
    serde_json::from_value(
        json!({"matter": MATTER, "staff": CLERK, "purpose": "企业开户",
        "response_mode": mode}),
    )
    .unwrap()
}

/// What a wallet learns from the request object after checking it.
struct Resolved {
    payload: Value,
    client_id: String,
}

/// Fetches and checks the request object: the signature by the `x5c` certificate's key,
/// whose hash is the client identifier.
async fn resolve(c: &Counter, id: &str) -> Resolved {
    let jar = presentations::request_object(&c.env.node, id)
        .await
        .unwrap();
    let parsed = jws::parse(&jar).unwrap();
    assert_eq!(parsed.header.typ.as_deref(), Some("oauth-authz-req+jwt"));
    let x5c = parsed.header.extra["x5c"][0].as_str().unwrap();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, x5c).unwrap();
    let key = x509::leaf_key(&der).unwrap();
    parsed
        .verify_with(key.verifier(None).unwrap().as_ref())
        .unwrap();
    let payload = parsed.payload.clone();
    let client_id = payload["client_id"].as_str().unwrap().to_owned();
    assert_eq!(client_id, format!("x509_hash:{}", x509::hash(&der)));
    Resolved { payload, client_id }
}

/// How the wallet builds its answer (the honest way, or one way wrong).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    None,
    Extra,
    Missing,
    OtherNonce,
    OtherAudience,
    NoKeyBinding,
    OtherKey,
    OtherState,
}

/// The holder's device key bound to the license, and its bound credential.
async fn bound(c: &Counter, device: &Device) -> String {
    let jkt = present::bind(&c.env.node, &c.zhang, &c.license, &device.jwk())
        .await
        .unwrap();
    c.env
        .store
        .binding(c.license.as_str(), &jkt)
        .await
        .unwrap()
        .unwrap()
        .credential
}

/// The form the wallet posts for `r`.
fn answer(r: &Resolved, credential: &str, device: &Device, fault: Fault) -> ResponseForm {
    let full = presented(r, 0, credential, device, fault);
    let state = match fault {
        Fault::OtherState => "another-state".to_owned(),
        _ => r.payload["state"].as_str().unwrap().to_owned(),
    };
    vp_form(&r.payload, json!({"license": [full]}), &state)
}

/// The presentation (with its KB-JWT) of `credential` for the DCQL credential query `query`
/// (its index) of `r`.
fn presented(
    r: &Resolved,
    query: usize,
    credential: &str,
    device: &Device,
    fault: Fault,
) -> String {
    let dcql = &r.payload["dcql_query"]["credentials"][query];
    let mut claims: Vec<String> = dcql["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"][0].as_str().unwrap().to_owned())
        .collect();
    // Only what the credential carries selectively is a disclosure; the rest is plain.
    let parsed = sdjwt::parse(credential).unwrap();
    claims.retain(|c| parsed.disclosures.iter().any(|d| &d.name == c));
    match fault {
        Fault::Extra => claims.push("holder_id".into()),
        Fault::Missing => {
            claims.pop();
        }
        _ => {}
    }
    let names: Vec<&str> = claims.iter().map(String::as_str).collect();
    let presentation = sdjwt::present(credential, &names).unwrap();
    let nonce = match fault {
        Fault::OtherNonce => "another-nonce",
        _ => r.payload["nonce"].as_str().unwrap(),
    };
    let aud = match fault {
        Fault::OtherAudience => "x509_hash:someone-else",
        _ => r.client_id.as_str(),
    };
    let full = if fault == Fault::NoKeyBinding {
        presentation
    } else {
        let prepared = sdjwt::key_binding_prepare(&presentation, aud, nonce, T0, Alg::Es256);
        let input = std::str::from_utf8(prepared.signing_input())
            .unwrap()
            .to_owned();
        let signer = if fault == Fault::OtherKey {
            Device::new()
        } else {
            Device(device.0.clone())
        };
        format!("{presentation}{input}.{}", signer.sign(&input))
    };
    full
}

#[tokio::test]
async fn a_holder_answers_a_counter_request_and_the_bank_gets_exactly_its_fields() {
    for mode in ["direct_post.jwt", "direct_post"] {
        let c = counter().await;
        let node = &c.env.node;
        let started = presentations::start(node, &c.bank, start_req(mode))
            .await
            .unwrap();
        assert_eq!(started.state, "pending");
        assert_eq!(started.staff, "柜员 李明（clerk）");
        assert!(started
            .qr
            .starts_with("openid4vp://?client_id=x509_hash%3A"));
        assert!(started
            .qr
            .contains("request_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foid4vp%2Frequests%2F"));
        let r = resolve(&c, &started.id).await;
        let p = &r.payload;
        assert_eq!(p["response_type"], "vp_token");
        assert_eq!(p["response_mode"], mode);
        assert_eq!(p["aud"], "https://self-issued.me/v2");
        assert_eq!(
            p["response_uri"],
            format!("{BASE_URL}/oid4vp/responses/{}", started.id)
        );
        let q = &p["dcql_query"]["credentials"][0];
        assert_eq!(q["id"], "license");
        assert_eq!(q["format"], "dc+sd-jwt");
        assert_eq!(
            q["meta"]["vct_values"][0],
            format!("urn:elicense:type:{BUSINESS}")
        );
        let asked: Vec<&str> = q["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"][0].as_str().unwrap())
            .collect();
        assert_eq!(
            asked,
            [
                "name",
                "uscc",
                "entity_type",
                "legal_representative",
                "address"
            ]
        );
        assert_eq!(
            p["client_metadata"]["jwks"].is_object(),
            mode == "direct_post.jwt"
        );
        // The same client identifier on every request of the node.
        assert_eq!(r.client_id, started.client_id);

        let device = Device::new();
        let credential = bound(&c, &device).await;
        let ack = presentations::respond(
            node,
            &started.id,
            answer(&r, &credential, &device, Fault::None),
        )
        .await
        .unwrap();
        assert_eq!(ack.outcome, "granted");
        let done = presentations::get(node, &c.bank, &started.id)
            .await
            .unwrap();
        assert_eq!(done.state, "granted");
        let share = done.share.expect("the granted sharing request");
        assert_eq!(share.state, "granted");
        assert_eq!(share.basis, "consent");
        assert_eq!(share.staff, "柜员 李明（clerk）");
        let copy = share.copy.expect("the annotated copy");
        let mut got: Vec<&String> = copy.fields.keys().collect();
        got.sort();
        assert_eq!(
            got,
            [
                "address",
                "entity_type",
                "legal_representative",
                "name",
                "uscc"
            ]
        );
        assert_eq!(copy.fields["uscc"], COMPANY.1);
        // The holder's history names the bank, its clerk and the matter.
        let events = c
            .env
            .store
            .events(&elicense_app::issue::lineage(&c.license))
            .await
            .unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        for k in ["share_query", "consent", "annotated_copy"] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        // A replay of the same answer is refused, and so is a second wallet.
        let replay = presentations::respond(
            node,
            &started.id,
            answer(&r, &credential, &device, Fault::None),
        )
        .await;
        expect_code(replay, "vp.answered");
        expect_code(
            presentations::request_object(node, &started.id).await,
            "vp.answered",
        );
    }
}

#[tokio::test]
async fn wrong_answers_are_refused_with_their_codes_and_leave_the_request_open() {
    let c = counter().await;
    let node = &c.env.node;
    let device = Device::new();
    let credential = bound(&c, &device).await;
    for mode in ["direct_post.jwt", "direct_post"] {
        let started = presentations::start(node, &c.bank, start_req(mode))
            .await
            .unwrap();
        let r = resolve(&c, &started.id).await;
        for (fault, code) in [
            (Fault::Extra, "vp.extra_disclosure"),
            (Fault::Missing, "vp.missing_claim"),
            (Fault::OtherNonce, "vp.nonce_mismatch"),
            (Fault::OtherAudience, "vp.audience_mismatch"),
            (Fault::NoKeyBinding, "vp.presentation_invalid"),
            (Fault::OtherKey, "vp.presentation_invalid"),
            (Fault::OtherState, "vp.state_mismatch"),
        ] {
            let got =
                presentations::respond(node, &started.id, answer(&r, &credential, &device, fault))
                    .await;
            let e = expect_code(got, code);
            assert_eq!(e.kind, elicense_app::ErrorKind::Invalid, "{fault:?} {mode}");
        }
        // The other mode's form.
        let plain = ResponseForm {
            vp_token: Some("{}".into()),
            state: r.payload["state"].as_str().map(str::to_owned),
            ..Default::default()
        };
        let jwt = ResponseForm {
            response: Some("e30.x.y.z.w".into()),
            ..Default::default()
        };
        if mode == "direct_post.jwt" {
            expect_code(
                presentations::respond(node, &started.id, plain).await,
                "vp.encryption_required",
            );
            expect_code(
                presentations::respond(node, &started.id, jwt).await,
                "vp.bad_response",
            );
        } else {
            expect_code(
                presentations::respond(node, &started.id, jwt).await,
                "vp.bad_response",
            );
            expect_code(
                presentations::respond(node, &started.id, plain).await,
                "vp.bad_vp_token",
            );
        }
        // An answer made for another request (its nonce) is refused here.
        let other = presentations::start(node, &c.bank, start_req(mode))
            .await
            .unwrap();
        let other_r = resolve(&c, &other.id).await;
        let mut made_for_other = answer(&other_r, &credential, &device, Fault::None);
        if mode == "direct_post" {
            made_for_other.state = r.payload["state"].as_str().map(str::to_owned);
            expect_code(
                presentations::respond(node, &started.id, made_for_other).await,
                "vp.nonce_mismatch",
            );
        } else {
            // Encrypted to the other request's key: it does not even decrypt here.
            expect_code(
                presentations::respond(node, &started.id, made_for_other).await,
                "vp.bad_response",
            );
        }
        // After all that, the holder's honest answer still goes through.
        let ack = presentations::respond(
            node,
            &started.id,
            answer(&r, &credential, &device, Fault::None),
        )
        .await
        .unwrap();
        assert_eq!(ack.outcome, "granted");
    }
}

#[tokio::test]
async fn refusals_lapses_and_who_may_start_or_see_a_request() {
    let c = counter().await;
    let node = &c.env.node;
    // The holder refuses.
    let started = presentations::start(node, &c.bank, start_req("direct_post"))
        .await
        .unwrap();
    let r = resolve(&c, &started.id).await;
    let refuse = ResponseForm {
        error: Some("access_denied".into()),
        state: r.payload["state"].as_str().map(str::to_owned),
        ..Default::default()
    };
    assert_eq!(
        presentations::respond(node, &started.id, refuse)
            .await
            .unwrap()
            .outcome,
        "refused"
    );
    let seen = presentations::get(node, &c.bank, &started.id)
        .await
        .unwrap();
    assert_eq!(seen.state, "refused");
    assert!(seen.share.is_none());

    // A lapsed request can be neither fetched nor answered.
    let started = presentations::start(node, &c.bank, start_req("direct_post.jwt"))
        .await
        .unwrap();
    let r = resolve(&c, &started.id).await;
    let device = Device::new();
    let credential = bound(&c, &device).await;
    c.env.clock.advance(presentations::REQUEST_SECS);
    expect_code(
        presentations::request_object(node, &started.id).await,
        "vp.expired",
    );
    expect_code(
        presentations::respond(
            node,
            &started.id,
            answer(&r, &credential, &device, Fault::None),
        )
        .await,
        "vp.expired",
    );
    assert_eq!(
        presentations::get(node, &c.bank, &started.id)
            .await
            .unwrap()
            .state,
        "expired"
    );
    expect_code(
        presentations::request_object(node, "no-such-request").await,
        "vp.not_found",
    );

    // Another institution sees nothing of the bank's requests.
    let hotel = hotel(&c.env).await;
    expect_code(
        presentations::get(node, &hotel, &started.id).await,
        "vp.not_found",
    );
    assert!(presentations::list(node, &hotel, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        presentations::list(node, &c.bank, 10).await.unwrap().len(),
        2
    );
    expect_code(
        presentations::start(node, &hotel, start_req("direct_post")).await,
        "share.out_of_scope",
    );

    // Staff ask only for their matters; bad modes and webhooks are refused.
    elicense_app::institutions::staff::put(
        node,
        &c.bank,
        "trainee",
        elicense_app::institutions::staff::StaffInput {
            name: "见习 王五".into(),
            matters: vec![MATTER.into()],
            resident_id: None,
        },
    )
    .await
    .unwrap();
    elicense_app::institutions::staff::set_disabled(node, &c.bank, "trainee", true)
        .await
        .unwrap();
    let mut by_trainee = start_req("direct_post");
    by_trainee.staff = "trainee".into();
    expect_code(
        presentations::start(node, &c.bank, by_trainee).await,
        "share.staff_disabled",
    );
    let mut unknown = start_req("direct_post");
    unknown.staff = "nobody".into();
    expect_code(
        presentations::start(node, &c.bank, unknown).await,
        "share.unknown_staff",
    );
    expect_code(
        presentations::start(node, &c.bank, start_req("fragment")).await,
        "vp.bad_response_mode",
    );
    for hook in ["ftp://bank.example/x", "http://bank.example/x", "not a url"] {
        let mut req = start_req("direct_post");
        req.webhook = Some(hook.into());
        expect_code(
            presentations::start(node, &c.bank, req).await,
            "vp.bad_webhook",
        );
    }
}

#[tokio::test]
async fn a_credential_of_another_type_is_not_accepted_for_the_matter() {
    let c = counter().await;
    let node = &c.env.node;
    // 张伟's own driving license, bound to his device, offered for the company's matter.
    let driving = issue_ok(&c.env, request(DRIVING, 0, Alg::Es256))
        .await
        .identifier;
    let device = Device::new();
    let jkt = present::bind(node, &c.zhang, &driving, &device.jwk())
        .await
        .unwrap();
    let credential = c
        .env
        .store
        .binding(driving.as_str(), &jkt)
        .await
        .unwrap()
        .unwrap()
        .credential;
    let started = presentations::start(node, &c.bank, start_req("direct_post"))
        .await
        .unwrap();
    let r = resolve(&c, &started.id).await;
    let presentation = sdjwt::present(&credential, &[]).unwrap();
    let prepared = sdjwt::key_binding_prepare(
        &presentation,
        &r.client_id,
        r.payload["nonce"].as_str().unwrap(),
        T0,
        Alg::Es256,
    );
    let input = std::str::from_utf8(prepared.signing_input())
        .unwrap()
        .to_owned();
    let form = ResponseForm {
        vp_token: Some(
            json!({"license": [format!("{presentation}{input}.{}", device.sign(&input))]})
                .to_string(),
        ),
        state: r.payload["state"].as_str().map(str::to_owned),
        ..Default::default()
    };
    expect_code(
        presentations::respond(node, &started.id, form).await,
        "vp.wrong_type",
    );
}

#[tokio::test]
async fn staff_who_sign_in_work_at_their_counters_only() {
    let c = counter().await;
    let node = &c.env.node;
    let li = account(&c.env, "lina", LI).await;
    let put = |username: &'static str, resident_id: Option<&'static str>| {
        elicense_app::institutions::staff::put(
            node,
            &c.bank,
            username,
            elicense_app::institutions::staff::StaffInput {
                name: format!("柜员 {username}"),
                matters: vec![MATTER.into()],
                resident_id: resident_id.map(str::to_owned),
            },
        )
    };
    expect_code(
        put("teller", Some("110105200002290022")).await,
        "staff.bad_resident_id",
    );
    assert!(put("teller", Some(LI.1)).await.unwrap().signs_in);
    assert!(!put("other", None).await.unwrap().signs_in);
    // 李娜 works at the bank's counter, 张伟 at none.
    let counters = elicense_app::institutions::staff::counters_of(node, &li)
        .await
        .unwrap();
    assert_eq!(counters.len(), 1);
    assert_eq!(counters[0].display(), "柜员 teller（teller）");
    assert!(
        elicense_app::institutions::staff::counters_of(node, &c.zhang)
            .await
            .unwrap()
            .is_empty()
    );
    // She asks in her own name, whatever the form says.
    let mut req = start_req("direct_post");
    req.staff = "other".into();
    let started = presentations::start_at_counter(node, &li, BANK, req)
        .await
        .unwrap();
    assert_eq!(started.staff, "柜员 teller（teller）");
    assert_eq!(
        presentations::get_at_counter(node, &li, &started.id)
            .await
            .unwrap()
            .id,
        started.id
    );
    expect_code(
        presentations::start_at_counter(node, &c.zhang, BANK, start_req("direct_post")).await,
        "staff.not_yours",
    );
    expect_code(
        presentations::get_at_counter(node, &c.zhang, &started.id).await,
        "vp.not_found",
    );
    // A request of a colleague is not hers.
    let colleague = presentations::start(node, &c.bank, start_req("direct_post"))
        .await
        .unwrap();
    expect_code(
        presentations::get_at_counter(node, &li, &colleague.id).await,
        "vp.not_found",
    );
    // Disabled, she works nowhere.
    elicense_app::institutions::staff::set_disabled(node, &c.bank, "teller", true)
        .await
        .unwrap();
    assert!(elicense_app::institutions::staff::counters_of(node, &li)
        .await
        .unwrap()
        .is_empty());
    expect_code(
        presentations::start_at_counter(node, &li, BANK, start_req("direct_post")).await,
        "staff.not_yours",
    );
}

#[tokio::test]
async fn one_code_addresses_a_request_to_the_person_who_showed_it() {
    use elicense_app::one_code;
    let c = counter().await;
    let node = &c.env.node;
    // 张伟 shows his code; the bank's clerk scans it.
    let shown = one_code::code_for(node, &c.zhang).unwrap();
    assert!(shown.code.starts_with("elicense-code:"));
    let again = one_code::code_for(node, &c.zhang).unwrap();
    assert_ne!(shown.code, again.code, "every code is fresh");
    let handle = one_code::scan(node, &c.bank, &shown.code, CLERK)
        .await
        .unwrap();
    expect_code(
        one_code::scan(node, &c.bank, &shown.code, "nobody").await,
        "share.unknown_staff",
    );
    expect_code(
        one_code::scan(
            node,
            &c.bank,
            "elicense-code:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            CLERK,
        )
        .await,
        "code.invalid",
    );
    // A handle is no code, and a code is no handle.
    expect_code(
        one_code::scan(node, &c.bank, &handle.handle, CLERK).await,
        "code.invalid",
    );
    let mut req = start_req("direct_post.jwt");
    req.handle = Some(shown.code.trim_start_matches("elicense-code:").into());
    expect_code(
        presentations::start(node, &c.bank, req).await,
        "code.bad_handle",
    );

    let mut req = start_req("direct_post.jwt");
    req.handle = Some(handle.handle.clone());
    let started = presentations::start(node, &c.bank, req).await.unwrap();
    assert!(started.addressed);
    // It waits in 张伟's wallet, and only there.
    let waiting = elicense_app::wallet::openid4vp::addressed(node, &c.zhang)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].request, started.id);
    assert_eq!(
        waiting[0].parts[0].licenses.len(),
        1,
        "the company's business license"
    );
    let li = account(&c.env, "lina", LI).await;
    assert!(elicense_app::wallet::openid4vp::addressed(node, &li)
        .await
        .unwrap()
        .is_empty());

    // Another person's license does not answer it, even a valid one of the right type.
    let other_company = issue_ok(&c.env, request(BUSINESS, 1, Alg::Es256))
        .await
        .identifier;
    let li = account(&c.env, "lina2", LI).await;
    let device = Device::new();
    let jkt = present::bind(node, &li, &other_company, &device.jwk())
        .await
        .unwrap();
    let theirs = c
        .env
        .store
        .binding(other_company.as_str(), &jkt)
        .await
        .unwrap()
        .unwrap()
        .credential;
    let r = resolve(&c, &started.id).await;
    expect_code(
        presentations::respond(node, &started.id, answer(&r, &theirs, &device, Fault::None)).await,
        "vp.not_addressed",
    );
    // His own answers it, through the wallet.
    let mine = Device::new();
    let jkt = present::bind(node, &c.zhang, &c.license, &mine.jwk())
        .await
        .unwrap();
    let prepared =
        elicense_app::wallet::openid4vp::prepare(node, &c.zhang, &started.id, &c.license, &jkt)
            .await
            .unwrap();
    let ack = elicense_app::wallet::openid4vp::answer(
        node,
        &c.zhang,
        &started.id,
        &[elicense_app::wallet::openid4vp::PartAnswer {
            identifier: c.license.clone(),
            signature: mine.sign(&prepared.signing_input),
            presentation: prepared.presentation,
            signing_input: prepared.signing_input,
        }],
    )
    .await
    .unwrap();
    assert_eq!(ack.outcome, "granted");
    assert!(elicense_app::wallet::openid4vp::addressed(node, &c.zhang)
        .await
        .unwrap()
        .is_empty());

    // A handle is the scanning institution's only, and lapses; a code lapses after a minute.
    let hotel = hotel(&c.env).await;
    expect_code(
        one_code::person_of_handle(node, &hotel, &handle.handle),
        "code.bad_handle",
    );
    c.env.clock.advance(one_code::CODE_SECS);
    expect_code(
        one_code::scan(node, &c.bank, &again.code, CLERK).await,
        "code.expired",
    );
    c.env.clock.advance(one_code::HANDLE_SECS);
    expect_code(
        one_code::person_of_handle(node, &c.bank, &handle.handle),
        "code.handle_expired",
    );
}

/// The sample's joint matter: the business license and the legal representative's resident
/// ID card, asked for in one request and filling one form.
const JOINT: &str = "enterprise_loan";

#[tokio::test]
async fn a_joint_matter_takes_one_license_of_each_type_and_fills_one_form_from_both() {
    use elicense_app::institutions::forms::{self, Form, FormField};
    use elicense_app::wallet::openid4vp::{self as wallet_vp, PartAnswer};
    let c = counter().await;
    let node = &c.env.node;
    let id_card = issue_ok(&c.env, request(RESIDENT_ID, 0, Alg::Es256))
        .await
        .identifier; // 张伟's own
    let bank = institutions::register(
        node,
        NewInstitution {
            code: BANK.into(),
            name: "示例商业银行北京分行".into(),
            area: "110105".into(),
            matters: vec![MATTER.into(), JOINT.into()],
        },
    )
    .await
    .unwrap();
    clerk(&c.env, &bank).await;

    // The form: fields from both licenses; `address` is on both, so it names its type.
    let field = |name: &str, claim: &str, license_type: Option<&str>| FormField {
        name: name.into(),
        label: name.into(),
        claim: claim.into(),
        license_type: license_type.map(str::to_owned),
    };
    let form = |fields| Form { fields };
    expect_code(
        forms::put(
            node,
            &bank,
            JOINT,
            form(vec![field("addr", "address", None)]),
        )
        .await,
        "form.ambiguous_claim",
    );
    expect_code(
        forms::put(
            node,
            &bank,
            JOINT,
            form(vec![field("addr", "address", Some(DRIVING))]),
        )
        .await,
        "form.unknown_claim",
    );
    expect_code(
        forms::put(node, &bank, JOINT, form(vec![field("sex", "sex", None)])).await,
        "form.unknown_claim",
    );
    forms::put(
        node,
        &bank,
        JOINT,
        form(vec![
            field("company", "name", None),
            field("credit_code", "uscc", None),
            field("company_address", "address", Some(BUSINESS)),
            field("applicant", "holder_name", None),
            field("applicant_address", "address", Some(RESIDENT_ID)),
        ]),
    )
    .await
    .unwrap();

    let start = || {
        serde_json::from_value::<StartRequest>(json!({"matter": JOINT, "staff": CLERK,
            "purpose": "流动资金贷款", "response_mode": "direct_post.jwt"}))
        .unwrap()
    };
    let started = presentations::start(node, &bank, start()).await.unwrap();
    let r = resolve(&c, &started.id).await;
    // One credential query per license type, each of its type with its part's fields; no
    // credential_sets, so both are required.
    let creds = r.payload["dcql_query"]["credentials"].as_array().unwrap();
    let ids: Vec<&str> = creds.iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [BUSINESS, RESIDENT_ID]);
    assert!(r.payload["dcql_query"].get("credential_sets").is_none());
    let paths = |q: &Value| -> Vec<String> {
        q["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"][0].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(paths(&creds[1]), ["holder_name", "holder_id", "address"]);
    assert!(paths(&creds[0]).contains(&"uscc".to_string()));
    assert!(creds[1]["meta"]["vct_values"][0]
        .as_str()
        .unwrap()
        .ends_with(RESIDENT_ID));

    let device = Device::new();
    let company = bound(&c, &device).await;
    let jkt = present::bind(node, &c.zhang, &id_card, &device.jwk())
        .await
        .unwrap();
    let person = c
        .env
        .store
        .binding(id_card.as_str(), &jkt)
        .await
        .unwrap()
        .unwrap()
        .credential;
    let p_company = presented(&r, 0, &company, &device, Fault::None);
    let p_person = presented(&r, 1, &person, &device, Fault::None);
    let state = r.payload["state"].as_str().unwrap();
    let post =
        |token: Value| presentations::respond(node, &started.id, vp_form(&r.payload, token, state));
    // One license alone, the license answer of a plain matter, a license in the other's
    // place, a part too many: refused, and the request stays open.
    expect_code(
        post(json!({ BUSINESS: [p_company] })).await,
        "vp.bad_vp_token",
    );
    expect_code(
        post(json!({ "license": [p_company] })).await,
        "vp.bad_vp_token",
    );
    expect_code(
        post(json!({ BUSINESS: [p_person], RESIDENT_ID: [p_company] })).await,
        "vp.wrong_type",
    );
    expect_code(
        post(json!({ BUSINESS: [p_company], RESIDENT_ID: [p_person], "x": [p_person] })).await,
        "vp.bad_vp_token",
    );
    // One part wrong spoils the whole answer: nothing is granted for the other, whether the
    // wrong one comes first or last.
    let extra = presented(&r, 0, &company, &device, Fault::Extra);
    expect_code(
        post(json!({ BUSINESS: [extra], RESIDENT_ID: [p_person] })).await,
        "vp.extra_disclosure",
    );
    let missing = presented(&r, 1, &person, &device, Fault::Missing);
    expect_code(
        post(json!({ BUSINESS: [p_company], RESIDENT_ID: [missing] })).await,
        "vp.missing_claim",
    );
    let view = presentations::get(node, &bank, &started.id).await.unwrap();
    assert_eq!((view.state.as_str(), view.shares.len()), ("pending", 0));

    let ack = post(json!({ BUSINESS: [p_company], RESIDENT_ID: [p_person] }))
        .await
        .unwrap();
    assert_eq!(ack.outcome, "granted");
    let view = presentations::get(node, &bank, &started.id).await.unwrap();
    assert_eq!(view.state, "granted");
    assert_eq!(view.shares.len(), 2);
    assert_eq!(view.share.as_ref().map(|s| &s.id), Some(&view.shares[0].id));
    // Each copy carries its own part's fields only.
    let copy_fields = |i: usize| -> Vec<String> {
        view.shares[i]
            .copy
            .as_ref()
            .unwrap()
            .fields
            .keys()
            .cloned()
            .collect()
    };
    assert!(copy_fields(0).contains(&"uscc".to_string()));
    assert!(!copy_fields(0).contains(&"holder_id".to_string()));
    assert_eq!(
        copy_fields(1)
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        ["address", "holder_id", "holder_name"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    // The form, filled from both, each field verified from its own license.
    let filled = view.form.expect("the bank's form, filled");
    assert_eq!(
        filled.shares,
        [view.shares[0].id.clone(), view.shares[1].id.clone()]
    );
    let get = |name: &str| filled.fields.iter().find(|f| f.name == name).unwrap();
    let id_fields = &view.shares[1].copy.as_ref().unwrap().fields;
    let biz_fields = &view.shares[0].copy.as_ref().unwrap().fields;
    assert_eq!(get("applicant").value, json!(ZHANG.0));
    assert_eq!(get("applicant_address").value, id_fields["address"]);
    assert_eq!(get("company_address").value, biz_fields["address"]);
    assert_ne!(get("applicant_address").value, get("company_address").value);
    assert_eq!(get("credit_code").value, biz_fields["uscc"]);
    for f in &filled.fields {
        assert!(f.verified, "{} is verified", f.name);
    }
    assert_eq!(
        get("applicant_address").source.as_ref().unwrap().type_name,
        "居民身份证"
    );
    assert_eq!(
        get("company_address").source.as_ref().unwrap().type_name,
        "营业执照"
    );
    // Each share is answered alone by the share-level form: only its license's fields.
    let one = forms::filled(node, &bank, &view.shares[1].id)
        .await
        .unwrap();
    assert!(
        one.fields
            .iter()
            .find(|f| f.name == "applicant")
            .unwrap()
            .verified
    );
    assert!(
        !one.fields
            .iter()
            .find(|f| f.name == "credit_code")
            .unwrap()
            .verified
    );

    // The node's wallet: the holder sees both parts, picks one license for each, and answers
    // once; one part alone, or one part twice, is refused.
    let started = presentations::start(node, &bank, start()).await.unwrap();
    let asked = wallet_vp::asked(node, &c.zhang, &started.id).await.unwrap();
    assert_eq!(asked.parts.len(), 2);
    assert!(asked.answerable());
    assert_eq!(asked.parts[0].licenses[0].identifier, c.license.as_str());
    assert_eq!(asked.parts[1].licenses[0].identifier, id_card.as_str());
    let mut answers = Vec::new();
    // One device key, bound to both licenses: the same thumbprint.
    for identifier in [&c.license, &id_card] {
        let p = wallet_vp::prepare(node, &c.zhang, &started.id, identifier, &jkt)
            .await
            .unwrap();
        answers.push(PartAnswer {
            identifier: identifier.clone(),
            signature: device.sign(&p.signing_input),
            presentation: p.presentation,
            signing_input: p.signing_input,
        });
    }
    expect_code(
        wallet_vp::answer(node, &c.zhang, &started.id, &answers[..1]).await,
        "vp.bad_vp_token",
    );
    let twice = [answers[0].clone(), answers[0].clone()];
    expect_code(
        wallet_vp::answer(node, &c.zhang, &started.id, &twice).await,
        "vp.bad_vp_token",
    );
    let ack = wallet_vp::answer(node, &c.zhang, &started.id, &answers)
        .await
        .unwrap();
    assert_eq!(ack.outcome, "granted");

    // A sharing request by holder ID reaches the part its kind of ID holds.
    let ask = |holder_id: &str| {
        serde_json::from_value::<institutions::Ask>(json!({"matter": JOINT,
            "holder_id": holder_id, "purpose": "贷前调查", "staff": CLERK}))
        .unwrap()
    };
    let by_person = institutions::ask(node, &bank, ask(ZHANG.1)).await.unwrap();
    assert_eq!(by_person.type_code, RESIDENT_ID);
    let uscc = request(BUSINESS, 0, Alg::Es256).holder_id;
    let by_company = institutions::ask(node, &bank, ask(&uscc)).await.unwrap();
    assert_eq!(by_company.type_code, BUSINESS);
    let named = serde_json::from_value::<institutions::Ask>(json!({"matter": JOINT,
        "holder_id": ZHANG.1, "purpose": "贷前调查", "staff": CLERK,
        "license_type": DRIVING}))
    .unwrap();
    expect_code(
        institutions::ask(node, &bank, named).await,
        "share.unknown_matter",
    );
}
