//! Selective Disclosure for JWTs (RFC 9901) as used by SD-JWT VC.
//!
//! The life of a credential: [`issue`] (or [`prepare`] + [`PreparedSdJwt::complete`]
//! for a remote signer) → the holder's [`present`] and optional [`add_key_binding`] →
//! the verifier's [`parse`] (`&str` → [`Parsed`]) and [`Parsed::verify`]
//! (→ [`Verified`]). Invariants: digests are SHA-256 (`_sd_alg` `sha-256`); `Err` from
//! this module means the input could not be read or checked, while every failed check
//! is a [`Problem`] in [`Verified::problems`]; a credential is valid only when that list
//! is empty. This layer does not judge the header `typ` nor status; callers do.

mod disclosure;
mod issue;
mod parse;
mod present;
mod verify;

pub use disclosure::Disclosure;
pub use issue::{issue, issue_with_x5c, prepare, prepare_with_x5c, Issuance, PreparedSdJwt};
pub use parse::{parse, Parsed, MAX_LEN};
pub use present::{add_key_binding, key_binding_prepare, present};
pub use verify::{KbPolicy, Problem, Verified};

use thiserror::Error;

use crate::jws::JwsError;

/// The only `_sd_alg` we produce and accept.
pub const SD_ALG: &str = "sha-256";
/// Header `typ` of an issued SD-JWT VC.
pub const TYP_SD_JWT_VC: &str = "dc+sd-jwt";
/// Header `typ` of a key-binding JWT.
pub const TYP_KB_JWT: &str = "kb+jwt";

/// Why an SD-JWT could not be read or built.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdJwtError {
    /// Not of the form `<jwt>~<disclosure>~…~[<kb-jwt>]`, or the payload's `_sd`/`...`
    /// structure is not as RFC 9901 defines, or nesting is too deep.
    #[error("malformed SD-JWT: {0}")]
    Malformed(String),
    /// A disclosure is not base64url of a JSON array `[salt, name, value]` or
    /// `[salt, value]` with string salt and name, or names a reserved claim.
    #[error("bad disclosure: {0}")]
    BadDisclosure(String),
    /// The input exceeds [`MAX_LEN`] bytes.
    #[error("SD-JWT of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The issuer-signed JWT is not a valid compact JWS (code of the inner error).
    #[error("issuer JWT: {0}")]
    Jws(JwsError),
    /// The trailing key-binding JWT is not a valid compact JWS.
    #[error("key-binding JWT: {0}")]
    KbJwt(JwsError),
    /// A claim name given to [`present`] occurs nowhere in the credential.
    #[error("no claim named {0:?} in the credential")]
    UnknownClaim(String),
    /// An [`Issuance`] is inconsistent (a selectively disclosable claim is also plain,
    /// given twice, or uses a reserved name).
    #[error("bad issuance: {0}")]
    BadIssuance(String),
}

impl SdJwtError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            SdJwtError::Malformed(_) => "sdjwt.malformed",
            SdJwtError::BadDisclosure(_) => "sdjwt.bad_disclosure",
            SdJwtError::TooLarge(_) => "sdjwt.too_large",
            SdJwtError::Jws(e) => e.code(),
            SdJwtError::KbJwt(_) => "kb.malformed",
            SdJwtError::UnknownClaim(_) => "sdjwt.unknown_claim",
            SdJwtError::BadIssuance(_) => "sdjwt.bad_issuance",
        }
    }
}

/// base64url(SHA-256(ascii)): the digest of a disclosure and the KB-JWT `sd_hash`.
pub fn sha256_b64(ascii: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::b64::encode(&Sha256::digest(ascii.as_bytes()))
}
