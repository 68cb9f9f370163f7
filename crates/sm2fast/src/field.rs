//! The SM2 base field GF(p), p = 2^256 - 2^224 - 2^96 + 2^64 - 1 (GB/T 32918.5 recommended
//! curve), in Montgomery form on four 64-bit limbs.
//!
//! Because p ≡ -1 (mod 2^64), the Montgomery constant -p^-1 mod 2^64 is 1, which the
//! reduction uses directly. All operations are constant time.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::limbs::{self, Limbs};
use crate::safegcd;

pub(crate) const P: Limbs = [
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_0000_0000,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFE_FFFF_FFFF,
];
const N0: u64 = limbs::mont_n0(P[0]);
// The reduction `mont_reduce_sm2p` relies on -p^-1 ≡ 1 (mod 2^64).
const _: () = assert!(N0 == 1);
const R2: Limbs = limbs::mont_r2(&P);
/// R^3 mod p (R = 2^256), raw limbs.
const R3: Limbs = limbs::mont_reduce_sm2p(limbs::mul_wide(&R2, &R2), &P);

/// An element of GF(p), stored as `x * 2^256 mod p`, fully reduced.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fe(pub(crate) Limbs);

impl Fe {
    pub(crate) const ZERO: Fe = Fe([0; 4]);
    pub(crate) const ONE: Fe = Fe::from_limbs_const([1, 0, 0, 0]);

    /// From a canonical integer below p (compile-time use).
    pub(crate) const fn from_limbs_const(l: Limbs) -> Fe {
        Fe(limbs::mont_reduce_sm2p(limbs::mul_wide(&l, &R2), &P))
    }

    /// From big-endian bytes; `None` unless the integer is below p.
    pub(crate) fn from_bytes(b: &[u8; 32]) -> Option<Fe> {
        let l = limbs::from_be_bytes(b);
        if limbs::lt(&l, &P) == 1 {
            Some(Fe::from_limbs_const(l))
        } else {
            None
        }
    }

    /// The canonical integer (not Montgomery form).
    pub(crate) fn to_limbs(self) -> Limbs {
        let mut t = [0u64; 8];
        t[..4].copy_from_slice(&self.0);
        limbs::mont_reduce_sm2p(t, &P)
    }

    pub(crate) fn to_bytes(self) -> [u8; 32] {
        limbs::to_be_bytes(&self.to_limbs())
    }

    #[inline(always)]
    pub(crate) fn mul(&self, rhs: &Fe) -> Fe {
        Fe(limbs::mont_reduce_sm2p(
            limbs::mul_wide(&self.0, &rhs.0),
            &P,
        ))
    }

    #[inline(always)]
    pub(crate) fn square(&self) -> Fe {
        Fe(limbs::mont_reduce_sm2p(limbs::square_wide(&self.0), &P))
    }

    #[inline(always)]
    pub(crate) fn add(&self, rhs: &Fe) -> Fe {
        Fe(limbs::add_mod(&self.0, &rhs.0, &P))
    }

    #[inline(always)]
    pub(crate) fn sub(&self, rhs: &Fe) -> Fe {
        Fe(limbs::sub_mod(&self.0, &rhs.0, &P))
    }

    #[inline(always)]
    pub(crate) fn double(&self) -> Fe {
        self.add(self)
    }

    #[inline(always)]
    pub(crate) fn neg(&self) -> Fe {
        Fe::ZERO.sub(self)
    }

    /// `self^(2^k)`.
    #[cfg(test)]
    pub(crate) fn sqn(&self, k: usize) -> Fe {
        let mut t = *self;
        for _ in 0..k {
            t = t.square();
        }
        t
    }

    /// `self^-1` (0 for 0), constant time, by Bernstein–Yang divsteps (`safegcd`): the
    /// Montgomery form xR inverts to x^-1·R^-1, and a Montgomery product with R^3 gives
    /// x^-1·R. About twice as fast as Fermat's `self^(p-2)`.
    pub(crate) fn invert(&self) -> Fe {
        Fe(safegcd::invert(&self.0, &P)).mul(&Fe(R3))
    }

    /// `self^-1` (0 for 0) by Fermat, `self^(p-2)`, along a fixed addition chain:
    /// p - 2 is, from the top bit, 31 ones, a zero, 128 ones, 32 zeros, 62 ones, `01`.
    /// The reference for `invert`.
    #[cfg(test)]
    pub(crate) fn invert_fermat(&self) -> Fe {
        let x1 = *self;
        let x2 = x1.square().mul(&x1);
        let x3 = x2.square().mul(&x1);
        let x6 = x3.sqn(3).mul(&x3);
        let x12 = x6.sqn(6).mul(&x6);
        let x24 = x12.sqn(12).mul(&x12);
        let x30 = x24.sqn(6).mul(&x6);
        let x31 = x30.square().mul(&x1);
        let x32 = x31.square().mul(&x1);
        let x62 = x32.sqn(30).mul(&x30);

        let mut t = x31.square(); // 31 ones, then a zero
        for _ in 0..4 {
            t = t.sqn(32).mul(&x32); // 128 ones
        }
        t = t.sqn(32); // 32 zeros
        t = t.sqn(62).mul(&x62); // 62 ones
        t.sqn(2).mul(&x1) // 0, 1
    }

    pub(crate) fn is_zero(&self) -> Choice {
        Choice::from(limbs::is_zero(&self.0) as u8)
    }

    /// Variable-time equality (public data only).
    pub(crate) fn eq_vartime(&self, rhs: &Fe) -> bool {
        self.0 == rhs.0
    }

    /// Inverts every element of `v` at the cost of one inversion (Montgomery's trick);
    /// all elements must be non-zero. Public data only (used to build tables).
    pub(crate) fn batch_invert(v: &mut [Fe]) {
        let mut prefix = Vec::with_capacity(v.len());
        let mut acc = Fe::ONE;
        for x in v.iter() {
            prefix.push(acc);
            acc = acc.mul(x);
        }
        let mut inv = acc.invert();
        for (x, pre) in v.iter_mut().zip(prefix).rev() {
            let xi = inv.mul(&pre);
            inv = inv.mul(x);
            *x = xi;
        }
    }
}

impl ConditionallySelectable for Fe {
    #[inline(always)]
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Fe([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}

impl ConstantTimeEq for Fe {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn p() -> BigUint {
        BigUint::from_bytes_be(&limbs::to_be_bytes(&P))
    }

    fn big(f: Fe) -> BigUint {
        BigUint::from_bytes_be(&f.to_bytes())
    }

    fn fe_from_seed(b: [u8; 32]) -> (Fe, BigUint) {
        let x = BigUint::from_bytes_be(&b) % p();
        let mut bytes = [0u8; 32];
        let v = x.to_bytes_be();
        bytes[32 - v.len()..].copy_from_slice(&v);
        (Fe::from_bytes(&bytes).unwrap(), x)
    }

    #[test]
    fn constants() {
        // p as given in GB/T 32918.5 (FFFFFFFE FFFFFFFF ... 00000000 FFFFFFFF FFFFFFFF).
        let expect = BigUint::parse_bytes(
            b"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
            16,
        )
        .unwrap();
        assert_eq!(p(), expect);
        assert_eq!(N0, 1);
        assert_eq!(big(Fe::ONE), BigUint::from(1u8));
        assert_eq!(big(Fe::ZERO), BigUint::from(0u8));
        // Out-of-range encodings are refused: p itself and 2^256 - 1.
        assert!(Fe::from_bytes(&limbs::to_be_bytes(&P)).is_none());
        assert!(Fe::from_bytes(&[0xff; 32]).is_none());
        let mut pm1 = P;
        pm1[0] -= 1;
        assert_eq!(
            big(Fe::from_bytes(&limbs::to_be_bytes(&pm1)).unwrap()),
            p() - 1u8
        );
    }

    #[test]
    fn edge_values() {
        let pm1 = {
            let mut l = P;
            l[0] -= 1;
            Fe::from_bytes(&limbs::to_be_bytes(&l)).unwrap()
        };
        assert_eq!(big(pm1.add(&Fe::ONE)), BigUint::from(0u8));
        assert_eq!(big(pm1.mul(&pm1)), BigUint::from(1u8));
        assert_eq!(big(Fe::ZERO.sub(&Fe::ONE)), p() - 1u8);
        assert_eq!(big(Fe::ZERO.neg()), BigUint::from(0u8));
        assert_eq!(big(Fe::ZERO.invert()), BigUint::from(0u8));
        assert_eq!(big(pm1.invert()), p() - 1u8);
    }

    proptest! {
        #[test]
        fn arithmetic_matches_bigint(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let (fa, ba) = fe_from_seed(a);
            let (fb, bb) = fe_from_seed(b);
            let p = p();
            prop_assert_eq!(big(fa.add(&fb)), (&ba + &bb) % &p);
            prop_assert_eq!(big(fa.sub(&fb)), (&ba + &p - &bb) % &p);
            prop_assert_eq!(big(fa.mul(&fb)), (&ba * &bb) % &p);
            prop_assert_eq!(big(fa.square()), (&ba * &ba) % &p);
            prop_assert_eq!(big(fa.neg()), (&p - &ba) % &p);
            prop_assert!(fa.invert().eq_vartime(&fa.invert_fermat()));
            if ba != BigUint::from(0u8) {
                prop_assert_eq!(big(fa.invert()), ba.modpow(&(&p - 2u8), &p));
                prop_assert_eq!(big(fa.invert().mul(&fa)), BigUint::from(1u8));
            }
        }

        #[test]
        fn batch_inversion_matches_single(a in any::<[[u8; 32]; 5]>()) {
            let mut v: Vec<Fe> = a.iter().map(|b| fe_from_seed(*b).0).filter(|f| !bool::from(f.is_zero())).collect();
            let single: Vec<Fe> = v.iter().map(|f| f.invert()).collect();
            Fe::batch_invert(&mut v);
            for (x, y) in v.iter().zip(single) {
                prop_assert!(x.eq_vartime(&y));
            }
        }
    }
}
