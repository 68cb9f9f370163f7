//! Keys that an outside certification authority certifies (a licensed 电子认证服务机构, say):
//! the PKCS#10 request (RFC 2986) the key's holder sends it, signed by the key itself as
//! proof of possession, and the checks of the certificate that comes back.
//!
//! Invariants: a request carries the key's own SubjectPublicKeyInfo and the subject asked
//! for, no attributes, and is signed with the key's algorithm (SM2 with SM3 and the GM/T
//! default signer ID, or ECDSA with SHA-256); [`certifies`] holds only when the certificate's
//! SubjectPublicKeyInfo is, byte for byte, the one of the key.

use der::asn1::BitString;
use der::Encode;
use elicense_crypto::{Jwk, Signer};
use x509_cert::request::{CertReq, CertReqInfo, Version};

use super::issue::{bad, spki, CaError, Subject};
use crate::alg::{self, SigAlg};
use crate::cert::Cert;

/// A certificate request for `signer`'s key (`public` is its public JWK) with `subject`,
/// signed by that key; DER.
pub fn certificate_request(
    signer: &dyn Signer,
    public: &Jwk,
    subject: &Subject,
) -> Result<Vec<u8>, CaError> {
    let alg = SigAlg::for_key(signer.alg()).ok_or_else(|| {
        CaError::UnsupportedKey("an outside CA certifies SM2 or P-256 keys".into())
    })?;
    let info = CertReqInfo {
        version: Version::V1,
        subject: subject.to_name()?,
        public_key: spki(public)?,
        attributes: Default::default(),
    };
    let sig = alg::sign(signer, alg, &info.to_der().map_err(bad)?)?;
    CertReq {
        info,
        algorithm: alg.algorithm_identifier(),
        signature: BitString::from_bytes(&sig).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

/// Whether certificate `cert` (DER) is for the key `public`.
pub fn certifies(cert: &[u8], public: &Jwk) -> bool {
    let (Some(cert), Some(spki)) = (Cert::parse(cert), alg::spki_of_jwk(public)) else {
        return false;
    };
    match (
        cert.cert.tbs_certificate.subject_public_key_info.to_der(),
        spki.to_der(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What a certificate says of itself: subject and issuer (RFC 4514 strings), serial number
/// (hex) and validity (unix seconds). `None` when it does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject name.
    pub subject: String,
    /// The issuing CA's name.
    pub issuer: String,
    /// The serial number, lower-case hex.
    pub serial: String,
    /// Start of validity (unix seconds).
    pub not_before: i64,
    /// End of validity (unix seconds).
    pub not_after: i64,
}

/// [`CertificateInfo`] of `cert` (DER).
pub fn certificate_info(cert: &[u8]) -> Option<CertificateInfo> {
    let c = Cert::parse(cert)?;
    let tbs = &c.cert.tbs_certificate;
    let hex: String = tbs
        .serial_number
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(CertificateInfo {
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: hex,
        not_before: tbs.validity.not_before.to_unix_duration().as_secs() as i64,
        not_after: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
    })
}
