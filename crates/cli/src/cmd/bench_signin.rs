//! `elicense bench sign-in [--count M] [--tasks A]`: a legitimate user's sign-in while the node
//! is under a password-guessing attack that throttling holds back.
//!
//! A node with local accounts serves on 127.0.0.1 (SQLite in a temporary directory). It trusts
//! 127.0.0.1 as a proxy, so each request's client address is the `X-Forwarded-For` it sends:
//! that is how one machine plays many clients. The run has two phases of M sign-ins each by
//! legitimate users (each from an address of its own, right password, the sign-in page first
//! as a browser does):
//! 1. quiet: no other traffic;
//! 2. attack: A tasks guess passwords of ten victim accounts from a pool of 16 attacker
//!    addresses, R guesses per second together (`--attack-rate`, default 500: a scripted
//!    attack, not a flood that saturates the machine, which is the network layer's business),
//!    until the legitimate sign-ins are done. The attack first uses up its free failures
//!    (each hashed); the phase starts once half a second of guesses has been refused
//!    entirely (429, before any hashing), the throttled steady state.
//!
//! The figure is each legitimate sign-in's server time (the `Server-Timing` header of the
//! `POST /wallet/login`). The limit measured in the same run is one Argon2id check on one core
//! (the password hash every sign-in must compute); ratio = limit / p99. Target: p99 under
//! 100 ms during the attack, with no legitimate sign-in refused.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use elicense_app::config::NodeConfig;
use elicense_app::wallet::hashing::{hash_password, verify_password};
use elicense_app::wallet::identity::{create_account, NewAccount};
use elicense_app::{AppError, Node, SystemClock};
use elicense_core::gb11643::ResidentId;
use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_store::SqliteStore;
use reqwest::{redirect::Policy, Client, StatusCode};
use serde_json::{json, Value};

use super::bench::{cores, round, round3};
use super::bench_lookup::percentile;
use crate::cli::BenchArgs;

/// Legitimate accounts (signed in in turn) and victim accounts (guessed at).
const USERS: usize = 20;
const VICTIMS: usize = 10;
/// Distinct addresses the attack comes from.
const ATTACK_ADDRESSES: usize = 16;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

/// A valid resident ID numbered `n` (born 1990-01-01 in 110101).
fn resident_id(n: usize) -> Result<HolderCode, AppError> {
    let body = format!("11010119900101{:03}", n % 1000);
    let check = ResidentId::check_char_for(&body).ok_or_else(|| internal("check character"))?;
    HolderCode::parse(HolderCodeType::ResidentId, &format!("{body}{check}"))
        .map_err(|e| internal(e.to_string()))
}

/// The page's server time in milliseconds, from `Server-Timing: app;dur=…`.
fn server_ms(resp: &reqwest::Response) -> Option<f64> {
    resp.headers()
        .get("server-timing")?
        .to_str()
        .ok()?
        .split("dur=")
        .nth(1)?
        .parse()
        .ok()
}

/// Opens the sign-in page and posts the form from `client_addr`; the answer's status and
/// server time.
async fn sign_in(
    http: &Client,
    base: &str,
    client_addr: &str,
    user: &str,
    password: &str,
) -> Result<(StatusCode, f64), AppError> {
    let page = http
        .get(format!("{base}/wallet/login"))
        .header("x-forwarded-for", client_addr)
        .send()
        .await
        .map_err(internal)?;
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("presession="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| internal("the sign-in page set no pre-session cookie"))?;
    let html = page.text().await.map_err(internal)?;
    let marker = r#"name="csrf" value=""#;
    let token = html
        .find(marker)
        .map(|i| &html[i + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| internal("the sign-in form has no token"))?;
    let resp = http
        .post(format!("{base}/wallet/login"))
        .header("x-forwarded-for", client_addr)
        .header("cookie", cookie)
        .form(&[
            ("username", user),
            ("password", password),
            ("next", "/wallet"),
            ("csrf", token),
        ])
        .send()
        .await
        .map_err(internal)?;
    let ms = server_ms(&resp).ok_or_else(|| internal("no Server-Timing header"))?;
    Ok((resp.status(), ms))
}

/// `count` legitimate sign-ins in turn; their server times (sorted) and how many were refused.
async fn legitimate(
    http: &Client,
    base: &str,
    count: usize,
    round_no: usize,
) -> Result<(Vec<f64>, usize), AppError> {
    let mut times = Vec::with_capacity(count);
    let mut refused = 0;
    for i in 0..count {
        let user = format!("user{}", i % USERS);
        // Each sign-in comes from an address of its own (a user's home or office).
        let addr = format!("198.51.{}.{}", round_no, i % 250 + 1);
        let (status, ms) = sign_in(http, base, &addr, &user, &format!("{user}-password")).await?;
        if status != StatusCode::SEE_OTHER {
            refused += 1;
        }
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    Ok((times, refused))
}

fn summary(times: &[f64], refused: usize) -> Value {
    json!({
        "p50": round3(percentile(times, 0.5)), "p99": round3(percentile(times, 0.99)),
        "max": round3(times.last().copied().unwrap_or(0.0)), "refused": refused,
    })
}

/// One Argon2id check's time on one core, milliseconds (median of 15).
fn argon2_ms() -> Result<f64, AppError> {
    let hash = hash_password("a password of some length")?;
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(verify_password(&hash, "a password of some length"));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub async fn bench_sign_in(a: &BenchArgs) -> Result<Value, AppError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(internal)?;
    let base = format!("http://{}", listener.local_addr().map_err(internal)?);
    let tmp = tempfile::tempdir().map_err(internal)?;
    let store = SqliteStore::open(tmp.path().join("bench.db"), Default::default())?;
    let mut config = NodeConfig::ephemeral(&base);
    config.trusted_proxies = vec![std::net::Ipv4Addr::LOCALHOST.into()];
    let node = Node::new(Arc::new(store), Arc::new(SystemClock), config);
    for (i, user) in (0..USERS)
        .map(|i| format!("user{i}"))
        .chain((0..VICTIMS).map(|i| format!("victim{i}")))
        .enumerate()
    {
        create_account(
            &node,
            NewAccount {
                password: format!("{user}-password"),
                username: user,
                name: "基准用户".into(),
                person: resident_id(i)?,
            },
        )
        .await?;
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(elicense_server::serve(node.clone(), listener, async {
        let _ = stop_rx.await;
    }));
    let http = Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(internal)?;

    let limit = argon2_ms()?;
    let count = a.count.max(1);
    let (quiet, quiet_refused) = legitimate(&http, &base, count, 1).await?;

    // The attack: guesses until the legitimate sign-ins of phase 2 are done.
    let stop = Arc::new(AtomicBool::new(false));
    let guesses = Arc::new(AtomicUsize::new(0));
    let throttled = Arc::new(AtomicUsize::new(0));
    let attackers = a.tasks.unwrap_or(32).max(1);
    let mut tasks = Vec::new();
    for t in 0..attackers {
        let (http, base) = (http.clone(), base.clone());
        let (stop, guesses, throttled) = (stop.clone(), guesses.clone(), throttled.clone());
        let period = Duration::from_secs_f64(attackers as f64 / a.attack_rate.max(1.0));
        tasks.push(tokio::spawn(async move {
            let mut n = t;
            let mut pace = tokio::time::interval(period);
            pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(Ordering::Relaxed) {
                pace.tick().await;
                let addr = format!("203.0.113.{}", n % ATTACK_ADDRESSES + 1);
                let victim = format!("victim{}", n % VICTIMS);
                let (status, _) = sign_in(&http, &base, &addr, &victim, "guess-123456").await?;
                guesses.fetch_add(1, Ordering::Relaxed);
                if status == StatusCode::TOO_MANY_REQUESTS {
                    throttled.fetch_add(1, Ordering::Relaxed);
                }
                n += attackers;
            }
            Ok::<_, AppError>(())
        }));
    }
    // Let the attack use up its free failures (hashed: each costs an Argon2id check) and reach
    // its steady state, where a whole half second of guesses is refused: at most 10 s.
    let warm = Instant::now();
    loop {
        let (g0, t0) = (
            guesses.load(Ordering::Relaxed),
            throttled.load(Ordering::Relaxed),
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (g1, t1) = (
            guesses.load(Ordering::Relaxed),
            throttled.load(Ordering::Relaxed),
        );
        if (g1 > g0 && t1 - t0 == g1 - g0) || warm.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let warm_up = warm.elapsed().as_secs_f64();
    let hashed_in_warm_up = guesses.load(Ordering::Relaxed) - throttled.load(Ordering::Relaxed);
    let throttled_before = throttled.load(Ordering::Relaxed);
    let started = Instant::now();
    let before = guesses.load(Ordering::Relaxed);
    let (attacked, attacked_refused) = legitimate(&http, &base, count, 2).await?;
    let secs = started.elapsed().as_secs_f64();
    let during = guesses.load(Ordering::Relaxed) - before;
    let refused_during = throttled.load(Ordering::Relaxed) - throttled_before;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.map_err(internal)??;
    }
    let _ = stop_tx.send(());
    let _ = server.await;

    let p99 = percentile(&attacked, 0.99);
    Ok(json!({
        "bench": "sign-in", "sign_ins": count, "attackers": attackers, "attack_rate_asked": a.attack_rate,
        "attack_addresses": ATTACK_ADDRESSES, "cores": cores(),
        "argon2id_check_ms": round3(limit),
        "quiet_server_ms": summary(&quiet, quiet_refused),
        "attack_server_ms": summary(&attacked, attacked_refused),
        "attack_guesses_per_s": round(during as f64 / secs),
        "attack_warm_up_secs": round3(warm_up), "attack_guesses_hashed_in_warm_up": hashed_in_warm_up,
        "attack_guesses_refused_during": round3(refused_during as f64 / during.max(1) as f64),
        "ratio": round3(if p99 > 0.0 { limit / p99 } else { 0.0 }),
        "target_p99_ms": 100.0,
        "what": "POST /wallet/login server time (Server-Timing) of legitimate users, quiet and while password guessing is throttled; limit = one Argon2id check on one core; ratio = limit / p99 under attack"
    }))
}
