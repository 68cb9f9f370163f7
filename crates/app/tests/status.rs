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
    let b = issue_ok(&env, request(BUSINESS, 1, Alg::EdDSA)).await;
    assert_eq!(
        a.status.uri, b.status.uri,
        "same issuer and algorithm, same list"
    );

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

/// The JWS `alg` and `kid` of a status-list token.
fn signed_with(t: &SignedList) -> (Alg, String) {
    let (jws, _) = parse_token(&t.jwt).unwrap();
    (jws.header.alg, jws.header.kid.unwrap())
}

async fn act(env: &Env, issued: &Issued, action: Action) {
    apply(
        &env.node,
        &issued.identifier,
        ActionRequest::new(action, "c"),
    )
    .await
    .unwrap();
    env.node.status.invalidate();
}

async fn verdict(env: &Env, credential: &str) -> elicense_app::verify::Verdict {
    elicense_app::verify::verify(&env.node, credential, &Default::default())
        .await
        .unwrap()
}

/// An issuer with keys of all three algorithms: each credential's list is signed with the
/// credential's own algorithm (an ES256 verifier needs no SM2), and each list shows its own
/// licenses' changes.
#[tokio::test]
async fn each_credential_list_is_signed_with_the_credentials_algorithm() {
    let env = env().await;
    let es = issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let ed = issue_ok(&env, request(BUSINESS, 1, Alg::EdDSA)).await;
    let sm = issue_ok(&env, request(BUSINESS, 2, Alg::Sm2)).await;
    let uris = [&es.status.uri, &ed.status.uri, &sm.status.uri];
    assert!(
        uris[0] != uris[1] && uris[1] != uris[2] && uris[0] != uris[2],
        "one list per algorithm: {uris:?}"
    );
    let jwks = env.node.keys.jwks(BJ_SAMR).await.unwrap();
    for (issued, alg) in [(&es, Alg::Es256), (&ed, Alg::EdDSA), (&sm, Alg::Sm2)] {
        let t = token(&env, issued).await;
        let (signed, kid) = signed_with(&t);
        assert_eq!(signed, alg, "{}", issued.status.uri);
        assert_eq!(jwks.find(&kid).unwrap().alg().unwrap(), alg);
        assert_eq!(
            value_in_token(&env, &t, BJ_SAMR, &issued.status.uri, issued.status.idx).await,
            0
        );
    }
    // The index names each list's algorithm.
    let lists = env.node.status.lists().await.unwrap();
    for (issued, alg) in [(&es, Alg::Es256), (&ed, Alg::EdDSA), (&sm, Alg::Sm2)] {
        let id = env.node.status.list_id(&issued.status.uri).unwrap();
        let l = lists.iter().find(|l| l.id == id).unwrap();
        assert_eq!((l.issuer.as_str(), l.alg), (BJ_SAMR, Some(alg)));
    }
    // An ES256 credential of the issuer of another type joins the same ES256 list.
    let es2 = issue_ok(&env, request(FOOD, 0, Alg::Es256)).await;
    assert_eq!(es2.identifier.issuer().as_str(), BJ_SAMR);
    assert_eq!(es2.status.uri, es.status.uri);

    // Revoke the ES256 one, suspend the EdDSA one: each list says so, in its own algorithm.
    act(&env, &es, Action::Revoke).await;
    act(&env, &ed, Action::Suspend).await;
    for (issued, alg, value) in [
        (&es, Alg::Es256, 1),
        (&ed, Alg::EdDSA, 2),
        (&sm, Alg::Sm2, 0),
    ] {
        let t = token(&env, issued).await;
        assert_eq!(signed_with(&t).0, alg);
        assert_eq!(
            value_in_token(&env, &t, BJ_SAMR, &issued.status.uri, issued.status.idx).await,
            value
        );
    }
    assert!(verdict(&env, &sm.credential).await.valid);
    for (issued, code) in [(&es, "status.invalid"), (&ed, "status.suspended")] {
        let v = verdict(&env, &issued.credential).await;
        assert!(!v.valid);
        let codes: Vec<_> = v.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, [code]);
    }
    act(&env, &sm, Action::Revoke).await;
    let t = token(&env, &sm).await;
    assert_eq!(signed_with(&t).0, Alg::Sm2);
    assert_eq!(
        value_in_token(&env, &t, BJ_SAMR, &sm.status.uri, sm.status.idx).await,
        1
    );
}

/// A changed version keeps the algorithm it is signed with, and so lands in that
/// algorithm's list.
#[tokio::test]
async fn a_changed_version_takes_a_slot_of_its_algorithm() {
    let env = env().await;
    let ed = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let mut req = ActionRequest::new(Action::Change, "c");
    req.fields = fields(&[("address", "北京市西城区金融大街7号")]);
    let out = apply(&env.node, &ed.identifier, req).await.unwrap();
    let next = out.successor.expect("a change makes the next version");
    let rec = env
        .store
        .license(next.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.alg, "ed25519");
    let lists = env.node.status.lists().await.unwrap();
    let l = lists.iter().find(|l| l.id == rec.status_list).unwrap();
    assert_eq!(l.alg, Some(Alg::EdDSA));
}

/// A key rotation within the algorithm goes on signing the list with the new key; with no key
/// of the algorithm left the list is not signed with another algorithm
/// (`status_list.no_key`), and no credential of that algorithm is issued (`issuer.no_key`).
#[tokio::test]
async fn a_list_is_signed_only_by_a_key_of_its_algorithm() {
    let env = env().await;
    let es = issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let (_, old_kid) = signed_with(&token(&env, &es).await);
    let cli = elicense_core::OperatorActor::Cli;

    // Rotation: a new ES256 key, the old one retired.
    let new = env
        .node
        .keys
        .generate(BJ_SAMR, Alg::Es256, T0)
        .await
        .unwrap();
    elicense_app::operator::retire_key(&env.node, &cli, &old_kid)
        .await
        .unwrap();
    env.clock.advance(2);
    act(&env, &es, Action::Suspend).await;
    let t = token(&env, &es).await;
    assert_eq!(signed_with(&t), (Alg::Es256, new.kid.clone()));
    assert_eq!(
        value_in_token(&env, &t, BJ_SAMR, &es.status.uri, es.status.idx).await,
        2
    );
    // The credential signed by the retired key still verifies (and is suspended).
    let v = verdict(&env, &es.credential).await;
    let codes: Vec<_> = v.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["status.suspended"]);

    // Retire the last ES256 key: the list changes, and no other algorithm signs it.
    elicense_app::operator::retire_key(&env.node, &cli, &new.kid)
        .await
        .unwrap();
    env.clock.advance(2);
    act(&env, &es, Action::Reinstate).await;
    let list = env.node.status.list_id(&es.status.uri).unwrap();
    let e = env
        .node
        .status
        .token(list, env.node.now())
        .await
        .expect_err("no key of the list's algorithm");
    assert_eq!(e.code, "status_list.no_key");
    let lists_before = env.store.lists().await.unwrap();
    expect_code(
        elicense_app::issue::issue(&env.node, request(BUSINESS, 1, Alg::Es256)).await,
        "issuer.no_key",
    );
    assert_eq!(
        env.store.lists().await.unwrap(),
        lists_before,
        "no list made"
    );
    // Its status is still read by this node's own verification.
    assert!(verdict(&env, &es.credential).await.valid);
}

/// A list made before lists had an algorithm (none recorded) is still served, signed as it
/// was (SM2 when the issuer has it), and its credentials of any algorithm still verify and
/// show their changes; new credentials go to lists of their own algorithm.
#[tokio::test]
async fn an_old_list_without_algorithm_is_still_served_and_verified() {
    let env = env().await;
    let es = issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let ed = issue_ok(&env, request(BUSINESS, 1, Alg::EdDSA)).await;
    {
        // As the lists were before: one list per issuer, no algorithm recorded.
        let c = rusqlite::Connection::open(env.dir.path().join("elicense.db")).unwrap();
        let es_list = env.node.status.list_id(&es.status.uri).unwrap();
        let ed_list = env.node.status.list_id(&ed.status.uri).unwrap();
        c.execute_batch(&format!(
            "UPDATE status_lists SET alg = NULL WHERE id IN ({es_list}, {ed_list});"
        ))
        .unwrap();
    }
    // A fresh node on the store (as after an upgrade).
    let mut config = elicense_app::NodeConfig::ephemeral(BASE_URL);
    config.key_password = env.node.config.key_password.clone();
    let node = elicense_app::Node::new(env.store.clone(), env.clock.clone(), config);
    let env = Env { node, ..env };
    let lists = env.node.status.lists().await.unwrap();
    assert!(lists.iter().all(|l| l.alg.is_none()), "{lists:?}");
    for issued in [&es, &ed] {
        let t = token(&env, issued).await;
        assert_eq!(signed_with(&t).0, Alg::Sm2, "signed as before");
        assert_eq!(
            value_in_token(&env, &t, BJ_SAMR, &issued.status.uri, issued.status.idx).await,
            0
        );
        assert!(verdict(&env, &issued.credential).await.valid);
    }
    act(&env, &es, Action::Revoke).await;
    let t = token(&env, &es).await;
    assert_eq!(
        value_in_token(&env, &t, BJ_SAMR, &es.status.uri, es.status.idx).await,
        1
    );
    assert!(!verdict(&env, &es.credential).await.valid);
    assert!(verdict(&env, &ed.credential).await.valid);
    // New ES256 credentials get a list of their algorithm, not the old one.
    let next = issue_ok(&env, request(BUSINESS, 2, Alg::Es256)).await;
    assert_ne!(next.status.uri, es.status.uri);
    assert_eq!(signed_with(&token(&env, &next).await).0, Alg::Es256);
}
