//! Errors of the key and signature layer.
//!
//! Invariant: an `Err(CryptoError)` means an operation could not be carried out
//! (bad key file, wrong password, a signer that failed) or, for
//! [`crate::Verifier::verify`], that a signature does not verify. Each variant has a
//! stable dotted [`CryptoError::code`] that the API, the CLI and the logs show.

use thiserror::Error;

/// Why a key, signing or signature operation did not succeed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Text that should be base64url (no padding) is not.
    #[error("invalid base64url: {0}")]
    Base64(String),
    /// The signature does not verify with this key and message, or it has the wrong length
    /// or encoding for the algorithm.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// A signature was checked with a verifier (or made with a signer) of another algorithm
    /// than the one named in the header.
    #[error("algorithm mismatch: header says {header}, key is {key}")]
    AlgMismatch {
        /// The algorithm named by the JWS header.
        header: &'static str,
        /// The algorithm of the key.
        key: &'static str,
    },
    /// An encrypted private key file could not be decrypted with the given password.
    #[error("wrong password or corrupted encrypted key")]
    BadPassword,
    /// A key (PEM, DER, JWK) is not well formed or is not a valid point/scalar.
    #[error("malformed key: {0}")]
    MalformedKey(String),
    /// The key is well formed but of a type or curve we do not support.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A signer (a local key, a remote service, an HSM) failed to produce a signature.
    #[error("signer failed: {0}")]
    SignerFailed(String),
    /// Encoding a key (PKCS#8, PEM) failed.
    #[error("key encoding failed: {0}")]
    Encoding(String),
    /// A JWE could not be decrypted or made: malformed, an unsupported `alg`/`enc`, a key
    /// not on the curve, or an authentication tag that does not verify.
    #[error("JWE: {0}")]
    Jwe(String),
    /// An X.509 certificate could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// An SD-JWT issuance request is invalid (see [`crate::sdjwt::SdJwtError`]).
    #[error(transparent)]
    SdJwt(#[from] crate::sdjwt::SdJwtError),
}

impl CryptoError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::Base64(_) => "b64.invalid",
            CryptoError::SignatureInvalid => "signature.invalid",
            CryptoError::AlgMismatch { .. } => "signature.alg_mismatch",
            CryptoError::BadPassword => "key.bad_password",
            CryptoError::MalformedKey(_) => "key.malformed",
            CryptoError::UnsupportedKey(_) => "key.unsupported",
            CryptoError::SignerFailed(_) => "signer.failed",
            CryptoError::Encoding(_) => "key.encoding",
            CryptoError::Jwe(_) => "jwe.invalid",
            CryptoError::Certificate(_) => "x509.invalid",
            CryptoError::SdJwt(e) => e.code(),
        }
    }
}
