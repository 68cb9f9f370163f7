//! The node's event log as a C2SP tlog-tiles log (`/log/checkpoint`, `/log/tile/...`), its
//! note verifier keys (`/.well-known/elicense-log`) and JSON proof endpoints.

pub mod checkpoint;
pub mod consistency;
pub mod inclusion;
pub mod tile;
pub mod wellknown;

use serde::Serialize;

/// A proof as a list of standard-base64 SHA-256 hashes (RFC 9162 order).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProofBody {
    pub hashes: Vec<String>,
}
