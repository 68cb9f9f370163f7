//! A province's store distributed over the Citus cluster (`PgOptions::distributed`,
//! `src/postgres/distributed.rs`): the whole conformance suite, each test on a fresh schema of
//! the coordinator whose license tables are distributed, plus checks of the layout against
//! Citus' own catalog and plans.
//!
//! The cluster is the one `tests/citus.rs` uses, found the same way (`ELICENSE_TEST_CITUS_URL`,
//! required under `CI=true`, else `scripts/citus.sh`'s default URL); these tests FAIL, saying
//! to run `scripts/citus.sh`, when nothing answers there, and never skip: a store that silently
//! stopped being distributed would pass unnoticed.
//!
//! Each schema's four distributed tables get [`SHARDS`] shards (`citus.shard_count` in the
//! URL's `options`), and so do the hub index's (`elicense.hub_shard_count`; a province's store
//! has the hub tables but no hub in it): creating shards is most of a fresh schema's cost on
//! the 2-core test host.

mod cluster;
mod pg;
mod suite;

use std::collections::BTreeSet;

use elicense_store::postgres::{queries, PgOptions};
use elicense_store::*;
use pg::SchemaGuard;
use tokio_postgres::Client;

use cluster::{distributions, explain, routed_to_one_shard, worker_ports};

/// Shards of each distributed license table in these tests.
const SHARDS: i64 = 4;

/// The cluster's URL with `citus.shard_count` set for the store's sessions, and `extra`
/// parameters.
fn url_with(extra: &str) -> String {
    let base = cluster::url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{sep}options=-c%20citus.shard_count%3D{SHARDS}%20-c%20elicense.hub_shard_count%3D{SHARDS}{extra}"
    )
}

fn distributed() -> PgOptions {
    PgOptions {
        distributed: true,
        ..Default::default()
    }
}

async fn fresh_distributed() -> (PgStore, Client, SchemaGuard) {
    cluster::fresh_at(url_with(""), distributed(), "p").await
}

async fn fresh() -> (PgStore, SchemaGuard) {
    let (s, _c, guard) = fresh_distributed().await;
    assert!(s.is_distributed());
    (s, guard)
}

conformance_tests!(fresh);

/// The license tables the layout distributes, with their distribution columns.
const DISTRIBUTED: [(&str, &str); 4] = [
    ("events", "lineage"),
    ("license_ids", "identifier"),
    ("license_slots", "status_list"),
    ("licenses", "lineage"),
];

/// Citus' catalog after a distributed store migrated: `licenses` and `events` hash-distributed
/// by `lineage` in one co-location group, shard by shard on the same worker; `license_ids` by
/// identifier and `license_slots` by status list; [`SHARDS`] shards each over both workers and
/// no local partitions left; the transparency log and every other store table local on the
/// coordinator (only the hub index's tables are Citus tables besides).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn license_tables_are_distributed_by_lineage() {
    let (_s, c, guard) = fresh_distributed().await;
    let schema = guard.schema.as_str();
    let workers = worker_ports(&c).await;
    let d = distributions(&c, schema).await;
    for (t, column) in DISTRIBUTED {
        let t = &d[t];
        assert_eq!(
            (
                t.method.as_str(),
                t.column.as_deref(),
                t.replication.as_str()
            ),
            ("h", Some(column), "s"),
            "{t:?}"
        );
    }
    assert_eq!(
        d["licenses"].colocation, d["events"].colocation,
        "a license's history is co-located with its versions"
    );
    let citus_tables: BTreeSet<&str> = d.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = DISTRIBUTED
        .iter()
        .map(|(t, _)| *t)
        .chain([
            "hub_holders",
            "hub_issuers",
            "hub_licenses",
            "hub_nodes",
            "hub_status_changes",
            "hub_types",
        ])
        .collect();
    assert_eq!(citus_tables, expected, "no other table is a Citus table");

    for (t, _) in DISTRIBUTED {
        let rows = c
            .query(
                "SELECT pl.nodeport::bigint, count(*) FROM pg_dist_shard sh
                 JOIN pg_dist_shard_placement pl ON pl.shardid = sh.shardid
                 WHERE sh.logicalrelid = $1::text::regclass GROUP BY 1",
                &[&t],
            )
            .await
            .unwrap();
        let ports: BTreeSet<i64> = rows.iter().map(|r| r.get(0)).collect();
        let total: i64 = rows.iter().map(|r| r.get::<_, i64>(1)).sum();
        assert_eq!((ports, total), (workers.clone(), SHARDS), "{t}");
        let partitions: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = $1::text::regclass",
                &[&t],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(partitions, 0, "{t} is a plain table on the cluster");
    }
    let split = cluster::split_ranges(&c, "licenses", "events").await;
    assert_eq!(split, 0, "a license and its events on different workers");

    // The transparency log and the small tables stay on the coordinator.
    for t in [
        "log_entries",
        "log_nodes",
        "log_state",
        "log_checkpoints",
        "log_openings",
        "catalogue",
        "issuers",
        "issuer_keys",
        "serials",
        "status_lists",
        "import_rows",
        "authorizations",
    ] {
        assert!(!d.contains_key(t), "{t} is a Citus table");
        let local: bool = c
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&t])
            .await
            .unwrap()
            .get(0);
        assert!(local, "{t} exists on the coordinator");
    }
    // The claim tables keep the uniqueness they exist for, and the index names of the
    // partitioned layout (a later migration may name them).
    let indexes: BTreeSet<String> = c
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = $1
             AND tablename IN ('licenses', 'events', 'license_ids', 'license_slots')",
            &[&schema],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for i in [
        "licenses_pkey",
        "licenses_holder",
        "licenses_non_valid",
        "licenses_expiry",
        "events_pkey",
        "events_status_seq",
        "license_ids_pkey",
        "license_slots_pkey",
    ] {
        assert!(indexes.contains(i), "{i} missing: {indexes:?}");
    }
}

/// `sql` with `$1`, `$2`, .. replaced by the literals of `args`, for `EXPLAIN`.
fn with_literals(sql: &str, args: &[&str]) -> String {
    let mut out = sql.to_owned();
    for (i, a) in args.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), a);
    }
    out
}

/// With licenses on both workers, the store's statements about one license are router plans
/// (one task on one worker): the claim by identifier, the license by its primary key, a
/// lineage's versions and its events, on the same worker as the license. The one-statement
/// lookup of plain PostgreSQL (`queries::LICENSE`) would not be: Citus plans its subquery on
/// `license_ids` first and then visits every shard of `licenses`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_license_and_its_history_are_one_shard_each() {
    let (s, c, _guard) = fresh_distributed().await;
    let workers = worker_ports(&c).await;
    for i in 0..40 {
        s.insert(suite::new_license(&format!("R{i}"), (1, i)))
            .await
            .unwrap();
    }
    let homes: i64 = c
        .query_one(
            "SELECT count(DISTINCT pl.groupid) FROM licenses l
             JOIN pg_dist_placement pl
               ON pl.shardid = get_shard_id_for_distribution_column('licenses', l.lineage)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(homes, 2, "licenses on both workers");

    let claim = with_literals(queries::CLAIM, &["'R7'"]);
    routed_to_one_shard(&c, &claim, &workers).await;
    let by_key = with_literals(queries::LICENSE_BY_KEY, &["'L-R7'", "1", "'R7'"]);
    let home = routed_to_one_shard(&c, &by_key, &workers).await;
    let versions = with_literals(queries::VERSIONS, &["'L-R7'"]);
    assert_eq!(routed_to_one_shard(&c, &versions, &workers).await, home);
    let events = with_literals(queries::EVENTS, &["'L-R7'"]);
    assert_eq!(routed_to_one_shard(&c, &events, &workers).await, home);

    let one_statement = with_literals(queries::LICENSE, &["'R7'"]);
    let plan = explain(&c, &one_statement).await;
    assert!(
        plan.contains(&format!("Task Count: {SHARDS}\n")),
        "the partitioned layout's lookup no longer visits every shard; the two-step lookup \
         may be unneeded:\n{plan}"
    );
    let got = s.license("R7").await.unwrap().unwrap();
    assert_eq!((got.lineage.as_str(), got.version), ("L-R7", 1));
    assert_eq!(s.events("L-R7").await.unwrap().len(), 1);
}

/// Group commit on the cluster: 300 concurrent new licenses are written in batches (fewer
/// transactions than licenses: the coordinator's log rows of one batch share their `xmin`)
/// through the multi-row `VALUES` statements, each license joins its event on their shard,
/// sequence numbers are unique, and the log holds one entry per event, in
/// sequence order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_batches_on_the_cluster() {
    let (s, c, _guard) = fresh_distributed().await;
    let inserts = (0..300u32).map(|i| s.insert(suite::new_license(&format!("B{i}"), (2, i))));
    let events: Vec<_> = futures::future::join_all(inserts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let seqs: BTreeSet<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len(), 300, "sequence numbers handed out once");
    let transactions: i64 = c
        .query_one("SELECT count(DISTINCT xmin::text) FROM log_entries", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        transactions < 300,
        "{transactions} transactions for 300 licenses: no batch was written"
    );
    assert_eq!(s.count().await.unwrap(), 300);
    assert_eq!(s.log_frontier().await.unwrap().size(), 300);
    let mut by_index = Vec::new();
    for e in &events {
        by_index.push((s.log_index(e.seq).await.unwrap().unwrap(), e.seq));
    }
    by_index.sort();
    assert!(
        by_index.windows(2).all(|w| w[0].1 < w[1].1),
        "the log is in sequence order"
    );
    // Each license with its event (a co-located join, on the shards), its claim and its slot.
    let rows: (i64, i64, i64) = {
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM licenses l JOIN events e USING (lineage)),
                        (SELECT count(*) FROM license_ids),
                        (SELECT count(*) FROM license_slots)",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(rows, (300, 300, 300));
    assert!(s.license("B299").await.unwrap().is_some());
}

/// A schema made without `distributed` (a coordinator's local tables, hash partitions) with
/// licenses, events and log entries in it is distributed when a store asks for it through the
/// URL (`distributed=true`): the rows move to the workers and read back the same, the log is
/// untouched, new writes go on; a later store that does not ask still uses the distributed
/// layout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_schema_is_distributed_with_its_rows() {
    let (local, c, guard) = cluster::fresh_at(url_with(""), PgOptions::default(), "p").await;
    assert!(!local.is_distributed());
    assert!(!distributions(&c, &guard.schema)
        .await
        .contains_key("licenses"));
    for i in 0..10 {
        local
            .insert(suite::new_license(&format!("M{i}"), (1, i)))
            .await
            .unwrap();
    }
    let before: Vec<_> =
        futures::future::join_all((0..10).map(|i| snapshot(&local, format!("M{i}")))).await;
    let log_size = local.log_frontier().await.unwrap().size();
    assert_eq!(log_size, 10);

    let url = url_with(&format!("&schema={}&distributed=true", guard.schema));
    let moved = PgStore::connect(&url, PgOptions::default()).await.unwrap();
    assert!(moved.is_distributed());
    assert_eq!(
        distributions(&c, &guard.schema).await["licenses"]
            .column
            .as_deref(),
        Some("lineage")
    );
    let after: Vec<_> =
        futures::future::join_all((0..10).map(|i| snapshot(&moved, format!("M{i}")))).await;
    assert_eq!(before, after, "every license and event read back the same");
    assert_eq!(moved.count().await.unwrap(), 10);
    assert_eq!(moved.log_frontier().await.unwrap().size(), log_size);
    let e = moved
        .insert(suite::new_license("M10", (1, 10)))
        .await
        .unwrap();
    assert!(
        e.seq > after.iter().flat_map(|(_, ev)| ev).max().copied().unwrap(),
        "sequence numbers go on from the moved events"
    );

    let later = PgStore::connect(
        &format!("{}?schema={}", cluster::url(), guard.schema),
        PgOptions::default(),
    )
    .await
    .unwrap();
    assert!(later.is_distributed(), "a distributed schema stays so");
    assert!(later.license("M10").await.unwrap().is_some());
}

/// What the upgrade test compares: a license as stored and its events' sequence numbers.
async fn snapshot(s: &PgStore, id: String) -> (LicenseRecord, Vec<i64>) {
    let l = s.license(&id).await.unwrap().unwrap();
    let seqs = s
        .events(&l.lineage)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    (l, seqs)
}
