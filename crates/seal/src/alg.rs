//! Signature algorithms of seals and certificates, and the glue between their encodings and
//! `elicense-crypto`.
//!
//! Invariants: a [`SigAlg`] is one of the two algorithms a seal may carry; a signature value
//! on the wire (seal, signing record, certificate, CRL) is the DER `SEQUENCE { r, s }` and
//! is converted to and from the 64-byte r‖s our `Signer`/`Verifier` use here and nowhere
//! else; a public key is read from a SubjectPublicKeyInfo only when it is an uncompressed
//! point on SM2 (`1.2.156.10197.1.301`) or P-256.

use der::asn1::{BitString, ObjectIdentifier, UintRef};
use der::{Decode, Encode, Sequence};
use elicense_crypto::{b64, Alg, Jwk, Signer, Verifier};
use sha2::{Digest, Sha256};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// sm2-with-sm3 (GM/T 0006).
pub(crate) const OID_SM2_WITH_SM3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// ecdsa-with-SHA256 (RFC 5758).
pub(crate) const OID_ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// id-ecPublicKey (RFC 5480).
pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The sm2p256v1 curve (GM/T 0006), also used by some as the key algorithm itself.
pub(crate) const OID_SM2_CURVE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");
/// prime256v1 / P-256.
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The signature algorithm of a seal, a signing record or a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigAlg {
    /// SM2 over SM3 with the default signer ID (`1.2.156.10197.1.501`); data hashes are SM3.
    Sm2WithSm3,
    /// ECDSA P-256 with SHA-256 (`1.2.840.10045.4.3.2`); data hashes are SHA-256.
    EcdsaWithSha256,
}

impl SigAlg {
    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            SigAlg::Sm2WithSm3 => OID_SM2_WITH_SM3,
            SigAlg::EcdsaWithSha256 => OID_ECDSA_WITH_SHA256,
        }
    }

    /// The algorithm an OID names, if it is one of ours.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<SigAlg> {
        [SigAlg::Sm2WithSm3, SigAlg::EcdsaWithSha256]
            .into_iter()
            .find(|a| a.oid() == *oid)
    }

    /// The algorithm a key of `alg` signs seals with (`None` for Ed25519).
    pub fn for_key(alg: Alg) -> Option<SigAlg> {
        match alg {
            Alg::Sm2 => Some(SigAlg::Sm2WithSm3),
            Alg::Es256 => Some(SigAlg::EcdsaWithSha256),
            _ => None,
        }
    }

    fn key_alg(self) -> Alg {
        match self {
            SigAlg::Sm2WithSm3 => Alg::Sm2,
            SigAlg::EcdsaWithSha256 => Alg::Es256,
        }
    }

    pub(crate) fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        // Both OIDs take no parameters (RFC 5758 §3.2; GM/T 0015 writes none either).
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }
}

/// The hash of document data that a signing record carries for `alg`: SM3 for SM2 seals,
/// SHA-256 for ES256 seals.
pub fn data_hash(alg: SigAlg, data: &[u8]) -> Vec<u8> {
    match alg {
        SigAlg::Sm2WithSm3 => sm3::Sm3::digest(data).to_vec(),
        SigAlg::EcdsaWithSha256 => Sha256::digest(data).to_vec(),
    }
}

#[derive(Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// DER `SEQUENCE { r, s }` from 64-byte r‖s.
pub(crate) fn rs_to_der(rs: &[u8]) -> Option<Vec<u8>> {
    if rs.len() != 64 {
        return None;
    }
    let v = EcdsaSigValue {
        r: UintRef::new(&rs[..32]).ok()?,
        s: UintRef::new(&rs[32..]).ok()?,
    };
    v.to_der().ok()
}

/// 64-byte r‖s from a DER `SEQUENCE { r, s }` (strict DER, each half at most 32 bytes).
pub(crate) fn der_to_rs(der: &[u8]) -> Option<[u8; 64]> {
    let v = EcdsaSigValue::from_der(der).ok()?;
    let mut out = [0u8; 64];
    for (half, int) in [v.r, v.s].into_iter().enumerate() {
        let b = int.as_bytes();
        if b.len() > 32 {
            return None;
        }
        out[half * 32 + 32 - b.len()..half * 32 + 32].copy_from_slice(b);
    }
    Some(out)
}

/// Signs `msg` with `signer` for `alg`, returning the DER signature value; `None` when the
/// signer's key is not of `alg` or the signer failed (the error is the caller's to name).
pub(crate) fn sign(
    signer: &dyn Signer,
    alg: SigAlg,
    msg: &[u8],
) -> Result<Vec<u8>, elicense_crypto::CryptoError> {
    if signer.alg() != alg.key_alg() {
        return Err(elicense_crypto::CryptoError::AlgMismatch {
            header: alg.key_alg().jws_name(),
            key: signer.alg().jws_name(),
        });
    }
    let rs = signer.sign(msg)?;
    rs_to_der(&rs).ok_or(elicense_crypto::CryptoError::SignatureInvalid)
}

/// A public key read from a certificate, with the algorithm it verifies.
pub(crate) struct CertKey {
    pub(crate) alg: SigAlg,
    verifier: Box<dyn Verifier>,
}

impl CertKey {
    /// Reads an SM2 or P-256 key from a SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Option<CertKey> {
        let curve = match spki.algorithm.oid {
            OID_EC_PUBLIC_KEY => spki
                .algorithm
                .parameters
                .as_ref()?
                .decode_as::<ObjectIdentifier>()
                .ok()?,
            OID_SM2_CURVE => OID_SM2_CURVE,
            _ => return None,
        };
        let (crv, alg) = match curve {
            OID_SM2_CURVE => ("SM2", SigAlg::Sm2WithSm3),
            OID_P256 => ("P-256", SigAlg::EcdsaWithSha256),
            _ => return None,
        };
        let point = spki.subject_public_key.as_bytes()?;
        if point.len() != 65 || point[0] != 4 {
            return None;
        }
        let jwk = Jwk {
            kty: "EC".into(),
            crv: crv.into(),
            x: b64::encode(&point[1..33]),
            y: Some(b64::encode(&point[33..])),
            kid: None,
            alg: None,
            use_: None,
        };
        let verifier = jwk.verifier(None).ok()?;
        Some(CertKey { alg, verifier })
    }

    /// Whether the DER signature value `sig` of `alg` verifies over `msg`.
    pub(crate) fn verifies(&self, alg: SigAlg, msg: &[u8], sig: &BitString) -> bool {
        if alg != self.alg || sig.unused_bits() != 0 {
            return false;
        }
        match der_to_rs(sig.raw_bytes()) {
            Some(rs) => self.verifier.verify(msg, &rs).is_ok(),
            None => false,
        }
    }
}

/// The SubjectPublicKeyInfo of an SM2 or P-256 public JWK (id-ecPublicKey with the curve OID,
/// which is how OpenSSL 3 writes and reads SM2 keys).
pub(crate) fn spki_of_jwk(jwk: &Jwk) -> Option<SubjectPublicKeyInfoOwned> {
    let curve = match (jwk.kty.as_str(), jwk.crv.as_str()) {
        ("EC", "SM2") => OID_SM2_CURVE,
        ("EC", "P-256") => OID_P256,
        _ => return None,
    };
    // Checks the point is on the curve.
    jwk.verifier(None).ok()?;
    let x = b64::decode(&jwk.x).ok()?;
    let y = b64::decode(jwk.y.as_deref()?).ok()?;
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let point = [&[4u8][..], &x, &y].concat();
    Some(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_EC_PUBLIC_KEY,
            parameters: Some(der::Any::from(&curve)),
        },
        subject_public_key: BitString::from_bytes(&point).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs_and_der_convert_both_ways_with_leading_zeros_and_high_bits() {
        let mut rs = [0u8; 64];
        rs[0] = 0x80;
        rs[31] = 1;
        rs[32..34].copy_from_slice(&[0, 0]);
        rs[34] = 0x7f;
        rs[63] = 9;
        let der = rs_to_der(&rs).unwrap();
        assert_eq!(der_to_rs(&der).unwrap(), rs);
        // r with its high bit set takes a leading zero byte; s lost its two zero bytes.
        assert_eq!(&der[..5], &[0x30, 0x43, 0x02, 0x21, 0x00]);
        assert!(rs_to_der(&rs[..63]).is_none());
        assert!(der_to_rs(&der[..der.len() - 1]).is_none());
    }
}
