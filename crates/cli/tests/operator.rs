//! The operator's commands against a running node on the same data dir (issue 16, finding 8):
//! `apikey revoke`, `institution disable|enable`, `keygen --retire|--revoke --since`,
//! `operator key|events`. A revoked key is refused by the running node at once, a disabled
//! institution stays disabled when registered again, a revoked issuer key invalidates what it
//! signed from the date on (seen by the running node within the key cache's 1 s), bad input is
//! a stable code that changes nothing, and `log verify --data` checks every operator leaf (a
//! changed opening is caught).

mod common;

use std::time::Duration;

use common::*;
use elicense_core::sample::{BEIJING_TRAFFIC_POLICE, DRIVING_LICENSE};
use serde_json::{json, Value};

fn keygen(d: &DataDir, alg: &str) -> String {
    let out = d.run(&["keygen", "--issuer", BEIJING_TRAFFIC_POLICE, "--alg", alg]);
    out.ok();
    out.json()["kid"].as_str().unwrap().to_owned()
}

/// `elicense COMMAND SUBCOMMAND --data DIR REST...`.
fn sub(d: &DataDir, args: &[&str]) -> Out {
    let mut v = vec![args[0], args[1], "--data", d.data()];
    v.extend_from_slice(&args[2..]);
    run(&v)
}

fn fails_with(out: &Out, code: &str) {
    out.expect_code(2);
    assert!(out.stderr.contains(code), "expected {code}: {out:?}");
}

fn register(d: &DataDir) -> Out {
    sub(d, &[&["institution", "add"][..], &RENTAL_ADD].concat())
}

async fn issue_http(url: &str, key: &str, n: u32) -> reqwest::StatusCode {
    let id = resident_id(n);
    let fields: serde_json::Map<String, Value> = driving_fields(&id)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    reqwest::Client::new()
        .post(format!("{url}/api/v1/licenses"))
        .bearer_auth(key)
        .json(
            &json!({"type_code": DRIVING_LICENSE, "issuer": BEIJING_TRAFFIC_POLICE,
                      "holder_name": "持证人", "holder_id": id, "fields": fields,
                      "alg": "es256"}),
        )
        .send()
        .await
        .unwrap()
        .status()
}

async fn share_status(url: &str, key: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/shares"))
        .bearer_auth(key)
        .json(&json!({"matter": "car_rental", "holder_id": resident_id(0),
                      "purpose": "租车", "staff": "clerk"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_act_on_a_running_node_and_are_logged() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = DataDir::with_base_url(&url).setup(&[]);
    let es_kid = keygen(&d, "es256");
    let ed_kid = keygen(&d, "ed25519");
    let out = d.issue_driving("持证人0", &resident_id(0), &["--alg", "es256", "--json"]);
    out.ok();
    let es_credential = out.json()["credential"].as_str().unwrap().to_owned();
    let out = d.issue_driving("持证人1", &resident_id(1), &["--alg", "ed25519", "--json"]);
    out.ok();
    let ed_credential = out.json()["credential"].as_str().unwrap().to_owned();
    // `apikey --issuer` still makes keys.
    let issuer_key = d.apikey(BEIJING_TRAFFIC_POLICE);
    let key_id = issuer_key.split('_').nth(1).unwrap().to_owned();
    let out = register(&d);
    out.ok();
    let inst_key = out.json()["api_key"].as_str().unwrap().to_owned();
    let server = Server::serve(&d, port, "serve-operator");
    assert_eq!(issue_http(&url, &issuer_key, 2).await, 201);
    // The institution's administrator registers the staff member who asks.
    let staff = reqwest::Client::new()
        .put(format!("{url}/api/v1/staff/clerk"))
        .bearer_auth(&inst_key)
        .json(&json!({"name": "柜台 李明", "matters": ["car_rental"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200);
    assert_eq!(
        share_status(&url, &inst_key).await,
        202,
        "asks; waits for the holder"
    );

    // Bad input: stable codes, nothing written.
    fails_with(
        &sub(&d, &["apikey", "revoke", "0123456789ab"]),
        "apikey.unknown",
    );
    fails_with(&sub(&d, &["apikey", "revoke", "nothex"]), "apikey.bad_id");
    fails_with(&d.run(&["apikey"]), "apikey.issuer_required");
    fails_with(
        &d.run(&["keygen", "--revoke", &es_kid, "--since", "2026-13-01"]),
        "key.bad_since",
    );
    fails_with(
        &d.run(&["keygen", "--revoke", "nokid", "--since", "2020-01-01"]),
        "key.unknown",
    );
    fails_with(&d.run(&["keygen", "--retire", "nokid"]), "key.unknown");
    fails_with(
        &sub(
            &d,
            &["institution", "disable", "--code", "91310101MA1FPX0Q1Y"],
        ),
        "institution.unknown",
    );
    let out = sub(&d, &["operator", "events"]);
    out.ok();
    assert_eq!(out.json(), json!([]), "nothing logged by bad input");

    // A revoked issuer key is refused by the running node from the next request on.
    let out = sub(&d, &["apikey", "revoke", &key_id]);
    out.ok();
    assert_eq!(out.json()["event"]["action"], "api_key_revoke");
    assert_eq!(out.json()["event"]["actor"], "operator:cli");
    assert_eq!(issue_http(&url, &issuer_key, 3).await, 401);
    fails_with(
        &sub(&d, &["apikey", "revoke", &key_id]),
        "apikey.already_revoked",
    );

    // A disabled institution stays disabled when registered again, and gets no new key.
    assert_ne!(share_status(&url, &inst_key).await, 403);
    sub(&d, &["institution", "disable", "--code", RENTAL]).ok();
    assert_eq!(share_status(&url, &inst_key).await, 403);
    register(&d); // refused for its key (disabled), but the registration itself is kept
    assert_eq!(share_status(&url, &inst_key).await, 403, "still disabled");
    fails_with(
        &sub(&d, &["institution", "key", "--code", RENTAL]),
        "institution.disabled",
    );
    sub(&d, &["institution", "enable", "--code", RENTAL]).ok();
    assert_ne!(share_status(&url, &inst_key).await, 403);

    // Retired: what it signed verifies, it signs nothing more.
    d.run(&["keygen", "--retire", &ed_kid]).ok();
    let out = d.run_stdin(&["verify"], &ed_credential);
    out.ok();
    fails_with(
        &d.issue_driving("持证人4", &resident_id(4), &["--alg", "ed25519"]),
        "issuer.no_key",
    );

    // Revoked since today (00:00 CST): today's credential is invalid, on the running node too
    // (its key cache lives 1 s).
    assert_eq!(verify_http(&url, &es_credential).await["valid"], true);
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap())
        .date();
    let since = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let out = d.run(&["keygen", "--revoke", &es_kid, "--since", &since]);
    out.ok();
    // The node sees it once its key cache (1 s) has expired; polled, not timed: a busy
    // machine may take longer.
    let asked = std::time::Instant::now();
    let v = loop {
        let v = verify_http(&url, &es_credential).await;
        if v["valid"] == false || asked.elapsed() > Duration::from_secs(30) {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(v["valid"], false, "{v}");
    assert!(v.to_string().contains("issuer.key_revoked"), "{v}");
    let out = d.run_stdin(&["verify"], &es_credential);
    out.expect_code(1);

    // Operator keys and the list of events.
    let out = sub(&d, &["operator", "key", "--label", "ops"]);
    out.ok();
    assert!(out.stdout.trim().starts_with("elo_"), "{out:?}");
    let out = sub(&d, &["operator", "events"]);
    out.ok();
    let actions: Vec<String> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "api_key_revoke",
            "institution_disable",
            "institution_enable",
            "key_retire",
            "key_revoke"
        ]
    );

    // The audit checks every operator leaf against the database; no institution code in
    // any public leaf.
    let out = run(&["log", "verify", "--node", &url, "--data", d.data()]);
    out.ok();
    assert_eq!(out.json()["operator_events"], 5, "{}", out.stdout);
    let leaves: Vec<Vec<u8>> = d
        .sql()
        .prepare("SELECT data FROM log_entries")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(leaves
        .iter()
        .all(|l| !String::from_utf8_lossy(l).contains(RENTAL)));
    // A changed opening of a committed operator event is caught.
    let c = rusqlite::Connection::open(d.db()).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c.execute(
        "UPDATE operator_openings SET salt = zeroblob(32) WHERE seq = 2",
        [],
    )
    .unwrap();
    let out = run(&["log", "verify", "--node", &url, "--data", d.data()]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("operator event 2") && out.stderr.contains("commitment"),
        "{}",
        out.stderr
    );
    drop(server);
}
