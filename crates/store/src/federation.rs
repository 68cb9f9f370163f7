//! What a node stores about the federation: the nodes it knows (its admitted children and the
//! descendants they report), the replication state of each child's log, the directory of
//! every license of its subtree (the `hub_*` tables; on the national hub, the whole
//! country's index), the outbox of directory entries it passes on to its own parent, and how
//! far its parent has acknowledged them.
//!
//! Invariants:
//! - A child's log is replicated in order: [`FederationStore::fed_receive`] applies a batch
//!   only if the child's stored state (log size and forwarded cursor) is the one the batch
//!   was built on (else `Conflict`, nothing written). The batch's directory entries, the new
//!   state, the nodes and issuers it reports and the outbox rows for the parent are written
//!   in one transaction: a batch is applied entirely or not at all, so a resent batch is
//!   refused and a crash loses nothing.
//! - The outbox is keyed by `(origin, index)` (the owning node and its log index): an entry
//!   enters it at most once; its `seq` is the order in which the parent receives it.
//! - Directory writes are upserts keyed by `(lineage, version)`: applying an entry twice
//!   leaves the same row. A status change is keyed by `(lineage, version, seq)`, `seq` being
//!   the origin's log index.
//! - The directory holds no personal data in clear: a holder is a keyed hash whose key the
//!   hub distributes.

use async_trait::async_trait;
use elicense_core::lifecycle::Status;
use elicense_log::Frontier;

use crate::error::Result;

/// A node this node knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FedNodeRecord {
    /// Base URL (the key).
    pub url: String,
    /// GB/T 2260 code.
    pub area: String,
    /// `county`, `city`, `province`, `national`.
    pub level: String,
    /// The node's parent URL.
    pub parent: Option<String>,
    /// The node's description as the trust list carries it (JSON).
    pub document: String,
    /// `None`: a direct child the operator admitted; `Some(child)`: a descendant reported by
    /// that direct child.
    pub via: Option<String>,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

/// The replication state of one child's log at its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildState {
    /// The child's log replicated so far (size and peaks).
    pub frontier: Frontier,
    /// The next outbox `seq` of the child that this node expects.
    pub forwarded_next: i64,
    /// The child's last checkpoint this node accepted (signed note text).
    pub checkpoint: Option<String>,
}

impl Default for ChildState {
    fn default() -> Self {
        ChildState {
            frontier: Frontier::new(),
            forwarded_next: 0,
            checkpoint: None,
        }
    }
}

/// One license version's entry in the directory, from one lifecycle event of its owning node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The owning node's base URL.
    pub origin: String,
    /// The event's index in the owning node's log.
    pub index: u64,
    pub identifier: String,
    /// `type.issuer.serial`.
    pub lineage: String,
    pub version: i32,
    pub type_code: String,
    /// The issuer's USCC.
    pub issuer: String,
    /// `issue` or an action code.
    pub kind: String,
    /// The version's status right after the event.
    pub status: Status,
    /// Unix seconds.
    pub at: i64,
    /// The keyed hash of the holder (the hub's key).
    pub holder_key: Vec<u8>,
}

/// A batch from a child, applied in one transaction by [`FederationStore::fed_receive`].
#[derive(Debug, Clone)]
pub struct ReceivedBatch {
    /// The child's base URL.
    pub child: String,
    /// The state the batch was built on (`Conflict` unless it is the stored one).
    pub base: ChildState,
    /// The state after the batch.
    pub next: ChildState,
    /// The entries: from the child's own log and forwarded from its descendants.
    pub entries: Vec<DirectoryEntry>,
    /// Nodes the child reports (itself and its descendants), `via` set to the child.
    pub nodes: Vec<FedNodeRecord>,
    /// Issuers the child reports: (code, owning node, description as JSON).
    pub issuers: Vec<(String, String, String)>,
    /// Whether the entries also go to the outbox (this node has a parent).
    pub forward: bool,
}

impl ReceivedBatch {
    /// `Ok` when `stored` is the state the batch was built on, else the `Conflict` that refuses
    /// it (both back-ends decide with this).
    pub fn check_base(&self, stored: &ChildState) -> Result<()> {
        if *stored == self.base {
            return Ok(());
        }
        Err(crate::StoreError::Conflict(format!(
            "the state of {} moved: log size {}, forwarded {}",
            self.child,
            stored.frontier.size(),
            stored.forwarded_next
        )))
    }
}

/// An outbox row: a directory entry to pass on to this node's parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Order of receipt.
    pub seq: i64,
    pub entry: DirectoryEntry,
}

/// How far this node's parent has acknowledged what this node sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushState {
    /// Size of this node's own log the parent holds.
    pub log_size: u64,
    /// The next outbox `seq` the parent expects.
    pub forwarded_next: i64,
}

/// The federation's storage (see the module invariants).
#[async_trait]
pub trait FederationStore: Send + Sync {
    /// Stores or replaces a node by URL.
    async fn fed_put_node(&self, node: FedNodeRecord) -> Result<()>;
    /// Every known node, by URL.
    async fn fed_nodes(&self) -> Result<Vec<FedNodeRecord>>;
    /// The replication state of a child (default when nothing was received yet).
    async fn fed_child_state(&self, child: &str) -> Result<ChildState>;
    /// Applies a batch (see the module invariants); `Conflict` if the stored state is not
    /// `batch.base`.
    async fn fed_receive(&self, batch: ReceivedBatch) -> Result<()>;
    /// Outbox rows with `seq ≥ from`, oldest first, at most `limit`.
    async fn fed_outbox(&self, from: i64, limit: u32) -> Result<Vec<OutboxEntry>>;
    /// Issuers reported by children: (code, owning node, description as JSON).
    async fn fed_issuers(&self) -> Result<Vec<(String, String, String)>>;
    /// How far the parent has acknowledged.
    async fn fed_push_state(&self) -> Result<PushState>;
    /// Records the parent's acknowledgement.
    async fn fed_set_push_state(&self, state: PushState) -> Result<()>;
    /// The directory entry of a license version.
    async fn hub_license(&self, lineage: &str, version: i32) -> Result<Option<DirectoryEntry>>;
    /// The directory entries (current rows) of every license version of a holder.
    async fn hub_holder_licenses(&self, holder_key: &[u8]) -> Result<Vec<DirectoryEntry>>;
}

/// A status as the `hub_licenses.status` smallint of PostgreSQL: its place in
/// [`Status::ALL`].
pub fn status_number(s: Status) -> i16 {
    Status::ALL
        .iter()
        .position(|x| *x == s)
        .expect("every status is in ALL") as i16
}

/// The status of a `hub_licenses.status` smallint.
pub fn status_from_number(n: i16) -> Result<Status> {
    usize::try_from(n)
        .ok()
        .and_then(|i| Status::ALL.get(i).copied())
        .ok_or_else(|| crate::StoreError::Corrupt(format!("hub status number {n}")))
}
