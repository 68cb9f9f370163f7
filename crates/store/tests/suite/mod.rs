//! The storage conformance suite: every back-end must pass each of these functions.
//! A back-end's test file calls `conformance_tests!` with a constructor of fresh stores.

#![allow(dead_code)]

pub mod federation;
pub mod oidc;
pub mod operator;
mod privacy;
pub mod seals;
pub mod trust;
pub mod vci;
mod vp;
pub mod witness;

use elicense_store::*;
pub use federation::*;
pub use oidc::*;
pub use operator::*;
pub use privacy::*;
pub use seals::*;
pub use trust::*;
pub use vci::*;
pub use vp::*;
pub use witness::*;

pub fn license(
    id: &str,
    lineage: &str,
    version: u32,
    slot: (u32, u32),
    holder: &str,
) -> LicenseRecord {
    LicenseRecord {
        identifier: id.into(),
        lineage: lineage.into(),
        version,
        type_code: "T".into(),
        catalogue_version: 1,
        issuer: "I".into(),
        holder_key: holder.into(),
        status: "valid".into(),
        status_value: 0,
        pledged: false,
        meta: "{}".into(),
        credential: format!("cred-{id}"),
        alg: "sm2".into(),
        kid: "k1".into(),
        status_list: slot.0,
        status_idx: slot.1,
        issued_at: 100,
        valid_until: Some(1_000),
        updated_at: 100,
        representative_key: None,
    }
}

pub fn event(id: &str, kind: &str) -> EventRecord {
    EventRecord {
        seq: 0,
        identifier: id.into(),
        kind: kind.into(),
        actor: "tester".into(),
        at: 100,
        reason: None,
        detail: "{}".into(),
        reason_category: None,
    }
}

pub fn new_license(id: &str, slot: (u32, u32)) -> NewLicense {
    NewLicense {
        license: license(id, &format!("L-{id}"), 1, slot, "h1"),
        event: event(id, "issue"),
        import_row: None,
    }
}

pub async fn catalogue_versions(s: &dyn Store) {
    assert_eq!(s.put_type("A", "{\"v\":1}", 1).await.unwrap(), 1);
    assert_eq!(
        s.put_type("A", "{\"v\":1}", 2).await.unwrap(),
        1,
        "unchanged keeps version"
    );
    assert_eq!(
        s.put_type("A", "{\"v\":2}", 3).await.unwrap(),
        2,
        "changed bumps version"
    );
    s.put_type("B", "{}", 4).await.unwrap();
    let types = s.types().await.unwrap();
    assert_eq!(
        types
            .iter()
            .map(|t| (t.code.as_str(), t.version))
            .collect::<Vec<_>>(),
        [("A", 2), ("B", 1)]
    );
    assert_eq!(
        s.type_version("A", Some(1))
            .await
            .unwrap()
            .unwrap()
            .definition,
        "{\"v\":1}"
    );
    assert_eq!(s.type_version("A", None).await.unwrap().unwrap().version, 2);
    assert!(s.type_version("C", None).await.unwrap().is_none());
}

/// The issuer `I` (name `n`, area 110000).
pub async fn put_issuer(s: &dyn Store) {
    s.put_issuer(IssuerRecord {
        code: "I".into(),
        name: "n".into(),
        area: "110000".into(),
        successor: None,
        ended_at: None,
    })
    .await
    .unwrap();
}

pub async fn issuers_and_keys(s: &dyn Store) {
    put_issuer(s).await;
    s.put_issuer(IssuerRecord {
        code: "I".into(),
        name: "renamed".into(),
        area: "110000".into(),
        successor: None,
        ended_at: None,
    })
    .await
    .unwrap();
    assert_eq!(s.issuer("I").await.unwrap().unwrap().name, "renamed");
    let key = KeyRecord {
        kid: "k1".into(),
        issuer: "I".into(),
        alg: "sm2".into(),
        public_jwk: "{}".into(),
        encrypted_pem: "SECRET".into(),
        sm2_signer_id: None,
        not_before: 5,
        not_after: None,
        revoked_at: None,
    };
    assert!(
        !format!("{key:?}").contains("SECRET"),
        "Debug must redact the private key"
    );
    s.put_key(key.clone()).await.unwrap();
    let err = s.put_key(key.clone()).await.unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    let unknown_issuer = KeyRecord {
        kid: "k2".into(),
        issuer: "nobody".into(),
        ..key.clone()
    };
    assert!(
        s.put_key(unknown_issuer).await.is_err(),
        "a key needs a known issuer"
    );
    assert_eq!(s.keys("I").await.unwrap(), vec![key.clone()]);
    assert_eq!(s.all_keys().await.unwrap().len(), 1);
    s.put_api_key(ApiKeyRecord {
        id: "ak".into(),
        hash: "h".into(),
        issuer: "I".into(),
        label: "l".into(),
        created_at: 1,
        revoked_at: None,
    })
    .await
    .unwrap();
    assert_eq!(s.api_key("ak").await.unwrap().unwrap().issuer, "I");
    assert!(s.api_key("zz").await.unwrap().is_none());
}

pub async fn reservations_never_collide(s: &dyn Store) {
    let a = s.reserve("T", "I", "sm2", 3).await.unwrap();
    let b = s.reserve("T", "I", "sm2", 2).await.unwrap();
    let c = s.reserve("T2", "I", "sm2", 1).await.unwrap();
    assert_eq!(a.first_serial, 1);
    assert_eq!(b.first_serial, 4);
    assert_eq!(c.first_serial, 1, "serials count per type and issuer");
    let mut slots: Vec<_> = a
        .slots
        .iter()
        .chain(&b.slots)
        .chain(&c.slots)
        .copied()
        .collect();
    assert_eq!(slots.len(), 6);
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), 6, "status slots are unique");
}

pub async fn lists_are_per_issuer_and_algorithm(s: &dyn Store) {
    // One issuer, three algorithms: the serials of (type, issuer) stay one sequence, and the
    // slots of each algorithm go to lists recorded with that algorithm only.
    let es = s.reserve("T", "I", "es256", 2).await.unwrap();
    let ed = s.reserve("T", "I", "ed25519", 1).await.unwrap();
    let sm = s.reserve("T", "I", "sm2", 1).await.unwrap();
    let es2 = s.reserve("T", "I", "es256", 1).await.unwrap();
    let serials = [
        es.first_serial,
        ed.first_serial,
        sm.first_serial,
        es2.first_serial,
    ];
    assert_eq!(serials, [1, 3, 4, 5], "serials count per type and issuer");
    let lists = s.lists().await.unwrap();
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert!(lists.iter().all(|l| l.issuer == "I"));
    let alg_of = |list: u32| {
        let l = lists.iter().find(|l| l.id == list).expect("a listed list");
        l.alg.clone()
    };
    for (r, alg) in [
        (&es, "es256"),
        (&ed, "ed25519"),
        (&sm, "sm2"),
        (&es2, "es256"),
    ] {
        for &(list, _) in &r.slots {
            assert_eq!(alg_of(list).as_deref(), Some(alg));
        }
    }
    assert_eq!(
        es2.slots,
        vec![(es.slots[0].0, 2)],
        "the algorithm's list fills on"
    );
    let one = s.list(ed.slots[0].0).await.unwrap().unwrap();
    assert_eq!((one.alg.as_deref(), one.len), (Some("ed25519"), 1));
}

pub async fn concurrent_reservations_never_collide(s: &dyn Store) {
    // Many callers at once, for two issuers: serials stay unique and dense per (type, issuer),
    // slots unique, and every list holds the slots of one issuer only.
    let tasks = (0..60u32).map(|i| async move {
        let issuer = if i % 3 == 0 { "J" } else { "I" };
        (
            issuer,
            s.reserve("T", issuer, "sm2", 1 + i % 4).await.unwrap(),
        )
    });
    let all = futures::future::join_all(tasks).await;
    for issuer in ["I", "J"] {
        let mut serials: Vec<u64> = all
            .iter()
            .filter(|(i, _)| *i == issuer)
            .flat_map(|(_, r)| r.first_serial..r.first_serial + r.slots.len() as u64)
            .collect();
        serials.sort();
        assert_eq!(serials, (1..=serials.len() as u64).collect::<Vec<_>>());
    }
    let mut owner = std::collections::BTreeMap::new();
    let mut slots = Vec::new();
    for (issuer, r) in &all {
        for &(list, idx) in &r.slots {
            assert_eq!(
                *owner.entry(list).or_insert(*issuer),
                *issuer,
                "list {list}"
            );
            slots.push((list, idx));
        }
    }
    let n = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), n, "status slots are unique");
    let listed: u32 = s.lists().await.unwrap().iter().map(|l| l.len).sum();
    assert_eq!(listed as usize, n);
}

pub async fn insert_is_atomic(s: &dyn Store) {
    let ev = s.insert(new_license("X1", (1, 0))).await.unwrap();
    assert!(ev.seq > 0);
    // Same identifier again: refused, and no second event appears.
    let err = s.insert(new_license("X1", (1, 1))).await.unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    // Same status slot: refused.
    let err = s.insert(new_license("X2", (1, 0))).await.unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    assert!(s.license("X2").await.unwrap().is_none());
    assert_eq!(s.events("L-X1").await.unwrap().len(), 1);
    assert_eq!(s.count().await.unwrap(), 1);
    // An import row that collides rolls back the license written with it.
    s.begin_job("job", "file.csv", 1).await.unwrap();
    s.record_failure(ImportRowRecord {
        job: "job".into(),
        row: 7,
        identifier: None,
        error_code: Some("e".into()),
        error_message: Some("m".into()),
    })
    .await
    .unwrap();
    let mut n = new_license("X3", (1, 2));
    n.import_row = Some(ImportRowRecord {
        job: "job".into(),
        row: 7,
        identifier: Some("X3".into()),
        error_code: None,
        error_message: None,
    });
    assert!(s.insert(n).await.is_err());
    assert!(
        s.license("X3").await.unwrap().is_none(),
        "license rolled back with its journal row"
    );
    assert!(s.events("L-X3").await.unwrap().is_empty());
}

pub async fn group_commit_isolates_failures(s: &dyn Store) {
    // Many concurrent writes, some of which fail: each succeeds or fails alone.
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let id = if i % 10 == 9 {
            "DUP".to_string()
        } else {
            format!("G{i}")
        };
        tasks.push(s.insert(new_license(&id, (9, i))));
    }
    let results = futures::future::join_all(tasks).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    // 180 unique + the first "DUP" succeed; 19 later "DUP" fail.
    assert_eq!(ok, 181);
    assert_eq!(s.count().await.unwrap(), 181);
    for (i, r) in results.iter().enumerate() {
        if let Err(e) = r {
            assert_eq!(e.code(), "store.duplicate", "row {i}");
        }
    }
}

pub async fn transitions_check_state(s: &dyn Store) {
    s.insert(new_license("V1", (2, 0))).await.unwrap();
    let epoch0 = s.status_epoch().await.unwrap();
    let t = TransitionRecord {
        identifier: "V1".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "suspended".into(),
        new_status_value: 2,
        new_pledged: false,
        event: event("V1", "suspend"),
        successor: None,
        end_authorizations: false,
        at: 200,
    };
    s.transition(t.clone()).await.unwrap();
    assert!(s.status_epoch().await.unwrap() > epoch0);
    assert_eq!(
        s.non_valid(2).await.unwrap(),
        vec![StatusEntry { idx: 0, status: 2 }]
    );
    // The same transition again: the license is no longer "valid" -> conflict, no event.
    assert_eq!(
        s.transition(t.clone()).await.unwrap_err().code(),
        "store.conflict"
    );
    assert_eq!(s.events("L-V1").await.unwrap().len(), 2);
    let missing = TransitionRecord {
        identifier: "nope".into(),
        ..t.clone()
    };
    assert_eq!(
        s.transition(missing).await.unwrap_err().code(),
        "store.not_found"
    );
    // A change with a successor whose slot collides rolls back the status change too.
    s.insert(new_license("V2", (2, 1))).await.unwrap();
    let mut succ = new_license("V1b", (2, 1));
    succ.license.lineage = "L-V1".into();
    succ.license.version = 2;
    let change = TransitionRecord {
        expected_status: "suspended".into(),
        new_status: "superseded".into(),
        new_status_value: 1,
        event: event("V1", "change"),
        successor: Some(succ.clone()),
        ..t.clone()
    };
    assert!(s.transition(change.clone()).await.is_err());
    assert_eq!(s.license("V1").await.unwrap().unwrap().status, "suspended");
    succ.license.status_idx = 2;
    let change = TransitionRecord {
        successor: Some(succ),
        ..change
    };
    s.transition(change).await.unwrap();
    let versions = s.versions("L-V1").await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.status.as_str()))
            .collect::<Vec<_>>(),
        [(1, "superseded"), (2, "valid")]
    );
    let kinds: Vec<_> = s
        .events("L-V1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["issue", "suspend", "change", "issue"]);
    let mut nv = s.non_valid(2).await.unwrap();
    nv.sort_by_key(|e| e.idx);
    assert_eq!(nv, vec![StatusEntry { idx: 0, status: 1 }]);
}

pub async fn queries(s: &dyn Store) {
    let mut a = new_license("Q1", (3, 0));
    a.license.valid_until = Some(50);
    a.license.meta = r#"{"n":"Q1"}"#.into();
    let mut b = new_license("Q2", (3, 1));
    b.license.holder_key = "h2".into();
    b.license.valid_until = None;
    b.license.meta = r#"{"n":"Q2"}"#.into();
    a.license.representative_key = Some("r1".into());
    s.insert(a).await.unwrap();
    s.insert(b).await.unwrap();
    // A superseded version names its representative no more.
    let mut old = new_license("Q4", (3, 3));
    old.license.representative_key = Some("r1".into());
    old.license.status = "superseded".into();
    s.insert(old).await.unwrap();
    let reps = s.represented_by("r1").await.unwrap();
    assert_eq!(reps.len(), 1, "{reps:?}");
    assert_eq!(reps[0].identifier, "Q1");
    assert_eq!(reps[0].representative_key.as_deref(), Some("r1"));
    assert!(s.represented_by("h1").await.unwrap().is_empty());
    assert_eq!(
        s.license("Q2").await.unwrap().unwrap().representative_key,
        None
    );
    assert_eq!(s.expiring(60, 10).await.unwrap(), vec!["Q1".to_string()]);
    assert!(s.expiring(40, 10).await.unwrap().is_empty());
    assert_eq!(s.by_holder("h2").await.unwrap().len(), 1);
    assert_eq!(s.by_holder("h1").await.unwrap()[0].identifier, "Q1");
    let mut metas = s
        .metas(&["Q2".into(), "Q-none".into(), "Q1".into()])
        .await
        .unwrap();
    metas.sort();
    let stored = |id: &str| (id.to_owned(), format!(r#"{{"n":"{id}"}}"#));
    assert_eq!(
        metas,
        vec![stored("Q1"), stored("Q2")],
        "each stored one with its own metadata, the others left out"
    );
    assert!(s.metas(&[]).await.unwrap().is_empty());
    let rows = s.begin_job("j2", "f", 1).await.unwrap();
    assert!(rows.is_empty());
    let mut c = new_license("Q3", (3, 2));
    c.import_row = Some(ImportRowRecord {
        job: "j2".into(),
        row: 1,
        identifier: Some("Q3".into()),
        error_code: None,
        error_message: None,
    });
    s.insert(c).await.unwrap();
    s.record_failure(ImportRowRecord {
        job: "j2".into(),
        row: 2,
        identifier: None,
        error_code: Some("x".into()),
        error_message: Some("bad".into()),
    })
    .await
    .unwrap();
    let rows = s.begin_job("j2", "f", 2).await.unwrap();
    assert_eq!(
        rows.len(),
        2,
        "resuming a job returns the rows already done"
    );
}

#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make; catalogue_versions, issuers_and_keys,
            reservations_never_collide, lists_are_per_issuer_and_algorithm, concurrent_reservations_never_collide, insert_is_atomic, group_commit_isolates_failures,
            transitions_check_state, queries, log_appends_with_events, log_under_concurrency,
            wallet_accounts, operator_accounts, institution_staff_and_forms, wallet_bindings_upsert, wallet_presentations_purge,
            wallet_presentations_complete_once_and_open_once, wallet_bindings_keep_the_newest,
            transfer_ends_authorizations,
            wallet_authorizations, wallet_uses, wallet_uses_interleave_with_transitions,
            institutions_upsert, institution_keys, shares_append_events, shares_need_a_license,
            shares_for_holders_newest_first, shares_decide_once,
            shares_of_institution_newest_first, sessions_end_and_disable,
            sessions_touch_and_purge, sign_in_failures_newest_first,
            log_uses_are_commitments, log_refuses_uses_in_clear,
            operator_changes_are_logged, operator_openings_are_checked,
            federation_batches_apply_once, federation_push_state_and_hub_without_outbox,
            federation_full_batch,
            witness_admits_logs, witness_advance_is_compare_and_swap,
            witness_fork_reports_are_listed, witness_cosigned_checkpoints_by_size,

            trust_recognition_lists, trust_seq_only_grows, issuer_succession_is_logged_once,
            oidc_logins_are_taken_once, oidc_accounts_come_with_their_link,
            vp_requests_are_answered_once,
            vci_offers_burn_grant_and_redeem_once, vci_nonces_are_used_once_and_purged,
            seal_ca_first_writer_wins, seals_put_get_and_list, seals_duplicates_write_nothing,
            seal_status_and_users, inactive_seals_by_algorithm, seal_uses_all_or_none,
            key_certificates_are_replaced_by_renewals);
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make().await;
                suite::$name(&store).await;
            }
        )*
    };
}

/// A [`elicense_log::HashReader`] that records what a proof generator asks for (first pass);
/// the second pass answers from hashes fetched from the store.
struct Recorder(std::cell::RefCell<Vec<elicense_log::NodeId>>);

impl elicense_log::HashReader for Recorder {
    fn read_hashes(
        &self,
        nodes: &[elicense_log::NodeId],
    ) -> Result<Vec<elicense_log::Hash>, elicense_log::TreeError> {
        self.0.borrow_mut().extend_from_slice(nodes);
        Ok(vec![elicense_log::Hash::default(); nodes.len()])
    }
}

struct Fetched(std::collections::HashMap<elicense_log::NodeId, elicense_log::Hash>);

impl elicense_log::HashReader for Fetched {
    fn read_hashes(
        &self,
        nodes: &[elicense_log::NodeId],
    ) -> Result<Vec<elicense_log::Hash>, elicense_log::TreeError> {
        Ok(nodes.iter().map(|n| self.0[n]).collect())
    }
}

async fn store_reader(
    s: &dyn Store,
    gen: impl Fn(
        &dyn elicense_log::HashReader,
    ) -> Result<Vec<elicense_log::Hash>, elicense_log::ProofError>,
) -> Vec<elicense_log::Hash> {
    let rec = Recorder(Default::default());
    gen(&rec).unwrap();
    let nodes = rec.0.into_inner();
    let hashes = s.log_hashes(nodes.clone()).await.unwrap();
    gen(&Fetched(nodes.into_iter().zip(hashes).collect())).unwrap()
}

/// Every event is in the log, written in its transaction; the stored tree agrees with an
/// in-memory frontier over the stored entries, and proofs from stored hashes verify.
pub async fn log_appends_with_events(s: &dyn Store) {
    use elicense_log::{leaf_hash, verify_consistency, verify_inclusion, Frontier};
    assert_eq!(s.log_frontier().await.unwrap().size(), 0);
    let ev = s.insert(new_license("X1", (1, 0))).await.unwrap();
    assert_eq!(s.log_index(ev.seq).await.unwrap(), Some(0));
    // A failing license insert leaves no log entry.
    assert!(s.insert(new_license("X1", (1, 1))).await.is_err());
    assert!(s.insert(new_license("X2", (1, 0))).await.is_err());
    assert_eq!(s.log_frontier().await.unwrap().size(), 1);
    // Transitions log their event; a conflicting one logs nothing.
    let t = TransitionRecord {
        identifier: "X1".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "revoked".into(),
        new_status_value: 1,
        new_pledged: false,
        event: EventRecord {
            reason: Some("原因".into()),
            reason_category: Some("violation".into()),
            ..event("X1", "revoke")
        },
        successor: None,
        end_authorizations: false,
        at: 200,
    };
    let rev = s.transition(t.clone()).await.unwrap();
    assert!(s.transition(t).await.is_err());
    assert_eq!(s.log_index(rev.seq).await.unwrap(), Some(1));
    for i in 0..40u32 {
        s.insert(new_license(&format!("Y{i}"), (3, i)))
            .await
            .unwrap();
    }
    let f = s.log_frontier().await.unwrap();
    assert_eq!(f.size(), 42);
    let entries = s.log_entries(0, 100).await.unwrap();
    assert_eq!(entries.len(), 42);
    let mut mem = Frontier::new();
    let mut leaves = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.index, i as u64);
        let parsed = LogEntry::parse(&e.data).unwrap();
        assert_eq!(parsed.event(), Some(e.seq));
        leaves.push(leaf_hash(&e.data));
        mem.append(leaf_hash(&e.data));
    }
    let LogEntry::Lifecycle(second) = LogEntry::parse(&entries[1].data).unwrap() else {
        panic!("a revocation is a lifecycle leaf");
    };
    assert_eq!(
        (
            second.identifier.as_str(),
            second.kind.as_str(),
            second.status.code()
        ),
        ("X1", "revoke", "revoked")
    );
    // The public leaf names the reason's category, never the issuer's words.
    assert_eq!(second.reason.map(|r| r.as_str()), Some("violation"));
    assert!(!String::from_utf8_lossy(&entries[1].data).contains("原因"));
    assert_eq!(
        second.credential_sha256,
        elicense_store::log::credential_sha256("cred-X1")
    );
    assert_eq!(f.root(), mem.root());
    assert_eq!(s.log_level(0, 0, 42).await.unwrap(), leaves);
    assert_eq!(s.log_level(1, 0, 100).await.unwrap().len(), 21);
    assert_eq!(s.log_entries(40, 41).await.unwrap().len(), 1);
    // Proofs generated from stored hashes verify against the roots of an in-memory tree.
    let mut roots = vec![elicense_log::empty_root()];
    let mut g = Frontier::new();
    for l in &leaves {
        g.append(*l);
        roots.push(g.root());
    }
    for size in [1u64, 2, 7, 8, 33, 42] {
        for index in [0, size / 2, size - 1] {
            let p = store_reader(s, |r| elicense_log::inclusion_proof(index, size, &r)).await;
            verify_inclusion(
                &leaves[index as usize],
                index,
                size,
                &p,
                &roots[size as usize],
            )
            .unwrap();
        }
        for old in [1u64, size / 3, size - 1] {
            if old == 0 || old > size {
                continue;
            }
            let p = store_reader(s, |r| elicense_log::consistency_proof(old, size, &r)).await;
            verify_consistency(old, size, &roots[old as usize], &roots[size as usize], &p).unwrap();
        }
    }
    assert_eq!(
        s.log_hashes(vec![elicense_log::NodeId::new(0, 42)])
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
    // Checkpoints: the largest size wins; the same size twice is ignored.
    assert!(s.latest_checkpoint().await.unwrap().is_none());
    for (size, note) in [(5, "a"), (42, "b"), (42, "c"), (7, "d")] {
        s.put_checkpoint(CheckpointRecord {
            size,
            note: note.into(),
            created_at: 1,
        })
        .await
        .unwrap();
    }
    let cp = s.latest_checkpoint().await.unwrap().unwrap();
    assert_eq!((cp.size, cp.note.as_str()), (42, "b"));
}

/// Concurrent writes, some failing: the log holds exactly the committed events, once each.
pub async fn log_under_concurrency(s: &dyn Store) {
    let mut tasks = Vec::new();
    for i in 0..100u32 {
        let id = if i % 10 == 9 {
            "DUP".to_string()
        } else {
            format!("C{i}")
        };
        tasks.push(s.insert(new_license(&id, (4, i))));
    }
    let ok: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter_map(|r| r.ok())
        .collect();
    assert_eq!(ok.len(), 91);
    let entries = s.log_entries(0, 1000).await.unwrap();
    assert_eq!(entries.len(), 91);
    let mut seqs: Vec<_> = entries.iter().map(|e| e.seq).collect();
    seqs.sort();
    let mut want: Vec<_> = ok.iter().map(|e| e.seq).collect();
    want.sort();
    assert_eq!(seqs, want);
    let mut level: Vec<_> = entries
        .iter()
        .map(|e| elicense_log::leaf_hash(&e.data))
        .collect();
    let mut f = elicense_log::Frontier::new();
    for h in &level {
        f.append(*h);
    }
    assert_eq!(s.log_frontier().await.unwrap().root(), f.root());
    // Every perfect node the store keeps (what proofs and tiles read) is the hash of its two
    // children, level by level, however the appends were grouped into transactions.
    for l in 0u8.. {
        assert_eq!(
            s.log_level(l, 0, level.len() as u64).await.unwrap(),
            level,
            "level {l}"
        );
        if level.len() < 2 {
            break;
        }
        level = level
            .chunks_exact(2)
            .map(|p| elicense_log::node_hash(&p[0], &p[1]))
            .collect();
    }
}

pub fn account(id: &str, username: &str) -> AccountRecord {
    AccountRecord {
        id: id.into(),
        username: username.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        profile: "{\"name\":\"张三\"}".into(),
        holder_keys: vec!["hk-own".into(), "hk-enterprise".into()],
        created_at: 10,
        disabled_at: None,
    }
}

pub fn authorization(
    id: &str,
    identifier: &str,
    agent: &str,
    created_at: i64,
) -> AuthorizationRecord {
    AuthorizationRecord {
        id: id.into(),
        lineage: format!("L-{identifier}"),
        identifier: identifier.into(),
        grantor_key: "h1".into(),
        holder_key: "h1".into(),
        agent_key: agent.into(),
        agent_name: "代理人".into(),
        matter: "M1".into(),
        valid_from: 100,
        valid_until: 200,
        created_at,
        withdrawn_at: None,
        ended_at: None,
    }
}

/// The opening of a use's leaf, checked: the leaf is only a commitment, the stored opening
/// hashes to it and opens to a use event with the leaf's sequence number.
pub async fn opened(s: &dyn Store, e: &LogEntryRecord) -> log::UseEvent {
    let LogEntry::Use(leaf) = LogEntry::parse(&e.data).unwrap() else {
        panic!("leaf {} is not a use commitment", e.index);
    };
    assert_eq!(leaf.event, e.seq);
    let mut openings = s.log_openings(vec![e.seq]).await.unwrap();
    assert_eq!(openings.len(), 1, "one opening of event {}", e.seq);
    let o = openings.remove(0);
    assert_eq!((o.seq, o.salt.len()), (e.seq, 32));
    assert_eq!(o.commitment(), leaf.commitment);
    let used = o.use_event().unwrap();
    assert_eq!(used.event, e.seq);
    assert!(
        !String::from_utf8_lossy(&e.data).contains(&used.identifier),
        "a use leaf names no license"
    );
    used
}

/// The last leaf, a use, and its opened event.
async fn last_use(s: &dyn Store) -> (LogEntryRecord, log::UseEvent) {
    let size = s.log_frontier().await.unwrap().size();
    let e = s.log_entries(size - 1, size).await.unwrap().remove(0);
    let used = opened(s, &e).await;
    (e, used)
}

pub async fn wallet_accounts(s: &dyn Store) {
    let a = account("acc1", "zhangsan");
    s.put_account(a.clone()).await.unwrap();
    assert_eq!(s.account("acc1").await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.account_by_username("zhangsan").await.unwrap(),
        Some(a.clone())
    );
    assert!(s.account("nope").await.unwrap().is_none());
    assert!(s.account_by_username("lisi").await.unwrap().is_none());
    assert!(
        !format!("{a:?}").contains("argon2"),
        "Debug must redact the password hash"
    );
    // A taken username: its own code; nothing written.
    let err = s
        .put_account(account("acc2", "zhangsan"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "account.username_taken");
    assert!(s.account("acc2").await.unwrap().is_none());
    // A taken id with a free username is a plain duplicate.
    let err = s.put_account(account("acc1", "lisi")).await.unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    // Optional fields and an empty key list round-trip.
    let b = AccountRecord {
        holder_keys: vec![],
        disabled_at: Some(20),
        ..account("acc3", "wangwu")
    };
    s.put_account(b.clone()).await.unwrap();
    assert_eq!(s.account("acc3").await.unwrap(), Some(b));
}

fn session(id: &str, account: &str, created_at: i64) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        account: account.into(),
        created_at,
        last_seen: created_at,
        ended_at: None,
    }
}

pub async fn sessions_end_and_disable(s: &dyn Store) {
    s.put_account(account("acc1", "zhangsan")).await.unwrap();
    s.put_account(account("acc2", "lisi")).await.unwrap();
    for (id, acc) in [("s1", "acc1"), ("s2", "acc1"), ("s3", "acc2")] {
        s.put_session(session(id, acc, 100)).await.unwrap();
    }
    assert_eq!(
        s.session("s1").await.unwrap(),
        Some(session("s1", "acc1", 100))
    );
    assert!(s.session("nope").await.unwrap().is_none());
    assert_eq!(
        s.put_session(session("s1", "acc2", 5))
            .await
            .unwrap_err()
            .code(),
        "store.duplicate"
    );
    // Sign-out ends one session, once.
    assert!(s.end_session("s1", 110).await.unwrap());
    assert!(!s.end_session("s1", 120).await.unwrap(), "ended already");
    assert!(!s.end_session("nope", 120).await.unwrap());
    assert_eq!(s.session("s1").await.unwrap().unwrap().ended_at, Some(110));
    assert_eq!(s.session("s2").await.unwrap().unwrap().ended_at, None);

    // Disabling (an operator event) ends every open session of the account, and only of
    // that account.
    let disable = |at: Option<i64>, account: &str| {
        (
            OperatorChange::AccountDisabled {
                account: account.into(),
                disabled_at: at,
            },
            operator::op_event(
                if at.is_some() {
                    "account_disable"
                } else {
                    "account_enable"
                },
                account,
                None,
            ),
        )
    };
    let (c, e) = disable(Some(130), "acc1");
    s.apply_operator(c, e).await.unwrap();
    assert_eq!(
        s.account("acc1").await.unwrap().unwrap().disabled_at,
        Some(130)
    );
    assert_eq!(s.session("s1").await.unwrap().unwrap().ended_at, Some(110));
    assert_eq!(s.session("s2").await.unwrap().unwrap().ended_at, Some(130));
    assert_eq!(s.session("s3").await.unwrap().unwrap().ended_at, None);
    // Enabling clears the mark; ended sessions stay ended.
    let (c, e) = disable(None, "acc1");
    s.apply_operator(c, e).await.unwrap();
    assert_eq!(s.account("acc1").await.unwrap().unwrap().disabled_at, None);
    assert_eq!(s.session("s2").await.unwrap().unwrap().ended_at, Some(130));
    let (c, e) = disable(Some(1), "nobody");
    assert_eq!(
        s.apply_operator(c, e).await.unwrap_err().code(),
        "store.not_found"
    );
}

/// The operator's counter work: an account made with its event, a taken username refused
/// with nothing written; a password reset replaces the hash and ends every open session of
/// that account only; an unknown account is `NotFound`, nothing written.
pub async fn operator_accounts(s: &dyn Store) {
    let size = s.log_frontier().await.unwrap().size();
    let (ev, _) = s
        .apply_operator(
            OperatorChange::CreateAccount(account("acc1", "zhangsan")),
            operator::op_event("account_create", "acc1", None),
        )
        .await
        .unwrap();
    assert_eq!(ev.action, "account_create");
    assert_eq!(
        s.account("acc1").await.unwrap(),
        Some(account("acc1", "zhangsan"))
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size + 1);
    let err = s
        .apply_operator(
            OperatorChange::CreateAccount(account("acc2", "zhangsan")),
            operator::op_event("account_create", "acc2", None),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UsernameTaken(_)), "{err:?}");
    assert!(s.account("acc2").await.unwrap().is_none());
    assert_eq!(
        s.log_frontier().await.unwrap().size(),
        size + 1,
        "nothing logged"
    );

    s.put_account(account("acc2", "lisi")).await.unwrap();
    for (id, acc) in [("s1", "acc1"), ("s2", "acc1"), ("s3", "acc2")] {
        s.put_session(session(id, acc, 100)).await.unwrap();
    }
    let reset = |account: &str| {
        (
            OperatorChange::ResetPassword {
                account: account.into(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".into(),
                at: 150,
            },
            operator::op_event("account_password_reset", account, None),
        )
    };
    let (c, e) = reset("acc1");
    s.apply_operator(c, e).await.unwrap();
    let acc = s.account("acc1").await.unwrap().unwrap();
    assert_eq!(
        acc.password_hash,
        "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3"
    );
    assert_eq!(acc.disabled_at, None);
    assert_eq!(s.session("s1").await.unwrap().unwrap().ended_at, Some(150));
    assert_eq!(s.session("s2").await.unwrap().unwrap().ended_at, Some(150));
    assert_eq!(s.session("s3").await.unwrap().unwrap().ended_at, None);
    assert_eq!(
        s.account("acc2").await.unwrap().unwrap().password_hash,
        account("acc2", "lisi").password_hash
    );
    let size = s.log_frontier().await.unwrap().size();
    let (c, e) = reset("nobody");
    assert_eq!(
        s.apply_operator(c, e).await.unwrap_err().code(),
        "store.not_found"
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size);
}

pub async fn sessions_touch_and_purge(s: &dyn Store) {
    s.put_account(account("acc1", "zhangsan")).await.unwrap();
    s.put_session(session("s1", "acc1", 100)).await.unwrap();
    s.put_session(session("s2", "acc1", 200)).await.unwrap();
    s.touch_session("s1", 150).await.unwrap();
    assert_eq!(s.session("s1").await.unwrap().unwrap().last_seen, 150);
    s.touch_session("s1", 140).await.unwrap();
    assert_eq!(
        s.session("s1").await.unwrap().unwrap().last_seen,
        150,
        "last_seen never moves back"
    );
    s.end_session("s1", 160).await.unwrap();
    s.touch_session("s1", 170).await.unwrap();
    assert_eq!(
        s.session("s1").await.unwrap().unwrap().last_seen,
        150,
        "an ended session is not touched"
    );
    s.touch_session("nope", 170).await.unwrap();
    // Started before 200: only s1 (exclusive).
    assert_eq!(s.purge_sessions(200).await.unwrap(), 1);
    assert!(s.session("s1").await.unwrap().is_none());
    assert!(s.session("s2").await.unwrap().is_some());
    assert_eq!(s.purge_sessions(200).await.unwrap(), 0);
}

pub async fn sign_in_failures_newest_first(s: &dyn Store) {
    s.put_account(account("acc1", "zhangsan")).await.unwrap();
    s.put_account(account("acc2", "lisi")).await.unwrap();
    let f = |acc: &str, at: i64, reason: &str| SignInFailureRecord {
        account: acc.into(),
        at,
        client: "203.0.113.0/24".into(),
        reason: reason.into(),
    };
    s.record_sign_in_failure(f("acc1", 100, "signin.bad_password"))
        .await
        .unwrap();
    s.record_sign_in_failure(f("acc1", 300, "signin.bad_password"))
        .await
        .unwrap();
    s.record_sign_in_failure(f("acc1", 300, "signin.account_disabled"))
        .await
        .unwrap();
    s.record_sign_in_failure(f("acc2", 200, "signin.bad_password"))
        .await
        .unwrap();
    assert_eq!(
        s.sign_in_failures("acc1", 10).await.unwrap(),
        vec![
            f("acc1", 300, "signin.account_disabled"),
            f("acc1", 300, "signin.bad_password"),
            f("acc1", 100, "signin.bad_password"),
        ],
        "newest first, the later insert first on a tie"
    );
    assert_eq!(s.sign_in_failures("acc1", 1).await.unwrap().len(), 1);
    assert!(s.sign_in_failures("acc3", 10).await.unwrap().is_empty());
    // Only an existing account's failures are recorded.
    assert!(s
        .record_sign_in_failure(f("acc3", 1, "signin.bad_password"))
        .await
        .is_err());
    assert_eq!(s.purge_sign_in_failures(200).await.unwrap(), 1);
    assert_eq!(s.sign_in_failures("acc1", 10).await.unwrap().len(), 2);
    assert_eq!(s.sign_in_failures("acc2", 10).await.unwrap().len(), 1);
}

pub async fn wallet_bindings_upsert(s: &dyn Store) {
    let b = BindingRecord {
        identifier: "B1".into(),
        jkt: "thumb".into(),
        jwk: "{\"kty\":\"EC\"}".into(),
        credential: "sd-jwt-1".into(),
        created_at: 1,
    };
    s.put_binding(b.clone()).await.unwrap();
    assert_eq!(s.binding("B1", "thumb").await.unwrap(), Some(b.clone()));
    let replaced = BindingRecord {
        credential: "sd-jwt-2".into(),
        created_at: 2,
        ..b.clone()
    };
    s.put_binding(replaced.clone()).await.unwrap();
    assert_eq!(s.binding("B1", "thumb").await.unwrap(), Some(replaced));
    let other_key = BindingRecord {
        jkt: "thumb2".into(),
        ..b.clone()
    };
    s.put_binding(other_key.clone()).await.unwrap();
    assert_eq!(s.binding("B1", "thumb2").await.unwrap(), Some(other_key));
    assert_eq!(
        s.binding("B1", "thumb").await.unwrap().unwrap().credential,
        "sd-jwt-2",
        "another key's binding is a row of its own"
    );
    assert!(s.binding("B2", "thumb").await.unwrap().is_none());
}

pub fn presentation(id: &str, identifier: &str, expires_at: i64) -> PresentationRecord {
    PresentationRecord {
        id: id.into(),
        identifier: identifier.into(),
        presentation: format!("vp-{id}"),
        matter: None,
        jkt: "thumb".into(),
        nonce: format!("nonce-{id}"),
        created_at: 1,
        expires_at,
        completed_at: None,
        opened_at: None,
    }
}

pub async fn wallet_presentations_complete_once_and_open_once(s: &dyn Store) {
    s.insert(new_license("PR1", (6, 0))).await.unwrap();
    s.put_presentation(presentation("p1", "PR1", 100))
        .await
        .unwrap();
    let size0 = s.log_frontier().await.unwrap().size();
    // Not completed: an opening finds nothing and writes nothing.
    assert_eq!(
        s.open_presentation("p1", 10, event("PR1", "verify"))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
    let ev = s
        .complete_presentation("p1", "vp-full", 5, 65, event("PR1", "present"))
        .await
        .unwrap();
    assert_eq!(ev.kind, "present");
    let stored = s.presentation("p1").await.unwrap().unwrap();
    assert_eq!(
        (
            stored.presentation.as_str(),
            stored.completed_at,
            stored.expires_at
        ),
        ("vp-full", Some(5), 65)
    );
    assert_eq!(stored.nonce, "nonce-p1");
    // Completed twice: a conflict, nothing written.
    assert_eq!(
        s.complete_presentation("p1", "vp-other", 6, 66, event("PR1", "present"))
            .await
            .unwrap_err()
            .code(),
        "store.conflict"
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 1);
    // Opened: the first opening is a use, later ones are nothing.
    let first = s
        .open_presentation("p1", 10, event("PR1", "verify"))
        .await
        .unwrap();
    assert!(first.is_some());
    for at in 11..15 {
        assert!(s
            .open_presentation("p1", at, event("PR1", "verify"))
            .await
            .unwrap()
            .is_none());
    }
    assert_eq!(
        s.presentation("p1").await.unwrap().unwrap().opened_at,
        Some(10)
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    assert_eq!(
        s.complete_presentation("nope", "x", 1, 2, event("PR1", "present"))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
}

pub async fn wallet_bindings_keep_the_newest(s: &dyn Store) {
    let b = |jkt: &str, at: i64| BindingRecord {
        identifier: "BN".into(),
        jkt: jkt.into(),
        jwk: "{}".into(),
        credential: "c".into(),
        created_at: at,
    };
    for i in 0..(MAX_BINDINGS as i64 + 3) {
        s.put_binding(b(&format!("k{i}"), i)).await.unwrap();
    }
    for i in 0..(MAX_BINDINGS as i64 + 3) {
        assert_eq!(
            s.binding("BN", &format!("k{i}")).await.unwrap().is_some(),
            i >= 3,
            "binding k{i}"
        );
    }
    // Re-binding an old key refreshes it instead of adding one.
    s.put_binding(b("k3", 100)).await.unwrap();
    s.put_binding(b("new", 101)).await.unwrap();
    assert!(s.binding("BN", "k3").await.unwrap().is_some());
    assert!(s.binding("BN", "k4").await.unwrap().is_none());
}

pub async fn transfer_ends_authorizations(s: &dyn Store) {
    s.insert(new_license("TR1", (7, 0))).await.unwrap();
    s.put_authorization(
        authorization("t1", "TR1", "agent", 10),
        event("TR1", "authorize"),
    )
    .await
    .unwrap();
    s.put_authorization(
        authorization("t2", "TR1", "agent2", 11),
        event("TR1", "authorize"),
    )
    .await
    .unwrap();
    s.withdraw_authorization("t2", 12, event("TR1", "authorize_withdraw"))
        .await
        .unwrap();
    let mut next = new_license("TR1b", (7, 1));
    next.license.lineage = "L-TR1".into();
    next.license.version = 2;
    next.license.holder_key = "h2".into();
    s.transition(TransitionRecord {
        identifier: "TR1".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "superseded".into(),
        new_status_value: 1,
        new_pledged: false,
        event: event("TR1", "transfer"),
        successor: Some(next),
        end_authorizations: true,
        at: 300,
    })
    .await
    .unwrap();
    let all = s.authorizations("L-TR1").await.unwrap();
    let t1 = all.iter().find(|a| a.id == "t1").unwrap();
    let t2 = all.iter().find(|a| a.id == "t2").unwrap();
    assert_eq!((t1.ended_at, t1.withdrawn_at), (Some(300), None));
    assert_eq!(
        (t2.ended_at, t2.withdrawn_at),
        (None, Some(12)),
        "a withdrawn one stays withdrawn"
    );
    // A transition that does not end them (a change) leaves them as they are.
    s.insert(new_license("TR2", (7, 2))).await.unwrap();
    s.put_authorization(
        authorization("t3", "TR2", "agent", 10),
        event("TR2", "authorize"),
    )
    .await
    .unwrap();
    s.transition(TransitionRecord {
        identifier: "TR2".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "suspended".into(),
        new_status_value: 2,
        new_pledged: false,
        event: event("TR2", "suspend"),
        successor: None,
        end_authorizations: false,
        at: 300,
    })
    .await
    .unwrap();
    assert_eq!(s.authorizations("L-TR2").await.unwrap()[0].ended_at, None);
}

pub async fn wallet_presentations_purge(s: &dyn Store) {
    let p = |id: &str, expires_at: i64| presentation(id, "P1", expires_at);
    let with_matter = PresentationRecord {
        matter: Some("M1".into()),
        ..p("a", 100)
    };
    s.put_presentation(with_matter.clone()).await.unwrap();
    s.put_presentation(p("b", 150)).await.unwrap();
    s.put_presentation(p("c", 200)).await.unwrap();
    assert_eq!(
        s.put_presentation(p("c", 300)).await.unwrap_err().code(),
        "store.duplicate"
    );
    assert_eq!(s.presentation("a").await.unwrap(), Some(with_matter));
    assert_eq!(s.presentation("b").await.unwrap(), Some(p("b", 150)));
    // Expired before 150: only "a" (expiry is exclusive).
    assert_eq!(s.purge_presentations(150).await.unwrap(), 1);
    assert!(s.presentation("a").await.unwrap().is_none());
    assert!(s.presentation("b").await.unwrap().is_some());
    assert_eq!(s.purge_presentations(150).await.unwrap(), 0);
    assert_eq!(s.purge_presentations(1_000).await.unwrap(), 2);
    assert!(s.presentation("c").await.unwrap().is_none());
}

pub async fn wallet_authorizations(s: &dyn Store) {
    s.insert(new_license("A1", (5, 0))).await.unwrap();
    let size0 = s.log_frontier().await.unwrap().size();
    let epoch0 = s.status_epoch().await.unwrap();
    let ev = s
        .put_authorization(
            authorization("au1", "A1", "agent", 10),
            event("A1", "authorize"),
        )
        .await
        .unwrap();
    assert!(ev.seq > 0);
    assert_eq!(ev.kind, "authorize");
    let kinds: Vec<_> = s
        .events("L-A1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.kind))
        .collect();
    assert_eq!(kinds.last().unwrap(), &(ev.seq, "authorize".to_string()));
    assert_eq!(kinds.len(), 2);
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 1);
    assert_eq!(s.log_index(ev.seq).await.unwrap(), Some(size0));
    let (rec, entry) = last_use(s).await;
    assert_eq!(rec.seq, ev.seq);
    assert_eq!(
        (
            entry.kind.as_str(),
            entry.identifier.as_str(),
            entry.status.code()
        ),
        ("authorize", "A1", "valid")
    );
    assert_eq!(entry.credential_sha256, log::credential_sha256("cred-A1"));
    assert_eq!(
        s.status_epoch().await.unwrap(),
        epoch0,
        "an authorization changes no status"
    );
    // A second, later one to another agent; one on an unknown license writes nothing.
    s.put_authorization(
        authorization("au2", "A1", "agent2", 20),
        event("A1", "authorize"),
    )
    .await
    .unwrap();
    let err = s
        .put_authorization(
            authorization("au3", "nope", "agent", 30),
            event("nope", "authorize"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found");
    assert!(s.authorizations("L-nope").await.unwrap().is_empty());
    let err = s
        .put_authorization(
            authorization("au1", "A1", "agent", 40),
            event("A1", "authorize"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    let ids = |v: Vec<AuthorizationRecord>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(s.authorizations("L-A1").await.unwrap()), ["au2", "au1"]);
    assert_eq!(
        s.authorizations_for_agent("agent").await.unwrap(),
        vec![authorization("au1", "A1", "agent", 10)]
    );
    assert!(s.authorizations_for_agent("h1").await.unwrap().is_empty());

    // Withdraw: marked, logged; a second time is a conflict, an unknown id not found.
    let w = s
        .withdraw_authorization("au1", 150, event("A1", "authorize_withdraw"))
        .await
        .unwrap();
    assert!(w.seq > ev.seq);
    assert_eq!(
        s.authorizations_for_agent("agent").await.unwrap()[0].withdrawn_at,
        Some(150)
    );
    let (_, entry) = last_use(s).await;
    assert_eq!(entry.kind.as_str(), "authorize_withdraw");
    let size = s.log_frontier().await.unwrap().size();
    assert_eq!(
        s.withdraw_authorization("au1", 160, event("A1", "authorize_withdraw"))
            .await
            .unwrap_err()
            .code(),
        "store.conflict"
    );
    assert_eq!(
        s.withdraw_authorization("zz", 160, event("A1", "authorize_withdraw"))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
    assert_eq!(
        s.log_frontier().await.unwrap().size(),
        size,
        "nothing logged"
    );
    assert_eq!(
        s.authorizations_for_agent("agent").await.unwrap()[0].withdrawn_at,
        Some(150),
        "the first withdrawal stands"
    );
    // A withdrawal whose event names an unknown license rolls back.
    assert_eq!(
        s.withdraw_authorization("au2", 170, event("nope", "authorize_withdraw"))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
    assert_eq!(
        s.authorizations("L-A1").await.unwrap()[0].withdrawn_at,
        None
    );
    assert_eq!(s.events("L-A1").await.unwrap().len(), 4);
    assert_eq!(s.status_epoch().await.unwrap(), epoch0);
}

pub async fn wallet_uses(s: &dyn Store) {
    assert_eq!(
        s.record_use(event("nope", "verify"))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), 0);
    s.insert(new_license("U1", (6, 0))).await.unwrap();
    // Suspend it first: a use logs the status as it stands.
    s.transition(TransitionRecord {
        identifier: "U1".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "suspended".into(),
        new_status_value: 2,
        new_pledged: true,
        event: event("U1", "suspend"),
        successor: None,
        end_authorizations: false,
        at: 200,
    })
    .await
    .unwrap();
    let before = s.license("U1").await.unwrap().unwrap();
    let epoch = s.status_epoch().await.unwrap();
    let size = s.log_frontier().await.unwrap().size();
    let ev = s.record_use(event("U1", "present")).await.unwrap();
    assert_eq!(s.log_frontier().await.unwrap().size(), size + 1);
    let (rec, entry) = last_use(s).await;
    assert_eq!(rec.seq, ev.seq);
    assert_eq!(
        (entry.kind.as_str(), entry.status.code(), entry.pledged),
        ("present", "suspended", true)
    );
    assert_eq!(
        s.license("U1").await.unwrap().unwrap(),
        before,
        "license unchanged"
    );
    assert_eq!(
        s.non_valid(6).await.unwrap(),
        vec![StatusEntry { idx: 0, status: 2 }]
    );
    assert_eq!(
        s.status_epoch().await.unwrap(),
        epoch,
        "a use moves no status"
    );
    // Two at once both land, with distinct sequence numbers, each logged once.
    let (a, b) = futures::join!(
        s.record_use(event("U1", "verify")),
        s.record_use(event("U1", "face_download"))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.seq, b.seq);
    assert_eq!(s.log_frontier().await.unwrap().size(), size + 3);
    let mut logged: Vec<_> = s
        .log_entries(size, size + 3)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    logged.sort();
    let mut want = vec![ev.seq, a.seq, b.seq];
    want.sort();
    assert_eq!(logged, want);
    let kinds: Vec<_> = s
        .events("L-U1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.len(), 5);
    assert_eq!(&kinds[..3], ["issue", "suspend", "present"]);
    assert_eq!(s.status_epoch().await.unwrap(), epoch);
    // A status change after uses still moves the epoch.
    s.transition(TransitionRecord {
        identifier: "U1".into(),
        expected_status: "suspended".into(),
        expected_pledged: true,
        new_status: "valid".into(),
        new_status_value: 0,
        new_pledged: true,
        event: event("U1", "reinstate"),
        successor: None,
        end_authorizations: false,
        at: 300,
    })
    .await
    .unwrap();
    assert!(s.status_epoch().await.unwrap() > b.seq.max(a.seq));
}

/// Uses racing with transitions of the same license: in the log, every use carries the status
/// the last transition before it set (a use never logs a status that was already replaced).
pub async fn wallet_uses_interleave_with_transitions(s: &dyn Store) {
    s.insert(new_license("R1", (7, 0))).await.unwrap();
    let flips = async {
        let mut status = ("valid", 0u8);
        for _ in 0..10 {
            let next = if status.0 == "valid" {
                ("suspended", 2)
            } else {
                ("valid", 0)
            };
            s.transition(TransitionRecord {
                identifier: "R1".into(),
                expected_status: status.0.into(),
                expected_pledged: false,
                new_status: next.0.into(),
                new_status_value: next.1,
                new_pledged: false,
                event: event(
                    "R1",
                    if next.0 == "valid" {
                        "reinstate"
                    } else {
                        "suspend"
                    },
                ),
                successor: None,
                end_authorizations: false,
                at: 200,
            })
            .await
            .unwrap();
            status = next;
        }
    };
    let uses = futures::future::join_all((0..40).map(|_| s.record_use(event("R1", "verify"))));
    let (_, used) = futures::join!(flips, uses);
    assert!(used.iter().all(|r| r.is_ok()));
    let entries = s.log_entries(0, 1_000).await.unwrap();
    assert_eq!(entries.len(), 1 + 10 + 40);
    let mut current = String::new();
    for e in &entries {
        match LogEntry::parse(&e.data).unwrap() {
            LogEntry::Use(_) => {
                let used = opened(s, e).await;
                assert_eq!(used.status.code(), current, "use at event {}", e.seq);
            }
            leaf => current = leaf.status().unwrap().to_string(),
        }
    }
}

/// An institution's staff and forms: kept per institution; a staff member's re-registration
/// keeps `created_at` and `disabled_at`; an unknown institution is `NotFound`.
pub async fn institution_staff_and_forms(s: &dyn Store) {
    s.put_institution(institution("B", &["M1", "M2"]))
        .await
        .unwrap();
    s.put_institution(institution("C", &["M1"])).await.unwrap();
    let staff = |inst: &str, user: &str, matters: &[&str], at: i64| StaffRecord {
        institution: inst.into(),
        username: user.into(),
        name: format!("员工 {user}"),
        matters: matters.iter().map(|m| m.to_string()).collect(),
        created_at: at,
        disabled_at: None,
        person_key: (user == "u1").then(|| format!("person-{inst}")),
    };
    s.put_staff(staff("B", "u1", &["M1"], 10)).await.unwrap();
    s.put_staff(staff("C", "u1", &["M1"], 11)).await.unwrap();
    assert!(s.set_staff_disabled("B", "u1", Some(20)).await.unwrap());
    assert!(!s.set_staff_disabled("B", "nobody", Some(20)).await.unwrap());
    s.put_staff(staff("B", "u1", &["M1", "M2"], 30))
        .await
        .unwrap();
    let got = s.staff("B", "u1").await.unwrap().unwrap();
    assert_eq!(got.matters, ["M1", "M2"]);
    assert_eq!((got.created_at, got.disabled_at), (10, Some(20)));
    assert_eq!(s.staff("C", "u1").await.unwrap().unwrap().disabled_at, None);
    assert_eq!(s.staff_of("B").await.unwrap().len(), 1);
    // Who signs in as whom: by the person's key, and a re-registration may change it.
    let of = |v: Vec<StaffRecord>| {
        v.into_iter()
            .map(|r| (r.institution, r.username))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of(s.staff_by_person("person-B").await.unwrap()),
        [("B".to_string(), "u1".to_string())]
    );
    s.put_staff(staff("B", "u3", &["M1"], 31)).await.unwrap();
    assert!(s.staff_by_person("nobody").await.unwrap().is_empty());
    let mut moved = staff("C", "u1", &["M1"], 40);
    moved.person_key = Some("person-B".into());
    s.put_staff(moved).await.unwrap();
    assert_eq!(
        of(s.staff_by_person("person-B").await.unwrap()),
        [
            ("B".to_string(), "u1".to_string()),
            ("C".to_string(), "u1".to_string())
        ]
    );
    assert!(s.staff_by_person("person-C").await.unwrap().is_empty());
    assert!(s.staff("B", "u2").await.unwrap().is_none());
    assert_eq!(
        s.put_staff(staff("Z", "u1", &["M1"], 1))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );

    let form = |inst: &str, fields: &str, at: i64| FormRecord {
        institution: inst.into(),
        matter: "M1".into(),
        fields: fields.into(),
        updated_at: at,
    };
    s.put_form(form("B", "[1]", 10)).await.unwrap();
    s.put_form(form("B", "[2]", 20)).await.unwrap();
    assert_eq!(s.form("B", "M1").await.unwrap(), Some(form("B", "[2]", 20)));
    assert!(s.form("C", "M1").await.unwrap().is_none());
    assert!(s.form("B", "M2").await.unwrap().is_none());
    assert_eq!(
        s.put_form(form("Z", "[]", 1)).await.unwrap_err().code(),
        "store.not_found"
    );
}

/// After the list-algorithm migration, on a store where `old` reserved two sm2 slots of
/// issuer `I` (type `T`) before it: that list keeps no algorithm and gets no new slot, the
/// next reservation goes to a new sm2 list and the serials go on.
pub async fn old_list_keeps_no_algorithm_and_gets_no_slots(s: &dyn Store, old: &Reservation) {
    let l = s.list(old.slots[0].0).await.unwrap().unwrap();
    assert_eq!((l.alg, l.len), (None, 2));
    let new = s.reserve("T", "I", "sm2", 1).await.unwrap();
    assert_eq!(new.first_serial, 3);
    assert_ne!(
        new.slots[0].0, old.slots[0].0,
        "an old list gets no new slots"
    );
    let lists: Vec<_> = s
        .lists()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.alg, l.len))
        .collect();
    assert_eq!(lists, vec![(1, None, 2), (2, Some("sm2".into()), 1)]);
}

pub fn institution(code: &str, matters: &[&str]) -> InstitutionRecord {
    InstitutionRecord {
        code: code.into(),
        name: "某银行".into(),
        area: "110000".into(),
        matters: matters.iter().map(|m| m.to_string()).collect(),
        created_at: 10,
        disabled_at: None,
    }
}

pub fn institution_key(id: &str, institution: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        hash: format!("hash-{id}"),
        issuer: institution.into(),
        label: "counter".into(),
        created_at: 20,
        revoked_at: None,
    }
}

/// A pending consent request about license `identifier` (lineage `L-{identifier}`).
pub fn share(
    id: &str,
    institution: &str,
    identifier: &str,
    holder_key: &str,
    created_at: i64,
) -> ShareRecord {
    ShareRecord {
        id: id.into(),
        institution: institution.into(),
        staff: "柜员01".into(),
        matter: "M1".into(),
        purpose: "开户".into(),
        identifier: identifier.into(),
        lineage: format!("L-{identifier}"),
        holder_key: holder_key.into(),
        basis: "consent".into(),
        state: "pending".into(),
        created_at,
        expires_at: created_at + 600,
        decided_at: None,
        copy: None,
        copy_until: None,
        keep_days: 7,
    }
}

fn share_ids(v: Vec<ShareRecord>) -> Vec<String> {
    v.into_iter().map(|s| s.id).collect()
}

pub async fn institutions_upsert(s: &dyn Store) {
    assert!(s.institution("B").await.unwrap().is_none());
    assert!(s.institutions().await.unwrap().is_empty());
    let b = institution("B", &["M1", "M2"]);
    s.put_institution(b.clone()).await.unwrap();
    assert_eq!(s.institution("B").await.unwrap(), Some(b.clone()));
    // Replaced: name, area, matters; the first created_at and disabled_at stay (only an
    // operator event disables or enables).
    let replaced = InstitutionRecord {
        name: "改名".into(),
        area: "310000".into(),
        matters: vec!["M3".into()],
        created_at: 99,
        disabled_at: Some(50),
        ..b.clone()
    };
    s.put_institution(replaced.clone()).await.unwrap();
    assert_eq!(
        s.institution("B").await.unwrap(),
        Some(InstitutionRecord {
            created_at: 10,
            disabled_at: None,
            ..replaced.clone()
        })
    );
    // Disabled by the operator: registering it again, with an empty scope, leaves it so.
    s.apply_operator(
        OperatorChange::InstitutionDisabled {
            code: "B".into(),
            disabled_at: Some(60),
        },
        operator::op_event("institution_disable", "B", None),
    )
    .await
    .unwrap();
    let again = InstitutionRecord {
        matters: vec![],
        disabled_at: None,
        ..replaced
    };
    s.put_institution(again).await.unwrap();
    let got = s.institution("B").await.unwrap().unwrap();
    assert_eq!(
        (got.matters.len(), got.disabled_at, got.created_at),
        (0, Some(60), 10)
    );
    s.put_institution(institution("A", &["M1"])).await.unwrap();
    s.put_institution(institution("C", &[])).await.unwrap();
    let codes: Vec<_> = s
        .institutions()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.code)
        .collect();
    assert_eq!(codes, ["A", "B", "C"]);
}

pub async fn institution_keys(s: &dyn Store) {
    let err = s
        .put_institution_key(institution_key("ik1", "B"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found", "unknown institution");
    assert!(s.institution_key("ik1").await.unwrap().is_none());
    s.put_institution(institution("B", &["M1"])).await.unwrap();
    let k = institution_key("ik1", "B");
    s.put_institution_key(k.clone()).await.unwrap();
    assert_eq!(s.institution_key("ik1").await.unwrap(), Some(k.clone()));
    let err = s
        .put_institution_key(ApiKeyRecord {
            hash: "other".into(),
            ..k.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    assert_eq!(s.institution_key("ik1").await.unwrap(), Some(k));
    let revoked = ApiKeyRecord {
        revoked_at: Some(30),
        ..institution_key("ik2", "B")
    };
    s.put_institution_key(revoked.clone()).await.unwrap();
    assert_eq!(s.institution_key("ik2").await.unwrap(), Some(revoked));
    assert!(s.institution_key("zz").await.unwrap().is_none());
    // Institution keys and issuers' API keys are apart.
    assert!(s.api_key("ik1").await.unwrap().is_none());
}

pub async fn shares_append_events(s: &dyn Store) {
    s.insert(new_license("S1", (8, 0))).await.unwrap();
    let size0 = s.log_frontier().await.unwrap().size();
    let epoch0 = s.status_epoch().await.unwrap();
    let legal = ShareRecord {
        basis: "legal".into(),
        state: "granted".into(),
        decided_at: Some(100),
        copy: Some("annotated-sd-jwt".into()),
        copy_until: Some(700),
        ..share("sh1", "B", "S1", "h1", 100)
    };
    let stored = s
        .put_share(
            legal.clone(),
            vec![event("S1", "share_query"), event("S1", "annotated_copy")],
        )
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["share_query", "annotated_copy"]
    );
    assert!(stored[0].seq > 0 && stored[1].seq > stored[0].seq);
    assert_eq!(s.share("sh1").await.unwrap(), Some(legal));
    let events: Vec<_> = s
        .events("L-S1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.kind))
        .collect();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[1..],
        [
            (stored[0].seq, "share_query".to_string()),
            (stored[1].seq, "annotated_copy".to_string())
        ]
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    assert_eq!(s.log_index(stored[0].seq).await.unwrap(), Some(size0));
    assert_eq!(s.log_index(stored[1].seq).await.unwrap(), Some(size0 + 1));
    let (rec, entry) = last_use(s).await;
    assert_eq!(rec.seq, stored[1].seq);
    assert_eq!(
        (
            entry.kind.as_str(),
            entry.identifier.as_str(),
            entry.status.code()
        ),
        ("annotated_copy", "S1", "valid")
    );
    assert_eq!(
        s.status_epoch().await.unwrap(),
        epoch0,
        "a sharing request changes no status"
    );
    // The same id again: refused, nothing appended.
    let err = s
        .put_share(
            share("sh1", "B", "S1", "h1", 200),
            vec![event("S1", "share_query")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    assert_eq!(s.events("L-S1").await.unwrap().len(), 3);
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    assert_eq!(s.share("sh1").await.unwrap().unwrap().created_at, 100);
}

pub async fn shares_need_a_license(s: &dyn Store) {
    let err = s
        .put_share(
            share("sh1", "B", "nope", "h1", 100),
            vec![event("nope", "share_query")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found");
    assert!(
        s.share("sh1").await.unwrap().is_none(),
        "no share row stays"
    );
    // A later event that fails rolls back the row and the events before it.
    s.insert(new_license("S2", (8, 1))).await.unwrap();
    let size = s.log_frontier().await.unwrap().size();
    let err = s
        .put_share(
            share("sh2", "B", "S2", "h1", 100),
            vec![event("S2", "share_query"), event("nope", "annotated_copy")],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found");
    assert!(s.share("sh2").await.unwrap().is_none());
    assert_eq!(s.events("L-S2").await.unwrap().len(), 1);
    assert_eq!(s.log_frontier().await.unwrap().size(), size);
    assert!(s
        .shares_for_holders(&["h1".into()])
        .await
        .unwrap()
        .is_empty());
}

pub async fn shares_for_holders_newest_first(s: &dyn Store) {
    s.insert(new_license("H1", (8, 2))).await.unwrap();
    for (id, holder, at) in [
        ("a", "h1", 100),
        ("b", "h2", 300),
        ("c", "h1", 200),
        ("d", "h3", 400),
        ("e", "h1", 200),
    ] {
        s.put_share(
            share(id, "B", "H1", holder, at),
            vec![event("H1", "share_query")],
        )
        .await
        .unwrap();
    }
    assert_eq!(
        share_ids(s.shares_for_holders(&["h1".into()]).await.unwrap()),
        ["e", "c", "a"],
        "newest first, the id breaks ties"
    );
    assert_eq!(
        share_ids(
            s.shares_for_holders(&["h1".into(), "h2".into(), "hx".into()])
                .await
                .unwrap()
        ),
        ["b", "e", "c", "a"]
    );
    assert!(s
        .shares_for_holders(&["hx".into()])
        .await
        .unwrap()
        .is_empty());
    assert!(s.shares_for_holders(&[]).await.unwrap().is_empty());
}

pub async fn shares_decide_once(s: &dyn Store) {
    s.insert(new_license("D1", (8, 3))).await.unwrap();
    s.put_share(
        share("sh1", "B", "D1", "h1", 100),
        vec![event("D1", "share_query")],
    )
    .await
    .unwrap();
    s.put_share(
        share("sh2", "B", "D1", "h1", 110),
        vec![event("D1", "share_query")],
    )
    .await
    .unwrap();
    let epoch0 = s.status_epoch().await.unwrap();
    let size0 = s.log_frontier().await.unwrap().size();
    let stored = s
        .decide_share(
            "sh1",
            "granted",
            150,
            Some(("annotated-sd-jwt".into(), 900)),
            vec![event("D1", "consent"), event("D1", "annotated_copy")],
        )
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["consent", "annotated_copy"]
    );
    assert!(stored[1].seq > stored[0].seq);
    assert_eq!(
        s.share("sh1").await.unwrap(),
        Some(ShareRecord {
            state: "granted".into(),
            decided_at: Some(150),
            copy: Some("annotated-sd-jwt".into()),
            copy_until: Some(900),
            ..share("sh1", "B", "D1", "h1", 100)
        })
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    assert_eq!(s.events("L-D1").await.unwrap().len(), 5);
    assert_eq!(s.status_epoch().await.unwrap(), epoch0);
    // Deciding again: a conflict, and nothing written.
    let err = s
        .decide_share("sh1", "refused", 160, None, vec![event("D1", "refusal")])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.conflict");
    let err = s
        .decide_share("zz", "refused", 160, None, vec![event("D1", "refusal")])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found");
    assert_eq!(s.share("sh1").await.unwrap().unwrap().state, "granted");
    assert_eq!(s.events("L-D1").await.unwrap().len(), 5);
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    // A decision whose event names an unknown license rolls back: still pending.
    let err = s
        .decide_share("sh2", "refused", 170, None, vec![event("nope", "refusal")])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found");
    assert_eq!(
        s.share("sh2").await.unwrap(),
        Some(share("sh2", "B", "D1", "h1", 110))
    );
    // A refusal: no copy.
    let stored = s
        .decide_share("sh2", "refused", 180, None, vec![event("D1", "refusal")])
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let refused = s.share("sh2").await.unwrap().unwrap();
    assert_eq!(
        (
            refused.state.as_str(),
            refused.decided_at,
            refused.copy,
            refused.copy_until
        ),
        ("refused", Some(180), None, None)
    );
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 3);
    assert_eq!(s.status_epoch().await.unwrap(), epoch0);
}

pub async fn shares_of_institution_newest_first(s: &dyn Store) {
    s.insert(new_license("N1", (8, 4))).await.unwrap();
    for (id, inst, at) in [
        ("a", "B", 100),
        ("b", "B", 300),
        ("c", "X", 350),
        ("d", "B", 200),
        ("e", "B", 300),
    ] {
        s.put_share(
            share(id, inst, "N1", "h1", at),
            vec![event("N1", "share_query")],
        )
        .await
        .unwrap();
    }
    assert_eq!(
        share_ids(s.shares_of_institution("B", 10).await.unwrap()),
        ["e", "b", "d", "a"]
    );
    assert_eq!(
        share_ids(s.shares_of_institution("B", 2).await.unwrap()),
        ["e", "b"]
    );
    assert_eq!(
        share_ids(s.shares_of_institution("X", 10).await.unwrap()),
        ["c"]
    );
    assert!(s.shares_of_institution("B", 0).await.unwrap().is_empty());
    assert!(s.shares_of_institution("Y", 10).await.unwrap().is_empty());
}
