//! The event log as the store keeps it: the leaf format ([`entry`], defined here once), the
//! commitments to uses and their openings ([`opening`]), the check of a leaf against the
//! database ([`check`]), their records, and the [`EventLogStore`] trait.
//!
//! Invariants every back-end keeps:
//! - Every event the store writes is appended to the log in the same transaction as the
//!   event (and the license write that caused it): leaf index = position in the log, with
//!   no gaps, in commit order. A lifecycle event is appended through the lifecycle path
//!   ([`LogEntry::lifecycle`]), a use through the use path ([`LogEntry::commit_use`]), whose
//!   opening is written to `log_openings` in the same transaction.
//! - For a log of `n` leaves the store holds the entry bytes of leaves `0..n`, the hash of
//!   every perfect node of the tree (`log_nodes`, level 0 = leaf hashes) and the frontier
//!   (size and peaks) in one row, so the root is O(1) reads and a proof O(log n) reads.
//! - Stored entries, hashes and openings are never updated or deleted.
//! - No leaf of version 2 carries holder data, free text (purpose, reason), an institution
//!   or any other fact of a use: a use is a salted commitment, a lifecycle leaf names a
//!   reason only as a category, an operator event on a party (institution, account) is a
//!   salted commitment whose opening is in `operator_openings`.
//! - Operator events (`operator_events`) are numbered apart from license events. Their rows
//!   in `log_entries` carry `seq = -op` (minus the operator event's number), so `seq` stays
//!   unique and a license event's `log_index(seq)` never finds one; the leaf itself names
//!   `op`, never the negative key. Like every event, one is appended in the transaction
//!   that stores it and applies its change.

pub mod check;
pub mod entry;
pub mod opening;

use async_trait::async_trait;
use elicense_log::{Frontier, Hash, NodeId};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

pub use check::{check_leaf, check_operator_leaf, LeafMismatch};
pub use entry::{
    EntryV1, LeafState, LifecycleLeaf, LogEntry, OperatorCommitLeaf, OperatorEvent, UseLeaf,
};
pub use opening::{
    commitment, OpeningRecord, OperatorOpeningRecord, UseEvent, COMMITMENT_TAG,
    OPERATOR_COMMITMENT_TAG,
};

/// Lowercase hex SHA-256 of a credential, as in a leaf's `credential_sha256`.
pub fn credential_sha256(credential: &str) -> String {
    hex::encode(Sha256::digest(credential.as_bytes()))
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
    /// The stored openings of the uses with these sequence numbers (those that have one:
    /// lifecycle events and uses logged before commitments have none), by sequence number.
    async fn log_openings(&self, seqs: Vec<i64>) -> Result<Vec<OpeningRecord>>;
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
mod tests;
