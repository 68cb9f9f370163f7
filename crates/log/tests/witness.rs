//! The witness's decision (C2SP tlog-witness) over real trees: each refusal in the spec's
//! order, and a property: a head co-signed at `a` accepts exactly the honest proof to any
//! `b >= a`, and never the same proof against a tree with one leaf changed.

mod common;

use elicense_log::hash::{empty_root, leaf_hash, Hash};
use elicense_log::tree::MemoryHashes;
use elicense_log::witness::{check, AddCheckpoint, Refusal, WitnessedHead};
use elicense_log::{consistency_proof, Checkpoint};
use proptest::prelude::*;

fn cp(mem: &MemoryHashes, size: u64) -> Checkpoint {
    let root = elicense_log::tree::root_from_reader(size, mem).unwrap();
    Checkpoint::new("example.com/log", size, root).unwrap()
}

fn head(c: &Checkpoint) -> WitnessedHead {
    WitnessedHead {
        size: c.size(),
        root: c.root(),
    }
}

#[test]
fn refusals_follow_the_spec() {
    let (mem, _) = common::tree(20);
    let c8 = cp(&mem, 8);
    let c13 = cp(&mem, 13);
    let proof = consistency_proof(8, 13, &mem).unwrap();
    assert_eq!(check(Some(head(&c8)), 8, &proof, &c13), Ok(()));
    assert_eq!(
        check(Some(head(&c8)), 14, &proof, &c13),
        Err(Refusal::OldAboveNew { old: 14, new: 13 })
    );
    let stale = check(Some(head(&c8)), 5, &proof, &c13).unwrap_err();
    assert_eq!(stale, Refusal::SizeMismatch { old: 5, known: 8 });
    assert_eq!(stale.http_status(), 409);
    assert_eq!(
        check(None, 8, &proof, &c13),
        Err(Refusal::SizeMismatch { old: 8, known: 0 })
    );
    // First contact: old size 0, no proof.
    assert_eq!(check(None, 0, &[], &c13), Ok(()));
    assert_eq!(check(None, 0, &proof, &c13), Err(Refusal::ProofFromZero));
    let bad_empty = Checkpoint::new("example.com/log", 0, Hash([1; 32])).unwrap();
    assert_eq!(check(None, 0, &[], &bad_empty), Err(Refusal::BadEmptyRoot));
    let empty = Checkpoint::new("example.com/log", 0, empty_root()).unwrap();
    assert_eq!(check(None, 0, &[], &empty), Ok(()));
    // A broken proof, and a second head of the same size: 422, both count as forks.
    let mut broken = proof.clone();
    broken[0].0[0] ^= 1;
    let e = check(Some(head(&c8)), 8, &broken, &c13).unwrap_err();
    assert_eq!((e.http_status(), e.fork()), (422, true));
    let other = Checkpoint::new("example.com/log", 8, Hash([9; 32])).unwrap();
    let e = check(Some(head(&c8)), 8, &[], &other).unwrap_err();
    assert_eq!(e, Refusal::RootMismatch { size: 8 });
    assert_eq!((e.http_status(), e.fork()), (422, true));
    // The same head again is fine (idempotent).
    assert_eq!(check(Some(head(&c8)), 8, &[], &c8), Ok(()));
}

#[test]
fn request_body_round_trips_a_real_proof() {
    let (mem, _) = common::tree(20);
    let req = AddCheckpoint {
        old_size: 8,
        proof: consistency_proof(8, 13, &mem).unwrap(),
        checkpoint: format!("{}\n\u{2014} example.com/log AAAAAAA=\n", cp(&mem, 13)),
    };
    assert_eq!(AddCheckpoint::parse(&req.to_bytes()).unwrap(), req);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn honest_proofs_pass_forked_trees_fail(a in 1u64..40, extra in 0u64..40, changed in any::<prop::sample::Index>()) {
        let b = a + extra;
        let (mem, leaves) = common::tree(b);
        let old = cp(&mem, a);
        let new = cp(&mem, b);
        let proof = consistency_proof(a, b, &mem).unwrap();
        prop_assert_eq!(check(Some(head(&old)), a, &proof, &new), Ok(()));
        // The same log with one earlier leaf rewritten: its head of size b is refused.
        let i = changed.index(a as usize);
        let mut forked = MemoryHashes::new();
        for (j, h) in leaves.iter().enumerate() {
            forked.append(if j == i { leaf_hash(b"rewritten") } else { *h });
        }
        let fork_head = cp(&forked, b);
        let fork_proof = consistency_proof(a, b, &forked).unwrap();
        let e = check(Some(head(&old)), a, &fork_proof, &fork_head).unwrap_err();
        prop_assert!(e.fork());
    }
}
