//! The federation's storage (`FederationStore`): every back-end must pass these.

use elicense_core::lifecycle::Status;
use elicense_log::{leaf_hash, Frontier};
use elicense_store::federation::*;
use elicense_store::*;

fn entry(
    origin: &str,
    index: u64,
    serial: &str,
    version: i32,
    kind: &str,
    status: Status,
) -> DirectoryEntry {
    DirectoryEntry {
        origin: origin.into(),
        index,
        identifier: format!("T.I.{serial}.{version}"),
        lineage: format!("T.I.{serial}"),
        version,
        type_code: "T".into(),
        issuer: "I".into(),
        kind: kind.into(),
        status,
        at: 1_000 + index as i64,
        holder_key: vec![7; 32],
    }
}

fn frontier(n: u64) -> Frontier {
    let mut f = Frontier::new();
    for i in 0..n {
        f.append(leaf_hash(&i.to_be_bytes()));
    }
    f
}

fn child_node(url: &str, via: Option<&str>) -> FedNodeRecord {
    FedNodeRecord {
        url: url.into(),
        area: "110105".into(),
        level: "county".into(),
        parent: Some("http://city".into()),
        document: "{}".into(),
        via: via.map(Into::into),
        updated_at: 5,
    }
}

/// A batch applies entirely, once: the directory, the outbox, the child's state, the nodes and
/// issuers it reports; the same batch again is a conflict that writes nothing.
pub async fn federation_batches_apply_once(s: &impl Store) {
    assert_eq!(
        s.fed_child_state("http://c").await.unwrap(),
        ChildState::default()
    );
    let batch = ReceivedBatch {
        child: "http://c".into(),
        base: ChildState::default(),
        next: ChildState {
            frontier: frontier(3),
            forwarded_next: 4,
            checkpoint: Some("cp".into()),
        },
        entries: vec![
            entry("http://c", 0, "1", 1, "issue", Status::Valid),
            entry("http://c", 2, "1", 1, "revoke", Status::Revoked),
            entry("http://g", 9, "2", 1, "issue", Status::Valid),
        ],
        nodes: vec![child_node("http://g", Some("http://c"))],
        issuers: vec![("I".into(), "http://g".into(), r#"{"code":"I"}"#.into())],
        forward: true,
    };
    s.fed_receive(batch.clone()).await.unwrap();
    let again = s.fed_receive(batch.clone()).await.unwrap_err();
    assert_eq!(again.code(), "store.conflict");

    let st = s.fed_child_state("http://c").await.unwrap();
    assert_eq!(
        (st.frontier.size(), st.frontier.root()),
        (3, frontier(3).root())
    );
    assert_eq!(
        (st.forwarded_next, st.checkpoint.as_deref()),
        (4, Some("cp"))
    );
    // The directory holds the latest status of each version, the change, and the holder.
    let l = s.hub_license("T.I.1", 1).await.unwrap().unwrap();
    assert_eq!(
        (l.status, l.kind.as_str(), l.index, l.origin.as_str()),
        (Status::Revoked, "revoke", 2, "http://c")
    );
    assert_eq!(s.hub_license("T.I.1", 2).await.unwrap(), None);
    let mine = s.hub_holder_licenses(&[7; 32]).await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|e| e.identifier.as_str())
            .collect::<Vec<_>>(),
        ["T.I.1.1", "T.I.2.1"]
    );
    assert!(s.hub_holder_licenses(&[8; 32]).await.unwrap().is_empty());
    // The outbox keeps each entry once, in order.
    let out = s.fed_outbox(0, 10).await.unwrap();
    assert_eq!(
        out.iter().map(|o| o.entry.index).collect::<Vec<_>>(),
        [0, 2, 9]
    );
    assert!(out.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(s.fed_outbox(out[1].seq, 10).await.unwrap().len(), 2);
    assert_eq!(
        s.fed_nodes().await.unwrap(),
        vec![child_node("http://g", Some("http://c"))]
    );
    assert_eq!(s.fed_issuers().await.unwrap().len(), 1);

    // An older event never overwrites a newer one; an entry already in the outbox stays once.
    let late = ReceivedBatch {
        base: st.clone(),
        next: ChildState {
            frontier: frontier(3),
            forwarded_next: 5,
            checkpoint: Some("cp".into()),
        },
        entries: vec![entry("http://c", 0, "1", 1, "issue", Status::Valid)],
        nodes: vec![],
        issuers: vec![],
        ..batch
    };
    s.fed_receive(late).await.unwrap();
    assert_eq!(
        s.hub_license("T.I.1", 1).await.unwrap().unwrap().status,
        Status::Revoked
    );
    assert_eq!(s.fed_outbox(0, 10).await.unwrap().len(), 3);
}

/// A hub (no parent) keeps no outbox; the push state starts at zero and is kept.
pub async fn federation_push_state_and_hub_without_outbox(s: &impl Store) {
    assert_eq!(s.fed_push_state().await.unwrap(), PushState::default());
    let p = PushState {
        log_size: 12,
        forwarded_next: 40,
    };
    s.fed_set_push_state(p).await.unwrap();
    assert_eq!(s.fed_push_state().await.unwrap(), p);
    s.fed_receive(ReceivedBatch {
        child: "http://p".into(),
        base: ChildState::default(),
        next: ChildState {
            frontier: frontier(1),
            forwarded_next: 0,
            checkpoint: None,
        },
        entries: vec![entry("http://p", 0, "9", 1, "issue", Status::Valid)],
        nodes: vec![],
        issuers: vec![],
        forward: false,
    })
    .await
    .unwrap();
    assert!(s.fed_outbox(0, 10).await.unwrap().is_empty());
    assert!(s.hub_license("T.I.9", 1).await.unwrap().is_some());
    s.fed_put_node(child_node("http://p", None)).await.unwrap();
    let mut changed = child_node("http://p", None);
    changed.document = r#"{"v":2}"#.into();
    s.fed_put_node(changed.clone()).await.unwrap();
    assert_eq!(s.fed_nodes().await.unwrap(), vec![changed]);
}

/// A full batch (2,000 versions over as many lineages, so over every shard of a distributed
/// directory, and their revocations) applies in one go.
pub async fn federation_full_batch(s: &impl Store) {
    let n = 2_000u64;
    let mut entries: Vec<DirectoryEntry> = (0..n)
        .map(|i| entry("http://c", i, &format!("{i:06}"), 1, "issue", Status::Valid))
        .collect();
    entries.extend((0..n).map(|i| {
        entry(
            "http://c",
            n + i,
            &format!("{i:06}"),
            1,
            "revoke",
            Status::Revoked,
        )
    }));
    s.fed_receive(ReceivedBatch {
        child: "http://c".into(),
        base: ChildState::default(),
        next: ChildState {
            frontier: frontier(2 * n),
            forwarded_next: 0,
            checkpoint: None,
        },
        entries,
        nodes: vec![],
        issuers: vec![],
        forward: true,
    })
    .await
    .unwrap();
    for i in [0, 777, n - 1] {
        let l = s
            .hub_license(&format!("T.I.{i:06}"), 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((l.status, l.index), (Status::Revoked, n + i));
    }
    assert_eq!(
        s.hub_holder_licenses(&[7; 32]).await.unwrap().len(),
        n as usize
    );
    assert_eq!(s.fed_outbox(0, 5_000).await.unwrap().len(), 2 * n as usize);
}
