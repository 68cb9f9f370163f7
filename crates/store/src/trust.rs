//! What the national hub stores for its signed trust list: the mutual-recognition lists the
//! operator keeps, and the number of the last list it published.
//!
//! Invariants:
//! - A recognition list is keyed by its `id`: [`TrustStore::put_recognition`] inserts or
//!   replaces it whole; [`TrustStore::delete_recognition`] says whether it existed.
//! - [`TrustStore::next_trust_seq`] returns a number greater than every number it returned
//!   before, across restarts (the increment is committed before it returns): two published
//!   lists never share a sequence number.

use async_trait::async_trait;

use crate::error::Result;

/// A mutual-recognition list as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecognitionRecord {
    /// Stable identifier (`yrd`).
    pub id: String,
    /// Name (长三角).
    pub name: String,
    /// Member area codes.
    pub areas: Vec<String>,
    /// License type codes.
    pub types: Vec<String>,
    /// Last change (unix seconds).
    pub updated_at: i64,
}

/// The hub's trust-list inputs and counter.
#[async_trait]
pub trait TrustStore: Send + Sync {
    /// Inserts or replaces a recognition list.
    async fn put_recognition(&self, list: RecognitionRecord) -> Result<()>;
    /// Deletes a recognition list; false if there was none with this id.
    async fn delete_recognition(&self, id: &str) -> Result<bool>;
    /// Every recognition list, by id.
    async fn recognition_lists(&self) -> Result<Vec<RecognitionRecord>>;
    /// The next trust-list sequence number (1 first), committed before it is returned.
    async fn next_trust_seq(&self) -> Result<u64>;
}

pub(crate) fn join(v: &[String]) -> String {
    serde_json::to_string(v).expect("strings serialise")
}

pub(crate) fn split(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| crate::StoreError::Corrupt(format!("recognition: {e}")))
}
