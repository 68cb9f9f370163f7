//! What an OpenID4VP round trip at the counter costs the node:
//! `cargo bench -p elicense-app --bench openid4vp [-- COUNT]` (release build).
//!
//! A node on a SQLite file in a temp dir (as `elicense serve`), one bank with its clerk, one
//! ES256 business license bound to a holder's device key. COUNT times (default 300), for each
//! response mode: the bank starts a request and the node signs its request object (the node's
//! part of the request), a wallet written here builds the answer (not timed: that is the
//! holder's phone), and the node checks it and stores the annotated copy with its events
//! (the node's part of the response). Two figures: the node's time per round trip one at a
//! time (latency, mostly the three commits), and the rate with all COUNT at once (the
//! requests, then the answers), per core, compared with the raw ES256 verification rate of
//! this machine in the same run (an SD-JWT presentation needs two verifications: the
//! issuer's signature and the KB-JWT). The target is ≥ 0.3 × the raw verification rate per
//! core.
//!
//! The same run also times, on one core, the cryptography a round trip cannot do without
//! (two ES256 signatures: the request object and the annotated copy; two verifications: the
//! issuer's and the KB-JWT; for `direct_post.jwt` also the fresh per-request P-256 key and the
//! response's ECDH-ES decryption), and prints the ratio that cryptography alone allows: no
//! round trip can be faster than its own signatures.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::*;
use elicense_app::institutions::presentations::{self, ResponseForm};
use elicense_app::institutions::{self, NewInstitution};
use elicense_app::wallet::present;
use elicense_crypto::jwe::{self, EcdhEsKey, Enc};
use elicense_crypto::{jws, sdjwt, Alg, KeyPair, Signer};
use serde_json::{json, Value};

const MATTER: &str = "bank_account_opening";

fn answer(payload: &Value, credential: &str, fields: &[&str], device: &Device) -> ResponseForm {
    let presentation = sdjwt::present(credential, fields).unwrap();
    let nonce = payload["nonce"].as_str().unwrap();
    let aud = payload["client_id"].as_str().unwrap();
    let prepared = sdjwt::key_binding_prepare(&presentation, aud, nonce, T0, Alg::Es256);
    let input = std::str::from_utf8(prepared.signing_input())
        .unwrap()
        .to_owned();
    let full = format!("{presentation}{input}.{}", device.sign(&input));
    vp_form(
        payload,
        json!({"license": [full]}),
        payload["state"].as_str().unwrap(),
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// ES256 verifications per second on one core, now.
fn raw_verify_rate() -> f64 {
    let key = KeyPair::generate(Alg::Es256, &mut rand::rngs::OsRng);
    let msg = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";
    let sig = key.sign(msg).unwrap();
    let verifier = key.verifier();
    1.0 / each(3000, || verifier.verify(msg, &sig).unwrap())
}

/// Seconds per call of `f` on one core, over `n` calls.
fn each(n: usize, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed().as_secs_f64() / n as f64
}

/// The cryptography of one round trip alone, in seconds on one core: (`direct_post`,
/// `direct_post.jwt`).
fn crypto_floor() -> (f64, f64) {
    let rng = &mut rand::rngs::OsRng;
    let key = KeyPair::generate(Alg::Es256, rng);
    // About the size of a request object's or a copy's signing input.
    let msg = vec![b'e'; 1_500];
    let sig = key.sign(&msg).unwrap();
    let verifier = key.verifier();
    let n = 2_000;
    let sign = each(n, || {
        key.sign(&msg).unwrap();
    });
    let verify = each(n, || verifier.verify(&msg, &sig).unwrap());
    let fresh = each(n, || {
        EcdhEsKey::generate(rng).public_jwk("k");
    });
    let recipient = EcdhEsKey::generate(rng);
    let response = jwe::encrypt(
        &recipient.public_jwk("k"),
        Enc::A256Gcm,
        &vec![b'v'; 2_000],
        &Default::default(),
        rng,
    )
    .unwrap();
    let decrypt = each(n, || {
        recipient.decrypt(&response).unwrap();
    });
    let plain = 2.0 * sign + 2.0 * verify;
    (plain, plain + fresh + decrypt)
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300);
    let env = env().await;
    let node = env.node.clone();
    let license = issue_ok(&env, request(BUSINESS, 0, Alg::Es256))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let bank = institutions::register(
        &node,
        NewInstitution {
            code: "91110105MA01B2C3DL".into(),
            name: "示例商业银行北京分行".into(),
            area: "110105".into(),
            matters: vec![MATTER.into()],
        },
    )
    .await
    .unwrap();
    clerk(&env, &bank).await;
    let device = Device::new();
    let jkt = present::bind(&node, &zhang, &license, &device.jwk())
        .await
        .unwrap();
    let credential = env
        .store
        .binding(license.as_str(), &jkt)
        .await
        .unwrap()
        .unwrap()
        .credential;
    let parsed = sdjwt::parse(&credential).unwrap();
    let m = institutions::matter(&node, MATTER).await.unwrap().unwrap();
    let fields: Vec<&str> = m
        .need
        .fields
        .iter()
        .filter(|f| parsed.disclosures.iter().any(|d| &d.name == *f))
        .map(String::as_str)
        .collect();

    let raw_before = raw_verify_rate();
    let start = |mode: &'static str| {
        let (node, bank) = (node.clone(), bank.clone());
        async move {
            let started = presentations::start(
                &node,
                &bank,
                serde_json::from_value(json!({"matter": MATTER, "staff": CLERK,
                    "purpose": "企业开户", "response_mode": mode}))
                .unwrap(),
            )
            .await
            .unwrap();
            let jar = presentations::request_object(&node, &started.id)
                .await
                .unwrap();
            (started.id, jar)
        }
    };
    let mut latency = Vec::new();
    let mut throughput = Vec::new();
    for mode in ["direct_post.jwt", "direct_post"] {
        // One at a time: the node's time per round trip.
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            let t0 = Instant::now();
            let (id, jar) = start(mode).await;
            let requested = t0.elapsed();
            // The wallet's part (not timed).
            let payload = jws::parse(&jar).unwrap().payload;
            let form = answer(&payload, &credential, &fields, &device);
            let t1 = Instant::now();
            let ack = presentations::respond(&node, &id, form).await.unwrap();
            let answered = t1.elapsed();
            assert_eq!(ack.outcome, "granted");
            times.push((requested + answered).as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        latency.push((
            mode,
            mean,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
        ));

        // Many at once (as a busy node serves many counters): the requests and their objects
        // (timed), then the wallets' answers (not timed), then the responses (timed).
        let t0 = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..count {
            set.spawn(start(mode));
        }
        let objects = set.join_all().await;
        let requested = t0.elapsed();
        let forms: Vec<(String, ResponseForm)> = objects
            .into_iter()
            .map(|(id, jar)| {
                let payload = jws::parse(&jar).unwrap().payload;
                (id, answer(&payload, &credential, &fields, &device))
            })
            .collect();
        let t1 = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for (id, form) in forms {
            let node = node.clone();
            set.spawn(async move { presentations::respond(&node, &id, form).await.unwrap() });
        }
        for ack in set.join_all().await {
            assert_eq!(ack.outcome, "granted");
        }
        let answered = t1.elapsed();
        throughput.push((
            mode,
            count as f64 / (requested + answered).as_secs_f64(),
            count as f64 / requested.as_secs_f64(),
            count as f64 / answered.as_secs_f64(),
        ));
    }
    let raw = (raw_before + raw_verify_rate()) / 2.0;
    let (floor_plain, floor_jwt) = crypto_floor();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!("OpenID4VP round trip at the counter, the node's time, {count} per mode");
    println!("raw ES256 verify on this machine: {raw:.0}/s per core; {cores} cores");
    for (mode, mean, p50, p99) in latency {
        println!("{mode:16} one at a time: mean {mean:.2} ms  p50 {p50:.2} ms  p99 {p99:.2} ms");
    }
    for (mode, rate, requests, responses) in throughput {
        let per_core = rate / cores;
        let floor = if mode == "direct_post" {
            floor_plain
        } else {
            floor_jwt
        };
        println!(
            "{mode:16} all at once: {rate:.0}/s, {per_core:.0}/s per core, ratio to raw verify {:.2} (target ≥ 0.30); requests alone {requests:.0}/s, responses alone {responses:.0}/s",
            per_core / raw
        );
        println!(
            "{mode:16} its cryptography alone: {:.0} µs per round trip on one core, {:.0}/s per core: the highest ratio any round trip can reach {:.2}; this run reached {:.2} of that",
            floor * 1e6,
            1.0 / floor,
            1.0 / floor / raw,
            per_core * floor
        );
    }
}
