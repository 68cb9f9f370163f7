//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4).
//!
//! Invariants:
//! - Generation reads only perfect nodes of the larger tree, in one batch per proof, and
//!   at most `2·log2 n` of them; a proof is a list of subtree hashes ordered from the leaf
//!   (or the old root) upward, exactly as RFC 9162 serialises them.
//! - Verification is pure (no reader, no clock) and follows the RFC 9162 §2.1.3.2 and
//!   §2.1.4.2 algorithms; it first checks the proof length the sizes imply, so every
//!   failure names a stable [`ProofError::code`]. `Ok(())` means the proof proves the
//!   claim; every other outcome is an `Err`.

mod generate;
mod verify;

use thiserror::Error;

use crate::tree::TreeError;

pub use generate::{consistency_proof, inclusion_proof};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};

/// Why a proof could not be generated, or does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not in a tree of size {size}")]
    BadIndex {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// A consistency proof was asked between a larger and a smaller tree.
    #[error("tree size {size1} is larger than {size2}")]
    BadSize {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// The proof has another number of hashes than the sizes (and index) imply.
    #[error("proof has {got} hashes, {expected} expected")]
    BadProofLength {
        /// Hashes a correct proof has.
        expected: usize,
        /// Hashes the proof has.
        got: usize,
    },
    /// The proof is well formed but the root it leads to is not the claimed one.
    #[error("proof does not lead to the claimed root")]
    BadProof,
    /// Generating the proof needed node hashes the reader could not give.
    #[error(transparent)]
    Read(#[from] TreeError),
}

impl ProofError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::BadIndex { .. } => "log.bad_index",
            ProofError::BadSize { .. } => "log.bad_size",
            ProofError::BadProofLength { .. } => "log.bad_proof_length",
            ProofError::BadProof => "log.bad_proof",
            ProofError::Read(e) => e.code(),
        }
    }
}

/// The subtrees `[start, end)` whose hashes make up the inclusion proof of leaf `index` in
/// a tree of `size` leaves, leaf side first (RFC 9162 §2.1.3.1, `PATH(m, D[n])`).
pub(crate) fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    debug_assert!(index < size);
    let mut out = Vec::new();
    let (mut lo, mut hi, mut m) = (0u64, size, index);
    while hi - lo > 1 {
        let k = crate::tree::split_point(hi - lo);
        if m < k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
            m -= k;
        }
    }
    out.reverse();
    out
}

/// The subtrees making up the consistency proof from `size1` to `size2`
/// (`0 < size1 < size2`), old-root side first (RFC 9162 §2.1.4.1, `SUBPROOF(m, D[n], true)`).
pub(crate) fn consistency_ranges(size1: u64, size2: u64) -> Vec<(u64, u64)> {
    debug_assert!(0 < size1 && size1 < size2);
    let mut out = Vec::new();
    let (mut lo, mut hi, mut m, mut whole_old_tree) = (0u64, size2, size1, true);
    loop {
        let len = hi - lo;
        if m == len {
            if !whole_old_tree {
                out.push((lo, hi));
            }
            break;
        }
        let k = crate::tree::split_point(len);
        if m <= k {
            out.push((lo + k, hi));
            hi = lo + k;
        } else {
            out.push((lo, lo + k));
            lo += k;
            m -= k;
            whole_old_tree = false;
        }
    }
    out.reverse();
    out
}
