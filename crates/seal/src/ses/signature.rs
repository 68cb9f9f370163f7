//! The signing record (`SES_Signature`): a seal applied to a document's hash, signed by a
//! signer whom the seal lists; making, strict reading and the verdict.
//!
//! Invariants: a [`SealSignature`] holds a version 4 record whose seal reads as a [`Seal`];
//! the signer signs the DER of `TBS_Sign` exactly as it is encoded in the record.
//! [`verify_signature`] runs every check and reports failures in the order of
//! `standards.md`: (1) the signing signature, (2) the signer's certificate in the seal's
//! list, (3) the maker's signature on the seal, (4) the maker's certificate and the seal's
//! validity at the signing time, (5) the signer's certificate at the signing time and the
//! signing time not after the verification time, (6) the data hash.
//!
//! Without a trusted timestamp the signing time is the signer's claim; it is bounded by the
//! verification time `at`, and certificate validity is judged at the signing time (what
//! a verifier of an archived document needs), so revocation and chains are the caller's
//! (`crate::ca::validate_chain` at the signing time).

use der::asn1::{BitString, Ia5String, OctetString};
use der::Encode;
use elicense_crypto::Signer;
use time::OffsetDateTime;

use super::asn1::{SesSignature, TbsSign};
use super::error::{bad_der, Problem, SealError};
use super::seal::{Seal, VERSION};
use super::strict;
use crate::alg::{self, SigAlg};
use crate::cert::Cert;
use crate::timeconv;

/// A GB/T 38540 version 4 signing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSignature {
    asn1: SesSignature,
    seal: Seal,
    alg: SigAlg,
}

impl SealSignature {
    /// Reads a signing record strictly (DER, no trailing bytes, version 4, not GM/T 0031).
    pub fn from_der(der: &[u8]) -> Result<SealSignature, SealError> {
        let asn1 = strict::decode::<SesSignature>(der, |s| {
            for v in [
                s.to_sign.version,
                s.to_sign.eseal.e_seal_info.header.version,
            ] {
                if v != VERSION {
                    return Err(SealError::WrongVersion(v));
                }
            }
            Ok(())
        })?;
        SealSignature::from_asn1(asn1)
    }

    /// A signing record from its ASN.1 value; checks the values as [`Self::from_der`] does,
    /// except the encoding.
    pub fn from_asn1(asn1: SesSignature) -> Result<SealSignature, SealError> {
        if asn1.to_sign.version != VERSION {
            return Err(SealError::WrongVersion(asn1.to_sign.version));
        }
        let seal = Seal::from_asn1(asn1.to_sign.eseal.clone())?;
        let alg = SigAlg::from_oid(&asn1.signature_alg_id)
            .ok_or_else(|| SealError::UnsupportedAlg(asn1.signature_alg_id.to_string()))?;
        if asn1.to_sign.data_hash.unused_bits() != 0 {
            return Err(SealError::BadValue(
                "the data hash is not whole bytes".into(),
            ));
        }
        Ok(SealSignature { asn1, seal, alg })
    }

    /// The DER of the record.
    pub fn to_der(&self) -> Vec<u8> {
        self.asn1
            .to_der()
            .expect("a record read or made here encodes")
    }

    /// The ASN.1 value.
    pub fn asn1(&self) -> &SesSignature {
        &self.asn1
    }

    /// The seal applied.
    pub fn seal(&self) -> &Seal {
        &self.seal
    }

    /// The signer's signature algorithm.
    pub fn alg(&self) -> SigAlg {
        self.alg
    }

    /// The signer's certificate (DER).
    pub fn signer_cert(&self) -> &[u8] {
        self.asn1.cert.as_bytes()
    }

    /// The signing time the signer claims.
    pub fn signing_time(&self) -> OffsetDateTime {
        timeconv::from_generalized(&self.asn1.to_sign.time_info)
    }

    /// The data hash signed.
    pub fn data_hash(&self) -> &[u8] {
        self.asn1.to_sign.data_hash.raw_bytes()
    }

    /// What the hash covers (`propertyInfo`).
    pub fn property_info(&self) -> &str {
        self.asn1.to_sign.property_info.as_str()
    }

    /// The DER of `TBS_Sign`: what the signer signed.
    pub fn signed_data(&self) -> Vec<u8> {
        self.asn1
            .to_sign
            .to_der()
            .expect("part of an encodable record")
    }
}

/// Signs `data_hash` with `seal`: `signer` (whose certificate `signer_cert_der` the seal must
/// list) signs the DER of `TBS_Sign` with the key's algorithm. `property_info` (ASCII) says
/// what was hashed; `time` is the signing time (whole seconds are kept).
pub fn sign_data(
    seal: &Seal,
    signer: &dyn Signer,
    signer_cert_der: &[u8],
    time: OffsetDateTime,
    data_hash: &[u8],
    property_info: &str,
) -> Result<SealSignature, SealError> {
    let alg = SigAlg::for_key(signer.alg()).ok_or_else(|| {
        SealError::UnsupportedAlg(format!("a {} key cannot sign with a seal", signer.alg()))
    })?;
    let cert = Cert::parse(signer_cert_der)
        .ok_or_else(|| SealError::BadCertificate("the signer's certificate".into()))?;
    if cert.key().map(|k| k.alg) != Some(alg) {
        return Err(SealError::UnsupportedAlg(
            "the signer's certificate is not for the signer's key algorithm".into(),
        ));
    }
    if !seal.info().signers.lists(signer_cert_der) {
        return Err(SealError::SignerNotInSeal);
    }
    let to_sign = TbsSign {
        version: VERSION,
        eseal: seal.asn1().clone(),
        time_info: timeconv::to_generalized(time)
            .ok_or_else(|| SealError::BadValue("the signing time".into()))?,
        data_hash: BitString::from_bytes(data_hash).map_err(bad_der)?,
        property_info: Ia5String::new(property_info)
            .map_err(|_| SealError::BadValue("the property info must be ASCII".into()))?,
        ext_datas: None,
    };
    let tbs = to_sign.to_der().map_err(bad_der)?;
    let sig = alg::sign(signer, alg, &tbs)?;
    SealSignature::from_asn1(SesSignature {
        to_sign,
        cert: OctetString::new(signer_cert_der.to_vec()).map_err(bad_der)?,
        signature_alg_id: alg.oid(),
        signature: BitString::from_bytes(&sig).map_err(bad_der)?,
        time_stamp: None,
    })
}

/// The outcome of checking a signing record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every failed check, in the order they are run; empty when the record holds.
    pub problems: Vec<Problem>,
    /// The record read.
    pub signature: SealSignature,
}

impl Verdict {
    /// Whether every check passed.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Reads the signing record `der` and checks it for a document whose hash is
/// `expected_hash`, at verification time `at`. `Err` only when the record cannot be read.
pub fn verify_signature(
    der: &[u8],
    expected_hash: &[u8],
    at: OffsetDateTime,
) -> Result<Verdict, SealError> {
    let signature = SealSignature::from_der(der)?;
    let seal = signature.seal();
    let signed_at = signature.signing_time();
    let signer = Cert::parse(signature.signer_cert());
    let mut problems = Vec::new();

    // (1) The signing signature.
    let signer_key = signer.as_ref().and_then(|c| c.key());
    let sig_ok = signer_key.is_some_and(|k| {
        k.verifies(
            signature.alg,
            &signature.signed_data(),
            &signature.asn1.signature,
        )
    });
    if !sig_ok {
        problems.push(Problem::SignatureInvalid);
    }
    // (2) The signer is one the seal lists.
    if !seal.info().signers.lists(signature.signer_cert()) {
        problems.push(Problem::SignerNotInSeal);
    }
    // (3) The maker's signature on the seal.
    if !seal.maker_signature_verifies() {
        problems.push(Problem::MakerSignatureInvalid);
    }
    // (4) The maker's certificate and the seal at the signing time.
    if !seal.maker_cert_valid_at(signed_at) {
        problems.push(Problem::MakerCertNotValid);
    }
    if !seal.valid_at(signed_at) {
        problems.push(Problem::SealNotValid);
    }
    // (5) The signer's certificate at the signing time, which is not in the future.
    if !signer.is_some_and(|c| c.valid_at(signed_at)) {
        problems.push(Problem::SignerCertNotValid);
    }
    if signed_at > at {
        problems.push(Problem::SignedInFuture);
    }
    // (6) The document.
    if signature.data_hash() != expected_hash {
        problems.push(Problem::DataHashMismatch);
    }
    Ok(Verdict {
        problems,
        signature,
    })
}
