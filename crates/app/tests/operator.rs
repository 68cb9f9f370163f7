//! The region operator's switches on a real SQLite node (issue 16, finding 8): API keys
//! revoked, institutions disabled (and staying so when registered again), issuer keys retired
//! (old credentials verify) or revoked since a time (later credentials invalid), each a
//! logged operator event; bad input changes nothing.

mod common;

use common::*;
use elicense_app::apikeys;
use elicense_app::institutions::{self, NewInstitution};
use elicense_app::issue::issue;
use elicense_app::operator::{self, Since};
use elicense_app::verify::Verdict;
use elicense_app::verify::{verify, VerifyOptions};
use elicense_core::{OperatorAction, OperatorActor};
use elicense_crypto::Alg;
use elicense_store::LogEntry;

const CLI: OperatorActor = OperatorActor::Cli;
const BANK: &str = "91110105MA01B2C3DL";

async fn verdict(env: &Env, credential: &str) -> Verdict {
    verify(&env.node, credential, &VerifyOptions::default())
        .await
        .unwrap()
}

fn codes(v: &Verdict) -> Vec<&str> {
    v.problems.iter().map(|p| p.code.as_str()).collect()
}

async fn kid_of(env: &Env, identifier: &elicense_core::Identifier) -> String {
    env.store
        .license(identifier.as_str())
        .await
        .unwrap()
        .unwrap()
        .kid
}

/// Whether the issuer's JWKS offers the key `kid`.
async fn published(env: &Env, issuer: &str, kid: &str) -> bool {
    env.node
        .keys
        .jwks(issuer)
        .await
        .unwrap()
        .find(kid)
        .is_some()
}

/// The leaf of the log at `index`, parsed.
async fn leaf(env: &Env, index: u64) -> LogEntry {
    let e = env.store.log_entries(index, index + 1).await.unwrap();
    LogEntry::parse(&e[0].data).unwrap()
}

#[tokio::test]
async fn a_retired_key_stops_signing_but_what_it_signed_verifies() {
    let env = env().await;
    let old = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let kid = kid_of(&env, &old.identifier).await;
    let issuer = request(BUSINESS, 0, Alg::EdDSA).issuer;
    env.clock.advance(60);
    let done = operator::retire_key(&env.node, &CLI, &kid).await.unwrap();
    assert_eq!(
        (done.event.action, done.event.subject.as_str()),
        (OperatorAction::KeyRetire, kid.as_str())
    );
    // The public fact, in clear in the log.
    let LogEntry::Operator(o) = leaf(&env, done.leaf_index).await else {
        panic!("a public operator leaf");
    };
    assert_eq!(
        (o.action, o.subject.as_str(), o.actor.as_str()),
        (OperatorAction::KeyRetire, kid.as_str(), "operator:cli")
    );
    // It signs nothing more: with no other key of the algorithm, issuing fails at once.
    expect_code(
        issue(&env.node, request(BUSINESS, 1, Alg::EdDSA)).await,
        "issuer.no_key",
    );
    // What it signed before keeps verifying, and it stays published.
    let v = verdict(&env, &old.credential).await;
    assert!(v.valid, "{:?}", codes(&v));
    assert!(published(&env, &issuer, &kid).await);
    // A new key signs.
    let new = env
        .node
        .keys
        .generate(&issuer, Alg::EdDSA, env.node.now())
        .await
        .unwrap();
    let next = issue_ok(&env, request(BUSINESS, 1, Alg::EdDSA)).await;
    assert_eq!(kid_of(&env, &next.identifier).await, new.kid);
    expect_code(
        operator::retire_key(&env.node, &CLI, &kid).await,
        "key.already_retired",
    );
}

#[tokio::test]
async fn a_key_revoked_since_a_time_invalidates_only_what_it_signed_from_then() {
    let env = env().await;
    let before = issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let kid = kid_of(&env, &before.identifier).await;
    let issuer = request(BUSINESS, 0, Alg::Es256).issuer;
    env.clock.advance(2 * 86_400);
    let after = issue_ok(&env, request(BUSINESS, 1, Alg::Es256)).await;
    assert_eq!(kid_of(&env, &after.identifier).await, kid);
    assert!(verdict(&env, &after.credential).await.valid);
    env.clock.advance(60);

    // Bad input changes nothing.
    let events_before = operator::events(&env.node, 0, 100).await.unwrap();
    for bad in ["yesterday", "2026-02-30", "", "-1"] {
        expect_code(Since::parse(bad), "key.bad_since");
    }
    let since = Since(T0 + 86_400);
    expect_code(
        operator::revoke_key(&env.node, &CLI, "no-such-kid", since).await,
        "key.unknown",
    );
    expect_code(
        operator::revoke_key(&env.node, &CLI, &kid, Since(env.node.now() + 10)).await,
        "key.since_in_future",
    );
    assert_eq!(
        operator::events(&env.node, 0, 100).await.unwrap(),
        events_before
    );
    assert!(verdict(&env, &after.credential).await.valid, "still valid");

    // Compromised since a day after the first issue.
    let done = operator::revoke_key(&env.node, &CLI, &kid, since)
        .await
        .unwrap();
    assert_eq!(done.event.since, Some(since.0));
    let LogEntry::Operator(o) = leaf(&env, done.leaf_index).await else {
        panic!("a public operator leaf");
    };
    assert_eq!(
        (o.action, o.since),
        (OperatorAction::KeyRevoke, Some(since.0))
    );
    // Before the date: valid. At or after it: invalid, with its own code.
    let v = verdict(&env, &before.credential).await;
    assert!(v.valid, "{:?}", codes(&v));
    let v = verdict(&env, &after.credential).await;
    assert!(!v.valid);
    assert!(codes(&v).contains(&"issuer.key_revoked"), "{:?}", codes(&v));
    // It signs nothing more, and the JWKS no longer offers it.
    expect_code(
        issue(&env.node, request(BUSINESS, 2, Alg::Es256)).await,
        "issuer.no_key",
    );
    assert!(!published(&env, &issuer, &kid).await);
    // The same or a later date again changes nothing; an earlier one widens it.
    expect_code(
        operator::revoke_key(&env.node, &CLI, &kid, since).await,
        "key.already_revoked",
    );
    operator::revoke_key(&env.node, &CLI, &kid, Since(T0 - 10))
        .await
        .unwrap();
    assert!(!verdict(&env, &before.credential).await.valid);
}

#[tokio::test]
async fn revoked_api_keys_are_refused_from_the_next_request_on() {
    let env = env().await;
    let issuer = request(BUSINESS, 0, Alg::EdDSA).issuer;
    let (elk, elk_id) = apikeys::create(&env.node, &issuer, "t").await.unwrap();
    let inst = institutions::register(
        &env.node,
        NewInstitution {
            code: BANK.into(),
            name: "银行".into(),
            area: "110105".into(),
            matters: vec!["bank_account_opening".into()],
        },
    )
    .await
    .unwrap();
    let (eli, eli_id) = institutions::create_key(&env.node, &inst.code, "t")
        .await
        .unwrap();
    let (elo, elo_id) = operator::create_key(&env.node, "t").await.unwrap();
    assert!(elo.starts_with("elo_"));
    assert_eq!(
        operator::authenticate(&env.node, &elo).await.unwrap(),
        OperatorActor::Key(elo_id.clone())
    );
    // Another role's key is no operator key.
    expect_code(
        operator::authenticate(&env.node, &elk).await,
        "auth.invalid_key",
    );

    for bad in ["", "zz", "elk_nothex", "xyz_0123456789ab"] {
        expect_code(
            operator::revoke_api_key(&env.node, &CLI, bad).await,
            "apikey.bad_id",
        );
    }
    expect_code(
        operator::revoke_api_key(&env.node, &CLI, "0123456789ab").await,
        "apikey.unknown",
    );
    // The prefix, when given, says which table: an issuer key is no institution key.
    expect_code(
        operator::revoke_api_key(&env.node, &CLI, &format!("eli_{elk_id}")).await,
        "apikey.unknown",
    );
    assert!(operator::events(&env.node, 0, 10).await.unwrap().is_empty());

    let actor = OperatorActor::Key(elo_id.clone());
    let done = operator::revoke_api_key(&env.node, &actor, &elk_id)
        .await
        .unwrap();
    assert_eq!(done.event.actor, format!("operator:{elo_id}"));
    expect_code(
        apikeys::authenticate(&env.node, &elk).await,
        "auth.invalid_key",
    );
    institutions::authenticate(&env.node, &eli).await.unwrap();
    operator::revoke_api_key(&env.node, &CLI, &format!("eli_{eli_id}"))
        .await
        .unwrap();
    expect_code(
        institutions::authenticate(&env.node, &eli).await,
        "auth.invalid_key",
    );
    operator::revoke_api_key(&env.node, &CLI, &elo_id)
        .await
        .unwrap();
    expect_code(
        operator::authenticate(&env.node, &elo).await,
        "auth.invalid_key",
    );
    expect_code(
        operator::revoke_api_key(&env.node, &CLI, &elk_id).await,
        "apikey.already_revoked",
    );
    let events = operator::events(&env.node, 0, 10).await.unwrap();
    let subjects: Vec<_> = events.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [elk_id.as_str(), eli_id.as_str(), elo_id.as_str()]
    );
    assert!(events
        .iter()
        .all(|e| e.action == OperatorAction::ApiKeyRevoke));
}

#[tokio::test]
async fn a_disabled_institution_stays_disabled_when_registered_again() {
    let env = env().await;
    let new = || NewInstitution {
        code: BANK.into(),
        name: "银行".into(),
        area: "110105".into(),
        matters: vec!["bank_account_opening".into()],
    };
    institutions::register(&env.node, new()).await.unwrap();
    let (token, _) = institutions::create_key(&env.node, BANK, "t")
        .await
        .unwrap();
    expect_code(
        operator::set_institution_disabled(&env.node, &CLI, "91110105MA01B2C3D0", true).await,
        "uscc.bad_check",
    );
    expect_code(
        operator::set_institution_disabled(&env.node, &CLI, "91310101MA1FPX0Q1Y", true).await,
        "institution.unknown",
    );
    expect_code(
        operator::set_institution_disabled(&env.node, &CLI, BANK, false).await,
        "institution.not_disabled",
    );
    let done = operator::set_institution_disabled(&env.node, &CLI, BANK, true)
        .await
        .unwrap();
    // The public log has only a commitment: no institution code.
    let l = leaf(&env, done.leaf_index).await;
    assert!(matches!(l, LogEntry::OperatorCommit(_)), "{l:?}");
    assert!(!String::from_utf8(l.to_bytes()).unwrap().contains(BANK));
    expect_code(
        institutions::authenticate(&env.node, &token).await,
        "institution.disabled",
    );
    expect_code(
        institutions::create_key(&env.node, BANK, "t").await,
        "institution.disabled",
    );
    // Registering it again (a new scope) does not enable it.
    let mut again = new();
    again.matters.push("hotel_check_in".into());
    let rec = institutions::register(&env.node, again).await.unwrap();
    assert!(rec.disabled_at.is_some());
    expect_code(
        institutions::authenticate(&env.node, &token).await,
        "institution.disabled",
    );
    expect_code(
        operator::set_institution_disabled(&env.node, &CLI, BANK, true).await,
        "institution.already_disabled",
    );
    operator::set_institution_disabled(&env.node, &CLI, BANK, false)
        .await
        .unwrap();
    institutions::authenticate(&env.node, &token).await.unwrap();
    let actions: Vec<_> = operator::events(&env.node, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            OperatorAction::InstitutionDisable,
            OperatorAction::InstitutionEnable
        ]
    );
}
