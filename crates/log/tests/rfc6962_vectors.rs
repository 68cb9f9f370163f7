//! The RFC 6962 reference tree (8 leaves) from the public Go merkle test data: roots of
//! every size, inclusion and consistency proofs, and the corruptions that must fail.

use elicense_log::hash::{empty_root, leaf_hash, Hash};
use elicense_log::proof::{
    consistency_proof, inclusion_proof, root_from_inclusion_proof, verify_consistency,
    verify_inclusion, ProofError,
};
use elicense_log::tree::{root_from_reader, Frontier, MemoryHashes};
use serde_json::Value;

fn h(s: &Value) -> Hash {
    Hash::from_hex(s.as_str().unwrap()).unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(h).collect()
}

fn vectors() -> Value {
    serde_json::from_str(include_str!("../testdata/rfc6962_reference_tree.json")).unwrap()
}

fn reference_tree() -> (MemoryHashes, Vec<Hash>, Vec<Hash>) {
    let v = vectors();
    let mut mem = MemoryHashes::new();
    let leaves: Vec<Hash> = v["leaves_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| leaf_hash(&hex::decode(l.as_str().unwrap()).unwrap()))
        .collect();
    for l in &leaves {
        mem.append(*l);
    }
    (mem, leaves, hashes(&v["roots"]))
}

const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

#[test]
fn roots_of_every_size() {
    let (mem, leaves, roots) = reference_tree();
    let mut f = Frontier::new();
    assert_eq!(f.root(), empty_root());
    for (n, root) in roots.iter().enumerate() {
        f.append(leaves[n]);
        assert_eq!(f.root(), *root, "frontier root of size {}", n + 1);
        assert_eq!(root_from_reader(n as u64 + 1, &mem).unwrap(), *root);
    }
}

#[test]
fn inclusion_vectors_generate_and_verify() {
    let (mem, leaves, roots) = reference_tree();
    for case in vectors()["inclusion"].as_array().unwrap() {
        let (i, n) = (
            case["index"].as_u64().unwrap(),
            case["size"].as_u64().unwrap(),
        );
        let want = hashes(&case["proof"]);
        assert_eq!(
            inclusion_proof(i, n, &mem).unwrap(),
            want,
            "proof {i} in {n}"
        );
        let (leaf, root) = (leaves[i as usize], roots[n as usize - 1]);
        verify_inclusion(&leaf, i, n, &want, &root).unwrap();
        assert_eq!(root_from_inclusion_proof(&leaf, i, n, &want).unwrap(), root);
        for (what, result) in corrupt_inclusion(leaf, i, n, &want, root) {
            assert!(result.is_err(), "{what} verified for leaf {i} of {n}");
        }
    }
}

fn corrupt_inclusion(
    leaf: Hash,
    i: u64,
    n: u64,
    proof: &[Hash],
    root: Hash,
) -> Vec<(String, Result<(), ProofError>)> {
    let some = Hash::from_hex(SOME_HASH).unwrap();
    let v = |leaf: &Hash, i: u64, n: u64, p: &[Hash], r: &Hash| verify_inclusion(leaf, i, n, p, r);
    let mut out = vec![
        (
            "index - 1".into(),
            v(&leaf, i.wrapping_sub(1), n, proof, &root),
        ),
        ("index + 1".into(), v(&leaf, i + 1, n, proof, &root)),
        ("index ^ 2".into(), v(&leaf, i ^ 2, n, proof, &root)),
        ("size * 2".into(), v(&leaf, i, n * 2, proof, &root)),
        ("size / 2".into(), v(&leaf, i, n / 2, proof, &root)),
        (
            "wrong leaf".into(),
            v(&leaf_hash(b"WrongLeaf"), i, n, proof, &root),
        ),
        ("empty root".into(), v(&leaf, i, n, proof, &empty_root())),
        ("random root".into(), v(&leaf, i, n, proof, &some)),
        (
            "trailing root".into(),
            v(&leaf, i, n, &[proof, &[root]].concat(), &root),
        ),
        (
            "preceding root".into(),
            v(&leaf, i, n, &[&[root], proof].concat(), &root),
        ),
    ];
    for k in 0..proof.len() {
        let mut p = proof.to_vec();
        p[k].0[0] ^= 8;
        out.push((
            format!("bit flipped in proof[{k}]"),
            v(&leaf, i, n, &p, &root),
        ));
    }
    if !proof.is_empty() {
        out.push((
            "removed".into(),
            v(&leaf, i, n, &proof[..proof.len() - 1], &root),
        ));
    }
    if proof.len() > 1 {
        let p = [&[proof[0], some], &proof[1..]].concat();
        out.push(("inserted".into(), v(&leaf, i, n, &p, &root)));
    }
    out
}

#[test]
fn consistency_vectors_generate_and_verify() {
    let (mem, _, roots) = reference_tree();
    for case in vectors()["consistency"].as_array().unwrap() {
        let (m, n) = (
            case["size1"].as_u64().unwrap(),
            case["size2"].as_u64().unwrap(),
        );
        let want = hashes(&case["proof"]);
        assert_eq!(consistency_proof(m, n, &mem).unwrap(), want, "{m} -> {n}");
        let (r1, r2) = (roots[m as usize - 1], roots[n as usize - 1]);
        verify_consistency(m, n, &r1, &r2, &want).unwrap();
        if want.is_empty() {
            continue;
        }
        for (what, result) in corrupt_consistency(m, n, r1, r2, &want) {
            assert!(result.is_err(), "{what} verified for {m} -> {n}");
        }
    }
}

fn corrupt_consistency(
    m: u64,
    n: u64,
    r1: Hash,
    r2: Hash,
    proof: &[Hash],
) -> Vec<(String, Result<(), ProofError>)> {
    let wrong = leaf_hash(b"WrongRoot");
    let v = |m: u64, n: u64, r1: &Hash, r2: &Hash, p: &[Hash]| verify_consistency(m, n, r1, r2, p);
    let mut out = vec![
        ("size1 - 1".into(), v(m - 1, n, &r1, &r2, proof)),
        ("size1 + 1".into(), v(m + 1, n, &r1, &r2, proof)),
        ("size1 ^ 2".into(), v(m ^ 2, n, &r1, &r2, proof)),
        ("size2 * 2".into(), v(m, n * 2, &r1, &r2, proof)),
        ("size2 / 2".into(), v(m, n / 2, &r1, &r2, proof)),
        ("wrong root1".into(), v(m, n, &wrong, &r2, proof)),
        ("wrong root2".into(), v(m, n, &r1, &wrong, proof)),
        ("swapped roots".into(), v(m, n, &r2, &r1, proof)),
        ("empty proof".into(), v(m, n, &r1, &r2, &[])),
        (
            "trailing root1".into(),
            v(m, n, &r1, &r2, &[proof, &[r1]].concat()),
        ),
        (
            "trailing root2".into(),
            v(m, n, &r1, &r2, &[proof, &[r2]].concat()),
        ),
        (
            "preceding root1".into(),
            v(m, n, &r1, &r2, &[&[r1], proof].concat()),
        ),
        (
            "preceding root2".into(),
            v(m, n, &r1, &r2, &[&[r2], proof].concat()),
        ),
        (
            "preceding proof[0]".into(),
            v(m, n, &r1, &r2, &[&[proof[0]], proof].concat()),
        ),
        (
            "truncated".into(),
            v(m, n, &r1, &r2, &proof[..proof.len() - 1]),
        ),
    ];
    for k in 0..proof.len() {
        let mut p = proof.to_vec();
        p[k].0[0] ^= 16;
        out.push((format!("bit flipped in proof[{k}]"), v(m, n, &r1, &r2, &p)));
    }
    out
}

#[test]
fn consistency_edge_cases() {
    let (r1, r2) = (leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2"));
    let e = empty_root();
    let ok = |m, n, a: &Hash, b: &Hash, p: &[Hash]| verify_consistency(m, n, a, b, p).is_ok();
    // Always consistent: from the empty tree, and a tree with itself.
    assert!(ok(0, 0, &e, &e, &[]));
    assert!(ok(0, 1, &e, &r2, &[]));
    assert!(ok(1, 1, &r2, &r2, &[]));
    // The empty tree has one root.
    assert!(!ok(0, 1, &r1, &r2, &[]));
    // Same size, different roots.
    assert!(!ok(1, 1, &r1, &r2, &[]));
    // Time travel to the past.
    let past = verify_consistency(2, 1, &r1, &r2, &[]).unwrap_err();
    assert_eq!(past.code(), "log.bad_size");
    // A non-trivial claim with no proof, and trivial claims with a proof.
    assert_eq!(
        verify_consistency(1, 2, &r1, &r2, &[]).unwrap_err().code(),
        "log.bad_proof_length"
    );
    assert!(!ok(0, 0, &e, &e, &[e]));
    assert!(!ok(0, 1, &e, &e, &[e]));
    assert!(!ok(1, 1, &e, &e, &[e]));
}

#[test]
fn inclusion_edge_cases_and_codes() {
    let some = Hash::from_hex(SOME_HASH).unwrap();
    for (i, n) in [(0, 0), (1, 0), (2, 1)] {
        let e = verify_inclusion(&some, i, n, &[], &some).unwrap_err();
        assert_eq!(e.code(), "log.bad_index");
    }
    // Single-leaf tree: the root is the leaf hash and the proof is empty.
    let leaf = leaf_hash(b"data");
    verify_inclusion(&leaf, 0, 1, &[], &leaf).unwrap();
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &[], &some)
            .unwrap_err()
            .code(),
        "log.bad_proof"
    );
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &[leaf], &leaf)
            .unwrap_err()
            .code(),
        "log.bad_proof_length"
    );
    let mem = MemoryHashes::new();
    assert_eq!(
        inclusion_proof(0, 0, &mem).unwrap_err().code(),
        "log.bad_index"
    );
    assert_eq!(
        consistency_proof(2, 1, &mem).unwrap_err().code(),
        "log.bad_size"
    );
    assert_eq!(
        inclusion_proof(0, 2, &mem).unwrap_err().code(),
        "log.missing_node"
    );
}
