//! The `SESeal` of an ES256 seal inside its PAdES CMS: an unsigned attribute of the signer.
//!
//! Invariant: adding the attribute changes nothing that is signed (signed attributes,
//! certificates and signature are re-encoded as they were decoded, all DER), so the CMS
//! verifies exactly as `elicense_pdf::cms::build` made it.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfos};
use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;

use crate::ses::{Seal, SealError};

/// Our attribute type for a DER `SESeal`.
///
/// A placeholder until the project has its own enterprise number: it sits under IANA's
/// documentation number 32473 (RFC 5612), arc 38540 for the standard. A UUID OID under
/// `2.25` (ITU-T X.667) would need no registration, but `der`'s OIDs hold 32-bit arcs only.
pub const OID_SESEAL_ATTRIBUTE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.38540.1");

fn bad(e: impl std::fmt::Display) -> SealError {
    SealError::BadDer(e.to_string())
}

/// The CMS `cms_der` with `seal` added as an unsigned attribute of its (only) signer.
pub(crate) fn add_seal(cms_der: &[u8], seal: &Seal) -> Result<Vec<u8>, SealError> {
    let mut ci = ContentInfo::from_der(cms_der).map_err(bad)?;
    let mut sd: SignedData = ci.content.decode_as().map_err(bad)?;
    let mut infos = sd.signer_infos.0.into_vec();
    let [si] = infos.as_mut_slice() else {
        return Err(bad("a PAdES CMS has one signer"));
    };
    let value = Any::from_der(&seal.to_der()).map_err(bad)?;
    let attr = Attribute {
        oid: OID_SESEAL_ATTRIBUTE,
        values: SetOfVec::try_from(vec![value]).map_err(bad)?,
    };
    si.unsigned_attrs = Some(SetOfVec::try_from(vec![attr]).map_err(bad)?);
    sd.signer_infos = SignerInfos(SetOfVec::try_from(infos).map_err(bad)?);
    ci.content = Any::encode_from(&sd).map_err(bad)?;
    ci.to_der().map_err(bad)
}

/// What a PAdES CMS carries for us: every certificate (DER) and the seal attribute's DER.
pub(crate) struct Carried {
    pub(crate) certificates: Vec<Vec<u8>>,
    pub(crate) seal: Option<Vec<u8>>,
}

/// Reads the certificates and the seal attribute of a CMS; `None` when it does not parse.
pub(crate) fn carried(cms_der: &[u8]) -> Option<Carried> {
    let ci = ContentInfo::from_der(cms_der).ok()?;
    let sd: SignedData = ci.content.decode_as().ok()?;
    let certificates = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
            _ => None,
        })
        .collect();
    let seal = sd
        .signer_infos
        .0
        .iter()
        .flat_map(|si| si.unsigned_attrs.iter().flat_map(|a| a.iter()))
        .find(|a| a.oid == OID_SESEAL_ATTRIBUTE && a.values.len() == 1)
        .and_then(|a| a.values.get(0)?.to_der().ok());
    Some(Carried { certificates, seal })
}
