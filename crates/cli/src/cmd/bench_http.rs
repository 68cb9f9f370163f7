//! `elicense bench http-issue|http-verify`: a real node — an `elicense serve` process of this
//! binary on 127.0.0.1 — driven over loopback by `--http-clients` keep-alive connections
//! (default 32), against the raw rate of the algorithm on all cores measured in the same run
//! before the node starts.
//!
//! - http-issue: `POST /api/v1/licenses` with an issuer API key (each answer carries the
//!   license's signed log inclusion proof); ratio = issued/s ÷ (raw sign rate × cores).
//!   Target ≥ 0.45.
//! - http-verify: `POST /api/v1/verifications` of credentials the node issued; ratio =
//!   verified/s ÷ (raw verify rate × cores). Target ≥ 0.8.
//!
//! The client runs on the same cores as the node, so the report gives the CPU time each side
//! used during the run (from `/proc`), as a share of all cores over the run: what the client
//! took is capacity the node did not have.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use elicense_app::{AppError, Node, NodeConfig};
use elicense_crypto::Alg;
use serde_json::{json, Map, Value};

use super::bench::{
    bench_node_prepare, cores, raw_sign_rate, raw_verify_rate, request, round, round3, workload,
};
use crate::cli::{BenchArgs, BenchWhat};

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`; `None`
/// where there is no `/proc`.
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on Linux everywhere).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A free port on 127.0.0.1 (bound and released; the node binds it right after).
fn free_port() -> Result<u16, AppError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(failed)?;
    Ok(l.local_addr().map_err(failed)?.port())
}

/// An `elicense serve` child process, killed when dropped.
struct ServedNode {
    child: tokio::process::Child,
    url: String,
}

impl ServedNode {
    async fn start(dir: &Path, port: u16) -> Result<Self, AppError> {
        let exe = std::env::current_exe().map_err(failed)?;
        let mut child = tokio::process::Command::new(exe)
            .arg("serve")
            .arg("--data")
            .arg(dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("ELICENSE_DATABASE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("serve.log")).map_err(failed)?)
            .kill_on_drop(true)
            .spawn()
            .map_err(failed)?;
        let url = format!("http://127.0.0.1:{port}");
        super::demo_federation::ready(&url, &mut child).await?;
        Ok(ServedNode { child, url })
    }

    fn pid(&self) -> String {
        self.child.id().map(|p| p.to_string()).unwrap_or_default()
    }
}

/// What the client side sends: one request per call of `body(i)`.
#[derive(Clone)]
struct Load {
    url: String,
    token: Option<String>,
    content_type: &'static str,
    body: Arc<dyn Fn(usize) -> String + Send + Sync>,
    /// Checks one answer; an error stops the run.
    check: fn(reqwest::StatusCode, &Value) -> Result<(), AppError>,
}

/// Sends `n` requests over `clients` concurrent keep-alive connections; returns the wall time.
/// Each connection is a task of its own, so the client uses every core of the runtime as a
/// real fleet of clients would, instead of one thread polling them all.
async fn drive(
    load: &Load,
    client: &reqwest::Client,
    clients: usize,
    n: usize,
) -> Result<Duration, AppError> {
    let start = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (load, client, next) = (load.clone(), client.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), AppError>(());
                }
                let mut req = client
                    .post(&load.url)
                    .header("content-type", load.content_type)
                    .body((load.body)(i));
                if let Some(t) = &load.token {
                    req = req.bearer_auth(t);
                }
                let resp = req.send().await.map_err(failed)?;
                let status = resp.status();
                // A body that is not JSON is given to the check as null (which the loads of
                // the API refuse, with the status).
                let v: Value = resp.json().await.unwrap_or(Value::Null);
                (load.check)(status, &v)?;
            }
        });
    }
    for done in tasks.join_all().await {
        done?;
    }
    Ok(start.elapsed())
}

/// [`drive`], with the CPU seconds each process of `pids` used meanwhile (`None` where `/proc`
/// does not tell); returns the wall time in seconds.
async fn measured<const N: usize>(
    load: &Load,
    client: &reqwest::Client,
    clients: usize,
    n: usize,
    pids: &[String; N],
) -> Result<(f64, [Option<f64>; N]), AppError> {
    let before = pids.each_ref().map(|p| cpu_secs(p));
    let wall = drive(load, client, clients, n).await?.as_secs_f64();
    let after = pids.each_ref().map(|p| cpu_secs(p));
    let used = std::array::from_fn(|i| Some(after[i]? - before[i]?));
    Ok((wall, used))
}

pub async fn bench_http(a: &BenchArgs) -> Result<Value, AppError> {
    let alg: Alg = a.alg.into();
    let issue = matches!(a.what, BenchWhat::HttpIssue);
    let (name, sd) = workload(&a.claims)?;
    let cores = cores();
    let clients = a.http_clients.unwrap_or(32).max(1);
    // The limit first, with nothing else running.
    let raw = tokio::task::block_in_place(|| {
        if issue {
            raw_sign_rate(alg, a.raw_secs, cores)
        } else {
            raw_verify_rate(alg, a.raw_secs, cores)
        }
    });

    let dir = tempfile::tempdir().map_err(failed)?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    NodeConfig::save_base_url(dir.path(), &url)?;
    let (token, creds) = {
        let node = Node::open_dir(dir.path())?;
        bench_node_prepare(&node, alg, &sd).await?;
        let (token, _) =
            elicense_app::apikeys::create(&node, super::bench::BENCH_ISSUER, "bench").await?;
        let creds = if issue {
            Vec::new()
        } else {
            let mut out = Vec::new();
            for _ in 0..a.count.clamp(1, 500) {
                out.push(
                    elicense_app::issue::issue_with_journal(&node, request(&sd, alg), None)
                        .await?
                        .credential,
                );
            }
            out
        };
        (token, creds)
    };
    let served = ServedNode::start(dir.path(), port).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(failed)?;

    let issue_body = serde_json::to_string(&issue_json(&sd, alg)).map_err(failed)?;
    let issue_fn = move |_: usize| issue_body.clone();
    let verify_fn = move |i: usize| creds[i % creds.len()].clone();
    let load = if issue {
        Load {
            url: format!("{}/api/v1/licenses", served.url),
            token: Some(token),
            content_type: "application/json",
            body: Arc::new(issue_fn),
            check: |status, v| {
                if status != reqwest::StatusCode::CREATED
                    || v["log"]["checkpoint"].as_str().is_none()
                {
                    return Err(failed(format!("issue over HTTP failed ({status}): {v}")));
                }
                Ok(())
            },
        }
    } else {
        Load {
            url: format!("{}/api/v1/verifications", served.url),
            token: None,
            content_type: "application/dc+sd-jwt",
            body: Arc::new(verify_fn),
            check: |status, v| {
                if !status.is_success() || v["valid"] != Value::Bool(true) {
                    return Err(failed(format!("not valid over HTTP ({status}): {v}")));
                }
                Ok(())
            },
        }
    };
    // Warm up: connections, caches, the issuer key's decryption.
    drive(&load, &client, clients, clients * 4).await?;
    let pids = [served.pid(), std::process::id().to_string()];
    // A process's CPU time over wall time × cores: its share of the machine (null unknown).
    let share = |cpu: Option<f64>, wall: f64| match cpu {
        Some(c) => json!(round3(c / (wall * cores as f64))),
        None => Value::Null,
    };
    let (wall, [server_cpu, client_cpu]) =
        measured(&load, &client, clients, a.count, &pids).await?;
    let e2e = a.count as f64 / wall;
    // The floor of HTTP itself, same run: the same requests over the same connections to a
    // path the node does not serve, answered 404 by its router through the same middleware.
    // No handler can make a request cheaper than that.
    let floor_load = Load {
        url: format!("{}/api/v1/bench-http-floor", served.url),
        check: |status, v| {
            if status != reqwest::StatusCode::NOT_FOUND {
                return Err(failed(format!("the floor path answered {status}: {v}")));
            }
            Ok(())
        },
        ..load
    };
    let (floor_wall, [floor_server, floor_client]) =
        measured(&floor_load, &client, clients, a.count, &pids).await?;
    let floor = a.count as f64 / floor_wall;
    // CPU time (server and client together) that HTTP alone costs a request, and that the
    // signature (or verification) costs on its own: a request can be no cheaper than their
    // sum, so no handler can reach a ratio above op / (op + http).
    let http_us = floor_server
        .zip(floor_client)
        .map(|(s, c)| (s + c) / a.count as f64 * 1e6);
    let op_us = cores as f64 / raw * 1e6;
    let ceiling = http_us.map(|h| round3(op_us / (op_us + h)));
    let (what, target) = if issue {
        ("http-issue", 0.45)
    } else {
        ("http-verify", 0.8)
    };
    drop(served);
    Ok(json!({
        "bench": what, "alg": alg.cli_name(), "implementation": elicense_crypto::implementation(alg),
        "workload": name, "claims": sd.len(), "count": a.count, "cores": cores, "http_clients": clients,
        "raw_per_s": round(raw), "raw_per_core_per_s": round(raw / cores as f64),
        "end_to_end_per_s": round(e2e), "ratio": round3(e2e / raw), "target_ratio": target,
        "http_floor_per_s": round(floor), "http_cpu_us_per_request": http_us.map(round3),
        "raw_cpu_us": round3(op_us), "ceiling_ratio": ceiling,
        "server_cpu_share": share(server_cpu, wall), "client_cpu_share": share(client_cpu, wall),
        "http_floor_server_cpu_share": share(floor_server, floor_wall),
        "http_floor_client_cpu_share": share(floor_client, floor_wall),
        "what": if issue {
            "POST /api/v1/licenses to an elicense serve process on 127.0.0.1 (SQLite), each answer with its signed log inclusion proof; raw = signing only, all cores at once; cpu shares = CPU time of each process over wall time × cores; http floor = the same requests to a path the node does not serve (404 from its router); http_cpu_us_per_request = server and client CPU per request there; ceiling_ratio = raw_cpu_us / (raw_cpu_us + http_cpu_us_per_request), the highest ratio a request that costs HTTP plus one signature operation can reach"
        } else {
            "POST /api/v1/verifications to an elicense serve process on 127.0.0.1 (SQLite); raw = signature verification only, all cores at once; cpu shares = CPU time of each process over wall time × cores; http floor = the same requests to a path the node does not serve (404 from its router); http_cpu_us_per_request = server and client CPU per request there; ceiling_ratio = raw_cpu_us / (raw_cpu_us + http_cpu_us_per_request), the highest ratio a request that costs HTTP plus one signature operation can reach"
        }
    }))
}

/// The issue request as the API takes it.
fn issue_json(sd: &Map<String, Value>, alg: Alg) -> Value {
    let req = request(sd, alg);
    json!({
        "type_code": req.type_code, "issuer": req.issuer, "holder_name": req.holder_name,
        "holder_id": req.holder_id, "fields": req.fields, "alg": alg.cli_name(),
    })
}
