//! `POST /api/v1/verifications` against a real server.

mod common;

use common::{expect_error, problem_codes, read, TestServer, CITIZEN};
use elicense_crypto::b64;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Replaces the issuer JWT's payload by `edit(payload)`, keeping header and signature.
fn tamper(credential: &str, edit: impl FnOnce(&mut Value)) -> String {
    let (jwt, rest) = credential.split_once('~').unwrap();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
    let mut payload: Value = serde_json::from_slice(&b64::decode(&parts[1]).unwrap()).unwrap();
    edit(&mut payload);
    parts[1] = b64::encode(payload.to_string().as_bytes());
    format!("{}~{rest}", parts.join("."))
}

/// Replaces the issuer JWT's header.
fn with_header(credential: &str, header: Value, signature: &str) -> String {
    let (jwt, rest) = credential.split_once('~').unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    format!(
        "{}.{payload}.{signature}~{rest}",
        b64::encode(header.to_string().as_bytes())
    )
}

#[tokio::test]
async fn a_fresh_credential_is_valid_in_every_body_form() {
    let s = TestServer::start().await;
    for alg in ["SM2", "EdDSA", "ES256"] {
        let issued = s.issue_driving(alg).await;
        let credential = issued["credential"].as_str().unwrap();
        let id = issued["identifier"].as_str().unwrap();
        for ct in [
            "application/dc+sd-jwt",
            "application/sd-jwt",
            "text/plain",
            "text/plain; charset=utf-8",
        ] {
            let resp = s
                .post("/api/v1/verifications")
                .header("content-type", ct)
                .body(format!("{credential}\n"))
                .send()
                .await
                .unwrap();
            let (status, v) = read(resp).await;
            assert_eq!(status, StatusCode::OK, "{ct}: {v}");
            assert_eq!(v["valid"], true, "{ct}: {v}");
            assert_eq!(v["problems"], json!([]));
            assert_eq!(v["identifier"], id);
            assert_eq!(v["alg"], alg);
            assert_eq!(v["status"]["code"], "valid");
            assert_eq!(v["claims"]["holder_name"], CITIZEN.0);
            assert_eq!(v["claims"]["holder_id"], CITIZEN.1);
            assert_eq!(
                v["claims"]["iss"],
                format!(
                    "{}/issuers/{}",
                    s.base,
                    elicense_core::sample::BEIJING_TRAFFIC_POLICE
                )
            );
            assert_eq!(v["key_binding"], false);
        }
        // JSON form without holder-binding options.
        let resp = s
            .post("/api/v1/verifications")
            .json(&json!({ "credential": credential }))
            .send()
            .await
            .unwrap();
        let (status, v) = read(resp).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["valid"], true, "{v}");
    }
}

#[tokio::test]
async fn json_form_with_nonce_and_audience_requires_key_binding() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let credential = issued["credential"].as_str().unwrap();
    let resp = s
        .post("/api/v1/verifications")
        .json(&json!({ "credential": credential, "nonce": "n-0S6_WzA2Mj", "audience": "https://verifier.example" }))
        .send()
        .await
        .unwrap();
    let (status, v) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["valid"], false, "{v}");
    let codes = problem_codes(&v);
    assert!(codes.iter().any(|c| c.starts_with("kb.")), "{codes:?}");
    // The credential itself is fine: its status is still reported.
    assert_eq!(v["status"]["code"], "valid");
}

#[tokio::test]
async fn a_tampered_credential_is_a_verdict_not_an_error() {
    let s = TestServer::start().await;
    for alg in ["SM2", "EdDSA", "ES256"] {
        let issued = s.issue_driving(alg).await;
        let credential = issued["credential"].as_str().unwrap();
        let forged = tamper(credential, |p| {
            p["exp"] = json!(p["exp"].as_i64().unwrap() + 10 * 365 * 86400)
        });
        let v = s.verify(&forged).await;
        assert_eq!(v["valid"], false, "{v}");
        assert!(
            problem_codes(&v).contains(&"signature.invalid".to_string()),
            "{v}"
        );

        // A flipped signature byte.
        let (jwt, rest) = credential.split_once('~').unwrap();
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let mut raw = b64::decode(sig).unwrap();
        raw[10] ^= 1;
        let v = s
            .verify(&format!("{signed}.{}~{rest}", b64::encode(&raw)))
            .await;
        assert_eq!(v["valid"], false, "{v}");
        assert!(
            problem_codes(&v).contains(&"signature.invalid".to_string()),
            "{v}"
        );
    }
}

#[tokio::test]
async fn malformed_credentials_are_400_with_stable_codes() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let credential = issued["credential"].as_str().unwrap();
    let jwt = credential.split('~').next().unwrap();
    let post = |body: String| {
        s.post("/api/v1/verifications")
            .header("content-type", "application/dc+sd-jwt")
            .body(body)
            .send()
    };

    let cases: Vec<(&str, String)> = vec![
        ("truncated", credential[..credential.len() / 3].to_string()),
        ("truncated jwt", jwt[..jwt.len() - 20].to_string()),
        ("garbage", "hello world".to_string()),
        ("empty", String::new()),
        ("dots", "...~".to_string()),
        ("bad disclosure", format!("{jwt}~!!!~")),
        ("json garbage", "{\"a\":1}".to_string()),
    ];
    for (what, body) in cases {
        let resp = post(body).await.unwrap();
        let (status, v) = read(resp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {v}");
        let code = v["error"]["code"].as_str().unwrap();
        assert!(
            code.starts_with("sdjwt.") || code.starts_with("jws."),
            "{what}: {v}"
        );
    }
    // Not UTF-8.
    let resp = s
        .post("/api/v1/verifications")
        .header("content-type", "text/plain")
        .body(vec![0xff, 0xfe, 0x00])
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;
    // JSON form without a credential, or not JSON at all.
    let resp = s
        .post("/api/v1/verifications")
        .json(&json!({ "nonce": "x" }))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;
    let resp = s
        .post("/api/v1/verifications")
        .header("content-type", "application/json")
        .body("{\"credential\":")
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;
}

#[tokio::test]
async fn alg_none_and_hmac_are_refused() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let credential = issued["credential"].as_str().unwrap();
    let kid = {
        let h: Value =
            serde_json::from_slice(&b64::decode(credential.split('.').next().unwrap()).unwrap())
                .unwrap();
        h["kid"].clone()
    };
    for (alg, sig) in [
        ("none", String::new()),
        ("HS256", b64::encode(&[7u8; 32])),
        ("RS256", b64::encode(&[7u8; 256])),
    ] {
        let forged = with_header(
            credential,
            json!({ "alg": alg, "typ": "dc+sd-jwt", "kid": kid }),
            &sig,
        );
        let resp = s
            .post("/api/v1/verifications")
            .header("content-type", "application/dc+sd-jwt")
            .body(forged)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, "jws.unsupported_alg").await;
    }
}

#[tokio::test]
async fn an_unknown_key_is_a_verdict() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let credential = issued["credential"].as_str().unwrap();
    let forged = with_header(
        credential,
        json!({ "alg": "SM2", "typ": "dc+sd-jwt", "kid": "no-such-key" }),
        credential
            .split('~')
            .next()
            .unwrap()
            .rsplit('.')
            .next()
            .unwrap(),
    );
    let v = s.verify(&forged).await;
    assert_eq!(v["valid"], false);
    assert_eq!(problem_codes(&v), vec!["issuer.unknown_key".to_string()]);
}

#[tokio::test]
async fn verification_carries_selective_disclosure() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("EdDSA").await;
    let credential = issued["credential"].as_str().unwrap();
    // Drop every disclosure: the credential is still valid, with no holder data.
    let jwt = credential.split('~').next().unwrap();
    let v = s.verify(&format!("{jwt}~")).await;
    assert_eq!(v["valid"], true, "{v}");
    assert!(v["claims"].get("holder_name").is_none(), "{v}");
    assert!(v["claims"].get("holder_id").is_none(), "{v}");
    assert!(v["claims"].get("iss").is_some(), "{v}");
}
