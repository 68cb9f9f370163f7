//! Interoperability with an SD-JWT VC verifier no one here wrote: `tests/sdjwt/verify.mjs` runs
//! the npm library `@sd-jwt/sd-jwt-vc` (with its Token Status List support) on node, with
//! WebCrypto through `@sd-jwt/crypto-nodejs`: ES256 and EdDSA, no SM2, as most relying parties
//! and wallets. Exact versions from `tests/sdjwt/package-lock.json`, installed by
//! `scripts/deps.sh` into `.cache/sdjwt/`.
//!
//! A real node on 127.0.0.1 issues through its API; the outside verifier takes the issuer's keys
//! from the node's issuer metadata (`/.well-known/jwt-vc-issuer/issuers/{uscc}`), verifies the
//! credential and fetches and checks its status list token over HTTP. An ES256 and an EdDSA
//! credential verify completely, each list signed with the credential's own algorithm; after a
//! revocation (or suspension) the same verifier reports the status as not valid.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::*;
use elicense_core::sample;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The installed packages (`scripts/deps.sh`).
fn packages() -> PathBuf {
    let dir = root().join(".cache/sdjwt");
    assert!(
        dir.join("node_modules/@sd-jwt/sd-jwt-vc/package.json")
            .exists(),
        "{} has no @sd-jwt/sd-jwt-vc: run scripts/deps.sh",
        dir.display()
    );
    dir
}

/// Runs the outside verifier on `credential`, trusting `trust`; returns its JSON verdict
/// (and checks that its exit code agrees with it).
async fn outside_verify(credential: &str, trust: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdjwt/verify.mjs");
    let mut child = tokio::process::Command::new("node")
        .arg(&script)
        .arg("--trust")
        .arg(trust)
        .env("ELICENSE_SDJWT_DIR", packages())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (installed by scripts/deps.sh)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(credential.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the verifier printed no JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let expected = if verdict["valid"] == true { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected), "{verdict} {stderr}");
    verdict
}

async fn act(s: &TestServer, id: &str, action: &str) {
    let resp = s
        .post(&format!("/api/v1/licenses/{id}/actions"))
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&json!({"action": action, "reason": "interop"}))
        .send()
        .await
        .unwrap();
    let (status, out) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

fn iss(s: &TestServer) -> String {
    s.node.issuer_url(sample::BEIJING_TRAFFIC_POLICE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_verifier_checks_es256_and_eddsa_credentials_with_their_status() {
    let s = TestServer::start().await;
    let es = s.issue_driving("es256").await;
    let ed = s.issue(&s.driving_request(CITIZEN2, "ed25519").await).await;
    for (issued, alg) in [(&es, "ES256"), (&ed, "EdDSA")] {
        let v = outside_verify(issued["credential"].as_str().unwrap(), &iss(&s)).await;
        assert_eq!(v["valid"], true, "{alg}: {v}");
        assert_eq!(v["alg"], alg, "{v}");
        assert_eq!(
            v["vct"],
            format!("urn:elicense:type:{}", sample::DRIVING_LICENSE)
        );
        let status = &v["status"];
        assert_eq!(status["uri"], issued["status"]["uri"], "{v}");
        assert_eq!(status["idx"], issued["status"]["idx"], "{v}");
        assert_eq!(status["value"], 0, "{v}");
        assert_eq!(
            status["alg"], alg,
            "the list is signed with the credential's alg: {v}"
        );
    }
    assert_ne!(es["status"]["uri"], ed["status"]["uri"]);

    // Revoked and suspended: the outside verifier reads it from the lists.
    act(&s, es["identifier"].as_str().unwrap(), "revoke").await;
    act(&s, ed["identifier"].as_str().unwrap(), "suspend").await;
    for (issued, alg, value) in [(&es, "ES256", 1), (&ed, "EdDSA", 2)] {
        let v = outside_verify(issued["credential"].as_str().unwrap(), &iss(&s)).await;
        assert_eq!(v["valid"], false, "{v}");
        assert_eq!(v["status"]["value"], value, "{v}");
        assert_eq!(v["status"]["alg"], alg, "{v}");
        let error = v["error"].as_str().unwrap();
        assert!(error.contains(&format!("status is {value}")), "{v}");
    }
    // Reinstated: valid again.
    act(&s, ed["identifier"].as_str().unwrap(), "reinstate").await;
    let v = outside_verify(ed["credential"].as_str().unwrap(), &iss(&s)).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["status"]["value"], 0, "{v}");
}

/// The verifier is not vacuous: it knows no SM2 (an SM2 credential is refused for its
/// algorithm), trusts only the issuers it is told, and refuses a credential whose
/// signature does not verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outside_verifier_refuses_what_it_cannot_check() {
    let s = TestServer::start().await;
    let sm = s.issue_driving("sm2").await;
    let v = outside_verify(sm["credential"].as_str().unwrap(), &iss(&s)).await;
    assert_eq!(v["valid"], false);
    assert!(
        v["error"].as_str().unwrap().contains("unsupported alg SM2"),
        "{v}"
    );

    let es = s.issue(&s.driving_request(CITIZEN2, "es256").await).await;
    let credential = es["credential"].as_str().unwrap();
    let other = s.node.issuer_url(sample::BEIJING_SAMR);
    let v = outside_verify(credential, &other).await;
    assert_eq!(v["valid"], false);
    assert!(v["error"].as_str().unwrap().contains("not trusted"), "{v}");

    // One character of the signature changed.
    let (jwt, rest) = credential.split_once('~').unwrap();
    let (head, sig) = jwt.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let bad = format!("{head}.{flipped}{}~{rest}", &sig[1..]);
    let v = outside_verify(&bad, &iss(&s)).await;
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        v.get("status").is_none(),
        "no status read for a bad signature: {v}"
    );
}
