//! `elicense log verify` against a real `elicense serve`: a clean audit, a second audit that
//! checks consistency with the saved checkpoint, a license status changed with SQL behind the
//! running server (reported with the identifier and the disagreeing event, exit 1), a
//! rewritten log entry, a forked state; with `--data`, every entry checked against the
//! database, an opening's salt changed with SQL caught, and a log of version-1 entries (as
//! nodes wrote before commitments) still passing; and SIGKILL mid-issue leaves every event in
//! the log.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn audit(url: &str, state: &std::path::Path) -> Out {
    run(&[
        "log",
        "verify",
        "--node",
        url,
        "--state",
        state.to_str().unwrap(),
    ])
}

fn writable(d: &DataDir) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(d.db()).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

#[test]
fn audit_detects_a_status_changed_in_the_database() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = DataDir::with_base_url(&url).setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    let mut ids = Vec::new();
    for n in 0..3 {
        let out = d.issue_driving(&format!("持证人{n}"), &resident_id(n), &["--json"]);
        out.ok();
        let v = out.json();
        ids.push(v["identifier"].as_str().unwrap().to_string());
    }
    d.run(&[
        "revoke",
        &ids[1],
        "--reason",
        "骗取许可",
        "--reason-category",
        "improperly_obtained",
        "--json",
    ])
    .ok();
    let _server = Server::serve(&d, port, "serve");
    let state = d.path("audit-state.json");

    // A clean log: exit 0, every entry checked, both signatures, state saved.
    let out = audit(&url, &state);
    out.ok();
    let r = out.json();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["tree_size"], 4);
    assert_eq!(r["entries"], 4);
    assert_eq!(r["licenses_checked"], 3);
    assert_eq!(r["signatures"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["origin"], format!("127.0.0.1:{port}/log"));
    assert!(state.exists());

    // The log grows (a CLI command writing beside the server); the next audit proves the new
    // checkpoint consistent with the saved one.
    d.issue_driving("持证人9", &resident_id(9), &["--json"])
        .ok();
    let out = audit(&url, &state);
    out.ok();
    let r = out.json();
    assert_eq!(
        (r["tree_size"].as_u64(), r["consistent_with"].as_u64()),
        (Some(5), Some(4))
    );

    // The revoked license is made valid again with SQL, behind the running server.
    let changed = writable(&d)
        .execute(
            "UPDATE licenses SET status = 'valid', status_value = 0 WHERE identifier = ?1",
            [&ids[1]],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let out = audit(&url, &state);
    out.expect_code(1);
    let r = out.json();
    assert_eq!(r["ok"], false);
    assert!(
        r["failures"].as_array().unwrap().is_empty(),
        "the log itself is intact: {r}"
    );
    let m = r["mismatches"].as_array().unwrap();
    assert_eq!(m.len(), 1, "{r}");
    assert_eq!(m[0]["identifier"], ids[1].as_str());
    assert_eq!(m[0]["node_status"], "valid");
    assert_eq!(m[0]["log_status"], "revoked");
    assert_eq!(m[0]["event_index"], 3);
    assert_eq!(m[0]["event"]["kind"], "revoke");
    // The public leaf names the reason's category; the issuer's words are not in the log.
    assert_eq!(m[0]["event"]["reason"], "improperly_obtained");
    assert!(!out.stdout.contains("骗取许可"), "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!("MISMATCH: {}", ids[1])) && out.stderr.contains("revoke"),
        "{}",
        out.stderr
    );

    // Rewriting the logged event too does not help: the entries no longer hash to the
    // signed root.
    let forged = json!({"v":1,"event":4,"identifier":ids[1],"kind":"reinstate","actor":"dba",
        "at":0,"reason":null,"status":"valid","pledged":false,"credential_sha256":"00"});
    writable(&d)
        .execute(
            "UPDATE log_entries SET data = ?1 WHERE idx = 3",
            [serde_json::to_vec(&forged).unwrap()],
        )
        .unwrap();
    let out = audit(&url, &state);
    out.expect_code(1);
    let r = out.json();
    let failures = r["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|f| f.as_str().unwrap().contains("hash to")),
        "{r}"
    );

    // A state file whose checkpoint has another root at the same size: a fork.
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let note = s["checkpoint"].as_str().unwrap().to_string();
    let mut lines: Vec<String> = note.lines().map(str::to_string).collect();
    lines[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
    s["checkpoint"] = Value::String(lines.join("\n") + "\n");
    let forked = d.path("forked.json");
    std::fs::write(&forked, s.to_string()).unwrap();
    let out = audit(&url, &forked);
    out.expect_code(1);
    assert!(out.stdout.contains("a fork"), "{}", out.stdout);

    // A node that is not there: exit 2.
    let out = run(&[
        "log",
        "verify",
        "--node",
        &format!("http://127.0.0.1:{}", free_port()),
    ]);
    out.expect_code(2);
}

/// SIGKILL of `elicense serve` with issue requests in flight: afterwards every event is in
/// the log exactly once (license, event and log entry commit together), and the restarted
/// node passes an audit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_issue_leaves_the_log_complete() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = DataDir::with_base_url(&url).setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let api_key = d.apikey(BEIJING_TRAFFIC_POLICE);
    let mut server = Server::serve(&d, port, "serve1");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let acked = Arc::new(AtomicU32::new(0));
    let next = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (client, url, key) = (client.clone(), url.clone(), api_key.clone());
        let (acked, next, stop, failed) =
            (acked.clone(), next.clone(), stop.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let body = json!({
                    "type_code": DRIVING_LICENSE,
                    "issuer": BEIJING_TRAFFIC_POLICE,
                    "holder_name": format!("持证人{n}"),
                    "holder_id": resident_id(n),
                    "fields": driving_fields_json(&resident_id(n)),
                    "alg": "ed25519",
                });
                let Ok(resp) = client
                    .post(format!("{url}/api/v1/licenses"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                match resp.status().as_u16() {
                    201 => {
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    other => {
                        eprintln!("unexpected {other}: {:?}", resp.text().await);
                        failed.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            }
        }));
    }
    while acked.load(Ordering::SeqCst) < 40 {
        assert!(server.proc.exited().is_none(), "{}", server.proc.stderr());
        assert!(!failed.load(Ordering::SeqCst), "an issue request failed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.proc.kill9();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
    }
    let events = d.count("SELECT COUNT(*) FROM events");
    let entries = d.count("SELECT COUNT(*) FROM log_entries");
    let size = d.count("SELECT size FROM log_state");
    let joined = d.count("SELECT COUNT(*) FROM events e JOIN log_entries l ON l.seq = e.seq");
    eprintln!("after SIGKILL: {events} events, {entries} log entries");
    assert!(events >= 40);
    assert_eq!((entries, size, joined), (events, events, events));
    d.assert_license_event_integrity();

    let _server = Server::serve(&d, port, "serve2");
    let out = audit(&url, &d.path("state.json"));
    out.ok();
    assert_eq!(out.json()["entries"].as_i64(), Some(events));
}

fn audit_with_data(url: &str, d: &DataDir) -> Out {
    run(&["log", "verify", "--node", url, "--data", d.data()])
}

/// An institution's verification over HTTP: a use of the license.
async fn institution_verifies(url: &str, key: &str, credential: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/api/v1/verifications"))
        .bearer_auth(key)
        .header("content-type", "application/dc+sd-jwt")
        .body(credential.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Rewrites the whole log as a node did before commitments (every leaf version 1, uses in
/// clear, no openings), with the tree's nodes and state to match: an old node's database.
fn rewrite_as_version_1(d: &DataDir) {
    use elicense_store::log::{EntryV1, UseEvent};
    let mut c = writable(d);
    let tx = c.transaction().unwrap();
    let rows: Vec<(i64, i64, Vec<u8>)> = tx
        .prepare("SELECT idx, seq, data FROM log_entries ORDER BY idx")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut f = elicense_log::Frontier::new();
    let mut nodes = Vec::new();
    tx.execute_batch("DELETE FROM log_nodes; DELETE FROM log_checkpoints;")
        .unwrap();
    for (idx, seq, data) in rows {
        let leaf: Value = serde_json::from_slice(&data).unwrap();
        let (actor, reason): (String, Option<String>) = tx
            .query_row(
                "SELECT actor, reason FROM events WHERE seq = ?1",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let v1 = if leaf.get("commitment").is_some() {
            let event: Vec<u8> = tx
                .query_row(
                    "SELECT event FROM log_openings WHERE seq = ?1",
                    [seq],
                    |r| r.get(0),
                )
                .unwrap();
            let u = UseEvent::parse(&event).unwrap();
            EntryV1 {
                v: 1,
                event: seq,
                identifier: u.identifier,
                kind: u.kind.to_string(),
                actor,
                at: u.at,
                reason,
                status: u.status.code().into(),
                pledged: u.pledged,
                credential_sha256: u.credential_sha256,
            }
        } else {
            EntryV1 {
                v: 1,
                event: seq,
                identifier: leaf["identifier"].as_str().unwrap().into(),
                kind: leaf["kind"].as_str().unwrap().into(),
                actor,
                at: leaf["at"].as_i64().unwrap(),
                reason,
                status: leaf["status"].as_str().unwrap().into(),
                pledged: leaf["pledged"].as_bool().unwrap(),
                credential_sha256: leaf["credential_sha256"].as_str().unwrap().into(),
            }
        };
        let bytes = serde_json::to_vec(&v1).unwrap();
        f.append_with(elicense_log::leaf_hash(&bytes), |n, h| {
            nodes.push((n.level, n.index as i64, h.0.to_vec()))
        });
        tx.execute(
            "UPDATE log_entries SET data = ?1 WHERE idx = ?2",
            rusqlite::params![bytes, idx],
        )
        .unwrap();
    }
    for (level, index, hash) in nodes {
        tx.execute(
            "INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)",
            rusqlite::params![level, index, hash],
        )
        .unwrap();
    }
    let peaks: Vec<u8> = f.peaks().iter().flat_map(|h| h.0).collect();
    tx.execute(
        "UPDATE log_state SET size = ?1, peaks = ?2 WHERE id = 1",
        rusqlite::params![f.size() as i64, peaks],
    )
    .unwrap();
    tx.execute("DELETE FROM log_openings", []).unwrap();
    tx.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_checks_entries_and_openings_against_the_database_and_old_entries_still_pass() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = DataDir::with_base_url(&url).setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    let out = d.issue_driving("持证人0", &resident_id(0), &["--json"]);
    out.ok();
    let credential = out.json()["credential"].as_str().unwrap().to_string();
    let identifier = out.json()["identifier"].as_str().unwrap().to_string();
    let out = run(&[&["institution", "add", "--data", d.data()][..], &RENTAL_ADD].concat());
    out.ok();
    let key = out.json()["api_key"].as_str().unwrap().to_string();
    d.run(&["suspend", &identifier, "--reason", "整改", "--json"])
        .ok();

    // An old node's log: version-1 entries only, uses in clear. It still audits, against
    // the node and its database.
    let server = Server::serve(&d, port, "serve-old");
    institution_verifies(&url, &key, &credential).await;
    drop(server);
    rewrite_as_version_1(&d);
    let server = Server::serve(&d, port, "serve-v1");
    let out = audit_with_data(&url, &d);
    out.ok();
    let r = out.json();
    assert_eq!(
        (r["entries"].as_u64(), r["uses"].as_u64()),
        (Some(3), Some(0)),
        "{r}"
    );
    assert_eq!(r["database_checked"], 3);

    // New entries are version 2 after the old ones; the mixed log audits.
    institution_verifies(&url, &key, &credential).await;
    d.run(&["reinstate", &identifier, "--json"]).ok();
    let out = audit_with_data(&url, &d);
    out.ok();
    let r = out.json();
    assert_eq!(
        (r["entries"].as_u64(), r["uses"].as_u64()),
        (Some(5), Some(1)),
        "{r}"
    );
    assert_eq!(r["database_checked"], 5);

    // An opening's salt changed with SQL: exit 1, the entry named.
    let salt: Vec<u8> = d
        .sql()
        .query_row("SELECT salt FROM log_openings", [], |r| r.get(0))
        .unwrap();
    writable(&d)
        .execute("UPDATE log_openings SET salt = zeroblob(32)", [])
        .unwrap();
    let out = audit_with_data(&url, &d);
    out.expect_code(1);
    assert!(
        out.stderr.contains("FAIL: entry 3:") && out.stderr.contains("commitment"),
        "{}",
        out.stderr
    );
    // Without the database, the public audit cannot see it (the opening is not public).
    run(&["log", "verify", "--node", &url]).ok();
    writable(&d)
        .execute("UPDATE log_openings SET salt = ?1", [salt])
        .unwrap();
    audit_with_data(&url, &d).ok();
    drop(server);
}
