//! SM2 digital signatures (GB/T 32918.2-2016, GM/T 0003.2-2012) with SM3 on the recommended
//! curve of GB/T 32918.5-2017, written for speed without `unsafe`.
//!
//! # What it does
//!
//! * `Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)` (GB/T 32918.2 §5.5), with the
//!   signer ID (default [`DEFAULT_ID`], `1234567812345678`), and `e = SM3(Z_A ‖ M)`.
//! * Sign: `(x1, y1) = k·G`, `r = (e + x1) mod n`, `s = (1 + d)^-1 (k - r·d) mod n`, retry
//!   with a fresh k when `r = 0`, `r + k = n` or `s = 0`. We keep `(1 + d)^-1` with the key
//!   and compute `s = (1 + d)^-1 (k + r) - r`, the same value with one multiplication.
//! * Verify: `r, s ∈ [1, n-1]`, `t = r + s mod n ≠ 0`, `(x1, y1) = s·G + t·P` not infinity,
//!   and `(e + x1) mod n = r`. A high `s` is valid (the standard has no low-s rule).
//!   The last check avoids an inversion: `x1 ≡ r - e (mod n)` with `x1 < p < 2n` leaves
//!   `r - e` and `r - e + n` as candidates, each compared as `X == c·Z^2`.
//! * Signatures are 64 bytes `r ‖ s`, big-endian; public keys SEC 1 uncompressed (65 bytes).
//!
//! # How
//!
//! * Field GF(p) and scalars mod n on four 64-bit limbs in Montgomery form, products with
//!   `u128`; p ≡ -1 mod 2^64 makes the Montgomery factor 1 and the reduction shifts and
//!   adds. Field inversion (once per signature, for the affine x1) is Bernstein–Yang
//!   divsteps, 12 batches of 62; the scalar inversion `(1 + d)^-1` (once per key) is Fermat,
//!   `x^(n-2)` with a fixed window.
//! * Points in Jacobian coordinates with the a = -3 doubling; mixed additions with affine
//!   table points.
//! * k·G: a fixed-base table of 43 × 32 affine points (88 KiB, built once on first use or by
//!   [`precompute`]), signed 6-bit windows, 43 mixed additions and no doubling.
//! * s·G + t·P in verification: s and t are cut into eight 32-bit chunks each, against
//!   tables of odd multiples of 2^(32j)·G (static, width-8 wNAF, 32 KiB) and 2^(32j)·P
//!   (per key, width-5 wNAF, 4 KiB): 32 shared doublings and about 75 mixed additions. The
//!   per-key table costs about three verifications to build; it is built on the key's
//!   second verification (or by [`VerifyingKey::with_id`]) and shared by the key's clones,
//!   so keep and reuse `VerifyingKey`s (or [`PreparedVerifier`]s) for keys that verify
//!   often. A key's first verification goes without it: 256 doublings for t·P (width-5
//!   wNAF), with the chunks of s·G added in the last 32 steps.
//!
//! # Constant time
//!
//! Whatever touches the secret key d or the nonce k runs in constant time: limb arithmetic
//! uses carries and masks, not branches; k·G reads every entry of each table row and keeps
//! the wanted one with masks that pass through `black_box` (so the compiler cannot turn
//! them back into a comparison and a branch), negates with a select (`subtle`), and handles
//! "digit zero" and "accumulator at infinity" with selects. The additions' remaining
//! exceptional cases (adding a point to itself or its negation) cannot happen: before row i
//! the accumulator is `Σ_{j<i} d_j 2^(6j) G` with a magnitude below `2^(6i)`, and the row's
//! point is `d_i 2^(6i) G` with `|d_i| ≥ 1`, both well below n/2 except in the last row,
//! where a collision would mean k ≡ 0 or k ≥ n. Inversions run a fixed sequence of
//! operations (divsteps on masks, a fixed count; Fermat with a public exponent). The
//! compiled code of these paths was inspected for conditional jumps (x86-64, release): only
//! loop counters and public window positions branch. The only branches on secret-derived
//! values are the retry conditions (`r = 0`, `r + k = n`, `s = 0`, each with probability
//! about 2^-256).
//! Verification handles public data only and is variable time.
//! Secrets (d, (1 + d)^-1, k) are zeroized when dropped.
//!
//! `unsafe` is forbidden in this crate.
//!
//! # Why our own
//!
//! RustCrypto `sm2` (0.13, and 0.14 on the same generic `primeorder` arithmetic) has no
//! precomputed tables and runs about ten times slower. `efficient-sm2` 0.2.5 is faster than
//! that but branches and indexes memory on secret bytes in k·G and in its field reduction,
//! fixes the signer ID, and measured five to six times slower here than this crate.
//!
//! # Example
//!
//! ```
//! use elicense_sm2::{SigningKey, VerifyingKey, DEFAULT_ID};
//!
//! let key = SigningKey::random(&mut rand_core::OsRng);
//! let signer = key.with_id(DEFAULT_ID).unwrap();
//! let sig = signer.sign(b"license", &mut rand_core::OsRng);
//!
//! let public = VerifyingKey::from_sec1_uncompressed(&key.verifying_key().to_sec1_uncompressed()).unwrap();
//! let verifier = public.with_id(DEFAULT_ID).unwrap();
//! assert!(verifier.verify(b"license", &sig).is_ok());
//! assert!(verifier.verify(b"licence", &sig).is_err());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod field;
mod limbs;
mod point;
mod safegcd;
mod scalar;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rand_core::CryptoRngCore;
use sm3::{Digest, Sm3};
use zeroize::{Zeroize, Zeroizing};

use crate::field::Fe;
use crate::point::{Affine, PointTable};
use crate::scalar::{MontScalar, Scalar};

/// The default signer ID of GM/T 0009-2012 and GB/T 35276-2017, `1234567812345678`.
pub const DEFAULT_ID: &[u8] = b"1234567812345678";

/// The longest signer ID: ENTL_A is a 16-bit count of bits.
pub const MAX_ID_LEN: usize = 8191;

/// Why an operation failed. Deliberately coarse for signatures: a caller learns that a
/// signature does not verify, not which check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The secret key is not an integer in [1, n-2].
    InvalidSecretKey,
    /// The public key is not an uncompressed encoding of a point on the curve.
    InvalidPublicKey,
    /// The signature does not verify (or is malformed).
    InvalidSignature,
    /// The signer ID is longer than [`MAX_ID_LEN`] bytes.
    IdTooLong,
    /// The nonce given to a test signing function is not usable (0, ≥ n, or gives r = 0,
    /// r + k = n or s = 0).
    InvalidNonce,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::InvalidSecretKey => "invalid SM2 secret key",
            Error::InvalidPublicKey => "invalid SM2 public key",
            Error::InvalidSignature => "invalid SM2 signature",
            Error::IdTooLong => "SM2 signer ID too long",
            Error::InvalidNonce => "unusable SM2 nonce",
        })
    }
}

impl std::error::Error for Error {}

/// Builds the static tables (for k·G, and for G in verification; a few milliseconds) now
/// instead of on the first signature or verification.
pub fn precompute() {
    point::precompute();
}

fn z_a(id: &[u8], public: &Affine) -> Result<[u8; 32], Error> {
    if id.len() > MAX_ID_LEN {
        return Err(Error::IdTooLong);
    }
    let entl = ((id.len() * 8) as u16).to_be_bytes();
    let mut h = Sm3::new();
    h.update(entl);
    h.update(id);
    h.update(point::A_BYTES);
    h.update(point::B_BYTES);
    h.update(point::GX_BYTES);
    h.update(point::GY_BYTES);
    h.update(public.x.to_bytes());
    h.update(public.y.to_bytes());
    Ok(h.finalize().into())
}

fn hash_e(z: &[u8; 32], msg: &[u8]) -> Scalar {
    let mut h = Sm3::new();
    h.update(z);
    h.update(msg);
    let digest: [u8; 32] = h.finalize().into();
    Scalar::from_bytes_reduced(&digest)
}

/// An SM2 public key.
#[derive(Clone)]
pub struct VerifyingKey {
    point: Affine,
    z_default: [u8; 32],
    cache: Arc<KeyCache>,
}

/// Shared by a key's clones: the multiplication table, built on the second verification
/// (a one-off verification does not pay for it) or by `with_id`.
#[derive(Debug, Default)]
struct KeyCache {
    table: OnceLock<PointTable>,
    verified_once: AtomicBool,
}

impl VerifyingKey {
    /// From SEC 1 uncompressed bytes `04 ‖ x ‖ y`; the point must be on the curve.
    pub fn from_sec1_uncompressed(bytes: &[u8; 65]) -> Result<Self, Error> {
        let point = Affine::from_uncompressed(bytes).ok_or(Error::InvalidPublicKey)?;
        Ok(VerifyingKey::from_point(point))
    }

    fn from_point(point: Affine) -> Self {
        let z_default = z_a(DEFAULT_ID, &point).expect("the default ID is short");
        VerifyingKey {
            point,
            z_default,
            cache: Arc::new(KeyCache::default()),
        }
    }

    /// SEC 1 uncompressed bytes `04 ‖ x ‖ y`.
    pub fn to_sec1_uncompressed(&self) -> [u8; 65] {
        self.point.to_uncompressed()
    }

    /// `Z_A` for this key and a signer ID (GB/T 32918.2 §5.5).
    pub fn z_a(&self, id: &[u8]) -> Result<[u8; 32], Error> {
        if id == DEFAULT_ID {
            return Ok(self.z_default);
        }
        z_a(id, &self.point)
    }

    /// A verifier for one signer ID, with `Z_A` computed once and the key's
    /// multiplication table built.
    pub fn with_id(&self, id: &[u8]) -> Result<PreparedVerifier, Error> {
        let z = self.z_a(id)?;
        let _ = self.table();
        Ok(PreparedVerifier {
            key: self.clone(),
            z,
        })
    }

    /// Verifies a 64-byte `r ‖ s` signature of `msg` by the signer `id`
    /// ([`Error::IdTooLong`] for an ID over [`MAX_ID_LEN`] bytes).
    pub fn verify(&self, id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let z = self.z_a(id)?;
        self.verify_with_z(&z, msg, sig)
    }

    fn table(&self) -> &PointTable {
        self.cache
            .table
            .get_or_init(|| PointTable::new(&self.point))
    }

    fn verify_with_z(&self, z: &[u8; 32], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let sig: &[u8; 64] = sig.try_into().map_err(|_| Error::InvalidSignature)?;
        let r = Scalar::from_bytes(sig[..32].try_into().expect("32 bytes"));
        let s = Scalar::from_bytes(sig[32..].try_into().expect("32 bytes"));
        let (Some(r), Some(s)) = (r, s) else {
            return Err(Error::InvalidSignature);
        };
        if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
            return Err(Error::InvalidSignature);
        }
        let t = r.add(&s);
        if bool::from(t.is_zero()) {
            return Err(Error::InvalidSignature);
        }
        self.verify_e(&hash_e(z, msg), &r, &s, &t)
    }

    /// The curve part of verification for `e`, `r`, `s` in [1, n-1] and `t = r + s ≠ 0`.
    fn verify_e(&self, e: &Scalar, r: &Scalar, s: &Scalar, t: &Scalar) -> Result<(), Error> {
        let q = match self.cache.table.get() {
            Some(table) => point::mul_double_vartime(s, t, table),
            None if self.cache.verified_once.swap(true, Ordering::Relaxed) => {
                point::mul_double_vartime(s, t, self.table())
            }
            None => point::mul_double_vartime_untabled(s, t, &self.point),
        };
        if bool::from(q.z.is_zero()) {
            return Err(Error::InvalidSignature);
        }
        // (e + x1) mod n == r  <=>  x1 ∈ {c, c + n} with c = (r - e) mod n, x1 < p.
        let c = r.sub(e);
        let zz = q.z.square();
        if Fe::from_limbs_const(c.0).mul(&zz).eq_vartime(&q.x) {
            return Ok(());
        }
        let (c2, carry) = add_n(&c.0);
        if carry == 0
            && limbs::lt(&c2, &field::P) == 1
            && Fe::from_limbs_const(c2).mul(&zz).eq_vartime(&q.x)
        {
            return Ok(());
        }
        Err(Error::InvalidSignature)
    }
}

fn add_n(c: &[u64; 4]) -> ([u64; 4], u64) {
    let (a0, k) = limbs::adc(c[0], scalar::N[0], 0);
    let (a1, k) = limbs::adc(c[1], scalar::N[1], k);
    let (a2, k) = limbs::adc(c[2], scalar::N[2], k);
    let (a3, k) = limbs::adc(c[3], scalar::N[3], k);
    ([a0, a1, a2, a3], k)
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_sec1_uncompressed() == other.to_sec1_uncompressed()
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_sec1_uncompressed();
        write!(f, "VerifyingKey(")?;
        for b in bytes {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// A verifier for one (key, signer ID): `Z_A` computed once.
#[derive(Clone, Debug)]
pub struct PreparedVerifier {
    key: VerifyingKey,
    z: [u8; 32],
}

impl PreparedVerifier {
    /// Verifies a 64-byte `r ‖ s` signature of `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        self.key.verify_with_z(&self.z, msg, sig)
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// An SM2 secret key (d ∈ [1, n-2]) with its public key. Zeroized on drop.
#[derive(Clone)]
pub struct SigningKey {
    d: Scalar,
    /// (1 + d)^-1 mod n, Montgomery form.
    dinv: MontScalar,
    public: VerifyingKey,
}

impl SigningKey {
    /// From the 32-byte big-endian secret; it must lie in [1, n-2] (GB/T 32918.1 §6.1).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        let d = Scalar::from_bytes(bytes).ok_or(Error::InvalidSecretKey)?;
        let mut d1 = d.add(&Scalar::ONE);
        // d = 0 or d = n - 1 (then 1 + d = 0) are refused.
        if bool::from(d.is_zero() | d1.is_zero()) {
            return Err(Error::InvalidSecretKey);
        }
        let mut d1m = d1.to_mont();
        let dinv = d1m.invert();
        d1.zeroize();
        d1m.zeroize();
        let public = point::mul_base(&d)
            .to_affine()
            .expect("d·G is finite for d in [1, n-1]");
        Ok(SigningKey {
            d,
            dinv,
            public: VerifyingKey::from_point(public),
        })
    }

    /// A fresh key from a cryptographic RNG.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        loop {
            rng.fill_bytes(bytes.as_mut());
            if let Ok(k) = SigningKey::from_bytes(&bytes) {
                return k;
            }
        }
    }

    /// The 32-byte big-endian secret, zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.d.to_bytes())
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// A signer for one signer ID, with `Z_A` computed once.
    pub fn with_id(&self, id: &[u8]) -> Result<PreparedSigner, Error> {
        Ok(PreparedSigner {
            z: self.public.z_a(id)?,
            key: self.clone(),
        })
    }

    /// Signs `msg` as signer `id`: 64 bytes `r ‖ s`. The nonce k comes from `rng`. The only
    /// error is [`Error::IdTooLong`]; [`SigningKey::with_id`] checks the ID once and then
    /// signs infallibly.
    pub fn sign(
        &self,
        id: &[u8],
        msg: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; 64], Error> {
        let z = self.public.z_a(id)?;
        Ok(self.sign_with_z(&z, msg, rng))
    }

    fn sign_with_z(&self, z: &[u8; 32], msg: &[u8], rng: &mut impl CryptoRngCore) -> [u8; 64] {
        let e = hash_e(z, msg);
        let mut bytes = Zeroizing::new([0u8; 32]);
        loop {
            rng.fill_bytes(bytes.as_mut());
            let Some(mut k) = Scalar::from_bytes(&bytes) else {
                continue;
            };
            let sig = self.sign_e_with_k(&e, &k);
            k.zeroize();
            if let Ok(sig) = sig {
                return sig;
            }
        }
    }

    /// Signs with a given nonce k (big-endian), for known-answer tests only: a repeated or
    /// predictable k reveals the secret key.
    #[doc(hidden)]
    pub fn sign_with_k(&self, id: &[u8], msg: &[u8], k: &[u8; 32]) -> Result<[u8; 64], Error> {
        let z = self.public.z_a(id)?;
        let e = hash_e(&z, msg);
        let mut k = Scalar::from_bytes(k).ok_or(Error::InvalidNonce)?;
        let sig = self.sign_e_with_k(&e, &k);
        k.zeroize();
        sig
    }

    fn sign_e_with_k(&self, e: &Scalar, k: &Scalar) -> Result<[u8; 64], Error> {
        if bool::from(k.is_zero()) {
            return Err(Error::InvalidNonce);
        }
        let p1 = point::mul_base(k).to_affine().ok_or(Error::InvalidNonce)?;
        let x1 = Scalar::from_limbs_reduced(p1.x.to_limbs());
        let r = e.add(&x1);
        let mut rk = r.add(k);
        if bool::from(r.is_zero() | rk.is_zero()) {
            return Err(Error::InvalidNonce);
        }
        // s = (1 + d)^-1 (k - r d) = (1 + d)^-1 (k + r) - r
        let s = rk.mul_mont(&self.dinv).sub(&r);
        rk.zeroize();
        if bool::from(s.is_zero()) {
            return Err(Error::InvalidNonce);
        }
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&r.to_bytes());
        out[32..].copy_from_slice(&s.to_bytes());
        Ok(out)
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.d.zeroize();
        self.dinv.zeroize();
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// A signer for one (key, signer ID): `Z_A` computed once. Zeroized on drop (it holds a
/// copy of the key).
#[derive(Clone, Debug)]
pub struct PreparedSigner {
    key: SigningKey,
    z: [u8; 32],
}

impl PreparedSigner {
    /// Signs `msg`: 64 bytes `r ‖ s`. The nonce k comes from `rng`.
    pub fn sign(&self, msg: &[u8], rng: &mut impl CryptoRngCore) -> [u8; 64] {
        self.key.sign_with_z(&self.z, msg, rng)
    }

    /// The public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.key.verifying_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::{mul_ref, G};
    use num_bigint::BigUint;

    fn fe_pow(a: &Fe, e: &BigUint) -> Fe {
        let mut acc = Fe::ONE;
        for i in (0..e.bits()).rev() {
            acc = acc.square();
            if e.bit(i) {
                acc = acc.mul(a);
            }
        }
        acc
    }

    /// The rare case x1 ≥ n (probability about 2^-128 for honest signatures), where
    /// (e + x1) mod n = r needs the second candidate x1 = (r - e) + n. We build a public key
    /// for which s·G + t·P lands on a chosen point R with x(R) ≥ n.
    #[test]
    fn keys_and_verifiers_can_be_shared_between_threads() {
        fn shared<T: Send + Sync + Clone + 'static>() {}
        shared::<SigningKey>();
        shared::<VerifyingKey>();
        shared::<PreparedSigner>();
        shared::<PreparedVerifier>();
    }

    #[test]
    fn verification_handles_x1_at_or_above_n() {
        let p_big = BigUint::from_bytes_be(&limbs::to_be_bytes(&field::P));
        let b = Fe::from_bytes(&point::B_BYTES).unwrap();
        // Find x ≥ n with x^3 - 3x + b a square (p ≡ 3 mod 4: sqrt = a^((p+1)/4)).
        let mut xl = scalar::N;
        let r_point = loop {
            let x = Fe::from_limbs_const(xl);
            let rhs = x.square().mul(&x).sub(&x.double().add(&x)).add(&b);
            let y = fe_pow(&rhs, &((&p_big + 1u8) >> 2));
            if y.square().eq_vartime(&rhs) {
                break Affine { x, y };
            }
            xl[0] += 1;
        };
        assert!(r_point.is_on_curve());
        assert_eq!(limbs::lt(&r_point.x.to_limbs(), &scalar::N), 0, "x(R) ≥ n");

        let s = Scalar::from_bytes_reduced(&[0x42; 32]);
        let e = Scalar::from_bytes_reduced(&[0x17; 32]);
        let x1 = Scalar::from_limbs_reduced(r_point.x.to_limbs());
        let r = e.add(&x1);
        let t = r.add(&s);
        // P = t^-1 (R - s·G)
        let t_inv = Scalar::ONE.mul_mont(&t.to_mont().invert());
        let neg_sg = mul_ref(&Scalar::ZERO.sub(&s), &G);
        let diff = neg_sg.add_affine_vartime(&r_point).to_affine().unwrap();
        let public = mul_ref(&t_inv, &diff).to_affine().unwrap();
        let key = VerifyingKey::from_point(public);

        assert_eq!(key.verify_e(&e, &r, &s, &t), Ok(()));
        // And a neighbouring r is refused.
        let r2 = r.add(&Scalar::ONE);
        assert!(key.verify_e(&e, &r2, &s, &r2.add(&s)).is_err());
    }
}
