//! Helpers shared by the integration tests.
#![allow(dead_code)]

use elicense_log::hash::{leaf_hash, Hash};
use elicense_log::tree::MemoryHashes;

/// A tree of `n` distinct leaves `"leaf <i>"`, and its leaf hashes.
pub fn tree(n: u64) -> (MemoryHashes, Vec<Hash>) {
    let mut mem = MemoryHashes::new();
    let leaves: Vec<Hash> = (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect();
    for h in &leaves {
        mem.append(*h);
    }
    (mem, leaves)
}

/// The tree hash of the first `n` leaves, by RFC 9162's recursive definition.
pub fn mth(leaves: &[Hash]) -> Hash {
    use elicense_log::hash::{empty_root, node_hash};
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The sides of the siblings on the inclusion path of leaf `m` of `n` (RFC 9162
/// `PATH` recursion), leaf side first: `true` when the sibling is on the right.
pub fn path_shape(m: u64, n: u64) -> Vec<bool> {
    if n <= 1 {
        return vec![];
    }
    let k = 1u64 << (63 - (n - 1).leading_zeros());
    let mut shape = if m < k {
        let mut s = path_shape(m, k);
        s.push(true);
        s
    } else {
        let mut s = path_shape(m - k, n - k);
        s.push(false);
        s
    };
    shape.shrink_to_fit();
    shape
}
