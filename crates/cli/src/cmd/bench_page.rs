//! `elicense bench verify-page [--entries N] [--count M] [--http-clients C] [--database URL]`:
//! the public verification page (`GET /verify/{identifier}`) with N licenses in the store.
//!
//! The store is filled with one really issued license (SM2) and N−1 copies of its record under
//! fresh identifiers and status slots, written through the store's normal insert (license +
//! event + log entry per row, group commit), so the tables, indexes and log have the size of a
//! store of N licenses; the page reads no signature. Then M requests for random identifiers
//! run over HTTP on 127.0.0.1 from C concurrent clients, and the page's server time is read
//! from its `Server-Timing` header. The limit measured in the same run is the store's own
//! point lookup (`license(identifier)`) p99 under the same concurrency: the page can be no
//! faster than one lookup. Target: page p99 ≤ 5 ms at N = 1,000,000.

use std::sync::Arc;
use std::time::{Duration, Instant};

use elicense_app::issue::issue_with_journal;
use elicense_app::{AppError, Node};
use elicense_core::ident::{Identifier, TypeCode};
use elicense_crypto::Alg;
use elicense_store::{NewLicense, SqliteStore, Store};
use rand::Rng;
use serde_json::{json, Value};

use super::bench::{bench_node_on, cores, round, round3, workload, BENCH_ISSUER, BENCH_TYPE};
use crate::cli::BenchArgs;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

/// Fills the store to `n` licenses; returns up to 20,000 of their identifiers.
async fn fill(node: &Arc<Node>, template: NewLicense, n: usize) -> Result<Vec<String>, AppError> {
    let tasks = (cores() * 32).max(8);
    let template = Arc::new(template);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (node, template) = (node.clone(), template.clone());
        let share = n / tasks + usize::from(t < n % tasks);
        handles.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let type_code = TypeCode::parse(BENCH_TYPE).map_err(AppError::invalid)?;
            let issuer =
                elicense_core::gb32100::Uscc::parse(BENCH_ISSUER).map_err(AppError::invalid)?;
            for _ in 0..share {
                let slot = node.take_slot(BENCH_TYPE, BENCH_ISSUER).await?;
                let id = Identifier::new(
                    type_code.clone(),
                    issuer.clone(),
                    &format!("{:010}", slot.serial),
                    1,
                )
                .map_err(AppError::invalid)?;
                let mut new = (*template).clone();
                let old = new.license.identifier.clone();
                new.license.meta = new.license.meta.replace(&old, id.as_str());
                new.license.identifier = id.to_string();
                new.license.lineage = elicense_app::issue::lineage(&id);
                new.license.status_list = slot.list;
                new.license.status_idx = slot.idx;
                new.event.identifier = id.to_string();
                node.store.insert(new).await?;
                if ids.len() < 20_000 / tasks + 1 {
                    ids.push(id.to_string());
                }
            }
            Ok::<_, AppError>(ids)
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.extend(h.await.map_err(internal)??);
    }
    Ok(ids)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

pub async fn bench_verify_page(a: &BenchArgs) -> Result<Value, AppError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(internal)?;
    let addr = listener.local_addr().map_err(internal)?;
    let base = format!("http://{addr}");
    let tmp = tempfile::tempdir().map_err(internal)?;
    let store: Arc<dyn Store> = match a.database.as_deref() {
        Some(url) => super::open_store(url)?,
        None => Arc::new(SqliteStore::open(
            tmp.path().join("bench.db"),
            Default::default(),
        )?),
    };
    let (_, sd) = workload(&a.claims)?;
    let node = bench_node_on(store, Alg::Sm2, &sd, &base).await?;
    let entries = a.entries.max(1);
    let have = node.store.count().await? as usize;
    let mut req = super::bench::request(&sd, Alg::Sm2);
    req.actor = "bench".into();
    let first = issue_with_journal(&node, req, None).await?;
    let record = node
        .store
        .license(&first.identifier)
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
    let fill_start = Instant::now();
    let mut ids = fill(&node, template, entries.saturating_sub(have + 1)).await?;
    let fill_secs = fill_start.elapsed().as_secs_f64();
    ids.push(first.identifier.clone());
    let total = node.store.count().await?;

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(elicense_server::serve(node.clone(), listener, async {
        let _ = stop_rx.await;
    }));
    let clients = a.http_clients.unwrap_or(8).max(1);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(internal)?;
    let ids = Arc::new(ids);
    let run = |n: usize| {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, ids, base) = (client.clone(), ids.clone(), base.clone());
            let share = n / clients + usize::from(c < n % clients);
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::with_capacity(share);
                for _ in 0..share {
                    let id = &ids[rand::thread_rng().gen_range(0..ids.len())];
                    let resp = client
                        .get(format!("{base}/verify/{id}"))
                        .send()
                        .await
                        .map_err(internal)?;
                    if !resp.status().is_success() {
                        return Err(internal(format!("GET /verify/{id}: {}", resp.status())));
                    }
                    let dur = resp
                        .headers()
                        .get("server-timing")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.split("dur=").nth(1))
                        .and_then(|v| v.parse::<f64>().ok())
                        .ok_or_else(|| internal("no Server-Timing header"))?;
                    let body = resp.text().await.map_err(internal)?;
                    if !body.contains("data-valid=\"true\"") {
                        return Err(internal("the page did not say valid"));
                    }
                    times.push(dur);
                }
                Ok::<_, AppError>(times)
            }));
        }
        tasks
    };
    for t in run(clients * 20) {
        t.await.map_err(internal)??;
    }
    let start = Instant::now();
    let mut page = Vec::new();
    for t in run(a.count) {
        page.extend(t.await.map_err(internal)??);
    }
    let rate = a.count as f64 / start.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    let _ = server.await;

    // The limit: the store's point lookup alone, same concurrency.
    let mut lookups = Vec::new();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (node, ids) = (node.clone(), ids.clone());
        let share = a.count / clients + usize::from(c < a.count % clients);
        handles.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(share);
            for _ in 0..share {
                let id = ids[rand::thread_rng().gen_range(0..ids.len())].clone();
                let t = Instant::now();
                node.store
                    .license(&id)
                    .await?
                    .ok_or_else(|| internal("missing"))?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, AppError>(times)
        }));
    }
    for h in handles {
        lookups.extend(h.await.map_err(internal)??);
    }
    page.sort_by(f64::total_cmp);
    lookups.sort_by(f64::total_cmp);
    let p99 = percentile(&page, 0.99);
    let lookup_p99 = percentile(&lookups, 0.99);
    Ok(json!({
        "bench": "verify-page", "licenses": total, "requests": a.count, "clients": clients, "cores": cores(),
        "database": if a.database.is_some() { "given" } else { "sqlite (temporary file)" },
        "fill_secs": round(fill_secs),
        "page_server_ms": {"p50": round3(percentile(&page, 0.5)), "p99": round3(p99), "max": round3(*page.last().unwrap_or(&0.0))},
        "store_lookup_ms": {"p50": round3(percentile(&lookups, 0.5)), "p99": round3(lookup_p99)},
        "ratio": round3(if p99 > 0.0 { lookup_p99 / p99 } else { 0.0 }),
        "pages_per_s": round(rate), "target_p99_ms": 5.0,
        "what": "GET /verify/{identifier} on 127.0.0.1, server time from Server-Timing; limit = the store's point lookup p99 at the same concurrency; ratio = limit / page"
    }))
}
