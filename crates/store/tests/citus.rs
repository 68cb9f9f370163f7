//! The hub index (migration 3, `HUB_INDEX` in `src/postgres/schema.rs`) on a real Citus
//! cluster: a coordinator and two workers that `scripts/citus.sh` builds and starts (and
//! `scripts/test.sh` runs before the tests). Each test opens a `PgStore` on a schema of its own
//! in the coordinator's database, which applies every migration; the hub tables are then
//! distributed, and these tests check that against Citus' own catalog and plans.
//!
//! The cluster's URL comes from `ELICENSE_TEST_CITUS_URL` (`scripts/test.sh` exports what
//! `scripts/citus.sh` prints). Under `CI=true` these tests FAIL without it; elsewhere they fall
//! back to the script's default URL and FAIL, saying to run `scripts/citus.sh`, when nothing
//! answers there. They never skip: a hub index that silently stopped being distributed would
//! otherwise pass unnoticed.

mod cluster;
mod pg;
// Only a few of the suite's checks run here, so its re-exports go unused.
#[allow(unused_imports)]
mod suite;

use std::collections::{BTreeMap, BTreeSet};

use cluster::{distributions, explain, routed_to_one_shard, worker_ports};
use elicense_store::postgres::{PgOptions, SCHEMA_VERSION};
use elicense_store::*;
use pg::SchemaGuard;
use tokio_postgres::Client;

/// Shards of each distributed hub table (the migration's `shard_count`).
const SHARDS: i64 = 256;

/// A store with the default options (the hub tables distributed, the store's own local) on a
/// fresh schema of the coordinator, and a plain connection with its `search_path`.
async fn fresh() -> (PgStore, Client, SchemaGuard) {
    cluster::fresh_with(PgOptions::default(), "c").await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const HUB_TABLES: [&str; 6] = [
    "hub_holders",
    "hub_issuers",
    "hub_licenses",
    "hub_nodes",
    "hub_status_changes",
    "hub_types",
];

/// The store's migrations, run in one transaction on a fresh non-`public` schema, distribute
/// the hub tables (`HUB_INDEX` as written: its `SET LOCAL citus.multi_shard_modify_mode` holds
/// in that transaction, and the unqualified table names resolve through `search_path`): `hub_licenses` and `hub_status_changes` by `lineage` and co-located (shard
/// by shard, on the same worker), `hub_holders` by `holder_key`, the small tables as reference
/// tables on every worker; shards on both workers; every other table of the store stays a
/// local table of the coordinator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_tables_are_distributed_by_their_lookup_keys() {
    let (s, c, guard) = fresh().await;
    assert_eq!(s.status().await.unwrap().current, SCHEMA_VERSION);
    let schema = guard.schema.as_str();
    let workers = worker_ports(&c).await;

    let d = distributions(&c, schema).await;
    assert_eq!(
        d.keys().map(String::as_str).collect::<Vec<_>>(),
        HUB_TABLES,
        "exactly the hub tables are Citus tables: {d:?}"
    );
    let lic = &d["hub_licenses"];
    let changes = &d["hub_status_changes"];
    let holders = &d["hub_holders"];
    for (t, want) in [
        (lic, "lineage"),
        (changes, "lineage"),
        (holders, "holder_key"),
    ] {
        assert_eq!(
            (
                t.method.as_str(),
                t.column.as_deref(),
                t.replication.as_str()
            ),
            ("h", Some(want), "s"),
            "{t:?}"
        );
    }
    assert_eq!(lic.colocation, changes.colocation, "history co-located");
    assert_ne!(lic.colocation, holders.colocation);
    for t in ["hub_nodes", "hub_issuers", "hub_types"] {
        assert_eq!(
            (
                d[t].method.as_str(),
                d[t].column.as_deref(),
                d[t].replication.as_str()
            ),
            ("n", None, "t"),
            "{t} is a reference table: {:?}",
            d[t]
        );
    }

    // Placements per table and worker.
    let rows = c
        .query(
            "SELECT t.relname::text, pl.nodeport::bigint, count(*)
             FROM pg_dist_shard sh
             JOIN pg_class t ON t.oid = sh.logicalrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             JOIN pg_dist_shard_placement pl ON pl.shardid = sh.shardid
             WHERE n.nspname = $1
             GROUP BY 1, 2",
            &[&schema],
        )
        .await
        .unwrap();
    let mut placed: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for r in rows {
        placed
            .entry(r.get(0))
            .or_default()
            .insert(r.get(1), r.get(2));
    }
    for t in ["hub_licenses", "hub_status_changes", "hub_holders"] {
        let per_worker = &placed[t];
        assert_eq!(
            per_worker.keys().copied().collect::<BTreeSet<_>>(),
            workers,
            "{t}: shards on both workers, none on the coordinator: {per_worker:?}"
        );
        assert_eq!(
            per_worker.values().sum::<i64>(),
            SHARDS,
            "{t}: {per_worker:?}"
        );
        assert!(
            per_worker.values().all(|n| *n >= SHARDS / 4),
            "{t}: shards spread over the workers: {per_worker:?}"
        );
    }
    for t in ["hub_nodes", "hub_issuers", "hub_types"] {
        let per_node = &placed[t];
        for w in &workers {
            assert_eq!(per_node.get(w), Some(&1), "{t}: one copy on worker {w}");
        }
    }

    // Co-location shard by shard: each hash range of `hub_licenses` and the same range of
    // `hub_status_changes` are on the same worker.
    let split = cluster::split_ranges(&c, "hub_licenses", "hub_status_changes").await;
    assert_eq!(
        split, 0,
        "ranges of a license and its history on different workers"
    );

    // The store's own tables are not Citus tables: they stay on the coordinator.
    let local: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = $1 AND t.relname IN ('licenses', 'events', 'log_entries')
               AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = t.oid)",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(local, 3);
}

/// With rows in every hub table, the hub's lookups go to one shard: a license by
/// `(lineage, version)`, a license with its history (co-location), a license with its issuer
/// (reference table), a holder's licenses by `holder_key`. A lookup that names no distribution
/// column (by identifier) visits every shard: the single-shard plans are the schema's doing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_lookups_route_to_one_shard() {
    let (_s, c, _guard) = fresh().await;
    let workers = worker_ports(&c).await;
    c.batch_execute(
        "INSERT INTO hub_nodes VALUES ('N1', '110000', 'Beijing', 'https://n1.example');
         INSERT INTO hub_issuers VALUES ('I1', '110000', 'N1'), ('I2', '110000', 'N1');
         INSERT INTO hub_types VALUES ('T1', 'Business license');
         INSERT INTO hub_licenses
             SELECT format('T1.I%s.%s', 1 + i % 2, lpad(i::text, 10, '0')), v,
                    format('ID-%s-%s', i, v), 'T1', format('I%s', 1 + i % 2), 0, 'N1',
                    sha256(convert_to('holder' || i % 50, 'UTF8')), 100
             FROM generate_series(1, 500) i, generate_series(1, 2) v;
         INSERT INTO hub_status_changes
             SELECT lineage, version, s, s % 3, 100 + s FROM hub_licenses, generate_series(1, 2) s;
         INSERT INTO hub_holders SELECT DISTINCT holder_key, lineage FROM hub_licenses;",
    )
    .await
    .unwrap();

    // The rows landed on both workers.
    let nodes: i64 = c
        .query_one(
            "SELECT count(DISTINCT pl.groupid)
             FROM hub_licenses l
             JOIN pg_dist_placement pl
               ON pl.shardid = get_shard_id_for_distribution_column('hub_licenses', l.lineage)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(nodes, 2);

    let lineage = "T1.I2.0000000123";
    let by_key = format!(
        "SELECT identifier, status FROM hub_licenses WHERE lineage = '{lineage}' AND version = 2"
    );
    let home = routed_to_one_shard(&c, &by_key, &workers).await;
    let row = c.query_one(&by_key, &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "ID-123-2");

    let with_history = format!(
        "SELECT l.version, s.seq, s.status FROM hub_licenses l
         JOIN hub_status_changes s USING (lineage, version)
         WHERE l.lineage = '{lineage}' ORDER BY 1, 2"
    );
    assert_eq!(routed_to_one_shard(&c, &with_history, &workers).await, home);
    assert_eq!(c.query(&with_history, &[]).await.unwrap().len(), 4);

    let with_issuer = format!(
        "SELECT l.version, i.node, t.name FROM hub_licenses l
         JOIN hub_issuers i ON i.code = l.issuer JOIN hub_types t ON t.code = l.type_code
         WHERE l.lineage = '{lineage}'"
    );
    assert_eq!(routed_to_one_shard(&c, &with_issuer, &workers).await, home);
    assert_eq!(c.query(&with_issuer, &[]).await.unwrap().len(), 2);

    // The key must reach Citus as a value (a literal or a bound parameter, as the app sends
    // it): an expression such as `sha256(..)` in the query is not folded before Citus picks
    // the shards, and the lookup would visit all 256.
    let key: Vec<u8> = c
        .query_one("SELECT sha256(convert_to('holder7', 'UTF8'))", &[])
        .await
        .unwrap()
        .get(0);
    let holder = "SELECT lineage FROM hub_holders WHERE holder_key = $1";
    let literal = holder.replace("$1", &format!("'\\x{}'", hex(&key)));
    routed_to_one_shard(&c, &literal, &workers).await;
    assert_eq!(c.query(holder, &[&key]).await.unwrap().len(), 10);

    let by_identifier = "SELECT status FROM hub_licenses WHERE identifier = 'ID-123-2'";
    let plan = explain(&c, by_identifier).await;
    assert!(
        plan.contains(&format!("Task Count: {SHARDS}")),
        "a lookup without the distribution column visits every shard:\n{plan}"
    );
}

/// The rest of the store keeps working on a Citus coordinator (its tables are local ones
/// there): a few conformance checks, each on a fresh schema with the hub tables distributed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_runs_on_the_coordinator() {
    let (s, _c, _guard) = fresh().await;
    suite::insert_is_atomic(&s).await;
    let (s, _c, _guard) = fresh().await;
    suite::log_appends_with_events(&s).await;
}

/// Upward sync's batches on the cluster: the directory rows go to the distributed `hub_*`
/// tables and the child's state and outbox to the coordinator's local tables, in one
/// transaction, as on plain PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_batches_apply_on_the_cluster() {
    let (s, _c, _guard) = fresh().await;
    suite::federation_batches_apply_once(&s).await;
    let (s, _c, _guard) = fresh().await;
    suite::federation_push_state_and_hub_without_outbox(&s).await;
    let (s, _c, _guard) = fresh().await;
    suite::federation_full_batch(&s).await;
}
