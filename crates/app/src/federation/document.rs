//! The node document published at `GET /.well-known/elicense-node`: who the node is, where
//! it stands in the federation and which keys speak for it.
//!
//! Invariants: `url` is the node's base URL; `area`, `level` and `parent` are null exactly
//! for a standalone node, `parent` also for the national hub; `keys` holds the public node
//! key(s) that sign node-to-node requests (their `kid` is the RFC 9421 `keyid`);
//! `witness_key` is the C2SP vkey of the key that co-signs children's checkpoints;
//! `log_origin` and `log_keys` say how to check the node's own checkpoints; `seal_cas` holds
//! the certificates of the node's seal CAs (made on first use), which the trust list carries
//! so that every member trusts the seals of every other and knows whom to ask for their status.

use elicense_core::NodeLevel;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::node::Node;

/// The node document.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodeDocument {
    /// The node's base URL.
    pub url: String,
    /// GB/T 2260 division code (`100000` for the national hub); null for a standalone node.
    pub area: Option<String>,
    /// `county`, `city`, `province` or `national`; null for a standalone node.
    #[schema(value_type = Option<String>)]
    pub level: Option<NodeLevel>,
    /// The parent node's base URL; null for the national hub and a standalone node.
    pub parent: Option<String>,
    /// JWKS of the node's request-signing keys (Ed25519; `kid` = RFC 7638 thumbprint).
    #[schema(value_type = Object)]
    pub keys: serde_json::Value,
    /// The witness key as a C2SP vkey: `<name>+<hex key ID>+<base64(0x04 || key)>`.
    pub witness_key: String,
    /// The origin line of the node's transparency log.
    #[serde(default)]
    pub log_origin: String,
    /// The log's note verifier keys (C2SP vkeys): Ed25519, then SM2.
    #[serde(default)]
    pub log_keys: Vec<String>,
    /// The node's seal CA certificates by algorithm (`sm2`, `es256`): base64 of the DER.
    #[serde(default)]
    pub seal_cas: std::collections::BTreeMap<String, String>,
}

/// The document of `node` (its seal CAs made if they are not yet).
pub async fn node_document(node: &Node) -> Result<NodeDocument> {
    let id = node.config.federation.identity();
    let keys = node.node_keys.get()?;
    let jwks = node.node_keys.jwks()?;
    Ok(NodeDocument {
        url: node.config.base_url.clone(),
        area: id.map(|i| i.area().to_string()),
        level: id.map(|i| i.level()),
        parent: id.and_then(|i| i.parent()).map(|p| p.to_string()),
        keys: serde_json::to_value(jwks).map_err(|e| AppError::internal(e.to_string()))?,
        witness_key: keys.witness_key.vkey(),
        log_origin: node.log.origin().to_owned(),
        log_keys: node
            .log
            .verifier_keys()?
            .iter()
            .map(ToString::to_string)
            .collect(),
        // The federation does not stop for the seals: a node whose seal CAs cannot be had now
        // (the store down, keys under another password) publishes none, and its seals are
        // not trusted elsewhere until they can.
        seal_cas: crate::seals::ca_certificates(node)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "seal CAs left out of the node document"))
            .unwrap_or_default(),
    })
}
