//! `POST /api/v1/licenses`, `GET /api/v1/licenses/{id}` and the public verification by
//! identifier, against a real server.

mod common;

use common::{expect_error, read, TestServer, CITIZEN};
use elicense_core::sample;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn issuing_returns_identifier_credential_and_status_slot() {
    let s = TestServer::start().await;
    for alg in ["SM2", "EdDSA", "ES256"] {
        let issued = s.issue_driving(alg).await;
        let id = issued["identifier"].as_str().unwrap();
        assert!(
            id.starts_with(&format!(
                "1.2.156.3005.2.{}.{}.",
                sample::DRIVING_LICENSE,
                sample::BEIJING_TRAFFIC_POLICE
            )),
            "{id}"
        );
        let credential = issued["credential"].as_str().unwrap();
        assert!(
            credential.contains('~'),
            "an SD-JWT has disclosures: {credential}"
        );
        let uri = issued["status"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with(&format!("{}/status-lists/", s.base)),
            "{uri}"
        );
        assert!(issued["status"]["idx"].is_u64());
        // The credential is signed with the algorithm asked for.
        let header: Value = serde_json::from_slice(
            &elicense_crypto::b64::decode(credential.split('.').next().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "dc+sd-jwt");
    }
    assert_eq!(s.count().await, 3);
}

#[tokio::test]
async fn an_empty_issuer_means_the_keys_issuer() {
    let s = TestServer::start().await;
    let mut req = s.driving_request(CITIZEN, "SM2").await;
    req["issuer"] = json!("");
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&req)
        .send()
        .await
        .unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn issuing_needs_a_valid_api_key() {
    let s = TestServer::start().await;
    let req = s.driving_request(CITIZEN, "SM2").await;
    let send = |auth: Option<&str>| {
        let mut b = s.post("/api/v1/licenses").json(&req);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.send()
    };
    let resp = send(None).await.unwrap();
    assert_eq!(resp.headers().get("www-authenticate").unwrap(), "Bearer");
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.missing").await;
    expect_error(
        send(Some("Basic Zm9vOmJhcg==")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "auth.missing",
    )
    .await;
    expect_error(
        send(Some("Bearer garbage")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "auth.invalid_key",
    )
    .await;
    expect_error(
        send(Some("Bearer elk_000000000000_00")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "auth.invalid_key",
    )
    .await;
    // The right key id with a wrong secret.
    let key = s.key(sample::BEIJING_TRAFFIC_POLICE);
    let (prefix, _) = key.rsplit_once('_').unwrap();
    let forged = format!("Bearer {prefix}_{}", "0".repeat(40));
    expect_error(
        send(Some(&forged)).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "auth.invalid_key",
    )
    .await;
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let resp = send(Some(&format!("bearer {key}"))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(s.count().await, 1);
}

#[tokio::test]
async fn another_issuers_identity_is_forbidden() {
    let s = TestServer::start().await;
    let req = s.driving_request(CITIZEN, "SM2").await;
    // Shanghai's traffic police may issue driving licenses, but not as Beijing's.
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(s.key(sample::SHANGHAI_TRAFFIC_POLICE))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "auth.wrong_issuer").await;
    // An issuer not allowed to issue the type.
    let mut req = req.clone();
    req["issuer"] = json!(sample::BEIJING_SAMR);
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(s.key(sample::BEIJING_SAMR))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "catalogue.issuer_not_allowed").await;
    assert_eq!(s.count().await, 0);
}

async fn rejected(s: &TestServer, req: &Value) -> Value {
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(req)
        .send()
        .await
        .unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    body["error"]["code"].as_str().unwrap().to_string().into()
}

#[tokio::test]
async fn bad_data_is_400_with_the_core_code_and_nothing_is_stored() {
    let s = TestServer::start().await;
    let good = s.driving_request(CITIZEN, "SM2").await;

    let mut bad_id = good.clone();
    bad_id["holder_id"] = json!("110105194912310021"); // wrong check character
    assert_eq!(rejected(&s, &bad_id).await, "resident_id.bad_check");

    let mut missing = good.clone();
    missing["fields"]
        .as_object_mut()
        .unwrap()
        .remove("vehicle_class");
    assert_eq!(rejected(&s, &missing).await, "catalogue.field_required");

    let mut unknown = good.clone();
    unknown["fields"]["favourite_colour"] = json!("blue");
    assert_eq!(rejected(&s, &unknown).await, "catalogue.field_unknown");

    let mut bad_enum = good.clone();
    bad_enum["fields"]["vehicle_class"] = json!("Z9");
    assert_eq!(rejected(&s, &bad_enum).await, "catalogue.field_type");

    let mut no_name = good.clone();
    no_name["holder_name"] = json!("  ");
    assert_eq!(rejected(&s, &no_name).await, "holder.name_required");

    let mut bad_alg = good.clone();
    bad_alg["alg"] = json!("HS256");
    assert_eq!(rejected(&s, &bad_alg).await, "request.malformed");

    let mut bad_type = good.clone();
    bad_type["type_code"] = json!("not-a-type");
    assert_eq!(rejected(&s, &bad_type).await, "identifier.bad_type_code");

    assert_eq!(s.count().await, 0, "a rejected request stores nothing");
    // The next license gets a fresh identifier; nothing of the rejected ones is reachable.
    let issued = s.issue(&good).await;
    assert_eq!(s.count().await, 1);
    let id = issued["identifier"].as_str().unwrap();
    let resp = s
        .get(&format!("/api/v1/licenses/{id}/verification"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_type_is_404() {
    let s = TestServer::start().await;
    let mut req = s.driving_request(CITIZEN, "SM2").await;
    req["type_code"] = json!("11100000000000002Q099");
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "catalogue.unknown_type").await;
    assert_eq!(s.count().await, 0);
}

#[tokio::test]
async fn malformed_json_unsupported_media_type_and_oversized_bodies() {
    let s = TestServer::start().await;
    let key = s.key(sample::BEIJING_TRAFFIC_POLICE);
    let post = |ct: &'static str, body: Vec<u8>| {
        s.post("/api/v1/licenses")
            .bearer_auth(key)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    expect_error(
        post("application/json", b"{\"type_code\":".to_vec())
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "request.malformed",
    )
    .await;
    expect_error(
        post("application/json", b"[1,2,3]".to_vec()).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "request.malformed",
    )
    .await;
    expect_error(
        post("application/json", b"{}".to_vec()).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "request.malformed",
    )
    .await;
    expect_error(
        post("text/plain", b"{}".to_vec()).await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "request.unsupported_media_type",
    )
    .await;
    expect_error(
        post("application/x-www-form-urlencoded", b"a=b".to_vec())
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "request.unsupported_media_type",
    )
    .await;
    // A body over 256 KiB: a JSON string, so only its size is wrong.
    let mut big = s.driving_request(CITIZEN, "SM2").await;
    big["fields"]["address"] = json!("x".repeat(300 * 1024));
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(key)
        .json(&big)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "request.too_large").await;
    for (ct, body) in [
        ("application/json", big.to_string()),
        ("application/dc+sd-jwt", "a".repeat(300 * 1024)),
        ("text/plain", "a".repeat(257 * 1024)),
    ] {
        let resp = s
            .post("/api/v1/verifications")
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "request.too_large").await;
    }
    assert_eq!(s.count().await, 0);
}

#[tokio::test]
async fn full_view_is_for_the_issuing_authority_only() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let id = issued["identifier"].as_str().unwrap();
    let path = format!("/api/v1/licenses/{id}");

    let resp = s
        .get(&path)
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .send()
        .await
        .unwrap();
    let (status, view) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["identifier"], id);
    assert_eq!(view["version"], 1);
    assert_eq!(view["credential"], issued["credential"]);
    assert_eq!(view["status"]["code"], "valid");
    assert_eq!(view["status"]["list_value"], 0);
    assert_eq!(view["pledged"], false);
    assert_eq!(view["meta"]["holder"]["name"], CITIZEN.0, "{view}");
    let events = view["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{view}");
    assert_eq!(events[0]["kind"], "issue");
    assert_eq!(events[0]["identifier"], id);
    assert!(events[0]["actor"].as_str().unwrap().starts_with("api-key:"));

    let resp = s
        .get(&path)
        .bearer_auth(s.key(sample::SHANGHAI_TRAFFIC_POLICE))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "license.not_your_license").await;
    let resp = s.get(&path).send().await.unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.missing").await;
}

#[tokio::test]
async fn public_verification_by_identifier_has_no_personal_data() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let id = issued["identifier"].as_str().unwrap();
    let resp = s
        .get(&format!("/api/v1/licenses/{id}/verification"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(CITIZEN.0), "holder name leaked: {text}");
    assert!(!text.contains(CITIZEN.1), "holder id leaked: {text}");
    assert!(!text.contains(&CITIZEN.1[..17]), "holder id leaked: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["identifier"], id);
    assert_eq!(v["type_code"], sample::DRIVING_LICENSE);
    assert_eq!(v["issuer"], sample::BEIJING_TRAFFIC_POLICE);
    assert_eq!(v["status"]["code"], "valid");
    assert_eq!(v["status"]["label"], "有效");
    assert_eq!(v["status_list"], issued["status"]);
}

#[tokio::test]
async fn unknown_and_malformed_identifiers() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let id =
        elicense_core::ident::Identifier::parse(issued["identifier"].as_str().unwrap()).unwrap();
    let absent = id.with_version(999).unwrap().to_string();
    for path in [format!("/api/v1/licenses/{absent}/verification")] {
        expect_error(
            s.get(&path).send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "license.not_found",
        )
        .await;
    }
    let resp = s
        .get(&format!("/api/v1/licenses/{absent}"))
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "license.not_found").await;

    let text = id.to_string();
    let last = text.chars().last().unwrap();
    let wrong = if last == 'A' { 'B' } else { 'A' };
    let bad_check = format!("{}{wrong}", &text[..text.len() - 1]);
    expect_error(
        s.get(&format!("/api/v1/licenses/{bad_check}/verification"))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "identifier.bad_check",
    )
    .await;
    let resp = s
        .get(&format!("/api/v1/licenses/{bad_check}"))
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "identifier.bad_check").await;
    let resp = s
        .get("/api/v1/licenses/hello/verification")
        .send()
        .await
        .unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with("identifier."),
        "{body}"
    );
}

/// The API takes algorithms by their CLI names as well as their JWS names, and the issuer
/// defaults to the API key's own when the body leaves it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg_by_cli_name_and_issuer_from_the_key() {
    let s = TestServer::start().await;
    for (given, jws) in [
        ("sm2", "SM2"),
        ("ed25519", "EdDSA"),
        ("es256", "ES256"),
        ("EdDSA", "EdDSA"),
    ] {
        let mut req = s.driving_request(CITIZEN, given).await;
        req.as_object_mut().unwrap().remove("issuer");
        let resp = s
            .post("/api/v1/licenses")
            .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
            .json(&req)
            .send()
            .await
            .unwrap();
        let (status, body) = read(resp).await;
        assert_eq!(status, StatusCode::CREATED, "{given}: {body}");
        let verdict = s.verify(body["credential"].as_str().unwrap()).await;
        assert_eq!(verdict["alg"], jws, "{given}");
        assert_eq!(verdict["valid"], true);
    }
    let req = s.driving_request(CITIZEN, "rsa").await;
    let resp = s
        .post("/api/v1/licenses")
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;
    assert_eq!(s.count().await, 4);
}
