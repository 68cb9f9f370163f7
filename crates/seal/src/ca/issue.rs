//! Issuing: the CA certificate, leaf certificates and CRLs.

use base64::Engine;
use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, PrintableString, SetOfVec, Uint};
use der::oid::AssociatedOid;
use der::{Encode, Tag};
use elicense_crypto::{Jwk, Signer};
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::OffsetDateTime;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity as X509Validity;
use x509_cert::Certificate;

use crate::alg::{self, SigAlg};
use crate::cert::Cert;
use crate::timeconv;

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// A certificate could not be made.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaError {
    /// A key of an algorithm seals do not use (Ed25519), or a public key that is not a point
    /// on SM2 or P-256.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A subject, validity or serial number that cannot be encoded (empty name, non-printable
    /// USCC, validity ending before it starts, a time before 1970, a serial of 0 or over 20
    /// bytes).
    #[error("invalid value: {0}")]
    BadValue(String),
    /// The CA certificate given does not parse, is not a CA, or is not for the signer's key.
    #[error("bad CA certificate: {0}")]
    BadCaCertificate(String),
    /// The signer failed.
    #[error("signer failed: {0}")]
    Signer(#[from] elicense_crypto::CryptoError),
}

impl CaError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CaError::UnsupportedKey(_) => "ca.unsupported_key",
            CaError::BadValue(_) => "ca.bad_value",
            CaError::BadCaCertificate(_) => "ca.bad_ca_certificate",
            CaError::Signer(_) => "ca.signer_failed",
        }
    }
}

pub(crate) fn bad(e: impl std::fmt::Display) -> CaError {
    CaError::BadValue(e.to_string())
}

/// The subject of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `CN`: the CA's name, or the seal's name.
    pub common_name: String,
    /// `O`: the organisation running the CA, or the seal's owner.
    pub organization: Option<String>,
    /// `serialNumber` (X.520, PrintableString): the owner's USCC.
    pub uscc: Option<String>,
}

impl Subject {
    pub(crate) fn to_name(&self) -> Result<Name, CaError> {
        let utf8 = |s: &str| {
            if s.is_empty() {
                return Err(bad("an empty name"));
            }
            Any::new(Tag::Utf8String, s.as_bytes()).map_err(bad)
        };
        let mut atvs = Vec::new();
        if let Some(o) = &self.organization {
            atvs.push((OID_O, utf8(o)?));
        }
        if let Some(uscc) = &self.uscc {
            let p = PrintableString::new(uscc).map_err(|_| bad("the USCC is not printable"))?;
            atvs.push((OID_SERIAL_NUMBER, Any::encode_from(&p).map_err(bad)?));
        }
        atvs.push((OID_CN, utf8(&self.common_name)?));
        let rdns = atvs
            .into_iter()
            .map(|(oid, value)| {
                SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
                    .map(RelativeDistinguishedName)
                    .map_err(bad)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RdnSequence(rdns))
    }
}

/// A validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Start (whole seconds are kept).
    pub not_before: OffsetDateTime,
    /// End (whole seconds are kept).
    pub not_after: OffsetDateTime,
}

impl Validity {
    fn to_x509(self) -> Result<X509Validity, CaError> {
        if self.not_after < self.not_before {
            return Err(bad("the validity ends before it starts"));
        }
        let t = |t| timeconv::to_x509(t).ok_or_else(|| bad("a time before 1970"));
        Ok(X509Validity {
            not_before: t(self.not_before)?,
            not_after: t(self.not_after)?,
        })
    }
}

/// A revoked certificate for a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The certificate's serial number (big-endian bytes).
    pub serial: Vec<u8>,
    /// When it was revoked (or put on hold).
    pub at: OffsetDateTime,
    /// On hold (reason `certificateHold`: a suspended seal, which may come back) rather than
    /// revoked for good.
    pub hold: bool,
}

/// The key identifier of a public key: SHA-256 of the subjectPublicKey, leftmost 160 bits.
pub(crate) fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha256::digest(spki.subject_public_key.raw_bytes())[..20].to_vec()
}

fn extension<T: AssociatedOid + Encode>(value: &T, critical: bool) -> Result<Extension, CaError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(bad)?).map_err(bad)?,
    })
}

fn serial(bytes: &[u8]) -> Result<SerialNumber, CaError> {
    if bytes.iter().all(|&b| b == 0) {
        return Err(bad("a serial number must be positive"));
    }
    SerialNumber::new(bytes).map_err(bad)
}

/// The node's seal CA: a signer and its self-signed certificate.
pub struct SealCa<S> {
    signer: S,
    alg: SigAlg,
    cert: Cert,
    key_id: Vec<u8>,
}

impl<S: Signer> SealCa<S> {
    /// Makes a CA with a new self-signed certificate for `signer`'s key (`public`). The
    /// serial number is derived from the key, subject and start of validity.
    pub fn new(
        signer: S,
        public: &Jwk,
        subject: &Subject,
        validity: Validity,
    ) -> Result<Self, CaError> {
        let alg = SigAlg::for_key(signer.alg())
            .ok_or_else(|| CaError::UnsupportedKey(signer.alg().to_string()))?;
        let spki = spki(public)?;
        let name = subject.to_name()?;
        let kid = key_id(&spki);
        let mut h = Sha256::new();
        h.update(spki.to_der().map_err(bad)?);
        h.update(name.to_der().map_err(bad)?);
        h.update(validity.not_before.unix_timestamp().to_be_bytes());
        let mut sn = h.finalize()[..16].to_vec();
        sn[0] = (sn[0] & 0x7f) | 0x01;
        let extensions = vec![
            extension(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
                true,
            )?,
            extension(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true)?,
            extension(
                &SubjectKeyIdentifier(OctetString::new(kid.clone()).map_err(bad)?),
                false,
            )?,
        ];
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: serial(&sn)?,
            signature: alg.algorithm_identifier(),
            issuer: name.clone(),
            validity: validity.to_x509()?,
            subject: name,
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let der = sign_certificate(&signer, alg, tbs)?;
        let cert = Cert::parse(&der).ok_or_else(|| bad("our certificate does not parse"))?;
        Ok(SealCa {
            signer,
            alg,
            cert,
            key_id: kid,
        })
    }

    /// A CA from its stored certificate: the certificate must be a CA certificate for
    /// `signer`'s key (checked by signing a probe and verifying it with the certificate's key).
    pub fn from_certificate(signer: S, cert_der: &[u8]) -> Result<Self, CaError> {
        let no = |why: &str| CaError::BadCaCertificate(why.into());
        let alg = SigAlg::for_key(signer.alg())
            .ok_or_else(|| CaError::UnsupportedKey(signer.alg().to_string()))?;
        let cert = Cert::parse(cert_der).ok_or_else(|| no("does not parse"))?;
        let key = cert.key().ok_or_else(|| no("unsupported key"))?;
        let probe = b"elicense seal CA key check";
        let sig = alg::sign(&signer, alg, probe)?;
        let sig = BitString::from_bytes(&sig).map_err(bad)?;
        if !key.verifies(alg, probe, &sig) {
            return Err(no("not the signer's key"));
        }
        if !super::chain::is_ca(&cert.cert) {
            return Err(no("not a CA certificate with keyCertSign"));
        }
        let key_id = key_id(&cert.cert.tbs_certificate.subject_public_key_info);
        Ok(SealCa {
            signer,
            alg,
            cert,
            key_id,
        })
    }

    /// The authority key identifier extension of what this CA signs (certificates, CRLs).
    fn authority_key_identifier(&self) -> Result<Extension, CaError> {
        extension(
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(self.key_id.clone()).map_err(bad)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
            false,
        )
    }

    /// The CA certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.cert.der
    }

    /// Issues a leaf certificate for a seal key (`public`, SM2 or P-256) with serial number
    /// `serial_number` (big-endian, positive, at most 20 bytes); returns its DER.
    pub fn issue(
        &self,
        subject: &Subject,
        public: &Jwk,
        validity: Validity,
        serial_number: &[u8],
    ) -> Result<Vec<u8>, CaError> {
        let spki = spki(public)?;
        let name = subject.to_name()?;
        let issuer = self.cert.cert.tbs_certificate.subject.clone();
        let extensions = vec![
            extension(
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
                false,
            )?,
            extension(
                &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
                true,
            )?,
            extension(
                &SubjectKeyIdentifier(OctetString::new(key_id(&spki)).map_err(bad)?),
                false,
            )?,
            self.authority_key_identifier()?,
        ];
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: serial(serial_number)?,
            signature: self.alg.algorithm_identifier(),
            issuer,
            validity: validity.to_x509()?,
            subject: name,
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        sign_certificate(&self.signer, self.alg, tbs)
    }

    /// A v2 CRL listing `revoked`, valid from `this_update` to `next_update`, with an
    /// authority key identifier and a CRL number (the unix seconds of `this_update`, so later
    /// CRLs have larger numbers); returns its DER.
    pub fn crl(
        &self,
        revoked: &[Revoked],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, CaError> {
        if next_update < this_update {
            return Err(bad("nextUpdate before thisUpdate"));
        }
        let t = |t| timeconv::to_x509(t).ok_or_else(|| bad("a time before 1970"));
        let entries = revoked
            .iter()
            .map(|r| {
                Ok(RevokedCert {
                    serial_number: serial(&r.serial)?,
                    revocation_date: t(r.at)?,
                    crl_entry_extensions: if r.hold {
                        Some(vec![extension(&CrlReason::CertificateHold, false)?])
                    } else {
                        None
                    },
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        let issuer = self.cert.cert.tbs_certificate.subject.clone();
        let number = Uint::new(&this_update.unix_timestamp().max(0).to_be_bytes()).map_err(bad)?;
        let extensions = vec![
            self.authority_key_identifier()?,
            extension(&CrlNumber(number), false)?,
        ];
        let tbs = TbsCertList {
            version: Version::V2,
            signature: self.alg.algorithm_identifier(),
            issuer,
            this_update: t(this_update)?,
            next_update: Some(t(next_update)?),
            revoked_certificates: (!entries.is_empty()).then_some(entries),
            crl_extensions: Some(extensions),
        };
        let sig = alg::sign(&self.signer, self.alg, &tbs.to_der().map_err(bad)?)?;
        CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: self.alg.algorithm_identifier(),
            signature: BitString::from_bytes(&sig).map_err(bad)?,
        }
        .to_der()
        .map_err(bad)
    }
}

pub(crate) fn spki(public: &Jwk) -> Result<SubjectPublicKeyInfoOwned, CaError> {
    alg::spki_of_jwk(public)
        .ok_or_else(|| CaError::UnsupportedKey("not an SM2 or P-256 public key".into()))
}

fn sign_certificate(
    signer: &dyn Signer,
    alg: SigAlg,
    tbs: TbsCertificate,
) -> Result<Vec<u8>, CaError> {
    let sig = alg::sign(signer, alg, &tbs.to_der().map_err(bad)?)?;
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg.algorithm_identifier(),
        signature: BitString::from_bytes(&sig).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

/// PEM text of a DER certificate (`CERTIFICATE`) or CRL (`X509 CRL`): `label` names it.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
