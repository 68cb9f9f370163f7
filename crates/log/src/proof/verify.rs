//! Pure proof verification, RFC 9162 §2.1.3.2 and §2.1.4.2.

use super::{consistency_ranges, inclusion_ranges, ProofError};
use crate::hash::{empty_root, node_hash, Hash};

fn check_len(expected: usize, proof: &[Hash]) -> Result<(), ProofError> {
    if proof.len() == expected {
        Ok(())
    } else {
        Err(ProofError::BadProofLength {
            expected,
            got: proof.len(),
        })
    }
}

/// Right-shifts `fn_` and `sn` together until `fn_` is odd or zero.
fn shift_to_odd(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// The root that `proof` leads to from `leaf_hash` at `index` in a tree of `size`.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::BadIndex { index, size });
    }
    check_len(inclusion_ranges(index, size).len(), proof)?;
    let (mut fn_, mut sn, mut r) = (index, size - 1, *leaf_hash);
    for p in proof {
        if sn == 0 {
            return Err(ProofError::BadProof);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            shift_to_odd(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::BadProof);
    }
    Ok(r)
}

/// Checks that `leaf_hash` is the leaf at `index` of the tree of `size` leaves with
/// root `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if root_from_inclusion_proof(leaf_hash, index, size, proof)? == *root {
        Ok(())
    } else {
        Err(ProofError::BadProof)
    }
}

/// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1`
/// leaves with root `root1`. A tree of size 0 has root `SHA-256("")` and is consistent
/// with every tree (empty proof); equal sizes need equal roots and an empty proof.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::BadSize { size1, size2 });
    }
    if size1 == 0 || size1 == size2 {
        check_len(0, proof)?;
        let ok = if size1 == 0 {
            *root1 == empty_root()
        } else {
            root1 == root2
        };
        return if ok {
            Ok(())
        } else {
            Err(ProofError::BadProof)
        };
    }
    check_len(consistency_ranges(size1, size2).len(), proof)?;

    // Step 2: when size1 is a power of two the old root is itself the first node.
    let mut path = proof.iter();
    let first = if size1.is_power_of_two() {
        *root1
    } else {
        *path.next().ok_or(ProofError::BadProof)?
    };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in path {
        if sn == 0 {
            return Err(ProofError::BadProof);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_to_odd(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && fr == *root1 && sr == *root2 {
        Ok(())
    } else {
        Err(ProofError::BadProof)
    }
}
