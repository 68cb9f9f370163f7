//! PAdES baseline B-B signatures (ETSI EN 319 142-1, SubFilter `ETSI.CAdES.detached`) for
//! ES256 keys: a detached CMS SignedData (RFC 5652) over the PDF's byte ranges, and its
//! full check.
//!
//! Signed attributes: content-type (id-data), message-digest (SHA-256 of the byte ranges)
//! and ESS signing-certificate-v2 (RFC 5035: SHA-256 of the signer's certificate with its
//! issuer and serial). There is no signing-time attribute on purpose: EN 319 142-1 says a
//! PAdES signature carries its claimed signing time in the signature dictionary's /M and
//! not in the CMS, and validators (pyHanko) flag the attribute in PAdES signatures. The
//! project issue's "CMS with the signing certificate and signing time" is met by the
//! certificate in `certificates` plus /M in the same signed revision.
//!
//! Invariants: [`build`] signs exactly the DER SET OF the signed attributes; [`check`]
//! reports a signature that does not verify as a [`Problem`], and returns `Err` only when
//! nothing could be read. Chain trust is the caller's: we return the signer certificate.

use der::asn1::{ObjectIdentifier as Oid, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

use crate::error::PdfError;
use crate::verify::Problem;

const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERT_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");

fn enc(e: impl std::fmt::Display) -> PdfError {
    PdfError::CmsEncoding(e.to_string())
}

fn alg(oid: Oid) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// A DER TLV with a short tag.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Reads one DER TLV: (tag, content, rest). Short tags only; `None` when malformed.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let k = (first & 0x7f) as usize;
        if k == 0 || k > 4 || rest.len() < k {
            return None;
        }
        let len = rest[..k].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[k..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The length of the DER value at the start of `bytes` (header and content), if any:
/// what is left of a /Contents once its zero padding is dropped.
pub(crate) fn der_len(bytes: &[u8]) -> Option<usize> {
    let (_, content, rest) = read_tlv(bytes)?;
    let _ = content;
    Some(bytes.len() - rest.len())
}

/// ESS signing-certificate-v2 with one ESSCertIDv2: hash algorithm left at its DEFAULT
/// (SHA-256, so omitted in DER), the certificate hash and the issuer and serial.
fn signing_certificate_v2(cert: &Certificate, cert_der: &[u8]) -> Result<Vec<u8>, PdfError> {
    let hash = tlv(0x04, &Sha256::digest(cert_der));
    let name = cert.tbs_certificate.issuer.to_der().map_err(enc)?;
    // GeneralNames ::= SEQUENCE OF GeneralName; directoryName [4] (explicit: Name is a CHOICE).
    let general_names = tlv(0x30, &tlv(0xA4, &name));
    let serial = cert.tbs_certificate.serial_number.to_der().map_err(enc)?;
    let issuer_serial = tlv(0x30, &[general_names, serial].concat());
    let cert_id = tlv(0x30, &[hash, issuer_serial].concat());
    Ok(tlv(0x30, &tlv(0x30, &cert_id)))
}

fn attribute(oid: Oid, value_der: &[u8]) -> Result<Attribute, PdfError> {
    let value = Any::from_der(value_der).map_err(enc)?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(enc)?,
    })
}

/// A JWS-form ES256 signature (r‖s, 64 bytes) or an ASN.1 one, as the DER CMS wants it.
fn ecdsa_der(sig: &[u8]) -> Result<Vec<u8>, PdfError> {
    if sig.len() == 64 {
        let s = p256::ecdsa::Signature::from_slice(sig)
            .map_err(|e| PdfError::Signing(e.to_string()))?;
        Ok(s.to_der().as_bytes().to_vec())
    } else {
        let s =
            p256::ecdsa::Signature::from_der(sig).map_err(|e| PdfError::Signing(e.to_string()))?;
        Ok(s.to_der().as_bytes().to_vec())
    }
}

/// A signing callback: the message in, the ES256 signature out (r‖s or ASN.1).
pub type SignFn<'a, E> = dyn Fn(&[u8]) -> Result<Vec<u8>, E> + 'a;

/// Builds the DER CMS ContentInfo of a PAdES B-B signature.
///
/// `digest` is SHA-256 of the signed byte ranges; `signer_cert` the leaf certificate (DER)
/// whose key `sign` holds; `chain` further certificates to include (not checked here);
/// `sign` signs the DER of the signed attributes with ECDSA P-256/SHA-256 and returns r‖s
/// (as [`elicense_crypto::Signer`] does) or an ASN.1 `ECDSA-Sig-Value`.
pub fn build<E: std::fmt::Display>(
    digest: &[u8; 32],
    signer_cert: &[u8],
    chain: &[Vec<u8>],
    sign: &SignFn<'_, E>,
) -> Result<Vec<u8>, PdfError> {
    let cert =
        Certificate::from_der(signer_cert).map_err(|e| PdfError::BadCertificate(e.to_string()))?;
    let spki_alg = &cert.tbs_certificate.subject_public_key_info.algorithm.oid;
    if *spki_alg != ID_EC_PUBLIC_KEY {
        return Err(PdfError::BadCertificate(
            "the signer's key is not an EC key".into(),
        ));
    }
    let attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, &ID_DATA.to_der().map_err(enc)?)?,
        attribute(ID_MESSAGE_DIGEST, &tlv(0x04, digest))?,
        attribute(
            ID_SIGNING_CERT_V2,
            &signing_certificate_v2(&cert, signer_cert)?,
        )?,
    ])
    .map_err(enc)?;
    let to_sign = attrs.to_der().map_err(enc)?;
    let sig = sign(&to_sign).map_err(|e| PdfError::Signing(e.to_string()))?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: alg(ID_SHA256),
        signed_attrs: Some(attrs),
        signature_algorithm: alg(ECDSA_WITH_SHA256),
        signature: OctetString::new(ecdsa_der(&sig)?).map_err(enc)?,
        unsigned_attrs: None,
    };
    let mut certs = vec![CertificateChoices::Certificate(cert)];
    for c in chain {
        let c = Certificate::from_der(c).map_err(|e| PdfError::BadCertificate(e.to_string()))?;
        certs.push(CertificateChoices::Certificate(c));
    }
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![alg(ID_SHA256)]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs).map_err(enc)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(enc)?),
    };
    let ci = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(enc)?,
    };
    ci.to_der().map_err(enc)
}

/// What [`check`] found: the signer certificate (when it was found) and the problems.
#[derive(Clone, Debug, Default)]
pub struct CmsVerdict {
    /// The signer's certificate (DER) as found in the CMS `certificates`.
    pub signer_certificate: Option<Vec<u8>>,
    /// Empty when the CMS verifies completely.
    pub problems: Vec<Problem>,
}

fn one_value(attrs: &SetOfVec<Attribute>, oid: Oid) -> Option<&Any> {
    let a = attrs.iter().find(|a| a.oid == oid)?;
    (a.values.len() == 1).then(|| a.values.get(0)).flatten()
}

/// Checks a detached PAdES/CMS signature whose signed bytes hash to `sha256`.
pub fn check(contents: &[u8], sha256: &[u8; 32]) -> CmsVerdict {
    let mut v = CmsVerdict::default();
    if let Err(p) = check_into(contents, sha256, &mut v) {
        v.problems.push(p);
    }
    v
}

fn check_into(contents: &[u8], sha256: &[u8; 32], v: &mut CmsVerdict) -> Result<(), Problem> {
    let malformed = |e: &dyn std::fmt::Display| Problem::CmsMalformed(e.to_string());
    let ci = ContentInfo::from_der(contents).map_err(|e| malformed(&e))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(malformed(&"not a SignedData"));
    }
    let sd: SignedData = ci.content.decode_as().map_err(|e| malformed(&e))?;
    if sd.encap_content_info.econtent_type != ID_DATA || sd.encap_content_info.econtent.is_some() {
        return Err(malformed(&"not a detached signature over data"));
    }
    let [si] = sd.signer_infos.0.as_slice() else {
        return Err(malformed(&"a PAdES signature has exactly one SignerInfo"));
    };
    if si.digest_alg.oid != ID_SHA256 {
        return Err(Problem::UnsupportedAlgorithm(format!(
            "digest {}",
            si.digest_alg.oid
        )));
    }
    if !matches!(
        si.signature_algorithm.oid,
        ECDSA_WITH_SHA256 | ID_EC_PUBLIC_KEY
    ) {
        return Err(Problem::UnsupportedAlgorithm(format!(
            "signature {}",
            si.signature_algorithm.oid
        )));
    }
    let Some(attrs) = &si.signed_attrs else {
        return Err(malformed(&"no signed attributes"));
    };
    let content_type = one_value(attrs, ID_CONTENT_TYPE).and_then(|a| a.decode_as::<Oid>().ok());
    if content_type != Some(ID_DATA) {
        v.problems
            .push(malformed(&"the content-type attribute is not id-data"));
    }
    let md = one_value(attrs, ID_MESSAGE_DIGEST).and_then(|a| a.decode_as::<OctetString>().ok());
    match md {
        None => return Err(malformed(&"no message-digest attribute")),
        Some(md) if md.as_bytes() != sha256 => v.problems.push(Problem::DigestMismatch),
        Some(_) => {}
    }
    let certs: Vec<&Certificate> = sd
        .certificates
        .as_ref()
        .map(|s| {
            s.0.iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let signer = certs.iter().find(|c| match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            c.tbs_certificate.issuer == is.issuer
                && c.tbs_certificate.serial_number == is.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            let want = ski.0.as_bytes();
            c.tbs_certificate.extensions.iter().flatten().any(|e| {
                e.extn_id == Oid::new_unwrap("2.5.29.14")
                    && OctetString::from_der(e.extn_value.as_bytes())
                        .is_ok_and(|o| o.as_bytes() == want)
            })
        }
    });
    let Some(signer) = signer else {
        return Err(Problem::CertificateMissing);
    };
    let cert_der = signer.to_der().map_err(|e| malformed(&e))?;
    v.signer_certificate = Some(cert_der.clone());

    match one_value(attrs, ID_SIGNING_CERT_V2) {
        None => v.problems.push(Problem::SigningCertificateMissing),
        Some(a) => {
            if !ess_matches(&a.to_der().map_err(|e| malformed(&e))?, signer, &cert_der) {
                v.problems.push(Problem::SigningCertificateMismatch);
            }
        }
    }

    let signed = attrs.to_der().map_err(|e| malformed(&e))?;
    let sig = p256::ecdsa::Signature::from_der(si.signature.as_bytes())
        .map_err(|_| Problem::SignatureInvalid)?;
    let jwk = elicense_crypto::x509::leaf_key(&cert_der)
        .map_err(|e| Problem::UnsupportedAlgorithm(e.to_string()))?;
    let verifier = jwk
        .verifier(None)
        .map_err(|e| Problem::UnsupportedAlgorithm(e.to_string()))?;
    if verifier.verify(&signed, &sig.to_bytes()).is_err() {
        v.problems.push(Problem::SignatureInvalid);
    }
    Ok(())
}

/// Does the first ESSCertIDv2 name this certificate (hash, and issuer/serial if given)?
fn ess_matches(attr_der: &[u8], cert: &Certificate, cert_der: &[u8]) -> bool {
    let inner = || -> Option<bool> {
        let (0x30, scv2, _) = read_tlv(attr_der)? else {
            return None;
        };
        let (0x30, certs, _) = read_tlv(scv2)? else {
            return None;
        };
        let (0x30, id, _) = read_tlv(certs)? else {
            return None;
        };
        let (mut tag, mut content, mut rest) = read_tlv(id)?;
        let mut hash_alg = ID_SHA256;
        if tag == 0x30 {
            let whole = &id[..id.len() - rest.len()];
            hash_alg = AlgorithmIdentifierOwned::from_der(whole).ok()?.oid;
            (tag, content, rest) = read_tlv(rest)?;
        }
        if tag != 0x04 || hash_alg != ID_SHA256 || content != Sha256::digest(cert_der).as_slice() {
            return Some(false);
        }
        if !rest.is_empty() {
            let (0x30, issuer_serial, _) = read_tlv(rest)? else {
                return Some(false);
            };
            let (0x30, names, serial) = read_tlv(issuer_serial)? else {
                return Some(false);
            };
            let name = cert.tbs_certificate.issuer.to_der().ok()?;
            let want_serial = cert.tbs_certificate.serial_number.to_der().ok()?;
            let named = read_tlv(names).is_some_and(|(t, n, _)| t == 0xA4 && n == name.as_slice());
            return Some(named && serial == want_serial.as_slice());
        }
        Some(true)
    };
    inner().unwrap_or(false)
}
