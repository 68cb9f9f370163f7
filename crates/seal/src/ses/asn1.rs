//! The GB/T 38540-2020 (version 4) ASN.1 structures, field for field, as `der` types.
//!
//! Invariant: these types are the wire format and nothing more; what the fields mean and which
//! values are acceptable is decided by [`super::Seal`] and [`super::SealSignature`]. Encoding
//! is DER, and because every field keeps its decoded value (the certificate list is kept as
//! the encoded element), decoding then encoding DER input gives the same bytes.
//!
//! Doubts settled here (the standard's module text is not public in our corpora; we compared
//! two independent implementations, ofdrw's BouncyCastle classes and an OpenSSL-based C++
//! verifier, with the field list in `standards.md`):
//! - Field order and types follow the standard's v4 tables, which both implementations agree
//!   on (GeneralizedTime dates, `certListType` before `certList`, the signer certificate
//!   outside `TBS_Sign`).
//! - `SES_SealInfo.extDatas` is untagged (both agree).
//! - `TBS_Sign.extDatas` and `SES_Signature.timeStamp` are `[0]` EXPLICIT: ofdrw writes and
//!   reads them as explicitly tagged objects; the C++ verifier declares them untagged, which
//!   is ambiguous for `timeStamp` (a BIT STRING after the BIT STRING `signature`) and cannot
//!   be what the standard means. We write and accept only `[0]` EXPLICIT.
//! - `certList` is a CHOICE of two SEQUENCE OF types whose tags are equal, so the choice is
//!   made by `certListType` (1 certificates, 2 digests); it is kept here as the encoded
//!   element and read in [`super::seal`].

use der::asn1::PrintableString;
use der::asn1::{Any, BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString};
use der::Sequence;
use x509_cert::ext::Extension;

/// `ExtensionDatas ::= SEQUENCE OF ExtData`; `ExtData` has the shape of an X.509 extension
/// (`extnID`, `critical BOOLEAN DEFAULT FALSE`, `extnValue OCTET STRING`).
pub type ExtensionDatas = Vec<Extension>;

/// `SES_Header ::= SEQUENCE { ID IA5String ("ES"), version INTEGER (4), Vid IA5String }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SesHeader {
    pub id: Ia5String,
    pub version: i64,
    pub vid: Ia5String,
}

/// `SES_ESPropertyInfo`: type, name, certificate list type and list, created, valid from, to.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SesEsPropertyInfo {
    pub seal_type: i64,
    pub name: String,
    pub cert_list_type: i64,
    /// `SES_CertList`: `SEQUENCE OF OCTET STRING` (type 1) or `SEQUENCE OF CertDigestObj`
    /// (type 2), decided by `cert_list_type`.
    pub cert_list: Any,
    pub create_date: GeneralizedTime,
    pub valid_start: GeneralizedTime,
    pub valid_end: GeneralizedTime,
}

/// `CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct CertDigestObj {
    pub digest_type: PrintableString,
    pub value: OctetString,
}

/// `SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER,
/// height INTEGER }` (the standard's spelling; width and height in millimetres).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SesEsPictureInfo {
    pub picture_type: Ia5String,
    pub data: OctetString,
    pub width: i64,
    pub height: i64,
}

/// `SES_SealInfo ::= SEQUENCE { header, esID IA5String, property, picture, extDatas OPTIONAL }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SesSealInfo {
    pub header: SesHeader,
    pub es_id: Ia5String,
    pub property: SesEsPropertyInfo,
    pub picture: SesEsPictureInfo,
    #[asn1(optional = "true")]
    pub ext_datas: Option<ExtensionDatas>,
}

/// `SESeal ::= SEQUENCE { eSealInfo, cert OCTET STRING (the maker's certificate),
/// signAlgID OBJECT IDENTIFIER, signedValue BIT STRING }`; the maker signs the DER of
/// `eSealInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SeSeal {
    pub e_seal_info: SesSealInfo,
    pub cert: OctetString,
    pub sign_alg_id: ObjectIdentifier,
    pub signed_value: BitString,
}

/// `TBS_Sign ::= SEQUENCE { version INTEGER (4), eseal SESeal, timeInfo GeneralizedTime,
/// dataHash BIT STRING, propertyInfo IA5String, extDatas [0] EXPLICIT OPTIONAL }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct TbsSign {
    pub version: i64,
    pub eseal: SeSeal,
    pub time_info: GeneralizedTime,
    pub data_hash: BitString,
    pub property_info: Ia5String,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub ext_datas: Option<ExtensionDatas>,
}

/// `SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING (the signer's
/// certificate), signatureAlgID OBJECT IDENTIFIER, signature BIT STRING,
/// timeStamp [0] EXPLICIT BIT STRING OPTIONAL }`; the signer signs the DER of `toSign`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
#[allow(missing_docs)]
pub struct SesSignature {
    pub to_sign: TbsSign,
    pub cert: OctetString,
    pub signature_alg_id: ObjectIdentifier,
    pub signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub time_stamp: Option<BitString>,
}
