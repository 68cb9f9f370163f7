//! ES256 and Ed25519 on AWS-LC: published vectors, the strictness the verifiers promise,
//! and agreement with the pure-Rust `p256` / `ed25519-dalek` code they replaced (each
//! verifies the other's signatures).

mod common;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;
use elicense_crypto::{b64, Alg, Jwk, KeyPair, Signer};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::elliptic_curve::PrimeField;
use pkcs8::EncodePrivateKey;
use proptest::prelude::*;
use sha2::{Digest, Sha512};

fn ed25519_jwk(public: &[u8; 32]) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: b64::encode(public),
        y: None,
        kid: None,
        alg: None,
        use_: None,
    }
}

/// PKCS#8 v1 `PrivateKeyInfo` of an Ed25519 seed (RFC 8410 section 7: the fixed prefix
/// for id-Ed25519 followed by the 32-byte seed as an OCTET STRING in an OCTET STRING).
fn ed25519_pkcs8(seed: &[u8]) -> Vec<u8> {
    let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
    der.extend_from_slice(seed);
    der
}

/// RFC 8032 section 7.1, TEST 1 to TEST 3: (secret key, public key, message, signature).
const RFC8032: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_test_vectors_1_to_3() {
    for (i, (seed, public, msg, sig)) in RFC8032.into_iter().enumerate() {
        let key = KeyPair::from_pkcs8_der(&ed25519_pkcs8(&hex::decode(seed).unwrap())).unwrap();
        let msg = hex::decode(msg).unwrap();
        let want = hex::decode(sig).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(
            b64::decode(&jwk.x).unwrap(),
            hex::decode(public).unwrap(),
            "TEST {}",
            i + 1
        );
        assert_eq!(hex::encode(key.sign(&msg).unwrap()), sig, "TEST {}", i + 1);
        jwk.verifier(None).unwrap().verify(&msg, &want).unwrap();
        let mut bad = want.clone();
        bad[10] ^= 1;
        assert!(jwk.verifier(None).unwrap().verify(&msg, &bad).is_err());
    }
}

/// The group order L of edwards25519 (RFC 8032 section 5.1), little-endian.
fn ed25519_order() -> [u8; 32] {
    let mut l = [0u8; 32];
    l[..16].copy_from_slice(&hex::decode("edd3f55c1a631258d69cf7a2def9de14").unwrap());
    l[31] = 0x10;
    l
}

fn add_le(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut carry = 0u16;
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let s = *x as u16 + *y as u16 + carry;
            carry = s >> 8;
            s as u8
        })
        .collect()
}

#[test]
fn ed25519_refuses_non_canonical_s() {
    // Wycheproof-style malleability: S + L verifies under a lax reduction of S.
    let key = KeyPair::generate(Alg::EdDSA, &mut common::rng(800));
    let sig = key.sign(b"m").unwrap();
    let v = key.verifier();
    v.verify(b"m", &sig).unwrap();
    let mut malleated = sig[..32].to_vec();
    malleated.extend(add_le(&sig[32..], &ed25519_order()));
    assert_ne!(malleated, sig);
    assert!(v.verify(b"m", &malleated).is_err());
    // The order itself as S, and S with the top three bits set.
    let mut s_is_l = sig[..32].to_vec();
    s_is_l.extend(ed25519_order());
    assert!(v.verify(b"m", &s_is_l).is_err());
    let mut high = sig.clone();
    high[63] |= 0xe0;
    assert!(v.verify(b"m", &high).is_err());
}

#[test]
fn ed25519_refuses_small_order_public_keys() {
    let msg = b"any message";
    // With A the identity, (R = sB, S = s) satisfies the cofactorless equation
    // SB = R + kA for every message: a lax verifier accepts it.
    let s = Scalar::from(5u64);
    let r = (ED25519_BASEPOINT_POINT * s).compress().to_bytes();
    let forged = [r, s.to_bytes()].concat();
    let identity = EIGHT_TORSION[0].compress().to_bytes();
    let lax = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&forged).unwrap();
    assert!(
        signature::Verifier::verify(&lax, msg, &sig).is_ok(),
        "the forgery verifies without the small-order check"
    );
    assert!(ed25519_jwk(&identity)
        .verifier(None)
        .unwrap()
        .verify(msg, &forged)
        .is_err());

    // Every point of order 1, 2, 4 or 8 is refused as a key, whatever the signature.
    for point in EIGHT_TORSION {
        let a = point.compress().to_bytes();
        if let Ok(v) = ed25519_jwk(&a).verifier(None) {
            assert!(v.verify(msg, &forged).is_err(), "{}", hex::encode(a));
        }
    }
}

#[test]
fn ed25519_refuses_small_order_r() {
    // A key A = aB and R = the identity: S = k·a with k = SHA-512(R ‖ A ‖ M) mod L solves
    // SB = R + kA, so a verifier that only checks the equation accepts it.
    let a = Scalar::from(0x1234_5678_9abc_u64);
    let public = (ED25519_BASEPOINT_POINT * a).compress().to_bytes();
    let r = EIGHT_TORSION[0].compress().to_bytes();
    let msg = b"small-order R";
    let mut h = [0u8; 64];
    h.copy_from_slice(
        &Sha512::new()
            .chain_update(r)
            .chain_update(public)
            .chain_update(msg)
            .finalize(),
    );
    let k = Scalar::from_bytes_mod_order_wide(&h);
    let forged = [r, (k * a).to_bytes()].concat();
    let lax = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&forged).unwrap();
    assert!(
        signature::Verifier::verify(&lax, msg, &sig).is_ok(),
        "the forgery verifies without the small-order check"
    );
    assert!(lax.verify_strict(msg, &sig).is_err());
    assert!(ed25519_jwk(&public)
        .verifier(None)
        .unwrap()
        .verify(msg, &forged)
        .is_err());
}

/// The order n of P-256 (FIPS 186-4 appendix D.1.2.3), big-endian.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

#[test]
fn es256_refuses_out_of_range_r_and_s_and_other_lengths() {
    let key = KeyPair::generate(Alg::Es256, &mut common::rng(810));
    let v = key.verifier();
    let sig = key.sign(b"m").unwrap();
    v.verify(b"m", &sig).unwrap();
    let (r, s) = (sig[..32].to_vec(), sig[32..].to_vec());
    let n = hex::decode(P256_N).unwrap();
    let zero = vec![0u8; 32];
    let max = vec![0xffu8; 32];
    for (what, bad) in [
        ("r = 0", [zero.clone(), s.clone()]),
        ("s = 0", [r.clone(), zero.clone()]),
        ("r = n", [n.clone(), s.clone()]),
        ("s = n", [r.clone(), n.clone()]),
        ("r = 2^256 - 1", [max.clone(), s.clone()]),
        ("s = 2^256 - 1", [r.clone(), max.clone()]),
        ("r = s = 0", [zero.clone(), zero.clone()]),
    ] {
        assert_eq!(
            v.verify(b"m", &bad.concat()).unwrap_err().code(),
            "signature.invalid",
            "{what}"
        );
    }
    // Only the 64-byte form: not DER, not padded, not cut.
    let der = p256::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
    assert!(v.verify(b"m", der.as_bytes()).is_err());
    assert!(v.verify(b"m", &[vec![0], sig.clone()].concat()).is_err());
    assert!(v.verify(b"m", &sig[..63]).is_err());
    assert!(v.verify(b"m", &[]).is_err());
}

#[test]
fn es256_high_s_gets_the_same_verdict_as_p256() {
    let key = KeyPair::generate(Alg::Es256, &mut common::rng(820));
    let sig = key.sign(b"m").unwrap();
    let s = p256::Scalar::from_repr(*p256::FieldBytes::from_slice(&sig[32..])).unwrap();
    let flipped = [&sig[..32], &(-s).to_repr()[..]].concat();
    let old = p256::ecdsa::VerifyingKey::from_sec1_bytes(&es256_point(&key)).unwrap();
    let old_verdict = p256::ecdsa::Signature::from_slice(&flipped)
        .ok()
        .map(|sig| signature::Verifier::verify(&old, b"m", &sig).is_ok());
    assert_eq!(
        Some(key.verifier().verify(b"m", &flipped).is_ok()),
        old_verdict
    );
}

fn es256_point(key: &KeyPair) -> Vec<u8> {
    let jwk = key.public_jwk();
    [
        vec![4],
        b64::decode(&jwk.x).unwrap(),
        b64::decode(jwk.y.as_deref().unwrap()).unwrap(),
    ]
    .concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn es256_agrees_with_p256(seed in any::<u64>(), msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        // The same scalar comes out of the same RNG.
        let generated = KeyPair::generate(Alg::Es256, &mut common::rng(seed));
        let old = p256::ecdsa::SigningKey::random(&mut common::rng(seed));
        let point = old.verifying_key().as_affine().to_encoded_point(false);
        prop_assert_eq!(es256_point(&generated), point.as_bytes().to_vec());

        let key = KeyPair::from_pkcs8_der(old.to_pkcs8_der().unwrap().as_bytes()).unwrap();
        prop_assert_eq!(key.kid(), generated.kid());
        // New signature, old verifier.
        let sig = key.sign(&msg).unwrap();
        let parsed = p256::ecdsa::Signature::from_slice(&sig).unwrap();
        prop_assert!(signature::Verifier::verify(old.verifying_key(), &msg, &parsed).is_ok());
        // Old signature, new verifier.
        let old_sig: p256::ecdsa::Signature = signature::Signer::sign(&old, &msg);
        prop_assert!(key.verifier().verify(&msg, &old_sig.to_bytes()).is_ok());
        let mut other = msg.clone();
        other.push(0);
        prop_assert!(key.verifier().verify(&other, &old_sig.to_bytes()).is_err());
    }

    #[test]
    fn ed25519_agrees_with_dalek(seed in any::<u64>(), msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let generated = KeyPair::generate(Alg::EdDSA, &mut common::rng(seed));
        let old = ed25519_dalek::SigningKey::generate(&mut common::rng(seed));
        prop_assert_eq!(
            b64::decode(&generated.public_jwk().x).unwrap(),
            old.verifying_key().as_bytes().to_vec()
        );

        let der = ed25519_dalek::pkcs8::KeypairBytes { secret_key: old.to_bytes(), public_key: None }
            .to_pkcs8_der()
            .unwrap();
        let key = KeyPair::from_pkcs8_der(der.as_bytes()).unwrap();
        // Deterministic signatures: the very same bytes.
        let sig = key.sign(&msg).unwrap();
        let old_sig = signature::Signer::sign(&old, &msg);
        prop_assert_eq!(&sig, &old_sig.to_bytes().to_vec());
        let parsed = ed25519_dalek::Signature::from_slice(&sig).unwrap();
        prop_assert!(old.verifying_key().verify_strict(&msg, &parsed).is_ok());
        prop_assert!(key.verifier().verify(&msg, &old_sig.to_bytes()).is_ok());
        let other = KeyPair::generate(Alg::EdDSA, &mut common::rng(seed ^ 1));
        prop_assert!(other.verifier().verify(&msg, &sig).is_err());
    }
}
