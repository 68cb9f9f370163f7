//! The hub's trust-list tables and issuer succession.

use elicense_store::*;

use super::{op_event, put_issuer};

fn list(id: &str, areas: &[&str]) -> RecognitionRecord {
    RecognitionRecord {
        id: id.into(),
        name: format!("list {id}"),
        areas: areas.iter().map(|a| a.to_string()).collect(),
        types: vec!["T1".into(), "T2".into()],
        updated_at: 7,
    }
}

/// Lists are upserted whole by id, listed by id, deleted once.
pub async fn trust_recognition_lists(s: &dyn Store) {
    assert!(s.recognition_lists().await.unwrap().is_empty());
    s.put_recognition(list("yrd", &["310000", "320000"]))
        .await
        .unwrap();
    s.put_recognition(list("cy", &["500000", "510000"]))
        .await
        .unwrap();
    let mut changed = list("yrd", &["310000", "320000", "330000"]);
    changed.types = vec!["T3".into()];
    s.put_recognition(changed.clone()).await.unwrap();
    let all = s.recognition_lists().await.unwrap();
    assert_eq!(all, vec![list("cy", &["500000", "510000"]), changed]);
    assert!(s.delete_recognition("cy").await.unwrap());
    assert!(!s.delete_recognition("cy").await.unwrap());
    assert_eq!(s.recognition_lists().await.unwrap().len(), 1);
}

/// Every number is above the ones before.
pub async fn trust_seq_only_grows(s: &dyn Store) {
    let a = s.next_trust_seq().await.unwrap();
    let b = s.next_trust_seq().await.unwrap();
    let c = s.next_trust_seq().await.unwrap();
    assert_eq!((a, b, c), (1, 2, 3));
}

/// A successor is set once, with its end and a public operator event; `put_issuer` (a
/// catalogue reload) keeps it.
pub async fn issuer_succession_is_logged_once(s: &dyn Store) {
    put_issuer(s).await;
    let change = OperatorChange::Succeed {
        code: "I".into(),
        successor: "J".into(),
        ended_at: 50,
    };
    let (e, _) = s
        .apply_operator(change.clone(), op_event("issuer_succeed", "I>J", Some(50)))
        .await
        .unwrap();
    assert_eq!((e.subject.as_str(), e.since), ("I>J", Some(50)));
    let i = s.issuer("I").await.unwrap().unwrap();
    assert_eq!((i.successor.as_deref(), i.ended_at), (Some("J"), Some(50)));
    assert!(matches!(
        s.apply_operator(change, op_event("issuer_succeed", "I>J", Some(50)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let missing = OperatorChange::Succeed {
        code: "X".into(),
        successor: "J".into(),
        ended_at: 50,
    };
    assert!(matches!(
        s.apply_operator(missing, op_event("issuer_succeed", "X>J", Some(50)))
            .await,
        Err(StoreError::NotFound(_))
    ));
    put_issuer(s).await;
    assert_eq!(
        s.issuer("I").await.unwrap().unwrap().successor.as_deref(),
        Some("J")
    );
    assert_eq!(s.issuers().await.unwrap()[0].ended_at, Some(50));
}
