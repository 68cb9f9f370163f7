//! The node's event log: its note signers, signed checkpoints, proofs, tiles and entry
//! bundles, read from the store (the store appends every event in the event's own
//! transaction; see `elicense_store::log`).
//!
//! Invariants:
//! - The log's origin is the node's base URL without its scheme, plus `/log`
//!   (`127.0.0.1:8080/log`); both note keys are named after the origin.
//! - A checkpoint is signed only for a (size, root) read from the store in one read, so it
//!   never names a tree the store does not hold; it is re-signed only when the tree grew,
//!   and concurrent callers share one signing (the first one signs for everything
//!   committed by then).
//! - Checkpoints are signed in batches: at most one per `checkpoint_interval_ms`
//!   ([`NodeConfig::checkpoint_interval_ms`], default 2 ms). A caller who needs a larger
//!   tree than the last checkpoint's waits until the interval since the last signing has
//!   passed, then one signature covers every entry appended meanwhile; an idle log signs at
//!   once. Under load the node thus signs a bounded number of checkpoints per second
//!   instead of one after another, and an interactive issue waits at most one interval.
//! - Node keys: one Ed25519 and one SM2 key, generated once, kept in `DIR/log-key.pem` as
//!   two PKCS#8 PEMs encrypted with the node's key password (in memory for a node without a
//!   data dir). The Ed25519 signature comes first: C2SP clients that do not know SM2 ignore
//!   the second line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicense_crypto::{Alg, KeyPair};
use elicense_log::note::{NoteSigner, VerifierKey};
use elicense_log::tiles::{BundleId, EntryBundle, TileId, TILE_HEIGHT, TILE_WIDTH};
use elicense_log::{Checkpoint, Hash, HashReader, NodeId, ProofError, TreeError};
use elicense_store::log::check_leaf;
use elicense_store::{CheckpointRecord, EventRecord, LogEntry};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::config::NodeConfig;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The log's key file in a data dir.
pub const LOG_KEY_FILE: &str = "log-key.pem";

/// An event's place in the log, and the proof that it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogProof {
    /// Leaf index of the event.
    pub index: u64,
    /// Size of the tree the proof is for (that of `checkpoint`).
    pub tree_size: u64,
    /// RFC 9162 inclusion proof, standard base64 hashes, leaf side first.
    pub hashes: Vec<String>,
    /// The signed checkpoint (C2SP signed note) the proof leads to.
    pub checkpoint: String,
}

/// A signed checkpoint with its parsed size and root.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

struct LogKeys {
    ed25519: NoteSigner,
    sm2: NoteSigner,
}

/// The log part of a [`Node`].
pub struct EventLog {
    origin: String,
    key_file: Option<PathBuf>,
    password: Zeroizing<String>,
    keys: OnceLock<std::result::Result<Arc<LogKeys>, AppError>>,
    latest: Mutex<Option<SignedCheckpoint>>,
    /// Held while a checkpoint is being signed; holds when the last one was.
    signing: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    interval: std::time::Duration,
    signed: std::sync::atomic::AtomicU64,
}

/// `http://host:port/path` → `host:port/path/log`.
pub fn origin_for(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, r)| r)
        .trim_end_matches('/');
    format!("{rest}/log")
}

fn key_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Internal, "log.key", e.to_string())
}

fn load_or_create_keys(path: Option<&Path>, name: &str, password: &str) -> Result<LogKeys> {
    let mut rng = rand::rngs::OsRng;
    let (ed, sm2) = match path {
        None => (
            KeyPair::generate(Alg::EdDSA, &mut rng),
            KeyPair::generate(Alg::Sm2, &mut rng),
        ),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => {
                let blocks: Vec<String> = text
                    .split_inclusive("-----END ENCRYPTED PRIVATE KEY-----")
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty())
                    .collect();
                if blocks.len() != 2 {
                    return Err(key_error(format!(
                        "{} must hold two encrypted keys",
                        path.display()
                    )));
                }
                let ed = KeyPair::from_encrypted_pem(&blocks[0], password.as_bytes())
                    .map_err(AppError::crypto)?;
                let sm2 = KeyPair::from_encrypted_pem(&blocks[1], password.as_bytes())
                    .map_err(AppError::crypto)?;
                (ed, sm2)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ed = KeyPair::generate(Alg::EdDSA, &mut rng);
                let sm2 = KeyPair::generate(Alg::Sm2, &mut rng);
                let text = format!(
                    "{}\n{}\n",
                    ed.to_encrypted_pem(password.as_bytes(), &mut rng)
                        .map_err(AppError::crypto)?
                        .trim(),
                    sm2.to_encrypted_pem(password.as_bytes(), &mut rng)
                        .map_err(AppError::crypto)?
                        .trim()
                );
                // create_new: when two processes race, the loser reads the winner's keys.
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                // A temp file left by a crashed process with the same pid is stale.
                let _ = std::fs::remove_file(&tmp);
                crate::config::write_private_file(&tmp, text.as_bytes())
                    .map_err(|e| key_error(format!("{}: {e}", tmp.display())))?;
                match std::fs::hard_link(&tmp, path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let _ = std::fs::remove_file(&tmp);
                        return load_or_create_keys(Some(path), name, password);
                    }
                    Err(e) => return Err(key_error(format!("{}: {e}", path.display()))),
                }
                let _ = std::fs::remove_file(&tmp);
                (ed, sm2)
            }
            Err(e) => return Err(key_error(format!("{}: {e}", path.display()))),
        },
    };
    Ok(LogKeys {
        ed25519: NoteSigner::from_keypair(name, ed).map_err(key_error)?,
        sm2: NoteSigner::from_keypair(name, sm2).map_err(key_error)?,
    })
}

/// A [`HashReader`] that records the nodes asked for and answers zeros: the first pass of
/// a proof over an async store.
struct Recorder(Mutex<Vec<NodeId>>);

impl HashReader for Recorder {
    fn read_hashes(&self, nodes: &[NodeId]) -> std::result::Result<Vec<Hash>, TreeError> {
        self.0.lock().expect("recorder").extend_from_slice(nodes);
        Ok(vec![Hash::default(); nodes.len()])
    }
}

struct Fetched(HashMap<NodeId, Hash>);

impl HashReader for Fetched {
    fn read_hashes(&self, nodes: &[NodeId]) -> std::result::Result<Vec<Hash>, TreeError> {
        nodes
            .iter()
            .map(|n| {
                self.0.get(n).copied().ok_or(TreeError::MissingNode {
                    level: n.level,
                    index: n.index,
                })
            })
            .collect()
    }
}

fn proof_error(e: ProofError) -> AppError {
    let kind = match e {
        ProofError::Read(_) => ErrorKind::Internal,
        _ => ErrorKind::Invalid,
    };
    AppError::new(kind, e.code(), e.to_string())
}

/// Runs a proof generator against the store: one pass to learn which nodes it reads, one
/// batched store read, one pass to compute.
async fn from_store<F>(node: &Node, generate: F) -> Result<Vec<Hash>>
where
    F: Fn(&dyn HashReader) -> std::result::Result<Vec<Hash>, ProofError>,
{
    let rec = Recorder(Mutex::new(Vec::new()));
    generate(&rec).map_err(proof_error)?;
    let nodes = rec.0.into_inner().expect("recorder");
    let hashes = node.store.log_hashes(nodes.clone()).await?;
    generate(&Fetched(nodes.into_iter().zip(hashes).collect())).map_err(proof_error)
}

/// Standard base64 of each hash, as the JSON proof endpoints give them.
pub fn hashes_b64(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h.0)).collect()
}

/// Parses standard-base64 hashes.
pub fn hashes_from_b64(hashes: &[String]) -> Option<Vec<Hash>> {
    hashes
        .iter()
        .map(|s| STANDARD.decode(s).ok().and_then(|b| Hash::from_slice(&b)))
        .collect()
}

impl EventLog {
    /// The log of a node with this configuration; keys are loaded on first use.
    pub fn new(config: &NodeConfig) -> Self {
        EventLog {
            origin: origin_for(&config.base_url),
            key_file: config.data_dir.as_ref().map(|d| d.join(LOG_KEY_FILE)),
            password: config.key_password.clone(),
            keys: OnceLock::new(),
            latest: Mutex::new(None),
            signing: tokio::sync::Mutex::new(None),
            interval: std::time::Duration::from_millis(config.checkpoint_interval_ms),
            signed: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn keys(&self) -> Result<Arc<LogKeys>> {
        self.keys
            .get_or_init(|| {
                load_or_create_keys(self.key_file.as_deref(), &self.origin, &self.password)
                    .map(Arc::new)
            })
            .clone()
    }

    /// The note verifier keys (`<name>+<hex id>+<base64>`): Ed25519, then SM2.
    pub fn verifier_keys(&self) -> Result<Vec<VerifierKey>> {
        let k = self.keys()?;
        Ok(vec![k.ed25519.verifier_key(), k.sm2.verifier_key()])
    }

    /// How many checkpoints this process has signed for the current tree (not counting
    /// [`checkpoint_of_size`]'s past sizes).
    pub fn checkpoints_signed(&self) -> u64 {
        self.signed.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn cached(&self, min_size: u64) -> Option<SignedCheckpoint> {
        let latest = self.latest.lock().expect("checkpoint cache");
        latest.as_ref().filter(|c| c.size >= min_size).cloned()
    }
}

/// The current signed checkpoint, re-signed only if the tree grew since the last one.
pub async fn checkpoint(node: &Node) -> Result<SignedCheckpoint> {
    let size = node.store.log_frontier().await?.size();
    checkpoint_at_least(node, size).await
}

/// A signed checkpoint of a tree of at least `min_size` leaves.
pub async fn checkpoint_at_least(node: &Node, min_size: u64) -> Result<SignedCheckpoint> {
    let log = &node.log;
    if let Some(c) = log.cached(min_size) {
        return Ok(c);
    }
    let mut last_signed = log.signing.lock().await;
    if let Some(c) = log.cached(min_size) {
        return Ok(c);
    }
    // Batching: wait out the interval since the last signing, so that this signature covers
    // everything appended meanwhile (those callers find it cached when they get the lock).
    if let Some(last) = *last_signed {
        tokio::time::sleep_until(last + log.interval).await;
    }
    let f = node.store.log_frontier().await?;
    if f.size() < min_size {
        return Err(AppError::new(
            ErrorKind::Internal,
            "log.behind",
            format!("the log has {} entries, {min_size} expected", f.size()),
        ));
    }
    if let Some(c) = log.cached(f.size()) {
        return Ok(c);
    }
    let keys = log.keys()?;
    let cp = Checkpoint::new(&log.origin, f.size(), f.root()).map_err(key_error)?;
    let note = cp
        .sign(&[&keys.ed25519, &keys.sm2])
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    let signed = SignedCheckpoint {
        size: f.size(),
        root: f.root(),
        note,
    };
    *last_signed = Some(tokio::time::Instant::now());
    log.signed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    metrics::counter!("elicense_log_checkpoints_signed_total").increment(1);
    *log.latest.lock().expect("checkpoint cache") = Some(signed.clone());
    // Kept for the record, off the signing path (a lost write only loses history the log
    // itself can re-prove; the next checkpoint is written again).
    let (store, record) = (
        node.store.clone(),
        CheckpointRecord {
            size: signed.size,
            note: signed.note.clone(),
            created_at: node.now(),
        },
    );
    tokio::spawn(async move {
        if let Err(e) = store.put_checkpoint(record).await {
            tracing::warn!(code = e.code(), error = %e, "checkpoint not recorded");
        }
    });
    Ok(signed)
}

/// A signed checkpoint of exactly `size` leaves, a past size too (its root computed from the
/// stored node hashes): what upward sync sends with a batch that ends there. Not cached.
pub async fn checkpoint_of_size(node: &Node, size: u64) -> Result<SignedCheckpoint> {
    if let Some(c) = node.log.cached(size).filter(|c| c.size == size) {
        return Ok(c);
    }
    check_size(node, size).await?;
    let root = from_store(node, |r| {
        Ok(vec![elicense_log::tree::root_from_reader(size, &r)?])
    })
    .await?[0];
    let keys = node.log.keys()?;
    let cp = Checkpoint::new(&node.log.origin, size, root).map_err(key_error)?;
    let note = cp
        .sign(&[&keys.ed25519, &keys.sm2])
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    Ok(SignedCheckpoint { size, root, note })
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves.
pub async fn inclusion_proof(node: &Node, index: u64, size: u64) -> Result<Vec<Hash>> {
    check_size(node, size).await?;
    from_store(node, |r| elicense_log::inclusion_proof(index, size, &r)).await
}

/// The consistency proof between the trees of `from` and `to` leaves.
pub async fn consistency_proof(node: &Node, from: u64, to: u64) -> Result<Vec<Hash>> {
    check_size(node, to).await?;
    from_store(node, |r| elicense_log::consistency_proof(from, to, &r)).await
}

async fn check_size(node: &Node, size: u64) -> Result<()> {
    let have = node.store.log_frontier().await?.size();
    if size > have {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "log.bad_size",
            format!("tree size {size} is larger than the log ({have})"),
        ));
    }
    Ok(())
}

/// The proof that the event with sequence number `seq` is in the log, against a current
/// signed checkpoint.
pub async fn proof_for_event(node: &Node, seq: i64) -> Result<LogProof> {
    let index = node.store.log_index(seq).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::Internal,
            "log.missing_event",
            format!("event {seq} is not in the log"),
        )
    })?;
    proof_for_index(node, index).await
}

/// The leaf index of a stored event when its leaf is in the log, says what the event says
/// (for a use: the stored opening hashes to the leaf's commitment and opens to this event,
/// [`elicense_store::log::check_leaf`]) and its inclusion proof leads to the root of a signed
/// checkpoint; `None` otherwise (the event is not in the log, or a check fails, which only a
/// database changed behind the node's back can cause).
pub async fn event_in_log(node: &Node, event: &EventRecord) -> Result<Option<u64>> {
    let Some(index) = node.store.log_index(event.seq).await? else {
        return Ok(None);
    };
    let Some(entry) = node.store.log_entries(index, index + 1).await?.pop() else {
        return Ok(None);
    };
    let Ok(leaf) = LogEntry::parse(&entry.data) else {
        return Ok(None);
    };
    let opening = match leaf {
        LogEntry::Use(_) => node.store.log_openings(vec![event.seq]).await?.pop(),
        _ => None,
    };
    if check_leaf(&leaf, Some(event), opening.as_ref()).is_err() {
        return Ok(None);
    }
    let cp = checkpoint_at_least(node, index + 1).await?;
    let size = cp.size;
    let proof = from_store(node, |r| elicense_log::inclusion_proof(index, size, &r)).await?;
    let leaf = elicense_log::leaf_hash(&entry.data);
    Ok(
        elicense_log::verify_inclusion(&leaf, index, size, &proof, &cp.root)
            .is_ok()
            .then_some(index),
    )
}

/// The proof of leaf `index` against a checkpoint that includes it.
pub async fn proof_for_index(node: &Node, index: u64) -> Result<LogProof> {
    let cp = checkpoint_at_least(node, index + 1).await?;
    // The checkpoint was signed for a size the store holds: no size check needed.
    let size = cp.size;
    let hashes = from_store(node, |r| elicense_log::inclusion_proof(index, size, &r)).await?;
    Ok(LogProof {
        index,
        tree_size: cp.size,
        hashes: hashes_b64(&hashes),
        checkpoint: cp.note,
    })
}

fn missing(what: String) -> AppError {
    AppError::not_found("log.not_found", what)
}

/// The bytes of hash tile `id`, if the current tree has it.
pub async fn tile(node: &Node, id: TileId) -> Result<Vec<u8>> {
    let level = id.level();
    if level >= 8 {
        return Err(missing(format!("tile {id}")));
    }
    let tree_level = level * TILE_HEIGHT;
    let start = id.index().checked_mul(u64::from(TILE_WIDTH));
    let Some(start) = start else {
        return Err(missing(format!("tile {id}")));
    };
    let end = start + u64::from(id.width());
    let size = node.store.log_frontier().await?.size();
    if end > size >> u32::from(tree_level) {
        return Err(missing(format!("tile {id}")));
    }
    let hashes = node.store.log_level(tree_level, start, end).await?;
    if hashes.len() as u64 != end - start {
        return Err(AppError::internal(format!(
            "log hashes missing for tile {id}"
        )));
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// The bytes of entry bundle `id`, if the current tree has it.
pub async fn bundle(node: &Node, id: BundleId) -> Result<Vec<u8>> {
    let start = id
        .index()
        .checked_mul(u64::from(TILE_WIDTH))
        .ok_or_else(|| missing(format!("bundle {id}")))?;
    let end = start + u64::from(id.width());
    let entries = node.store.log_entries(start, end).await?;
    if entries.len() as u64 != end - start {
        return Err(missing(format!("bundle {id}")));
    }
    let bundle = EntryBundle::new(entries.into_iter().map(|e| e.data).collect())
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    Ok(bundle.to_bytes())
}
