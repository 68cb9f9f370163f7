//! Every parent is a witness (C2SP tlog-witness, tlog-cosignature), between real nodes on
//! 127.0.0.1: a county node configured with `--parent` gets its checkpoints co-signed in the
//! background and serves them with the cosignature; the witness answers each refusal with the
//! spec's status; a forked child (a second log under the same origin and key) is refused,
//! reported to the operator and counted; the witness's state survives a restart.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect_error, operator_key, read, TestServer, CITIZEN, CITIZEN2};
use elicense_app::federation::witness::{self, AddAnswer, Witness};
use elicense_app::federation::{Federation, FederationSettings, NodeUrl};
use elicense_app::{Node, NodeConfig, SystemClock};
use elicense_log::cosignature::{Cosignature, CosignerKey};
use elicense_log::note::{self, SignedNote, Verifiers};
use elicense_log::witness::AddCheckpoint;
use elicense_store::SqliteStore;
use reqwest::StatusCode;
use zeroize::Zeroizing;

const PASSWORD: &str = "witness-test-password";

/// A county node whose parent is `parent`, its keys in `dir` (when given).
async fn child_of(parent: &TestServer, dir: Option<&std::path::Path>) -> TestServer {
    let parent_url = parent.base.clone();
    let dir = dir.map(|d| d.to_path_buf());
    TestServer::start_configured(Arc::new(SystemClock), move |c| {
        c.federation = Federation::parse(
            &FederationSettings {
                area: Some("320102".into()),
                level: Some("county".into()),
                parent: Some(parent_url),
            },
            &c.base_url,
        )
        .unwrap();
        c.key_password = Zeroizing::new(PASSWORD.into());
        c.data_dir = dir;
    })
    .await
}

async fn admit(parent: &TestServer, child: &Node, url: &str) {
    let vkeys: Vec<String> = child
        .log
        .verifier_keys()
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    witness::admit(&parent.node, child.log.origin(), &vkeys, url)
        .await
        .unwrap();
}

async fn parent_key(parent: &TestServer) -> CosignerKey {
    let (_, doc) = read(
        parent
            .get("/.well-known/elicense-node")
            .send()
            .await
            .unwrap(),
    )
    .await;
    CosignerKey::parse(doc["witness_key"].as_str().unwrap()).unwrap()
}

fn log_verifiers(node: &Node) -> Verifiers {
    Verifiers::new(node.log.verifier_keys().unwrap()).unwrap()
}

/// Polls the child's `/log/checkpoint` until it carries a cosignature by `key` on a tree of
/// at least `size` entries (the background task runs every two seconds).
async fn cosigned_checkpoint(child: &TestServer, key: &CosignerKey, size: u64) -> String {
    for _ in 0..300 {
        let text = child.text("/log/checkpoint").await;
        let note = SignedNote::parse(text.as_bytes()).unwrap();
        let cp = elicense_log::Checkpoint::parse(note.text()).unwrap();
        if cp.size() >= size && key.verify_note(&note).is_ok() {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the child's checkpoint was never co-signed by {key:?}");
}

async fn post(parent: &TestServer, body: Vec<u8>) -> reqwest::Response {
    parent
        .post("/witness/add-checkpoint")
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_childs_checkpoints_are_cosigned_by_its_parent() {
    let parent = TestServer::start().await;
    let child = child_of(&parent, None).await;
    admit(&parent, &child.node, &child.base).await;
    let key = parent_key(&parent).await;
    child.issue_driving("ed25519").await;
    let first = cosigned_checkpoint(&child, &key, 1).await;
    // The log's own signatures still verify, and the cosignature is over the same text.
    let opened = note::open(first.as_bytes(), &log_verifiers(&child.node)).unwrap();
    assert_eq!(
        opened.unknown().count(),
        1,
        "one line the log keys do not know"
    );
    let size1 = elicense_log::Checkpoint::parse(opened.text())
        .unwrap()
        .size();
    // The log grows: the next checkpoint goes with a consistency proof from size1.
    child.issue_driving("sm2").await;
    let second = cosigned_checkpoint(&child, &key, size1 + 1).await;
    let cp2 = elicense_log::Checkpoint::parse(SignedNote::parse(second.as_bytes()).unwrap().text())
        .unwrap();
    let state = parent
        .node
        .store
        .witnessed_log(child.node.log.origin())
        .await
        .unwrap()
        .unwrap();
    assert!(state.size >= cp2.size());
    assert!(state.size > size1);
    assert_eq!(
        child
            .node
            .store
            .latest_cosigned_checkpoint()
            .await
            .unwrap()
            .unwrap()
            .size,
        state.size
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_witness_answers_with_the_specs_statuses() {
    let parent = TestServer::start().await;
    let child = TestServer::start().await;
    let stranger = TestServer::start().await;
    admit(&parent, &child.node, &child.base).await;
    child.issue_driving("ed25519").await;
    let cp = elicense_app::log::checkpoint(&child.node).await.unwrap();
    let body = |old: u64, proof: Vec<elicense_log::Hash>, note: &str| {
        AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: note.to_owned(),
        }
        .to_bytes()
    };

    // An origin the witness does not know: 404.
    stranger.issue_driving("ed25519").await;
    let other = elicense_app::log::checkpoint(&stranger.node).await.unwrap();
    expect_error(
        post(&parent, body(0, vec![], &other.note)).await,
        StatusCode::NOT_FOUND,
        "witness.unknown_log",
    )
    .await;
    // A changed checkpoint under the log's signatures, and one signed by other keys: 403.
    let forged = cp.note.replacen(
        &format!("\n{}\n", cp.size),
        &format!("\n{}\n", cp.size + 5),
        1,
    );
    expect_error(
        post(&parent, body(0, vec![], &forged)).await,
        StatusCode::FORBIDDEN,
        "witness.bad_signature",
    )
    .await;
    let foreign_text = SignedNote::parse(other.note.as_bytes()).unwrap();
    let impostor = format!(
        "{}{}",
        SignedNote::parse(cp.note.as_bytes()).unwrap().text(),
        &other.note[foreign_text.text().len()..]
    );
    expect_error(
        post(&parent, body(0, vec![], &impostor)).await,
        StatusCode::FORBIDDEN,
        "witness.bad_signature",
    )
    .await;
    // Malformed: 400.
    expect_error(
        post(&parent, b"old 01\n\nx".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "witness.malformed",
    )
    .await;
    // First contact from size 0: 200 and a cosignature that verifies.
    let resp = post(&parent, body(0, vec![], &cp.note)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let lines = resp.text().await.unwrap();
    let c = Cosignature::parse_line(&lines).unwrap();
    let key = parent_key(&parent).await;
    let text = SignedNote::parse(cp.note.as_bytes()).unwrap();
    key.verify(text.text(), &c).unwrap();
    assert!(c.timestamp() > 1_600_000_000);

    // The log grows; a client that believes the witness is still at 0: 409 with the size.
    child.issue_driving("sm2").await;
    let cp2 = elicense_app::log::checkpoint(&child.node).await.unwrap();
    let resp = post(&parent, body(0, vec![], &cp2.note)).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/x.tlog.size"
    );
    assert_eq!(resp.text().await.unwrap(), format!("{}\n", cp.size));
    // The old size above the new one: 400.
    expect_error(
        post(&parent, body(cp2.size + 1, vec![], &cp2.note)).await,
        StatusCode::BAD_REQUEST,
        "witness.old_above_new",
    )
    .await;
    // A proof that does not verify: 422 (reported: a signed head not proven consistent).
    let mut proof = elicense_app::log::consistency_proof(&child.node, cp.size, cp2.size)
        .await
        .unwrap();
    let mut broken = proof.clone();
    broken[0].0[0] ^= 1;
    expect_error(
        post(&parent, body(cp.size, broken, &cp2.note)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "witness.inconsistent",
    )
    .await;
    // The honest proof: 200; the witness moved to cp2.
    let resp = post(
        &parent,
        body(cp.size, std::mem::take(&mut proof), &cp2.note),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let state = parent
        .node
        .store
        .witnessed_log(child.node.log.origin())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.size, cp2.size);
    assert_eq!(state.checkpoint.as_deref(), Some(cp2.note.as_str()));
    // An oversized body: 413.
    expect_error(
        post(&parent, vec![b'a'; 70 * 1024]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "witness.too_large",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_child_is_refused_reported_and_counted() {
    let parent = TestServer::start().await;
    let metrics = parent.text("/metrics").await;
    assert!(
        metrics.contains("elicense_witness_forks_total "),
        "the counter is there before any fork"
    );
    let dir_a = tempfile::tempdir().unwrap();
    let child = child_of(&parent, Some(dir_a.path())).await;
    admit(&parent, &child.node, &child.base).await;
    child.issue_driving("ed25519").await;
    let key = parent_key(&parent).await;
    let cosigned = cosigned_checkpoint(&child, &key, 1).await;
    let cosigned_size =
        elicense_log::Checkpoint::parse(SignedNote::parse(cosigned.as_bytes()).unwrap().text())
            .unwrap()
            .size();

    // A second data dir sharing the log key file, under the child's name: the same origin
    // and keys, other entries.
    let dir_b = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir_a.path().join(elicense_app::log::LOG_KEY_FILE),
        dir_b.path().join(elicense_app::log::LOG_KEY_FILE),
    )
    .unwrap();
    let child_base = child.base.clone();
    let dir = dir_b.path().to_path_buf();
    let forked = TestServer::start_configured(Arc::new(SystemClock), move |c| {
        c.base_url = child_base;
        c.key_password = Zeroizing::new(PASSWORD.into());
        c.data_dir = Some(dir);
    })
    .await;
    assert_eq!(forked.node.log.origin(), child.node.log.origin());
    for holder in [CITIZEN2, CITIZEN, CITIZEN2] {
        let req = forked.driving_request(holder, "ed25519").await;
        forked.issue(&req).await;
    }
    let parent_url = NodeUrl::parse(&parent.base).unwrap();
    let err = witness::submit(&forked.node, &Witness::new(parent_url).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code, "witness.parent_refused", "{}", err.message);
    assert!(err.message.contains("422"), "{}", err.message);

    // The operator sees the report; the metric counts it.
    let op = operator_key(&parent).await;
    let (status, forks) = read(
        parent
            .get("/api/v1/operator/witness/forks")
            .bearer_auth(&op)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let forks = forks.as_array().unwrap();
    assert_eq!(forks.len(), 1, "{forks:?}");
    assert_eq!(forks[0]["origin"], child.node.log.origin());
    assert_eq!(forks[0]["cosigned_size"], cosigned_size);
    assert!(["inconsistent", "root_mismatch"].contains(&forks[0]["kind"].as_str().unwrap()));
    let forked_cp = elicense_app::log::checkpoint(&forked.node).await.unwrap();
    assert_eq!(forks[0]["checkpoint"], forked_cp.note.as_str());
    let metrics = parent.text("/metrics").await;
    let count: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("elicense_witness_forks_total "))
        .expect("fork counter on /metrics")
        .trim()
        .parse()
        .unwrap();
    assert!(count >= 1.0);
    // The parent keeps the honest head, and the honest child goes on being co-signed.
    let state = parent
        .node
        .store
        .witnessed_log(child.node.log.origin())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.size, cosigned_size);
    child.issue_driving("sm2").await;
    cosigned_checkpoint(&child, &key, cosigned_size + 1).await;
    // Without an operator key the list is closed.
    expect_error(
        parent
            .get("/api/v1/operator/witness/forks")
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "auth.missing",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_witness_state_survives_a_restart() {
    let child = TestServer::start().await;
    child.issue_driving("ed25519").await;
    let cp = elicense_app::log::checkpoint(&child.node).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("parent.db");
    let open = || {
        let store = SqliteStore::open(&db, Default::default()).unwrap();
        Node::new(
            Arc::new(store),
            Arc::new(SystemClock),
            NodeConfig::ephemeral("http://127.0.0.1:9"),
        )
    };
    let first = open();
    let vkeys: Vec<String> = child
        .node
        .log
        .verifier_keys()
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    witness::admit(&first, child.node.log.origin(), &vkeys, &child.base)
        .await
        .unwrap();
    let req = AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: cp.note.clone(),
    }
    .to_bytes();
    assert!(matches!(
        witness::add_checkpoint(&first, &req).await.unwrap(),
        AddAnswer::Cosigned(_)
    ));
    drop(first);
    let second = open();
    assert_eq!(
        witness::add_checkpoint(&second, &req).await.unwrap(),
        AddAnswer::SizeMismatch { known: cp.size }
    );
    let state = second
        .store
        .witnessed_log(child.node.log.origin())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.root, Some(cp.root.0.to_vec()));
    assert_eq!(state.checkpoint.as_deref(), Some(cp.note.as_str()));
}
