//! `elicense log verify --node URL [--state FILE] [--data DIR | --database URL]`: runs the
//! auditor (`elicense_app::audit`) and prints its report.
//!
//! Exit 0: all checks passed; 1: a check failed (report on stdout, reasons on stderr);
//! 2: the audit could not be carried out (node unreachable, malformed answers).

use std::path::PathBuf;

use elicense_app::audit::{self, AuditOptions};

use crate::cli::DataArgs;
use crate::output;

/// What `log verify` was asked.
pub struct VerifyArgs {
    pub node: String,
    pub state: Option<PathBuf>,
    pub concurrency: usize,
    pub replay: bool,
    /// The node's data dir (and database), to check every leaf against the database.
    pub data: Option<DataArgs>,
}

pub async fn verify(a: VerifyArgs) -> i32 {
    let database = match &a.data {
        Some(d) => match super::open_node(d) {
            Ok(node) => Some(node.store.clone()),
            Err(e) => return output::error(&e, false),
        },
        None => None,
    };
    let opts = AuditOptions {
        node: &a.node,
        state: a.state.as_deref(),
        concurrency: a.concurrency,
        replay: a.replay,
        database,
    };
    match audit::run(opts).await {
        Ok(report) => {
            for f in &report.failures {
                eprintln!("FAIL: {f}");
            }
            for m in &report.mismatches {
                eprintln!(
                    "MISMATCH: {}: node says {}, log entry {} ({} of event {}) says {}",
                    m.identifier,
                    m.node_status.as_deref().unwrap_or("unknown license"),
                    m.event_index,
                    m.event.kind().unwrap_or("use"),
                    m.event.event().unwrap_or_default(),
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
