//! API keys by which an issuing authority's systems call the node.
//!
//! A key is `elk_<id>_<secret>`; the store keeps the id and the SHA-256 of the whole key, so a
//! database leak reveals no usable key. The secret is shown once, when the key is made.

use std::sync::Arc;

use elicense_store::ApiKeyRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Makes a key for `issuer`; returns the key itself (shown once) and its id.
pub async fn create(node: &Arc<Node>, issuer: &str, label: &str) -> Result<(String, String)> {
    if node.store.issuer(issuer).await?.is_none() {
        return Err(AppError::not_found(
            "issuer.unknown",
            format!("issuer {issuer} is not registered"),
        ));
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let token = format!("elk_{id}_{}", hex::encode(secret));
    node.store
        .put_api_key(ApiKeyRecord {
            id: id.clone(),
            hash: hex::encode(Sha256::digest(token.as_bytes())),
            issuer: issuer.to_string(),
            label: label.to_string(),
            created_at: node.now(),
            revoked_at: None,
        })
        .await?;
    Ok((token, id))
}

/// The key record for a presented key, or `auth.invalid_key`.
pub async fn authenticate(node: &Arc<Node>, token: &str) -> Result<ApiKeyRecord> {
    let invalid = || {
        AppError::new(
            ErrorKind::Unauthorized,
            "auth.invalid_key",
            "the API key is not valid",
        )
    };
    let id = token
        .strip_prefix("elk_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
        .ok_or_else(invalid)?;
    let rec = node.store.api_key(id).await?.ok_or_else(invalid)?;
    let presented = Sha256::digest(token.as_bytes());
    let stored = hex::decode(&rec.hash).map_err(|_| invalid())?;
    // Compare digests in constant time.
    let diff = presented
        .iter()
        .zip(stored.iter())
        .fold(stored.len() ^ presented.len(), |acc, (a, b)| {
            acc | (a ^ b) as usize
        });
    if diff != 0 || rec.revoked_at.is_some_and(|t| t <= node.now()) {
        return Err(invalid());
    }
    Ok(rec)
}
