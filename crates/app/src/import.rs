//! Bulk import from CSV, resumable.
//!
//! The job id is the SHA-256 of the file, so running the same file again resumes its job. Each
//! row that issues is journalled in the same transaction as its license; each row that fails is
//! journalled with its error code. Rows already journalled are skipped, so a process killed
//! mid-import loses no acknowledged row and issues none twice.
//!
//! Columns: `type`, `issuer`, `holder_name`, `holder_id` (required), `valid_until`,
//! `related_matter`, `alg` (optional); every other column is a catalogue data item, an empty
//! cell meaning "not given".

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use elicense_crypto::Alg;
use elicense_store::ImportRowRecord;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind, Result};
use crate::issue::{issue_with_journal, IssueRequest};
use crate::node::Node;

/// Receives progress (the CLI draws a bar with it).
pub trait Progress: Send + Sync {
    fn start(&self, total: u64, already_done: u64);
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// A progress sink that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Algorithm for rows without an `alg` column.
    pub alg: Option<Alg>,
    /// Rows issued concurrently.
    pub workers: usize,
    /// Where the error report goes (default: `<csv>.errors.csv`).
    pub report: Option<PathBuf>,
    pub actor: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            alg: None,
            // Many rows in flight keep both the signing cores and the group-commit writer busy:
            // a batch of up to 512 rows commits while the next one is signed. Measured on 2
            // cores (docs/SCALE.md): 1,024 in flight gave 5,000 rows/s on PostgreSQL, 256 gave
            // 3,400 and 32 about 1,300.
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()) * 512,
            report: None,
            actor: "import".into(),
        }
    }
}

/// What an import run did (counting rows of earlier runs of the same job too).
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub job: String,
    pub rows: u64,
    pub issued: u64,
    pub failed: u64,
    /// Rows done by an earlier, interrupted run and skipped now.
    pub resumed: u64,
    pub report: PathBuf,
}

const REQUIRED: [&str; 4] = ["type", "issuer", "holder_name", "holder_id"];
const OPTIONAL: [&str; 3] = ["valid_until", "related_matter", "alg"];

/// Imports `path`; see the module documentation.
pub async fn import_csv(
    node: &Arc<Node>,
    path: &Path,
    opts: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let bytes = std::fs::read(path).map_err(|e| {
        AppError::new(
            ErrorKind::Invalid,
            "import.io",
            format!("{}: {e}", path.display()),
        )
    })?;
    let job = hex::encode(Sha256::digest(&bytes));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::new(ErrorKind::Invalid, "import.bad_header", e.to_string()))?
        .iter()
        // Spreadsheet programs put a UTF-8 byte-order mark before the first column name.
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    for col in REQUIRED {
        if !headers.iter().any(|h| h == col) {
            return Err(AppError::new(
                ErrorKind::Invalid,
                "import.missing_column",
                format!(
                    "the CSV header has no column {col:?} (needs {})",
                    REQUIRED.join(", ")
                ),
            ));
        }
    }
    // Only a file whose header is usable starts (or resumes) a job.
    let done: HashSet<u64> = node
        .store
        .begin_job(&job, &path.display().to_string(), node.now())
        .await?
        .into_iter()
        .map(|r| r.row)
        .collect();
    let total = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_slice())
        .records()
        .count() as u64;
    progress.start(total, done.len() as u64);

    // One task per row, at most `workers` at once (a semaphore permit each). A pool of
    // long-lived workers pulling from one shared receiver was slower: the receiver's lock was
    // handed from worker to worker through the scheduler's run queue, behind rows being
    // signed, so most workers waited for their next row with the cores half idle.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(opts.workers.max(1)));
    // The first error that stops the import (the store is down or something is badly wrong);
    // the rows in flight finish or fail, no new one starts, and a rerun resumes.
    let stop: Arc<std::sync::Mutex<Option<AppError>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    let alg = opts.alg;
    let actor = format!("{}:{}", opts.actor, &job[..12]);
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 1;
        if done.contains(&row) {
            continue;
        }
        let req = match record {
            Ok(r) => to_request(&headers, &r, alg, &actor),
            Err(e) => Err(AppError::new(
                ErrorKind::Invalid,
                "import.bad_row",
                e.to_string(),
            )),
        };
        let permit = in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        while let Some(joined) = tasks.try_join_next() {
            note_panic(&stop, joined);
        }
        if stop.lock().expect("stop lock").is_some() {
            break;
        }
        let (node, job, stop) = (node.clone(), job.clone(), stop.clone());
        tasks.spawn(async move {
            let _permit = permit;
            if let Err(e) = import_row(&node, &job, row, req).await {
                stop.lock().expect("stop lock").get_or_insert(e);
            }
        });
        progress.advance(1);
    }
    while let Some(joined) = tasks.join_next().await {
        note_panic(&stop, joined);
    }
    let fed = match stop.lock().expect("stop lock").take() {
        Some(e) => Err(e),
        None => Ok(()),
    };
    progress.finish();
    fed?;

    let rows = node.store.job_rows(&job).await?;
    let report = opts.report.clone().unwrap_or_else(|| {
        let mut p = path.as_os_str().to_owned();
        p.push(".errors.csv");
        PathBuf::from(p)
    });
    write_report(&report, &rows)?;
    let failed = rows.iter().filter(|r| r.error_code.is_some()).count() as u64;
    Ok(ImportSummary {
        job,
        rows: total,
        issued: rows.len() as u64 - failed,
        failed,
        resumed: done.len() as u64,
        report,
    })
}

/// Issues one row, or journals why it cannot be issued; `Err` only for an error that stops the
/// whole import (the store is unavailable, or an internal fault).
async fn import_row(
    node: &Arc<Node>,
    job: &str,
    row: u64,
    req: Result<IssueRequest>,
) -> Result<()> {
    let outcome = match req {
        Ok(req) => issue_with_journal(node, req, Some((job.to_string(), row)))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let Err(e) = outcome else {
        return Ok(());
    };
    if matches!(e.kind, ErrorKind::Unavailable | ErrorKind::Internal) {
        return Err(e);
    }
    node.store
        .record_failure(ImportRowRecord {
            job: job.to_string(),
            row,
            identifier: None,
            error_code: Some(e.code.to_string()),
            error_message: Some(e.message.clone()),
        })
        .await?;
    Ok(())
}

/// A row's task that panicked stops the import like an internal error.
fn note_panic(
    stop: &std::sync::Mutex<Option<AppError>>,
    joined: std::result::Result<(), tokio::task::JoinError>,
) {
    if let Err(e) = joined {
        stop.lock()
            .expect("stop lock")
            .get_or_insert(AppError::internal(e.to_string()));
    }
}

fn to_request(
    headers: &[String],
    record: &csv::StringRecord,
    alg: Option<Alg>,
    actor: &str,
) -> std::result::Result<IssueRequest, AppError> {
    if record.len() != headers.len() {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "import.bad_row",
            format!(
                "row has {} cells, the header {}",
                record.len(),
                headers.len()
            ),
        ));
    }
    let mut req = IssueRequest {
        alg,
        actor: actor.to_string(),
        ..Default::default()
    };
    let mut fields = BTreeMap::new();
    for (h, v) in headers.iter().zip(record.iter()) {
        let v = v.trim();
        match h.as_str() {
            "type" => req.type_code = v.to_string(),
            "issuer" => req.issuer = v.to_string(),
            "holder_name" => req.holder_name = v.to_string(),
            "holder_id" => req.holder_id = v.to_string(),
            "valid_until" if !v.is_empty() => req.valid_until = Some(v.to_string()),
            "related_matter" if !v.is_empty() => req.related_matter = Some(v.to_string()),
            "alg" if !v.is_empty() => {
                req.alg = Some(v.parse().map_err(|_| {
                    AppError::new(
                        ErrorKind::Invalid,
                        "import.bad_alg",
                        format!("alg {v:?} is not sm2, ed25519 or es256"),
                    )
                })?)
            }
            _ if OPTIONAL.contains(&h.as_str()) || v.is_empty() => {}
            _ => {
                fields.insert(h.clone(), v.to_string());
            }
        }
    }
    req.fields = fields;
    Ok(req)
}

fn write_report(path: &Path, rows: &[ImportRowRecord]) -> Result<()> {
    let io = |e: std::io::Error| {
        AppError::new(
            ErrorKind::Unavailable,
            "import.io",
            format!("{}: {e}", path.display()),
        )
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| io(std::io::Error::other(e)))?;
    w.write_record(["row", "code", "message"])
        .map_err(|e| io(std::io::Error::other(e)))?;
    for r in rows.iter().filter(|r| r.error_code.is_some()) {
        w.write_record([
            r.row.to_string(),
            r.error_code.clone().unwrap_or_default(),
            r.error_message.clone().unwrap_or_default(),
        ])
        .map_err(|e| io(std::io::Error::other(e)))?;
    }
    w.flush().map_err(io)
}
