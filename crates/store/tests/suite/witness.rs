//! Witnessing (C2SP tlog-witness): every back-end must pass these.

use elicense_store::*;

fn advance(origin: &str, old: u64, new: u64, root: u8) -> WitnessAdvance {
    WitnessAdvance {
        origin: origin.into(),
        old_size: old,
        new_size: new,
        new_root: vec![root; 32],
        checkpoint: format!("{origin}\n{new}\nroot{root}\n\n— sig\n"),
        at: 200 + new as i64,
    }
}

/// Admitting a log starts it at size 0 without a head; admitting it again replaces its keys
/// and URL and keeps its head.
pub async fn witness_admits_logs(s: &dyn Store) {
    assert_eq!(s.witnessed_log("a.example/log").await.unwrap(), None);
    s.witness_admit("b.example/log", vec!["kb".into()], "http://b", 10)
        .await
        .unwrap();
    s.witness_admit(
        "a.example/log",
        vec!["k1".into(), "k2".into()],
        "http://a",
        10,
    )
    .await
    .unwrap();
    let a = s.witnessed_log("a.example/log").await.unwrap().unwrap();
    assert_eq!(
        a,
        WitnessedLogRecord {
            origin: "a.example/log".into(),
            vkeys: vec!["k1".into(), "k2".into()],
            url: "http://a".into(),
            size: 0,
            root: None,
            checkpoint: None,
            admitted_at: 10,
            updated_at: 10,
        }
    );
    assert_eq!(
        s.witness_advance(advance("a.example/log", 0, 5, 1))
            .await
            .unwrap(),
        WitnessSwap::Advanced
    );
    s.witness_admit("a.example/log", vec!["k3".into()], "http://a2", 30)
        .await
        .unwrap();
    let a = s.witnessed_log("a.example/log").await.unwrap().unwrap();
    assert_eq!(
        (a.vkeys, a.url.as_str(), a.size, a.admitted_at),
        (vec!["k3".to_string()], "http://a2", 5, 10)
    );
    assert_eq!(a.root, Some(vec![1; 32]));
    let all = s.witnessed_logs().await.unwrap();
    assert_eq!(
        all.iter().map(|l| l.origin.as_str()).collect::<Vec<_>>(),
        ["a.example/log", "b.example/log"]
    );
    // No keys, or a key with a newline, is refused.
    assert!(matches!(
        s.witness_admit("c", vec![], "http://c", 1).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.witness_admit("c", vec!["a\nb".into()], "http://c", 1)
            .await,
        Err(StoreError::Invalid(_))
    ));
}

/// The head moves only from the size the caller read: a stale swap writes nothing and names
/// the stored size; concurrent swaps from one size let exactly one through.
pub async fn witness_advance_is_compare_and_swap(s: &dyn Store) {
    s.witness_admit("l", vec!["k".into()], "http://l", 1)
        .await
        .unwrap();
    assert_eq!(
        s.witness_advance(advance("l", 0, 8, 1)).await.unwrap(),
        WitnessSwap::Advanced
    );
    assert_eq!(
        s.witness_advance(advance("l", 0, 9, 2)).await.unwrap(),
        WitnessSwap::Moved { size: 8 }
    );
    let l = s.witnessed_log("l").await.unwrap().unwrap();
    assert_eq!(
        (l.size, l.root, l.checkpoint.as_deref(), l.updated_at),
        (8, Some(vec![1; 32]), Some("l\n8\nroot1\n\n— sig\n"), 208)
    );
    assert!(matches!(
        s.witness_advance(advance("l", 8, 7, 3)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.witness_advance(advance("unknown", 0, 1, 3)).await,
        Err(StoreError::NotFound(_))
    ));
    let results = futures::future::join_all(
        (0..8u64).map(|i| s.witness_advance(advance("l", 8, 10 + i, i as u8))),
    )
    .await;
    let won: Vec<u64> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| *r.as_ref().unwrap() == WitnessSwap::Advanced)
        .map(|(i, _)| 10 + i as u64)
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for r in &results {
        if let WitnessSwap::Moved { size } = r.as_ref().unwrap() {
            assert_eq!(*size, won[0]);
        }
    }
    assert_eq!(s.witnessed_log("l").await.unwrap().unwrap().size, won[0]);
}

/// Fork reports are numbered, kept as given and listed oldest first after a cursor.
pub async fn witness_fork_reports_are_listed(s: &dyn Store) {
    assert!(s.fork_reports(0, 10).await.unwrap().is_empty());
    let mut ids = Vec::new();
    for i in 0..3u64 {
        let id = s
            .put_fork_report(ForkReportRecord {
                id: 0,
                origin: "l".into(),
                kind: if i == 0 {
                    "root_mismatch"
                } else {
                    "inconsistent"
                }
                .into(),
                cosigned_size: 8 + i,
                cosigned_root: vec![i as u8; 32],
                checkpoint: format!("cp {i}\n"),
                at: 300 + i as i64,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let all = s.fork_reports(0, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].id, ids[0]);
    assert_eq!(
        (all[0].kind.as_str(), all[0].cosigned_size, all[0].at),
        ("root_mismatch", 8, 300)
    );
    assert_eq!(all[2].cosigned_root, vec![2; 32]);
    assert_eq!(all[2].checkpoint, "cp 2\n");
    let rest = s.fork_reports(ids[0], 1).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, ids[1]);
}

/// A node's own co-signed checkpoints, by size; the latest is the largest.
pub async fn witness_cosigned_checkpoints_by_size(s: &dyn Store) {
    assert_eq!(s.latest_cosigned_checkpoint().await.unwrap(), None);
    for (size, at) in [(5u64, 1i64), (12, 2), (9, 3)] {
        s.put_cosigned_checkpoint(CosignedCheckpointRecord {
            size,
            note: format!("note {size}\n"),
            created_at: at,
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.latest_cosigned_checkpoint().await.unwrap().unwrap().size,
        12
    );
    assert_eq!(
        s.cosigned_checkpoint(9).await.unwrap().unwrap().note,
        "note 9\n"
    );
    assert_eq!(s.cosigned_checkpoint(10).await.unwrap(), None);
    // The same size again replaces the note (more cosignatures on the same head).
    s.put_cosigned_checkpoint(CosignedCheckpointRecord {
        size: 9,
        note: "note 9 again\n".into(),
        created_at: 4,
    })
    .await
    .unwrap();
    let c = s.cosigned_checkpoint(9).await.unwrap().unwrap();
    assert_eq!((c.note.as_str(), c.created_at), ("note 9 again\n", 4));
}
