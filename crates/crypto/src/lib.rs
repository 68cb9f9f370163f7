//! Cryptography for elicense: the [`Signer`]/[`Verifier`] seams with SM2-with-SM3,
//! Ed25519 and ES256 back-ends, encrypted key files, JWKs, JWS compact serialization,
//! SD-JWT (RFC 9901, SD-JWT VC) and the IETF Token Status List.
//!
//! Invariants across the crate: randomness is always injected (no global RNG), no clock
//! is read (callers pass `now` as unix seconds), private keys never appear in `Debug`
//! output, and verification distinguishes an error (`Err`: the input could not be
//! checked) from a verdict (a returned value listing problems).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alg;
pub mod b64;
mod backend;
mod error;
mod jwk;
pub mod keyfile;
mod keypair;
mod pubkey;
mod signer;

pub mod jwe;
pub mod jws;
pub mod sdjwt;
pub mod status_list;
pub mod x509;

pub use alg::{Alg, UnknownAlg, SM2_DEFAULT_SIGNER_ID};
pub use backend::implementation;
pub use error::CryptoError;
pub use jwk::{Jwk, Jwks};
pub use keypair::KeyPair;
pub use signer::{Signer, Verifier};
