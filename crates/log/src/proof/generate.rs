//! Proof generation from stored node hashes.

use super::{consistency_ranges, inclusion_ranges, ProofError};
use crate::hash::Hash;
use crate::tree::{fold_right, read_checked, subtree_nodes, HashReader};

/// Reads, in one batch, the perfect nodes of every range and folds each range's hash.
fn range_hashes(ranges: &[(u64, u64)], reader: &impl HashReader) -> Result<Vec<Hash>, ProofError> {
    let per_range: Vec<_> = ranges.iter().map(|&(s, e)| subtree_nodes(s, e)).collect();
    let all: Vec<_> = per_range.iter().flatten().copied().collect();
    let hashes = read_checked(reader, &all)?;
    let mut at = 0;
    Ok(per_range
        .iter()
        .map(|nodes| {
            let h = fold_right(&hashes[at..at + nodes.len()]);
            at += nodes.len();
            h
        })
        .collect())
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves
/// (RFC 9162 §2.1.3.1), from hashes stored for a tree of at least `size` leaves.
pub fn inclusion_proof(
    index: u64,
    size: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::BadIndex { index, size });
    }
    range_hashes(&inclusion_ranges(index, size), reader)
}

/// The consistency proof between the trees of the first `size1` and `size2` leaves
/// (RFC 9162 §2.1.4.1). Empty when `size1` is 0 or equal to `size2`.
pub fn consistency_proof(
    size1: u64,
    size2: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, ProofError> {
    if size1 > size2 {
        return Err(ProofError::BadSize { size1, size2 });
    }
    if size1 == 0 || size1 == size2 {
        return Ok(Vec::new());
    }
    range_hashes(&consistency_ranges(size1, size2), reader)
}
