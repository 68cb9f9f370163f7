//! The seal (`SESeal`): typed seal data, making (the maker signs) and strict reading.
//!
//! Invariants: a [`Seal`] always holds a version 4 structure whose typed [`SealInfo`] is the
//! exact reading of its ASN.1 (so `from_der(to_der(s)) == s`); its signature algorithm is one
//! of ours. A seal that reads may still carry a bad maker signature: that is a verdict
//! ([`Seal::maker_signature_verifies`]), not a reading error.

use std::fmt;
use std::str::FromStr;

use der::asn1::{Any, BitString, Ia5String, OctetString, PrintableString};
use der::{Encode, Tag, Tagged};
use elicense_crypto::Signer;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::ext::Extension;

use super::asn1::SesSealInfo;
use super::asn1::{CertDigestObj, SeSeal, SesEsPictureInfo, SesEsPropertyInfo, SesHeader};
use super::error::{bad_der, SealError};
use super::strict;
use crate::alg::{self, SigAlg};
use crate::cert::Cert;
use crate::timeconv;

/// The header ID of every seal.
const HEADER_ID: &str = "ES";
/// The version this crate reads and writes.
pub(crate) const VERSION: i64 = 4;

/// The kind of a seal (`SES_ESPropertyInfo.type`).
///
/// The standard's text available to us does not fix the integer for each kind of seal
/// Chinese practice distinguishes (it leaves `type` to the application, and implementations
/// use their own numbers), so we define ours and read any other number as
/// [`SealKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealKind {
    /// 公章, the organisation's official seal: 1.
    Official,
    /// 合同专用章, contract seal: 2.
    Contract,
    /// 财务专用章, finance seal: 3.
    Finance,
    /// 发票专用章, invoice seal: 4.
    Invoice,
    /// 法定代表人名章, the legal representative's name seal: 5.
    LegalRepresentative,
    /// A number of another scheme (a seal made elsewhere).
    Other(i64),
}

impl SealKind {
    /// Our kinds, in code order.
    pub const OURS: [SealKind; 5] = [
        SealKind::Official,
        SealKind::Contract,
        SealKind::Finance,
        SealKind::Invoice,
        SealKind::LegalRepresentative,
    ];

    /// The integer written in `type`.
    pub fn code(self) -> i64 {
        match self {
            SealKind::Official => 1,
            SealKind::Contract => 2,
            SealKind::Finance => 3,
            SealKind::Invoice => 4,
            SealKind::LegalRepresentative => 5,
            SealKind::Other(n) => n,
        }
    }

    /// The kind a `type` integer names.
    pub fn from_code(code: i64) -> SealKind {
        SealKind::OURS
            .into_iter()
            .find(|k| k.code() == code)
            .unwrap_or(SealKind::Other(code))
    }

    /// The command-line name (`official`, `contract`, `finance`, `invoice`, `legal_rep`);
    /// `None` for another scheme's number.
    pub fn cli_name(self) -> Option<&'static str> {
        Some(match self {
            SealKind::Official => "official",
            SealKind::Contract => "contract",
            SealKind::Finance => "finance",
            SealKind::Invoice => "invoice",
            SealKind::LegalRepresentative => "legal_rep",
            SealKind::Other(_) => return None,
        })
    }
}

impl FromStr for SealKind {
    type Err = SealError;

    /// Parses a command-line name.
    fn from_str(s: &str) -> Result<Self, SealError> {
        SealKind::OURS
            .into_iter()
            .find(|k| k.cli_name() == Some(s))
            .ok_or_else(|| SealError::BadValue(format!("unknown seal kind {s:?}")))
    }
}

impl fmt::Display for SealKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cli_name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type {}", self.code()),
        }
    }
}

/// A certificate digest in a seal's digest list (`certListType` 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertDigest {
    /// The digest algorithm's name as written (`SM3`, `SHA256`, …).
    pub alg: String,
    /// The digest of the certificate's DER.
    pub value: Vec<u8>,
}

/// Whom the seal lets sign: certificates (`certListType` 1) or their digests (2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertList {
    /// The DER of each signer certificate.
    Certs(Vec<Vec<u8>>),
    /// The digest of each signer certificate.
    Digests(Vec<CertDigest>),
}

impl CertList {
    /// Whether `cert_der` is listed (for digests: SM3 or SHA-256 of it matches one).
    pub fn lists(&self, cert_der: &[u8]) -> bool {
        match self {
            CertList::Certs(certs) => certs.iter().any(|c| c == cert_der),
            CertList::Digests(digests) => digests.iter().any(|d| {
                let ours = match d.alg.to_ascii_uppercase().replace('-', "").as_str() {
                    "SM3" => alg::data_hash(SigAlg::Sm2WithSm3, cert_der),
                    "SHA256" => Sha256::digest(cert_der).to_vec(),
                    _ => return false,
                };
                ours == d.value
            }),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            CertList::Certs(c) => c.is_empty(),
            CertList::Digests(d) => d.is_empty(),
        }
    }
}

/// The seal's picture (`SES_ESPictrueInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// The image format, e.g. `PNG`, `SVG`, `OFD`.
    pub format: String,
    /// The image.
    pub data: Vec<u8>,
    /// Display width in millimetres.
    pub width_mm: u32,
    /// Display height in millimetres.
    pub height_mm: u32,
}

/// The seal data (`SES_SealInfo`), plain values. Times are whole seconds, UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealInfo {
    /// The vendor ID of the header (`Vid`), ASCII.
    pub vendor_id: String,
    /// The seal's identifier (`esID`), ASCII.
    pub seal_id: String,
    /// The kind of seal.
    pub kind: SealKind,
    /// The seal's name, e.g. 某某有限公司合同专用章.
    pub name: String,
    /// The certificates that may sign with the seal.
    pub signers: CertList,
    /// When the seal was made.
    pub created: OffsetDateTime,
    /// Start of the seal's validity.
    pub valid_from: OffsetDateTime,
    /// End of the seal's validity.
    pub valid_to: OffsetDateTime,
    /// The picture.
    pub picture: Picture,
    /// `extDatas`, kept as read (absent and empty differ on the wire).
    pub extensions: Option<Vec<Extension>>,
}

fn ia5(s: &str, what: &str) -> Result<Ia5String, SealError> {
    Ia5String::new(s).map_err(|_| SealError::BadValue(format!("{what} must be ASCII")))
}

fn time(t: OffsetDateTime, what: &str) -> Result<der::asn1::GeneralizedTime, SealError> {
    timeconv::to_generalized(t)
        .ok_or_else(|| SealError::BadValue(format!("{what}: a time before 1970 or after 9999")))
}

impl SealInfo {
    fn to_asn1(&self) -> Result<SesSealInfo, SealError> {
        if self.valid_to < self.valid_from {
            return Err(SealError::BadValue(
                "the validity ends before it starts".into(),
            ));
        }
        if self.signers.is_empty() {
            return Err(SealError::BadValue("the seal lists no signer".into()));
        }
        let (cert_list_type, cert_list) = match &self.signers {
            CertList::Certs(certs) => {
                let list: Vec<OctetString> = certs
                    .iter()
                    .map(|c| OctetString::new(c.clone()))
                    .collect::<Result<_, _>>()
                    .map_err(bad_der)?;
                (1, Any::encode_from(&list).map_err(bad_der)?)
            }
            CertList::Digests(digests) => {
                let list: Vec<CertDigestObj> = digests
                    .iter()
                    .map(|d| {
                        Ok(CertDigestObj {
                            digest_type: PrintableString::new(&d.alg).map_err(|_| {
                                SealError::BadValue("a digest name must be printable".into())
                            })?,
                            value: OctetString::new(d.value.clone()).map_err(bad_der)?,
                        })
                    })
                    .collect::<Result<_, SealError>>()?;
                (2, Any::encode_from(&list).map_err(bad_der)?)
            }
        };
        Ok(SesSealInfo {
            header: SesHeader {
                id: ia5(HEADER_ID, "the header ID")?,
                version: VERSION,
                vid: ia5(&self.vendor_id, "the vendor ID")?,
            },
            es_id: ia5(&self.seal_id, "the seal ID")?,
            property: SesEsPropertyInfo {
                seal_type: self.kind.code(),
                name: self.name.clone(),
                cert_list_type,
                cert_list,
                create_date: time(self.created, "created")?,
                valid_start: time(self.valid_from, "valid from")?,
                valid_end: time(self.valid_to, "valid to")?,
            },
            picture: SesEsPictureInfo {
                picture_type: ia5(&self.picture.format, "the picture type")?,
                data: OctetString::new(self.picture.data.clone()).map_err(bad_der)?,
                width: self.picture.width_mm.into(),
                height: self.picture.height_mm.into(),
            },
            ext_datas: self.extensions.clone(),
        })
    }

    fn from_asn1(s: &SesSealInfo) -> Result<SealInfo, SealError> {
        if s.header.id.as_str() != HEADER_ID {
            return Err(SealError::BadHeader(s.header.id.to_string()));
        }
        if s.header.version != VERSION {
            return Err(SealError::WrongVersion(s.header.version));
        }
        let p = &s.property;
        if p.cert_list.tag() != Tag::Sequence {
            return Err(bad_der("the certificate list is not a SEQUENCE OF"));
        }
        let signers = match p.cert_list_type {
            1 => CertList::Certs(
                p.cert_list
                    .decode_as::<Vec<OctetString>>()
                    .map_err(bad_der)?
                    .into_iter()
                    .map(|o| o.into_bytes())
                    .collect(),
            ),
            2 => CertList::Digests(
                p.cert_list
                    .decode_as::<Vec<CertDigestObj>>()
                    .map_err(bad_der)?
                    .into_iter()
                    .map(|d| CertDigest {
                        alg: d.digest_type.to_string(),
                        value: d.value.into_bytes(),
                    })
                    .collect(),
            ),
            n => return Err(SealError::BadValue(format!("certificate list type {n}"))),
        };
        let mm = |v: i64, what: &str| {
            u32::try_from(v).map_err(|_| SealError::BadValue(format!("picture {what} {v}")))
        };
        Ok(SealInfo {
            vendor_id: s.header.vid.to_string(),
            seal_id: s.es_id.to_string(),
            kind: SealKind::from_code(p.seal_type),
            name: p.name.clone(),
            signers,
            created: timeconv::from_generalized(&p.create_date),
            valid_from: timeconv::from_generalized(&p.valid_start),
            valid_to: timeconv::from_generalized(&p.valid_end),
            picture: Picture {
                format: s.picture.picture_type.to_string(),
                data: s.picture.data.as_bytes().to_vec(),
                width_mm: mm(s.picture.width, "width")?,
                height_mm: mm(s.picture.height, "height")?,
            },
            extensions: s.ext_datas.clone(),
        })
    }
}

/// A GB/T 38540 version 4 seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    asn1: SeSeal,
    info: SealInfo,
    alg: SigAlg,
}

impl Seal {
    /// Makes a seal: `maker` (whose certificate is `maker_cert_der`) signs the DER of the
    /// seal information. Times are truncated to whole seconds.
    pub fn make(
        info: &SealInfo,
        maker: &dyn Signer,
        maker_cert_der: &[u8],
    ) -> Result<Seal, SealError> {
        let alg = SigAlg::for_key(maker.alg()).ok_or_else(|| {
            SealError::UnsupportedAlg(format!("a {} key cannot make seals", maker.alg()))
        })?;
        let maker_cert = Cert::parse(maker_cert_der)
            .ok_or_else(|| SealError::BadCertificate("the maker's certificate".into()))?;
        if maker_cert.key().map(|k| k.alg) != Some(alg) {
            return Err(SealError::UnsupportedAlg(
                "the maker's certificate is not for the maker's key algorithm".into(),
            ));
        }
        let e_seal_info = info.to_asn1()?;
        let tbs = e_seal_info.to_der().map_err(bad_der)?;
        let sig = alg::sign(maker, alg, &tbs)?;
        Seal::from_asn1(SeSeal {
            e_seal_info,
            cert: OctetString::new(maker_cert_der.to_vec()).map_err(bad_der)?,
            sign_alg_id: alg.oid(),
            signed_value: BitString::from_bytes(&sig).map_err(bad_der)?,
        })
    }

    /// Reads a seal strictly (see the module's invariants for the codes).
    pub fn from_der(der: &[u8]) -> Result<Seal, SealError> {
        let asn1 = strict::decode::<SeSeal>(der, |s| match s.e_seal_info.header.version {
            VERSION => Ok(()),
            v => Err(SealError::WrongVersion(v)),
        })?;
        Seal::from_asn1(asn1)
    }

    /// A seal from its ASN.1 value (e.g. one taken from a signing record); checks the values
    /// as [`Seal::from_der`] does, except the encoding.
    pub fn from_asn1(asn1: SeSeal) -> Result<Seal, SealError> {
        let info = SealInfo::from_asn1(&asn1.e_seal_info)?;
        let alg = SigAlg::from_oid(&asn1.sign_alg_id)
            .ok_or_else(|| SealError::UnsupportedAlg(asn1.sign_alg_id.to_string()))?;
        Ok(Seal { asn1, info, alg })
    }

    /// The DER of the seal.
    pub fn to_der(&self) -> Vec<u8> {
        self.asn1
            .to_der()
            .expect("a seal read or made here encodes (lengths were checked when it was built)")
    }

    /// The seal data.
    pub fn info(&self) -> &SealInfo {
        &self.info
    }

    /// The ASN.1 value.
    pub fn asn1(&self) -> &SeSeal {
        &self.asn1
    }

    /// The maker's signature algorithm.
    pub fn alg(&self) -> SigAlg {
        self.alg
    }

    /// The maker's certificate (DER).
    pub fn maker_cert(&self) -> &[u8] {
        self.asn1.cert.as_bytes()
    }

    /// The DER of `SES_SealInfo`: what the maker signed.
    pub fn signed_data(&self) -> Vec<u8> {
        self.asn1
            .e_seal_info
            .to_der()
            .expect("part of an encodable seal")
    }

    /// Whether the maker's signature verifies with the key of the maker's certificate.
    pub fn maker_signature_verifies(&self) -> bool {
        let Some(key) = Cert::parse(self.maker_cert()).and_then(|c| c.key()) else {
            return false;
        };
        key.verifies(self.alg, &self.signed_data(), &self.asn1.signed_value)
    }

    /// Whether the maker's certificate was valid at `t` (`false` if it does not parse).
    pub(crate) fn maker_cert_valid_at(&self, t: OffsetDateTime) -> bool {
        Cert::parse(self.maker_cert()).is_some_and(|c| c.valid_at(t))
    }

    /// Whether `t` is inside the seal's validity window.
    pub fn valid_at(&self, t: OffsetDateTime) -> bool {
        self.info.valid_from <= t && t <= self.info.valid_to
    }
}
