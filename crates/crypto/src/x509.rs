//! X.509 certificates for the node's own keys: a self-signed ES256 certificate (RFC 5280)
//! made with any [`Signer`] (so an HSM-held key works too), and the leaf key and hash of a
//! certificate another party presents (`x5c`).
//!
//! OpenID4VP's `x509_hash` client identifier prefix names a verifier by the base64url
//! SHA-256 of its certificate's DER; a wallet checks that the certificate in the request
//! object's `x5c` header hashes to it and that the request object verifies with its key.
//!
//! Invariants: the to-be-signed part of the certificate made for a key is a pure function of
//! the key, the subject and the validity; the signature is not (local ES256 keys sign with
//! random nonces, see [`crate::backend`]), so a caller that needs a stable client identifier
//! keeps the certificate once made (the app stores it beside the key). Only P-256 keys are
//! read from certificates here (what `x509_hash` verifiers use).

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use der::asn1::BitString;
use der::{Decode, Encode};
use pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use crate::pubkey::PublicKey;
use crate::{b64, Alg, CryptoError, Jwk, Signer};

/// ecdsa-with-SHA256 (RFC 5758).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

fn bad(e: impl std::fmt::Display) -> CryptoError {
    CryptoError::Certificate(e.to_string())
}

fn time(unix: i64) -> Result<Time, CryptoError> {
    let secs = u64::try_from(unix).map_err(|_| bad("a time before 1970"))?;
    Time::try_from(UNIX_EPOCH + Duration::from_secs(secs)).map_err(bad)
}

/// A self-signed certificate of `signer`'s ES256 key, subject `CN=<common_name>, O=<org>`,
/// valid from `not_before` to `not_after` (unix seconds); returns its DER.
pub fn self_signed(
    signer: &dyn Signer,
    public: &Jwk,
    common_name: &str,
    org: &str,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, CryptoError> {
    if signer.alg() != Alg::Es256 {
        return Err(bad("only ES256 keys are certified here"));
    }
    let PublicKey::Es256(pk) = PublicKey::from_jwk(public)? else {
        return Err(bad("the public key is not a P-256 key"));
    };
    let spki_der = pkcs8::EncodePublicKey::to_public_key_der(&pk).map_err(bad)?;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).map_err(bad)?;
    // A positive serial from the key: the same key and subject give the same certificate.
    let mut serial = Sha256::digest(spki_der.as_bytes())[..16].to_vec();
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace(',', "\\,")
            .replace('+', "\\+")
    };
    let name =
        Name::from_str(&format!("CN={},O={}", escape(common_name), escape(org))).map_err(bad)?;
    let algorithm = AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial).map_err(bad)?,
        signature: algorithm.clone(),
        issuer: name.clone(),
        validity: Validity {
            not_before: time(not_before)?,
            not_after: time(not_after)?,
        },
        subject: name,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: None,
    };
    let tbs_der = tbs.to_der().map_err(bad)?;
    let raw = signer.sign(&tbs_der)?;
    let sig =
        p256::ecdsa::Signature::from_slice(&raw).map_err(|_| CryptoError::SignatureInvalid)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(sig.to_der().as_bytes()).map_err(bad)?,
    };
    cert.to_der().map_err(bad)
}

/// The `x509_hash` of a certificate: base64url(SHA-256(DER)).
pub fn hash(der: &[u8]) -> String {
    b64::encode(&Sha256::digest(der))
}

/// The P-256 public key of a certificate (DER), as a JWK; `x509.invalid` when it does not
/// parse, `key.unsupported` for another kind of key.
pub fn leaf_key(der: &[u8]) -> Result<Jwk, CryptoError> {
    let cert = Certificate::from_der(der).map_err(bad)?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(bad)?;
    let pk = p256::PublicKey::from_public_key_der(&spki)
        .map_err(|_| CryptoError::UnsupportedKey("the certificate's key is not P-256".into()))?;
    Ok(PublicKey::Es256(pk).to_jwk())
}

/// The validity of a certificate (DER), unix seconds.
pub fn validity(der: &[u8]) -> Result<(i64, i64), CryptoError> {
    let cert = Certificate::from_der(der).map_err(bad)?;
    let v = &cert.tbs_certificate.validity;
    let secs = |t: &Time| t.to_unix_duration().as_secs() as i64;
    Ok((secs(&v.not_before), secs(&v.not_after)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyPair;

    #[test]
    fn a_self_signed_certificate_has_a_stable_body_and_carries_the_key() {
        let key = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
        let jwk = key.public_jwk();
        let a = self_signed(
            &key,
            &jwk,
            "127.0.0.1:8080",
            "elicense",
            1_700_000_000,
            4_102_444_800,
        )
        .unwrap();
        let b = self_signed(
            &key,
            &jwk,
            "127.0.0.1:8080",
            "elicense",
            1_700_000_000,
            4_102_444_800,
        )
        .unwrap();
        let got = leaf_key(&a).unwrap();
        assert_eq!(got.thumbprint(), jwk.thumbprint());
        assert_eq!(validity(&a).unwrap(), (1_700_000_000, 4_102_444_800));
        // The same to-be-signed part, each signature verifying with the key (checked
        // against OpenSSL in tests/x509.rs).
        let (cert_a, cert_b) = (
            Certificate::from_der(&a).unwrap(),
            Certificate::from_der(&b).unwrap(),
        );
        assert_eq!(cert_a.tbs_certificate, cert_b.tbs_certificate);
        for cert in [cert_a, cert_b] {
            let tbs = cert.tbs_certificate.to_der().unwrap();
            let sig = p256::ecdsa::Signature::from_der(cert.signature.raw_bytes()).unwrap();
            key.verifier().verify(&tbs, &sig.to_bytes()).unwrap();
        }
        assert_ne!(
            hash(&a),
            hash(&b),
            "random nonces: keep the certificate once made"
        );
        assert!(leaf_key(b"not a certificate").is_err());
        let ed = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
        assert!(self_signed(&ed, &ed.public_jwk(), "x", "y", 0, 1).is_err());
    }
}
