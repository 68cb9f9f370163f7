//! Status lists: cache freshness, signed tokens that decode to the stored statuses, verify
//! with the issuer's published key, and are re-signed only when their content changed.

mod common;

use common::*;
use elicense_app::issue::Issued;
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::status::{SignedList, BITS, CHECK_INTERVAL};
use elicense_core::lifecycle::Action;
use elicense_crypto::status_list::parse_token;
use elicense_crypto::Alg;
use serde_json::json;

async fn token(env: &Env, issued: &Issued) -> SignedList {
    let list = env.node.status.list_id(&issued.status.uri).unwrap();
    env.node
        .status
        .token(list, env.node.now())
        .await
        .unwrap()
        .expect("a known list")
}

/// Decodes a token, checks its signature with the issuer's JWKS, returns the value at `idx`.
async fn value_in_token(env: &Env, signed: &SignedList, issuer: &str, uri: &str, idx: u32) -> u8 {
    let (jws, list) = parse_token(&signed.jwt).expect("a statuslist+jwt");
    assert_eq!(jws.header.typ.as_deref(), Some("statuslist+jwt"));
    assert_eq!(jws.payload["sub"], json!(uri));
    assert_eq!(jws.payload["status_list"]["bits"], json!(BITS));
    let kid = jws.header.kid.clone().expect("kid");
    let jwks = env.node.keys.jwks(issuer).await.unwrap();
    let jwk = jwks
        .find(&kid)
        .expect("the signing key is in the issuer's JWKS");
    jws.verify_with(jwk.verifier(None).unwrap().as_ref())
        .expect("token signature verifies with the published key");
    list.get(idx as usize).expect("idx inside the list")
}

#[tokio::test]
async fn token_reflects_each_status_and_is_resigned_only_on_change() {
    let env = env().await;
    let a = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let b = issue_ok(&env, request(BUSINESS, 1, Alg::Es256)).await;
    assert_eq!(a.status.uri, b.status.uri, "same issuer, same list");

    let t0 = token(&env, &a).await;
    assert_eq!(
        value_in_token(&env, &t0, BJ_SAMR, &a.status.uri, a.status.idx).await,
        0
    );
    assert_eq!(
        value_in_token(&env, &t0, BJ_SAMR, &b.status.uri, b.status.idx).await,
        0
    );
    // Nothing changed: the same token, even a little later.
    env.clock.advance(30);
    let again = token(&env, &a).await;
    assert_eq!(again.etag, t0.etag);
    assert_eq!(again.jwt, t0.jwt);

    // Suspend a: the list changes, the token is re-signed.
    apply(
        &env.node,
        &a.identifier,
        ActionRequest::new(Action::Suspend, "c"),
    )
    .await
    .unwrap();
    env.node.status.rebuild_if_moved().await.unwrap();
    let list = env.node.status.list_id(&a.status.uri).unwrap();
    assert_eq!(
        env.node.status.value(list, a.status.idx).await.unwrap(),
        Some(2)
    );
    let t1 = token(&env, &a).await;
    assert_ne!(t1.etag, t0.etag);
    assert_eq!(
        value_in_token(&env, &t1, BJ_SAMR, &a.status.uri, a.status.idx).await,
        2
    );
    assert_eq!(
        value_in_token(&env, &t1, BJ_SAMR, &b.status.uri, b.status.idx).await,
        0
    );

    // An event that changes no status (annual inspection of b) moves the epoch but keeps the token.
    apply(
        &env.node,
        &b.identifier,
        ActionRequest::new(Action::AnnualInspection, "c"),
    )
    .await
    .unwrap();
    env.node.status.rebuild_if_moved().await.unwrap();
    let t2 = token(&env, &a).await;
    assert_eq!(t2.etag, t1.etag);

    // Revoke b: value 1.
    apply(
        &env.node,
        &b.identifier,
        ActionRequest::new(Action::Revoke, "c"),
    )
    .await
    .unwrap();
    env.node.status.rebuild_if_moved().await.unwrap();
    let t3 = token(&env, &b).await;
    assert_ne!(t3.etag, t2.etag);
    assert_eq!(
        value_in_token(&env, &t3, BJ_SAMR, &b.status.uri, b.status.idx).await,
        1
    );
    assert_eq!(
        value_in_token(&env, &t3, BJ_SAMR, &a.status.uri, a.status.idx).await,
        2
    );

    // Reinstate a: back to 0.
    apply(
        &env.node,
        &a.identifier,
        ActionRequest::new(Action::Reinstate, "c"),
    )
    .await
    .unwrap();
    env.node.status.rebuild_if_moved().await.unwrap();
    let t4 = token(&env, &a).await;
    assert_eq!(
        value_in_token(&env, &t4, BJ_SAMR, &a.status.uri, a.status.idx).await,
        0
    );
}

#[tokio::test]
async fn each_issuer_has_its_own_list_signed_by_its_key() {
    let env = env().await;
    let biz = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let drv = issue_ok(&env, request(DRIVING, 0, Alg::EdDSA)).await;
    assert_ne!(biz.status.uri, drv.status.uri);
    let t = token(&env, &drv).await;
    assert_eq!(
        value_in_token(&env, &t, BJ_TRAFFIC, &drv.status.uri, drv.status.idx).await,
        0
    );
    // Not signed by the other issuer's keys.
    let (jws, _) = parse_token(&t.jwt).unwrap();
    let other = env.node.keys.jwks(BJ_SAMR).await.unwrap();
    assert!(other.find(jws.header.kid.as_deref().unwrap()).is_none());
}

#[tokio::test]
async fn unknown_list_has_no_token() {
    let env = env().await;
    issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    assert!(env.node.status.token(999, T0).await.unwrap().is_none());
    assert_eq!(env.node.status.value(999, 0).await.unwrap(), None);
    assert_eq!(
        env.node
            .status
            .list_id("https://elsewhere.example/status-lists/1"),
        None
    );
}

/// A status change made by another process (another `Node` on the same store) is seen
/// within `CHECK_INTERVAL`, without any explicit refresh.
#[tokio::test]
async fn changes_by_another_process_are_seen_within_the_check_interval() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let list = env.node.status.list_id(&issued.status.uri).unwrap();
    assert_eq!(
        env.node
            .status
            .value(list, issued.status.idx)
            .await
            .unwrap(),
        Some(0)
    );

    let mut config = elicense_app::NodeConfig::ephemeral(BASE_URL);
    config.key_password = env.node.config.key_password.clone();
    let other = elicense_app::Node::new(env.store.clone(), env.clock.clone(), config);
    apply(
        &other,
        &issued.identifier,
        ActionRequest::new(Action::Suspend, "c"),
    )
    .await
    .unwrap();

    tokio::time::sleep(CHECK_INTERVAL + std::time::Duration::from_millis(50)).await;
    assert_eq!(
        env.node
            .status
            .value(list, issued.status.idx)
            .await
            .unwrap(),
        Some(2)
    );
}

/// A license issued by another process in a list this node has not seen yet is found at once.
#[tokio::test]
async fn a_new_list_from_another_process_is_found() {
    let env = env().await;
    let biz = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let list = env.node.status.list_id(&biz.status.uri).unwrap();
    assert_eq!(
        env.node.status.value(list, biz.status.idx).await.unwrap(),
        Some(0)
    );

    let mut config = elicense_app::NodeConfig::ephemeral(BASE_URL);
    config.key_password = env.node.config.key_password.clone();
    let other = elicense_app::Node::new(env.store.clone(), env.clock.clone(), config);
    let drv = elicense_app::issue::issue(&other, request(DRIVING, 0, Alg::EdDSA))
        .await
        .unwrap();
    let v = elicense_app::verify::verify(&env.node, &drv.credential, &Default::default())
        .await
        .unwrap();
    assert!(v.valid, "{:?}", v.problems);
}
