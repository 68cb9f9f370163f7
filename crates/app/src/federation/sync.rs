//! Upward sync (应归尽归): every member node with a parent pushes to it, in order, its own
//! log (the lifecycle leaves become directory entries at the parent, the holder's keyed
//! hash travelling beside each leaf) and the directory entries its own children sent it; the
//! parent applies them to its directory (the `hub_*` tables) and passes them on. The
//! national hub's directory is thus the whole country's index, provably derived from every
//! node's log.
//!
//! The protocol (`POST /federation/v1/sync`, signed by the child's node key, RFC 9421; the
//! state `GET /federation/v1/sync`; docs/FEDERATION.md):
//! - the child sends leaves `[from, from + n)` of its log with a checkpoint it signed of
//!   exactly `from + n` leaves; the parent appends the leaves' hashes to the frontier it
//!   keeps of the child's log and accepts the batch only if the root it gets is the
//!   checkpoint's (`federation.fork` otherwise: the child rewrote what it had sent);
//! - the child sends its outbox rows `[from, next)`; they were checked by the child
//!   against their origin's checkpoints;
//! - `from` must be where the parent stands (its stored state), else `federation.out_of_order`
//!   (409) and nothing is written: the child asks the state and resumes there. The parent
//!   writes a batch and its new state in one transaction, and the child records the parent's
//!   answer after it: a batch is never lost (resent until acknowledged) and never applied
//!   twice (a resent batch no longer starts where the parent stands).
//! - The push loop ([`run`]) retries with exponential back-off (1 s to 60 s) while the
//!   parent is down and starts again at once when the log grows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use elicense_core::holder::HolderCode;
use elicense_core::lifecycle::Status;
use elicense_core::{EventKind, Identifier};
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::{leaf_hash, Frontier, VerifiedCheckpoint};
use elicense_store::federation::{ChildState, DirectoryEntry, PushState, ReceivedBatch};
use elicense_store::{LogEntry, StoreError};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::peer::{self, document_of, node_record};
use super::trust_list::TrustedNode;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The sync endpoint (POST a batch, GET the state).
pub const SYNC_PATH: &str = "/federation/v1/sync";
/// The endpoint that gives an admitted child the hub's holder-hash key.
pub const HOLDER_KEY_PATH: &str = "/federation/v1/holder-key";
/// Most leaves (and most outbox rows) in one batch.
pub const BATCH: u64 = 2_000;
/// How long the push loop waits, with nothing to push, before it looks again.
pub const IDLE: Duration = Duration::from_millis(500);
/// The file that keeps the holder-hash key in a data dir.
pub const HOLDER_KEY_FILE: &str = "federation-holder.key";

/// A batch from a child.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// The sender's base URL (must be the node whose key signed the request).
    pub node: String,
    pub log: LogBatch,
    pub forwarded: ForwardBatch,
    /// The sender and every node under it, when they changed.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub nodes: Option<Vec<TrustedNode>>,
    /// The issuers of the sender and of every node under it (trust-list form), when changed.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub issuers: Option<Vec<serde_json::Value>>,
}

/// Leaves of the sender's own log.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBatch {
    /// Index of the first leaf.
    pub from: u64,
    /// The sender's signed checkpoint of exactly `from + leaves.len()` leaves (none when no
    /// leaves are sent).
    pub checkpoint: Option<String>,
    /// The leaves (canonical JSON text).
    pub leaves: Vec<String>,
    /// Beside each leaf, the keyed hash of its license's holder (hex), for a lifecycle leaf.
    pub holders: Vec<Option<String>>,
}

/// Directory entries the sender received from its own children.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardBatch {
    /// The sender's outbox position of the first entry.
    pub from: i64,
    /// The position after the last entry.
    pub next: i64,
    pub entries: Vec<WireEntry>,
}

/// A directory entry on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WireEntry {
    /// The owning node's base URL.
    pub origin: String,
    /// The event's index in the owning node's log.
    pub index: u64,
    pub identifier: String,
    pub kind: String,
    #[schema(value_type = String)]
    pub status: Status,
    pub at: i64,
    /// Keyed hash of the holder, hex.
    pub holder: String,
}

/// Where the parent stands for a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SyncState {
    /// Leaves of the child's log the parent holds.
    pub log_size: u64,
    /// The child's next outbox position the parent expects.
    pub forwarded_next: i64,
}

/// The federation state of a node in memory: the holder-hash key, what was last reported,
/// the push loop's wake-up, the locations learned (counters are on `/metrics`).
#[derive(Default)]
pub struct FederationState {
    holder_key: tokio::sync::OnceCell<[u8; 32]>,
    /// What the node last reported of nodes and issuers (a hash), to send them on change.
    reported: std::sync::Mutex<Option<[u8; 32]>>,
    /// Wakes the push loop (the log grew).
    pub wake: tokio::sync::Notify,
    /// Owners of licenses learned from other nodes.
    pub locations: super::directory::LocationCache,
    /// Accounts' licenses at other nodes (one wallet across regions).
    pub wallets: super::wallet::RemoteWalletCache,
    /// When a lookup last fetched the trust list for a node it did not know (Unix seconds).
    pub forced_trust_refresh: std::sync::atomic::AtomicI64,
}

fn bad(code: &'static str, msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, msg.into())
}

fn out_of_order(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Conflict, "federation.out_of_order", msg.into())
}

/// The public facts of a lifecycle leaf (issue or action): identifier, kind, status, time.
/// `None` for a use or an operator event. The one decision, on both sides of sync, of which
/// leaves make directory entries (and so carry a holder hash).
fn lifecycle_facts(index: u64, leaf: &LogEntry) -> Result<Option<(&str, &str, Status, i64)>> {
    match leaf {
        LogEntry::Lifecycle(l) => Ok(Some((&l.identifier, l.kind.as_str(), l.status, l.at))),
        LogEntry::V1(l) => {
            let kind = EventKind::parse(&l.kind).map_err(|_| {
                bad(
                    "federation.bad_leaf",
                    format!("leaf {index}: kind {:?}", l.kind),
                )
            })?;
            if kind.is_use() {
                return Ok(None);
            }
            let status = Status::parse(&l.status).ok_or_else(|| {
                bad(
                    "federation.bad_leaf",
                    format!("leaf {index}: status {:?}", l.status),
                )
            })?;
            Ok(Some((&l.identifier, kind.as_str(), status, l.at)))
        }
        _ => Ok(None),
    }
}

fn directory_entry(
    origin: &str,
    index: u64,
    identifier: &str,
    kind: &str,
    status: Status,
    at: i64,
    holder: &[u8],
) -> Result<DirectoryEntry> {
    let id = Identifier::parse(identifier)
        .map_err(|e| bad("federation.bad_leaf", format!("leaf {index}: {e}")))?;
    Ok(DirectoryEntry {
        origin: origin.to_owned(),
        index,
        identifier: identifier.to_owned(),
        lineage: crate::issue::lineage(&id),
        version: i32::from(id.version()),
        type_code: id.type_code().to_string(),
        issuer: id.issuer().to_string(),
        kind: kind.to_owned(),
        status,
        at,
        holder_key: holder.to_vec(),
    })
}

fn holder_bytes(hex_text: &str) -> Result<Vec<u8>> {
    let b = hex::decode(hex_text)
        .map_err(|_| bad("federation.bad_holder", "a holder hash is 64 hex digits"))?;
    if b.len() != 32 {
        return Err(bad(
            "federation.bad_holder",
            "a holder hash is 64 hex digits",
        ));
    }
    Ok(b)
}

/// The verifiers of a child's log, from its description.
fn log_verifiers(child: &TrustedNode) -> Result<(String, Verifiers)> {
    let origin = child.log_origin.clone().unwrap_or_default();
    let keys = child
        .log_keys
        .iter()
        .map(|k| VerifierKey::parse(k))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                "federation.bad_document",
                e.to_string(),
            )
        })?;
    let v = Verifiers::new(keys).map_err(|e| {
        AppError::new(
            ErrorKind::Internal,
            "federation.bad_document",
            e.to_string(),
        )
    })?;
    Ok((origin, v))
}

/// The parent's state for `child`.
pub async fn state(node: &Node, child: &str) -> Result<SyncState> {
    let s = node.store.fed_child_state(child).await?;
    Ok(SyncState {
        log_size: s.frontier.size(),
        forwarded_next: s.forwarded_next,
    })
}

/// Applies a batch from `sender` (the node whose key signed it): see the module docs.
pub async fn receive(node: &Arc<Node>, sender: &str, req: SyncRequest) -> Result<SyncState> {
    if req.node.trim_end_matches('/') != sender {
        return Err(AppError::forbidden(
            "federation.wrong_sender",
            format!("the batch names {} but {sender} signed it", req.node),
        ));
    }
    let known = node.store.fed_nodes().await?;
    let Some(child_rec) = known.iter().find(|r| r.url == sender && r.via.is_none()) else {
        return Err(AppError::forbidden(
            "federation.not_a_child",
            format!("{sender} is not a child of this node"),
        ));
    };
    let child = document_of(child_rec)?;
    let base = node.store.fed_child_state(sender).await?;
    if req.log.from != base.frontier.size() || req.forwarded.from != base.forwarded_next {
        return Err(out_of_order(format!(
            "this node holds {} leaves of {sender}'s log and expects its outbox from {}; the \
             batch starts at {} and {}",
            base.frontier.size(),
            base.forwarded_next,
            req.log.from,
            req.forwarded.from
        )));
    }
    if req.log.holders.len() != req.log.leaves.len() {
        return Err(bad("federation.malformed", "one holder slot per leaf"));
    }
    if req.forwarded.next < req.forwarded.from
        || (req.forwarded.entries.is_empty() != (req.forwarded.next == req.forwarded.from))
    {
        return Err(bad(
            "federation.malformed",
            "forwarded positions do not fit the entries",
        ));
    }

    let mut next = ChildState {
        frontier: base.frontier.clone(),
        forwarded_next: req.forwarded.next,
        checkpoint: base.checkpoint.clone(),
    };
    let mut entries = Vec::new();
    if !req.log.leaves.is_empty() {
        let note = req
            .log
            .checkpoint
            .as_deref()
            .ok_or_else(|| bad("federation.malformed", "leaves come with a checkpoint"))?;
        let (origin, verifiers) = log_verifiers(&child)?;
        let cp = VerifiedCheckpoint::open(note.as_bytes(), &origin, &verifiers)
            .map_err(|e| AppError::forbidden("federation.bad_checkpoint", e.to_string()))?;
        let mut f: Frontier = base.frontier.clone();
        for (i, (leaf, holder)) in req.log.leaves.iter().zip(&req.log.holders).enumerate() {
            let index = req.log.from + i as u64;
            f.append(leaf_hash(leaf.as_bytes()));
            let parsed = LogEntry::parse(leaf.as_bytes())
                .map_err(|e| bad("federation.bad_leaf", format!("leaf {index}: {e}")))?;
            match (lifecycle_facts(index, &parsed)?, holder) {
                (Some((id, kind, status, at)), Some(h)) => entries.push(directory_entry(
                    sender,
                    index,
                    id,
                    kind,
                    status,
                    at,
                    &holder_bytes(h)?,
                )?),
                (Some(_), None) => {
                    return Err(bad(
                        "federation.bad_holder",
                        format!("leaf {index} is a lifecycle event without its holder hash"),
                    ))
                }
                (None, _) => {}
            }
        }
        let c = cp.checkpoint();
        if c.size() != f.size() || c.root() != f.root() {
            metrics::counter!("elicense_federation_forks_total", "child" => sender.to_owned())
                .increment(1);
            tracing::error!(
                child = sender,
                size = c.size(),
                "a child's log does not extend what it sent before: refused as a fork"
            );
            return Err(AppError::new(
                ErrorKind::Conflict,
                "federation.fork",
                format!(
                    "{sender}'s checkpoint of {} leaves does not extend the {} leaves this node \
                     holds with the leaves sent",
                    c.size(),
                    base.frontier.size()
                ),
            ));
        }
        next.frontier = f;
        next.checkpoint = Some(note.to_owned());
    }

    let mut nodes = Vec::new();
    let mut beneath: Vec<String> = known
        .iter()
        .filter(|r| r.via.as_deref() == Some(sender))
        .map(|r| r.url.clone())
        .collect();
    if let Some(list) = &req.nodes {
        for t in list {
            if t.url == sender {
                continue;
            }
            let area = elicense_core::NodeArea::parse(&t.area)
                .map_err(|e| bad("federation.malformed", e.to_string()))?;
            let child_area = elicense_core::NodeArea::parse(&child.area)
                .map_err(|e| bad("federation.malformed", e.to_string()))?;
            if t.level >= child.level || !child_area.contains(&area) {
                return Err(bad(
                    "federation.not_a_child",
                    format!("{sender} reports {}, which is not under it", t.url),
                ));
            }
            nodes.push(node_record(t, Some(sender), node.now())?);
            beneath.push(t.url.clone());
        }
    }
    for w in &req.forwarded.entries {
        if !beneath.contains(&w.origin) {
            return Err(bad(
                "federation.not_a_child",
                format!(
                    "{sender} forwards an entry of {}, which is not under it",
                    w.origin
                ),
            ));
        }
        entries.push(directory_entry(
            &w.origin,
            w.index,
            &w.identifier,
            &w.kind,
            w.status,
            w.at,
            &holder_bytes(&w.holder)?,
        )?);
    }
    let reported = req.nodes.is_some() || req.issuers.is_some();
    let issuers = req
        .issuers
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let code = v
                .get("code")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_owned();
            let owner = v
                .get("node")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_owned();
            if code.is_empty() || !(owner == sender || beneath.contains(&owner)) {
                return Err(bad(
                    "federation.not_a_child",
                    format!("{sender} reports issuer {code:?} of {owner:?}, not under it"),
                ));
            }
            Ok((code, owner, v.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let count = entries.len() as u64;
    let forward = node
        .config
        .federation
        .identity()
        .is_some_and(|i| i.parent().is_some());
    let answer = SyncState {
        log_size: next.frontier.size(),
        forwarded_next: next.forwarded_next,
    };
    node.store
        .fed_receive(ReceivedBatch {
            child: sender.to_owned(),
            base,
            next,
            entries,
            nodes,
            issuers,
            forward,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => out_of_order(m),
            e => e.into(),
        })?;
    metrics::counter!("elicense_federation_received_entries_total").increment(count);
    if reported {
        // The nodes and issuers the hub's trust list is made of changed: republish soon.
        node.trust_inputs.changed();
    }
    if forward {
        node.federation.wake.notify_one();
    }
    Ok(answer)
}

/// The hub's key for holder hashes: the hub makes it (kept in its data dir); every other
/// node asks its parent once and keeps it.
pub async fn holder_key(node: &Arc<Node>) -> Result<[u8; 32]> {
    node.federation
        .holder_key
        .get_or_try_init(|| async {
            let file = node
                .config
                .data_dir
                .as_ref()
                .map(|d| d.join(HOLDER_KEY_FILE));
            if let Some(f) = &file {
                if let Ok(b) = std::fs::read(f) {
                    return <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
                        AppError::new(
                            ErrorKind::Internal,
                            "federation.key",
                            format!("{} is not 32 bytes", f.display()),
                        )
                    });
                }
            }
            let parent = node
                .config
                .federation
                .identity()
                .and_then(|i| i.parent())
                .cloned();
            let key: [u8; 32] = match parent {
                None => rand::random(),
                Some(p) => {
                    let url = format!("{p}{HOLDER_KEY_PATH}");
                    let a = peer::send(node, "GET", &url, None).await?;
                    if a.status != 200 {
                        return Err(peer::unreachable(
                            &url,
                            format!("answered {} {:?}", a.status, a.error_code()),
                        ));
                    }
                    #[derive(Deserialize)]
                    struct K {
                        key: String,
                    }
                    let k: K = a.json(&url)?;
                    holder_bytes(&k.key)?
                        .try_into()
                        .expect("holder_bytes gives 32 bytes")
                }
            };
            if let Some(f) = &file {
                crate::config::write_private_file(f, &key).map_err(|e| {
                    AppError::new(ErrorKind::Internal, "federation.key", e.to_string())
                })?;
            }
            Ok(key)
        })
        .await
        .copied()
}

/// The holder-hash key for `sender`, which must be a child this node admitted.
pub async fn holder_key_for_child(node: &Arc<Node>, sender: &str) -> Result<[u8; 32]> {
    let is_child = node
        .store
        .fed_nodes()
        .await?
        .iter()
        .any(|r| r.url == sender && r.via.is_none());
    if !is_child {
        return Err(AppError::forbidden(
            "federation.not_a_child",
            format!("{sender} is not a child of this node"),
        ));
    }
    holder_key(node).await
}

/// The keyed hash of a holder code (its type and value) under the hub's key.
pub fn holder_hash(key: &[u8; 32], code: &HolderCode) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    m.update(b"elicense/holder/v1\0");
    m.update(code.kind().code().as_bytes());
    m.update(b":");
    m.update(code.value().as_bytes());
    m.finalize().into_bytes().into()
}

/// The holder hashes for the leaves of a batch (`wanted`: the leaf index and identifier of
/// each lifecycle leaf, `None` for the others), in the same order. The licenses' metadata is
/// read in one store read for the whole batch (one read per leaf was most of a batch's cost)
/// and only its holder is parsed; a version named by several leaves is read and hashed once.
async fn holder_hashes(
    node: &Node,
    key: &[u8; 32],
    wanted: &[Option<(u64, String)>],
) -> Result<Vec<Option<String>>> {
    #[derive(Deserialize)]
    struct Meta {
        holder: Holder,
    }
    #[derive(Deserialize)]
    struct Holder {
        code: HolderCode,
    }
    let corrupt = |why: String| AppError::new(ErrorKind::Internal, "store.corrupt", why);
    let mut ids: Vec<String> = wanted.iter().flatten().map(|(_, id)| id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut hashes = HashMap::with_capacity(ids.len());
    for (id, meta) in node.store.metas(&ids).await? {
        let m: Meta = serde_json::from_str(&meta)
            .map_err(|e| corrupt(format!("license {id}: metadata: {e}")))?;
        let hash = hex::encode(holder_hash(key, &m.holder.code));
        hashes.insert(id, hash);
    }
    wanted
        .iter()
        .map(|w| match w {
            None => Ok(None),
            Some((index, id)) => hashes
                .get(id)
                .cloned()
                .map(Some)
                .ok_or_else(|| corrupt(format!("leaf {index} names {id}, which is not stored"))),
        })
        .collect()
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Nothing was waiting.
    Idle,
    /// A batch was sent and acknowledged (more may wait).
    Sent { entries: u64 },
    /// The parent stood elsewhere; the child now knows where.
    Resumed,
}

/// The nodes and issuers this node reports, with their hash.
async fn report(node: &Arc<Node>) -> Result<(Vec<TrustedNode>, Vec<serde_json::Value>, [u8; 32])> {
    let mut nodes = vec![peer::own_trusted_node(node).await?];
    for r in node.store.fed_nodes().await? {
        nodes.push(document_of(&r)?);
    }
    let mut issuers: Vec<serde_json::Value> = super::trust_list::local_issuers(node)
        .await?
        .into_iter()
        .map(|i| serde_json::to_value(i).expect("serializable"))
        .collect();
    for (_, _, doc) in node.store.fed_issuers().await? {
        issuers.push(serde_json::from_str(&doc).map_err(|e| AppError::internal(e.to_string()))?);
    }
    let text = serde_json::to_vec(&(&nodes, &issuers)).expect("serializable");
    let hash = <Sha256 as sha2::Digest>::digest(&text).into();
    Ok((nodes, issuers, hash))
}

/// A batch ready to send to the parent, built on a push state (where the parent stood, or
/// will stand once the batch before it is accepted).
struct Prepared {
    url: String,
    body: Vec<u8>,
    /// Directory entries it carries (own lifecycle leaves and forwarded ones).
    sent: u64,
    /// The hash of the nodes and issuers it reports (or reported before, when it has none).
    hash: [u8; 32],
    /// The size of this node's log when the batch was built.
    size: u64,
    /// Where the parent stands once it accepted the batch.
    after: PushState,
}

/// Builds the batch that follows `from` (`reported`: the hash of the nodes and issuers the
/// parent last got); `None` when there is nothing to send.
async fn prepare(
    node: &Arc<Node>,
    parent: &str,
    from: PushState,
    reported: Option<[u8; 32]>,
) -> Result<Option<Prepared>> {
    let url = format!("{parent}{SYNC_PATH}");
    let size = node.store.log_frontier().await?.size();
    let end = size.min(from.log_size + BATCH);
    let records = node.store.log_entries(from.log_size, end).await?;
    let hkey = holder_key(node).await?;
    // The leaves in order; beside each lifecycle leaf its holder's hash.
    let mut leaves = Vec::with_capacity(records.len());
    let mut wanted = Vec::with_capacity(records.len());
    for r in records {
        let parsed = LogEntry::parse(&r.data)?;
        wanted.push(lifecycle_facts(r.index, &parsed)?.map(|(id, ..)| (r.index, id.to_owned())));
        leaves.push(String::from_utf8(r.data).map_err(|_| {
            AppError::new(ErrorKind::Internal, "store.corrupt", "a leaf is not UTF-8")
        })?);
    }
    let holders = holder_hashes(node, &hkey, &wanted).await?;
    let checkpoint = if leaves.is_empty() {
        None
    } else {
        Some(crate::log::checkpoint_of_size(node, end).await?.note)
    };
    let outbox = node
        .store
        .fed_outbox(from.forwarded_next, BATCH as u32)
        .await?;
    let forwarded_next = outbox.last().map_or(from.forwarded_next, |o| o.seq + 1);
    let (nodes, issuers, hash) = report(node).await?;
    let changed = reported != Some(hash);
    if leaves.is_empty() && outbox.is_empty() && !changed {
        return Ok(None);
    }
    let entries = outbox
        .into_iter()
        .map(|o| WireEntry {
            origin: o.entry.origin,
            index: o.entry.index,
            identifier: o.entry.identifier,
            kind: o.entry.kind,
            status: o.entry.status,
            at: o.entry.at,
            holder: hex::encode(o.entry.holder_key),
        })
        .collect::<Vec<_>>();
    let sent = (holders.iter().flatten().count() + entries.len()) as u64;
    let after = PushState {
        log_size: from.log_size + leaves.len() as u64,
        forwarded_next,
    };
    let req = SyncRequest {
        node: node.config.base_url.trim_end_matches('/').to_owned(),
        log: LogBatch {
            from: from.log_size,
            checkpoint,
            leaves,
            holders,
        },
        forwarded: ForwardBatch {
            from: from.forwarded_next,
            next: forwarded_next,
            entries,
        },
        nodes: changed.then_some(nodes),
        issuers: changed.then_some(issuers),
    };
    let body = serde_json::to_vec(&req).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Some(Prepared {
        url,
        body,
        sent,
        hash,
        size,
        after,
    }))
}

/// Sends a prepared batch and records the parent's answer (see the module docs). With
/// `Sent`, the state the parent answered.
async fn deliver(node: &Arc<Node>, p: Prepared) -> Result<(Pushed, PushState)> {
    let url = p.url;
    let a = peer::send(node, "POST", &url, Some(p.body)).await?;
    let (pushed, s) = match a.status {
        200 => {
            let s: SyncState = a.json(&url)?;
            *node.federation.reported.lock().expect("lock") = Some(p.hash);
            metrics::counter!("elicense_federation_pushed_entries_total").increment(p.sent);
            (Pushed::Sent { entries: p.sent }, s)
        }
        409 if a.error_code().as_deref() == Some("federation.out_of_order") => {
            let a = peer::send(node, "GET", &url, None).await?;
            if a.status != 200 {
                return Err(peer::unreachable(&url, format!("answered {}", a.status)));
            }
            let s: SyncState = a.json(&url)?;
            if s.log_size > p.size {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "federation.parent_ahead",
                    format!(
                        "the parent holds {} leaves of this node's log, which has {}",
                        s.log_size, p.size
                    ),
                ));
            }
            (Pushed::Resumed, s)
        }
        status => {
            return Err(AppError::new(
                ErrorKind::Unavailable,
                "federation.push_refused",
                format!(
                    "{url} answered {status} {}",
                    a.error_code().unwrap_or_default()
                ),
            ))
        }
    };
    let state = PushState {
        log_size: s.log_size,
        forwarded_next: s.forwarded_next,
    };
    node.store.fed_set_push_state(state).await?;
    Ok((pushed, state))
}

fn parent_of(node: &Node) -> Option<String> {
    node.config
        .federation
        .identity()
        .and_then(|i| i.parent())
        .map(|p| p.as_str().to_owned())
}

/// Sends the next batch to the parent (see the module docs).
pub async fn push_once(node: &Arc<Node>) -> Result<Pushed> {
    let Some(parent) = parent_of(node) else {
        return Ok(Pushed::Idle);
    };
    let state = node.store.fed_push_state().await?;
    let reported = *node.federation.reported.lock().expect("lock");
    match prepare(node, &parent, state, reported).await? {
        None => Ok(Pushed::Idle),
        Some(p) => Ok(deliver(node, p).await?.0),
    }
}

/// Sends a batch (`ready`, or the next one from the stored state) and, while the parent
/// applies it, builds the one after it on the state the parent will answer: the sender's
/// reads, hashing and signing overlap the parent's checks and writes. The batch built ahead
/// is kept only if the parent answered exactly that state; otherwise it is dropped and the
/// next one is built from the stored state again.
async fn push_ahead(
    node: &Arc<Node>,
    parent: &str,
    ready: Option<Prepared>,
) -> Result<(Pushed, Option<Prepared>)> {
    let p = match ready {
        Some(p) => p,
        None => {
            let state = node.store.fed_push_state().await?;
            let reported = *node.federation.reported.lock().expect("lock");
            match prepare(node, parent, state, reported).await? {
                Some(p) => p,
                None => return Ok((Pushed::Idle, None)),
            }
        }
    };
    let (after, hash) = (p.after, p.hash);
    let ahead = {
        let (node, parent) = (node.clone(), parent.to_owned());
        tokio::spawn(async move { prepare(&node, &parent, after, Some(hash)).await })
    };
    let sent = deliver(node, p).await;
    // A failed build ahead is not an error of this push: the batch is built again next time.
    let ahead = ahead.await.ok().and_then(|r| r.ok()).flatten();
    let (pushed, state) = sent?;
    let keep = matches!(pushed, Pushed::Sent { .. }) && state == after;
    Ok((pushed, ahead.filter(|_| keep)))
}

/// The push loop of a node with a parent: pushes while there is something to push, waits
/// for the log to grow (or `idle`), backs off from 1 s to 60 s while pushes fail.
pub async fn run(node: Arc<Node>, idle: Duration) {
    let Some(parent) = parent_of(&node) else {
        return;
    };
    let mut backoff = Duration::from_secs(1);
    let mut ready = None;
    loop {
        match push_ahead(&node, &parent, ready.take()).await {
            Ok((Pushed::Sent { .. } | Pushed::Resumed, ahead)) => {
                ready = ahead;
                backoff = Duration::from_secs(1);
                continue;
            }
            Ok((Pushed::Idle, _)) => {
                backoff = Duration::from_secs(1);
                let _ = tokio::time::timeout(idle, node.federation.wake.notified()).await;
            }
            Err(e) => {
                metrics::counter!("elicense_federation_push_failures_total", "code" => e.code)
                    .increment(1);
                tracing::warn!(code = e.code, error = %e.message, retry_in = ?backoff, "upward sync failed");
                // A wake-up (the log grew, an operator acted) ends the wait early.
                let _ = tokio::time::timeout(backoff, node.federation.wake.notified()).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}
