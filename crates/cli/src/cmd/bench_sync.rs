//! `elicense bench sync [--entries N] [--database URL]`: upward sync (应归尽归) between two
//! local nodes. A province node (the "county" below) holds N licenses (one really issued, N−1
//! copies under fresh identifiers, each with its event and log leaf, as `bench lookup` fills
//! its store); the national hub (the "city") admits it and hands it the holder-hash key; both
//! serve on 127.0.0.1, and the province's push loop sends its log in signed batches until
//! the hub's directory holds all N. The rate is N over the time from admission
//! to the last entry in the city's directory: leaves read, holder hashes computed, requests
//! signed (RFC 9421) and checked, leaves hashed into the city's copy of the county's frontier
//! and compared with a signed checkpoint, directory rows written.
//!
//! The limit measured in the same run is the city store's own rate of applying the same N
//! directory entries in batches of the same size (`fed_receive`, no HTTP, no signatures, no
//! leaf parsing): sync can be no faster than its store. `--database` puts the city's store on
//! PostgreSQL (or a Citus coordinator) instead of SQLite. Target: ≥ 20,000 entries per second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use elicense_app::federation::{peer, sync};
use elicense_app::{AppError, Node, NodeConfig};
use elicense_store::federation::{ChildState, DirectoryEntry, ReceivedBatch};
use elicense_store::{SqliteStore, Store};
use serde_json::{json, Value};

use super::bench::{round, round3};
use super::bench_lookup::filled_node_with;
use crate::cli::BenchArgs;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

async fn listener() -> Result<(tokio::net::TcpListener, String), AppError> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(internal)?;
    let url = format!("http://{}", l.local_addr().map_err(internal)?);
    Ok((l, url))
}

fn member(
    base: &str,
    area: &str,
    level: &str,
    parent: Option<&str>,
) -> Result<NodeConfig, AppError> {
    let mut c = NodeConfig::ephemeral(base);
    c.override_federation(elicense_app::federation::FederationSettings {
        area: Some(area.into()),
        level: Some(level.into()),
        parent: parent.map(Into::into),
    })?;
    Ok(c)
}

fn serve(node: Arc<Node>, l: tokio::net::TcpListener) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(elicense_server::serve(node, l, async {
        let _ = rx.await;
    }));
    tx
}

/// The entries a directory would get for `n` licenses of one origin.
fn entries(n: usize) -> Vec<DirectoryEntry> {
    (0..n)
        .map(|i| DirectoryEntry {
            origin: "http://127.0.0.1:1".into(),
            index: i as u64,
            identifier: format!("T.I.{i:010}.1"),
            lineage: format!("T.I.{i:010}"),
            version: 1,
            type_code: "T".into(),
            issuer: "I".into(),
            kind: "issue".into(),
            status: elicense_core::lifecycle::Status::Valid,
            at: 1_800_000_000,
            holder_key: (i as u32).to_be_bytes().repeat(8),
        })
        .collect()
}

/// The store's own rate of applying `n` entries (of an origin of their own) in batches of
/// [`sync::BATCH`].
async fn raw_apply_rate(store: Arc<dyn Store>, n: usize) -> Result<f64, AppError> {
    let all = entries(n);
    let mut base = ChildState::default();
    let start = Instant::now();
    for chunk in all.chunks(sync::BATCH as usize) {
        let mut next = base.clone();
        for _ in chunk {
            next.frontier.append(elicense_log::Hash::default());
        }
        store
            .fed_receive(ReceivedBatch {
                child: "http://127.0.0.1:1".into(),
                base: base.clone(),
                next: next.clone(),
                entries: chunk.to_vec(),
                nodes: vec![],
                issuers: vec![],
                forward: false,
            })
            .await?;
        base = next;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub async fn bench_sync(a: &BenchArgs) -> Result<Value, AppError> {
    let n = a.entries.max(1);
    let tmp = tempfile::tempdir().map_err(internal)?;
    let (city_l, city_url) = listener().await?;
    let (county_l, county_url) = listener().await?;
    let city_store: Arc<dyn Store> = match a.database.as_deref() {
        Some(url) => super::open_store(url)?,
        None => Arc::new(SqliteStore::open(
            tmp.path().join("city.db"),
            Default::default(),
        )?),
    };
    let city = Node::new(
        city_store,
        Arc::new(elicense_app::clock::SystemClock),
        member(&city_url, "100000", "national", None)?,
    );
    let county_dir = tmp.path().join("county");
    std::fs::create_dir_all(&county_dir).map_err(internal)?;
    let mut fill_args = a.clone();
    fill_args.database = None;
    fill_args.entries = n;
    if !a.json {
        eprintln!("filling the county with {n} licenses ...");
    }
    // The province pins the hub's node key, as every member does.
    let hub_keys = tmp.path().join("hub-keys.json");
    let jwks = elicense_app::federation::trust::public_node_keys(&city)?;
    std::fs::write(&hub_keys, serde_json::to_vec(&jwks).map_err(internal)?).map_err(internal)?;
    let mut county_config = member(&county_url, "110000", "province", Some(&city_url))?;
    county_config.trust.hub_keys = Some(hub_keys);
    let (county, total, _, fill_secs) =
        filled_node_with(&fill_args, &county_dir, county_config).await?;
    let stop_city = serve(city.clone(), city_l);
    let stop_county = serve(county.clone(), county_l);

    let start = Instant::now();
    peer::admit(&city, &county_url).await?;
    // The county's push loop was refused before the admission and waits to retry: wake it.
    county.federation.wake.notify_one();
    let log_size = county.store.log_frontier().await?.size();
    loop {
        let s = sync::state(&city, &county.config.base_url).await?;
        if s.log_size >= log_size {
            break;
        }
        if start.elapsed() > Duration::from_secs(600) {
            return Err(internal(
                "the city did not receive the county's log in 600 s",
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let got = city
        .store
        .fed_child_state(&county.config.base_url)
        .await?
        .frontier
        .size();
    let _ = stop_county.send(());
    let _ = stop_city.send(());
    let rate = total as f64 / secs;

    // The limit: the city's store applying as many entries of another origin, directly.
    let raw = raw_apply_rate(city.store.clone(), total as usize).await?;
    let out = json!({
        "what": "sync",
        "entries": total,
        "log_leaves": got,
        "fill_secs": round(fill_secs),
        "secs": round3(secs),
        "entries_per_sec": round(rate),
        "limit_store_apply_per_sec": round(raw),
        "ratio": round3(rate / raw),
        "target_entries_per_sec": 20_000,
        "city_store": if a.database.is_some() { "postgres" } else { "sqlite" },
    });
    if !a.json {
        eprintln!(
            "sync: {total} entries from county to city in {secs:.2} s = {rate:.0}/s; the city \
             store alone applies {raw:.0}/s (ratio {:.2})",
            rate / raw
        );
    }
    Ok(out)
}
