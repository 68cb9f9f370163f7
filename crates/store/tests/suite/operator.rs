//! The region operator's keys and events: every back-end must pass these.

use elicense_store::log::{check_operator_leaf, LeafMismatch};
use elicense_store::*;

use super::{account, institution, institution_key, put_issuer};

/// A new operator event (number assigned by the store).
pub fn op_event(action: &str, subject: &str, since: Option<i64>) -> OperatorEventRecord {
    OperatorEventRecord {
        seq: 0,
        action: action.into(),
        subject: subject.into(),
        actor: "operator:cli".into(),
        at: 100,
        since,
    }
}

fn issuer_key(kid: &str) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        issuer: "I".into(),
        alg: "ed25519".into(),
        public_jwk: "{}".into(),
        encrypted_pem: "PEM".into(),
        sm2_signer_id: None,
        not_before: 5,
        not_after: None,
        revoked_at: None,
    }
}

fn operator_key(id: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        hash: format!("hash-{id}"),
        issuer: String::new(),
        label: "ops".into(),
        created_at: 20,
        revoked_at: None,
    }
}

/// The leaf of every operator event from `from` on, checked against the stored events and
/// openings; returns the leaves.
async fn check_operator_leaves(s: &dyn Store, from: u64) -> Vec<(LogEntryRecord, LogEntry)> {
    let size = s.log_frontier().await.unwrap().size();
    let mut out = Vec::new();
    for e in s.log_entries(from, size).await.unwrap() {
        let leaf = LogEntry::parse(&e.data).unwrap();
        let op = leaf.operator_event().expect("an operator leaf");
        assert_eq!(
            e.seq, -op,
            "the row key of an operator leaf is minus its number"
        );
        let ev = s.operator_events_by_seq(vec![op]).await.unwrap().pop();
        let opening = s.operator_openings(vec![op]).await.unwrap().pop();
        assert_eq!(
            check_operator_leaf(&leaf, ev.as_ref(), opening.as_ref()),
            Ok(())
        );
        out.push((e, leaf));
    }
    out
}

/// Revokes the issuer key `kid` since `at`, with its event.
async fn revoke_key(
    s: &dyn Store,
    kid: &str,
    at: i64,
) -> Result<(OperatorEventRecord, u64), StoreError> {
    s.apply_operator(
        OperatorChange::RevokeKey {
            kid: kid.into(),
            revoked_at: at,
        },
        op_event("key_revoke", kid, Some(at)),
    )
    .await
}

/// Each change applies with its event and leaf in one transaction; a change that changes
/// nothing is `Conflict` and an unknown subject `NotFound`, both writing nothing; keys about
/// keys are public leaves, parties are commitments.
pub async fn operator_changes_are_logged(s: &dyn Store) {
    put_issuer(s).await;
    s.put_key(issuer_key("k1")).await.unwrap();
    s.put_api_key(ApiKeyRecord {
        issuer: "I".into(),
        ..operator_key("ak1")
    })
    .await
    .unwrap();
    s.put_institution(institution("91110000600037341L", &["M1"]))
        .await
        .unwrap();
    s.put_institution_key(institution_key("ik1", "91110000600037341L"))
        .await
        .unwrap();
    s.put_account(account("acc1", "zhangsan")).await.unwrap();
    s.put_operator_key(operator_key("ok1")).await.unwrap();
    assert_eq!(
        s.operator_key("ok1").await.unwrap(),
        Some(operator_key("ok1"))
    );
    assert!(s.operator_key("nope").await.unwrap().is_none());
    assert_eq!(
        s.put_operator_key(operator_key("ok1"))
            .await
            .unwrap_err()
            .code(),
        "store.duplicate"
    );
    let from = s.log_frontier().await.unwrap().size();

    let steps: Vec<(OperatorChange, OperatorEventRecord)> = vec![
        (
            OperatorChange::RevokeApiKey {
                owner: ApiKeyOwner::Issuer,
                id: "ak1".into(),
                at: 100,
            },
            op_event("api_key_revoke", "ak1", None),
        ),
        (
            OperatorChange::RevokeApiKey {
                owner: ApiKeyOwner::Institution,
                id: "ik1".into(),
                at: 100,
            },
            op_event("api_key_revoke", "ik1", None),
        ),
        (
            OperatorChange::RevokeApiKey {
                owner: ApiKeyOwner::Operator,
                id: "ok1".into(),
                at: 100,
            },
            op_event("api_key_revoke", "ok1", None),
        ),
        (
            OperatorChange::InstitutionDisabled {
                code: "91110000600037341L".into(),
                disabled_at: Some(100),
            },
            op_event("institution_disable", "91110000600037341L", None),
        ),
        (
            OperatorChange::AccountDisabled {
                account: "acc1".into(),
                disabled_at: Some(100),
            },
            op_event("account_disable", "acc1", None),
        ),
        (
            OperatorChange::RetireKey {
                kid: "k1".into(),
                not_after: 100,
            },
            op_event("key_retire", "k1", None),
        ),
        (
            OperatorChange::RevokeKey {
                kid: "k1".into(),
                revoked_at: 90,
            },
            op_event("key_revoke", "k1", Some(90)),
        ),
    ];
    let mut seqs = Vec::new();
    for (i, (change, event)) in steps.iter().enumerate() {
        let (stored, index) = s
            .apply_operator(change.clone(), event.clone())
            .await
            .unwrap();
        assert_eq!(index, from + i as u64);
        assert_eq!(
            stored,
            OperatorEventRecord {
                seq: stored.seq,
                ..event.clone()
            }
        );
        seqs.push(stored.seq);
        // The same change again changes nothing: Conflict, nothing written.
        let size = s.log_frontier().await.unwrap().size();
        let err = s
            .apply_operator(change.clone(), event.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "store.conflict", "{change:?}");
        assert_eq!(s.log_frontier().await.unwrap().size(), size);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(
        s.api_key("ak1").await.unwrap().unwrap().revoked_at,
        Some(100)
    );
    assert_eq!(
        s.institution_key("ik1").await.unwrap().unwrap().revoked_at,
        Some(100)
    );
    assert_eq!(
        s.operator_key("ok1").await.unwrap().unwrap().revoked_at,
        Some(100)
    );
    let k = s.keys("I").await.unwrap().remove(0);
    assert_eq!((k.not_after, k.revoked_at), (Some(100), Some(90)));
    // A revocation may move `since` earlier, never later.
    revoke_key(s, "k1", 80).await.unwrap();
    assert_eq!(
        revoke_key(s, "k1", 85).await.unwrap_err().code(),
        "store.conflict"
    );
    // Enabling what is disabled.
    s.apply_operator(
        OperatorChange::InstitutionDisabled {
            code: "91110000600037341L".into(),
            disabled_at: None,
        },
        op_event("institution_enable", "91110000600037341L", None),
    )
    .await
    .unwrap();
    assert_eq!(
        s.institution("91110000600037341L")
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        None
    );

    // Unknown subjects: NotFound, nothing written.
    let size = s.log_frontier().await.unwrap().size();
    for change in [
        OperatorChange::RevokeApiKey {
            owner: ApiKeyOwner::Institution,
            id: "ak1".into(),
            at: 1,
        },
        OperatorChange::InstitutionDisabled {
            code: "nobody".into(),
            disabled_at: Some(1),
        },
        OperatorChange::RetireKey {
            kid: "k9".into(),
            not_after: 1,
        },
    ] {
        let err = s
            .apply_operator(change, op_event("key_retire", "x", None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "store.not_found");
    }
    // An event that cannot be logged (unknown action, a date where none belongs) rolls the
    // change back.
    for bad in [
        op_event("key_delete", "k1", None),
        op_event("institution_disable", "91110000600037341L", Some(5)),
    ] {
        let err = s
            .apply_operator(
                OperatorChange::InstitutionDisabled {
                    code: "91110000600037341L".into(),
                    disabled_at: Some(200),
                },
                bad,
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "store.invalid");
    }
    assert_eq!(
        s.institution("91110000600037341L")
            .await
            .unwrap()
            .unwrap()
            .disabled_at,
        None,
        "rolled back"
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size);

    // Every leaf checks against the database; parties are commitments.
    let leaves = check_operator_leaves(s, from).await;
    assert_eq!(leaves.len(), steps.len() + 2);
    for (e, leaf) in &leaves {
        let text = String::from_utf8(e.data.clone()).unwrap();
        match leaf {
            LogEntry::Operator(o) => {
                assert!(o.action.is_public());
                assert!(text.contains(&o.subject));
            }
            LogEntry::OperatorCommit(_) => {
                assert!(!text.contains("91110000600037341L"), "{text}");
                assert!(
                    !text.contains("acc1") && !text.contains("zhangsan"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let listed = s.operator_events(0, 100).await.unwrap();
    assert_eq!(listed.len(), leaves.len());
    assert_eq!(
        s.operator_events(listed[2].seq, 2).await.unwrap(),
        listed[3..5].to_vec()
    );
    // License events are unaffected: log_index of a license seq never finds an operator leaf.
    for e in &listed {
        assert_eq!(s.log_index(e.seq).await.unwrap(), None);
    }
}

/// A changed salt or subject of a committed operator event is caught by the check.
pub async fn operator_openings_are_checked(s: &dyn Store) {
    s.put_account(account("acc1", "zhangsan")).await.unwrap();
    let from = s.log_frontier().await.unwrap().size();
    let (stored, _) = s
        .apply_operator(
            OperatorChange::AccountDisabled {
                account: "acc1".into(),
                disabled_at: Some(100),
            },
            op_event("account_disable", "acc1", None),
        )
        .await
        .unwrap();
    let leaf = s.log_entries(from, from + 1).await.unwrap().remove(0);
    let leaf = LogEntry::parse(&leaf.data).unwrap();
    let mut opening = s
        .operator_openings(vec![stored.seq])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        check_operator_leaf(&leaf, Some(&stored), Some(&opening)),
        Ok(())
    );
    let other = OperatorEventRecord {
        subject: "acc2".into(),
        ..stored.clone()
    };
    assert_eq!(
        check_operator_leaf(&leaf, Some(&other), Some(&opening)),
        Err(LeafMismatch::OperatorField {
            op: stored.seq,
            field: "subject"
        })
    );
    assert_eq!(
        check_operator_leaf(&leaf, Some(&stored), None),
        Err(LeafMismatch::NoOperatorOpening { op: stored.seq })
    );
    opening.salt[0] ^= 1;
    assert_eq!(
        check_operator_leaf(&leaf, Some(&stored), Some(&opening)),
        Err(LeafMismatch::OperatorCommitment { op: stored.seq })
    );
}
