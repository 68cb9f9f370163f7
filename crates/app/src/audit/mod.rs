//! The auditor of a node's event log (`elicense log verify`): it trusts nothing the node
//! serves until it checked it.
//!
//! 1. The origin and note verifier keys from `/.well-known/elicense-log` (or pinned by the
//!    state file: once saved, keys and origin must not change).
//! 2. `/log/checkpoint`, whose every known signature must verify (Ed25519 and SM2).
//! 3. With a state file: consistency of the new checkpoint with the last one seen (RFC 9162
//!    consistency proof from the API, checked against both roots); a smaller tree, or a
//!    different root at the same size, is a fork. The new checkpoint is saved only when
//!    every log check passed.
//! 4. Every entry bundle under `/log/tile/entries/`, fetched concurrently; every entry must
//!    parse as a leaf (version 1, or version 2: a lifecycle leaf, a use's commitment, or an
//!    operator event in clear or committed); the tree is rebuilt from the entries and its
//!    root compared with the checkpoint's.
//! 5. With the node's database ([`AuditOptions::database`]): every leaf against it
//!    ([`database`]): the same bytes stored at the same index, the event it names agreeing
//!    with it, and each use's stored opening hashing to its commitment and opening to that
//!    event; an operator event's leaf against `operator_events` (and its opening in
//!    `operator_openings` when committed). A disagreement is a failure.
//! 6. Replay: the last logged state of each license version (from the leaves that name one:
//!    a use's commitment and an operator event name none), compared with the node's public status
//!    (`/api/v1/licenses/{id}/verification`). A disagreement names the identifier and the
//!    log event that says otherwise.
//!
//! The report is `ok` when every check passed; failures of steps 1–5 are `failures`, those of
//! step 6 `mismatches`. `Err` means the audit could not be carried out (node unreachable,
//! malformed answers).

mod database;
mod fetch;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use elicense_core::lifecycle::Status;
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::tiles::{BundleId, EntryBundle, TILE_WIDTH};
use elicense_log::{leaf_hash, verify_consistency, Checkpoint, Frontier, Hash};
use elicense_store::{LogEntry, Store};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorKind};
use fetch::{bad, net, Fetcher};

/// What the auditor remembers between runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct AuditState {
    pub origin: String,
    pub verifier_keys: Vec<String>,
    /// The last checkpoint that passed every log check (signed note text).
    pub checkpoint: String,
}

/// A license whose public state differs from the replay of the log.
#[derive(Debug, Serialize)]
pub struct Mismatch {
    pub identifier: String,
    /// Status the node reports now (`None`: the node does not know the license).
    pub node_status: Option<String>,
    pub node_list_value: Option<u8>,
    /// Status the last log event for the identifier leaves it in.
    pub log_status: String,
    /// That event: its leaf index and entry.
    pub event_index: u64,
    pub event: LogEntry,
}

/// The outcome of an audit.
#[derive(Debug, Serialize)]
pub struct Report {
    pub node: String,
    pub origin: String,
    pub tree_size: u64,
    pub root: String,
    /// Names and key IDs of the signatures that verified.
    pub signatures: Vec<String>,
    /// Size of the previous checkpoint the new one was proven consistent with.
    pub consistent_with: Option<u64>,
    pub entries: u64,
    /// Entries that are uses' commitments (leaf format 2).
    pub uses: u64,
    /// Entries that are operator events (in clear or committed; leaf format 2).
    pub operator_events: u64,
    /// Entries checked against the node's database (`None`: no database given).
    pub database_checked: Option<u64>,
    pub licenses_checked: usize,
    pub mismatches: Vec<Mismatch>,
    /// Log-level failures (signature, consistency, root, database): any makes the audit fail.
    pub failures: Vec<String>,
    pub seconds: f64,
    pub ok: bool,
}

/// What to audit and how.
pub struct AuditOptions<'a> {
    /// Base URL of the node, e.g. `http://127.0.0.1:8080`.
    pub node: &'a str,
    /// Where to keep the last verified checkpoint (and the node's keys) between runs.
    pub state: Option<&'a Path>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Compare the node's public license states with the replay of the log.
    pub replay: bool,
    /// The node's database: check every leaf against it.
    pub database: Option<Arc<dyn Store>>,
}

fn read_state(path: &Path) -> Result<Option<AuditState>, AppError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| bad(format!("state file {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AppError::new(
            ErrorKind::Invalid,
            "audit.state",
            format!("{}: {e}", path.display()),
        )),
    }
}

fn write_state(path: &Path, state: &AuditState) -> Result<(), AppError> {
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_string_pretty(state).expect("state serialises");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| AppError::new(ErrorKind::Invalid, "audit.state", e.to_string()))
}

/// Audits the node `opts.node`.
pub async fn run(opts: AuditOptions<'_>) -> Result<Report, AppError> {
    let started = Instant::now();
    let f = Fetcher::new(opts.node)?;
    let concurrency = opts.concurrency.max(1);
    let mut failures = Vec::new();
    let previous = match opts.state {
        Some(p) => read_state(p)?,
        None => None,
    };

    // 1. Origin and keys.
    let meta = f.json("/.well-known/elicense-log").await?;
    let origin = meta["origin"]
        .as_str()
        .ok_or_else(|| bad("no origin in /.well-known/elicense-log"))?
        .to_string();
    let key_strings: Vec<String> = serde_json::from_value(meta["verifier_keys"].clone())
        .map_err(|e| bad(format!("verifier_keys: {e}")))?;
    let (origin, key_strings) = match &previous {
        Some(prev) => {
            if prev.origin != origin {
                failures.push(format!("origin changed from {} to {origin}", prev.origin));
            }
            if prev.verifier_keys != key_strings {
                failures.push("the node's verifier keys changed since the last audit".into());
            }
            (prev.origin.clone(), prev.verifier_keys.clone())
        }
        None => (origin, key_strings),
    };
    let keys = key_strings
        .iter()
        .map(|k| VerifierKey::parse(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("verifier key: {e}")))?;
    let known = Verifiers::new(keys).map_err(|e| bad(e.to_string()))?;
    let mut report = Report {
        node: f.base.clone(),
        origin: origin.clone(),
        tree_size: 0,
        root: String::new(),
        signatures: Vec::new(),
        consistent_with: None,
        entries: 0,
        uses: 0,
        operator_events: 0,
        database_checked: None,
        licenses_checked: 0,
        mismatches: Vec::new(),
        failures: Vec::new(),
        seconds: 0.0,
        ok: false,
    };

    // 2. The checkpoint.
    let note = f.get("/log/checkpoint").await?.text().await.map_err(net)?;
    let verified = match VerifiedCheckpoint::open(note.as_bytes(), &origin, &known) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("checkpoint rejected: {e}"));
            report.failures = failures;
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    };
    report.signatures = verified
        .note()
        .verified()
        .map(|s| format!("{}+{:08x}", s.name(), s.key_id()))
        .collect();
    if report.signatures.len() < key_strings.len() {
        failures.push(format!(
            "checkpoint has {} of {} expected signatures",
            report.signatures.len(),
            key_strings.len()
        ));
    }
    let cp = verified.checkpoint().clone();
    let size = cp.size();

    // 3. Consistency with the last checkpoint seen.
    if let Some(prev) = &previous {
        match Checkpoint::parse(
            elicense_log::note::SignedNote::parse(prev.checkpoint.as_bytes())
                .map_err(|e| bad(format!("state checkpoint: {e}")))?
                .text(),
        ) {
            Ok(old) => match check_consistency(&f, &old, &cp).await? {
                Err(why) => failures.push(why),
                Ok(()) => report.consistent_with = Some(old.size()),
            },
            Err(e) => failures.push(format!("state checkpoint unreadable: {e}")),
        }
    }

    // 4. Entries: fetch every bundle, rebuild the tree.
    let fetched = fetch_bundles(&f, size, concurrency).await?;
    let mut frontier = Frontier::new();
    // identifier -> (leaf index, entry) of its last event that names it.
    let mut last: BTreeMap<String, (u64, LogEntry)> = BTreeMap::new();
    let mut index = 0u64;
    for bundle in &fetched {
        for data in bundle.entries() {
            frontier.append(leaf_hash(data));
            match LogEntry::parse(data) {
                Ok(LogEntry::Use(_)) => report.uses += 1,
                // An operator event is about no license: checked against the database in
                // step 5, never replayed as a license's state.
                Ok(LogEntry::Operator(_) | LogEntry::OperatorCommit(_)) => {
                    report.operator_events += 1
                }
                Ok(e) => {
                    if let (true, Some(id)) = (opts.replay, e.identifier()) {
                        last.insert(id.to_string(), (index, e));
                    }
                }
                Err(e) => failures.push(format!("entry {index} is not a log entry: {e}")),
            }
            index += 1;
        }
    }
    if frontier.root() != cp.root() {
        failures.push(format!(
            "the entries hash to {}, the checkpoint says {}",
            frontier.root(),
            cp.root()
        ));
    }

    // 5. Every leaf against the database.
    if let Some(store) = &opts.database {
        let leaves: Vec<&[u8]> = fetched
            .iter()
            .flat_map(|b| b.entries())
            .map(Vec::as_slice)
            .collect();
        failures.extend(database::check(store.as_ref(), 0, &leaves).await?);
        report.database_checked = Some(leaves.len() as u64);
    }

    // 6. Replay against the node's public status.
    report.licenses_checked = last.len();
    report.mismatches = replay(&f, &last, concurrency).await?;

    if failures.is_empty() {
        if let Some(p) = opts.state {
            write_state(
                p,
                &AuditState {
                    origin: origin.clone(),
                    verifier_keys: key_strings.clone(),
                    checkpoint: note.clone(),
                },
            )?;
        }
    }
    report.ok = failures.is_empty() && report.mismatches.is_empty();
    report.failures = failures;
    report.tree_size = size;
    report.root = cp.root().to_hex();
    report.entries = index;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn fetch_bundles(
    f: &Fetcher,
    size: u64,
    concurrency: usize,
) -> Result<Vec<EntryBundle>, AppError> {
    let width = u64::from(TILE_WIDTH);
    let bundles: Vec<BundleId> = (0..size.div_ceil(width))
        .map(|i| BundleId::new(i, (size - i * width).min(width) as u16).expect("valid bundle"))
        .collect();
    futures::stream::iter(bundles.into_iter().map(|id| async move {
        let bytes = f
            .get(&format!("/log/{}", id.path()))
            .await?
            .bytes()
            .await
            .map_err(net)?;
        EntryBundle::parse_for(id, &bytes).map_err(|e| bad(format!("{}: {e}", id.path())))
    }))
    .buffered(concurrency)
    .try_collect()
    .await
}

fn expected_list_value(status: &str) -> Option<u8> {
    Status::parse(status).map(|s| s.status_list_value())
}

/// The licenses whose public status is not the one their last leaf left them in.
async fn replay(
    f: &Fetcher,
    last: &BTreeMap<String, (u64, LogEntry)>,
    concurrency: usize,
) -> Result<Vec<Mismatch>, AppError> {
    let checks = futures::stream::iter(last.iter().map(|(id, (idx, entry))| async move {
        let node_state = f.public_status(id).await?;
        let logged = entry.status().unwrap_or_default();
        let agrees = match &node_state {
            Some((Some(code), Some(value))) => {
                code == logged && Some(*value) == expected_list_value(logged)
            }
            _ => false,
        };
        Ok::<_, AppError>((!agrees).then(|| Mismatch {
            identifier: id.clone(),
            node_status: node_state.as_ref().and_then(|(c, _)| c.clone()),
            node_list_value: node_state.as_ref().and_then(|(_, v)| *v),
            log_status: logged.to_string(),
            event_index: *idx,
            event: entry.clone(),
        }))
    }))
    .buffered(concurrency)
    .try_collect::<Vec<_>>()
    .await?;
    Ok(checks.into_iter().flatten().collect())
}

/// `Ok(Ok(()))` when `new` extends `old`; `Ok(Err(why))` for a fork or rollback.
async fn check_consistency(
    f: &Fetcher,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<Result<(), String>, AppError> {
    if new.size() < old.size() {
        return Ok(Err(format!(
            "the tree shrank from {} to {} entries",
            old.size(),
            new.size()
        )));
    }
    if new.size() == old.size() {
        return Ok(if new.root() == old.root() {
            Ok(())
        } else {
            Err(format!("two roots for size {}: a fork", new.size()))
        });
    }
    let proof = f
        .json(&format!(
            "/api/v1/log/proof/consistency?from={}&to={}",
            old.size(),
            new.size()
        ))
        .await?;
    let hashes: Vec<String> =
        serde_json::from_value(proof["hashes"].clone()).map_err(|e| bad(e.to_string()))?;
    let hashes: Vec<Hash> = crate::log::hashes_from_b64(&hashes)
        .ok_or_else(|| bad("consistency proof is not base64 hashes"))?;
    Ok(
        verify_consistency(old.size(), new.size(), &old.root(), &new.root(), &hashes).map_err(
            |e| {
                format!(
                    "checkpoint {} is not consistent with the last one seen ({}): {e}",
                    new.size(),
                    old.size()
                )
            },
        ),
    )
}
