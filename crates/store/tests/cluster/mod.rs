//! What the tests on the Citus cluster share (`citus.rs`, `province.rs`): the cluster's URL and
//! how its absence fails, a fresh store on it, Citus' catalog and plans. Each binary uses a
//! part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use elicense_store::postgres::PgOptions;
use elicense_store::PgStore;
use tokio_postgres::Client;

use crate::pg::{self, SchemaGuard};

/// What `scripts/citus.sh` prints with its default ports.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:9700/test";

pub fn url() -> String {
    match std::env::var("ELICENSE_TEST_CITUS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "ELICENSE_TEST_CITUS_URL is not set: under CI the Citus tests need the cluster \
             that scripts/test.sh starts with scripts/citus.sh and exports"
        ),
        _ => DEFAULT_URL.to_owned(),
    }
}

pub fn unreachable(url: &str, e: impl std::fmt::Display) -> ! {
    panic!(
        "no Citus cluster at {url} ({e}): run scripts/citus.sh (as root; it builds Citus and \
         starts a coordinator and two workers) and set ELICENSE_TEST_CITUS_URL to the URL it \
         prints"
    )
}

/// A plain connection, its `search_path` set to `schema` if given.
pub async fn raw(schema: Option<&str>) -> Result<Client, tokio_postgres::Error> {
    pg::raw(&url(), schema).await
}

/// A store with `options` on a fresh schema (named `prefix_..`) of the coordinator's database, migrated, and a plain connection
/// with the same `search_path`. Fails unless the database has the `citus` extension and two
/// active workers.
pub async fn fresh_with(options: PgOptions, prefix: &str) -> (PgStore, Client, SchemaGuard) {
    fresh_at(url(), options, prefix).await
}

/// [`fresh_with`] on the coordinator at `url` (the cluster's URL with parameters of its own).
pub async fn fresh_at(
    url: String,
    options: PgOptions,
    prefix: &str,
) -> (PgStore, Client, SchemaGuard) {
    let c = raw(None).await.unwrap_or_else(|e| unreachable(&url, e));
    let citus = c
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'citus'", &[])
        .await
        .unwrap();
    assert!(
        citus.is_some(),
        "{url} has no citus extension: ELICENSE_TEST_CITUS_URL must name the coordinator \
         that scripts/citus.sh starts"
    );
    let workers = worker_ports(&c).await;
    assert_eq!(workers.len(), 2, "two active workers, saw {workers:?}");

    let guard = SchemaGuard::new(url.clone(), pg::fresh_schema(prefix));
    let store = PgStore::connect(
        &url,
        PgOptions {
            schema: Some(guard.schema.clone()),
            ..options
        },
    )
    .await
    .unwrap_or_else(|e| unreachable(&url, e));
    c.batch_execute(&format!("SET search_path TO {}", guard.schema))
        .await
        .unwrap();
    (store, c, guard)
}

pub async fn worker_ports(c: &Client) -> BTreeSet<i64> {
    c.query(
        "SELECT node_port::bigint FROM citus_get_active_worker_nodes()",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// One row of `pg_dist_partition` for a table of `schema`.
#[derive(Debug)]
pub struct Distribution {
    /// `h` (hash-distributed) or `n` (none: a reference table).
    pub method: String,
    pub column: Option<String>,
    pub colocation: i32,
    /// `s` (streaming/one placement per shard) or `t` (two-phase: reference tables).
    pub replication: String,
}

pub async fn distributions(c: &Client, schema: &str) -> BTreeMap<String, Distribution> {
    c.query(
        "SELECT t.relname::text, p.partmethod::text,
                column_to_column_name(p.logicalrelid, p.partkey), p.colocationid,
                p.repmodel::text
         FROM pg_dist_partition p
         JOIN pg_class t ON t.oid = p.logicalrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = $1",
        &[&schema],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get(0),
            Distribution {
                method: r.get(1),
                column: r.get(2),
                colocation: r.get(3),
                replication: r.get(4),
            },
        )
    })
    .collect()
}

/// The text of `EXPLAIN (COSTS OFF) sql`, one line per row.
pub async fn explain(c: &Client, sql: &str) -> String {
    c.query(&format!("EXPLAIN (COSTS OFF) {sql}"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that Citus runs `sql` as one task on one worker (a router plan) and returns that
/// worker's port.
pub async fn routed_to_one_shard(c: &Client, sql: &str, workers: &BTreeSet<i64>) -> i64 {
    let plan = explain(c, sql).await;
    assert!(
        plan.contains("Custom Scan (Citus Adaptive)") && plan.contains("Task Count: 1\n"),
        "{sql}\nis not a single-shard plan:\n{plan}"
    );
    let port: i64 = plan
        .split_once(" port=")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no task node in the plan:\n{plan}"));
    assert!(
        workers.contains(&port),
        "task on port {port}, not a worker:\n{plan}"
    );
    port
}

/// How many hash ranges of table `a` are on another worker than the same range of `b`
/// (0 when the two are co-located shard by shard).
pub async fn split_ranges(c: &Client, a: &str, b: &str) -> i64 {
    c.query_one(
        "SELECT count(*)
         FROM pg_dist_shard a
         JOIN pg_dist_placement pa ON pa.shardid = a.shardid
         JOIN pg_dist_shard b ON b.shardminvalue = a.shardminvalue
            AND b.shardmaxvalue = a.shardmaxvalue
         JOIN pg_dist_placement pb ON pb.shardid = b.shardid
         WHERE a.logicalrelid = $1::text::regclass
           AND b.logicalrelid = $2::text::regclass AND pa.groupid <> pb.groupid",
        &[&a, &b],
    )
    .await
    .unwrap()
    .get(0)
}
