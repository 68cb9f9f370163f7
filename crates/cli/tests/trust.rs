//! The trust list's operator commands as a user runs them: `recognition add|list|remove` on
//! the hub (refused elsewhere), `issuer succeed` (logged once), `node keys`.

mod common;

use common::*;
use serde_json::Value;

/// A data dir whose `elicense.toml` makes it the national hub.
fn hub_dir() -> DataDir {
    let d = DataDir::with_base_url("http://127.0.0.1:9").setup(&[]);
    let path = d.dir.join("elicense.toml");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    toml.push_str("area = \"100000\"\nlevel = \"national\"\n");
    std::fs::write(path, toml).unwrap();
    d
}

fn recognition(args: &[&str], d: &DataDir) -> Out {
    let mut v = vec!["recognition", args[0], "--data", d.data()];
    v.extend_from_slice(&args[1..]);
    run(&v)
}

#[test]
fn recognition_lists_are_kept_on_the_hub_only() {
    let hub = hub_dir();
    let out = recognition(
        &[
            "add",
            "--id",
            "yrd",
            "--name",
            "长三角",
            "--areas",
            "310000,320000,330000,340000",
            "--types",
            "11100000000000002Q002,11100000000000001M001",
        ],
        &hub,
    );
    out.ok();
    assert_eq!(out.json()["areas"].as_array().unwrap().len(), 4);
    let listed = |area: &str| -> Value {
        let out = recognition(&["list", "--area", area], &hub);
        out.ok();
        out.json()
    };
    assert_eq!(listed("320106")[0]["name"], "长三角");
    assert_eq!(listed("510000"), Value::Array(vec![]));
    let bad = recognition(
        &[
            "add", "--id", "x", "--name", "x", "--areas", "12", "--types", "T",
        ],
        &hub,
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("recognition.invalid"), "{}", bad.stderr);
    recognition(&["remove", "--id", "yrd"], &hub).ok();
    let again = recognition(&["remove", "--id", "yrd"], &hub);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("recognition.not_found"),
        "{}",
        again.stderr
    );

    let standalone = DataDir::empty().setup(&[]);
    let out = recognition(
        &[
            "add", "--id", "yrd", "--name", "n", "--areas", "310000", "--types", "T",
        ],
        &standalone,
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("recognition.not_hub"), "{}", out.stderr);
}

#[test]
fn an_authority_is_succeeded_once_with_a_logged_event() {
    let d = DataDir::empty().setup(&[]);
    let succeed = |at: Option<&str>| {
        let mut v = vec![
            "issuer",
            "succeed",
            "--data",
            d.data(),
            "--code",
            BEIJING_TRAFFIC_POLICE,
            "--successor",
            "11110101000000013L",
        ];
        if let Some(at) = at {
            v.extend(["--at", at]);
        }
        run(&v)
    };
    let out = succeed(Some("2026-01-01"));
    out.ok();
    let done = out.json();
    assert_eq!(done["event"]["action"], "issuer_succeed");
    assert_eq!(
        done["event"]["subject"],
        format!("{BEIJING_TRAFFIC_POLICE}>11110101000000013L")
    );
    assert_eq!(done["event"]["actor"], "operator:cli");
    assert!(done["leaf_index"].is_u64());
    let again = succeed(None);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("issuer.already_succeeded"),
        "{}",
        again.stderr
    );
    // The operator's log lists it.
    let events = run(&["operator", "events", "--data", d.data()]);
    events.ok();
    assert!(
        events.stdout.contains("issuer_succeed"),
        "{}",
        events.stdout
    );
}

#[test]
fn node_keys_prints_the_public_node_jwks() {
    let d = DataDir::empty().setup(&[]);
    let out = run(&["node", "keys", "--data", d.data()]);
    out.ok();
    let jwks = out.json();
    let k = &jwks["keys"][0];
    assert_eq!(
        (k["kty"].as_str(), k["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    assert!(k["kid"].is_string() && k.get("d").is_none(), "{jwks}");
}
