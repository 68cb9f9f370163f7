//! GB/T 38540-2020 electronic seals: the seal a maker makes (`SESeal`) and the signing record
//! a signer makes with it over a document's hash (`SES_Signature`).
//!
//! Flow: [`Seal::make`] (seal data + the maker's key and certificate) → [`Seal::to_der`];
//! [`sign_data`] (a seal + the signer's key and certificate + a data hash) →
//! [`SealSignature::to_der`]; [`verify_signature`] → a [`Verdict`].
//!
//! Invariants:
//! - Only version 4 is read or written; reading is strict: DER only (a re-encoding that
//!   differs from the input is refused), no trailing bytes, a GM/T 0031 (v1) structure is
//!   named as such, and every error has a stable code ([`SealError::code`]).
//! - `Seal::from_der(s.to_der()) == s` and the re-encoding is byte for byte the input.
//! - The maker signs the DER of `SES_SealInfo`, the signer the DER of `TBS_Sign`, both with
//!   the key's algorithm (SM2-with-SM3, signer ID `1234567812345678`, or ECDSA-with-SHA256);
//!   signature values are DER `SEQUENCE { r, s }` in the BIT STRING.
//! - Verification is a verdict, not an error: [`verify_signature`] returns `Err` only when
//!   the record cannot be read, and otherwise every failed check as a [`Problem`], in the
//!   order independent verifiers use. Certificate chains are not checked here: run
//!   [`crate::ca::validate_chain`] on the maker's and the signer's certificates.

pub mod asn1;
mod error;
mod seal;
mod signature;
mod strict;

pub use error::{Problem, SealError};
pub use seal::{CertDigest, CertList, Picture, Seal, SealInfo, SealKind};
pub use signature::{sign_data, verify_signature, SealSignature, Verdict};
