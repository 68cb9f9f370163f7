//! Certification path validation (RFC 5280 §6, the parts a seal verifier needs).
//!
//! Invariants: a path is returned only when every certificate from the leaf up to one of
//! the given trust anchors is signed by the next, valid at the time asked, and each issuer is
//! a CA (basicConstraints CA:TRUE, keyUsage with keyCertSign when present, path length
//! respected); the leaf's keyUsage, when present, allows digitalSignature or
//! nonRepudiation; no certificate carries a critical extension we do not process; and, for
//! every issuer for which a CRL is given, the CRL is signed by that issuer (keyUsage cRLSign
//! when present), current at that time (its thisUpdate at most [`CRL_CLOCK_SKEW`] later, for
//! clocks that differ), and does not list the certificate as revoked by then.
//! Names chain by exact DER equality of issuer and subject (what our CA and OpenSSL write).
//! The first failure found is returned as a stable code.

use der::asn1::ObjectIdentifier;
use der::oid::AssociatedOid;
use der::Decode;
use thiserror::Error;
use time::OffsetDateTime;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::{BasicConstraints, CrlReason, KeyUsage};
use x509_cert::Certificate;

use crate::cert::{Cert, Crl};
use crate::timeconv;

/// How far a CRL's thisUpdate may lie after the time asked: the CA's clock (another node's)
/// may run ahead of the verifier's, and a list made after the time taken for a verification
/// is only fresher.
const CRL_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// The longest path accepted (leaf and anchor included).
const MAX_PATH: usize = 8;

const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// Extensions we process or that do not constrain a path: basicConstraints, keyUsage,
/// extKeyUsage, subjectAltName, certificatePolicies (any policy accepted), subject and
/// authority key identifiers.
const UNDERSTOOD: [&str; 7] = [
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.17",
    "2.5.29.32",
    "2.5.29.14",
    "2.5.29.35",
];

/// Why a certification path was refused. Each variant names the certificate concerned
/// (its subject) where there is one.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// A certificate does not parse.
    #[error("a certificate does not parse")]
    BadCertificate,
    /// A CRL does not parse.
    #[error("a CRL does not parse")]
    BadCrl,
    /// An issuer's key is not SM2 or P-256, or a signature algorithm is not ours.
    #[error("unsupported key or algorithm in {0}")]
    UnsupportedKey(String),
    /// No given intermediate or anchor has the certificate's issuer name.
    #[error("no trusted issuer for {0}")]
    Untrusted(String),
    /// An issuer of that name exists but its key did not sign the certificate.
    #[error("the signature on {0} does not verify")]
    SignatureInvalid(String),
    /// The certificate's validity ended before the time asked.
    #[error("{0} has expired")]
    Expired(String),
    /// The certificate's validity starts after the time asked.
    #[error("{0} is not yet valid")]
    NotYetValid(String),
    /// An issuer lacks basicConstraints CA:TRUE.
    #[error("{0} is not a CA")]
    IssuerNotCa(String),
    /// An issuer's keyUsage lacks keyCertSign.
    #[error("{0} may not sign certificates (keyUsage)")]
    IssuerKeyUsage(String),
    /// An issuer's pathLenConstraint is exceeded.
    #[error("the path length allowed by {0} is exceeded")]
    PathLength(String),
    /// The path is longer than this validator follows.
    #[error("the path is too long")]
    TooLong,
    /// The leaf's keyUsage allows neither digitalSignature nor nonRepudiation.
    #[error("{0} may not sign (keyUsage)")]
    LeafKeyUsage(String),
    /// A certificate carries a critical extension that is not processed here.
    #[error("{0} has an unknown critical extension")]
    UnknownCriticalExtension(String),
    /// The certificate is revoked by a CRL of its issuer.
    #[error("{0} is revoked")]
    Revoked(String),
    /// A CRL given for an issuer is not signed by it.
    #[error("the CRL of {0} does not verify")]
    CrlSignatureInvalid(String),
    /// An issuer's keyUsage lacks cRLSign but a CRL of it was given.
    #[error("{0} may not sign CRLs (keyUsage)")]
    CrlIssuerKeyUsage(String),
    /// A CRL given is not current at the time asked (thisUpdate after it, nextUpdate before).
    #[error("the CRL of {0} is not current")]
    CrlOutdated(String),
}

impl ChainError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::BadCertificate => "chain.bad_certificate",
            ChainError::BadCrl => "chain.bad_crl",
            ChainError::UnsupportedKey(_) => "chain.unsupported_key",
            ChainError::Untrusted(_) => "chain.untrusted",
            ChainError::SignatureInvalid(_) => "chain.signature_invalid",
            ChainError::Expired(_) => "chain.expired",
            ChainError::NotYetValid(_) => "chain.not_yet_valid",
            ChainError::IssuerNotCa(_) => "chain.issuer_not_ca",
            ChainError::IssuerKeyUsage(_) => "chain.issuer_key_usage",
            ChainError::PathLength(_) => "chain.path_length",
            ChainError::TooLong => "chain.too_long",
            ChainError::LeafKeyUsage(_) => "chain.leaf_key_usage",
            ChainError::UnknownCriticalExtension(_) => "chain.unknown_critical_extension",
            ChainError::Revoked(_) => "chain.revoked",
            ChainError::CrlSignatureInvalid(_) => "chain.crl_signature_invalid",
            ChainError::CrlIssuerKeyUsage(_) => "chain.crl_issuer_key_usage",
            ChainError::CrlOutdated(_) => "chain.crl_outdated",
        }
    }
}

fn subject(c: &Cert) -> String {
    c.cert.tbs_certificate.subject.to_string()
}

fn extension<'a, T: Decode<'a>>(cert: &'a Certificate, oid: ObjectIdentifier) -> Option<T> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
}

fn key_usage(cert: &Certificate) -> Option<KeyUsage> {
    extension(cert, OID_KEY_USAGE)
}

fn basic_constraints(cert: &Certificate) -> Option<BasicConstraints> {
    extension(cert, OID_BASIC_CONSTRAINTS)
}

/// A CA certificate: CA:TRUE and keyCertSign when keyUsage is present.
pub(crate) fn is_ca(cert: &Certificate) -> bool {
    basic_constraints(cert).is_some_and(|b| b.ca)
        && key_usage(cert).is_none_or(|k| k.key_cert_sign())
}

fn check_common(c: &Cert, at: OffsetDateTime) -> Result<(), ChainError> {
    let v = &c.cert.tbs_certificate.validity;
    if at < timeconv::from_x509(&v.not_before) {
        return Err(ChainError::NotYetValid(subject(c)));
    }
    if at > timeconv::from_x509(&v.not_after) {
        return Err(ChainError::Expired(subject(c)));
    }
    let unknown = c
        .cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .any(|e| e.critical && !UNDERSTOOD.contains(&e.extn_id.to_string().as_str()));
    if unknown {
        return Err(ChainError::UnknownCriticalExtension(subject(c)));
    }
    Ok(())
}

/// Checks `issuer` as the CA of a path with `below` intermediate CAs under it.
fn check_issuer(issuer: &Cert, below: usize) -> Result<(), ChainError> {
    let bc = basic_constraints(&issuer.cert).filter(|b| b.ca);
    let Some(bc) = bc else {
        return Err(ChainError::IssuerNotCa(subject(issuer)));
    };
    if key_usage(&issuer.cert).is_some_and(|k| !k.key_cert_sign()) {
        return Err(ChainError::IssuerKeyUsage(subject(issuer)));
    }
    if bc
        .path_len_constraint
        .is_some_and(|n| below > usize::from(n))
    {
        return Err(ChainError::PathLength(subject(issuer)));
    }
    Ok(())
}

/// Checks `cert` against the CRLs of `issuer` among `crls`.
fn check_revocation(
    cert: &Cert,
    issuer: &Cert,
    crls: &[Crl],
    at: OffsetDateTime,
) -> Result<(), ChainError> {
    let issuer_name = &issuer.cert.tbs_certificate.subject;
    for crl in crls
        .iter()
        .filter(|c| &c.crl.tbs_cert_list.issuer == issuer_name)
    {
        if key_usage(&issuer.cert).is_some_and(|k| !k.crl_sign()) {
            return Err(ChainError::CrlIssuerKeyUsage(subject(issuer)));
        }
        let key = issuer
            .key()
            .ok_or_else(|| ChainError::UnsupportedKey(subject(issuer)))?;
        if !crl.signed_by(&key) {
            return Err(ChainError::CrlSignatureInvalid(subject(issuer)));
        }
        if !current(crl, at) {
            return Err(ChainError::CrlOutdated(subject(issuer)));
        }
        if entry(crl, cert, at).is_some() {
            return Err(ChainError::Revoked(subject(cert)));
        }
    }
    Ok(())
}

/// Whether `crl` is current at `at`: its thisUpdate at most [`CRL_CLOCK_SKEW`] later, its
/// nextUpdate (if any) not before.
fn current(crl: &Crl, at: OffsetDateTime) -> bool {
    let tbs = &crl.crl.tbs_cert_list;
    at + CRL_CLOCK_SKEW >= timeconv::from_x509(&tbs.this_update)
        && tbs
            .next_update
            .as_ref()
            .is_none_or(|n| at <= timeconv::from_x509(n))
}

/// The entry of `crl` that lists `cert` as revoked (or on hold) by `at`.
fn entry<'a>(crl: &'a Crl, cert: &Cert, at: OffsetDateTime) -> Option<&'a RevokedCert> {
    let serial = &cert.cert.tbs_certificate.serial_number;
    crl.crl
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| &r.serial_number == serial && timeconv::from_x509(&r.revocation_date) <= at)
}

/// Finds the issuer of `cert` among `candidates`: one whose subject is `cert`'s issuer and
/// whose key signed it. `Err(SignatureInvalid)` when names match but no key verifies.
fn find_issuer<'a>(cert: &Cert, candidates: &'a [Cert]) -> Result<Option<&'a Cert>, ChainError> {
    let issuer_name = &cert.cert.tbs_certificate.issuer;
    let mut named = false;
    for c in candidates
        .iter()
        .filter(|c| &c.cert.tbs_certificate.subject == issuer_name)
    {
        named = true;
        let key = c
            .key()
            .ok_or_else(|| ChainError::UnsupportedKey(subject(c)))?;
        if cert.signed_by(&key) {
            return Ok(Some(c));
        }
    }
    if named {
        Err(ChainError::SignatureInvalid(subject(cert)))
    } else {
        Ok(None)
    }
}

/// Validates `leaf` (DER) up to one of `anchors` through `intermediates`, at time `at`,
/// with the `crls` given; returns the path, leaf first and anchor last, as DER.
pub fn validate_chain(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: OffsetDateTime,
    crls: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>, ChainError> {
    let parse_all = |ders: &[Vec<u8>]| {
        ders.iter()
            .map(|d| Cert::parse(d).ok_or(ChainError::BadCertificate))
            .collect::<Result<Vec<_>, _>>()
    };
    let leaf = Cert::parse(leaf).ok_or(ChainError::BadCertificate)?;
    let intermediates = parse_all(intermediates)?;
    let anchors = parse_all(anchors)?;
    let crls = crls
        .iter()
        .map(|d| Crl::parse(d).ok_or(ChainError::BadCrl))
        .collect::<Result<Vec<_>, _>>()?;

    check_common(&leaf, at)?;
    if key_usage(&leaf.cert).is_some_and(|k| !k.digital_signature() && !k.non_repudiation()) {
        return Err(ChainError::LeafKeyUsage(subject(&leaf)));
    }
    if anchors.iter().any(|a| a.der == leaf.der) {
        return Ok(vec![leaf.der]);
    }
    let mut path = vec![leaf.der.clone()];
    let mut current = &leaf;
    while path.len() < MAX_PATH {
        let below = path.len() - 1;
        if let Some(anchor) = find_issuer(current, &anchors)? {
            check_common(anchor, at)?;
            check_issuer(anchor, below)?;
            check_revocation(current, anchor, &crls, at)?;
            path.push(anchor.der.clone());
            return Ok(path);
        }
        let Some(next) = find_issuer(current, &intermediates)? else {
            return Err(ChainError::Untrusted(subject(current)));
        };
        if path.contains(&next.der) {
            return Err(ChainError::Untrusted(subject(current)));
        }
        check_common(next, at)?;
        check_issuer(next, below)?;
        check_revocation(current, next, &crls, at)?;
        path.push(next.der.clone());
        current = next;
    }
    Err(ChainError::TooLong)
}

/// What its issuer's revocation list says about a certificate now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// A current CRL of the issuer does not list it.
    Good,
    /// Listed since `since`: on hold (`certificateHold`, a suspended seal) or revoked.
    Listed {
        /// The entry's revocation date.
        since: OffsetDateTime,
        /// The entry's reason is `certificateHold`.
        hold: bool,
    },
}

/// The state of `cert` (DER) in a CRL among `crls` that its issuer signed and that is current
/// at `at`; the issuer is the certificate among `issuers` whose subject is `cert`'s issuer
/// and whose key signed `cert`. `None` when there is no such issuer or CRL: nothing is known.
pub fn revocation(
    cert: &[u8],
    issuers: &[Vec<u8>],
    crls: &[Vec<u8>],
    at: OffsetDateTime,
) -> Option<Revocation> {
    let cert = Cert::parse(cert)?;
    let candidates: Vec<Cert> = issuers.iter().filter_map(|d| Cert::parse(d)).collect();
    let issuer = find_issuer(&cert, &candidates).ok()??;
    let key = issuer.key()?;
    let crl = crls.iter().filter_map(|d| Crl::parse(d)).find(|c| {
        c.crl.tbs_cert_list.issuer == issuer.cert.tbs_certificate.subject
            && c.signed_by(&key)
            && current(c, at)
    })?;
    Some(match entry(&crl, &cert, at) {
        None => Revocation::Good,
        Some(r) => Revocation::Listed {
            since: timeconv::from_x509(&r.revocation_date),
            hold: r.crl_entry_extensions.iter().flatten().any(|e| {
                e.extn_id == CrlReason::OID
                    && CrlReason::from_der(e.extn_value.as_bytes()).ok()
                        == Some(CrlReason::CertificateHold)
            }),
        },
    })
}

/// Whether `cert`'s issuer name is `ca`'s subject (both DER; exact name equality, as paths
/// are built): a cheap first test of which CA to ask, before any signature is checked.
pub fn named_issuer(cert: &[u8], ca: &[u8]) -> bool {
    match (Cert::parse(cert), Cert::parse(ca)) {
        (Some(c), Some(a)) => c.cert.tbs_certificate.issuer == a.cert.tbs_certificate.subject,
        _ => false,
    }
}
