//! Correctness under concurrency (not speed): many keep-alive clients at once get the same
//! answers as one client would. No timing is asserted.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::{TestServer, CITIZEN, CITIZEN2};
use elicense_core::sample;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const CLIENTS: usize = 64;
const VERIFICATIONS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verifications_are_all_valid() {
    let s = TestServer::start().await;
    let mut credentials = Vec::new();
    for alg in ["SM2", "EdDSA", "ES256"] {
        let issued = s.issue_driving(alg).await;
        credentials.push((
            issued["identifier"].as_str().unwrap().to_string(),
            issued["credential"].as_str().unwrap().to_string(),
        ));
    }
    let credentials = Arc::new(credentials);
    let url = s.url("/api/v1/verifications");
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let credentials = credentials.clone();
        let url = url.clone();
        // Each client has its own connection pool: one keep-alive connection per client.
        let client = Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let n = VERIFICATIONS / CLIENTS + usize::from(c < VERIFICATIONS % CLIENTS);
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            for i in 0..n {
                let (id, credential) = &credentials[(c + i) % credentials.len()];
                let resp = client
                    .post(&url)
                    .header("content-type", "application/dc+sd-jwt")
                    .body(credential.clone())
                    .send()
                    .await
                    .expect("request");
                let status = resp.status();
                let v: Value = resp.json().await.expect("JSON verdict");
                assert_eq!(status, StatusCode::OK, "{v}");
                assert_eq!(v["valid"], true, "{v}");
                assert_eq!(v["identifier"], id.as_str());
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client task");
    }
    assert_eq!(total, VERIFICATIONS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_issuance_gives_distinct_identifiers_and_slots() {
    const WORKERS: usize = 8;
    const EACH: usize = 12;
    let s = Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let holder = if w % 2 == 0 { CITIZEN } else { CITIZEN2 };
            let alg = ["SM2", "EdDSA", "ES256"][w % 3];
            let mut out = Vec::new();
            for _ in 0..EACH {
                let req = s.driving_request(holder, alg).await;
                out.push(s.issue(&req).await);
            }
            out
        }));
    }
    let mut issued = Vec::new();
    for t in tasks {
        issued.extend(t.await.expect("worker"));
    }
    assert_eq!(issued.len(), WORKERS * EACH);
    let ids: HashSet<&str> = issued
        .iter()
        .map(|i| i["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), issued.len(), "identifiers are unique");
    let slots: HashSet<(String, u64)> = issued
        .iter()
        .map(|i| {
            (
                i["status"]["uri"].as_str().unwrap().to_string(),
                i["status"]["idx"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(slots.len(), issued.len(), "status slots are unique");
    assert_eq!(s.count().await, (WORKERS * EACH) as u64);
    for i in issued.iter().step_by(7) {
        let v = s.verify(i["credential"].as_str().unwrap()).await;
        assert_eq!(v["valid"], true, "{v}");
        assert!(i["identifier"]
            .as_str()
            .unwrap()
            .contains(sample::BEIJING_TRAFFIC_POLICE));
    }
}
