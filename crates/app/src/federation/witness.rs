//! Every parent is a witness for its children (C2SP tlog-witness, tlog-cosignature): the
//! parent side ([`add_checkpoint`], [`admit`], [`forks`]) and the child side
//! ([`Witness`], [`submit`], [`published_checkpoint`]). The hub, which has no parent, has
//! its log co-signed by its children: they witness it from the trust list.
//!
//! Invariants:
//! - A witness co-signs a checkpoint only when its origin was admitted, a log key of that
//!   origin signed it (and no known key's signature fails), and it is consistent with the
//!   head the witness last co-signed for that origin ([`elicense_log::witness::check`]). The
//!   new head is stored by one compare-and-swap from the size it was checked against
//!   ([`elicense_store::WitnessStore::witness_advance`]) **before** the cosignature is
//!   returned: a head never goes back, and two requests racing from one size cannot both win.
//! - A validly signed checkpoint that is not consistent with the co-signed head (same size
//!   and another root, or no valid consistency proof) is refused (422, as the spec says; a
//!   409 would only make the client re-send from the size the witness names) and reported:
//!   a fork report row, the counter `elicense_witness_forks_total`, an error log. The same
//!   refused checkpoint is reported once per process (the child keeps retrying it).
//! - The child stores a checkpoint with its parent's cosignature only after that
//!   cosignature verified, over exactly the checkpoint it sent, with the witness key the
//!   parent publishes at `/.well-known/elicense-node`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use elicense_log::cosignature::Cosignature;
use elicense_log::note::{self, NoteError, SignedNote, VerifierKey, Verifiers};
use elicense_log::witness::{self as tlog, AddCheckpoint, Refusal, WitnessedHead};
use elicense_log::{Checkpoint, Hash};
use elicense_store::{CosignedCheckpointRecord, ForkReportRecord, WitnessAdvance, WitnessSwap};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::identity::NodeUrl;
use super::keys::WitnessKey;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The counter of fork reports.
pub const FORKS_METRIC: &str = "elicense_witness_forks_total";
/// Path of the witness's `add-checkpoint` endpoint (the submission prefix is `/witness`).
pub const ADD_CHECKPOINT_PATH: &str = "/witness/add-checkpoint";
/// Most distinct refused checkpoints remembered to report each once.
const REPORTED_CAP: usize = 4096;

/// What the witness answers to an `add-checkpoint` that passed the log's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddAnswer {
    /// 200: the cosignature line(s), each ending in a newline.
    Cosigned(String),
    /// 409: the old size is not the size the witness last co-signed, which is `known`.
    SizeMismatch {
        /// The size of the latest co-signed checkpoint (0 if none).
        known: u64,
    },
}

/// The witness's per-process state: which refused checkpoints were reported already.
#[derive(Debug, Default)]
pub struct WitnessState {
    reported: Mutex<HashSet<[u8; 32]>>,
}

impl WitnessState {
    /// Whether this (origin, checkpoint) is reported for the first time in this process.
    fn first_report(&self, origin: &str, checkpoint: &str) -> bool {
        let key: [u8; 32] = Sha256::new()
            .chain_update(origin.as_bytes())
            .chain_update([0])
            .chain_update(checkpoint.as_bytes())
            .finalize()
            .into();
        let mut seen = self.reported.lock().expect("witness reports");
        if seen.len() >= REPORTED_CAP {
            seen.clear();
        }
        seen.insert(key)
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

/// Admits the log `origin` (its checkpoint origin line), signed by the note keys `vkeys`
/// (`<name>+<hex id>+<base64>`, at least one), of the child node at `url`. Admitting a known
/// origin again replaces its keys and URL and keeps the head co-signed so far.
pub async fn admit(node: &Node, origin: &str, vkeys: &[String], url: &str) -> Result<()> {
    Checkpoint::new(origin, 0, Hash::default()).map_err(|_| {
        invalid(
            "witness.bad_origin",
            "the origin must be one non-empty line",
        )
    })?;
    if vkeys.is_empty() {
        return Err(invalid("witness.no_keys", "a witnessed log needs a key"));
    }
    for k in vkeys {
        VerifierKey::parse(k)
            .map_err(|e| invalid("witness.bad_key", format!("log key {k:?}: {e}")))?;
    }
    let url = NodeUrl::parse(url).map_err(|e| invalid("witness.bad_url", e.to_string()))?;
    node.store
        .witness_admit(origin, vkeys.to_vec(), url.as_str(), node.now())
        .await?;
    Ok(())
}

/// One fork report, as the operator sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForkReport {
    /// Report number (increasing).
    pub id: i64,
    /// The log's origin.
    pub origin: String,
    /// `root_mismatch` (a second signed head of the co-signed size) or `inconsistent` (a
    /// signed head not proven to extend the co-signed one).
    pub kind: String,
    /// Size of the head this node co-signed.
    pub cosigned_size: u64,
    /// Its root, standard base64.
    pub cosigned_root: String,
    /// The refused checkpoint note, as the log sent it.
    pub checkpoint: String,
    /// Unix seconds.
    pub at: i64,
}

/// Fork reports numbered above `after`, oldest first, at most `limit` (1 to 500).
pub async fn forks(node: &Node, after: i64, limit: u32) -> Result<Vec<ForkReport>> {
    use base64::Engine as _;
    let limit = limit.clamp(1, 500);
    Ok(node
        .store
        .fork_reports(after, limit)
        .await?
        .into_iter()
        .map(|f| ForkReport {
            id: f.id,
            origin: f.origin,
            kind: f.kind,
            cosigned_size: f.cosigned_size,
            cosigned_root: base64::engine::general_purpose::STANDARD.encode(&f.cosigned_root),
            checkpoint: f.checkpoint,
            at: f.at,
        })
        .collect())
}

fn refusal_error(r: &Refusal) -> AppError {
    invalid(r.code(), r.to_string())
}

/// The witness's answer to `POST /witness/add-checkpoint` with `body` (C2SP tlog-witness).
/// Errors: `witness.malformed`/`witness.too_large`/`witness.too_many_proof_lines` and a
/// malformed note or checkpoint (400), `witness.unknown_log` (404), `witness.bad_signature`
/// (403), `witness.old_above_new` (400), `witness.inconsistent`, `witness.root_mismatch`,
/// `witness.bad_empty_root`, `witness.proof_from_zero` (422).
pub async fn add_checkpoint(node: &Node, body: &[u8]) -> Result<AddAnswer> {
    let req = AddCheckpoint::parse(body).map_err(|e| invalid(e.code(), e.to_string()))?;
    let parsed = SignedNote::parse(req.checkpoint.as_bytes())
        .map_err(|e| invalid("witness.malformed", format!("checkpoint note: {e}")))?;
    let cp = Checkpoint::parse(parsed.text())
        .map_err(|e| invalid("witness.malformed", format!("checkpoint: {e}")))?;
    let log = node
        .store
        .witnessed_log(cp.origin())
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "witness.unknown_log",
                format!("this witness does not know the log {:?}", cp.origin()),
            )
        })?;
    let keys = log
        .vkeys
        .iter()
        .map(|k| VerifierKey::parse(k))
        .collect::<std::result::Result<Vec<_>, _>>()
        .and_then(Verifiers::new)
        .map_err(|e| AppError::new(ErrorKind::Internal, "store.corrupt", e.to_string()))?;
    match note::open(req.checkpoint.as_bytes(), &keys) {
        Ok(_) => {}
        Err(e @ (NoteError::Unverified { .. } | NoteError::BadSignature { .. })) => {
            return Err(AppError::new(
                ErrorKind::Forbidden,
                "witness.bad_signature",
                format!("no valid signature of {}: {e}", cp.origin()),
            ))
        }
        Err(e) => return Err(invalid("witness.malformed", e.to_string())),
    }
    let known = match (&log.root, log.size) {
        (None, _) => None,
        (Some(root), size) => Some(WitnessedHead {
            size,
            root: Hash::from_slice(root)
                .ok_or_else(|| AppError::internal("a stored witness root is not 32 bytes"))?,
        }),
    };
    if let Err(r) = tlog::check(known, req.old_size, &req.proof, &cp) {
        if let Refusal::SizeMismatch { known, .. } = r {
            return Ok(AddAnswer::SizeMismatch { known });
        }
        if r.fork() {
            report_fork(node, &cp, known, &r, &req.checkpoint).await?;
        }
        return Err(refusal_error(&r));
    }
    let cosigner = node.node_keys.get()?.cosigner.clone();
    let now = u64::try_from(node.now().max(1)).expect("positive");
    let cosignature = cosigner
        .cosign(parsed.text(), now)
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    let swap = node
        .store
        .witness_advance(WitnessAdvance {
            origin: cp.origin().to_owned(),
            old_size: log.size,
            new_size: cp.size(),
            new_root: cp.root().0.to_vec(),
            checkpoint: req.checkpoint.clone(),
            at: node.now(),
        })
        .await?;
    match swap {
        WitnessSwap::Advanced => Ok(AddAnswer::Cosigned(cosignature.line())),
        WitnessSwap::Moved { size } => Ok(AddAnswer::SizeMismatch { known: size }),
    }
}

async fn report_fork(
    node: &Node,
    cp: &Checkpoint,
    known: Option<WitnessedHead>,
    refusal: &Refusal,
    checkpoint: &str,
) -> Result<()> {
    let Some(known) = known else {
        return Ok(());
    };
    if !node.witness.first_report(cp.origin(), checkpoint) {
        return Ok(());
    }
    let kind = match refusal {
        Refusal::RootMismatch { .. } => "root_mismatch",
        _ => "inconsistent",
    };
    tracing::error!(
        origin = cp.origin(),
        kind,
        cosigned_size = known.size,
        new_size = cp.size(),
        code = refusal.code(),
        "witnessed log forked: a signed checkpoint is inconsistent with the co-signed one"
    );
    metrics::counter!(FORKS_METRIC).increment(1);
    node.store
        .put_fork_report(ForkReportRecord {
            id: 0,
            origin: cp.origin().to_owned(),
            kind: kind.to_owned(),
            cosigned_size: known.size,
            cosigned_root: known.root.0.to_vec(),
            checkpoint: checkpoint.to_owned(),
            at: node.now(),
        })
        .await?;
    Ok(())
}

/// The checkpoint `GET /log/checkpoint` serves: the current one with its witnesses'
/// cosignature lines when this node holds them for its size, else the plain one.
pub async fn published_checkpoint(node: &Node) -> Result<String> {
    let cp = crate::log::checkpoint(node).await?;
    Ok(match node.store.cosigned_checkpoint(cp.size).await? {
        Some(c) => c.note,
        None => cp.note,
    })
}

fn net(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Unavailable,
        "witness.parent_unreachable",
        e.to_string(),
    )
}

/// A witness of this node's log: its parent, or, on the hub (which has none), each child it
/// admitted (they witness the hub's log from the trust list, see
/// [`super::trust`]). Its key is fetched once from its `/.well-known/elicense-node`
/// (`witness_key`) and kept, with the size it last co-signed.
pub struct Witness {
    url: NodeUrl,
    client: reqwest::Client,
    key: tokio::sync::OnceCell<WitnessKey>,
    size: Mutex<Option<u64>>,
}

impl Witness {
    /// The witness at `url`.
    pub fn new(url: NodeUrl) -> Result<Self> {
        Ok(Witness {
            url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(net)?,
            key: tokio::sync::OnceCell::new(),
            size: Mutex::new(None),
        })
    }

    /// Its base URL.
    pub fn url(&self) -> &NodeUrl {
        &self.url
    }

    /// The witness's key.
    pub async fn key(&self) -> Result<&WitnessKey> {
        self.key
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/elicense-node", self.url);
                let resp = self.client.get(&url).send().await.map_err(net)?;
                if !resp.status().is_success() {
                    return Err(net(format!("GET {url}: {}", resp.status())));
                }
                let doc: serde_json::Value = resp.json().await.map_err(net)?;
                let vkey = doc["witness_key"].as_str().ok_or_else(|| {
                    invalid("witness.parent_no_key", format!("{url} has no witness_key"))
                })?;
                WitnessKey::parse(vkey)
            })
            .await
    }

    async fn post(&self, body: Vec<u8>) -> Result<(reqwest::StatusCode, Vec<u8>)> {
        let resp = self
            .client
            .post(format!("{}{ADD_CHECKPOINT_PATH}", self.url))
            .header(reqwest::header::CONTENT_TYPE, tlog::LINES_CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(net)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(net)?;
        Ok((status, bytes.to_vec()))
    }
}

/// The witnesses of `node`'s log: its parent; on the hub, its admitted children; none for a
/// standalone node.
pub async fn witnesses_of(node: &Node) -> Result<Vec<NodeUrl>> {
    let Some(me) = node.config.federation.identity() else {
        return Ok(Vec::new());
    };
    if let Some(p) = me.parent() {
        return Ok(vec![p.clone()]);
    }
    let mut out = Vec::new();
    for r in node.store.fed_nodes().await? {
        if r.via.is_none() {
            out.push(
                NodeUrl::parse(&r.url).map_err(|e| {
                    AppError::new(ErrorKind::Internal, "store.corrupt", e.to_string())
                })?,
            );
        }
    }
    Ok(out)
}

/// What [`submit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// The witness co-signed the checkpoint of this size (now stored with its line).
    Cosigned(u64),
    /// The checkpoint of this size was co-signed already: nothing sent.
    AlreadyCosigned(u64),
}

/// Asks `witness` to co-sign this node's current checkpoint, with the consistency proof from
/// the size it last co-signed (remembered, else the latest stored checkpoint that carries
/// its line, else the size a 409 names), checks the cosignature with the witness's key and
/// stores the checkpoint with its line added to those of other witnesses. Errors (codes kept
/// from when the parent was the only witness): `witness.parent_unreachable` (network, 5xx),
/// `witness.parent_refused` (any other refusal; the message has the answer),
/// `witness.parent_ahead` (the witness knows a larger tree than this node's log),
/// `cosignature.*` (a cosignature that does not verify).
pub async fn submit(node: &Node, witness: &Witness) -> Result<Submitted> {
    let cp = crate::log::checkpoint(node).await?;
    let key = witness.key().await?;
    let remembered = *witness.size.lock().expect("witness size");
    let known = match remembered {
        Some(size) => Some(size),
        None => node
            .store
            .latest_cosigned_checkpoint()
            .await?
            .filter(|c| has_line_of(&c.note, key))
            .map(|c| c.size),
    };
    if known == Some(cp.size) {
        *witness.size.lock().expect("witness size") = known;
        return Ok(Submitted::AlreadyCosigned(cp.size));
    }
    let mut old = known.unwrap_or(0);
    // At most one re-send: after a 409 the witness named its size.
    for _ in 0..2 {
        if old > cp.size {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "witness.parent_ahead",
                format!(
                    "the witness {} co-signed a tree of {old} entries, this log has {}",
                    witness.url, cp.size
                ),
            ));
        }
        if old == cp.size && cp.size > 0 {
            // The witness co-signed this very size already (it said so in a 409).
            *witness.size.lock().expect("witness size") = Some(old);
            return Ok(Submitted::AlreadyCosigned(cp.size));
        }
        let proof = if old == 0 {
            Vec::new()
        } else {
            crate::log::consistency_proof(node, old, cp.size).await?
        };
        let body = AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: cp.note.clone(),
        }
        .to_bytes();
        let (status, answer) = witness.post(body).await?;
        match status.as_u16() {
            200 => {
                let out = store_cosigned(node, key, &cp, &answer).await?;
                *witness.size.lock().expect("witness size") = Some(cp.size);
                return Ok(out);
            }
            409 => {
                old = tlog::parse_size_body(&answer)
                    .map_err(|e| refused(status, format!("bad 409 body: {e}").as_bytes()))?;
            }
            s if s >= 500 => return Err(net(format!("{} answered {status}", witness.url))),
            _ => return Err(refused(status, &answer)),
        }
    }
    Err(refused(
        reqwest::StatusCode::CONFLICT,
        b"the witness's size moved twice",
    ))
}

/// Whether a co-signed note carries a cosignature line of `key`.
fn has_line_of(note: &str, key: &WitnessKey) -> bool {
    note.lines()
        .filter_map(|l| Cosignature::parse_line(l).ok())
        .any(|c| c.name() == key.name() && c.key_id() == key.key_id())
}

fn refused(status: reqwest::StatusCode, body: &[u8]) -> AppError {
    let body = String::from_utf8_lossy(&body[..body.len().min(512)]);
    AppError::new(
        ErrorKind::Conflict,
        "witness.parent_refused",
        format!("the witness refused the checkpoint: {status}: {body}"),
    )
}

async fn store_cosigned(
    node: &Node,
    key: &WitnessKey,
    cp: &crate::log::SignedCheckpoint,
    answer: &[u8],
) -> Result<Submitted> {
    let bad = |e: elicense_log::cosignature::CosignatureError| {
        AppError::new(ErrorKind::Invalid, e.code(), e.to_string())
    };
    let text = std::str::from_utf8(answer)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .ok_or_else(|| refused(reqwest::StatusCode::OK, answer))?;
    let note = SignedNote::parse(cp.note.as_bytes())
        .map_err(|e| AppError::internal(format!("own checkpoint: {e}")))?;
    let mut lines = String::new();
    for line in text.split('\n') {
        // Lines by other keys (or of other types) are ignored, as the spec says.
        let Ok(c) = Cosignature::parse_line(line) else {
            continue;
        };
        if c.name() == key.name() && c.key_id() == key.key_id() {
            key.cosigner_key().verify(note.text(), &c).map_err(bad)?;
            lines.push_str(&c.line());
        }
    }
    if lines.is_empty() {
        return Err(bad(elicense_log::cosignature::CosignatureError::WrongKey {
            name: key.name().to_owned(),
            key_id: key.key_id(),
        }));
    }
    // Other witnesses' lines for the same checkpoint stay (one submitter task writes); an
    // older line of this witness's key is replaced.
    if let Some(have) = node.store.cosigned_checkpoint(cp.size).await? {
        if let Some(rest) = have.note.strip_prefix(cp.note.as_str()) {
            let others: String = rest
                .split_inclusive('\n')
                .filter(|l| {
                    Cosignature::parse_line(l.trim_end_matches('\n'))
                        .is_ok_and(|c| !(c.name() == key.name() && c.key_id() == key.key_id()))
                })
                .collect();
            lines = others + &lines;
        }
    }
    let cosigned = format!("{}{lines}", cp.note);
    SignedNote::parse(cosigned.as_bytes())
        .map_err(|e| AppError::internal(format!("co-signed checkpoint: {e}")))?;
    node.store
        .put_cosigned_checkpoint(CosignedCheckpointRecord {
            size: cp.size,
            note: cosigned,
            created_at: node.now(),
        })
        .await?;
    Ok(Submitted::Cosigned(cp.size))
}

/// Runs [`submit`] for every witness of this node ([`witnesses_of`], read again each round)
/// every `every` while the node runs: each time the log grew, the new checkpoint goes to
/// each; after a failure that witness's wait doubles up to a minute, the others go on.
pub async fn run_submitter(node: std::sync::Arc<Node>, every: Duration) {
    use std::collections::HashMap;
    use tokio::time::Instant;
    let mut witnesses: HashMap<String, (Witness, Duration, Instant)> = HashMap::new();
    loop {
        tokio::time::sleep(every).await;
        match witnesses_of(&node).await {
            Ok(urls) => {
                witnesses.retain(|u, _| urls.iter().any(|x| x.as_str() == u));
                for u in urls {
                    if !witnesses.contains_key(u.as_str()) {
                        let key = u.as_str().to_owned();
                        match Witness::new(u) {
                            Ok(w) => {
                                witnesses.insert(key, (w, every, Instant::now()));
                            }
                            Err(e) => tracing::warn!(code = e.code, error = %e.message, "witness"),
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(code = e.code, error = %e.message, "witnesses not read"),
        }
        for (w, wait, next) in witnesses.values_mut() {
            if Instant::now() < *next {
                continue;
            }
            match submit(&node, w).await {
                Ok(Submitted::Cosigned(size)) => {
                    tracing::debug!(size, witness = %w.url(), "checkpoint co-signed");
                    *wait = every;
                }
                Ok(Submitted::AlreadyCosigned(_)) => *wait = every,
                Err(e) => {
                    *wait = (*wait * 2).min(Duration::from_secs(60));
                    tracing::warn!(code = e.code, error = %e.message, witness = %w.url(),
                        retry_in = ?*wait, "the witness did not co-sign the checkpoint");
                }
            }
            *next = Instant::now() + *wait;
        }
    }
}
