//! The node's seal CA (RFC 5280): a self-signed CA certificate, leaf certificates for seal
//! keys, CRLs; [`validate_chain`] for our own and third-party chains; and certificate
//! requests for keys an outside CA certifies ([`certificate_request`]).
//!
//! Invariants:
//! - Everything we issue is X.509 v3 DER signed with the CA key's algorithm: SM2 keys sign
//!   sm2-with-sm3 (`1.2.156.10197.1.501`, signer ID `1234567812345678`) and their public keys
//!   are id-ecPublicKey with curve `1.2.156.10197.1.301`; P-256 keys sign ecdsa-with-SHA256.
//! - The CA certificate has basicConstraints CA:TRUE (critical), keyUsage keyCertSign|cRLSign
//!   (critical) and a subject key identifier; a leaf has keyUsage digitalSignature|
//!   nonRepudiation (critical; PDF validators want non-repudiation), basicConstraints CA:FALSE,
//!   subject and authority key identifiers. Key identifiers are the leftmost 160 bits of
//!   SHA-256 of the subjectPublicKey (RFC 7093 §2 method 1).
//! - A leaf's subject is `O=<owner>, serialNumber=<owner USCC>, CN=<seal name>`; times are
//!   UTCTime before 2050 (RFC 5280 §4.1.2.5).
//! - [`SealCa`] holds a `Signer`, never a private key of its own: an HSM works.

mod chain;
mod issue;
mod request;

pub use chain::{named_issuer, revocation, validate_chain, ChainError, Revocation};
pub use issue::{pem, CaError, Revoked, SealCa, Subject, Validity};
pub use request::{certificate_info, certificate_request, certifies, CertificateInfo};
