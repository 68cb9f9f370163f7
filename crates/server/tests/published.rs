//! What the node publishes: status lists, issuer metadata (checked with an independent JWS
//! implementation), catalogue, issuers, health and metrics.

mod common;

use common::{expect_error, read, TestServer};
use elicense_core::sample;
use elicense_crypto::b64;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn status_list_is_a_cacheable_token() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("SM2").await;
    let uri = issued["status"]["uri"].as_str().unwrap();
    let resp = s.client.get(uri).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h.get("content-type").unwrap(), "application/statuslist+jwt");
    let etag = h
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(h.get("cache-control").is_some());
    let jwt = resp.text().await.unwrap();
    let (parsed, list) = elicense_crypto::status_list::parse_token(&jwt).unwrap();
    assert_eq!(parsed.payload["sub"], uri);
    assert_eq!(
        list.get(issued["status"]["idx"].as_u64().unwrap() as usize),
        Some(0)
    );

    // Conditional GET.
    let resp = s
        .client
        .get(uri)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(resp.headers().get("etag").unwrap().to_str().unwrap(), etag);
    assert!(resp.bytes().await.unwrap().is_empty());
    // A list of ETags, and the weak form, match too (RFC 9110 §13.1.2).
    let resp = s
        .client
        .get(uri)
        .header("if-none-match", format!("\"x\", W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let resp = s
        .client
        .get(uri)
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let resp = s
        .client
        .get(uri)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.text().await.unwrap(),
        jwt,
        "an unchanged list is not re-signed"
    );

    // A change gives a new ETag.
    let id = issued["identifier"].as_str().unwrap();
    let resp = s
        .post(&format!("/api/v1/licenses/{id}/actions"))
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&serde_json::json!({"action": "revoke"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = s
        .client
        .get(uri)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(resp.headers().get("etag").unwrap().to_str().unwrap(), etag);
}

#[tokio::test]
async fn unknown_status_list_is_a_json_404() {
    let s = TestServer::start().await;
    s.issue_driving("SM2").await;
    expect_error(
        s.get("/status-lists/4242").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "status_list.not_found",
    )
    .await;
    expect_error(
        s.get("/status-lists/abc").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "status_list.not_found",
    )
    .await;
    expect_error(
        s.get("/status-lists/-1").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "status_list.not_found",
    )
    .await;
}

fn jwt_header(credential: &str) -> Value {
    serde_json::from_slice(&b64::decode(credential.split('.').next().unwrap()).unwrap()).unwrap()
}

fn payload(credential: &str) -> Value {
    serde_json::from_slice(&b64::decode(credential.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

fn assert_coordinate(v: &Value) {
    let bytes = b64::decode(v.as_str().expect("a coordinate string")).expect("base64url");
    assert_eq!(bytes.len(), 32, "{v}");
}

#[tokio::test]
async fn issuer_metadata_publishes_keys_that_verify_credentials() {
    let s = TestServer::start().await;
    let uscc = sample::BEIJING_TRAFFIC_POLICE;
    let (status, meta) = read(
        s.get(&format!("/.well-known/jwt-vc-issuer/issuers/{uscc}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    let keys = meta["jwks"]["keys"].as_array().unwrap();
    let sm2 = keys.iter().find(|k| k["crv"] == "SM2").expect("an SM2 key");
    assert_eq!(sm2["kty"], "EC");
    assert_coordinate(&sm2["x"]);
    assert_coordinate(&sm2["y"]);
    assert!(sm2.get("d").is_none());
    let ed = keys
        .iter()
        .find(|k| k["crv"] == "Ed25519")
        .expect("an Ed25519 key");
    assert_eq!(ed["kty"], "OKP");
    assert_coordinate(&ed["x"]);
    let p256 = keys
        .iter()
        .find(|k| k["crv"] == "P-256")
        .expect("a P-256 key");
    assert_eq!(p256["kty"], "EC");
    assert_coordinate(&p256["x"]);
    assert_coordinate(&p256["y"]);
    for k in keys {
        assert!(k.get("d").is_none(), "private member published: {k}");
        assert!(k["kid"].is_string());
    }

    for (alg, jwt_alg) in [
        ("SM2", None),
        ("EdDSA", Some(Algorithm::EdDSA)),
        ("ES256", Some(Algorithm::ES256)),
    ] {
        let issued = s.issue_driving(alg).await;
        let credential = issued["credential"].as_str().unwrap();
        let issuer_jwt = credential.split('~').next().unwrap();
        assert_eq!(payload(issuer_jwt)["iss"], meta["issuer"]);
        let kid = jwt_header(issuer_jwt)["kid"].clone();
        let jwk = keys
            .iter()
            .find(|k| k["kid"] == kid)
            .expect("the credential's key is published");
        let Some(jwt_alg) = jwt_alg else {
            assert_eq!(jwk["crv"], "SM2");
            continue;
        };
        // An independent JWS implementation accepts the signature with the published key.
        let key = match jwt_alg {
            Algorithm::EdDSA => {
                DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap()
            }
            _ => DecodingKey::from_ec_components(
                jwk["x"].as_str().unwrap(),
                jwk["y"].as_str().unwrap(),
            )
            .unwrap(),
        };
        let mut v = Validation::new(jwt_alg);
        v.required_spec_claims.clear();
        v.validate_aud = false;
        let data = jsonwebtoken::decode::<Value>(issuer_jwt, &key, &v)
            .expect("the credential verifies with jsonwebtoken");
        assert_eq!(data.claims["iss"], meta["issuer"]);
        // And refuses a tampered one.
        let (head, rest) = issuer_jwt.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let mut p = payload(issuer_jwt);
        p["iat"] = Value::from(0);
        let forged = format!("{head}.{}.{sig}", b64::encode(p.to_string().as_bytes()));
        assert!(jsonwebtoken::decode::<Value>(&forged, &key, &v).is_err());
    }

    // The node-wide document lists every issuer with the same metadata.
    let (status, all) = read(s.get("/.well-known/jwt-vc-issuer").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["node"], s.base);
    let issuers = all["issuers"].as_array().unwrap();
    assert_eq!(issuers.len(), 6, "{all}");
    let ours = issuers
        .iter()
        .find(|i| i["issuer"] == meta["issuer"])
        .expect("the issuer is listed");
    assert_eq!(ours["jwks"], meta["jwks"]);

    expect_error(
        s.get("/.well-known/jwt-vc-issuer/issuers/91110000000000000X")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "issuer.unknown",
    )
    .await;
}

#[tokio::test]
async fn health_and_metrics() {
    let s = TestServer::start().await;
    let (status, body) = read(s.get("/healthz").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let issued = s.issue_driving("SM2").await;
    s.verify(issued["credential"].as_str().unwrap()).await;
    let resp = s.get("/metrics").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(text.contains("elicense_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/verifications\""), "{text}");
    assert!(text.contains("elicense_verifications_total"), "{text}");
    assert!(text.contains("elicense_licenses_issued_total"), "{text}");
}

#[tokio::test]
async fn catalogue_and_issuers() {
    let s = TestServer::start().await;
    let (status, list) = read(s.get("/api/v1/catalogue").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let types = list.as_array().unwrap();
    let codes: Vec<&str> = types.iter().map(|t| t["code"].as_str().unwrap()).collect();
    for code in [
        sample::BUSINESS_LICENSE,
        sample::FOOD_BUSINESS_LICENSE,
        sample::RESIDENT_ID_CARD,
        sample::DRIVING_LICENSE,
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    for t in types {
        assert!(t["name"].is_string() && t["version"].is_u64(), "{t}");
        assert!(!t["issuers"].as_array().unwrap().is_empty(), "{t}");
        let items = t["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{t}");
        for item in items {
            for k in ["name", "label", "type", "required"] {
                assert!(item.get(k).is_some(), "{k} missing in {item}");
            }
            assert!(
                !item["example"].as_str().unwrap().is_empty(),
                "item without example: {item}"
            );
        }
    }

    let (status, one) = read(
        s.get(&format!("/api/v1/catalogue/{}", sample::DRIVING_LICENSE))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        &one,
        types
            .iter()
            .find(|t| t["code"] == sample::DRIVING_LICENSE)
            .unwrap()
    );
    let (status, v1) = read(
        s.get(&format!(
            "/api/v1/catalogue/{}?version=1",
            sample::DRIVING_LICENSE
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v1["version"], 1);
    expect_error(
        s.get(&format!(
            "/api/v1/catalogue/{}?version=7",
            sample::DRIVING_LICENSE
        ))
        .send()
        .await
        .unwrap(),
        StatusCode::NOT_FOUND,
        "catalogue.unknown_type",
    )
    .await;
    expect_error(
        s.get(&format!(
            "/api/v1/catalogue/{}?version=x",
            sample::DRIVING_LICENSE
        ))
        .send()
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
        "request.malformed",
    )
    .await;
    expect_error(
        s.get("/api/v1/catalogue/11100000000000002Q099")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "catalogue.unknown_type",
    )
    .await;
    let (status, bad) = read(s.get("/api/v1/catalogue/hello").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert!(
        bad["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with("identifier."),
        "{bad}"
    );

    let (status, issuers) = read(s.get("/api/v1/issuers").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let issuers = issuers.as_array().unwrap();
    assert_eq!(issuers.len(), 6);
    let bj = issuers
        .iter()
        .find(|i| i["code"] == sample::BEIJING_TRAFFIC_POLICE)
        .unwrap();
    assert_eq!(
        bj["issuer"],
        format!("{}/issuers/{}", s.base, sample::BEIJING_TRAFFIC_POLICE)
    );
    assert_eq!(bj["area"], "110000");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let s = TestServer::start().await;
    expect_error(
        s.get("/no/such/thing").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "route.not_found",
    )
    .await;
    expect_error(
        s.client.delete(s.url("/healthz")).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "route.method_not_allowed",
    )
    .await;
}
