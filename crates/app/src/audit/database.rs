//! The auditor's check of every leaf the node serves against the node's database: the store
//! holds the same bytes at the same index, the event the leaf names exists and agrees with it
//! ([`check_leaf`]), and a use's stored opening hashes to the leaf's commitment and opens to
//! that event (so a salt or committed event changed in the database is caught).
//!
//! Events are found through their license: a lifecycle leaf names it, a use's opening does;
//! the events of one lineage are read once per batch of leaves. An operator event's leaf is
//! checked against its row in `operator_events` and, when committed, its opening in
//! `operator_openings` ([`check_operator_leaf`]): a changed subject, actor, time or salt is
//! caught like a use's.

use std::collections::HashMap;

use elicense_store::log::OperatorOpeningRecord;
use elicense_store::log::{check_leaf, check_operator_leaf};
use elicense_store::{EventRecord, LogEntry, OpeningRecord, OperatorEventRecord, Store};

use crate::error::AppError;

/// Leaves checked per batch of database reads.
const BATCH: usize = 1024;

/// Checks the leaves `leaves` (served bytes, from index `first` on) against `store`; returns
/// one failure line per disagreement.
pub(super) async fn check(
    store: &dyn Store,
    first: u64,
    leaves: &[&[u8]],
) -> Result<Vec<String>, AppError> {
    let mut failures = Vec::new();
    for (n, chunk) in leaves.chunks(BATCH).enumerate() {
        let start = first + (n * BATCH) as u64;
        check_batch(store, start, chunk, &mut failures).await?;
    }
    Ok(failures)
}

async fn check_batch(
    store: &dyn Store,
    start: u64,
    leaves: &[&[u8]],
    failures: &mut Vec<String>,
) -> Result<(), AppError> {
    let stored = store
        .log_entries(start, start + leaves.len() as u64)
        .await?;
    let mut parsed = Vec::with_capacity(leaves.len());
    for (i, data) in leaves.iter().enumerate() {
        let index = start + i as u64;
        match stored.get(i) {
            Some(s) if s.index == index && s.data == *data => {}
            _ => failures.push(format!(
                "entry {index}: the database does not hold the leaf the node serves"
            )),
        }
        if let Ok(leaf) = LogEntry::parse(data) {
            parsed.push((index, leaf));
        }
    }
    let use_seqs = parsed
        .iter()
        .filter(|(_, l)| matches!(l, LogEntry::Use(_)))
        .filter_map(|(_, l)| l.event())
        .collect();
    let ops: Vec<i64> = parsed
        .iter()
        .filter_map(|(_, l)| l.operator_event())
        .collect();
    let op_events: HashMap<i64, OperatorEventRecord> = store
        .operator_events_by_seq(ops.clone())
        .await?
        .into_iter()
        .map(|e| (e.seq, e))
        .collect();
    let op_openings: HashMap<i64, OperatorOpeningRecord> = store
        .operator_openings(ops)
        .await?
        .into_iter()
        .map(|o| (o.seq, o))
        .collect();
    let openings: HashMap<i64, OpeningRecord> = store
        .log_openings(use_seqs)
        .await?
        .into_iter()
        .map(|o| (o.seq, o))
        .collect();
    let mut lineages: HashMap<String, Option<String>> = HashMap::new();
    let mut events: HashMap<String, HashMap<i64, EventRecord>> = HashMap::new();
    for (index, leaf) in &parsed {
        if let Some(op) = leaf.operator_event() {
            if let Err(m) = check_operator_leaf(leaf, op_events.get(&op), op_openings.get(&op)) {
                failures.push(format!("entry {index}: {m}"));
            }
            continue;
        }
        let Some(seq) = leaf.event() else {
            continue;
        };
        let opening = openings.get(&seq);
        let identifier = match leaf.identifier() {
            Some(id) => Some(id.to_string()),
            None => opening
                .and_then(|o| o.use_event().ok())
                .map(|u| u.identifier),
        };
        let mut event = None;
        if let Some(id) = identifier {
            if !lineages.contains_key(&id) {
                let lineage = store.license(&id).await?.map(|r| r.lineage);
                lineages.insert(id.clone(), lineage);
            }
            if let Some(lineage) = &lineages[&id] {
                if !events.contains_key(lineage) {
                    let by_seq = store
                        .events(lineage)
                        .await?
                        .into_iter()
                        .map(|e| (e.seq, e))
                        .collect();
                    events.insert(lineage.clone(), by_seq);
                }
                event = events[lineage].get(&seq);
            }
        }
        if let Err(m) = check_leaf(leaf, event, opening) {
            failures.push(format!("entry {index}: {m}"));
        }
    }
    Ok(())
}
