//! The signing and verification engine behind ES256 and Ed25519: aws-lc-rs (AWS-LC).
//!
//! Why aws-lc-rs. Both candidates with optimised constant-time P-256 and Ed25519 code were
//! measured on the project's 2-core machine (a scratch criterion bench, 700-byte message,
//! µs per operation; the machine is shared with other builds, so ±10 %):
//!
//! | operation      | p256 / ed25519-dalek (before) | aws-lc-rs 1.19 | ring 0.17 |
//! | -------------- | ----------------------------- | -------------- | --------- |
//! | ES256 sign     | 165                           | 17.7           | 18.5      |
//! | ES256 verify   | 277                           | 49.7           | 53.0      |
//! | Ed25519 sign   | 20.5                          | 11.2           | 25.4      |
//! | Ed25519 verify | 37.8                          | 37.9           | 47.7      |
//!
//! P-256 is the same order on both (their P-256 code shares a lineage); aws-lc-rs is the
//! faster of the two on Ed25519 (its verification merely matches `ed25519-dalek`'s). It
//! wins on everything else: AWS maintains it with a
//! dedicated team, AWS-LC has a FIPS 140-3 validated lineage (the `fips` feature, which we
//! do not turn on: it needs CMake and Go to build), its x86-64/aarch64 field arithmetic
//! for P-256 and Curve25519 is formally verified (s2n-bignum), and it parses a public key
//! once ([`aws_lc_rs::signature::ParsedPublicKey`]) where ring parses it at every
//! verification. Building it needs only a C compiler: aws-lc-sys compiles AWS-LC with the
//! `cc` crate and ships pre-generated bindings for Linux x86-64, so neither CMake, clang
//! nor NASM is required (NASM only on Windows).
//!
//! Invariants:
//! - Keys are made and parsed as before (random scalar from the caller's RNG, PKCS#8,
//!   JWK and SPKI through `p256`/`ed25519-dalek`); the AWS-LC key is built from the same
//!   bytes, so both always hold the same key. Secrets: the RustCrypto keys zeroize on drop;
//!   the AWS-LC key lives in C memory released through `OPENSSL_free`, which overwrites
//!   every allocation (`OPENSSL_cleanse`) before freeing it; the scalar bytes passed across
//!   are held in `Zeroizing` buffers.
//! - ES256 signatures are 64-byte r‖s with a random nonce from AWS-LC's own DRBG (the
//!   caller's RNG is only used for key generation); verification accepts exactly 64 bytes
//!   and AWS-LC refuses r or s equal to 0 or not below the group order n.
//! - Ed25519 verification is as strict as `ed25519-dalek`'s `verify_strict`: AWS-LC
//!   refuses a non-canonical S (S ≥ L) and compares the recomputed R byte for byte (so R
//!   must be canonically encoded); we add the two checks it lacks: a small-order public
//!   key refuses every signature, and so does a small-order R.

use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, ED25519,
};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use zeroize::Zeroizing;

use crate::{Alg, CryptoError, Verifier};

/// The library that signs and verifies signatures of `alg` in this build, for reports
/// such as `elicense bench`.
pub fn implementation(alg: Alg) -> &'static str {
    match alg {
        Alg::Sm2 => "elicense-sm2 (pure Rust, this workspace)",
        Alg::EdDSA | Alg::Es256 => "aws-lc-rs 1.x (AWS-LC)",
    }
}

/// An ES256 private key: the `p256` key (PKCS#8, public key) and the same key in AWS-LC
/// (signing).
pub(crate) struct Es256Secret {
    pub(crate) key: p256::ecdsa::SigningKey,
    fast: EcdsaKeyPair,
}

impl Es256Secret {
    pub(crate) fn new(key: p256::ecdsa::SigningKey) -> Result<Self, CryptoError> {
        let scalar = Zeroizing::new(key.to_bytes());
        let point = key.verifying_key().as_affine().to_encoded_point(false);
        let fast = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            scalar.as_slice(),
            point.as_bytes(),
        )
        .map_err(|e| CryptoError::MalformedKey(format!("P-256 key refused by AWS-LC: {e}")))?;
        Ok(Es256Secret { key, fast })
    }

    /// 64-byte r‖s.
    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // aws-lc-rs ignores this argument and draws the nonce from AWS-LC's DRBG.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = self
            .fast
            .sign(&rng, msg)
            .map_err(|e| CryptoError::SignerFailed(format!("ES256: {e}")))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// An Ed25519 private key: the `ed25519-dalek` key (PKCS#8, public key) and the same seed
/// in AWS-LC (signing).
pub(crate) struct Ed25519Secret {
    pub(crate) key: ed25519_dalek::SigningKey,
    fast: Ed25519KeyPair,
}

impl Ed25519Secret {
    pub(crate) fn new(key: ed25519_dalek::SigningKey) -> Result<Self, CryptoError> {
        let fast = Ed25519KeyPair::from_seed_and_public_key(
            key.as_bytes(),
            key.verifying_key().as_bytes(),
        )
        .map_err(|e| CryptoError::MalformedKey(format!("Ed25519 key refused by AWS-LC: {e}")))?;
        Ok(Ed25519Secret { key, fast })
    }

    /// 64-byte R‖S (deterministic, RFC 8032).
    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sig = self
            .fast
            .try_sign(msg)
            .map_err(|e| CryptoError::SignerFailed(format!("Ed25519: {e}")))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// An ES256 public key parsed once into AWS-LC.
pub(crate) struct Es256Verifier(ParsedPublicKey);

impl Es256Verifier {
    pub(crate) fn new(pk: &p256::PublicKey) -> Result<Self, CryptoError> {
        let point = pk.to_encoded_point(false);
        ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.as_bytes())
            .map(Es256Verifier)
            .map_err(|e| CryptoError::MalformedKey(format!("P-256 key refused by AWS-LC: {e}")))
    }
}

impl Verifier for Es256Verifier {
    fn alg(&self) -> Alg {
        Alg::Es256
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if sig.len() != 64 {
            return Err(CryptoError::SignatureInvalid);
        }
        self.0
            .verify_sig(msg, sig)
            .map_err(|_| CryptoError::SignatureInvalid)
    }
}

/// An Ed25519 public key parsed once into AWS-LC, with its small-order verdict.
pub(crate) struct Ed25519Verifier {
    key: ParsedPublicKey,
    /// A public key of order 1, 2, 4 or 8: no signature is accepted.
    small_order: bool,
}

/// The canonical encodings of the eight points of order dividing 8 on edwards25519 (the
/// identity, the point of order 2, the two of order 4 and the four of order 8). The test
/// `small_order_encodings_are_the_torsion_points` recomputes them from curve25519-dalek's
/// `EIGHT_TORSION`. A signature's R that passed AWS-LC is canonically encoded (it equals
/// the encoding of the recomputed point), so comparing against these eight suffices.
pub(crate) const SMALL_ORDER: [[u8; 32]; 8] = {
    const fn point(low: [u8; 2], mid: u8, high: [u8; 2]) -> [u8; 32] {
        let mut p = [mid; 32];
        p[0] = low[0];
        p[1] = low[1];
        p[30] = high[0];
        p[31] = high[1];
        p
    }
    [
        point([0x01, 0x00], 0x00, [0x00, 0x00]), // identity (0, 1)
        point([0xec, 0xff], 0xff, [0xff, 0x7f]), // order 2 (0, -1)
        point([0x00, 0x00], 0x00, [0x00, 0x00]), // order 4 (+sqrt(-1), 0)
        point([0x00, 0x00], 0x00, [0x00, 0x80]), // order 4 (-sqrt(-1), 0)
        ORDER8[0],
        ORDER8[1],
        ORDER8[2],
        ORDER8[3],
    ]
};

/// The four points of order 8: y and -y, each with either sign of x.
const ORDER8: [[u8; 32]; 4] = {
    const Y: [u8; 32] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    const NEG_Y: [u8; 32] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let mut y_neg_x = Y;
    y_neg_x[31] |= 0x80;
    let mut neg_y_neg_x = NEG_Y;
    neg_y_neg_x[31] |= 0x80;
    [Y, y_neg_x, NEG_Y, neg_y_neg_x]
};

impl Ed25519Verifier {
    pub(crate) fn new(vk: &ed25519_dalek::VerifyingKey) -> Result<Self, CryptoError> {
        let key = ParsedPublicKey::new(&ED25519, vk.as_bytes()).map_err(|e| {
            CryptoError::MalformedKey(format!("Ed25519 key refused by AWS-LC: {e}"))
        })?;
        Ok(Ed25519Verifier {
            key,
            small_order: vk.is_weak(),
        })
    }
}

impl Verifier for Ed25519Verifier {
    fn alg(&self) -> Alg {
        Alg::EdDSA
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if sig.len() != 64 || self.small_order {
            return Err(CryptoError::SignatureInvalid);
        }
        self.key
            .verify_sig(msg, sig)
            .map_err(|_| CryptoError::SignatureInvalid)?;
        if SMALL_ORDER.iter().any(|p| p[..] == sig[..32]) {
            return Err(CryptoError::SignatureInvalid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;

    #[test]
    fn small_order_encodings_are_the_torsion_points() {
        let mut want: Vec<[u8; 32]> = EIGHT_TORSION
            .iter()
            .map(|p| p.compress().to_bytes())
            .collect();
        let mut have = SMALL_ORDER.to_vec();
        want.sort();
        have.sort();
        assert_eq!(have, want);
    }

    #[test]
    fn implementation_names_the_library() {
        assert!(implementation(Alg::Es256).starts_with("aws-lc-rs"));
        assert!(implementation(Alg::EdDSA).starts_with("aws-lc-rs"));
        assert!(implementation(Alg::Sm2).starts_with("elicense-sm2"));
    }
}
