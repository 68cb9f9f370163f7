//! `elicense bench lookup --database URL --entries N [--count M] [--tasks C]`: point lookup of a
//! license by identifier (`Store::license`, the query behind verification, sharing and the
//! verification page) with N licenses in the store. Target on PostgreSQL: p99 ≤ 2 ms at
//! N = 10,000,000.
//!
//! The store is filled to N licenses the way `bench verify-page` fills it: one really issued
//! SM2 license and copies of its record under fresh identifiers and status slots, written
//! through the store's own insert (license + event + log entry per row, group commit), so
//! tables, indexes and log have the size of a real store of N licenses. A store that already
//! holds licenses (a `?schema=` or SQLite file given again) is only topped up, and left as it
//! is when it holds N or more: a 10M store is filled once and measured many times.
//!
//! Each lookup asks for a serial drawn uniformly from all the store's serials, so the cache
//! sees the whole table rather than a warmed sample. The limit measured in the same run is the
//! floor of any query: a primary-key read of one row of a table of a few rows (the issuer),
//! through the same pool, at the same concurrency; ratio = floor p99 / lookup p99.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elicense_app::issue::issue_with_journal;
use elicense_app::{AppError, ErrorKind, Node};
use elicense_core::gb32100::Uscc;
use elicense_core::ident::{Identifier, TypeCode};
use elicense_crypto::Alg;
use elicense_store::{NewLicense, SqliteStore, Store};
use rand::Rng;
use serde_json::{json, Value};

use super::bench::{cores, round, round3, workload, BENCH_ISSUER, BENCH_TYPE};
use super::bench_import::raw_client;
use super::{parse_database_url, DatabaseUrl};
use crate::cli::BenchArgs;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

/// Identifiers kept for the callers that need known-present ones (at most this many).
const SAMPLE: usize = 20_000;

/// The benchmark's identifier for a serial.
fn identifier(type_code: &TypeCode, issuer: &Uscc, serial: u64) -> Result<Identifier, AppError> {
    Identifier::new(
        type_code.clone(),
        issuer.clone(),
        &format!("{serial:010}"),
        1,
    )
    .map_err(AppError::invalid)
}

fn bench_codes() -> Result<(TypeCode, Uscc), AppError> {
    Ok((
        TypeCode::parse(BENCH_TYPE).map_err(AppError::invalid)?,
        Uscc::parse(BENCH_ISSUER).map_err(AppError::invalid)?,
    ))
}

/// The benchmark identifier of a serial drawn uniformly from `1..=max_serial`.
fn random_identifier(
    (type_code, issuer): &(TypeCode, Uscc),
    max_serial: u64,
) -> Result<String, AppError> {
    let serial = rand::thread_rng().gen_range(1..=max_serial.max(1));
    Ok(identifier(type_code, issuer, serial)?.to_string())
}

/// Identifiers known to be in a store of `total` benchmark licenses that this run did not fill:
/// random serials, each kept once a lookup finds it.
pub(super) async fn present_sample(node: &Node, total: u64) -> Result<Vec<String>, AppError> {
    let codes = bench_codes()?;
    let mut ids = Vec::new();
    for _ in 0..(SAMPLE as u64 / 10).min(total) * 2 {
        let id = random_identifier(&codes, total)?;
        if node.store.license(&id).await?.is_some() {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(internal("the store holds no benchmark licenses"));
    }
    Ok(ids)
}

/// A node on `--database` (or a SQLite file in `tmp`) with the benchmark's type, issuer and
/// key, topped up to `--entries` licenses. Returns the node, the licenses it holds, a uniform
/// sample of the identifiers written in this run (with the one really issued license; empty
/// when the store was already full, see [`present_sample`]), and the seconds the fill took.
pub(super) async fn filled_node(
    a: &BenchArgs,
    tmp: &std::path::Path,
    base_url: &str,
) -> Result<(Arc<Node>, u64, Vec<String>, f64), AppError> {
    filled_node_with(a, tmp, elicense_app::NodeConfig::ephemeral(base_url)).await
}

/// [`filled_node`] with a configuration of the caller's.
pub(super) async fn filled_node_with(
    a: &BenchArgs,
    tmp: &std::path::Path,
    config: elicense_app::NodeConfig,
) -> Result<(Arc<Node>, u64, Vec<String>, f64), AppError> {
    let store: Arc<dyn Store> = match a.database.as_deref() {
        Some(url) => super::open_store(url)?,
        None => Arc::new(SqliteStore::open(tmp.join("bench.db"), Default::default())?),
    };
    let (_, sd) = workload(&a.claims)?;
    let node = super::bench::bench_node_with(store, Alg::Sm2, &sd, config).await?;
    let entries = a.entries.max(1);
    let have = node.store.count().await? as usize;
    let (mut ids, mut fill_secs) = (Vec::new(), 0.0);
    if have < entries {
        let mut req = super::bench::request(&sd, Alg::Sm2);
        req.actor = "bench".into();
        let first = issue_with_journal(&node, req, None).await?;
        let record = node
            .store
            .license(first.identifier.as_str())
            .await?
            .ok_or_else(|| internal("issued license missing"))?;
        let event = node
            .store
            .events(&record.lineage)
            .await?
            .pop()
            .ok_or_else(|| internal("no event"))?;
        let template = NewLicense {
            license: record,
            event,
            import_row: None,
        };
        let start = Instant::now();
        ids = fill(&node, template, entries - have - 1, !a.json).await?;
        fill_secs = start.elapsed().as_secs_f64();
        ids.push(first.identifier.to_string());
    }
    let total = node.store.count().await?;
    Ok((node, total, ids, fill_secs))
}

/// Writes `n` copies of `template` under fresh identifiers and slots, with enough rows in flight
/// that the group commit writes full batches. Returns up to `SAMPLE` of the identifiers, spread
/// evenly over the run. With `progress`, reports to stderr every 10 seconds.
async fn fill(
    node: &Arc<Node>,
    template: NewLicense,
    n: usize,
    progress: bool,
) -> Result<Vec<String>, AppError> {
    let tasks = (cores() * 256).clamp(8, n.max(8));
    let template = Arc::new(template);
    let done = Arc::new(AtomicUsize::new(0));
    let reporter = progress.then(|| {
        let done = done.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let d = done.load(Ordering::Relaxed);
                eprintln!(
                    "filled {d} of {n} ({:.0} /s)",
                    d as f64 / start.elapsed().as_secs_f64()
                );
            }
        })
    });
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (node, template, done) = (node.clone(), template.clone(), done.clone());
        let share = n / tasks + usize::from(t < n % tasks);
        let every = (share / (SAMPLE / tasks).max(1)).max(1);
        handles.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let (type_code, issuer) = bench_codes()?;
            for i in 0..share {
                let slot = node.take_slot(BENCH_TYPE, BENCH_ISSUER, Alg::Sm2).await?;
                let id = identifier(&type_code, &issuer, slot.serial)?;
                let mut new = (*template).clone();
                let old = new.license.identifier.clone();
                new.license.meta = new.license.meta.replace(&old, id.as_str());
                new.license.identifier = id.to_string();
                new.license.lineage = elicense_app::issue::lineage(&id);
                new.license.status_list = slot.list;
                new.license.status_idx = slot.idx;
                new.event.identifier = id.to_string();
                node.store.insert(new).await?;
                done.fetch_add(1, Ordering::Relaxed);
                if i % every == 0 {
                    ids.push(id.to_string());
                }
            }
            Ok::<_, AppError>(ids)
        }));
    }
    let mut ids = Vec::new();
    let mut failed = None;
    for h in handles {
        match h.await.map_err(internal).and_then(|r| r) {
            Ok(part) => ids.extend(part),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Some(r) = reporter {
        r.abort();
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(ids),
    }
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Runs `count` calls of `f` from `clients` concurrent tasks; returns their times in
/// milliseconds, sorted, with how many returned `false` (a miss).
pub(super) async fn timed<F, Fut>(
    count: usize,
    clients: usize,
    f: F,
) -> Result<(Vec<f64>, usize), AppError>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, AppError>> + Send,
{
    let mut handles = Vec::new();
    for c in 0..clients {
        let f = f.clone();
        let share = count / clients + usize::from(c < count % clients);
        handles.push(tokio::spawn(async move {
            let (mut times, mut misses) = (Vec::with_capacity(share), 0);
            for _ in 0..share {
                let t = Instant::now();
                let hit = f().await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                misses += usize::from(!hit);
            }
            Ok::<_, AppError>((times, misses))
        }));
    }
    let (mut times, mut misses) = (Vec::with_capacity(count), 0);
    for h in handles {
        let (t, m) = h.await.map_err(internal)??;
        times.extend(t);
        misses += m;
    }
    times.sort_by(f64::total_cmp);
    Ok((times, misses))
}

/// The store's point lookup of known identifiers, the limit of `bench verify-page`.
pub(super) async fn lookup_sample(
    node: &Arc<Node>,
    ids: &Arc<Vec<String>>,
    count: usize,
    clients: usize,
) -> Result<Vec<f64>, AppError> {
    let (node, ids) = (node.clone(), ids.clone());
    let (times, misses) = timed(count, clients, move || {
        let (node, ids) = (node.clone(), ids.clone());
        async move {
            let id = &ids[rand::thread_rng().gen_range(0..ids.len())];
            Ok(node.store.license(id).await?.is_some())
        }
    })
    .await?;
    if misses > 0 {
        return Err(internal(format!("{misses} known identifiers not found")));
    }
    Ok(times)
}

fn summary(times: &[f64]) -> Value {
    json!({
        "p50": round3(percentile(times, 0.5)), "p99": round3(percentile(times, 0.99)),
        "p999": round3(percentile(times, 0.999)), "max": round3(*times.last().unwrap_or(&0.0)),
    })
}

/// `--prewarm`: reads every block of the primary keys a lookup walks (`license_ids`, which
/// routes the identifier, and `licenses`) with `pg_prewarm` in `read` mode, so that they are in
/// the operating system's page cache whatever `shared_buffers` is; the heap pages stay where
/// they are. Returns the indexes read and their size. PostgreSQL only: `bench.prewarm`
/// otherwise, or when the `pg_prewarm` extension (PostgreSQL's contrib) cannot be created.
async fn prewarm(a: &BenchArgs) -> Result<Value, AppError> {
    let Some(Ok(DatabaseUrl::Postgres(url))) = a.database.as_deref().map(parse_database_url) else {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "bench.prewarm",
            "--prewarm needs --database postgres://… (it reads PostgreSQL indexes with pg_prewarm)",
        ));
    };
    let (conninfo, schema) = elicense_store::postgres::split_schema(url);
    let schema = schema.unwrap_or_else(|| elicense_store::postgres::DEFAULT_SCHEMA.to_owned());
    let c = raw_client(&conninfo).await?;
    c.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        .await
        .map_err(|e| {
            AppError::new(
                ErrorKind::Invalid,
                "bench.prewarm",
                format!("pg_prewarm is not available on this server: {e}"),
            )
        })?;
    let row = c
        .query_one(
            "SELECT count(*), COALESCE(sum(pg_prewarm(i.indexrelid, 'read')), 0)::bigint \
             * current_setting('block_size')::bigint \
             FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid \
             JOIN pg_class p ON p.oid = h.inhparent \
             JOIN pg_namespace n ON n.oid = p.relnamespace \
             WHERE i.indisprimary AND n.nspname = $1 \
             AND p.relname IN ('license_ids', 'licenses')",
            &[&schema],
        )
        .await
        .map_err(internal)?;
    let (indexes, bytes): (i64, i64) = (row.get(0), row.get(1));
    Ok(json!({
        "indexes": indexes, "bytes": bytes, "mode": "read (operating system cache)",
    }))
}

pub async fn bench_lookup(a: &BenchArgs) -> Result<Value, AppError> {
    let tmp = tempfile::tempdir().map_err(internal)?;
    let (node, total, _, fill_secs) = filled_node(a, tmp.path(), "http://127.0.0.1:8080").await?;
    let clients = a.tasks.unwrap_or(1).max(1);
    let count = a.count.max(1);
    // Serials run from 1 to about the number of licenses; a serial left unused by an
    // interrupted fill is a miss (an index probe that finds nothing), counted apart.
    let max_serial = total.max(1);
    let codes = Arc::new(bench_codes()?);
    let lookup = {
        let node = node.clone();
        move || {
            let (node, codes) = (node.clone(), codes.clone());
            async move {
                let id = random_identifier(&codes, max_serial)?;
                Ok(node.store.license(&id).await?.is_some())
            }
        }
    };
    let floor = {
        let node = node.clone();
        move || {
            let node = node.clone();
            async move { Ok(node.store.issuer(BENCH_ISSUER).await?.is_some()) }
        }
    };
    let prewarmed = if a.prewarm {
        prewarm(a).await?
    } else {
        Value::Null
    };
    // Warm the pool's connections and prepared statements, not the data: a few hundred
    // random lookups against millions of rows.
    timed(clients * 20, clients, lookup.clone()).await?;
    timed(clients * 20, clients, floor.clone()).await?;
    let start = Instant::now();
    let (times, misses) = timed(count, clients, lookup).await?;
    let rate = count as f64 / start.elapsed().as_secs_f64();
    let (floor_times, _) = timed(count.min(20_000), clients, floor).await?;
    let p99 = percentile(&times, 0.99);
    let floor_p99 = percentile(&floor_times, 0.99);
    Ok(json!({
        "bench": "lookup", "licenses": total, "lookups": count, "misses": misses,
        "clients": clients, "cores": cores(),
        "database": if a.database.is_some() { "given" } else { "sqlite (temporary file)" },
        "fill_secs": round(fill_secs), "prewarmed": prewarmed,
        "lookup_ms": summary(&times),
        "floor_ms": summary(&floor_times),
        "ratio": round3(if p99 > 0.0 { floor_p99 / p99 } else { 0.0 }),
        "lookups_per_s": round(rate), "target_p99_ms": 2.0,
        "what": "Store::license(identifier) for serials drawn uniformly from the whole store; limit = the p99 of a one-row primary-key read of a tiny table through the same pool at the same concurrency; ratio = limit / lookup"
    }))
}
