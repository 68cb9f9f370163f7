//! Electronic seals (电子印章) for elicense: the pure, storage-free core.
//!
//! - [`ses`]: GB/T 38540-2020 (version 4) structures in DER — the seal (`SESeal`, made and
//!   signed by a seal maker) and the signing record (`SES_Signature`, a seal applied to a
//!   document hash by a signer whose certificate the seal lists) — with strict parsing and a
//!   verification verdict in the order independent verifiers use.
//! - [`ca`]: the node's seal CA (self-signed X.509 CA, leaf certificates for seal keys,
//!   CRLs) and RFC 5280 chain validation of our own and third-party chains.
//! - [`document`]: seals in PDF documents — applying SM2 (`SES_Signature`) and ES256 (PAdES)
//!   seals as incremental updates, and verifying every seal of a PDF.
//!
//! Both SM2-with-SM3 (signer ID `1234567812345678`) and ECDSA P-256 with SHA-256 are
//! supported; keys sign through `elicense-crypto`'s [`Signer`](elicense_crypto::Signer), so a
//! remote key or an HSM works too.
//!
//! Invariants across the crate: no clock is read (callers pass the time), nothing is stored,
//! bad input never panics and every error has a stable `code()`; what we encode is DER, and
//! what we parse must be DER (a re-encoding differs from the input → refused).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alg;
pub mod ca;
mod cert;
pub mod document;
pub mod ses;
mod timeconv;

pub use alg::{data_hash, SigAlg};
