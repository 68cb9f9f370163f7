//! The event log from the app's side: every issue and action returns an inclusion proof
//! against a signed checkpoint that verifies with the node's published keys; checkpoints
//! are consistent with each other; keys persist in the data dir.

mod common;

use common::*;
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::log::{self as applog, hashes_from_b64, LogProof};
use elicense_core::lifecycle::Action;
use elicense_crypto::Alg;
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::Verifiers;
use elicense_log::{leaf_hash, verify_consistency, verify_inclusion};
use elicense_store::LogEntry;

fn verifiers(env: &Env) -> Verifiers {
    Verifiers::new(env.node.log.verifier_keys().unwrap()).unwrap()
}

/// Checks `p` against its checkpoint and returns the logged entry.
async fn check_proof(env: &Env, p: &LogProof) -> LogEntry {
    let cp = VerifiedCheckpoint::open(
        p.checkpoint.as_bytes(),
        "127.0.0.1:8080/log",
        &verifiers(env),
    )
    .expect("checkpoint verifies");
    assert_eq!(
        cp.note().verified().count(),
        2,
        "Ed25519 and SM2 signatures"
    );
    assert_eq!(cp.checkpoint().size(), p.tree_size);
    let entry = env.store.log_entries(p.index, p.index + 1).await.unwrap();
    let hashes = hashes_from_b64(&p.hashes).unwrap();
    verify_inclusion(
        &leaf_hash(&entry[0].data),
        p.index,
        p.tree_size,
        &hashes,
        &cp.checkpoint().root(),
    )
    .expect("inclusion proof verifies");
    LogEntry::parse(&entry[0].data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_and_actions_are_proven_in_the_log() {
    let env = env().await;
    let a = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await;
    let pa = a.log.clone().unwrap();
    assert_eq!(pa.index, 0);
    let e = check_proof(&env, &pa).await;
    assert_eq!(
        (e.identifier(), e.kind()),
        (Some(a.identifier.as_str()), Some("issue"))
    );
    assert_eq!(
        e.credential_sha256(),
        Some(elicense_store::log::credential_sha256(&a.credential).as_str())
    );
    let cp1 = applog::checkpoint(&env.node).await.unwrap();
    assert_eq!(cp1.size, 1);

    let b = issue_ok(&env, request(DRIVING, 0, Alg::EdDSA)).await;
    let mut req = ActionRequest::new(Action::Suspend, "clerk");
    req.reason = Some("整改".into());
    let s = apply(&env.node, &b.identifier, req).await.unwrap();
    let e = check_proof(&env, &s.log).await;
    assert_eq!((e.kind(), e.status()), (Some("suspend"), Some("suspended")));
    // The issuer's words stay out of the public leaf: it names the category they fall in.
    let LogEntry::Lifecycle(leaf) = &e else {
        panic!("a suspension is a lifecycle leaf: {e:?}");
    };
    assert_eq!(leaf.reason, Some(elicense_core::ReasonCategory::Other));
    assert!(!String::from_utf8(e.to_bytes()).unwrap().contains("整改"));
    let mut ch = ActionRequest::new(Action::Change, "clerk");
    ch.fields = fields(&[("address", "北京市西城区金融大街7号")]);
    let c = apply(&env.node, &a.identifier, ch).await.unwrap();
    check_proof(&env, &c.log).await;
    let succ = c.successor.unwrap();
    let e = check_proof(&env, succ.log.as_ref().unwrap()).await;
    assert_eq!(e.identifier(), Some(succ.identifier.as_str()));
    assert_eq!(e.status(), Some("valid"));

    // The checkpoint of the grown tree is consistent with the first one.
    let cp2 = applog::checkpoint(&env.node).await.unwrap();
    assert_eq!(cp2.size, 5);
    let p = applog::consistency_proof(&env.node, cp1.size, cp2.size)
        .await
        .unwrap();
    verify_consistency(cp1.size, cp2.size, &cp1.root, &cp2.root, &p).unwrap();
    // Unchanged tree: the same note (cached), not a new signature.
    assert_eq!(applog::checkpoint(&env.node).await.unwrap().note, cp2.note);
    // Signed checkpoints are recorded in the store (in the background).
    let mut recorded = 0;
    for _ in 0..200 {
        recorded = env
            .store
            .latest_checkpoint()
            .await
            .unwrap()
            .map_or(0, |c| c.size);
        if recorded == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(recorded, 5);
    // Bad requests are refused with codes.
    let e = applog::inclusion_proof(&env.node, 5, 5).await.unwrap_err();
    assert_eq!(e.code, "log.bad_index");
    let e = applog::inclusion_proof(&env.node, 0, 6).await.unwrap_err();
    assert_eq!(e.code, "log.bad_size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_keys_persist_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let load = || {
        let config = elicense_app::NodeConfig::load(dir.path()).unwrap();
        elicense_app::log::EventLog::new(&config)
    };
    let k1: Vec<String> = load()
        .verifier_keys()
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    let k2: Vec<String> = load()
        .verifier_keys()
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(k1, k2);
    assert_eq!(k1.len(), 2);
    assert!(k1[0].starts_with("127.0.0.1:8080/log+"));
    let text = std::fs::read_to_string(dir.path().join("log-key.pem")).unwrap();
    assert_eq!(text.matches("BEGIN ENCRYPTED PRIVATE KEY").count(), 2);
}

/// Checkpoints are signed in batches: while one interval runs, every issue that needs a new
/// checkpoint waits for the next signing, and that one signature covers them all. Without
/// batching each of these concurrent issues would sign a checkpoint of its own, one after
/// another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signed_checkpoint_covers_the_issues_of_an_interval() {
    let mut config = elicense_app::NodeConfig::ephemeral("http://127.0.0.1:8080");
    config.checkpoint_interval_ms = 1000;
    let env = env_with(config).await;
    // The first checkpoint of an idle log is signed at once.
    let first = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    assert_eq!(first.log.as_ref().unwrap().tree_size, 1);
    assert_eq!(env.node.log.checkpoints_signed(), 1);

    let start = std::time::Instant::now();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let node = env.node.clone();
            tokio::spawn(async move {
                elicense_app::issue::issue(&node, request(BUSINESS, (i + 1) % 3, Alg::EdDSA))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut sizes = std::collections::BTreeSet::new();
    for t in tasks {
        let issued = t.await.unwrap();
        let p = issued.log.clone().unwrap();
        check_proof(&env, &p).await;
        sizes.insert(p.tree_size);
    }
    let signed = env.node.log.checkpoints_signed() - 1;
    // One signing per interval that ended while the issues ran, and one more at most for
    // issues that committed just after a signing read the tree.
    let intervals = start.elapsed().as_millis() as u64 / 1000 + 2;
    assert!(
        signed <= intervals && sizes.len() as u64 <= intervals,
        "{signed} checkpoints signed, {} sizes, for 24 issues in {intervals} intervals",
        sizes.len()
    );
    assert_eq!(
        *sizes.last().unwrap(),
        25,
        "the last checkpoint covers them all"
    );
}
