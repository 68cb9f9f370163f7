//! The event log as the store keeps it: the leaf format (defined here, once), its records,
//! and the [`EventLogStore`] trait.
//!
//! Invariants every back-end keeps:
//! - Every event the store writes is appended to the log in the same transaction as the
//!   event (and the license write that caused it): leaf index = position in the log, with
//!   no gaps, in commit order.
//! - For a log of `n` leaves the store holds the entry bytes of leaves `0..n`, the hash of
//!   every perfect node of the tree (`log_nodes`, level 0 = leaf hashes) and the frontier
//!   (size and peaks) in one row, so the root is O(1) reads and a proof O(log n) reads.
//! - Stored entries and hashes are never updated or deleted.

use async_trait::async_trait;
use elicense_log::{Frontier, Hash, NodeId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// One log entry: the public facts of one event. The leaf of the Merkle tree is
/// [`LogEntry::to_bytes`], JSON with the fields in this order, no whitespace.
///
/// Holder data never enters the log (the credential is only present as its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// Format version, 1.
    pub v: u8,
    /// The event's sequence number in the node's store.
    pub event: i64,
    /// Identifier of the license version the event is about.
    pub identifier: String,
    /// `issue` or an action code (`suspend`, `revoke`, ...).
    pub kind: String,
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
    pub reason: Option<String>,
    /// Status of the license version `identifier` right after the event.
    pub status: String,
    pub pledged: bool,
    /// Lowercase hex SHA-256 of the credential (SD-JWT VC as issued) of `identifier`.
    pub credential_sha256: String,
}

impl LogEntry {
    /// The entry of a stored event about a license version with this resulting state.
    pub fn new(
        event: &crate::records::EventRecord,
        status: &str,
        pledged: bool,
        credential: &str,
    ) -> Self {
        LogEntry {
            v: 1,
            event: event.seq,
            identifier: event.identifier.clone(),
            kind: event.kind.clone(),
            actor: event.actor.clone(),
            at: event.at,
            reason: event.reason.clone(),
            status: status.to_owned(),
            pledged,
            credential_sha256: credential_sha256(credential),
        }
    }

    /// The canonical bytes (the Merkle leaf).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a LogEntry always serialises")
    }

    /// Parses leaf bytes; accepts only the canonical encoding.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let e: LogEntry = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("log entry: {e}")))?;
        if e.to_bytes() != bytes {
            return Err(StoreError::Corrupt("log entry is not canonical".into()));
        }
        Ok(e)
    }
}

/// Lowercase hex SHA-256 of a credential, as in [`LogEntry::credential_sha256`].
pub fn credential_sha256(credential: &str) -> String {
    Sha256::digest(credential.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One stored log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntryRecord {
    /// Leaf index.
    pub index: u64,
    /// The event's sequence number.
    pub seq: i64,
    /// The leaf bytes ([`LogEntry::to_bytes`]).
    pub data: Vec<u8>,
}

/// A signed checkpoint the node published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub size: u64,
    /// The signed note, as served.
    pub note: String,
    pub created_at: i64,
}

/// The event log: read side (the append happens inside the license writes).
#[async_trait]
pub trait EventLogStore: Send + Sync {
    /// Size and peaks of the current tree, read together.
    async fn log_frontier(&self) -> Result<Frontier>;
    /// Entries `start..end` (clamped to the log), in order.
    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<LogEntryRecord>>;
    /// Hashes of perfect nodes, in the order asked; `NotFound` if one is not stored.
    async fn log_hashes(&self, nodes: Vec<NodeId>) -> Result<Vec<Hash>>;
    /// Hashes of the stored nodes at `level` with index in `start..end`, in order.
    async fn log_level(&self, level: u8, start: u64, end: u64) -> Result<Vec<Hash>>;
    /// Leaf index of the event with this sequence number.
    async fn log_index(&self, seq: i64) -> Result<Option<u64>>;
    /// Keeps a signed checkpoint (a second one of the same size is ignored).
    async fn put_checkpoint(&self, cp: CheckpointRecord) -> Result<()>;
    /// The checkpoint of the largest size stored.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>>;
}

/// Encodes frontier peaks for the `log_state` row.
pub(crate) fn encode_peaks(f: &Frontier) -> Vec<u8> {
    f.peaks().iter().flat_map(|h| h.0).collect()
}

/// Decodes the `log_state` row.
pub(crate) fn decode_frontier(size: i64, peaks: &[u8]) -> Result<Frontier> {
    let size = u64::try_from(size).map_err(|_| StoreError::Corrupt("log size".into()))?;
    if !peaks.chunks_exact(32).remainder().is_empty() {
        return Err(StoreError::Corrupt("log peaks".into()));
    }
    let peaks = peaks
        .chunks_exact(32)
        .map(|c| Hash::from_slice(c).expect("32 bytes"))
        .collect();
    Frontier::from_peaks(size, peaks).map_err(|e| StoreError::Corrupt(format!("log state: {e}")))
}

pub(crate) fn hash_from(bytes: &[u8]) -> Result<Hash> {
    Hash::from_slice(bytes).ok_or_else(|| StoreError::Corrupt("stored hash length".into()))
}

pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::NotFound(format!("{what} {v} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_bytes_are_canonical() {
        let ev = crate::records::EventRecord {
            seq: 7,
            identifier: "ID".into(),
            kind: "revoke".into(),
            actor: "A".into(),
            at: 5,
            reason: Some("原因 \"q\"".into()),
            detail: "{\"holder\":\"secret\"}".into(),
        };
        let e = LogEntry::new(&ev, "revoked", false, "cred");
        let b = e.to_bytes();
        assert_eq!(
            String::from_utf8(b.clone()).unwrap(),
            format!(
                "{{\"v\":1,\"event\":7,\"identifier\":\"ID\",\"kind\":\"revoke\",\"actor\":\"A\",\
                 \"at\":5,\"reason\":\"原因 \\\"q\\\"\",\"status\":\"revoked\",\"pledged\":false,\
                 \"credential_sha256\":\"{}\"}}",
                credential_sha256("cred")
            )
        );
        assert_eq!(LogEntry::parse(&b).unwrap(), e);
        let spaced = String::from_utf8(b).unwrap().replace(",", ", ");
        assert!(LogEntry::parse(spaced.as_bytes()).is_err());
        assert!(!String::from_utf8(e.to_bytes()).unwrap().contains("secret"));
    }
}
