//! Integers modulo the group order n of the SM2 recommended curve.
//!
//! A `Scalar` holds the canonical integer (below n); multiplication goes through Montgomery
//! form (`MontScalar`). All operations are constant time; inversion is Fermat's
//! `a^(n-2)` with a fixed 4-bit window over the public exponent.

use subtle::{Choice, ConditionallySelectable};
use zeroize::Zeroize;

use crate::limbs::{self, Limbs};

pub(crate) const N: Limbs = [
    0x53BB_F409_39D5_4123,
    0x7203_DF6B_21C6_052B,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFE_FFFF_FFFF,
];
const N0: u64 = limbs::mont_n0(N[0]);
const R2: Limbs = limbs::mont_r2(&N);

/// An integer in [0, n), canonical form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scalar(pub(crate) Limbs);

/// `x * 2^256 mod n`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MontScalar(pub(crate) Limbs);

impl Scalar {
    #[cfg(test)]
    pub(crate) const ZERO: Scalar = Scalar([0; 4]);
    pub(crate) const ONE: Scalar = Scalar([1, 0, 0, 0]);

    /// From big-endian bytes; `None` unless the integer is below n. Constant time in the
    /// value except for the final validity answer.
    pub(crate) fn from_bytes(b: &[u8; 32]) -> Option<Scalar> {
        let l = limbs::from_be_bytes(b);
        if limbs::lt(&l, &N) == 1 {
            Some(Scalar(l))
        } else {
            None
        }
    }

    /// Any 256-bit integer, reduced mod n (one conditional subtraction suffices since
    /// 2^256 < 2n).
    pub(crate) fn from_bytes_reduced(b: &[u8; 32]) -> Scalar {
        Scalar::from_limbs_reduced(limbs::from_be_bytes(b))
    }

    pub(crate) fn from_limbs_reduced(l: Limbs) -> Scalar {
        Scalar(limbs::sub_if_ge(l, 0, &N))
    }

    pub(crate) fn to_bytes(self) -> [u8; 32] {
        limbs::to_be_bytes(&self.0)
    }

    pub(crate) fn add(&self, rhs: &Scalar) -> Scalar {
        Scalar(limbs::add_mod(&self.0, &rhs.0, &N))
    }

    pub(crate) fn sub(&self, rhs: &Scalar) -> Scalar {
        Scalar(limbs::sub_mod(&self.0, &rhs.0, &N))
    }

    pub(crate) fn is_zero(&self) -> Choice {
        Choice::from(limbs::is_zero(&self.0) as u8)
    }

    pub(crate) fn to_mont(self) -> MontScalar {
        MontScalar(limbs::mont_reduce(limbs::mul_wide(&self.0, &R2), &N, N0))
    }

    /// `self * rhs` where `rhs` is in Montgomery form: one Montgomery multiplication gives
    /// the canonical product.
    pub(crate) fn mul_mont(&self, rhs: &MontScalar) -> Scalar {
        Scalar(limbs::mont_reduce(limbs::mul_wide(&self.0, &rhs.0), &N, N0))
    }
}

impl MontScalar {
    fn mul(&self, rhs: &MontScalar) -> MontScalar {
        MontScalar(limbs::mont_reduce(limbs::mul_wide(&self.0, &rhs.0), &N, N0))
    }

    fn square(&self) -> MontScalar {
        MontScalar(limbs::mont_reduce(limbs::square_wide(&self.0), &N, N0))
    }

    /// `self^-1` (0 for 0) as `self^(n-2)`. The exponent is public, so the sequence of
    /// squarings and multiplications is fixed; table indexes are exponent digits, not
    /// secret data.
    pub(crate) fn invert(&self) -> MontScalar {
        // table[i] = self^i, i in 0..16
        let one = Scalar::ONE.to_mont();
        let mut table = [one; 16];
        table[1] = *self;
        for i in 2..16 {
            table[i] = table[i - 1].mul(self);
        }
        let mut e = N;
        e[0] -= 2; // n - 2 (no borrow: the low limb of n is far above 2)
        let mut acc = one;
        for limb in (0..4).rev() {
            for nib in (0..16).rev() {
                for _ in 0..4 {
                    acc = acc.square();
                }
                let d = ((e[limb] >> (4 * nib)) & 0xf) as usize;
                acc = acc.mul(&table[d]);
            }
        }
        table.zeroize();
        acc
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Zeroize for MontScalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl ConditionallySelectable for Scalar {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        let mut out = [0u64; 4];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u64::conditional_select(&a.0[i], &b.0[i], choice);
        }
        Scalar(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn n() -> BigUint {
        BigUint::from_bytes_be(&limbs::to_be_bytes(&N))
    }

    fn big(s: Scalar) -> BigUint {
        BigUint::from_bytes_be(&s.to_bytes())
    }

    #[test]
    fn constants() {
        // n as given in GB/T 32918.5.
        let expect = BigUint::parse_bytes(
            b"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
            16,
        )
        .unwrap();
        assert_eq!(n(), expect);
        assert!(Scalar::from_bytes(&limbs::to_be_bytes(&N)).is_none());
        assert_eq!(
            big(Scalar::from_bytes_reduced(&limbs::to_be_bytes(&N))),
            BigUint::from(0u8)
        );
        assert_eq!(
            big(Scalar::from_bytes_reduced(&[0xff; 32])),
            BigUint::from_bytes_be(&[0xff; 32]) - n()
        );
        let inv0 = Scalar::ZERO.to_mont().invert();
        assert_eq!(big(Scalar::ONE.mul_mont(&inv0)), BigUint::from(0u8));
    }

    proptest! {
        #[test]
        fn arithmetic_matches_bigint(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            let sa = Scalar::from_bytes_reduced(&a);
            let sb = Scalar::from_bytes_reduced(&b);
            let n = n();
            let ba = BigUint::from_bytes_be(&a) % &n;
            let bb = BigUint::from_bytes_be(&b) % &n;
            prop_assert_eq!(big(sa), ba.clone());
            prop_assert_eq!(big(sa.add(&sb)), (&ba + &bb) % &n);
            prop_assert_eq!(big(sa.sub(&sb)), (&ba + &n - &bb) % &n);
            prop_assert_eq!(big(sa.mul_mont(&sb.to_mont())), (&ba * &bb) % &n);
            if ba != BigUint::from(0u8) {
                // invert() gives (a^-1)R, so a Montgomery product with a is 1.
                let prod = sa.mul_mont(&sa.to_mont().invert());
                prop_assert_eq!(big(prod), BigUint::from(1u8));
            }
        }
    }
}
