//! Lifecycle actions over HTTP and their effect on verification and the published status
//! lists (signature checked against the issuer's published JWKS).

mod common;

use std::time::Duration;

use common::{expect_error, problem_codes, read, TestServer};
use elicense_core::sample;
use elicense_crypto::{status_list, Jwk};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn act(s: &TestServer, key_of: &str, id: &str, body: Value) -> reqwest::Response {
    s.post(&format!("/api/v1/licenses/{id}/actions"))
        .bearer_auth(s.key(key_of))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The value at `idx` of the list token served at `uri`, after checking the token's signature
/// with the issuer's published keys.
async fn list_value(s: &TestServer, uri: &str, idx: u64) -> u8 {
    let resp = s.client.get(uri).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let jwt = resp.text().await.unwrap();
    let (parsed, list) = status_list::parse_token(&jwt).expect("a status list token");
    assert_eq!(parsed.payload["sub"], uri);
    let meta: Value = s
        .get(&format!(
            "/.well-known/jwt-vc-issuer/issuers/{}",
            sample::BEIJING_TRAFFIC_POLICE
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = parsed.header.kid.as_deref().expect("a kid");
    let jwk: Jwk = meta["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| serde_json::from_value::<Jwk>(k.clone()).unwrap())
        .find(|k| k.kid.as_deref() == Some(kid))
        .expect("the list's key is published");
    let signer_id = meta
        .get("sm2_signer_ids")
        .and_then(|m| m.get(kid))
        .and_then(Value::as_str);
    parsed
        .verify_with(jwk.verifier(signer_id).unwrap().as_ref())
        .expect("the list token verifies with the published key");
    list.get(idx as usize).expect("idx inside the list")
}

/// Polls the list every 100 ms for up to 1.5 s until the entry shows `want`.
async fn await_list_value(s: &TestServer, status: &Value, want: u8) {
    let uri = status["uri"].as_str().unwrap();
    let idx = status["idx"].as_u64().unwrap();
    let mut seen = None;
    for _ in 0..15 {
        let v = list_value(s, uri, idx).await;
        if v == want {
            return;
        }
        seen = Some(v);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("status list {uri} idx {idx} shows {seen:?}, not {want}, after 1.5 s");
}

#[tokio::test]
async fn revoke_is_visible_everywhere() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let id = issued["identifier"].as_str().unwrap();
    let credential = issued["credential"].as_str().unwrap();
    await_list_value(&s, &issued["status"], 0).await;

    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "revoke", "reason": "以欺骗手段取得 obtained by deception"}),
    )
    .await;
    let (status, out) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["identifier"], id);
    assert_eq!(out["action"], "revoke");
    assert_eq!(out["status"], "revoked");

    let (status, v) = read(
        s.get(&format!("/api/v1/licenses/{id}/verification"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["status"]["code"], "revoked", "{v}");
    assert_eq!(v["status"]["list_value"], 1);
    // The public sees the reason's category (`other`: the issuer gave none), not its words.
    assert_eq!(v["status"]["reason_category"], "other");
    assert!(v["status"].get("reason").is_none(), "{v}");

    let v = s.verify(credential).await;
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        problem_codes(&v).contains(&"status.invalid".to_string()),
        "{v}"
    );
    assert_eq!(v["status"]["code"], "revoked");

    await_list_value(&s, &issued["status"], 1).await;

    // The full view records the event with its actor and reason.
    let (_, view) = read(
        s.get(&format!("/api/v1/licenses/{id}"))
            .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let kinds: Vec<&str> = view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issue", "revoke"]);
    assert_eq!(
        view["events"][1]["reason"],
        "以欺骗手段取得 obtained by deception"
    );

    // Revoked is final.
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "reinstate"}),
    )
    .await;
    expect_error(resp, StatusCode::CONFLICT, "lifecycle.illegal_transition").await;
}

#[tokio::test]
async fn suspend_and_reinstate() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("ES256").await;
    let id = issued["identifier"].as_str().unwrap();
    let credential = issued["credential"].as_str().unwrap();

    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "suspend", "reason": "暂扣 pending inspection"}),
    )
    .await;
    let (status, out) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["status"], "suspended");
    let v = s.verify(credential).await;
    assert_eq!(v["valid"], false);
    assert!(
        problem_codes(&v).contains(&"status.suspended".to_string()),
        "{v}"
    );
    await_list_value(&s, &issued["status"], 2).await;

    // Suspending twice is not a transition.
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "suspend"}),
    )
    .await;
    expect_error(resp, StatusCode::CONFLICT, "lifecycle.illegal_transition").await;

    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "reinstate"}),
    )
    .await;
    let (status, out) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["status"], "valid");
    await_list_value(&s, &issued["status"], 0).await;
    let v = s.verify(credential).await;
    assert_eq!(v["valid"], true, "{v}");
}

#[tokio::test]
async fn actions_are_for_the_issuing_authority_only() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("EdDSA").await;
    let id = issued["identifier"].as_str().unwrap();

    let resp = act(
        &s,
        sample::SHANGHAI_TRAFFIC_POLICE,
        id,
        json!({"action": "revoke"}),
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "license.not_your_license").await;
    let resp = s
        .post(&format!("/api/v1/licenses/{id}/actions"))
        .json(&json!({"action": "revoke"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.missing").await;
    // Expiry is the node's own action.
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "expire"}),
    )
    .await;
    expect_error(resp, StatusCode::FORBIDDEN, "lifecycle.system_only").await;
    // Unknown action and malformed bodies.
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "explode"}),
    )
    .await;
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;
    let resp = act(&s, sample::BEIJING_TRAFFIC_POLICE, id, json!({})).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;

    // Nothing changed.
    let (_, v) = read(
        s.get(&format!("/api/v1/licenses/{id}/verification"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["status"]["code"], "valid");
    let v = s.verify(issued["credential"].as_str().unwrap()).await;
    assert_eq!(v["valid"], true, "{v}");
}

#[tokio::test]
async fn actions_on_unknown_or_malformed_identifiers() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let id =
        elicense_core::ident::Identifier::parse(issued["identifier"].as_str().unwrap()).unwrap();
    let absent = id.with_version(999).unwrap().to_string();
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        &absent,
        json!({"action": "revoke"}),
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND, "license.not_found").await;
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        "1.2.3",
        json!({"action": "revoke"}),
    )
    .await;
    let (status, v) = read(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with("identifier."),
        "{v}"
    );
}

#[tokio::test]
async fn change_creates_a_new_version_and_supersedes_the_old() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let id = issued["identifier"].as_str().unwrap();
    let resp = act(
        &s,
        sample::BEIJING_TRAFFIC_POLICE,
        id,
        json!({"action": "change", "reason": "住址变更", "fields": {"address": "北京市西城区西长安街2号"}}),
    )
    .await;
    let (status, out) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let successor = &out["successor"];
    let new_id = successor["identifier"].as_str().unwrap();
    assert!(new_id.contains(".002."), "{new_id}");

    let v = s.verify(successor["credential"].as_str().unwrap()).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["claims"]["address"], "北京市西城区西长安街2号");

    let v = s.verify(issued["credential"].as_str().unwrap()).await;
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        problem_codes(&v).contains(&"status.invalid".to_string()),
        "{v}"
    );
    let (_, pub_status) = read(
        s.get(&format!("/api/v1/licenses/{id}/verification"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        pub_status["status"]["superseded_by"], new_id,
        "{pub_status}"
    );
    await_list_value(&s, &issued["status"], 1).await;
    await_list_value(&s, &successor["status"], 0).await;
}
