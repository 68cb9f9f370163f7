//! Event-log figures (run: `cargo bench -p elicense-app --bench log`; `LOG_BENCH_N` sets the
//! size of the large tree, default 10^6):
//! - appends/s: concurrent license inserts on SQLite with group commit, each writing its
//!   license, event and log entry (leaf + completed nodes + frontier) in one transaction;
//! - inclusion and consistency proof generation from the store at N entries, through the
//!   app (`elicense_app::log`), i.e. what `GET /api/v1/log/proof/*` costs minus HTTP.

use std::sync::Arc;
use std::time::Instant;

use elicense_app::{Node, NodeConfig, SystemClock};
use elicense_core::EventKind;
use elicense_log::{leaf_hash, verify_consistency, verify_inclusion, Frontier};
use elicense_store::log::LeafState;
use elicense_store::sqlite::SqliteOptions;
use elicense_store::*;
use rand::Rng;

fn license(id: &str, slot: u32) -> NewLicense {
    NewLicense {
        license: LicenseRecord {
            identifier: id.into(),
            lineage: format!("L-{id}"),
            version: 1,
            type_code: "T".into(),
            catalogue_version: 1,
            issuer: "I".into(),
            holder_key: "h".into(),
            status: "valid".into(),
            status_value: 0,
            pledged: false,
            meta: "{}".into(),
            credential: format!("credential-of-{id}-{}", "x".repeat(600)),
            alg: "sm2".into(),
            kid: "k".into(),
            status_list: 1,
            status_idx: slot,
            issued_at: 1,
            valid_until: None,
            updated_at: 1,
            representative_key: None,
        },
        event: EventRecord {
            seq: 0,
            identifier: id.into(),
            kind: EventKind::Issue.to_string(),
            actor: "bench".into(),
            at: 1,
            reason: None,
            detail: "{}".into(),
            reason_category: None,
        },
        import_row: None,
    }
}

async fn appends(dir: &std::path::Path) {
    let store = SqliteStore::open(dir.join("appends.db"), SqliteOptions::default()).unwrap();
    let total: u32 = 40_000;
    let workers: u32 = 256;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < total {
                store.insert(license(&format!("A{i}"), i)).await.unwrap();
                i += workers;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let f = store.log_frontier().await.unwrap();
    assert_eq!(f.size(), u64::from(total));
    println!(
        "appends: {total} license+event+log writes in {secs:.2} s = {:.0} events/s \
         (SQLite group commit, {workers} concurrent writers)",
        f64::from(total) / secs
    );
}

/// Fills the log tables of a fresh store file with `n` synthetic entries, in one transaction.
fn fill(path: &std::path::Path, n: u64) -> elicense_log::Hash {
    drop(SqliteStore::open(path, SqliteOptions::default()).unwrap());
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    let mut f = Frontier::new();
    {
        let mut ins_e = tx
            .prepare("INSERT INTO log_entries (idx, seq, data) VALUES (?1, ?2, ?3)")
            .unwrap();
        let mut ins_n = tx
            .prepare("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
            .unwrap();
        for i in 0..n {
            let ev = EventRecord {
                seq: i as i64 + 1,
                identifier: format!(
                    "1.2.156.3005.2.11100000000000002Q002.11110000000000012X.{i:010}.001.N"
                ),
                kind: EventKind::Issue.to_string(),
                actor: "bench".into(),
                at: 1_769_990_400,
                reason: None,
                detail: "{}".into(),
                reason_category: None,
            };
            let state = LeafState {
                status: "valid",
                pledged: false,
                credential: "credential",
            };
            let data = LogEntry::lifecycle(&ev, state).unwrap().to_bytes();
            ins_e
                .execute(rusqlite::params![i as i64, i as i64 + 1, &data])
                .unwrap();
            let mut nodes = Vec::new();
            f.append_with(leaf_hash(&data), |id, h| nodes.push((id, h)));
            for (id, h) in nodes {
                ins_n
                    .execute(rusqlite::params![id.level, id.index as i64, &h.0[..]])
                    .unwrap();
            }
        }
    }
    let peaks: Vec<u8> = f.peaks().iter().flat_map(|h| h.0).collect();
    tx.execute(
        "UPDATE log_state SET size = ?1, peaks = ?2 WHERE id = 1",
        rusqlite::params![n as i64, peaks],
    )
    .unwrap();
    tx.commit().unwrap();
    f.root()
}

async fn proofs(dir: &std::path::Path, n: u64) {
    // LOG_BENCH_KEEP=FILE keeps the filled database (e.g. to serve it and time an audit).
    let path = std::env::var("LOG_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.join("proofs.db"));
    let t = Instant::now();
    let root = fill(&path, n);
    println!("filled {n} entries in {:.1} s", t.elapsed().as_secs_f64());
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let node = Node::new(
        Arc::new(store),
        Arc::new(SystemClock),
        NodeConfig::ephemeral("http://127.0.0.1:8080"),
    );
    let entries = node.store.log_entries(0, 1).await.unwrap();
    let mut rng = rand::thread_rng();
    let rounds = 2000;
    // Warm-up (page cache, prepared statements).
    for _ in 0..200 {
        let i = rng.gen_range(0..n);
        elicense_app::log::inclusion_proof(&node, i, n)
            .await
            .unwrap();
    }
    let t = Instant::now();
    for _ in 0..rounds {
        let i = rng.gen_range(0..n);
        elicense_app::log::inclusion_proof(&node, i, n)
            .await
            .unwrap();
    }
    let per = t.elapsed().as_secs_f64() / f64::from(rounds);
    let p = elicense_app::log::inclusion_proof(&node, 0, n)
        .await
        .unwrap();
    verify_inclusion(&leaf_hash(&entries[0].data), 0, n, &p, &root).unwrap();
    println!(
        "inclusion proof at {n} entries: {:.0} µs each ({} hashes; mean of {rounds}, sequential)",
        per * 1e6,
        p.len()
    );
    let t = Instant::now();
    for _ in 0..rounds {
        let m = rng.gen_range(1..n);
        elicense_app::log::consistency_proof(&node, m, n)
            .await
            .unwrap();
    }
    let per = t.elapsed().as_secs_f64() / f64::from(rounds);
    let m = n / 3;
    let p = elicense_app::log::consistency_proof(&node, m, n)
        .await
        .unwrap();
    let old = elicense_log::tree::root_from_reader(m, &StoreReader(node.store.clone())).unwrap();
    verify_consistency(m, n, &old, &root, &p).unwrap();
    println!("consistency proof at {n} entries: {:.0} µs each", per * 1e6);
}

/// Reads stored hashes synchronously (bench only: checks a proof against an old root).
struct StoreReader(Arc<dyn Store>);

impl elicense_log::HashReader for StoreReader {
    fn read_hashes(
        &self,
        nodes: &[elicense_log::NodeId],
    ) -> Result<Vec<elicense_log::Hash>, elicense_log::TreeError> {
        let store = self.0.clone();
        let nodes = nodes.to_vec();
        Ok(tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(store.log_hashes(nodes))
        })
        .unwrap())
    }
}

fn main() {
    let n: u64 = std::env::var("LOG_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        appends(dir.path()).await;
        proofs(dir.path(), n).await;
    });
}
