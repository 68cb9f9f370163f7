//! Lifecycle: every action, its effect on status lists and verification, new versions, events,
//! pledges, illegal transitions and expiry.

mod common;

use common::*;
use elicense_app::issue::{lineage, Issued};
use elicense_app::lifecycle::{apply, expire_due, ActionOutcome, ActionRequest};
use elicense_app::verify::{public_status, status_view, verify, Verdict, VerifyOptions};
use elicense_app::{timeutil, ErrorKind};
use elicense_core::ident::Identifier;
use elicense_core::lifecycle::Action;
use elicense_core::ReasonCategory;
use elicense_crypto::{Alg, KeyPair};
use serde_json::{json, Value};

async fn act(env: &Env, id: &Identifier, action: Action, reason: &str) -> ActionOutcome {
    let mut req = ActionRequest::new(action, "clerk-7");
    req.reason = Some(reason.to_string());
    apply(&env.node, id, req)
        .await
        .unwrap_or_else(|e| panic!("{action} on {id}: {e}"))
}

async fn check(env: &Env, credential: &str) -> Verdict {
    verify(&env.node, credential, &VerifyOptions::default())
        .await
        .expect("verifiable")
}

fn codes(v: &Verdict) -> Vec<&str> {
    v.problems.iter().map(|p| p.code.as_str()).collect()
}

async fn list_value(env: &Env, issued: &Issued) -> u8 {
    let list = env.node.status.list_id(&issued.status.uri).unwrap();
    env.node.status.rebuild_if_moved().await.unwrap();
    env.node
        .status
        .value(list, issued.status.idx)
        .await
        .unwrap()
        .expect("slot known")
}

async fn event_kinds(env: &Env, id: &Identifier) -> Vec<String> {
    let lin = lineage(id);
    env.store
        .events(&lin)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn suspend_and_reinstate() {
    let env = env().await;
    let issued = issue_ok(&env, request(DRIVING, 0, Alg::Sm2)).await;

    env.clock.advance(60);
    let out = act(&env, &issued.identifier, Action::Suspend, "扣分满12分").await;
    assert_eq!(out.status, "suspended");
    assert_eq!(list_value(&env, &issued).await, 2);
    let v = check(&env, &issued.credential).await;
    assert!(!v.valid);
    assert_eq!(codes(&v), vec!["status.suspended"]);
    let view = v.status.unwrap();
    assert_eq!(view.code, "suspended");
    assert_eq!(view.label, "暂扣");
    assert_eq!(view.list_value, 2);
    // A verdict is public: the reason's category, not the issuer's words.
    assert_eq!(view.reason, None);
    assert_eq!(view.reason_category, Some(ReasonCategory::Other));
    assert_eq!(view.since, Some(T0 + 60));

    env.clock.advance(60);
    let out = act(&env, &issued.identifier, Action::Reinstate, "学习考试合格").await;
    assert_eq!(out.status, "valid");
    assert_eq!(list_value(&env, &issued).await, 0);
    let v = check(&env, &issued.credential).await;
    assert!(v.valid, "{:?}", v.problems);

    let events = env
        .store
        .events(&lineage(
            &Identifier::parse(issued.identifier.as_str()).unwrap(),
        ))
        .await
        .unwrap();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.actor.as_str(), e.at, e.reason.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("issue", "test", T0, None),
            ("suspend", "clerk-7", T0 + 60, Some("扣分满12分")),
            ("reinstate", "clerk-7", T0 + 120, Some("学习考试合格")),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[tokio::test]
async fn terminal_actions_invalidate_with_a_visible_reason() {
    let env = env().await;
    for (n, (action, status, label)) in [
        (Action::Revoke, "revoked", "撤销"),
        (Action::Withdraw, "withdrawn", "吊销"),
        (Action::Cancel, "cancelled", "注销"),
    ]
    .into_iter()
    .enumerate()
    {
        let issued = issue_ok(&env, request(BUSINESS, n, Alg::EdDSA)).await;
        let reason = format!("reason of {action}");
        let out = act(&env, &issued.identifier, action, &reason).await;
        assert_eq!(out.status, status);
        assert_eq!(list_value(&env, &issued).await, 1, "{action}");

        let v = check(&env, &issued.credential).await;
        assert!(!v.valid);
        assert_eq!(codes(&v), vec!["status.invalid"], "{action}");
        assert!(
            v.problems[0].message.contains("其他") && !v.problems[0].message.contains(&reason),
            "{:?}",
            v.problems
        );
        let view = v.status.unwrap();
        assert_eq!((view.code.as_str(), view.label.as_str()), (status, label));
        assert_eq!(view.reason, None);
        assert_eq!(view.reason_category, Some(ReasonCategory::Other));
        // The holder's and the issuer's view keep the words.
        let own = status_view(&env.node, &issued.identifier)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(own.reason.as_deref(), Some(reason.as_str()));

        let public = public_status(&env.node, &issued.identifier).await.unwrap();
        assert_eq!(public.status.code, status);
        assert_eq!(public.status.list_value, 1);
        assert_eq!(public.status.reason, None);
        assert_eq!(public.status.reason_category, Some(ReasonCategory::Other));
        assert_eq!(public.status_list, issued.status);
        assert_eq!(public.issuer, BJ_SAMR);
        assert_eq!(public.version, 1);
        // No personal data in the public view.
        let text = serde_json::to_string(&public).unwrap();
        assert!(!text.contains(SAMPLE_HOLDER_IDS[n]), "{text}");
    }
}

const SAMPLE_HOLDER_IDS: [&str; 3] = [
    elicense_app::seed::SAMPLE_ENTERPRISES[0].1,
    elicense_app::seed::SAMPLE_ENTERPRISES[1].1,
    elicense_app::seed::SAMPLE_ENTERPRISES[2].1,
];

#[tokio::test]
async fn change_creates_version_002_and_supersedes_001() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await;
    env.clock.advance(3600);

    let mut req = ActionRequest::new(Action::Change, "clerk-1");
    req.reason = Some("住所变更".into());
    req.fields = fields(&[("address", "北京市西城区金融大街7号")]);
    let out = apply(&env.node, &issued.identifier, req).await.unwrap();
    assert_eq!(out.status, "superseded");
    let next = out.successor.expect("a new version");
    let old_id = Identifier::parse(issued.identifier.as_str()).unwrap();
    let new_id = Identifier::parse(next.identifier.as_str()).unwrap();
    assert_eq!(new_id.version(), 2);
    assert!(new_id.same_license(&old_id));
    assert!(next.identifier.as_str().contains(".002."));
    assert_ne!(next.status, issued.status, "a new status slot");

    assert_eq!(list_value(&env, &issued).await, 1);
    assert_eq!(list_value(&env, &next).await, 0);

    let v_old = check(&env, &issued.credential).await;
    assert!(!v_old.valid);
    let view = v_old.status.unwrap();
    assert_eq!(view.code, "superseded");
    assert_eq!(
        view.superseded_by.as_deref(),
        Some(next.identifier.as_str())
    );

    let v_new = check(&env, &next.credential).await;
    assert!(v_new.valid, "{:?}", v_new.problems);
    assert_eq!(v_new.claims["address"], json!("北京市西城区金融大街7号"));
    assert_eq!(
        v_new.claims["legal_representative"],
        json!("张伟"),
        "unchanged items kept"
    );
    assert_eq!(v_new.claims["iat"], json!(T0 + 3600));
    let rec = env
        .store
        .license(next.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let meta: Value = serde_json::from_str(&rec.meta).unwrap();
    assert_eq!(meta["replaces"], json!(issued.identifier));
    assert_eq!(rec.alg, "sm2", "the algorithm is kept");

    let events = env.store.events(&lineage(&old_id)).await.unwrap();
    let got: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.identifier.as_str(),
                e.kind.as_str(),
                e.actor.as_str(),
                e.at,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (issued.identifier.as_str(), "issue", "test", T0),
            (issued.identifier.as_str(), "change", "clerk-1", T0 + 3600),
            (next.identifier.as_str(), "issue", "clerk-1", T0 + 3600),
        ]
    );
    assert_eq!(events[1].reason.as_deref(), Some("住所变更"));
    assert_eq!(out.event_seq, events[1].seq);
    assert_eq!(next.event_seq, events[2].seq);

    // The old version accepts nothing any more; the new one can change again (version 003).
    let mut again = ActionRequest::new(Action::Change, "clerk-1");
    again.fields = fields(&[("address", "北京市海淀区中关村大街1号")]);
    let e = apply(&env.node, &issued.identifier, again.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, "lifecycle.illegal_transition");
    let out = apply(&env.node, &next.identifier, again).await.unwrap();
    assert!(out.successor.unwrap().identifier.as_str().contains(".003."));
}

#[tokio::test]
async fn change_with_bad_data_changes_nothing() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let count = env.store.count().await.unwrap();
    for (fields, code) in [
        (fields(&[]), "lifecycle.nothing_to_change"),
        (fields(&[("nope", "x")]), "catalogue.field_unknown"),
        (
            fields(&[("established", "2015-13-01")]),
            "catalogue.field_type",
        ),
        (fields(&[("address", "")]), "catalogue.field_required"),
    ] {
        let mut req = ActionRequest::new(Action::Change, "clerk");
        req.fields = fields;
        expect_code(apply(&env.node, &issued.identifier, req).await, code);
    }
    assert_eq!(env.store.count().await.unwrap(), count);
    assert_eq!(event_kinds(&env, &issued.identifier).await, vec!["issue"]);
    let rec = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, "valid");
}

#[tokio::test]
async fn extend_moves_the_end_of_validity() {
    let env = env().await;
    let mut req = request(DRIVING, 0, Alg::Es256);
    req.valid_until = Some("2027-02-02".into());
    let issued = issue_ok(&env, req).await;

    let mut ext = ActionRequest::new(Action::Extend, "clerk");
    ext.valid_until = Some("2031-01-31".into());
    let out = apply(&env.node, &issued.identifier, ext).await.unwrap();
    let next = out.successor.unwrap();
    let rec = env
        .store
        .license(next.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let meta: Value = serde_json::from_str(&rec.meta).unwrap();
    assert_eq!(meta["valid_until"], json!("2031-01-31"));
    let day = timeutil::parse("2031-01-31").unwrap();
    assert_eq!(rec.valid_until, Some(timeutil::day_end(day)));
    let v = check(&env, &next.credential).await;
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.claims["exp"], json!(timeutil::day_end(day)));
    assert_eq!(list_value(&env, &issued).await, 1);

    // Extending to an earlier date is refused and changes nothing.
    let mut back = ActionRequest::new(Action::Extend, "clerk");
    back.valid_until = Some("2027-01-01".into());
    let count = env.store.count().await.unwrap();
    assert!(apply(&env.node, &next.identifier, back).await.is_err());
    assert_eq!(env.store.count().await.unwrap(), count);

    // A long-term license has nothing to extend.
    let lt = issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let e = expect_code(
        apply(
            &env.node,
            &lt.identifier,
            ActionRequest::new(Action::Extend, "c"),
        )
        .await,
        "lifecycle.long_term",
    );
    assert_eq!(e.kind, ErrorKind::Conflict);
}

#[tokio::test]
async fn transfer_changes_the_holder_and_drops_the_holder_key() {
    let env = env().await;
    let holder = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
    let mut req = request(BUSINESS, 0, Alg::EdDSA);
    req.holder_jwk = Some(holder.public_jwk());
    let issued = issue_ok(&env, req).await;

    let (new_name, new_id) = elicense_app::seed::SAMPLE_ENTERPRISES[1];
    let mut tr = ActionRequest::new(Action::Transfer, "clerk");
    tr.reason = Some("股权转让".into());
    tr.new_holder_name = Some(new_name.into());
    tr.new_holder_id = Some(new_id.into());
    let out = apply(&env.node, &issued.identifier, tr).await.unwrap();
    let next = out.successor.unwrap();
    let v = check(&env, &next.credential).await;
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.claims["holder_name"], json!(new_name));
    assert_eq!(v.claims["holder_id"], json!(new_id));
    assert!(
        v.claims.get("cnf").is_none(),
        "the old holder's key is not carried over"
    );
    let old = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let new = env
        .store
        .license(next.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(old.holder_key, new.holder_key);
    assert_eq!(env.store.by_holder(&new.holder_key).await.unwrap().len(), 1);

    // Same holder, or no holder, is refused.
    let mut same = ActionRequest::new(Action::Transfer, "clerk");
    same.new_holder_name = Some(new_name.into());
    same.new_holder_id = Some(new_id.into());
    expect_code(
        apply(&env.node, &next.identifier, same).await,
        "lifecycle.same_holder",
    );
    expect_code(
        apply(
            &env.node,
            &next.identifier,
            ActionRequest::new(Action::Transfer, "c"),
        )
        .await,
        "lifecycle.new_holder_required",
    );
}

#[tokio::test]
async fn change_keeps_the_holder_key() {
    let env = env().await;
    let holder = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
    let mut req = request(BUSINESS, 0, Alg::EdDSA);
    req.holder_jwk = Some(holder.public_jwk());
    let issued = issue_ok(&env, req).await;
    let mut ch = ActionRequest::new(Action::Change, "clerk");
    ch.fields = fields(&[("registered_capital", "200万元人民币")]);
    let next = apply(&env.node, &issued.identifier, ch)
        .await
        .unwrap()
        .successor
        .unwrap();
    let (_, payload) = jwt_parts(&next.credential);
    assert_eq!(payload["cnf"]["jwk"]["x"], json!(holder.public_jwk().x));
}

#[tokio::test]
async fn pledge_blocks_transfer_and_cancel_until_released() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let out = act(&env, &issued.identifier, Action::Pledge, "质押给银行").await;
    assert!(out.pledged);
    assert_eq!(out.status, "valid");
    assert_eq!(
        list_value(&env, &issued).await,
        0,
        "a pledge does not invalidate"
    );

    let (new_name, new_id) = elicense_app::seed::SAMPLE_ENTERPRISES[1];
    let transfer = || {
        let mut tr = ActionRequest::new(Action::Transfer, "clerk");
        tr.new_holder_name = Some(new_name.into());
        tr.new_holder_id = Some(new_id.into());
        tr
    };
    let count = env.store.count().await.unwrap();
    let e = expect_code(
        apply(&env.node, &issued.identifier, transfer()).await,
        "lifecycle.pledged",
    );
    assert_eq!(e.kind, ErrorKind::Conflict);
    expect_code(
        apply(
            &env.node,
            &issued.identifier,
            ActionRequest::new(Action::Cancel, "c"),
        )
        .await,
        "lifecycle.pledged",
    );
    expect_code(
        apply(
            &env.node,
            &issued.identifier,
            ActionRequest::new(Action::Pledge, "c"),
        )
        .await,
        "lifecycle.pledged",
    );
    assert_eq!(env.store.count().await.unwrap(), count);
    assert_eq!(
        event_kinds(&env, &issued.identifier).await,
        vec!["issue", "pledge"]
    );

    let out = act(&env, &issued.identifier, Action::Release, "贷款已还清").await;
    assert!(!out.pledged);
    let out = apply(&env.node, &issued.identifier, transfer())
        .await
        .unwrap();
    assert!(out.successor.is_some());
    assert_eq!(
        event_kinds(&env, &issued.identifier).await,
        vec!["issue", "pledge", "release", "transfer", "issue"]
    );
}

#[tokio::test]
async fn a_change_of_a_pledged_license_keeps_the_pledge() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    act(&env, &issued.identifier, Action::Pledge, "质押").await;
    let mut ch = ActionRequest::new(Action::Change, "clerk");
    ch.fields = fields(&[("registered_capital", "200万元人民币")]);
    let next = apply(&env.node, &issued.identifier, ch)
        .await
        .unwrap()
        .successor
        .unwrap();
    let rec = env
        .store
        .license(next.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(rec.pledged);
    expect_code(
        apply(
            &env.node,
            &next.identifier,
            ActionRequest::new(Action::Cancel, "c"),
        )
        .await,
        "lifecycle.pledged",
    );
}

#[tokio::test]
async fn annual_inspection_records_an_event() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    env.clock.advance(86_400);
    let mut req = ActionRequest::new(Action::AnnualInspection, "inspector");
    req.result = Some("合格".into());
    let out = apply(&env.node, &issued.identifier, req).await.unwrap();
    assert_eq!(out.status, "valid");
    let events = env
        .store
        .events(&lineage(
            &Identifier::parse(issued.identifier.as_str()).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].kind, "annual_inspection");
    assert_eq!(events[1].actor, "inspector");
    assert_eq!(events[1].at, T0 + 86_400);
    let detail: Value = serde_json::from_str(&events[1].detail).unwrap();
    assert_eq!(detail["result"], json!("合格"));
    assert!(check(&env, &issued.credential).await.valid);
}

#[tokio::test]
async fn illegal_transitions_are_conflicts_and_write_nothing() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    for action in [Action::Reinstate, Action::Release] {
        let e = apply(
            &env.node,
            &issued.identifier,
            ActionRequest::new(action, "c"),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict, "{action}");
        assert!(
            e.code == "lifecycle.illegal_transition" || e.code == "lifecycle.not_pledged",
            "{action}: {e}"
        );
    }
    act(&env, &issued.identifier, Action::Revoke, "撤销").await;
    let epoch = env.store.status_epoch().await.unwrap();
    let count = env.store.count().await.unwrap();
    for action in Action::ALL {
        let mut req = ActionRequest::new(action, "c");
        req.fields = fields(&[("address", "北京市西城区金融大街7号")]);
        req.new_holder_name = Some("x".into());
        req.new_holder_id = Some(elicense_app::seed::SAMPLE_ENTERPRISES[1].1.into());
        let e = apply(&env.node, &issued.identifier, req).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict, "{action}");
        assert_eq!(e.code, "lifecycle.illegal_transition", "{action}: {e}");
    }
    assert_eq!(
        env.store.status_epoch().await.unwrap(),
        epoch,
        "no event written"
    );
    assert_eq!(env.store.count().await.unwrap(), count);
    assert_eq!(
        event_kinds(&env, &issued.identifier).await,
        vec!["issue", "revoke"]
    );
}

#[tokio::test]
async fn unknown_and_malformed_identifiers() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let id = Identifier::parse(issued.identifier.as_str()).unwrap();
    let other = id.with_version(7).unwrap();
    let e = expect_code(
        apply(&env.node, &other, ActionRequest::new(Action::Revoke, "c")).await,
        "license.not_found",
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
    // A malformed identifier cannot reach `apply` (it takes an `Identifier`): the edges
    // answer it (`identifier.*`, tested with the API, the pages and the CLI).
}

#[tokio::test]
async fn another_issuers_key_may_not_act() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let mut req = ActionRequest::new(Action::Revoke, "api-key:x");
    req.acting_issuer = Some("113100000000000118".into());
    let e = expect_code(
        apply(&env.node, &issued.identifier, req).await,
        "license.not_your_license",
    );
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert_eq!(event_kinds(&env, &issued.identifier).await, vec!["issue"]);
}

#[tokio::test]
async fn expiry_after_the_end_of_validity() {
    let env = env().await;
    let mut req = request(DRIVING, 0, Alg::Sm2);
    req.valid_until = Some("2026-03-01".into());
    let issued = issue_ok(&env, req).await;
    let long = issue_ok(&env, request(DRIVING, 1, Alg::Sm2)).await;

    // On the last day it is still valid, and nothing is due.
    let last_day = timeutil::parse("2026-03-01").unwrap();
    env.clock.set(timeutil::day_end(last_day) - 1);
    assert_eq!(expire_due(&env.node, 100).await.unwrap(), 0);
    assert!(check(&env, &issued.credential).await.valid);

    env.clock.set(timeutil::day_end(last_day) + 10);
    assert_eq!(expire_due(&env.node, 100).await.unwrap(), 1);
    let rec = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, "expired");
    assert_eq!(list_value(&env, &issued).await, 1);
    let v = check(&env, &issued.credential).await;
    assert!(!v.valid);
    assert!(codes(&v).contains(&"license.expired"), "{:?}", codes(&v));
    assert_eq!(v.status.unwrap().code, "expired");
    assert!(check(&env, &long.credential).await.valid);
    let kinds = event_kinds(&env, &issued.identifier).await;
    assert_eq!(kinds, vec!["issue", "expire"]);

    // Running again does nothing; an expired license can be extended.
    assert_eq!(expire_due(&env.node, 100).await.unwrap(), 0);
    let out = apply(
        &env.node,
        &issued.identifier,
        ActionRequest::new(Action::Extend, "c"),
    )
    .await
    .unwrap();
    let next = out.successor.unwrap();
    let v = check(&env, &next.credential).await;
    assert!(v.valid, "{:?}", v.problems);
}

#[tokio::test]
async fn transfer_may_rename_the_holders_items() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let (new_name, new_id) = elicense_app::seed::SAMPLE_ENTERPRISES[1];

    let mut blank = ActionRequest::new(Action::Transfer, "clerk");
    blank.new_holder_name = Some("  ".into());
    blank.new_holder_id = Some(new_id.into());
    expect_code(
        apply(&env.node, &issued.identifier, blank).await,
        "holder.name_required",
    );

    let mut tr = ActionRequest::new(Action::Transfer, "clerk");
    tr.new_holder_name = Some(new_name.into());
    tr.new_holder_id = Some(new_id.into());
    tr.fields = fields(&[("name", new_name), ("uscc", new_id)]);
    let next = apply(&env.node, &issued.identifier, tr)
        .await
        .unwrap()
        .successor
        .unwrap();
    let v = check(&env, &next.credential).await;
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.claims["name"], json!(new_name));
    assert_eq!(v.claims["uscc"], json!(new_id));
    assert_eq!(v.claims["holder_id"], json!(new_id));
}

#[tokio::test]
async fn changing_the_license_number_item_changes_the_metadata() {
    let env = env().await;
    let issued = issue_ok(&env, request(FOOD, 0, Alg::EdDSA)).await;
    let rec = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let meta: Value = serde_json::from_str(&rec.meta).unwrap();
    assert_eq!(meta["license_number"], json!("JY23101150000015"));

    let mut ch = ActionRequest::new(Action::Change, "clerk");
    ch.fields = fields(&[("license_number", "JY23101150000099")]);
    let next = apply(&env.node, &issued.identifier, ch)
        .await
        .unwrap()
        .successor
        .unwrap();
    let rec = env
        .store
        .license(next.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let meta: Value = serde_json::from_str(&rec.meta).unwrap();
    assert_eq!(meta["license_number"], json!("JY23101150000099"));
    assert_eq!(
        check(&env, &next.credential).await.claims["license_number"],
        json!("JY23101150000099")
    );
}

#[tokio::test]
async fn expiry_is_reported_once() {
    let env = env().await;
    let mut req = request(DRIVING, 0, Alg::EdDSA);
    req.valid_until = Some("2026-03-01".into());
    let issued = issue_ok(&env, req).await;
    let day = timeutil::parse("2026-03-01").unwrap();
    // Well past the end, before the node marked it expired: one problem.
    env.clock.set(timeutil::day_end(day) + 86_400);
    let v = check(&env, &issued.credential).await;
    assert_eq!(codes(&v), vec!["license.expired"]);
    // Before the start: one problem too.
    env.clock.set(T0 - 3 * 86_400);
    let v = check(&env, &issued.credential).await;
    assert_eq!(codes(&v), vec!["license.not_yet_valid"]);
}
