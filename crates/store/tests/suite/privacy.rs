//! The public log and the privacy of uses (leaf format 2): every back-end must pass these.

use elicense_store::log::{check_leaf, LeafMismatch};
use elicense_store::*;

use super::{authorization, event, institution, new_license, opened, share};

/// Every leaf from `from` on, checked against the stored events of `lineage` and the stored
/// openings; returns the leaves' bytes.
pub async fn check_every_leaf(s: &dyn Store, from: u64, lineage: &str) -> Vec<Vec<u8>> {
    let events = s.events(lineage).await.unwrap();
    let size = s.log_frontier().await.unwrap().size();
    let entries = s.log_entries(from, size).await.unwrap();
    let seqs = entries.iter().map(|e| e.seq).collect();
    let openings = s.log_openings(seqs).await.unwrap();
    for e in &entries {
        let leaf = LogEntry::parse(&e.data).unwrap();
        let event = events.iter().find(|ev| ev.seq == e.seq);
        let opening = openings.iter().find(|o| o.seq == e.seq);
        assert_eq!(
            check_leaf(&leaf, event, opening),
            Ok(()),
            "leaf {}",
            e.index
        );
    }
    entries.into_iter().map(|e| e.data).collect()
}

/// After a sharing request with a purpose, an authorization, an institution's verification
/// and a suspension with a reason, no public leaf names the license next to a use, the
/// institution, the purpose or the reason's words; each use's opening is stored, hashes to
/// its leaf and agrees with its event.
pub async fn log_uses_are_commitments(s: &dyn Store) {
    const PURPOSE: &str = "开户核验-秘密用途";
    const REASON: &str = "酒驾被查-具体案情";
    const INSTITUTION: &str = "91110000600037341L";
    s.insert(new_license("P1", (20, 0))).await.unwrap();
    let from = s.log_frontier().await.unwrap().size();
    s.put_institution(institution(INSTITUTION, &["M1"]))
        .await
        .unwrap();
    let query = EventRecord {
        actor: format!("institution:{INSTITUTION}"),
        reason: Some(PURPOSE.into()),
        detail: format!("{{\"institution\":\"{INSTITUTION}\",\"purpose\":\"{PURPOSE}\"}}"),
        ..event("P1", "share_query")
    };
    s.put_share(
        ShareRecord {
            purpose: PURPOSE.into(),
            ..share("shp", INSTITUTION, "P1", "h1", 100)
        },
        vec![query],
    )
    .await
    .unwrap();
    s.put_authorization(
        authorization("aup", "P1", "agent", 10),
        event("P1", "authorize"),
    )
    .await
    .unwrap();
    s.record_use(EventRecord {
        actor: format!("institution:{INSTITUTION}"),
        detail: format!("{{\"institution\":\"{INSTITUTION}\"}}"),
        ..event("P1", "verify")
    })
    .await
    .unwrap();
    s.transition(TransitionRecord {
        identifier: "P1".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "suspended".into(),
        new_status_value: 2,
        new_pledged: false,
        event: EventRecord {
            reason: Some(REASON.into()),
            reason_category: Some("violation".into()),
            ..event("P1", "suspend")
        },
        successor: None,
        end_authorizations: false,
        at: 200,
    })
    .await
    .unwrap();
    let leaves = check_every_leaf(s, from, "L-P1").await;
    assert_eq!(leaves.len(), 4);
    let entries = s.log_entries(from, from + 4).await.unwrap();
    let mut kinds = Vec::new();
    for (e, data) in entries.iter().zip(&leaves) {
        let text = String::from_utf8(data.clone()).unwrap();
        for secret in [PURPOSE, REASON, INSTITUTION, "institution", "agent"] {
            assert!(
                !text.contains(secret),
                "{secret} in leaf {}: {text}",
                e.index
            );
        }
        match LogEntry::parse(data).unwrap() {
            LogEntry::Use(_) => {
                assert!(!text.contains("P1"), "a use names no license: {text}");
                kinds.push(opened(s, e).await.kind.to_string());
            }
            LogEntry::Lifecycle(l) => {
                assert_eq!(l.reason.map(|r| r.as_str()), Some("violation"));
                kinds.push(l.kind.to_string());
            }
            other @ (LogEntry::V1(_) | LogEntry::Operator(_) | LogEntry::OperatorCommit(_)) => {
                panic!("not a license's version 2 leaf: {other:?}")
            }
        }
    }
    assert_eq!(kinds, ["share_query", "authorize", "verify", "suspend"]);
    // The opening carries what the holder may see: the purpose and the institution.
    let query = opened(s, &entries[0]).await;
    assert_eq!(query.reason.as_deref(), Some(PURPOSE));
    assert!(query.detail.contains(INSTITUTION));
    // The issuer's words stay in the store.
    let events = s.events("L-P1").await.unwrap();
    assert_eq!(events.last().unwrap().reason.as_deref(), Some(REASON));
    assert_eq!(
        events.last().unwrap().reason_category.as_deref(),
        Some("violation")
    );
    // Lifecycle events and unknown ones have no opening.
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).chain([987_654]).collect();
    assert_eq!(s.log_openings(seqs).await.unwrap().len(), 3);
}

/// A use cannot enter the log in clear, nor a lifecycle event as a commitment; an unknown
/// kind or reason category is refused. Nothing is written then.
pub async fn log_refuses_uses_in_clear(s: &dyn Store) {
    s.insert(new_license("Q1", (21, 0))).await.unwrap();
    let size = s.log_frontier().await.unwrap().size();
    let events = s.events("L-Q1").await.unwrap().len();
    let t = |kind: &str, category: Option<&str>| TransitionRecord {
        identifier: "Q1".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "suspended".into(),
        new_status_value: 2,
        new_pledged: false,
        event: EventRecord {
            reason_category: category.map(Into::into),
            ..event("Q1", kind)
        },
        successor: None,
        end_authorizations: false,
        at: 200,
    };
    for bad in [
        t("verify", None),
        t("flip", None),
        t("suspend", Some("骗取许可")),
    ] {
        let e = s.transition(bad).await.unwrap_err();
        assert_eq!(e.code(), "store.invalid", "{e}");
    }
    for bad in ["revoke", "issue", "flip"] {
        let e = s.record_use(event("Q1", bad)).await.unwrap_err();
        assert_eq!(e.code(), "store.invalid", "{bad}: {e}");
    }
    let e = s
        .put_authorization(
            authorization("auq", "Q1", "agent", 10),
            event("Q1", "revoke"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "store.invalid");
    assert!(s.authorizations("L-Q1").await.unwrap().is_empty());
    assert_eq!(s.log_frontier().await.unwrap().size(), size);
    assert_eq!(s.events("L-Q1").await.unwrap().len(), events);
    assert_eq!(s.license("Q1").await.unwrap().unwrap().status, "valid");
}

/// The check of a leaf against the database catches an opening whose salt was changed.
pub async fn a_changed_salt_is_caught(s: &dyn Store, seq: i64) -> LeafMismatch {
    let index = s.log_index(seq).await.unwrap().unwrap();
    let entry = s.log_entries(index, index + 1).await.unwrap().remove(0);
    let leaf = LogEntry::parse(&entry.data).unwrap();
    let opening = s.log_openings(vec![seq]).await.unwrap().pop();
    let lineage = s.license("W1").await.unwrap().unwrap().lineage;
    let events = s.events(&lineage).await.unwrap();
    check_leaf(
        &leaf,
        events.iter().find(|e| e.seq == seq),
        opening.as_ref(),
    )
    .unwrap_err()
}
