//! Issuer keys (encrypted at rest, published as JWKS, never in Debug output) and API keys.

mod common;

use std::sync::Arc;

use common::*;
use elicense_app::apikeys::{authenticate, create};
use elicense_app::issue::issue;
use elicense_app::{ErrorKind, Node, NodeConfig};
use elicense_crypto::Alg;
use elicense_store::ApiKeyRecord;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn generated_keys_are_encrypted_and_published() {
    let env = env().await;
    let issuer = "11220000000000011M";
    let before = env.node.keys.jwks(issuer).await.unwrap().keys.len();
    assert_eq!(before, 3, "seeding made one key per algorithm");
    let rec = env
        .node
        .keys
        .generate(issuer, Alg::Sm2, T0 + 10)
        .await
        .unwrap();
    assert!(
        rec.encrypted_pem
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{}",
        &rec.encrypted_pem[..40]
    );
    let stored = env.store.keys(issuer).await.unwrap();
    assert!(stored.iter().all(|k| k
        .encrypted_pem
        .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")));
    let jwks = env.node.keys.jwks(issuer).await.unwrap();
    assert_eq!(jwks.keys.len(), 4);
    let jwk = jwks.find(&rec.kid).expect("new key published");
    assert_eq!(jwk.crv, "SM2");
    let json = serde_json::to_value(&jwks).unwrap();
    for k in json["keys"].as_array().unwrap() {
        assert!(k.get("d").is_none(), "no private part in a JWK: {k}");
        assert!(k["kid"].is_string());
    }
    // The newest key signs.
    env.clock.advance(20);
    let mut req = request(BUSINESS, 0, Alg::Sm2);
    req.issuer = issuer.into();
    let issued = issue(&env.node, req).await.unwrap();
    let lic = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lic.kid, rec.kid);
}

#[tokio::test]
async fn a_node_with_another_key_password_cannot_sign() {
    let env = env().await;
    let other = Node::new(
        env.store.clone(),
        env.clock.clone(),
        NodeConfig::ephemeral(BASE_URL),
    );
    let count = env.store.count().await.unwrap();
    let e = issue(&other, request(BUSINESS, 0, Alg::Sm2))
        .await
        .unwrap_err();
    assert_eq!(e.code, "key.bad_password", "{e}");
    assert_eq!(env.store.count().await.unwrap(), count);
    // With the right password it can.
    let mut config = NodeConfig::ephemeral(BASE_URL);
    config.key_password = env.node.config.key_password.clone();
    let same = Node::new(env.store.clone(), env.clock.clone(), config);
    issue(&same, request(BUSINESS, 0, Alg::Sm2)).await.unwrap();
}

#[tokio::test]
async fn no_secret_in_debug_output() {
    let env = env().await;
    let config = &env.node.config;
    let text = format!("{config:?} {config:#?}");
    assert!(!text.contains(config.key_password.as_str()), "{text}");
    assert!(
        !text.contains(&hex::encode(&*config.holder_secret)),
        "{text}"
    );
    assert!(text.contains(BASE_URL));

    for rec in env.store.all_keys().await.unwrap() {
        let text = format!("{rec:?} {rec:#?}");
        let body = rec.encrypted_pem.lines().nth(1).expect("a PEM body line");
        assert!(!text.contains(body), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
    let pair = env.node.keys.signer(BJ_SAMR, Alg::Sm2, T0).await.unwrap();
    let text = format!("{pair:?}");
    let pem = pair.to_encrypted_pem(b"x", &mut rand::rngs::OsRng).unwrap();
    assert!(!text.contains(pem.lines().nth(1).unwrap()));
}

#[tokio::test]
async fn api_keys_authenticate_until_tampered_unknown_or_revoked() {
    let env = env().await;
    let (token, id) = create(&env.node, BJ_SAMR, "counter system").await.unwrap();
    assert!(token.starts_with(&format!("elk_{id}_")));
    let rec = authenticate(&env.node, &token).await.unwrap();
    assert_eq!(rec.issuer, BJ_SAMR);
    assert_eq!(rec.id, id);
    let stored = env.store.api_key(&id).await.unwrap().unwrap();
    assert!(
        !stored.hash.contains(&token[token.len() - 20..]),
        "only a hash is stored"
    );

    let mut bad: Vec<String> = Vec::new();
    // Tampered: last character changed.
    let mut t = token.clone();
    let last = t.pop().unwrap();
    t.push(if last == '0' { '1' } else { '0' });
    bad.push(t);
    bad.push(format!("{token}0"));
    bad.push(token[..token.len() - 1].to_string());
    bad.push(token.replace(&id, "000000000000"));
    bad.push(String::new());
    bad.push("elk_".into());
    bad.push("Bearer whatever".into());
    for t in &bad {
        let e = authenticate(&env.node, t).await.unwrap_err();
        assert_eq!(e.code, "auth.invalid_key", "{t:?}");
        assert_eq!(e.kind, ErrorKind::Unauthorized);
    }

    // A revoked key.
    let token2 = "elk_abcdefabcdef_00112233445566778899aabbccddeeff00112233";
    env.store
        .put_api_key(ApiKeyRecord {
            id: "abcdefabcdef".into(),
            hash: hex::encode(Sha256::digest(token2.as_bytes())),
            issuer: BJ_SAMR.into(),
            label: "old".into(),
            created_at: T0 - 100,
            revoked_at: Some(T0 - 1),
        })
        .await
        .unwrap();
    expect_code(authenticate(&env.node, token2).await, "auth.invalid_key");

    // Keys are only made for registered issuers.
    expect_code(
        create(&env.node, "91330000755918469E", "x").await,
        "issuer.unknown",
    );
    let _: Arc<Node> = env.node.clone();
}
