//! SIGKILL of `elicense serve` while issue requests are in flight: every license the server
//! acknowledged (201) survives the crash and verifies after a restart on the same data dir.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const CLIENTS: usize = 8;
const KILL_AFTER_ACKS: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_issue_loses_no_acknowledged_license() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = DataDir::with_base_url(&url);
    std::fs::write(
        d.dir.join("elicense.toml"),
        format!("base_url = \"{url}\"\ndefault_alg = \"ed25519\"\n"),
    )
    .unwrap();
    let d = d.setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let api_key = d.apikey(BEIJING_TRAFFIC_POLICE);

    let mut server = Server::serve(&d, port, "serve1");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // Without the API key: 401 with a JSON error; nothing stored.
    let resp = client
        .post(format!("{url}/api/v1/licenses"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");

    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let unexpected: Arc<Mutex<Vec<String>>> = Arc::default();
    let next = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url, key) = (client.clone(), url.clone(), api_key.clone());
        let (acked, unexpected, next, stop) = (
            acked.clone(),
            unexpected.clone(),
            next.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let body = json!({
                    "type_code": DRIVING_LICENSE,
                    "issuer": BEIJING_TRAFFIC_POLICE,
                    "holder_name": format!("持证人{n}"),
                    "holder_id": resident_id(n),
                    "fields": driving_fields_json(&resident_id(n)),
                });
                let resp = match client
                    .post(format!("{url}/api/v1/licenses"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) => r,
                    Err(_) => return, // the server is gone
                };
                let status = resp.status().as_u16();
                let Ok(text) = resp.text().await else { return };
                if status == 201 {
                    let v: Value = match serde_json::from_str(&text) {
                        Ok(v) => v,
                        Err(e) => {
                            unexpected
                                .lock()
                                .unwrap()
                                .push(format!("201 with a body that is not JSON ({e}): {text}"));
                            return;
                        }
                    };
                    let id = v["identifier"].as_str().unwrap_or_default().to_string();
                    let cred = v["credential"].as_str().unwrap_or_default().to_string();
                    acked.lock().unwrap().push((id, cred));
                } else {
                    unexpected.lock().unwrap().push(format!("{status}: {text}"));
                }
            }
        }));
    }

    // Let a batch be acknowledged, then SIGKILL the server with requests still in flight.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < KILL_AFTER_ACKS {
        assert!(
            unexpected.lock().unwrap().is_empty(),
            "unexpected answers: {:?}",
            unexpected.lock().unwrap()
        );
        if let Some(code) = server.proc.exited() {
            panic!(
                "the server exited ({code}) by itself:\n{}",
                server.proc.stderr()
            );
        }
        assert!(
            Instant::now() < deadline,
            "fewer than {KILL_AFTER_ACKS} licenses issued in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.proc.kill9();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("clients stop once the server is gone")
            .unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let unexpected = std::mem::take(&mut *unexpected.lock().unwrap());
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
    let sent = next.load(Ordering::SeqCst) as usize;
    assert!(acked.len() >= KILL_AFTER_ACKS);
    assert!(
        acked
            .iter()
            .all(|(id, cred)| !id.is_empty() && cred.contains('~')),
        "each 201 has identifier and credential"
    );
    let mut ids: Vec<&str> = acked.iter().map(|(i, _)| i.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), acked.len(), "no identifier acknowledged twice");

    // Right after the crash, before any restart: every acknowledged license is stored with the
    // credential the client got, and no license lacks its event.
    d.assert_license_event_integrity();
    let stored = d.count("SELECT COUNT(*) FROM licenses") as usize;
    eprintln!(
        "SIGKILL with {sent} requests sent: {} acknowledged, {stored} stored",
        acked.len()
    );
    assert!(
        stored >= acked.len() && stored <= sent,
        "stored {stored}, acknowledged {}, sent {sent}",
        acked.len()
    );
    {
        let conn = d.sql();
        for (id, cred) in &acked {
            let got: Option<String> = conn
                .query_row(
                    "SELECT credential FROM licenses WHERE identifier = ?1",
                    [id],
                    |r| r.get(0),
                )
                .ok();
            assert_eq!(
                got.as_deref(),
                Some(cred.as_str()),
                "acknowledged {id} is stored as acknowledged"
            );
        }
    }

    // Restart on the same data dir and port; every acknowledged license verifies.
    let server = Server::serve(&d, port, "serve2");
    for (id, cred) in &acked {
        let resp = client
            .get(format!("{url}/api/v1/licenses/{id}/verification"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{id}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["identifier"], id.as_str());
        assert_eq!(v["status"]["code"], "valid", "{v}");

        let resp = client
            .post(format!("{url}/api/v1/verifications"))
            .json(&json!({ "credential": cred }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{id}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["valid"], true, "{id}: {v}");
        assert_eq!(v["identifier"], id.as_str());
    }
    // The raw credential as the body (text/plain) gives the same verdict.
    let resp = client
        .post(format!("{url}/api/v1/verifications"))
        .header("content-type", "text/plain")
        .body(acked[0].1.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["valid"], true);

    // The restarted node issues on: a new identifier, never one already used.
    let resp = client
        .post(format!("{url}/api/v1/licenses"))
        .bearer_auth(&api_key)
        .json(&json!({
            "type_code": DRIVING_LICENSE,
            "issuer": BEIJING_TRAFFIC_POLICE,
            "holder_name": "张伟",
            "holder_id": "11010519491231002X",
            "fields": driving_fields_json("11010519491231002X"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = resp.json().await.unwrap();
    let new_id = v["identifier"].as_str().unwrap();
    assert!(
        !ids.contains(&new_id),
        "{new_id} was already acknowledged before the crash"
    );
    assert_eq!(
        d.count(&format!(
            "SELECT COUNT(*) FROM licenses WHERE identifier = '{new_id}'"
        )),
        1
    );
    d.assert_license_event_integrity();
    assert_eq!(
        d.count("SELECT COUNT(*) FROM licenses") as usize,
        d.count("SELECT COUNT(DISTINCT status_list || ':' || status_idx) FROM licenses") as usize,
        "no status slot used twice"
    );
    drop(server);
}
