//! ES256 and EdDSA interop with the `jsonwebtoken` crate (ring underneath), an
//! independent JOSE implementation: each side verifies the other's tokens.

mod common;

use elicense_crypto::jws::{self, Header};
use elicense_crypto::{Alg, KeyPair};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use pkcs8::EncodePrivateKey;
use serde_json::{json, Value};

/// A key pair and the same key's unencrypted PKCS#8 DER for jsonwebtoken.
fn key(alg: Alg, seed: u64) -> (KeyPair, Vec<u8>) {
    let mut rng = common::rng(seed);
    let der = match alg {
        Alg::Es256 => p256::SecretKey::random(&mut rng).to_pkcs8_der().unwrap(),
        Alg::EdDSA => ed25519_dalek::SigningKey::generate(&mut rng)
            .to_pkcs8_der()
            .unwrap(),
        Alg::Sm2 => unreachable!("jsonwebtoken has no SM2"),
    };
    let kp = KeyPair::from_pkcs8_der(der.as_bytes()).unwrap();
    (kp, der.as_bytes().to_vec())
}

fn decoding_key(kp: &KeyPair) -> DecodingKey {
    let jwk = kp.public_jwk();
    match kp.public_jwk().alg().unwrap() {
        Alg::Es256 => DecodingKey::from_ec_components(&jwk.x, jwk.y.as_deref().unwrap()).unwrap(),
        _ => DecodingKey::from_ed_components(&jwk.x).unwrap(),
    }
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v
}

#[test]
fn jsonwebtoken_verifies_ours_and_we_verify_theirs() {
    for (i, (alg, jalg)) in [
        (Alg::Es256, Algorithm::ES256),
        (Alg::EdDSA, Algorithm::EdDSA),
    ]
    .into_iter()
    .enumerate()
    {
        let (kp, der) = key(alg, 400 + i as u64);
        let claims = json!({"iss": "https://dzzz.example.cn", "sub": "张伟", "n": 42});

        // Ours → jsonwebtoken.
        let header = Header::new(alg)
            .with_typ("JWT")
            .with_kid(elicense_crypto::Signer::kid(&kp));
        let ours = jws::sign(&kp, &header, &claims).unwrap();
        let decoded =
            jsonwebtoken::decode::<Value>(&ours, &decoding_key(&kp), &validation(jalg)).unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(decoded.header.kid.as_deref(), header.kid.as_deref());

        // A tampered token is refused by jsonwebtoken.
        let mut parts: Vec<String> = ours.split('.').map(str::to_owned).collect();
        parts[1] = elicense_crypto::b64::encode(br#"{"n":43}"#);
        assert!(jsonwebtoken::decode::<Value>(
            &parts.join("."),
            &decoding_key(&kp),
            &validation(jalg)
        )
        .is_err());

        // jsonwebtoken → ours.
        let enc = match alg {
            Alg::Es256 => EncodingKey::from_ec_der(&der),
            _ => EncodingKey::from_ed_der(&der),
        };
        let theirs = jsonwebtoken::encode(&jsonwebtoken::Header::new(jalg), &claims, &enc).unwrap();
        let parsed = jws::parse(&theirs).unwrap();
        assert_eq!(parsed.header.alg, alg);
        assert_eq!(parsed.payload, claims);
        parsed
            .verify_with(&*kp.public_jwk().verifier(None).unwrap())
            .unwrap();
    }
}
