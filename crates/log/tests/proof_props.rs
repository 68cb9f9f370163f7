//! Property tests: every proof of a random tree (up to 2000 leaves) verifies, and
//! tampering with it (a flipped bit, a wrong index, a wrong size, a wrong root) fails.

mod common;

use common::{mth, path_shape, tree};
use elicense_log::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use elicense_log::tree::{root_from_reader, Frontier};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn roots_match_the_recursive_definition(n in 0u64..600) {
        let (mem, leaves) = tree(n);
        prop_assert_eq!(mem.root(), mth(&leaves));
        prop_assert_eq!(root_from_reader(n, &mem).unwrap(), mth(&leaves));
        let f = Frontier::from_peaks(n, mem.frontier().peaks().to_vec()).unwrap();
        prop_assert_eq!(f.root(), mem.root());
    }

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        n in 1u64..2000,
        i_seed in any::<u64>(),
        elem_seed in any::<usize>(),
        bit in 0u8..8,
        byte in 0usize..32,
        other_seed in any::<u64>(),
    ) {
        let (mem, leaves) = tree(n);
        let i = i_seed % n;
        let root = mem.root();
        let leaf = leaves[i as usize];
        let proof = inclusion_proof(i, n, &mem).unwrap();
        prop_assert!(proof.len() <= 64 - (n - 1).leading_zeros() as usize);
        verify_inclusion(&leaf, i, n, &proof, &root).unwrap();

        // A proof for an older size of the same log verifies against that size's root.
        let m = i + 1 + other_seed % (n - i);
        let old_root = mth(&leaves[..m as usize]);
        verify_inclusion(&leaf, i, m, &inclusion_proof(i, m, &mem).unwrap(), &old_root).unwrap();

        // Flipping any bit of any proof hash breaks it.
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[elem_seed % proof.len()].0[byte] ^= 1 << bit;
            prop_assert!(verify_inclusion(&leaf, i, n, &bad, &root).is_err());
        }
        // So does a flipped bit in the leaf or the root.
        let mut bad_leaf = leaf;
        bad_leaf.0[byte] ^= 1 << bit;
        prop_assert!(verify_inclusion(&bad_leaf, i, n, &proof, &root).is_err());
        let mut bad_root = root;
        bad_root.0[byte] ^= 1 << bit;
        prop_assert!(verify_inclusion(&leaf, i, n, &proof, &bad_root).is_err());

        // Any other index fails (the leaves are distinct).
        let j = (i + 1 + other_seed % n) % n;
        if j != i {
            prop_assert!(verify_inclusion(&leaf, j, n, &proof, &root).is_err());
        }
        prop_assert!(verify_inclusion(&leaf, n + other_seed % 5, n, &proof, &root).is_err());

        // Another size fails unless it gives the leaf the very same path (same length and
        // sibling sides): a proof does not bind the size, the signed checkpoint does.
        let size = 1 + other_seed % 4000;
        if size != n {
            let same_shape = i < size && path_shape(i, size) == path_shape(i, n);
            let ok = verify_inclusion(&leaf, i, size, &proof, &root).is_ok();
            prop_assert_eq!(ok, same_shape, "size {} for leaf {} of {}", size, i, n);
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        n in 1u64..2000,
        m_seed in any::<u64>(),
        elem_seed in any::<usize>(),
        bit in 0u8..8,
        byte in 0usize..32,
        other_seed in any::<u64>(),
    ) {
        let (mem, leaves) = tree(n);
        let m = m_seed % (n + 1);
        let (r1, r2) = (mth(&leaves[..m as usize]), mem.root());
        let proof = consistency_proof(m, n, &mem).unwrap();
        verify_consistency(m, n, &r1, &r2, &proof).unwrap();
        if m == 0 || m == n {
            prop_assert!(proof.is_empty());
            return Ok(());
        }

        let mut bad = proof.clone();
        bad[elem_seed % proof.len()].0[byte] ^= 1 << bit;
        prop_assert!(verify_consistency(m, n, &r1, &r2, &bad).is_err());
        let mut bad_r1 = r1;
        bad_r1.0[byte] ^= 1 << bit;
        prop_assert!(verify_consistency(m, n, &bad_r1, &r2, &proof).is_err());
        let mut bad_r2 = r2;
        bad_r2.0[byte] ^= 1 << bit;
        prop_assert!(verify_consistency(m, n, &r1, &bad_r2, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &r2, &r1, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &r1, &r2, &proof[1..]).is_err());

        // Another old size, with the root of that size, fails with this proof.
        let m2 = 1 + other_seed % n;
        if m2 != m {
            let r1b = mth(&leaves[..m2 as usize]);
            prop_assert!(verify_consistency(m2, n, &r1b, &r2, &proof).is_err());
        }
    }
}
