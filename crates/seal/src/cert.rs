//! A parsed X.509 certificate or CRL with the exact to-be-signed bytes it arrived with.
//!
//! Invariant: signatures are checked over the to-be-signed element exactly as received (not a
//! re-encoding of our decoded value), so a certificate made by another implementation checks
//! as that implementation signed it.

use der::asn1::{AnyRef, BitString};
use der::{Decode, Encode, Sequence};
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use crate::alg::{CertKey, SigAlg};
use crate::timeconv;

/// `SEQUENCE { tbs, signatureAlgorithm, signatureValue }`: certificates and CRLs alike.
#[derive(Sequence)]
struct Signed<'a> {
    tbs: AnyRef<'a>,
    alg: AnyRef<'a>,
    sig: AnyRef<'a>,
}

/// The to-be-signed element of a signed structure, as received.
fn tbs_of(der: &[u8]) -> Option<Vec<u8>> {
    Signed::from_der(der).ok()?.tbs.to_der().ok()
}

/// A certificate and its to-be-signed bytes.
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    pub(crate) cert: Certificate,
    tbs: Vec<u8>,
}

impl Cert {
    pub(crate) fn parse(der: &[u8]) -> Option<Cert> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = tbs_of(der)?;
        Some(Cert {
            der: der.to_vec(),
            cert,
            tbs,
        })
    }

    pub(crate) fn key(&self) -> Option<CertKey> {
        CertKey::from_spki(&self.cert.tbs_certificate.subject_public_key_info)
    }

    pub(crate) fn valid_at(&self, t: OffsetDateTime) -> bool {
        let v = &self.cert.tbs_certificate.validity;
        timeconv::from_x509(&v.not_before) <= t && t <= timeconv::from_x509(&v.not_after)
    }

    /// Whether `issuer_key` signed this certificate.
    pub(crate) fn signed_by(&self, issuer_key: &CertKey) -> bool {
        signature_verifies(
            issuer_key,
            &self.cert.signature_algorithm,
            &self.cert.tbs_certificate.signature,
            &self.tbs,
            &self.cert.signature,
        )
    }
}

/// A CRL and its to-be-signed bytes.
pub(crate) struct Crl {
    pub(crate) crl: CertificateList,
    tbs: Vec<u8>,
}

impl Crl {
    pub(crate) fn parse(der: &[u8]) -> Option<Crl> {
        let crl = CertificateList::from_der(der).ok()?;
        let tbs = tbs_of(der)?;
        Some(Crl { crl, tbs })
    }

    pub(crate) fn signed_by(&self, issuer_key: &CertKey) -> bool {
        signature_verifies(
            issuer_key,
            &self.crl.signature_algorithm,
            &self.crl.tbs_cert_list.signature,
            &self.tbs,
            &self.crl.signature,
        )
    }
}

fn signature_verifies(
    key: &CertKey,
    outer: &AlgorithmIdentifierOwned,
    inner: &AlgorithmIdentifierOwned,
    tbs: &[u8],
    sig: &BitString,
) -> bool {
    // RFC 5280 §4.1.1.2: the two algorithm fields must be equal.
    if outer != inner {
        return false;
    }
    match SigAlg::from_oid(&outer.oid) {
        Some(alg) => key.verifies(alg, tbs, sig),
        None => false,
    }
}
