//! The conformance suite on PostgreSQL (a fresh schema per test, dropped at the end), plus
//! PostgreSQL-only checks: concurrent stores, migrations, unreachable server, query plans.
//!
//! Needs a server at `ELICENSE_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached these tests FAIL with
//! a message saying so: CI starts one, and a skipped back-end would pass unnoticed.

mod pg;
mod suite;

use std::collections::BTreeMap;
use std::time::Duration;

use elicense_store::postgres::{queries, PgOptions, SCHEMA_VERSION};
use elicense_store::*;
use pg::SchemaGuard;
use rand::{Rng, SeedableRng};
use tokio_postgres::Client;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn url() -> String {
    std::env::var("ELICENSE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A schema name no other test (or test run) uses.
fn fresh_schema() -> String {
    pg::fresh_schema("t")
}

/// A plain connection, its `search_path` set to `schema` if given.
async fn raw(schema: Option<&str>) -> Result<Client, tokio_postgres::Error> {
    pg::raw(&url(), schema).await
}

async fn connect(schema: &str, options: PgOptions) -> PgStore {
    let url = url();
    PgStore::connect(
        &url,
        PgOptions {
            schema: Some(schema.to_owned()),
            ..options
        },
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url} ({e}): these tests need a server; start it \
             (CI does) or set ELICENSE_TEST_DATABASE_URL"
        )
    })
}

async fn fresh_with(options: PgOptions) -> (PgStore, SchemaGuard) {
    let guard = SchemaGuard::new(url(), fresh_schema());
    (connect(&guard.schema, options).await, guard)
}

async fn fresh() -> (PgStore, SchemaGuard) {
    fresh_with(PgOptions::default()).await
}

conformance_tests!(fresh);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_roll_over_at_capacity() {
    let (s, _guard) = fresh_with(PgOptions {
        list_capacity: 4,
        ..Default::default()
    })
    .await;
    let r = s.reserve("T", "I", "sm2", 6).await.unwrap();
    assert_eq!(
        r.slots,
        vec![(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]
    );
    let other = s.reserve("T", "J", "sm2", 1).await.unwrap();
    assert_eq!(other.slots, vec![(3, 0)]);
    let lists: Vec<_> = s
        .lists()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.issuer, l.len))
        .collect();
    assert_eq!(
        lists,
        vec![(1, "I".into(), 4), (2, "I".into(), 2), (3, "J".into(), 1)]
    );
    assert_eq!(s.list(2).await.unwrap().unwrap().len, 2);
    assert!(s.list(9).await.unwrap().is_none());
}

/// A schema from before lists had an algorithm (migration 19 not applied): the migration keeps
/// its lists without one, and new slots go to new lists of their algorithm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_from_before_algorithms_keep_none_and_get_no_slots() {
    let (s, guard) = fresh().await;
    let old = s.reserve("T", "I", "sm2", 2).await.unwrap();
    drop(s);
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(UNDO_LIST_ALG).await.unwrap();
    let s = connect(&guard.schema, PgOptions::default()).await;
    assert_eq!(s.status().await.unwrap().current, SCHEMA_VERSION);
    suite::old_list_keeps_no_algorithm_and_gets_no_slots(&s, &old).await;
}

/// Two stores on one schema (two nodes, or a node and a CLI command), each with several
/// callers at once, reserving for two issuers with small lists (so new lists are created
/// concurrently): no serial or slot is handed out twice, and every list has one issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_schema_never_collide() {
    let opts = PgOptions {
        list_capacity: 7,
        pool_size: 4,
        ..Default::default()
    };
    let (a, _guard) = fresh_with(opts.clone()).await;
    let b = connect(a.schema(), opts).await;
    let mut tasks = Vec::new();
    for (store, issuer, n) in [
        (a.clone(), "I", 3),
        (a.clone(), "I", 2),
        (a.clone(), "J", 1),
        (b.clone(), "I", 2),
        (b.clone(), "J", 4),
        (b.clone(), "I", 5),
    ] {
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::new();
            for _ in 0..40 {
                v.push((issuer, store.reserve("T", issuer, "sm2", n).await.unwrap()));
            }
            v
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let mut owner: BTreeMap<u32, &str> = BTreeMap::new();
    let mut slots = Vec::new();
    for (issuer, r) in &all {
        for &(list, idx) in &r.slots {
            assert_eq!(*owner.entry(list).or_insert(issuer), *issuer, "list {list}");
            slots.push((list, idx));
        }
    }
    for issuer in ["I", "J"] {
        let mut serials: Vec<u64> = all
            .iter()
            .filter(|(i, _)| *i == issuer)
            .flat_map(|(_, r)| r.first_serial..r.first_serial + r.slots.len() as u64)
            .collect();
        let n = serials.len();
        serials.sort();
        serials.dedup();
        assert_eq!(serials.len(), n, "serials of {issuer} are unique");
        assert_eq!(serials, (1..=n as u64).collect::<Vec<_>>(), "and dense");
    }
    let n = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), n, "slots are unique");
    assert_eq!(n, 40 * (3 + 2 + 1 + 2 + 4 + 5));
    let listed: u32 = a.lists().await.unwrap().iter().map(|l| l.len).sum();
    assert_eq!(listed as usize, n, "list lengths count every slot");
}

/// The epoch only moves forward past an event once every lower-numbered event committed:
/// a writer that drew a number but has not committed holds `status_epoch` back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_epoch_waits_for_uncommitted_events() {
    let (s, guard) = fresh().await;
    s.insert(suite::new_license("E1", (1, 0))).await.unwrap();
    // A writer on a plain connection, mid-transaction, as the store's writers run.
    let mut c = raw(Some(&guard.schema)).await.unwrap();
    let tx = c.transaction().await.unwrap();
    tx.execute(
        "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))",
        &[&0x454c_0002_i32, &format!("{}/", guard.schema)],
    )
    .await
    .unwrap();
    tx.execute(
        "INSERT INTO events (lineage, identifier, kind, actor, at, detail) \
         VALUES ('L-E1', 'E1', 'suspend', 't', 1, '{}')",
        &[],
    )
    .await
    .unwrap();
    let reader = s.clone();
    let mut epoch = tokio::spawn(async move { reader.status_epoch().await.unwrap() });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut epoch)
            .await
            .is_err(),
        "status_epoch answered while a lower event was uncommitted"
    );
    tx.commit().await.unwrap();
    let e = epoch.await.unwrap();
    assert!(e >= 1);
    assert!(s.status_epoch().await.unwrap() >= e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    let (s, guard) = fresh().await;
    let st = s.status().await.unwrap();
    assert_eq!(
        (st.current, st.latest, st.pending()),
        (SCHEMA_VERSION, SCHEMA_VERSION, 0)
    );
    assert_eq!(st.applied.len(), SCHEMA_VERSION);
    assert_eq!(s.migrate().await.unwrap(), 0, "nothing left to apply");
    assert_eq!(s.migrate().await.unwrap(), 0);
    // Connecting again (several at once) applies nothing and keeps the data.
    suite::put_issuer(&s).await;
    let again =
        futures::future::join_all((0..3).map(|_| connect(&guard.schema, PgOptions::default())))
            .await;
    for t in &again {
        assert_eq!(t.status().await.unwrap().applied.len(), SCHEMA_VERSION);
        assert_eq!(t.issuers().await.unwrap().len(), 1);
    }
    // Concurrent first connects to a new schema migrate it once.
    let schema = fresh_schema();
    let _g2 = SchemaGuard::new(url(), schema.clone());
    let racing =
        futures::future::join_all((0..3).map(|_| connect(&schema, PgOptions::default()))).await;
    assert_eq!(racing[0].status().await.unwrap().current, SCHEMA_VERSION);
    // The schema can also come from the URL.
    let via_url = PgStore::connect(&format!("{}?schema={schema}", url()), PgOptions::default())
        .await
        .unwrap();
    assert_eq!(via_url.schema(), schema);
    assert_eq!(via_url.status().await.unwrap().current, SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_newer_schema() {
    let (_s, guard) = fresh().await;
    raw(Some(&guard.schema))
        .await
        .unwrap()
        .batch_execute("INSERT INTO schema_migrations (version) VALUES (99)")
        .await
        .unwrap();
    let err = PgStore::connect(
        &url(),
        PgOptions {
            schema: Some(guard.schema.clone()),
            ..Default::default()
        },
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), "store.unavailable");
    assert!(err.to_string().contains("newer"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_unavailable() {
    let opts = PgOptions {
        schema: Some("t_never".into()),
        connect_timeout: Duration::from_secs(2),
        wait_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    // Nothing listens on port 1: connection refused.
    let err = PgStore::connect("postgres://postgres@127.0.0.1:1/test", opts.clone())
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), "store.unavailable", "{err}");
    // Something listens but never answers (a hung server): the connect timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let err = PgStore::connect(&format!("postgres://postgres@127.0.0.1:{port}/test"), opts)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), "store.unavailable", "{err}");
    drop(silent);
}

/// Walks an `EXPLAIN (FORMAT JSON)` plan: (node type, relation, index) of every node.
fn plan_nodes(plan: &serde_json::Value, out: &mut Vec<(String, String, String)>) {
    if let Some(obj) = plan.as_object() {
        if let Some(t) = obj.get("Node Type").and_then(|t| t.as_str()) {
            let field = |k: &str| obj.get(k).and_then(|r| r.as_str()).unwrap_or("").to_owned();
            out.push((t.to_owned(), field("Relation Name"), field("Index Name")));
        }
        for v in obj.values() {
            plan_nodes(v, out);
        }
    } else if let Some(arr) = plan.as_array() {
        for v in arr {
            plan_nodes(v, out);
        }
    }
}

/// Partitions of `licenses` and `events` that an `EXPLAIN ANALYZE` plan actually scanned.
fn executed_partitions(plan: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![plan];
    while let Some(v) = stack.pop() {
        if let Some(obj) = v.as_object() {
            let rel = obj
                .get("Relation Name")
                .and_then(|r| r.as_str())
                .unwrap_or("");
            let loops = obj
                .get("Actual Loops")
                .and_then(|l| l.as_u64())
                .unwrap_or(0);
            if (rel.starts_with("licenses_p") || rel.starts_with("events_p")) && loops > 0 {
                out.push(rel.to_owned());
            }
            stack.extend(obj.values());
        } else if let Some(arr) = v.as_array() {
            stack.extend(arr);
        }
    }
    out
}

/// After a few thousand licenses and ANALYZE, the hot queries use indexes: no sequential scan
/// of `licenses` or `events`, with custom and with generic plans (the store's prepared
/// statements switch to the generic plan after a few executions). The narrow `license_ids`
/// partitions hold ~250 rows here (3 pages), where a sequential scan is rightly cheaper, so
/// they are not checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_queries_use_indexes() {
    let (s, guard) = fresh().await;
    let credential = "x".repeat(1000);
    for chunk in 0..40u32 {
        let batch = (0..100u32).map(|j| {
            let i = chunk * 100 + j;
            let id = format!("ID-{i}");
            let mut n = suite::new_license(&id, (1 + i / 1000, i % 1000));
            n.license.holder_key = format!("h{}", i / 4);
            if i % 4 == 0 {
                n.license.representative_key = Some(format!("r{}", i / 4));
            }
            n.license.credential = credential.clone();
            // Events as large as real ones (detail, actor), so that a partition spans enough
            // pages for an index to pay (batched inserts pack pages densely).
            n.event.detail = format!("{{\"pad\":\"{}\"}}", "y".repeat(300));
            n.license.valid_until = Some(10_000 + i as i64);
            n.license.issued_at = i as i64;
            if i % 50 == 0 {
                n.license.status = "revoked".into();
                n.license.status_value = 1;
            }
            let s = s.clone();
            async move { s.insert(n).await.unwrap() }
        });
        futures::future::join_all(batch).await;
    }
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute("ANALYZE").await.unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("license", queries::LICENSE, "('ID-1234')"),
        ("versions", queries::VERSIONS, "('L-ID-1234')"),
        (
            "metas",
            queries::METAS,
            "(ARRAY['ID-1234', 'ID-77', 'ID-none'])",
        ),
        ("by_holder", queries::BY_HOLDER, "('h77')"),
        ("represented_by", queries::REPRESENTED_BY, "('r77')"),
        ("non_valid", queries::NON_VALID, "(2)"),
        ("expiring", queries::EXPIRING, "(10010, 10)"),
        ("events", queries::EVENTS, "('L-ID-1234')"),
        ("status_epoch", queries::STATUS_EPOCH, ""),
    ];
    for mode in ["force_custom_plan", "force_generic_plan"] {
        c.batch_execute(&format!("SET plan_cache_mode = {mode}"))
            .await
            .unwrap();
        for (name, sql, args) in cases {
            c.batch_execute(&format!("DEALLOCATE ALL; PREPARE q AS {sql}"))
                .await
                .unwrap();
            let row = c
                .query_one(&format!("EXPLAIN (FORMAT JSON) EXECUTE q{args}"), &[])
                .await
                .unwrap();
            let plan: serde_json::Value = row.get(0);
            let mut nodes = Vec::new();
            plan_nodes(&plan, &mut nodes);
            let seq: Vec<_> = nodes
                .iter()
                .filter(|(t, rel, _)| {
                    t == "Seq Scan" && (rel.starts_with("licenses") || rel.starts_with("events"))
                })
                .collect();
            assert!(seq.is_empty(), "{name} ({mode}) scans {seq:?}: {plan:#}");
            assert!(
                nodes.iter().any(|(t, rel, _)| t.contains("Index")
                    && (rel.starts_with("licenses_p") || rel.starts_with("events_p"))),
                "{name} ({mode}) uses no index of licenses/events: {plan:#}"
            );
            if *name == "license" {
                // Routed by `license_ids` to the primary key: every index of a `licenses`
                // partition that the plan reads is its (lineage, version) key (as a plain
                // index scan or as the bitmap under a heap scan, which the planner picks for
                // a custom plan on a large table), and nothing else.
                let probes: Vec<_> = nodes
                    .iter()
                    .filter(|(_, rel, ix)| {
                        rel.starts_with("licenses_p") || ix.starts_with("licenses_p")
                    })
                    .collect();
                let pkey = |ix: &str| ix.starts_with("licenses_p") && ix.ends_with("_pkey");
                assert!(
                    !probes.is_empty()
                        && probes.iter().all(|(t, _, ix)| match t.as_str() {
                            "Index Scan" | "Bitmap Index Scan" => pkey(ix),
                            "Bitmap Heap Scan" => true,
                            _ => false,
                        }),
                    "license ({mode}) probes {probes:?}: {plan:#}"
                );
            }
            if ["license", "versions", "events"].contains(name) {
                // Routed queries touch one partition (the others are pruned, at plan time or
                // as the executor starts: "never executed").
                let row = c
                    .query_one(
                        &format!("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q{args}"),
                        &[],
                    )
                    .await
                    .unwrap();
                let plan: serde_json::Value = row.get(0);
                let run = executed_partitions(&plan);
                assert_eq!(run.len(), 1, "{name} ({mode}) ran on {run:?}: {plan:#}");
            }
        }
    }
    // The store gives the same answers the plans were checked for.
    assert_eq!(
        s.license("ID-1234").await.unwrap().unwrap().lineage,
        "L-ID-1234"
    );
    assert_eq!(s.by_holder("h77").await.unwrap().len(), 4);
    assert_eq!(s.non_valid(2).await.unwrap().len(), 20);
    assert_eq!(s.expiring(10_010, 10).await.unwrap().len(), 9);
    assert_eq!(s.count().await.unwrap(), 4000);
}

/// Group commit: many concurrent inserts share transactions, yet a row that collides fails
/// alone with the error it would have had on its own, and every acknowledged row is stored
/// with its event (one per license, distinct sequence numbers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_fails_only_the_colliding_rows() {
    let (s, _guard) = fresh().await;
    s.insert(suite::new_license("DUP-ID", (9, 0)))
        .await
        .unwrap();
    let inserts = (0..200u32).map(|i| {
        let n = match i {
            50 => suite::new_license("DUP-ID", (9, 50)), // identifier taken
            120 => suite::new_license("G-120", (9, 0)),  // slot taken
            _ => suite::new_license(&format!("G-{i}"), (9, i + 1000)),
        };
        let s = s.clone();
        async move { (i, s.insert(n).await) }
    });
    let results = futures::future::join_all(inserts).await;
    let mut seqs = std::collections::BTreeSet::new();
    for (i, r) in results {
        match i {
            50 | 120 => assert_eq!(r.unwrap_err().code(), "store.duplicate", "row {i}"),
            _ => assert!(seqs.insert(r.unwrap().seq), "row {i}: seq handed out twice"),
        }
    }
    assert_eq!(seqs.len(), 198);
    assert_eq!(s.count().await.unwrap(), 199);
    for i in [0u32, 49, 51, 199] {
        let id = format!("G-{i}");
        assert!(s.license(&id).await.unwrap().is_some(), "{id} stored");
    }
    assert!(s.license("G-120").await.unwrap().is_none());
}

/// Migration 3 (hub index, Citus DDL) applies on plain PostgreSQL: the hub tables exist as
/// ordinary tables, and the Citus part was skipped (no extension, nothing distributed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_index_migration_skips_citus_when_absent() {
    let (s, guard) = fresh().await;
    const { assert!(SCHEMA_VERSION >= 3) };
    let status = s.status().await.unwrap();
    assert_eq!(status.current, SCHEMA_VERSION);
    let c = raw(Some(&guard.schema)).await.unwrap();
    let citus: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!citus, "this test expects a server without Citus");
    for t in [
        "hub_nodes",
        "hub_issuers",
        "hub_types",
        "hub_licenses",
        "hub_status_changes",
        "hub_holders",
    ] {
        let kind: Option<i8> = c
            .query_one(
                "SELECT c.relkind::\"char\" FROM pg_class c JOIN pg_namespace n \
                 ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                &[&guard.schema, &t],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(kind, Some(b'r' as i8), "{t} is a plain table");
    }
    // A hub lookup by (lineage, version) is a primary-key probe.
    c.batch_execute(
        "INSERT INTO hub_licenses VALUES ('T.I.0000000001', 1, 'ID', 'T', 'I', 0, 'N', '\\x00', 0)",
    )
    .await
    .unwrap();
    let row = c
        .query_one(
            "SELECT status FROM hub_licenses WHERE lineage = 'T.I.0000000001' AND version = 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i16>(0), 0);
}

/// A province store (`distributed`) needs a Citus coordinator: on plain PostgreSQL the
/// connect fails with `store.unavailable` and a reason, the migration rolls back with it (no
/// schema is left behind), and a store without the option keeps the partitioned layout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_needs_citus() {
    let schema = fresh_schema();
    let _guard = SchemaGuard::new(url(), schema.clone());
    let err = PgStore::connect(
        &format!("{}?schema={schema}&distributed=true", url()),
        PgOptions::default(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), "store.unavailable");
    assert!(err.to_string().contains("citus"), "{err}");
    let left: bool = raw(None)
        .await
        .unwrap()
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!left, "the failed migration left its schema");
    let s = connect(&schema, PgOptions::default()).await;
    assert!(!s.is_distributed());
}

/// What the sessions migration (10) added, undone by hand.
const UNDO_SESSIONS: &str = "DROP TABLE sign_in_failures, sessions;";

/// Migration 9 undone by hand.
const UNDO_MIGRATION_9: &str = "ALTER TABLE shares DROP COLUMN keep_days;";

/// Migration 8 undone by hand (what a build of version 7 left).
const UNDO_MIGRATION_8: &str = "ALTER TABLE authorizations DROP COLUMN holder_key;
    ALTER TABLE authorizations DROP COLUMN ended_at;
    ALTER TABLE presentations DROP COLUMN jkt, DROP COLUMN nonce, DROP COLUMN completed_at,
        DROP COLUMN opened_at;
    DROP INDEX bindings_age;";

/// What migration 7 changed, undone by hand: claim rows without a version, an identifier index
/// on `licenses`.
const UNDO_MIGRATION_7: &str = "ALTER TABLE license_ids DROP CONSTRAINT license_ids_pkey;
    ALTER TABLE license_ids DROP COLUMN version;
    ALTER TABLE license_ids ADD PRIMARY KEY (identifier);
    CREATE INDEX licenses_identifier ON licenses (identifier);";

/// Authorizations and presentations written before migration 8 upgrade in place: each
/// authorization is bound to the holder of the version it was granted on, a stored
/// presentation counts as completed, and the cap on bindings works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_8_binds_existing_authorizations_to_their_holder() {
    let (s, guard) = fresh().await;
    let mut lic = suite::new_license("M8", (1, 0));
    lic.license.holder_key = "holder-m8".into();
    s.insert(lic).await.unwrap();
    s.put_authorization(
        suite::authorization("a8", "M8", "agent", 10),
        suite::event("M8", "authorize"),
    )
    .await
    .unwrap();
    s.put_presentation(suite::presentation("p8", "M8", 100))
        .await
        .unwrap();
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(&format!(
        "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} {UNDO_FEDERATION} {UNDO_OPERATOR} {UNDO_LEAF_V2} {UNDO_SESSIONS} {UNDO_MIGRATION_9} {UNDO_MIGRATION_8}
         DELETE FROM schema_migrations WHERE version >= 8;"
    ))
    .await
    .unwrap();
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 7);
    let a = s.authorizations("L-M8").await.unwrap().remove(0);
    assert_eq!((a.holder_key.as_str(), a.ended_at), ("holder-m8", None));
    let p = s.presentation("p8").await.unwrap().unwrap();
    assert_eq!(p.completed_at, Some(p.created_at));
    assert_eq!(p.opened_at, None);
}

/// A pending request written before migration 9 carried the period it asked for in
/// `copy_until`; the migration moves it to `keep_days`, and a granted one keeps its end of use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_9_moves_the_asked_period_out_of_copy_until() {
    let (s, guard) = fresh().await;
    s.insert(suite::new_license("S9", (1, 0))).await.unwrap();
    s.put_institution(suite::institution("B9", &["M1"]))
        .await
        .unwrap();
    let pending = suite::share("s9p", "B9", "S9", "h1", 100);
    s.put_share(pending, vec![suite::event("S9", "share_query")])
        .await
        .unwrap();
    let granted = suite::share("s9g", "B9", "S9", "h1", 100);
    s.put_share(granted, vec![suite::event("S9", "share_query")])
        .await
        .unwrap();
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(&format!(
        "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} {UNDO_FEDERATION} {UNDO_OPERATOR} DROP TABLE log_openings; ALTER TABLE events DROP COLUMN reason_category;
         DROP TABLE sign_in_failures, sessions;
         ALTER TABLE shares DROP COLUMN keep_days;
         UPDATE shares SET copy_until = 14 WHERE id = 's9p';
         UPDATE shares SET state = 'granted', decided_at = 1000, copy = 'c',
             copy_until = 1000 + 3 * 86400 WHERE id = 's9g';
         DELETE FROM schema_migrations WHERE version >= 9;"
    ))
    .await
    .unwrap();
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 8);
    let p = s.share("s9p").await.unwrap().unwrap();
    assert_eq!((p.keep_days, p.copy_until), (14, None));
    let g = s.share("s9g").await.unwrap().unwrap();
    assert_eq!((g.keep_days, g.copy_until), (3, Some(1000 + 3 * 86400)));
}

/// What the witness migration (13) added, undone by hand.
const UNDO_WITNESS: &str = "DROP TABLE cosigned_checkpoints, witness_forks, witness_logs;";

/// A schema at migration 13 upgrades to the witness tables: a log can be admitted and its
/// head advanced, and the operator's tables keep their rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_14_adds_the_witness_tables() {
    let (s, guard) = fresh().await;
    s.put_institution(suite::institution("B13", &["M1"]))
        .await
        .unwrap();
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(&format!(
        "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} DELETE FROM schema_migrations WHERE version >= 14;"
    ))
    .await
    .unwrap();
    assert_eq!(s.status().await.unwrap().current, 13);
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 13);
    s.witness_admit("o13", vec!["k".into()], "http://o13", 1)
        .await
        .unwrap();
    assert_eq!(s.witnessed_log("o13").await.unwrap().unwrap().size, 0);
    assert!(s.institution("B13").await.unwrap().is_some());
}

/// What the operator migration (12) added, undone by hand.
const UNDO_OPERATOR: &str = "DROP TABLE operator_openings, operator_events, operator_keys;";

/// What the migrations after the trust list added (16 OpenID Connect, 17 representatives,
/// 18 staff), undone by hand.
const UNDO_OIDC: &str = "DROP TABLE staff; DROP INDEX licenses_representative;
     ALTER TABLE licenses DROP COLUMN representative_key;
     DROP TABLE oidc_links, oidc_logins;
     DELETE FROM schema_migrations WHERE version >= 16;";

/// What the list-algorithm migration (19), the forms one (20), the presentation requests one
/// (21, with 24's column), the staff sign-in one (22), the OpenID4VCI one (23), the seals one
/// (25) and the key certificates one (26) added, undone by hand.
const UNDO_LIST_ALG: &str = "DROP TABLE key_certificates;
     DROP TABLE seal_uses, seals, seal_cas; DROP TABLE vci_nonces, vci_offers;
     DROP INDEX staff_person; ALTER TABLE staff DROP COLUMN person_key; DROP TABLE vp_requests;
     DROP TABLE forms; DROP INDEX status_lists_issuer_alg;
     ALTER TABLE status_lists DROP COLUMN alg;
     DELETE FROM schema_migrations WHERE version >= 19;";

/// What the trust-list migration (15) added, undone by hand.
const UNDO_TRUST: &str = "DROP TABLE recognition_lists, trust_publication;
     ALTER TABLE issuers DROP COLUMN successor, DROP COLUMN ended_at;
     DELETE FROM schema_migrations WHERE version >= 15;";

/// What the federation migration (13) added, undone by hand.
const UNDO_FEDERATION: &str =
    "DROP TABLE fed_nodes, fed_children, fed_outbox, fed_issuers, fed_push;
     ALTER TABLE hub_licenses DROP COLUMN log_index, DROP COLUMN kind;
     DELETE FROM schema_migrations WHERE version >= 13;";

/// A schema at migration 12 whose hub index has rows upgrades to the federation's tables: the
/// rows keep their data, read as written by an `issue` at log index 0, and a later entry of
/// the same version replaces them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_13_adds_the_federation_tables() {
    let (s, guard) = fresh().await;
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(&format!(
        "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} {UNDO_FEDERATION}"
    ))
    .await
    .unwrap();
    c.batch_execute(
        "INSERT INTO hub_licenses (lineage, version, identifier, type_code, issuer, status, node, \
         holder_key, updated_at) VALUES ('T.I.1', 1, 'T.I.1.1', 'T', 'I', 0, 'http://c', \
         '\\x07', 5)",
    )
    .await
    .unwrap();
    assert_eq!(s.status().await.unwrap().current, 12);
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 12);
    let old = s.hub_license("T.I.1", 1).await.unwrap().unwrap();
    assert_eq!((old.index, old.kind.as_str()), (0, "issue"));
    assert_eq!(
        s.fed_push_state().await.unwrap(),
        federation::PushState::default()
    );
}

/// A schema at migration 11 upgrades to the operator's tables: its log goes on (operator
/// leaves after the license leaves already there) and its institutions keep their state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_12_adds_the_operator_tables() {
    let (s, guard) = fresh().await;
    s.insert(suite::new_license("O1", (1, 0))).await.unwrap();
    s.put_institution(suite::institution("B12", &["M1"]))
        .await
        .unwrap();
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(&format!(
        "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} {UNDO_FEDERATION} {UNDO_OPERATOR} DELETE FROM schema_migrations WHERE version >= 12;"
    ))
    .await
    .unwrap();
    assert_eq!(s.status().await.unwrap().current, 11);
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 11);
    let (e, index) = s
        .apply_operator(
            OperatorChange::InstitutionDisabled {
                code: "B12".into(),
                disabled_at: Some(5),
            },
            suite::op_event("institution_disable", "B12", None),
        )
        .await
        .unwrap();
    assert_eq!((e.seq, index), (1, 1));
    assert_eq!(
        s.institution("B12").await.unwrap().unwrap().disabled_at,
        Some(5)
    );
}

/// What the leaf-format-2 migration added, undone by hand: the reason category column and the
/// openings table.
const UNDO_LEAF_V2: &str =
    "DROP TABLE log_openings; ALTER TABLE events DROP COLUMN reason_category;";

/// A schema at migration 3 (before the wallet) upgrades in place: its events keep counting for
/// the status epoch, wallet events do not, and the wallet works on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_4_upgrades_an_existing_schema() {
    let (s, guard) = fresh().await;
    let issued = s.insert(suite::new_license("W1", (1, 0))).await.unwrap();
    // Undo migrations 7, 5 and 4 by hand (6 is a storage setting that may run again): what a
    // build of version 3 left.
    raw(Some(&guard.schema))
        .await
        .unwrap()
        .batch_execute(&format!(
            "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} {UNDO_FEDERATION} {UNDO_OPERATOR} {UNDO_LEAF_V2} {UNDO_SESSIONS} {UNDO_MIGRATION_7}
             DROP TABLE shares, institution_keys, institutions;
             DROP TABLE accounts, bindings, presentations, authorizations;
             DROP INDEX events_status_seq; ALTER TABLE events DROP COLUMN affects_status;
             CREATE INDEX events_seq_idx ON events (seq);
             DELETE FROM schema_migrations WHERE version >= 4;"
        ))
        .await
        .unwrap();
    assert_eq!(s.status().await.unwrap().current, 3);
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 3);
    assert_eq!(s.status().await.unwrap().current, SCHEMA_VERSION);
    assert_eq!(s.status_epoch().await.unwrap(), issued.seq);
    let used = s.record_use(suite::event("W1", "verify")).await.unwrap();
    assert!(used.seq > issued.seq);
    assert_eq!(s.status_epoch().await.unwrap(), issued.seq);
    assert_eq!(s.events("L-W1").await.unwrap().len(), 2);
    s.put_account(suite::account("a1", "u1")).await.unwrap();
    assert_eq!(s.account_by_username("u1").await.unwrap().unwrap().id, "a1");
}

/// A schema at migration 6 (claim rows without a version, an identifier index on `licenses`)
/// upgrades in place: every claim row gets the version of the license it names, the
/// identifier index goes, and lookups, transitions and uses find every version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_7_routes_existing_claims_by_primary_key() {
    let (s, guard) = fresh().await;
    s.insert(suite::new_license("R1", (1, 0))).await.unwrap();
    let mut second = suite::new_license("R1v2", (1, 1));
    second.license.lineage = "L-R1".into();
    second.license.version = 2;
    second.event.identifier = "R1v2".into();
    s.insert(second).await.unwrap();
    for i in 0..40u32 {
        s.insert(suite::new_license(&format!("R{}", i + 2), (2, i)))
            .await
            .unwrap();
    }
    let c = raw(Some(&guard.schema)).await.unwrap();
    c.batch_execute(&format!(
        "{UNDO_LIST_ALG} {UNDO_OIDC} {UNDO_TRUST} {UNDO_WITNESS} {UNDO_FEDERATION} {UNDO_OPERATOR} {UNDO_LEAF_V2} {UNDO_SESSIONS} {UNDO_MIGRATION_9} {UNDO_MIGRATION_8} {UNDO_MIGRATION_7}
         DELETE FROM schema_migrations WHERE version >= 7;"
    ))
    .await
    .unwrap();
    assert_eq!(s.status().await.unwrap().current, 6);
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION - 6);
    assert_eq!(s.status().await.unwrap().current, SCHEMA_VERSION);
    let wrong: i64 = c
        .query_one(
            "SELECT count(*) FROM license_ids i JOIN licenses l USING (identifier) \
             WHERE i.version IS DISTINCT FROM l.version OR i.lineage <> l.lineage",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);
    let claims: i64 = c
        .query_one("SELECT count(*) FROM license_ids", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(claims, 42);
    let left: Option<String> = c
        .query_one(
            "SELECT string_agg(indexname, ' ') FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename LIKE 'licenses%' \
             AND indexdef LIKE '%(identifier)%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        left, None,
        "licenses_identifier and its partitions are dropped"
    );
    assert_eq!(s.license("R1").await.unwrap().unwrap().version, 1);
    let v2 = s.license("R1v2").await.unwrap().unwrap();
    assert_eq!((v2.lineage.as_str(), v2.version), ("L-R1", 2));
    assert_eq!(s.license("R41").await.unwrap().unwrap().identifier, "R41");
    assert!(s.license("R1v3").await.unwrap().is_none());
    s.transition(TransitionRecord {
        identifier: "R1v2".into(),
        expected_status: "valid".into(),
        expected_pledged: false,
        new_status: "revoked".into(),
        new_status_value: 1,
        new_pledged: false,
        event: suite::event("R1v2", "revoke"),
        successor: None,
        end_authorizations: false,
        at: 300,
    })
    .await
    .unwrap();
    assert_eq!(s.license("R1v2").await.unwrap().unwrap().status, "revoked");
    assert_eq!(s.license("R1").await.unwrap().unwrap().status, "valid");
    s.record_use(suite::event("R7", "verify")).await.unwrap();
    assert_eq!(s.events("L-R7").await.unwrap().len(), 2);
}

/// Two stores (two nodes) registering one username at once: exactly one gets it, the other
/// is told the name is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_of_one_username() {
    let (a, _guard) = fresh().await;
    let b = connect(a.schema(), PgOptions::default()).await;
    let tasks = (0..8).map(|i| {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            s.put_account(suite::account(&format!("id{i}"), "same"))
                .await
        }
    });
    let results = futures::future::join_all(tasks).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), "account.username_taken");
    }
}

/// A license of the size the node writes (a ~2.7 KB SD-JWT VC and ~1 KB of metadata, base64url
/// and JSON that barely compress) stays in its heap page: its partition's TOAST table gets no
/// chunk, and reading it back gives the same bytes (migration 6).
#[tokio::test]
async fn license_rows_stay_inline() {
    let (s, guard) = fresh().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut noise = |n: usize| -> String {
        (&mut rng)
            .sample_iter(rand::distributions::Alphanumeric)
            .take(n)
            .map(char::from)
            .collect()
    };
    let mut ids = Vec::new();
    for i in 0..32u32 {
        let mut new = suite::new_license(&format!("INLINE{i}"), (9, i));
        new.license.credential = format!("{}.{}.{}~", noise(40), noise(2200), noise(88));
        new.license.meta = format!("{{\"holder\":\"{}\"}}", noise(900));
        ids.push((
            new.license.identifier.clone(),
            new.license.credential.clone(),
        ));
        s.insert(new).await.unwrap();
    }
    let c = raw(Some(&guard.schema)).await.unwrap();
    let toast: i64 = c
        .query_one(
            "SELECT COALESCE(sum(pg_relation_size(c.reltoastrelid)), 0)::bigint FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname LIKE 'licenses\\_p%'",
            &[&guard.schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(toast, 0, "license rows were moved out of line");
    for (id, cred) in ids {
        assert_eq!(s.license(&id).await.unwrap().unwrap().credential, cred);
    }
}

/// A salt changed with SQL behind the store's back: the leaf no longer matches the stored
/// opening, and the check of that leaf against the database says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_salt_changed_in_the_database_is_caught() {
    let (s, guard) = fresh().await;
    s.insert(suite::new_license("W1", (1, 0))).await.unwrap();
    let used = s.record_use(suite::event("W1", "present")).await.unwrap();
    suite::check_every_leaf(&s, 0, "L-W1").await;
    let changed = raw(Some(&guard.schema))
        .await
        .unwrap()
        .execute(
            "UPDATE log_openings SET salt = '\\x0000000000000000000000000000000000000000000000000000000000000000' WHERE seq = $1",
            &[&used.seq],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(
        suite::a_changed_salt_is_caught(&s, used.seq).await,
        log::LeafMismatch::Commitment { seq: used.seq }
    );
}
