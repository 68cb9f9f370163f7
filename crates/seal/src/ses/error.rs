//! Errors (we could not make or read a seal) and problems (we read it and it does not hold).
//!
//! Invariant: [`SealError`] never says "this signature is bad": a signing record that parses
//! gets a [`super::Verdict`] listing [`Problem`]s. Each variant has a stable `code()`.

use thiserror::Error;

/// A seal or signing record could not be made or read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SealError {
    /// The bytes are not a DER encoding of the structure (truncated, wrong tags, BER, or a
    /// field of the wrong type).
    #[error("not a DER-encoded GB/T 38540 structure: {0}")]
    BadDer(String),
    /// A complete structure is followed by more bytes.
    #[error("{0} trailing bytes after the structure")]
    TrailingBytes(usize),
    /// The structure has the shape of GM/T 0031-2014 (version 1): a seal of two elements or a
    /// signing record of two elements.
    #[error("a GM/T 0031-2014 (v1) structure; only GB/T 38540 version 4 is read")]
    GmT0031,
    /// The header's or `TBS_Sign`'s version is not 4.
    #[error("version {0}, expected 4")]
    WrongVersion(i64),
    /// The header's ID is not `ES`.
    #[error("header ID {0:?}, expected \"ES\"")]
    BadHeader(String),
    /// A value is out of range: an unknown certificate list type, a negative picture size, a
    /// non-ASCII identifier, an empty certificate list, a validity that ends before it starts.
    #[error("invalid value: {0}")]
    BadValue(String),
    /// A signature algorithm other than SM2-with-SM3 and ECDSA-with-SHA256, or a key of
    /// another algorithm than the one named.
    #[error("unsupported or mismatched algorithm: {0}")]
    UnsupportedAlg(String),
    /// A certificate (the maker's or the signer's) does not parse or has an unsupported key.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// Signing: the signer's certificate is not in the seal's certificate list.
    #[error("the signer's certificate is not one the seal lists")]
    SignerNotInSeal,
    /// The signer (key, remote service, HSM) failed.
    #[error("signer failed: {0}")]
    Signer(#[from] elicense_crypto::CryptoError),
}

impl SealError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            SealError::BadDer(_) => "seal.bad_der",
            SealError::TrailingBytes(_) => "seal.trailing_bytes",
            SealError::GmT0031 => "seal.gmt0031_v1",
            SealError::WrongVersion(_) => "seal.wrong_version",
            SealError::BadHeader(_) => "seal.bad_header",
            SealError::BadValue(_) => "seal.bad_value",
            SealError::UnsupportedAlg(_) => "seal.unsupported_alg",
            SealError::BadCertificate(_) => "seal.bad_certificate",
            SealError::SignerNotInSeal => "seal.signer_not_in_seal",
            SealError::Signer(_) => "seal.signer_failed",
        }
    }
}

pub(crate) fn bad_der(e: impl std::fmt::Display) -> SealError {
    SealError::BadDer(e.to_string())
}

/// One failed check of a signing record, in the order verifiers run them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// (1) The signer's signature over `TBS_Sign` does not verify with the signer's
    /// certificate (or the certificate's key is not of the named algorithm).
    SignatureInvalid,
    /// (2) The signer's certificate is not in the seal's certificate list (nor, for a digest
    /// list, does its digest match one).
    SignerNotInSeal,
    /// (3) The maker's signature over `SES_SealInfo` does not verify with the maker's
    /// certificate.
    MakerSignatureInvalid,
    /// (4) The maker's certificate was not valid at the signing time.
    MakerCertNotValid,
    /// (4) The signing time is outside the seal's validity window.
    SealNotValid,
    /// (5) The signer's certificate was not valid at the signing time.
    SignerCertNotValid,
    /// (5) The signing time claimed is after the time of verification.
    SignedInFuture,
    /// (6) The data hash is not the one expected for the document.
    DataHashMismatch,
}

impl Problem {
    /// The stable machine code of this problem.
    pub fn code(self) -> &'static str {
        match self {
            Problem::SignatureInvalid => "seal.signature_invalid",
            Problem::SignerNotInSeal => "seal.signer_not_in_seal",
            Problem::MakerSignatureInvalid => "seal.maker_signature_invalid",
            Problem::MakerCertNotValid => "seal.maker_cert_not_valid",
            Problem::SealNotValid => "seal.outside_validity",
            Problem::SignerCertNotValid => "seal.signer_cert_not_valid",
            Problem::SignedInFuture => "seal.signed_in_future",
            Problem::DataHashMismatch => "seal.data_hash_mismatch",
        }
    }
}
