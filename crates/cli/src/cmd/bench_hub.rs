//! `elicense bench hub-lookup --database URL [--entries N] [--count M] [--tasks C]`: the
//! national hub's lookup of a license version in its directory (`hub_license(lineage,
//! version)`, the query behind `GET /federation/v1/directory/{identifier}`) with N entries in
//! `hub_licenses`, from C concurrent clients. Meant for a Citus coordinator (the hub tables
//! distributed over 256 shards; a lookup names its distribution column and is routed to one
//! shard), works on plain PostgreSQL too. The table is topped up to N with generated rows
//! (`INSERT … SELECT generate_series`, one million per statement, by COPY over one
//! connection per worker on Citus), not refilled.
//!
//! The limit measured in the same run is the round trip of `SELECT 1` through the same
//! connection pool and concurrency: a lookup can be no faster. Target: p99 ≤ 2 ms at N = 10^7.

use std::sync::Arc;
use std::time::Instant;

use elicense_app::{AppError, ErrorKind};
use rand::Rng;
use serde_json::{json, Value};

use super::bench::round3;
use super::bench_import::raw_client;
use super::bench_lookup::{percentile, timed};
use crate::cli::BenchArgs;

fn internal(e: tokio_postgres::Error) -> AppError {
    // The server's message, not only "db error".
    AppError::internal(match e.as_db_error() {
        Some(d) => d.message().to_owned(),
        None => e.to_string(),
    })
}

fn lineage(i: i64) -> String {
    format!("T.I.{i:012}")
}

pub async fn bench_hub_lookup(a: &BenchArgs) -> Result<Value, AppError> {
    let Some(url) = a.database.as_deref() else {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "bench.needs_database",
            "hub-lookup runs on PostgreSQL or Citus: give --database postgres://…?schema=NAME",
        ));
    };
    let store = super::open_store(url)?;
    let (conninfo, schema) = elicense_store::postgres::split_schema(url);
    let schema = schema.unwrap_or_else(|| "elicense".into());
    let c = raw_client(&conninfo).await?;
    let citus = c
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'citus'", &[])
        .await
        .map_err(internal)?
        .is_some();
    let n = a.entries.max(1) as i64;
    let have: i64 = c
        .query_one(&format!("SELECT count(*) FROM {schema}.hub_licenses"), &[])
        .await
        .map_err(internal)?
        .get(0);
    let fill_start = Instant::now();
    let mut from = have + 1;
    while from <= n {
        let to = (from + 999_999).min(n);
        // No ON CONFLICT: with it Citus routes an INSERT … SELECT from the coordinator
        // through per-shard intermediate results and opens a connection per shard (128
        // shards on a worker of the test cluster > its max_connections of 100, "too many
        // clients"); without it the rows go by COPY over the executor's pooled connections,
        // one per worker in sequential mode. Conflicts cannot occur: each statement
        // commits alone and the next one starts after the rows counted.
        let mode = if citus {
            "SET LOCAL citus.multi_shard_modify_mode TO 'sequential';"
        } else {
            ""
        };
        c.batch_execute(&format!(
            "BEGIN; {mode} INSERT INTO {schema}.hub_licenses (lineage, version, identifier, \
             type_code, issuer, status, node, holder_key, updated_at, log_index, kind) \
             SELECT 'T.I.' || lpad(i::text, 12, '0'), 1, 'T.I.' || lpad(i::text, 12, '0') || '.1', \
             'T', 'I', 0, 'http://127.0.0.1:1', sha256(int8send(i)), 0, i, 'issue' \
             FROM generate_series({from}, {to}) i; COMMIT;"
        ))
        .await
        .map_err(internal)?;
        if !a.json {
            eprintln!("hub_licenses: {to} of {n}");
        }
        from = to + 1;
    }
    let fill_secs = fill_start.elapsed().as_secs_f64();
    if have < n {
        c.execute(&format!("ANALYZE {schema}.hub_licenses"), &[])
            .await
            .map_err(internal)?;
    }
    let clients = a.tasks.unwrap_or(8).max(1);
    let count = a.count.max(1);
    // Warm the pool and the caches a little, as a running hub would be.
    let warm = {
        let store = store.clone();
        move || {
            let store = store.clone();
            async move {
                let i = rand::thread_rng().gen_range(1..=n);
                Ok(store.hub_license(&lineage(i), 1).await?.is_some())
            }
        }
    };
    timed(count.min(2_000), clients, warm.clone()).await?;
    let (times, misses) = timed(count, clients, warm).await?;
    let pool_floor = {
        let store: Arc<dyn elicense_store::Store> = store.clone();
        move || {
            let store = store.clone();
            async move {
                store.fed_push_state().await?;
                Ok(true)
            }
        }
    };
    let (floor, _) = timed(count, clients, pool_floor).await?;
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    let (f50, f99) = (percentile(&floor, 0.5), percentile(&floor, 0.99));
    if !a.json {
        eprintln!(
            "hub lookup at {n} entries ({}): p50 {p50:.3} ms, p99 {p99:.3} ms; a one-row read \
             of a coordinator table through the same pool: p50 {f50:.3} ms, p99 {f99:.3} ms",
            if citus { "Citus" } else { "PostgreSQL" }
        );
    }
    Ok(json!({
        "what": "hub-lookup",
        "backend": if citus { "citus" } else { "postgres" },
        "entries": n,
        "fill_secs": round3(fill_secs),
        "lookups": count,
        "clients": clients,
        "misses": misses,
        "p50_ms": round3(p50),
        "p99_ms": round3(p99),
        "limit_p50_ms": round3(f50),
        "limit_p99_ms": round3(f99),
        "ratio_p99": round3(f99 / p99),
        "target_p99_ms": 2.0,
    }))
}
