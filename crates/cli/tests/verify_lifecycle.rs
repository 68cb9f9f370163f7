//! `elicense verify` (local data dir and `--node URL`), and the lifecycle commands: revoke,
//! suspend, reinstate, cancel, with the status that verification then reports.

mod common;

use common::*;
use serde_json::Value;

fn issue(d: &DataDir, name: &str, id: &str) -> (String, String) {
    let out = d.issue_driving(name, id, &["--alg", "ed25519", "--json"]);
    out.ok();
    let v = out.json();
    (
        v["identifier"].as_str().unwrap().to_string(),
        v["credential"].as_str().unwrap().to_string(),
    )
}

fn problem_codes(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .expect("problems is an array")
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

/// Verifies `cred` locally; asserts exit code against the verdict and returns it.
#[track_caller]
fn verify(d: &DataDir, cred: &str) -> Value {
    let out = d.run_stdin(&["verify"], cred);
    let v = out.json();
    assert_eq!(
        out.code,
        if v["valid"] == true { 0 } else { 1 },
        "exit 0 valid, 1 not valid: {out:?}"
    );
    for key in ["valid", "status", "claims", "problems"] {
        assert!(v.get(key).is_some(), "the verdict has {key}: {v}");
    }
    v
}

#[track_caller]
fn status_code(d: &DataDir, id: &str) -> String {
    let out = d.run(&["status", id]);
    out.ok();
    out.json()["status"]["code"].as_str().unwrap().to_string()
}

#[test]
fn verify_revoke_and_garbage() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let (id, cred) = issue(&d, "张伟", "11010519491231002X");
    let v = verify(&d, &cred);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["status"]["code"], "valid");
    assert_eq!(v["claims"]["jti"], id.as_str());
    assert_eq!(
        v["claims"]["holder_name"], "张伟",
        "selectively disclosed claims are shown"
    );
    assert!(
        v["claims"].get("file_number").is_none(),
        "a `never` item is not in the credential: {v}"
    );
    assert_eq!(problem_codes(&v), Vec::<String>::new());
    // Surrounding whitespace (a trailing newline from `jq -r`) does not matter.
    assert_eq!(verify(&d, &format!("\n{cred}\n"))["valid"], true);

    let reason = "以欺骗手段取得 (obtained by deception)";
    let out = d.run(&[
        "revoke",
        &id,
        "--reason",
        reason,
        "--reason-category",
        "improperly_obtained",
        "--json",
    ]);
    out.ok();
    assert_eq!(out.json()["status"], "revoked", "{}", out.stdout);
    let v = verify(&d, &cred);
    assert_eq!(v["valid"], false);
    assert!(
        problem_codes(&v).contains(&"status.invalid".to_string()),
        "{v}"
    );
    assert_eq!(v["status"]["code"], "revoked");
    // A verdict shows the reason's category; the issuer's words are not public.
    assert_eq!(v["status"]["reason_category"], "improperly_obtained");
    assert!(!v.to_string().contains("deception"), "{v}");
    assert_eq!(status_code(&d, &id), "revoked");

    // A revoked license cannot be reinstated; the refusal is an error (2), nothing changes.
    let out = d.run(&["reinstate", &id]);
    out.expect_code(2);
    assert!(out.stderr.starts_with("error["), "{out:?}");
    assert_eq!(status_code(&d, &id), "revoked");

    // Garbage: exit 2 with a JSON error on stderr, nothing on stdout.
    for garbage in ["garbage", "", "eyJhbGciOiJub25lIn0.e30.~", "a.b.c~d~"] {
        let out = d.run_stdin(&["verify"], garbage);
        out.expect_code(2);
        assert!(out.stdout.is_empty(), "{out:?}");
        let e = out.stderr_json();
        assert!(
            e["error"]["code"].is_string() && e["error"]["message"].is_string(),
            "{garbage:?}: {e}"
        );
    }

    // A credential with a flipped signature byte is not valid (1), not an error.
    let (jwt, rest) = cred.split_once('~').unwrap();
    let mut sig: Vec<char> = jwt.rsplit('.').next().unwrap().chars().collect();
    sig[3] = if sig[3] == 'A' { 'B' } else { 'A' };
    let head = &jwt[..jwt.rfind('.').unwrap()];
    let tampered = format!("{head}.{}~{rest}", sig.into_iter().collect::<String>());
    let v = verify(&d, &tampered);
    assert_eq!(v["valid"], false, "{v}");

    // Unknown identifier.
    let out = d.run(&[
        "revoke",
        "1.2.156.3005.2.11100000000000002Q002.11110000000000012X.0000099999.001.K",
    ]);
    out.expect_code(2);
}

/// A malformed identifier on the command line is refused with the parser's stable code
/// (exit 2) before the data directory is opened; the license is untouched.
#[test]
fn a_malformed_identifier_is_refused_with_its_code() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let (id, _) = issue(&d, "张伟", "11010519491231002X");
    let last = id.chars().last().unwrap();
    let bad_check = format!(
        "{}{}",
        &id[..id.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    for (bad, code) in [
        (bad_check.as_str(), "identifier.bad_check"),
        ("1.2.3", "identifier.bad_root"),
    ] {
        let out = d.run(&["revoke", bad]);
        out.expect_code(2);
        assert!(out.stderr.starts_with(&format!("error[{code}]")), "{out:?}");
        let out = d.run(&["revoke", bad, "--json"]);
        out.expect_code(2);
        assert_eq!(out.stderr_json()["error"]["code"], code, "{out:?}");
        let out = d.run(&["status", bad]);
        out.expect_code(2);
        assert_eq!(out.stderr_json()["error"]["code"], code, "{out:?}");
        let pdf = d.path("face.pdf");
        let out = d.run(&[
            "face",
            bad,
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ]);
        out.expect_code(2);
        assert!(out.stderr.contains(code), "{out:?}");
        assert!(!pdf.exists());
    }
    assert_eq!(status_code(&d, &id), "valid");
}

#[test]
fn suspend_reinstate_cancel() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let (id, cred) = issue(&d, "王芳", "310104198012315019");
    let (other, other_cred) = issue(&d, "陈明", "440306199910101239");

    d.run(&["suspend", &id, "--reason", "记满12分"]).ok();
    assert_eq!(status_code(&d, &id), "suspended");
    let v = verify(&d, &cred);
    assert_eq!(v["valid"], false);
    assert_eq!(problem_codes(&v), ["status.suspended"], "{v}");
    assert_eq!(v["status"]["reason_category"], "other");
    // Only that license changed.
    assert_eq!(verify(&d, &other_cred)["valid"], true);

    d.run(&["reinstate", &id]).ok();
    assert_eq!(status_code(&d, &id), "valid");
    let v = verify(&d, &cred);
    assert_eq!(v["valid"], true, "{v}");

    d.run(&[
        "cancel",
        &id,
        "--reason",
        "本人申请注销",
        "--reason-category",
        "on_request",
    ])
    .ok();
    assert_eq!(status_code(&d, &id), "cancelled");
    let v = verify(&d, &cred);
    assert_eq!(v["valid"], false);
    assert_eq!(problem_codes(&v), ["status.invalid"], "{v}");
    assert_eq!(v["status"]["code"], "cancelled");
    assert_eq!(v["status"]["reason_category"], "on_request");

    // Events: issue, suspend, reinstate, cancel on the first; issue on the other.
    let conn = d.sql();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM events WHERE identifier = ?1 ORDER BY seq")
        .unwrap()
        .query_map([&id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kinds, ["issue", "suspend", "reinstate", "cancel"]);
    assert_eq!(status_code(&d, &other), "valid");
    d.assert_license_event_integrity();
}

#[test]
fn verify_node_gives_the_same_verdict() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let d = DataDir::with_base_url(&url).setup(&[
        (BEIJING_TRAFFIC_POLICE, "ed25519"),
        (BEIJING_TRAFFIC_POLICE, "sm2"),
    ]);
    let (id, cred) = issue(&d, "张伟", "11010519491231002X");
    let out = d.issue_driving("李娜", "110105200002290021", &["--json"]);
    out.ok();
    let sm2_cred = out.json()["credential"].as_str().unwrap().to_string();
    assert!(cred.len() > 10 && sm2_cred.len() > 10);

    let server = Server::serve(&d, port, "serve");
    let remote = |c: &str| -> Out { run_stdin(&["verify", "--node", &server.url], c) };

    for c in [&cred, &sm2_cred] {
        let local = verify(&d, c);
        let out = remote(c);
        out.ok();
        let r = out.json();
        assert_eq!(r["valid"], true, "{r}");
        assert_eq!(r["identifier"], local["identifier"]);
        assert_eq!(r["alg"], local["alg"]);
        assert_eq!(r["claims"], local["claims"]);
    }

    // A status change made through the CLI while the server runs is seen by the server (its
    // status cache rechecks the store within a short interval: poll, bounded).
    d.run(&["revoke", &id, "--reason", "撤销测试"]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let out = loop {
        let out = remote(&cred);
        if out.code != 0 || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    out.expect_code(1);
    let r = out.json();
    let local = verify(&d, &cred);
    assert_eq!(r["valid"], false);
    assert_eq!(problem_codes(&r), problem_codes(&local));
    assert!(
        problem_codes(&r).contains(&"status.invalid".to_string()),
        "{r}"
    );
    assert_eq!(r["status"]["reason_category"], "other");

    // A license issued through the CLI while the server runs verifies through the server.
    let (_, fresh) = issue(&d, "王芳", "310104198012315019");
    let out = remote(&fresh);
    out.ok();
    assert_eq!(out.json()["valid"], true);

    // Garbage through the node: exit 2, JSON error on stderr.
    let out = remote("garbage");
    out.expect_code(2);
    assert!(out.stderr_json()["error"]["code"].is_string(), "{out:?}");

    // A node that is not there: exit 2.
    let out = run_stdin(
        &[
            "verify",
            "--node",
            &format!("http://127.0.0.1:{}", free_port()),
        ],
        &cred,
    );
    out.expect_code(2);
    assert!(out.stderr_json()["error"]["code"].is_string(), "{out:?}");
    drop(server);
}

#[test]
fn demo_node_serves_seeded_licenses() {
    let port = free_port();
    let d = DataDir::empty();
    let server = Server::demo(&d, port);
    let banner = server.proc.stdout();
    // Demo prints, per issuer, its USCC and name, then its API key on the next line.
    let keys: Vec<&str> = banner
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("elk_"))
        .collect();
    assert_eq!(keys.len(), 6, "an API key per sample issuer:\n{banner}");
    assert!(banner.contains(&server.url), "{banner}");
    let valid: Vec<&str> = banner
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("1.2.156.3005.2.") && l.ends_with("[valid]"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(!valid.is_empty(), "sample licenses, some valid:\n{banner}");
    assert!(
        http_ok(port, &format!("/api/v1/licenses/{}/verification", valid[0])),
        "public verification of {}",
        valid[0]
    );
    // The demo data dir is an ordinary data dir: the CLI reads it while the node runs.
    let out = d.run(&["status", valid[0]]);
    out.ok();
    assert_eq!(out.json()["status"]["code"], "valid");
    let cred: String = d
        .sql()
        .query_row(
            "SELECT credential FROM licenses WHERE identifier = ?1",
            [valid[0]],
            |r| r.get(0),
        )
        .unwrap();
    let out = run_stdin(&["verify", "--node", &server.url], &cred);
    out.ok();
    assert_eq!(out.json()["valid"], true);
    drop(server);
}
