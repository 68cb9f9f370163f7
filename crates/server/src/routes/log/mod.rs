//! The node's event log as a C2SP tlog-tiles log (`/log/checkpoint`, `/log/tile/...`), its
//! note verifier keys (`/.well-known/elicense-log`), JSON proof endpoints, and the openings
//! of uses' commitments for holders and issuers.

pub mod checkpoint;
pub mod consistency;
pub mod inclusion;
pub mod openings;
pub mod tile;
pub mod wellknown;

use serde::Serialize;

/// A proof as a list of standard-base64 SHA-256 hashes (RFC 9162 order).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProofBody {
    pub hashes: Vec<String>,
}
