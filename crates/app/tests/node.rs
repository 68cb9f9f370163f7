//! Node-wide behaviour: concurrent issuing, racing actions, seeding twice.

mod common;

use std::collections::HashSet;

use common::*;
use elicense_app::issue::issue;
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::seed;
use elicense_app::ErrorKind;
use elicense_core::ident::Identifier;
use elicense_core::lifecycle::Action;
use elicense_crypto::Alg;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issues_get_distinct_serials_and_slots() {
    let env = env().await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let node = env.node.clone();
            let req = request(DRIVING, i % 4, Alg::ALL[i % 3]);
            tokio::spawn(async move { issue(&node, req).await })
        })
        .collect();
    let mut serials = HashSet::new();
    let mut slots = HashSet::new();
    for t in tasks {
        let issued = t.await.unwrap().unwrap();
        let id = Identifier::parse(issued.identifier.as_str()).unwrap();
        assert!(serials.insert(id.serial().to_string()), "serial twice");
        assert!(
            slots.insert((issued.status.uri, issued.status.idx)),
            "slot twice"
        );
    }
    assert_eq!(env.store.count().await.unwrap(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_actions_apply_at_most_once() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let tasks: Vec<_> = [
        Action::Revoke,
        Action::Suspend,
        Action::Cancel,
        Action::Withdraw,
    ]
    .into_iter()
    .map(|a| {
        let node = env.node.clone();
        let id = issued.identifier.clone();
        tokio::spawn(async move { apply(&node, &id, ActionRequest::new(a, "c")).await })
    })
    .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.kind, ErrorKind::Conflict, "{e}"),
        }
    }
    // Suspend may come first and then one terminal action on the suspended license.
    assert!((1..=2).contains(&ok), "{ok}");
    let lineage =
        elicense_app::issue::lineage(&Identifier::parse(issued.identifier.as_str()).unwrap());
    assert_eq!(env.store.events(&lineage).await.unwrap().len(), 1 + ok);
}

#[tokio::test]
async fn seeding_twice_keeps_catalogue_versions_and_keys() {
    let env = env().await;
    let keys = env.store.all_keys().await.unwrap().len();
    seed::seed_catalogue(&env.node).await.unwrap();
    assert_eq!(env.store.all_keys().await.unwrap().len(), keys);
    let types = env.node.catalogue.all().await.unwrap();
    assert_eq!(types.len(), 4);
    assert!(types.iter().all(|t| t.version == 1));
}

#[tokio::test]
async fn demo_seed_issues_once() {
    let env = env().await;
    let first = seed::seed_demo(&env.node).await.unwrap();
    assert!(!first.licenses.is_empty());
    let count = env.store.count().await.unwrap();
    assert_eq!(count, first.licenses.len() as u64);
    for l in &first.licenses {
        let rec = env
            .store
            .license(l.identifier.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rec.status, l.status);
        let v = elicense_app::verify::verify(&env.node, &rec.credential, &Default::default())
            .await
            .unwrap();
        assert_eq!(
            v.valid,
            l.status == "valid",
            "{}: {:?}",
            l.identifier,
            v.problems
        );
    }
    let second = seed::seed_demo(&env.node).await.unwrap();
    assert!(second.licenses.is_empty());
    assert_eq!(env.store.count().await.unwrap(), count);
}

/// Hundreds of rows taking slots at once (a bulk import) share one reservation at a time: all
/// slots distinct, and the store's serial counter shows the blocks reserved (1, 2, 4, … up to
/// the largest, one ahead of need), not one block per caller that found the free list empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_slot_takers_share_one_reservation_at_a_time() {
    let env = env().await;
    const TAKERS: usize = 1000;
    let tasks: Vec<_> = (0..TAKERS)
        .map(|_| {
            let node = env.node.clone();
            tokio::spawn(async move { node.take_slot(DRIVING, BJ_TRAFFIC, Alg::Sm2).await })
        })
        .collect();
    let mut serials = HashSet::new();
    let mut slots = HashSet::new();
    for t in tasks {
        let slot = t.await.unwrap().unwrap();
        assert!(serials.insert(slot.serial), "serial {} twice", slot.serial);
        assert!(slots.insert((slot.list, slot.idx)), "slot twice");
    }
    // Blocks double from 1 to at most 1,024: the takers need 1 + 2 + … + 512 = 1,023 serials,
    // and at most one more block (1,024) is reserved ahead. A herd would reserve one block per
    // caller that found the list empty.
    let next = env
        .store
        .reserve(DRIVING, BJ_TRAFFIC, "sm2", 1)
        .await
        .unwrap()
        .first_serial;
    assert!(
        next <= 1 + 1023 + 1024,
        "{} serials reserved for {TAKERS} takers",
        next - 1
    );
}
