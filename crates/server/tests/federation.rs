//! Federation over HTTP: `GET /.well-known/elicense-node` of a standalone node and of a
//! county node, served on 127.0.0.1.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::{read, TestServer};
use elicense_app::federation::{Federation, FederationSettings};
use elicense_app::SystemClock;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

/// Checks a C2SP vkey for an Ed25519 cosigner (type 0x04) and returns its name and key.
fn check_witness_vkey(vkey: &str) -> (String, Vec<u8>) {
    // Base64 may hold `+`; the name and the hex key ID never do.
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{vkey}");
    let material = STANDARD.decode(parts[2]).unwrap();
    assert_eq!(material.len(), 33);
    assert_eq!(material[0], 0x04, "cosignature/v1 type byte");
    let mut h = Sha256::new();
    h.update(parts[0].as_bytes());
    h.update(b"\n");
    h.update(&material);
    assert_eq!(parts[1], hex::encode(&h.finalize()[..4]), "key ID");
    (parts[0].to_owned(), material[1..].to_vec())
}

#[tokio::test]
async fn a_standalone_node_publishes_its_keys_and_no_place() {
    let s = TestServer::start().await;
    let (status, doc) = read(s.get("/.well-known/elicense-node").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["url"], s.base.as_str());
    assert!(doc["area"].is_null() && doc["level"].is_null() && doc["parent"].is_null());
    let keys = doc["keys"]["keys"].as_array().expect("a JWKS");
    assert_eq!(keys.len(), 1);
    let jwk: elicense_crypto::Jwk = serde_json::from_value(keys[0].clone()).unwrap();
    assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("OKP", "Ed25519"));
    assert_eq!(jwk.kid.as_deref(), Some(jwk.thumbprint().as_str()));
    let (name, witness) = check_witness_vkey(doc["witness_key"].as_str().unwrap());
    assert_eq!(name, format!("{}/witness", s.addr));
    // Three distinct keys: request signing, witness, log.
    let node_key = elicense_crypto::b64::decode(&jwk.x).unwrap();
    assert_ne!(node_key, witness);
    let (_, log) = read(s.get("/.well-known/elicense-log").send().await.unwrap()).await;
    let log_ed = STANDARD
        .decode(
            log["verifier_keys"][0]
                .as_str()
                .unwrap()
                .splitn(3, '+')
                .nth(2)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(log_ed[0], 0x01);
    assert!(log_ed[1..] != node_key[..] && log_ed[1..] != witness[..]);
    // The same keys on every request.
    let (_, again) = read(s.get("/.well-known/elicense-node").send().await.unwrap()).await;
    assert_eq!(again, doc);
}

#[tokio::test]
async fn a_county_node_publishes_its_area_level_and_parent() {
    let s = TestServer::start_configured(Arc::new(SystemClock), |c| {
        c.federation = Federation::parse(
            &FederationSettings {
                area: Some("320102".into()),
                level: Some("county".into()),
                parent: Some("http://127.0.0.1:1/".into()),
            },
            &c.base_url,
        )
        .unwrap();
    })
    .await;
    let (status, doc) = read(s.get("/.well-known/elicense-node").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["area"], "320102");
    assert_eq!(doc["level"], "county");
    assert_eq!(doc["parent"], "http://127.0.0.1:1");
    check_witness_vkey(doc["witness_key"].as_str().unwrap());
}
