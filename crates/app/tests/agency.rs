//! Access bound to the holder (issue 16, findings 1, 2, 7 and 9 b, c, h), on a real SQLite node:
//! an authorization (代办) granted by a holder does not reach the license once it is
//! transferred, a transfer ends it, nothing but viewing is possible through a superseded
//! version, a former holder sees only the history of the version they held, a presentation is
//! one use however often it is opened, its matter and nonce are the node's, expired ones are
//! purged, and a license keeps at most five device keys.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::*;
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::wallet::agents::{self, Grant};
use elicense_app::wallet::{licenses, present};
use elicense_core::agency::GrantState;
use elicense_core::lifecycle::Action;
use elicense_core::EventKind;
use elicense_core::Identifier;
use elicense_crypto::Alg;
use elicense_store::MAX_BINDINGS;

const NEW_OWNER: (&str, &str) = ("上海样本餐饮管理有限公司", "913700001630477270");
const WANG: (&str, &str) = ("王芳", "310104198012315019");

fn bank_grant() -> Grant {
    Grant {
        agent_name: LI.0.into(),
        agent_id: LI.1.into(),
        matter: "bank_account_opening".into(),
        valid_from: T0 - 10,
        valid_until: T0 + 86_400,
    }
}

fn food_grant() -> Grant {
    Grant {
        matter: "food_delivery_platform".into(),
        ..bank_grant()
    }
}

/// The enterprises' business licenses, which name their legal representatives: 张伟 for
/// 北京示例科技, 王芳 for the new owner 上海样本餐饮.
async fn representatives(env: &Env) {
    issue_ok(env, request(BUSINESS, 0, Alg::Sm2)).await;
    let mut r = request(BUSINESS, 1, Alg::Sm2);
    r.fields
        .insert("legal_representative_id".into(), WANG.1.into());
    r.fields
        .insert("legal_representative".into(), WANG.0.into());
    issue_ok(env, r).await;
}

async fn transfer(env: &Env, identifier: &Identifier) -> Identifier {
    let mut tr = ActionRequest::new(Action::Transfer, "clerk");
    tr.reason = Some("股权转让".into());
    tr.new_holder_name = Some(NEW_OWNER.0.into());
    tr.new_holder_id = Some(NEW_OWNER.1.into());
    apply(&env.node, identifier, tr)
        .await
        .unwrap()
        .successor
        .unwrap()
        .identifier
}

fn seen(groups: &[licenses::Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| g.licenses.iter().map(|l| l.identifier.clone()))
        .collect()
}

#[tokio::test]
async fn a_transfer_ends_the_former_holders_authorizations_and_they_never_reach_the_new_holder() {
    let env = env().await;
    representatives(&env).await;
    let old = issue_ok(&env, request(FOOD, 0, Alg::Sm2)).await.identifier; // 北京示例科技
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    let wang = account(&env, "wangfang", WANG).await;
    let granted = agents::authorize(&env.node, &zhang, &old, food_grant())
        .await
        .unwrap();
    assert!(licenses::open(&env.node, &li, &old).await.is_ok());

    let new = transfer(&env, &old).await;

    // The agent of the former holder reaches neither version, in any way.
    expect_code(
        licenses::open(&env.node, &li, &new).await,
        "wallet.not_found",
    );
    expect_code(
        licenses::open(&env.node, &li, &old).await,
        "wallet.not_found",
    );
    assert!(seen(&licenses::list(&env.node, &li).await.unwrap()).is_empty());
    let device = Device::new();
    expect_code(
        present::bind(&env.node, &li, &new, &device.jwk()).await,
        "wallet.not_found",
    );
    // The transfer ended the authorization in its own transaction.
    let stored = env
        .store
        .authorizations_for_agent(&li_key(&env))
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].ended_at.is_some(), "{stored:?}");
    assert_eq!(stored[0].id, granted.id);

    // The former holder's representative can only look at the version they held.
    let o = licenses::open(&env.node, &zhang, &old).await.unwrap();
    assert!(!o.current());
    expect_code(
        licenses::open(&env.node, &zhang, &new).await,
        "wallet.not_found",
    );
    expect_code(
        agents::authorize(&env.node, &zhang, &old, food_grant()).await,
        "wallet.superseded",
    );
    expect_code(
        agents::withdraw(&env.node, &zhang, &old, &granted.id).await,
        "wallet.superseded",
    );
    expect_code(
        present::bind(&env.node, &zhang, &old, &device.jwk()).await,
        "wallet.superseded",
    );
    assert!(agents::list(&env.node, &o).await.unwrap().is_empty());

    // The new holder's representative sees none of the former holder's agents.
    let o = licenses::open(&env.node, &wang, &new).await.unwrap();
    assert!(agents::list(&env.node, &o).await.unwrap().is_empty());
    // ... and what they grant reaches their own agent, not anyone the former holder named.
    let mut g = food_grant();
    g.agent_name = ZHANG.0.into();
    g.agent_id = ZHANG.1.into();
    let v = agents::authorize(&env.node, &wang, &new, g).await.unwrap();
    assert_eq!(v.state, GrantState::Active);
    assert!(licenses::open(&env.node, &zhang, &new).await.is_ok());
    expect_code(
        licenses::open(&env.node, &li, &new).await,
        "wallet.not_found",
    );
}

/// The keyed hash of 李娜's ID, as authorizations name her.
fn li_key(env: &Env) -> String {
    let code = elicense_core::holder::HolderCode::parse(
        elicense_core::holder::HolderCodeType::ResidentId,
        LI.1,
    )
    .unwrap();
    env.node.holder_key(&code)
}

#[tokio::test]
async fn a_former_holder_sees_only_the_history_of_the_version_they_held() {
    let env = env().await;
    representatives(&env).await;
    let old = issue_ok(&env, request(FOOD, 0, Alg::Sm2)).await.identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let wang = account(&env, "wangfang", WANG).await;
    agents::authorize(&env.node, &zhang, &old, food_grant())
        .await
        .unwrap();
    let new = transfer(&env, &old).await;
    // The new holder uses the license.
    show(&env, &wang, &new, &Device::new(), &["holder_name"], None)
        .await
        .unwrap();

    let former = licenses::open(&env.node, &zhang, &old).await.unwrap();
    let h = licenses::history(&env.node, &former, 0).await.unwrap();
    let kinds: Vec<&str> = h.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["transfer", "authorize", "issue"]);
    assert!(h.entries.iter().all(|e| e.identifier == old.as_str()));

    let current = licenses::open(&env.node, &wang, &new).await.unwrap();
    let h = licenses::history(&env.node, &current, 0).await.unwrap();
    let kinds: Vec<&str> = h.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["present", "issue"],
        "nothing of the former holder's"
    );
    assert!(h.entries.iter().all(|e| e.identifier == new.as_str()));
}

#[tokio::test]
async fn an_agent_sees_only_lifecycle_events_in_the_history() {
    let env = env().await;
    let lic = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    agents::authorize(&env.node, &zhang, &lic, bank_grant())
        .await
        .unwrap();
    let o = licenses::open(&env.node, &li, &lic).await.unwrap();
    let h = licenses::history(&env.node, &o, 0).await.unwrap();
    let kinds: Vec<&str> = h.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["issue"]);
    assert!(agents::list(&env.node, &o).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_presentation_is_one_use_however_often_it_is_opened() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let shown = show(
        &env,
        &zhang,
        &lic,
        &Device::new(),
        &["holder_name"],
        Some("hotel_check_in"),
    )
    .await
    .unwrap();
    let size = |env: &Env| {
        let store = env.store.clone();
        async move { store.log_frontier().await.unwrap().size() }
    };
    present::open(&env.node, &shown.id).await.unwrap();
    let after_first = size(&env).await;
    for _ in 0..20 {
        assert!(
            present::open(&env.node, &shown.id)
                .await
                .unwrap()
                .verdict
                .valid
        );
    }
    assert_eq!(size(&env).await, after_first, "later openings add nothing");
    let o = licenses::open(&env.node, &zhang, &lic).await.unwrap();
    let h = licenses::history(&env.node, &o, 0).await.unwrap();
    let verifies = h
        .entries
        .iter()
        .filter(|e| e.kind == EventKind::Verify)
        .count();
    assert_eq!(verifies, 1);
}

#[tokio::test]
async fn the_history_is_paginated_newest_first() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let device = Device::new();
    let n = licenses::HISTORY_PAGE + 5; // presentations, each `present` + nothing else
    for _ in 0..n {
        show(
            &env,
            &zhang,
            &lic,
            &device,
            &["holder_name"],
            Some("hotel_check_in"),
        )
        .await
        .unwrap();
    }
    let o = licenses::open(&env.node, &zhang, &lic).await.unwrap();
    let first = licenses::history(&env.node, &o, 0).await.unwrap();
    assert_eq!(first.pages, 2);
    assert_eq!(first.entries.len(), licenses::HISTORY_PAGE);
    assert!(first.entries.windows(2).all(|w| w[0].seq > w[1].seq));
    let last = licenses::history(&env.node, &o, 9).await.unwrap();
    assert_eq!(last.page, 1, "a page past the end is the last page");
    assert_eq!(last.entries.len(), n + 1 - licenses::HISTORY_PAGE);
    assert_eq!(last.entries.last().unwrap().kind, EventKind::Issue);
}

#[tokio::test]
async fn the_matter_and_nonce_of_a_presentation_are_the_nodes() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    let device = Device::new();
    let jkt = present::bind(&env.node, &zhang, &lic, &device.jwk())
        .await
        .unwrap();
    let prep = present::prepare(
        &env.node,
        &zhang,
        &lic,
        &jkt,
        &["holder_name".into()],
        Some("hotel_check_in"),
    )
    .await
    .unwrap();
    // A signature over a signing input with another nonce does not complete it.
    let (header, payload) = prep.signing_input.split_once('.').unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    claims["nonce"] = "chosen-by-the-browser".into();
    let forged_input = format!(
        "{header}.{}",
        B64.encode(serde_json::to_vec(&claims).unwrap())
    );
    expect_code(
        present::complete(
            &env.node,
            &zhang,
            &lic,
            &prep.id,
            &device.sign(&forged_input),
        )
        .await,
        "wallet.presentation_invalid",
    );
    // Someone else cannot complete it.
    expect_code(
        present::complete(
            &env.node,
            &li,
            &lic,
            &prep.id,
            &device.sign(&prep.signing_input),
        )
        .await,
        "wallet.not_found",
    );
    let shown = present::complete(
        &env.node,
        &zhang,
        &lic,
        &prep.id,
        &device.sign(&prep.signing_input),
    )
    .await
    .unwrap();
    // Once only.
    expect_code(
        present::complete(
            &env.node,
            &zhang,
            &lic,
            &prep.id,
            &device.sign(&prep.signing_input),
        )
        .await,
        "wallet.no_prepared_presentation",
    );
    let opening = present::open(&env.node, &shown.id).await.unwrap();
    assert_eq!(opening.matter.as_deref(), Some("hotel_check_in"));
    // A prepared presentation that was never completed is nothing to a verifier.
    let unfinished = present::prepare(&env.node, &zhang, &lic, &jkt, &["holder_name".into()], None)
        .await
        .unwrap();
    expect_code(
        present::open(&env.node, &unfinished.id).await,
        "presentation.not_found",
    );
    // ... and it cannot be completed after its minute.
    env.clock.advance(present::PRESENTATION_SECS + 1);
    expect_code(
        present::complete(
            &env.node,
            &zhang,
            &lic,
            &unfinished.id,
            &device.sign(&unfinished.signing_input),
        )
        .await,
        "wallet.prepared_expired",
    );
}

#[tokio::test]
async fn expired_presentations_are_purged() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let shown = show(&env, &zhang, &lic, &Device::new(), &["holder_name"], None)
        .await
        .unwrap();
    env.clock.advance(present::PRESENTATION_SECS + 1);
    assert_eq!(present::purge_expired(&env.node).await.unwrap(), 0);
    assert_eq!(
        present::open(&env.node, &shown.id)
            .await
            .unwrap()
            .verdict
            .problems[0]
            .code,
        "presentation.expired"
    );
    env.clock.advance(present::PURGE_AFTER_SECS);
    assert_eq!(present::purge_expired(&env.node).await.unwrap(), 1);
    expect_code(
        present::open(&env.node, &shown.id).await,
        "presentation.not_found",
    );
}

#[tokio::test]
async fn a_license_keeps_at_most_five_device_keys_dropping_the_oldest() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let devices: Vec<Device> = (0..MAX_BINDINGS + 2).map(|_| Device::new()).collect();
    let mut jkts = Vec::new();
    for d in &devices {
        jkts.push(
            present::bind(&env.node, &zhang, &lic, &d.jwk())
                .await
                .unwrap(),
        );
        env.clock.advance(1);
    }
    let mut kept = 0;
    for (i, jkt) in jkts.iter().enumerate() {
        let bound = env
            .store
            .binding(lic.as_str(), jkt)
            .await
            .unwrap()
            .is_some();
        assert_eq!(bound, i >= 2, "binding {i}");
        kept += usize::from(bound);
    }
    assert_eq!(kept, MAX_BINDINGS);
}
