//! API keys by which an issuing authority's or an institution's systems call the node.
//!
//! A key is `<prefix>_<id>_<secret>` (`elk` for issuers, `eli` for institutions); the store
//! keeps the id and the SHA-256 of the whole key, so a database leak reveals no usable key.
//! The secret is shown once, when the key is made.

use std::sync::Arc;

use elicense_store::ApiKeyRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Prefix of issuer keys.
pub const ISSUER_PREFIX: &str = "elk";
/// Prefix of institution keys.
pub const INSTITUTION_PREFIX: &str = "eli";

/// A new key: the token to hand out once, and the record to store.
pub(crate) fn new_key(
    prefix: &str,
    id: [u8; 6],
    secret: [u8; 20],
    owner: &str,
    label: &str,
    now: i64,
) -> (String, ApiKeyRecord) {
    let id = hex::encode(id);
    let token = format!("{prefix}_{id}_{}", hex::encode(secret));
    let record = ApiKeyRecord {
        id,
        hash: hex::encode(Sha256::digest(token.as_bytes())),
        issuer: owner.to_string(),
        label: label.to_string(),
        created_at: now,
        revoked_at: None,
    };
    (token, record)
}

/// A key with a random id and secret.
pub(crate) fn random_key(
    prefix: &str,
    owner: &str,
    label: &str,
    now: i64,
) -> (String, ApiKeyRecord) {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    new_key(prefix, id, secret, owner, label, now)
}

pub(crate) fn invalid_key() -> AppError {
    AppError::new(
        ErrorKind::Unauthorized,
        "auth.invalid_key",
        "the API key is not valid",
    )
}

/// The id part of a presented token with the expected prefix.
pub(crate) fn key_id<'a>(prefix: &str, token: &'a str) -> Result<&'a str> {
    token
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id)
        .ok_or_else(invalid_key)
}

/// Checks a presented token against its stored record: same digest (compared in constant
/// time), not revoked.
pub(crate) fn check(token: &str, rec: &ApiKeyRecord, now: i64) -> Result<()> {
    let presented = Sha256::digest(token.as_bytes());
    let stored = hex::decode(&rec.hash).map_err(|_| invalid_key())?;
    let diff = presented
        .iter()
        .zip(stored.iter())
        .fold(stored.len() ^ presented.len(), |acc, (a, b)| {
            acc | (a ^ b) as usize
        });
    if diff != 0 || rec.revoked_at.is_some_and(|t| t <= now) {
        return Err(invalid_key());
    }
    Ok(())
}

/// Makes a key for `issuer`; returns the key itself (shown once) and its id.
pub async fn create(node: &Arc<Node>, issuer: &str, label: &str) -> Result<(String, String)> {
    if node.store.issuer(issuer).await?.is_none() {
        return Err(AppError::not_found(
            "issuer.unknown",
            format!("issuer {issuer} is not registered"),
        ));
    }
    let (token, record) = random_key(ISSUER_PREFIX, issuer, label, node.now());
    let id = record.id.clone();
    node.store.put_api_key(record).await?;
    Ok((token, id))
}

/// The key record for a presented issuer key, or `auth.invalid_key`.
pub async fn authenticate(node: &Arc<Node>, token: &str) -> Result<ApiKeyRecord> {
    let id = key_id(ISSUER_PREFIX, token)?;
    let rec = node.store.api_key(id).await?.ok_or_else(invalid_key)?;
    check(token, &rec, node.now())?;
    Ok(rec)
}
