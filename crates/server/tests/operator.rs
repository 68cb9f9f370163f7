//! The operator API over real HTTP (issue 16, finding 8): an operator key (`elo_…`) revokes
//! API keys (refused at once by the running node), disables and enables institutions and
//! accounts, retires and revokes issuer keys; other roles' keys are refused; bad input gets
//! a stable code and changes nothing; every operation is listed and logged.

mod common;

use std::sync::Arc;

use common::*;
use elicense_app::ManualClock;
use elicense_core::sample;
use elicense_store::LogEntry;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// 2026-02-02 08:00 CST.
const T0: i64 = 1_769_990_400;
const BANK: &str = "91110105MA01B2C3DL";

async fn op_post(
    srv: &TestServer,
    key: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = srv.post(path).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    read(req.send().await.unwrap()).await
}

/// Asserts that the operator API refuses a change: the status and stable code.
async fn op_refused(
    srv: &TestServer,
    key: &str,
    path: &str,
    body: Option<Value>,
    status: StatusCode,
    code: &str,
) {
    let (s, b) = op_post(srv, key, path, body).await;
    assert_eq!((s, b["error"]["code"].as_str()), (status, Some(code)));
}

/// Asserts that the operator API made a change (`201`); its `Done`.
async fn op_done(srv: &TestServer, key: &str, path: &str, body: Option<Value>) -> Value {
    let (s, done) = op_post(srv, key, path, body).await;
    assert_eq!(s, StatusCode::CREATED, "{done}");
    done
}

/// `GET path` with an operator key.
async fn op_get(srv: &TestServer, key: &str, path: &str) -> (StatusCode, Value) {
    read(srv.get(path).bearer_auth(key).send().await.unwrap()).await
}

/// An institution's sharing request.
async fn ask_share(srv: &TestServer, key: &str, ask: &Value) -> reqwest::Response {
    srv.post("/api/v1/shares")
        .bearer_auth(key)
        .json(ask)
        .send()
        .await
        .unwrap()
}

/// The issuer key that signed a credential issued over HTTP.
async fn kid_of(srv: &TestServer, issued: &Value) -> String {
    let id = issued["identifier"].as_str().unwrap();
    srv.node.store.license(id).await.unwrap().unwrap().kid
}

#[tokio::test]
async fn only_an_operator_key_may_call_the_operator_api() {
    let srv = TestServer::start().await;
    let issuer_key = srv.key(sample::BEIJING_TRAFFIC_POLICE).to_owned();
    let resp = srv.get("/api/v1/operator/events").send().await.unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.missing").await;
    for wrong in [issuer_key.as_str(), "elo_0123456789ab_00", "nonsense"] {
        let resp = srv
            .get("/api/v1/operator/events")
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::UNAUTHORIZED, "auth.invalid_key").await;
    }
    // An issuer cannot revoke another's key through the operator API.
    let resp = srv
        .post("/api/v1/operator/api-keys/0123456789ab/revocation")
        .bearer_auth(&issuer_key)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.invalid_key").await;
    let key = operator_key(&srv).await;
    let (status, events) = op_get(&srv, &key, "/api/v1/operator/events").await;
    assert_eq!((status, events), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn a_revoked_api_key_is_refused_at_once_by_the_running_node() {
    let srv = TestServer::start().await;
    let key = operator_key(&srv).await;
    let issuer_key = srv.key(sample::BEIJING_TRAFFIC_POLICE).to_owned();
    srv.issue_driving("ed25519").await;
    let id = issuer_key.split('_').nth(1).unwrap().to_owned();

    // Bad and unknown ids: stable codes, nothing changed.
    op_refused(
        &srv,
        &key,
        "/api/v1/operator/api-keys/not-hex/revocation",
        None,
        StatusCode::BAD_REQUEST,
        "apikey.bad_id",
    )
    .await;
    op_refused(
        &srv,
        &key,
        "/api/v1/operator/api-keys/0123456789ab/revocation",
        None,
        StatusCode::NOT_FOUND,
        "apikey.unknown",
    )
    .await;
    srv.issue_driving("ed25519").await;

    let done = op_done(
        &srv,
        &key,
        &format!("/api/v1/operator/api-keys/elk_{id}/revocation"),
        None,
    )
    .await;
    assert_eq!(done["event"]["action"], "api_key_revoke");
    assert_eq!(done["event"]["subject"], id.as_str());
    let op_id = key.split('_').nth(1).unwrap();
    assert_eq!(done["event"]["actor"], format!("operator:{op_id}"));
    // The very next request with the key is refused.
    let req = srv.driving_request(CITIZEN, "ed25519").await;
    let resp = srv
        .post("/api/v1/licenses")
        .bearer_auth(&issuer_key)
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.invalid_key").await;
    op_refused(
        &srv,
        &key,
        &format!("/api/v1/operator/api-keys/{id}/revocation"),
        None,
        StatusCode::CONFLICT,
        "apikey.already_revoked",
    )
    .await;
    // Its leaf is in the log, in clear (a key id is no personal data).
    let index = done["leaf_index"].as_u64().unwrap();
    let entry = srv.node.store.log_entries(index, index + 1).await.unwrap();
    let LogEntry::Operator(o) = LogEntry::parse(&entry[0].data).unwrap() else {
        panic!("a public operator leaf");
    };
    assert_eq!(o.subject, id);
}

#[tokio::test]
async fn keys_retired_and_revoked_over_http() {
    let clock = Arc::new(ManualClock::new(T0));
    let srv = TestServer::start_with_clock(clock.clone()).await;
    let key = operator_key(&srv).await;
    let before = srv.issue_driving("es256").await;
    let kid = kid_of(&srv, &before).await;
    let signed_ed = srv.issue_driving("ed25519").await;
    let ed_kid = kid_of(&srv, &signed_ed).await;
    clock.advance(86_400);
    let after = srv.issue_driving("es256").await;
    clock.advance(60);

    // Bad input: stable codes, nothing changed.
    let path = format!("/api/v1/operator/keys/{kid}/revocation");
    for (body, status, code) in [
        (
            json!({"since": "2026-13-01"}),
            StatusCode::BAD_REQUEST,
            "key.bad_since",
        ),
        (
            json!({"since": -5}),
            StatusCode::BAD_REQUEST,
            "key.bad_since",
        ),
        (
            json!({"since": T0 + 10 * 86_400}),
            StatusCode::BAD_REQUEST,
            "key.since_in_future",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "request.malformed"),
    ] {
        let (s, b) = op_post(&srv, &key, &path, Some(body.clone())).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    op_refused(
        &srv,
        &key,
        "/api/v1/operator/keys/nokid/revocation",
        Some(json!({"since": T0})),
        StatusCode::NOT_FOUND,
        "key.unknown",
    )
    .await;
    assert!(
        srv.verify(after["credential"].as_str().unwrap()).await["valid"]
            .as_bool()
            .unwrap()
    );

    // Compromised from an hour after the first issue: the later credential is invalid.
    let done = op_done(&srv, &key, &path, Some(json!({"since": T0 + 3600}))).await;
    assert_eq!(done["event"]["since"], T0 + 3600);
    let v = srv.verify(before["credential"].as_str().unwrap()).await;
    assert_eq!(v["valid"], true, "{v}");
    let v = srv.verify(after["credential"].as_str().unwrap()).await;
    assert_eq!(v["valid"], false);
    assert!(
        problem_codes(&v).contains(&"issuer.key_revoked".to_string()),
        "{v}"
    );
    // The node stops signing with it at once.
    let req = srv.driving_request(CITIZEN, "es256").await;
    let resp = srv
        .post("/api/v1/licenses")
        .bearer_auth(srv.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "issuer.no_key").await;

    // Retired: stops signing, old credentials verify, stays in the JWKS.
    op_done(
        &srv,
        &key,
        &format!("/api/v1/operator/keys/{ed_kid}/retirement"),
        None,
    )
    .await;
    assert!(
        srv.verify(signed_ed["credential"].as_str().unwrap()).await["valid"]
            .as_bool()
            .unwrap()
    );
    op_refused(
        &srv,
        &key,
        &format!("/api/v1/operator/keys/{ed_kid}/retirement"),
        None,
        StatusCode::CONFLICT,
        "key.already_retired",
    )
    .await;
    let (_, jwks) = read(
        srv.get(&format!(
            "/.well-known/jwt-vc-issuer/issuers/{}",
            sample::BEIJING_TRAFFIC_POLICE
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    let published = jwks.to_string();
    assert!(
        published.contains(&ed_kid),
        "retired keys stay published: {jwks}"
    );
    assert!(!published.contains(&kid), "revoked keys are not: {jwks}");
}

#[tokio::test]
async fn institutions_and_accounts_disabled_and_enabled_over_http() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let key = operator_key(&srv).await;
    let inst_key = institution(&srv, BANK, "银行", "car_rental").await;
    srv.issue_driving("es256").await;
    let ask =
        json!({"matter": "car_rental", "holder_id": CITIZEN.1, "purpose": "p", "staff": "clerk"});
    let asked = ask_share(&srv, &inst_key, &ask).await;
    assert!(
        asked.status().is_success(),
        "{}",
        asked.text().await.unwrap()
    );

    let done = op_done(
        &srv,
        &key,
        &format!("/api/v1/operator/institutions/{BANK}/disabling"),
        None,
    )
    .await;
    let resp = ask_share(&srv, &inst_key, &ask).await;
    expect_error(resp, StatusCode::FORBIDDEN, "institution.disabled").await;
    // Its leaf is a commitment: no institution code in the public log.
    let index = done["leaf_index"].as_u64().unwrap();
    let entry = srv.node.store.log_entries(index, index + 1).await.unwrap();
    assert!(!String::from_utf8_lossy(&entry[0].data).contains(BANK));
    op_refused(
        &srv,
        &key,
        &format!("/api/v1/operator/institutions/{BANK}/disabling"),
        None,
        StatusCode::CONFLICT,
        "institution.already_disabled",
    )
    .await;
    op_refused(
        &srv,
        &key,
        "/api/v1/operator/institutions/91310101MA1FPX0Q1Y/disabling",
        None,
        StatusCode::NOT_FOUND,
        "institution.unknown",
    )
    .await;
    op_done(
        &srv,
        &key,
        &format!("/api/v1/operator/institutions/{BANK}/enabling"),
        None,
    )
    .await;
    let resp = ask_share(&srv, &inst_key, &ask).await;
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());

    // Accounts: a session ends at once.
    let cookie = sign_in(&srv, "zhangwei").await;
    assert_eq!(page(&srv, "/wallet", Some(&cookie)).await.0, StatusCode::OK);
    let done = op_done(
        &srv,
        &key,
        "/api/v1/operator/accounts/zhangwei/disabling",
        None,
    )
    .await;
    assert_ne!(
        done["event"]["subject"], "zhangwei",
        "the event names the account id"
    );
    assert_ne!(page(&srv, "/wallet", Some(&cookie)).await.0, StatusCode::OK);
    op_refused(
        &srv,
        &key,
        "/api/v1/operator/accounts/nobody/disabling",
        None,
        StatusCode::NOT_FOUND,
        "account.not_found",
    )
    .await;
    op_done(
        &srv,
        &key,
        "/api/v1/operator/accounts/zhangwei/enabling",
        None,
    )
    .await;

    let (_, events) = op_get(&srv, &key, "/api/v1/operator/events?after=0&limit=10").await;
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "institution_disable",
            "institution_enable",
            "account_disable",
            "account_enable"
        ]
    );
    let first = events[0]["op"].as_i64().unwrap();
    let (_, rest) = op_get(
        &srv,
        &key,
        &format!("/api/v1/operator/events?after={first}&limit=1"),
    )
    .await;
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(rest[0]["action"], "institution_enable");
}
