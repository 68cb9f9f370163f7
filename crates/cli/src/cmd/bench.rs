//! `elicense bench issue|verify|status-list`: whole-system figures, each reported beside the
//! limit measured in the same run: the raw signature (or verification) rate of the algorithm
//! with the same number of cores busy at once, so the ratio means the same on any machine and
//! under any background load.
//!
//! - issue: end to end = validate + sign + persist (SQLite, group commit) + status slot, on all
//!   cores; ratio = end_to_end / raw sign rate on all cores. Target ≥ 0.5.
//! - verify (offline): parse + digests + signature + status on one core; ratio = end_to_end /
//!   raw verify rate on one core. Target ≥ 0.6. With `--http-clients N`: over HTTP keep-alive
//!   with N concurrent clients; ratio = end_to_end / raw verify rate on all cores; target ≥ 0.35.
//! - status-list: compressed size of a list with a fraction revoked; limit 20 KB at 10^6 / 1%.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use elicense_app::issue::{issue, issue_with_journal, IssueRequest};
use elicense_app::verify::{verify, VerifyOptions};
use elicense_app::{AppError, ErrorKind, Node, NodeConfig, SystemClock};
use elicense_core::catalogue::Catalogue;
use elicense_crypto::status_list::StatusList;
use elicense_crypto::{Alg, KeyPair, Signer};
use elicense_store::SqliteStore;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::cli::{BenchArgs, BenchWhat};
use crate::output;

/// The default workload: a driving licence with 12 selectively disclosable claims.
const DEFAULT_CLAIMS: &str =
    include_str!("../../../crypto/testdata/bench_driving_license_claims.json");
pub(super) const BENCH_ISSUER: &str = "11110000000000012X";
pub(super) const BENCH_TYPE: &str = "11100000000000002Q900";
const BENCH_HOLDER: &str = "11010519491231002X";

pub async fn bench(a: BenchArgs) -> i32 {
    let json = a.json;
    let result = match a.what {
        BenchWhat::Issue => bench_issue(&a).await,
        BenchWhat::Import => super::bench_import::bench_import(&a).await,
        BenchWhat::Verify => bench_verify(&a).await,
        BenchWhat::StatusList => bench_status_list(&a),
        BenchWhat::VerifyPage => super::bench_page::bench_verify_page(&a).await,
        BenchWhat::Lookup => super::bench_lookup::bench_lookup(&a).await,
        BenchWhat::SignIn => super::bench_signin::bench_sign_in(&a).await,
        BenchWhat::Sync => super::bench_sync::bench_sync(&a).await,
        BenchWhat::HubLookup => super::bench_hub::bench_hub_lookup(&a).await,
        BenchWhat::HttpIssue | BenchWhat::HttpVerify => super::bench_http::bench_http(&a).await,
        BenchWhat::Algs => Ok(bench_algs(&a)),
    };
    match result {
        Ok(v) => {
            if json {
                println!("{v}");
            } else {
                output::json(&v);
            }
            0
        }
        Err(e) => output::error(&e, json),
    }
}

pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Aggregate rate of `f` on `threads` threads running at once for about `secs` seconds.
/// Measuring the limit with every core busy makes it the limit of this machine at this
/// moment (another process on a core lowers both the limit and the end-to-end figure).
fn rate(secs: f64, threads: usize, f: impl Fn() + Sync) -> f64 {
    let start = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    for _ in 0..10 {
                        f();
                    }
                    let mut n = 0u64;
                    while start.elapsed().as_secs_f64() < secs {
                        for _ in 0..16 {
                            f();
                        }
                        n += 16;
                    }
                    n
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("rate thread"))
            .sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// Raw signature rate of `alg` with `threads` threads signing at once.
pub(super) fn raw_sign_rate(alg: Alg, secs: f64, threads: usize) -> f64 {
    let key = KeyPair::generate(alg, &mut rand::rngs::OsRng);
    let msg = vec![b'x'; 1024];
    rate(secs, threads, || {
        key.sign(&msg).expect("sign");
    })
}

/// Raw verification rate of `alg` with `threads` threads verifying at once.
pub(super) fn raw_verify_rate(alg: Alg, secs: f64, threads: usize) -> f64 {
    let key = KeyPair::generate(alg, &mut rand::rngs::OsRng);
    let msg = vec![b'x'; 1024];
    let sig = key.sign(&msg).expect("sign");
    let verifier = key.verifier();
    rate(secs, threads, || {
        verifier.verify(&msg, &sig).expect("verify");
    })
}

/// Reads the workload: its `sd` claims become the data items of a benchmark license type.
pub(super) fn workload(path: &Option<PathBuf>) -> Result<(String, Map<String, Value>), AppError> {
    let (name, text) = match path {
        Some(p) => (
            p.display().to_string(),
            std::fs::read_to_string(p).map_err(|e| {
                AppError::new(
                    ErrorKind::Invalid,
                    "bench.claims",
                    format!("{}: {e}", p.display()),
                )
            })?,
        ),
        None => (
            "bench_driving_license_claims.json".to_string(),
            DEFAULT_CLAIMS.to_string(),
        ),
    };
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| AppError::new(ErrorKind::Invalid, "bench.claims", e.to_string()))?;
    let sd = v
        .get("sd")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Invalid,
                "bench.claims",
                "the workload needs an object \"sd\"",
            )
        })?;
    Ok((name, sd))
}

/// A node in a temporary directory with one benchmark type whose items are the workload claims.
async fn bench_node(
    alg: Alg,
    sd: &Map<String, Value>,
    base_url: &str,
) -> Result<(Arc<Node>, tempfile::TempDir), AppError> {
    let dir = tempfile::tempdir().map_err(|e| AppError::internal(e.to_string()))?;
    let store = SqliteStore::open(dir.path().join("bench.db"), Default::default())?;
    let node = bench_node_on(Arc::new(store), alg, sd, base_url).await?;
    Ok((node, dir))
}

/// A node on `store` with the benchmark issuer, its key and one benchmark type whose items are
/// the workload claims.
pub(super) async fn bench_node_on(
    store: Arc<dyn elicense_store::Store>,
    alg: Alg,
    sd: &Map<String, Value>,
    base_url: &str,
) -> Result<Arc<Node>, AppError> {
    let mut config = NodeConfig::ephemeral(base_url);
    // As a served node would: the checkpoint interval from the environment, if set.
    if let Some(ms) = std::env::var("ELICENSE_CHECKPOINT_INTERVAL_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        config.checkpoint_interval_ms = ms;
    }
    bench_node_with(store, alg, sd, config).await
}

/// [`bench_node_on`] with a configuration of the caller's (a federation member, say).
pub(super) async fn bench_node_with(
    store: Arc<dyn elicense_store::Store>,
    alg: Alg,
    sd: &Map<String, Value>,
    config: NodeConfig,
) -> Result<Arc<Node>, AppError> {
    let node = Node::new(store, Arc::new(SystemClock), config);
    bench_node_prepare(&node, alg, sd).await?;
    Ok(node)
}

/// Loads the benchmark issuer and type into `node` and gives the issuer a key of `alg`.
pub(super) async fn bench_node_prepare(
    node: &Arc<Node>,
    alg: Alg,
    sd: &Map<String, Value>,
) -> Result<(), AppError> {
    let items: Vec<Value> = sd
        .iter()
        .map(|(k, v)| {
            json!({"name": k, "label": k, "type": "string", "required": true,
                   "disclosure": "selective", "example": text(v)})
        })
        .collect();
    let catalogue = json!({
        "issuers": [{"code": BENCH_ISSUER, "name": "基准测试发证机关", "area": "110000"}],
        "types": [{"code": BENCH_TYPE, "name": "基准测试证照", "name_en": "Benchmark workload", "version": 1,
                   "defining_body": "bench", "issuers": [BENCH_ISSUER], "holder_kind": "111",
                   "validity": {"kind": "long_term"}, "face_template": "", "items": items}]
    });
    let catalogue = Catalogue::from_json_str(&catalogue.to_string()).map_err(AppError::invalid)?;
    node.catalogue.load(&catalogue, node.now()).await?;
    node.keys.generate(BENCH_ISSUER, alg, node.now()).await?;
    Ok(())
}

pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn request(sd: &Map<String, Value>, alg: Alg) -> IssueRequest {
    IssueRequest {
        type_code: BENCH_TYPE.into(),
        issuer: BENCH_ISSUER.into(),
        holder_name: "张伟".into(),
        holder_id: BENCH_HOLDER.into(),
        fields: sd.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        alg: Some(alg),
        actor: "bench".into(),
        ..Default::default()
    }
}

/// Issues `count` licenses with `tasks` concurrent tasks; returns the credentials. With
/// `log_proof`, each result also carries its signed inclusion proof (what the API returns).
async fn issue_many(
    node: &Arc<Node>,
    sd: &Map<String, Value>,
    alg: Alg,
    count: usize,
    tasks: usize,
    log_proof: bool,
) -> Result<Vec<String>, AppError> {
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (node, req) = (node.clone(), request(sd, alg));
        let n = count / tasks + usize::from(t < count % tasks);
        handles.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let issued = if log_proof {
                    issue(&node, req.clone()).await?
                } else {
                    issue_with_journal(&node, req.clone(), None).await?
                };
                out.push(issued.credential);
            }
            Ok::<_, AppError>(out)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for h in handles {
        all.extend(h.await.map_err(|e| AppError::internal(e.to_string()))??);
    }
    Ok(all)
}

/// The store's part alone, same run: `count` licenses like `sample` (same claims, credential
/// and row sizes; each with its own identifier, status slot and event) written with the
/// store's `insert` from `tasks` concurrent tasks, as issuing writes them; licenses per second.
/// Nothing is validated or signed, so no issuing path on this store can be faster.
async fn store_floor(
    node: &Arc<Node>,
    sample: &str,
    count: usize,
    tasks: usize,
) -> Result<f64, AppError> {
    use elicense_app::issue::{lineage, Signed};
    use elicense_core::ident::Identifier;
    let template = node
        .store
        .license(sample)
        .await?
        .ok_or_else(|| AppError::internal("the sample license is gone"))?;
    let sample = Identifier::parse(sample).map_err(AppError::invalid)?;
    let block = node
        .store
        .reserve(BENCH_TYPE, BENCH_ISSUER, &template.alg, count as u32)
        .await?;
    let mut news = Vec::with_capacity(count);
    for (i, (list, idx)) in block.slots.iter().enumerate() {
        // Serials past the block the issuing above used: distinct from every stored license.
        let serial = format!("{:010}", block.first_serial + i as u64);
        let id = Identifier::new(
            sample.type_code().clone(),
            sample.issuer().clone(),
            &serial,
            1,
        )
        .map_err(AppError::invalid)?;
        let mut record = template.clone();
        record.identifier = id.to_string();
        record.lineage = lineage(&id);
        (record.status_list, record.status_idx) = (*list, *idx);
        let signed = Signed {
            identifier: id,
            record,
        };
        news.push(signed.new_license(elicense_core::EventKind::Issue, "bench", None, json!({})));
    }
    let mut shares: Vec<Vec<_>> = (0..tasks).map(|_| Vec::new()).collect();
    for (i, new) in news.into_iter().enumerate() {
        shares[i % tasks].push(new);
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for share in shares {
        let node = node.clone();
        handles.push(tokio::spawn(async move {
            for new in share {
                node.store.insert(new).await?;
            }
            Ok::<_, AppError>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| AppError::internal(e.to_string()))??;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

async fn bench_issue(a: &BenchArgs) -> Result<Value, AppError> {
    let alg: Alg = a.alg.into();
    let (name, sd) = workload(&a.claims)?;
    let cores = cores();
    let raw = tokio::task::block_in_place(|| raw_sign_rate(alg, a.raw_secs, cores));
    let (node, _dir) = bench_node(alg, &sd, "http://127.0.0.1:8080").await?;
    issue_many(&node, &sd, alg, 8, 1, true).await?; // warm up: key decryption, caches
                                                    // Concurrent issuers, as many API clients or import workers would be.
    let tasks = a.tasks.unwrap_or(cores * 32);
    let start = Instant::now();
    issue_many(&node, &sd, alg, a.count, tasks, false).await?;
    let e2e = a.count as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let issued = issue_many(&node, &sd, alg, a.count, tasks, true).await?;
    let with_proof = a.count as f64 / start.elapsed().as_secs_f64();
    let sample = elicense_crypto::sdjwt::parse(&issued[0])
        .ok()
        .and_then(|p| p.jws.payload["jti"].as_str().map(str::to_owned))
        .ok_or_else(|| AppError::internal("an issued credential has no jti"))?;
    let floor = store_floor(&node, &sample, a.count, tasks).await?;
    Ok(json!({
        "bench": "issue", "alg": alg.cli_name(), "implementation": elicense_crypto::implementation(alg), "workload": name, "claims": sd.len(),
        "count": a.count, "cores": cores,
        "raw_per_s": round(raw), "raw_per_core_per_s": round(raw / cores as f64),
        "end_to_end_per_s": round(e2e), "ratio": round3(e2e / raw), "target_ratio": 0.5,
        "with_log_proof_per_s": round(with_proof), "with_log_proof_ratio": round3(with_proof / raw),
        "store_floor_per_s": round(floor), "store_floor_ratio": round3(floor / raw),
        "of_store_floor": round3(e2e / floor),
        "what": "end to end = validate + sign + persist (license, event, log entry) + status slot on all cores; with_log_proof adds the signed inclusion proof the API returns; raw = signature only, all cores signing at once; store floor = the same licenses written by the store alone (no validation, no signature) from the same tasks, the most any issuing on this store could reach"
    }))
}

async fn bench_verify(a: &BenchArgs) -> Result<Value, AppError> {
    let alg: Alg = a.alg.into();
    let (name, sd) = workload(&a.claims)?;
    let cores = cores();
    if let Some(clients) = a.http_clients {
        let raw = tokio::task::block_in_place(|| raw_verify_rate(alg, a.raw_secs, cores));
        return bench_verify_http(a, alg, &name, &sd, raw, clients).await;
    }
    let raw = tokio::task::block_in_place(|| raw_verify_rate(alg, a.raw_secs, 1));
    let (node, _dir) = bench_node(alg, &sd, "http://127.0.0.1:8080").await?;
    let creds = issue_many(&node, &sd, alg, a.count.min(500), cores * 2, false).await?;
    // One core: a current-thread runtime on a thread of its own.
    let count = a.count;
    let e2e = tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let opts = VerifyOptions::default();
            for c in creds.iter().take(20) {
                verify(&node, c, &opts).await?;
            }
            let start = Instant::now();
            for i in 0..count {
                let v = verify(&node, &creds[i % creds.len()], &opts).await?;
                if !v.valid {
                    return Err(AppError::internal(format!(
                        "bench credential not valid: {:?}",
                        v.problems
                    )));
                }
            }
            Ok::<f64, AppError>(count as f64 / start.elapsed().as_secs_f64())
        })
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))??;
    Ok(json!({
        "bench": "verify", "mode": "offline, one core", "alg": alg.cli_name(), "implementation": elicense_crypto::implementation(alg), "workload": name, "claims": sd.len(),
        "count": a.count, "cores": 1,
        "raw_per_s": round(raw), "end_to_end_per_s": round(e2e), "ratio": round3(e2e / raw), "target_ratio": 0.6,
        "what": "end to end = parse + digests + signature + status on one core; raw = signature verification only"
    }))
}

async fn bench_verify_http(
    a: &BenchArgs,
    alg: Alg,
    name: &str,
    sd: &Map<String, Value>,
    raw: f64,
    clients: usize,
) -> Result<Value, AppError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::internal(e.to_string()))?;
    let (node, _dir) = bench_node(alg, sd, &format!("http://{addr}")).await?;
    let cores = cores();
    let creds = Arc::new(issue_many(&node, sd, alg, a.count.min(500), cores * 2, false).await?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(elicense_server::serve(node, listener, async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| AppError::internal(e.to_string()))?;
    let url = format!("http://{addr}/api/v1/verifications");
    let run = |n: usize| {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, url, creds) = (client.clone(), url.clone(), creds.clone());
            let share = n / clients + usize::from(c < n % clients);
            tasks.push(tokio::spawn(async move {
                for i in 0..share {
                    let body = creds[(c * 7919 + i) % creds.len()].clone();
                    let resp = client
                        .post(&url)
                        .header("content-type", "application/dc+sd-jwt")
                        .body(body)
                        .send()
                        .await
                        .map_err(|e| AppError::internal(e.to_string()))?;
                    let v: Value = resp
                        .json()
                        .await
                        .map_err(|e| AppError::internal(e.to_string()))?;
                    if v["valid"] != Value::Bool(true) {
                        return Err(AppError::internal(format!("not valid over HTTP: {v}")));
                    }
                }
                Ok::<(), AppError>(())
            }));
        }
        tasks
    };
    for t in run(clients * 4) {
        t.await.map_err(|e| AppError::internal(e.to_string()))??;
    }
    let start = Instant::now();
    for t in run(a.count) {
        t.await.map_err(|e| AppError::internal(e.to_string()))??;
    }
    let e2e = a.count as f64 / start.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(json!({
        "bench": "verify", "mode": format!("HTTP keep-alive, {clients} concurrent clients"), "alg": alg.cli_name(), "implementation": elicense_crypto::implementation(alg),
        "workload": name, "claims": sd.len(), "count": a.count, "cores": cores,
        "raw_per_s": round(raw), "raw_per_core_per_s": round(raw / cores as f64),
        "end_to_end_per_s": round(e2e), "ratio": round3(e2e / raw), "target_ratio": 0.35,
        "what": "POST /api/v1/verifications on 127.0.0.1, clients in the same process; raw = signature verification, all cores at once"
    }))
}

/// The raw limits of every algorithm on this machine now: signatures and verifications per
/// second on one core and on all cores, with the implementation behind each.
fn bench_algs(a: &BenchArgs) -> Value {
    let cores = cores();
    let algs: Vec<Value> = Alg::ALL
        .into_iter()
        .map(|alg| {
            let (sign1, verify1) = (
                raw_sign_rate(alg, a.raw_secs, 1),
                raw_verify_rate(alg, a.raw_secs, 1),
            );
            let (sign_all, verify_all) = (
                raw_sign_rate(alg, a.raw_secs, cores),
                raw_verify_rate(alg, a.raw_secs, cores),
            );
            json!({
                "alg": alg.cli_name(), "implementation": elicense_crypto::implementation(alg),
                "sign_per_core_per_s": round(sign1), "verify_per_core_per_s": round(verify1),
                "sign_all_cores_per_s": round(sign_all), "verify_all_cores_per_s": round(verify_all),
            })
        })
        .collect();
    let rate = |alg: &str, what: &str| {
        algs.iter()
            .find(|v| v["alg"] == alg)
            .and_then(|v| v[what].as_f64())
            .unwrap_or(f64::NAN)
    };
    json!({
        "bench": "algs", "cores": cores, "algs": algs,
        "sm2_to_es256": {
            "sign": round3(rate("sm2", "sign_per_core_per_s") / rate("es256", "sign_per_core_per_s")),
            "verify": round3(rate("sm2", "verify_per_core_per_s") / rate("es256", "verify_per_core_per_s")),
            "target": 0.7,
        },
        "what": "raw signature and verification rates of a 1 KiB message, one core and all cores at once, each measured for --raw-secs seconds"
    })
}

fn bench_status_list(a: &BenchArgs) -> Result<Value, AppError> {
    let alg: Alg = a.alg.into();
    let mut list = StatusList::new(2, a.entries).map_err(|e| AppError::internal(e.to_string()))?;
    let revoked = (a.entries as f64 * a.revoked_fraction).round() as usize;
    let mut rng = rand::thread_rng();
    let mut set = 0;
    while set < revoked {
        let i = rng.gen_range(0..a.entries);
        if list.get(i) == Some(0) {
            list.set(i, 1)
                .map_err(|e| AppError::internal(e.to_string()))?;
            set += 1;
        }
    }
    let start = Instant::now();
    let lst = list.encode_lst();
    let encode_ms = start.elapsed().as_secs_f64() * 1000.0;
    let key = KeyPair::generate(alg, &mut rand::rngs::OsRng);
    let payload = elicense_crypto::status_list::token_payload(
        &list,
        "https://example.invalid/status-lists/1",
        0,
        None,
        Some(60),
    );
    let header = elicense_crypto::status_list::token_header(alg, key.kid());
    let jwt = elicense_crypto::jws::sign(&key, &header, &payload).map_err(AppError::crypto)?;
    let limit = 20 * 1024;
    Ok(json!({
        "bench": "status-list", "alg": alg.cli_name(), "entries": a.entries, "bits": 2,
        "revoked_fraction": a.revoked_fraction, "revoked": revoked,
        "compressed_bytes": list.compressed_len(), "lst_chars": lst.len(), "token_bytes": jwt.len(),
        "encode_ms": round3(encode_ms), "limit_bytes": limit,
        "ratio": round3(list.compressed_len() as f64 / limit as f64)
    }))
}

pub(super) fn round(x: f64) -> f64 {
    x.round()
}

pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
