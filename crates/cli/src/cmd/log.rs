//! `elicense log verify --node URL [--state FILE]`: an auditor of a node's event log that
//! trusts nothing the node serves until it checked it.
//!
//! 1. The origin and note verifier keys from `/.well-known/elicense-log` (or pinned by the
//!    state file: once saved, keys and origin must not change).
//! 2. `/log/checkpoint`, whose every known signature must verify (Ed25519 and SM2).
//! 3. With `--state`: consistency of the new checkpoint with the last one seen (RFC 9162
//!    consistency proof from the API, checked against both roots); a smaller tree, or a
//!    different root at the same size, is a fork. The new checkpoint is saved only when
//!    every log check passed.
//! 4. Every entry bundle under `/log/tile/entries/`, fetched concurrently; the tree is
//!    rebuilt from the entries and its root compared with the checkpoint's.
//! 5. Replay: the last logged state of each license version, compared with the node's
//!    public status (`/api/v1/licenses/{id}/verification`). A disagreement names the
//!    identifier and the log event that says otherwise.
//!
//! `--no-replay` stops after step 4 (a mirror or witness checking the log alone).
//!
//! Exit 0: all checks passed; 1: a check failed (report on stdout, reasons on stderr);
//! 2: the audit could not be carried out (node unreachable, malformed answers).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use elicense_app::{AppError, ErrorKind};
use elicense_core::lifecycle::Status;
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::tiles::{BundleId, EntryBundle, TILE_WIDTH};
use elicense_log::{leaf_hash, verify_consistency, Checkpoint, Frontier, Hash};
use elicense_store::LogEntry;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output;

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
    pub licenses_checked: usize,
    pub mismatches: Vec<Mismatch>,
    /// Log-level failures (signature, consistency, root): any makes the audit fail.
    pub failures: Vec<String>,
    pub seconds: f64,
    pub ok: bool,
}

fn net(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Unavailable, "audit.fetch", e.to_string())
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, "audit.bad_answer", msg)
}

struct Fetcher {
    client: reqwest::Client,
    base: String,
}

impl Fetcher {
    async fn get(&self, path: &str) -> Result<reqwest::Response, AppError> {
        let url = format!("{}{path}", self.base);
        let resp = self.client.get(&url).send().await.map_err(net)?;
        if !resp.status().is_success() {
            return Err(net(format!("GET {url}: {}", resp.status())));
        }
        Ok(resp)
    }

    async fn json(&self, path: &str) -> Result<Value, AppError> {
        self.get(path)
            .await?
            .json()
            .await
            .map_err(|e| bad(format!("{path}: {e}")))
    }
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

fn expected_list_value(status: &str) -> Option<u8> {
    Status::parse(status).map(|s| s.status_list_value())
}

pub async fn verify(
    node: &str,
    state_path: Option<PathBuf>,
    concurrency: usize,
    replay: bool,
) -> i32 {
    match run(node, state_path.as_deref(), concurrency.max(1), replay).await {
        Ok(report) => {
            for f in &report.failures {
                eprintln!("FAIL: {f}");
            }
            for m in &report.mismatches {
                eprintln!(
                    "MISMATCH: {}: node says {}, log entry {} ({} by {} at {}, event {}) says {}",
                    m.identifier,
                    m.node_status.as_deref().unwrap_or("unknown license"),
                    m.event_index,
                    m.event.kind,
                    m.event.actor,
                    m.event.at,
                    m.event.event,
                    m.log_status
                );
            }
            let ok = report.ok;
            output::json(&report);
            if ok {
                0
            } else {
                1
            }
        }
        Err(e) => output::error(&e, false),
    }
}

async fn run(
    node: &str,
    state_path: Option<&Path>,
    concurrency: usize,
    replay: bool,
) -> Result<Report, AppError> {
    let started = Instant::now();
    let f = Fetcher {
        client: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(net)?,
        base: node.trim_end_matches('/').to_string(),
    };
    let mut failures = Vec::new();
    let previous = match state_path {
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

    // 2. The checkpoint.
    let note = f.get("/log/checkpoint").await?.text().await.map_err(net)?;
    let verified = match VerifiedCheckpoint::open(note.as_bytes(), &origin, &known) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("checkpoint rejected: {e}"));
            return Ok(Report {
                node: f.base.clone(),
                origin,
                tree_size: 0,
                root: String::new(),
                signatures: Vec::new(),
                consistent_with: None,
                entries: 0,
                licenses_checked: 0,
                mismatches: Vec::new(),
                failures,
                seconds: started.elapsed().as_secs_f64(),
                ok: false,
            });
        }
    };
    let signatures: Vec<String> = verified
        .note()
        .verified()
        .map(|s| format!("{}+{:08x}", s.name(), s.key_id()))
        .collect();
    if signatures.len() < key_strings.len() {
        failures.push(format!(
            "checkpoint has {} of {} expected signatures",
            signatures.len(),
            key_strings.len()
        ));
    }
    let cp = verified.checkpoint().clone();
    let size = cp.size();

    // 3. Consistency with the last checkpoint seen.
    let mut consistent_with = None;
    if let Some(prev) = &previous {
        match Checkpoint::parse(
            elicense_log::note::SignedNote::parse(prev.checkpoint.as_bytes())
                .map_err(|e| bad(format!("state checkpoint: {e}")))?
                .text(),
        ) {
            Ok(old) => {
                if let Err(why) = check_consistency(&f, &old, &cp).await? {
                    failures.push(why);
                } else {
                    consistent_with = Some(old.size());
                }
            }
            Err(e) => failures.push(format!("state checkpoint unreadable: {e}")),
        }
    }

    // 4. Entries: fetch every bundle, rebuild the tree.
    let width = u64::from(TILE_WIDTH);
    let bundles: Vec<BundleId> = (0..size.div_ceil(width))
        .map(|i| BundleId::new(i, (size - i * width).min(width) as u16).expect("valid bundle"))
        .collect();
    let fetched: Vec<EntryBundle> = futures::stream::iter(bundles.into_iter().map(|id| {
        let f = &f;
        async move {
            let bytes = f
                .get(&format!("/log/{}", id.path()))
                .await?
                .bytes()
                .await
                .map_err(net)?;
            EntryBundle::parse_for(id, &bytes).map_err(|e| bad(format!("{}: {e}", id.path())))
        }
    }))
    .buffered(concurrency)
    .try_collect()
    .await?;
    let mut frontier = Frontier::new();
    // identifier -> (leaf index, entry) of its last event.
    let mut last: BTreeMap<String, (u64, LogEntry)> = BTreeMap::new();
    let mut index = 0u64;
    for bundle in &fetched {
        for data in bundle.entries() {
            frontier.append(leaf_hash(data));
            match LogEntry::parse(data) {
                Ok(e) if replay => {
                    last.insert(e.identifier.clone(), (index, e));
                }
                Ok(_) => {}
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

    // 5. Replay against the node's public status.
    let to_check = last.len();
    let checks = futures::stream::iter(last.iter().take(to_check).map(|(id, (idx, entry))| {
        let f = &f;
        async move {
            let resp = f
                .client
                .get(format!("{}/api/v1/licenses/{id}/verification", f.base))
                .send()
                .await
                .map_err(net)?;
            let node_state = if resp.status() == reqwest::StatusCode::NOT_FOUND {
                None
            } else if resp.status().is_success() {
                let v: Value = resp.json().await.map_err(|e| bad(e.to_string()))?;
                let code = v["status"]["code"].as_str().map(str::to_string);
                let value = v["status"]["list_value"].as_u64().map(|v| v as u8);
                Some((code, value))
            } else {
                return Err(net(format!("status of {id}: {}", resp.status())));
            };
            let agrees = match &node_state {
                Some((Some(code), Some(value))) => {
                    code == &entry.status && Some(*value) == expected_list_value(&entry.status)
                }
                _ => false,
            };
            Ok::<_, AppError>((!agrees).then(|| Mismatch {
                identifier: id.clone(),
                node_status: node_state.as_ref().and_then(|(c, _)| c.clone()),
                node_list_value: node_state.as_ref().and_then(|(_, v)| *v),
                log_status: entry.status.clone(),
                event_index: *idx,
                event: entry.clone(),
            }))
        }
    }))
    .buffered(concurrency)
    .try_collect::<Vec<_>>()
    .await?;
    let mismatches: Vec<Mismatch> = checks.into_iter().flatten().collect();

    if failures.is_empty() {
        if let Some(p) = state_path {
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
    let ok = failures.is_empty() && mismatches.is_empty();
    Ok(Report {
        node: f.base.clone(),
        origin,
        tree_size: size,
        root: cp.root().to_hex(),
        signatures,
        consistent_with,
        entries: index,
        licenses_checked: to_check,
        mismatches,
        failures,
        seconds: started.elapsed().as_secs_f64(),
        ok,
    })
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
    let hashes: Vec<Hash> = elicense_app::log::hashes_from_b64(&hashes)
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
