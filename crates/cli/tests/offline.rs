//! `elicense cache refresh` and `elicense verify --offline` with real processes: a node
//! (`elicense serve`) issues; a hub (a small HTTP server of this test that serves a trust
//! list signed with a test hub key) names the node and its issuer key. The cache is filled
//! from them, the node is stopped, and the credential verifies without network, with the
//! ages of the cached items; a rolled-back trust list is refused at refresh, a changed
//! cached trust list at verification.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use common::*;
use elicense_app::federation::trust_list::{TrustList, TrustedIssuer, TrustedKey, TrustedNode};
use elicense_core::NodeLevel;
use elicense_crypto::{Alg, Jwk, Jwks, KeyPair};
use serde_json::Value;

/// Serves `body` at `GET /.well-known/elicense-trust-list` (404 elsewhere) on a port of its
/// own, from a thread that lives as long as the test process.
fn serve_trust_list(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head);
            let found = head.starts_with("GET /.well-known/elicense-trust-list ");
            let (status, text) = if found {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/jwt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn trust_list(hub: &KeyPair, seq: u64, node: &str, key: &Jwk) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    TrustList {
        iss: "http://127.0.0.1:9".into(),
        seq,
        iat: now - 10,
        exp: now + 3600,
        nodes: vec![TrustedNode {
            url: node.to_owned(),
            area: "110000".into(),
            level: NodeLevel::Province,
            parent: None,
            keys: Jwks { keys: vec![] },
            witness_key: String::new(),
            log_keys: vec![],
            log_origin: None,
            seal_cas: Default::default(),
        }],
        issuers: vec![TrustedIssuer {
            code: BEIJING_TRAFFIC_POLICE.into(),
            name: "北京市公安局公安交通管理局".into(),
            node: node.to_owned(),
            keys: vec![TrustedKey {
                jwk: key.clone(),
                not_before: 0,
                retired_at: None,
                revoked_since: None,
            }],
            successor: None,
            ended_at: None,
        }],
        recognition: vec![],
    }
    .sign(hub)
    .unwrap()
}

fn verify_offline(cache: &Path, credential: &Path) -> Out {
    run(&[
        "verify",
        "--offline",
        "--cache",
        cache.to_str().unwrap(),
        credential.to_str().unwrap(),
    ])
}

#[test]
fn a_cache_refreshed_from_a_node_verifies_offline_and_refuses_tampering_and_rollback() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let a = DataDir::with_base_url(&url).setup(&[]);
    let keygen = a.run(&["keygen", "--issuer", BEIJING_TRAFFIC_POLICE, "--alg", "sm2"]);
    keygen.ok();
    let jwk: Jwk = serde_json::from_value(keygen.json()).unwrap();
    let issued = a.issue_driving("持证人", &resident_id(1), &["--json"]);
    issued.ok();
    let credential = a.path("credential.txt");
    std::fs::write(&credential, issued.json()["credential"].as_str().unwrap()).unwrap();
    let mut server = Server::serve(&a, port, "a");

    let hub = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    let mut anchor = hub.public_jwk();
    anchor.kid = Some(anchor.thumbprint());
    let hub_keys = a.path("hub-keys.json");
    std::fs::write(
        &hub_keys,
        serde_json::to_string(&Jwks { keys: vec![anchor] }).unwrap(),
    )
    .unwrap();
    let hub_url = serve_trust_list(trust_list(&hub, 5, &url, &jwk));
    let cache = a.path("cache");

    // A first refresh needs the hub keys.
    let out = run(&[
        "cache",
        "refresh",
        "--node",
        &hub_url,
        "--cache",
        cache.to_str().unwrap(),
    ]);
    out.expect_code(2);
    assert_eq!(out.stderr_json()["error"]["code"], "cache.no_hub_keys");

    let out = run(&[
        "cache",
        "refresh",
        "--node",
        &hub_url,
        "--cache",
        cache.to_str().unwrap(),
        "--hub-keys",
        hub_keys.to_str().unwrap(),
    ]);
    out.ok();
    let report = out.json();
    assert_eq!(report["trust_list_seq"], 5);
    assert_eq!(report["nodes"][0]["url"], url.as_str());
    assert!(
        report["nodes"][0]["lists"].as_u64().unwrap() >= 1,
        "{report}"
    );

    // The node is gone: a refresh keeps its older copies and says so (exit 1) ...
    server.proc.kill9();
    let out = run(&[
        "cache",
        "refresh",
        "--node",
        &hub_url,
        "--cache",
        cache.to_str().unwrap(),
    ]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["nodes"][0]["lists"], 0);
    assert!(
        report["nodes"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("cache.unreachable"),
        "{report}"
    );
    // ... and the verdict comes from the cache alone.
    let out = verify_offline(&cache, &credential);
    out.ok();
    let v = out.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["issuer"], BEIJING_TRAFFIC_POLICE);
    assert_eq!(v["status"]["code"], "valid");
    let src = &v["status_source"];
    assert_eq!(src["from"], "cache");
    assert_eq!(src["node"], url.as_str());
    assert!(src["age_secs"].as_i64().unwrap() >= 0);
    assert_eq!(src["stale"], false);
    assert_eq!(v["cache"]["trust_list_seq"], 5);
    assert!(v["cache"]["trust_list"]["age_secs"].as_i64().unwrap() >= 0);
    assert!(v["cache"]["status_list"]["age_secs"].as_i64().unwrap() >= 0);
    assert_eq!(v["cache"]["warnings"], Value::Array(vec![]));
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);

    // A status list fetched longer ago than its ttl: still used, with a warning.
    let manifest_path = cache.join("cache.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    for (_, l) in manifest["status_lists"].as_object_mut().unwrap() {
        let at = l["fetched_at"].as_i64().unwrap();
        l["fetched_at"] = (at - 600).into();
    }
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let out = verify_offline(&cache, &credential);
    out.ok();
    let v = out.json();
    assert_eq!(v["status_source"]["stale"], true, "{v}");
    assert!(v["cache"]["status_list"]["age_secs"].as_i64().unwrap() >= 600);
    assert_eq!(v["cache"]["warnings"].as_array().unwrap().len(), 1, "{v}");
    assert!(
        out.stderr.contains("warning: the status list"),
        "{}",
        out.stderr
    );

    // An older list from the hub is a rollback: refused, the cache keeps what it had.
    let old_hub = serve_trust_list(trust_list(&hub, 4, &url, &jwk));
    let out = run(&[
        "cache",
        "refresh",
        "--node",
        &old_hub,
        "--cache",
        cache.to_str().unwrap(),
    ]);
    out.expect_code(2);
    assert_eq!(out.stderr_json()["error"]["code"], "trust_list.rolled_back");
    let v = verify_offline(&cache, &credential).json();
    assert_eq!(v["cache"]["trust_list_seq"], 5);

    // A changed cached trust list is refused, not believed.
    let path = cache.join("trust-list.jwt");
    let jws = std::fs::read_to_string(&path).unwrap();
    let parts: Vec<&str> = jws.trim().split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&elicense_crypto::b64::decode(parts[1]).unwrap()).unwrap();
    payload["exp"] = (payload["exp"].as_i64().unwrap() + 86_400).into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        elicense_crypto::b64::encode(payload.to_string().as_bytes()),
        parts[2]
    );
    std::fs::write(&path, forged).unwrap();
    let out = verify_offline(&cache, &credential);
    out.expect_code(2);
    assert_eq!(
        out.stderr_json()["error"]["code"],
        "trust_list.bad_signature"
    );
}
