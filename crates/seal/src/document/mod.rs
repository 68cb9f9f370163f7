//! Sealed PDF documents: applying electronic seals to a PDF ([`seal_pdf`]) and checking every
//! seal in a PDF ([`verify_pdf`]), joining the GB/T 38540 seals of [`crate::ses`] and the
//! seal CA of [`crate::ca`] with the incremental signatures of `elicense-pdf`.
//!
//! # How a seal sits in a PDF
//! Each [`SealJob`] is one incremental update (one revision) with a signature field whose
//! widget shows the seal's own picture (`SES_PictureInfo`, PNG), so a joint seal of several
//! seals or owners is several revisions, each signing everything before it.
//! - **SM2 seals**: `/Filter /Adobe.PPKLite /SubFilter /elicense.GBT38540.SES`; `/Contents`
//!   holds the DER `SES_Signature` (version 4) whose `dataHash` is SM3 of the bytes
//!   `/ByteRange` names, and whose `propertyInfo` says so: `PDF ByteRange [0 a b c] SM3`.
//!   GM/T 0112-2021 governs seals in PDF, but we could not find its text nor a vendor
//!   sample naming a SubFilter for a bare `SES_Signature` (vendors we could see carry an SM2
//!   PKCS#7 under `adbe.pkcs7.detached` instead), so the name is ours and says what it is.
//!   Generic readers (poppler, Acrobat) list such a signature and cannot check it.
//! - **ES256 seals**: a PAdES B-B CMS (`ETSI.CAdES.detached`) that generic readers verify.
//!   The seal itself (`SESeal` DER) rides in the CMS as an *unsigned* attribute of the signer
//!   ([`OID_SESEAL_ATTRIBUTE`]). Unsigned is enough: the seal is signed by its maker and lists
//!   the signer's certificate, which the signed ESS attribute pins, so swapping in another
//!   seal needs another seal made for the same certificate. Putting the seal id into the
//!   certificate instead would need the seal CA for every seal and would leave the seal's
//!   maker signature and validity window uncheckable from the document alone; the
//!   attribute keeps both seal kinds checked the same way and `elicense-pdf` unchanged.
//!
//! # Verification
//! [`verify_pdf`] never fails on a bad seal: `Err` only when the file is not a readable PDF.
//! Each signature gets a [`SealVerdict`] with stable problem codes (`pdf.*`, `cms.*`,
//! `seal.*`, `chain.*` for the signer's certificate, `maker.chain.*` for the maker's):
//! the signature over the document, the seal (maker signature, signer listed, validity
//! window at the claimed signing time), the certificate chains of signer and maker up to
//! an anchor, and the seal's status now: the caller's registry when it files the seal, else
//! the signer certificate's entry in a current CRL of its issuer (`certificateHold` is a
//! suspended seal, any other entry a revoked one, none an active one). Chains are judged at `now` with
//! the CRLs given: without a trusted timestamp the signing time is only the signer's claim,
//! so a certificate expired or revoked now does not pass (a revoked key could back-date).
//! SM2 records carry no intermediates, so their intermediate CAs must be anchors.
//!
//! Invariants: the input's bytes are never changed (updates only append); a seal is valid
//! only when its problems are empty; a document is valid only when it has at least one
//! seal, every seal is valid and nothing but signatures was added after the last one.

mod embed;
mod sign;
mod verify;

use time::OffsetDateTime;

pub use embed::OID_SESEAL_ATTRIBUTE;
pub use sign::{seal_pdf, SealJob};
pub use verify::{inspect, verify_pdf, Inspection};

use crate::ses::{SealError, SealKind};
use crate::SigAlg;

/// The /SubFilter of an SM2 seal: /Contents is a DER GB/T 38540 `SES_Signature`.
pub const SES_SUB_FILTER: &str = "elicense.GBT38540.SES";

/// What a caller trusts: the seal CA certificates (DER) and their current CRLs (DER).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Trust anchors: certificates of seal CAs (and of any intermediate CA of SM2 signers).
    pub anchors: Vec<Vec<u8>>,
    /// CRLs applied to every certificate of a path.
    pub crls: Vec<Vec<u8>>,
}

/// A seal's status in the registry that filed it, as the caller knows it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealStatus {
    /// In use.
    Active,
    /// Suspended; `since` when known. A seal used after it was suspended is not valid.
    Suspended {
        /// When the suspension took effect.
        since: Option<OffsetDateTime>,
    },
    /// Revoked: no seal of it is valid any more, whenever it was used.
    Revoked {
        /// When the revocation took effect.
        since: Option<OffsetDateTime>,
    },
    /// The registry does not know the seal (e.g. one filed elsewhere) and no current CRL of
    /// its certificate's issuer is at hand.
    Unknown,
}

impl SealStatus {
    /// `active`, `suspended`, `revoked` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SealStatus::Active => "active",
            SealStatus::Suspended { .. } => "suspended",
            SealStatus::Revoked { .. } => "revoked",
            SealStatus::Unknown => "unknown",
        }
    }
}

/// What was found about one signature of the document.
#[derive(Debug, Clone)]
pub struct SealVerdict {
    /// The signature field's full name.
    pub field: String,
    /// The 0-based page of its widget.
    pub page: Option<usize>,
    /// The seal's id (`esID`), when a seal was found.
    pub seal_id: Option<String>,
    /// The seal's name.
    pub seal_name: Option<String>,
    /// The seal's kind.
    pub kind: Option<SealKind>,
    /// The subject of the signer's certificate (RFC 4514 string), the seal's owner.
    pub owner: Option<String>,
    /// The signer's algorithm.
    pub alg: Option<SigAlg>,
    /// The claimed signing time (`TBS_Sign.timeInfo`, or /M for PAdES).
    pub signed_at: Option<OffsetDateTime>,
    /// The signed bytes run to the end of the file.
    pub covers_whole_document: bool,
    /// Codes of every change in the revisions after this signature's.
    pub later_changes: Vec<String>,
    /// The signature verifies over the signed bytes (and its /ByteRange is sound).
    pub signature_ok: bool,
    /// The seal's maker signature verifies, the seal lists the signer and was within its
    /// validity window (and its maker's certificate valid) at the signing time.
    pub seal_ok: bool,
    /// The signer's and the maker's certificates chain to an anchor now, CRLs applied.
    pub chain_ok: bool,
    /// The seal's status now: from the caller's registry, else from the issuer's CRL.
    pub status_now: Option<SealStatus>,
    /// Stable codes of everything found wrong; empty when valid.
    pub problems: Vec<String>,
    /// No problems.
    pub valid: bool,
}

/// What was found about a document.
#[derive(Debug, Clone)]
pub struct DocVerdict {
    /// Every signature, in field order.
    pub signatures: Vec<SealVerdict>,
    /// Something other than signatures was added after the last signature (or bytes
    /// follow it that are no revision).
    pub modified_after_last: bool,
    /// Codes of the changes after the last signature (`pdf.update.*`, `pdf.trailing_bytes`).
    pub changes_after_last: Vec<String>,
    /// At least one seal, all valid, nothing but signatures after the last.
    pub valid: bool,
}

/// Sealing or reading failed (a bad seal in a readable PDF is a verdict, not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The PDF could not be read or updated; the code is `elicense-pdf`'s (`pdf.*`, `cms.*`).
    #[error(transparent)]
    Pdf(#[from] elicense_pdf::PdfError),
    /// The signing record could not be made (`seal.*`).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// No seal to apply.
    #[error("no seal to apply")]
    NoJobs,
    /// The seal's picture is not a PNG, which the PDF widget needs.
    #[error("the seal's picture is {0:?}, not PNG")]
    PictureNotPng(String),
    /// The signer's key is neither SM2 nor P-256.
    #[error("a {0} key cannot apply a seal to a PDF")]
    UnsupportedKey(String),
}

impl DocError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            DocError::Pdf(e) => e.code(),
            DocError::Seal(e) => e.code(),
            DocError::NoJobs => "doc.no_jobs",
            DocError::PictureNotPng(_) => "doc.picture_not_png",
            DocError::UnsupportedKey(_) => "doc.unsupported_key",
        }
    }
}
