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

use elicense_app::AppError;
use rand::Rng;
use serde_json::{json, Value};

use super::bench::{cores, round, round3};
use super::bench_lookup::{filled_node, lookup_sample, percentile, present_sample};
use crate::cli::BenchArgs;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

pub async fn bench_verify_page(a: &BenchArgs) -> Result<Value, AppError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(internal)?;
    let addr = listener.local_addr().map_err(internal)?;
    let base = format!("http://{addr}");
    let tmp = tempfile::tempdir().map_err(internal)?;
    let (node, total, mut ids, fill_secs) = filled_node(a, tmp.path(), &base).await?;
    if ids.is_empty() {
        ids = present_sample(&node, total).await?;
    }

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
    let lookups = lookup_sample(&node, &ids, a.count, clients).await?;
    page.sort_by(f64::total_cmp);
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
