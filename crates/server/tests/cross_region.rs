//! Verification across regions with two real nodes on 127.0.0.1: node A issues, node B holds
//! a trust list (signed here with a test hub key) that names A and A's issuer keys. B takes
//! the issuer key from the trust list and the status from A's status list (fetched, checked,
//! cached with its TTL and revalidated with its ETag); A's revocation reaches B within 5 s;
//! A down with nothing cached is `status.unavailable`; a list of a node the trust list does
//! not name is `status.foreign_list`; an unknown kid `issuer.unknown_key`; a key revoked
//! since before `iat` `issuer.key_revoked`.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{problem_codes, read, TestServer};
use elicense_app::federation::trust_list::{local_issuers, TrustList, TrustedIssuer, TrustedNode};
use elicense_app::SystemClock;
use elicense_core::{sample, NodeLevel};
use elicense_crypto::{Alg, Jwks, KeyPair};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The test hub: its key, and the sequence number of the next list it signs.
struct Hub {
    key: KeyPair,
    seq: AtomicU64,
}

impl Hub {
    fn new() -> Hub {
        Hub {
            key: KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng),
            seq: AtomicU64::new(1),
        }
    }

    fn anchors(&self) -> Jwks {
        let mut jwk = self.key.public_jwk();
        jwk.kid = Some(jwk.thumbprint());
        Jwks { keys: vec![jwk] }
    }

    /// Signs a list of `nodes` and `issuers` and installs it on `on`.
    fn install(&self, on: &TestServer, nodes: &[&TestServer], issuers: Vec<TrustedIssuer>) {
        let now = on.node.now();
        let list = TrustList {
            iss: "http://127.0.0.1:9".into(),
            seq: self.seq.fetch_add(1, Ordering::SeqCst),
            iat: now - 10,
            exp: now + 3600,
            nodes: nodes.iter().map(|s| node_entry(s)).collect(),
            issuers,
            recognition: vec![],
        };
        on.node
            .trust
            .install(&list.sign(&self.key).unwrap(), &self.anchors(), now)
            .expect("the test list installs");
    }
}

fn node_entry(s: &TestServer) -> TrustedNode {
    TrustedNode {
        url: s.base.clone(),
        area: "110000".into(),
        level: NodeLevel::Province,
        parent: None,
        keys: Jwks { keys: vec![] },
        witness_key: String::new(),
        log_keys: vec![],
        log_origin: None,
        seal_cas: Default::default(),
    }
}

/// A node whose cache of other nodes' lists lasts at most `secs`.
async fn node_with_cache(secs: u64) -> TestServer {
    TestServer::start_configured(Arc::new(SystemClock), move |c| {
        c.status_cache_max_secs = secs;
    })
    .await
}

/// `GET` requests A answered on `/status-lists/{id}` with `status` (from A's metrics; each
/// test runs in a process of its own, and only B fetches A's lists).
async fn list_requests(a: &TestServer, status: &str) -> u64 {
    let text = a.text("/metrics").await;
    text.lines()
        .filter(|l| l.starts_with("elicense_http_requests_total{"))
        .filter(|l| {
            l.contains("route=\"/status-lists/{id}\"")
                && l.contains(&format!("status=\"{status}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn revoke(a: &TestServer, id: &str) {
    let resp = a
        .post(&format!("/api/v1/licenses/{id}/actions"))
        .bearer_auth(a.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&json!({"action": "revoke", "reason": "test"}))
        .send()
        .await
        .unwrap();
    let (status, out) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

fn credential(issued: &Value) -> &str {
    issued["credential"].as_str().unwrap()
}

#[tokio::test]
async fn a_license_of_node_a_verifies_at_node_b_and_its_revocation_follows_within_5_s() {
    let a = TestServer::start().await;
    let b = node_with_cache(1).await;
    let hub = Hub::new();
    let issued = a.issue_driving("SM2").await;
    let cred = credential(&issued);

    // Without a trust list B knows neither A's key nor A's lists.
    let v = b.verify(cred).await;
    assert_eq!(v["valid"], false);
    assert_eq!(problem_codes(&v), ["issuer.unknown_key"], "{v}");

    hub.install(&b, &[&a, &b], local_issuers(&a.node).await.unwrap());
    let v = b.verify(cred).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["issuer"], sample::BEIJING_TRAFFIC_POLICE);
    assert_eq!(v["status"]["code"], "valid");
    let src = &v["status_source"];
    assert_eq!(src["from"], "remote", "{v}");
    assert_eq!(src["node"], a.base.as_str());
    assert_eq!(src["uri"], issued["status"]["uri"]);
    assert_eq!(src["ttl_secs"], 1);
    assert_eq!(src["stale"], false);
    assert_eq!(list_requests(&a, "200").await, 1);

    // After the TTL B revalidates with the ETag: A answers 304, the list is not sent again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(b.verify(cred).await["valid"], true);
    assert_eq!(list_requests(&a, "200").await, 1);
    assert!(list_requests(&a, "304").await >= 1);

    // A revokes; B sees it within 5 s.
    revoke(&a, issued["identifier"].as_str().unwrap()).await;
    let start = Instant::now();
    loop {
        let v = b.verify(cred).await;
        if problem_codes(&v) == ["status.invalid"] {
            assert_eq!(v["valid"], false);
            assert_eq!(v["status_source"]["node"], a.base.as_str());
            break;
        }
        assert_eq!(v["valid"], true, "{v}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "B did not see A's revocation within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn one_fetch_per_ttl_window_shared_by_concurrent_verifications() {
    let a = TestServer::start().await;
    // The lists' own ttl (60 s) bounds the window.
    let b = node_with_cache(300).await;
    let hub = Hub::new();
    let issued = a.issue_driving("EdDSA").await;
    let second = a.issue_driving("EdDSA").await;
    assert_eq!(issued["status"]["uri"], second["status"]["uri"]);
    hub.install(&b, &[&a], local_issuers(&a.node).await.unwrap());

    let verdicts = futures::future::join_all(
        (0..8).map(|i| b.verify(credential(if i % 2 == 0 { &issued } else { &second }))),
    )
    .await;
    for v in &verdicts {
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["status_source"]["ttl_secs"], 60);
    }
    for _ in 0..5 {
        assert_eq!(b.verify(credential(&issued)).await["valid"], true);
    }
    // One round trip to A for all thirteen, none after.
    assert_eq!(list_requests(&a, "200").await, 1);
    assert_eq!(list_requests(&a, "304").await, 0);
    assert_eq!(b.node.remote_status.fetches(), 1);
    let metrics = b.text("/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "elicense_remote_status_fetches_total{outcome=\"fetched\"} 1"),
        "{metrics}"
    );
    // A's own verification reads its own list.
    let v = a.verify(credential(&issued)).await;
    assert_eq!(v["status_source"]["from"], "local", "{v}");
    assert!(v["status_source"].get("age_secs").is_none());
}

#[tokio::test]
async fn a_node_that_is_down_with_nothing_cached_is_status_unavailable() {
    let a = TestServer::start().await;
    let b = node_with_cache(1).await;
    let hub = Hub::new();
    let issued = a.issue_driving("SM2").await;
    hub.install(&b, &[&a], local_issuers(&a.node).await.unwrap());
    a.stop().await.unwrap();
    let v = b.verify(credential(&issued)).await;
    assert_eq!(v["valid"], false);
    assert_eq!(problem_codes(&v), ["status.unavailable"], "{v}");
    // The signature and issuer still check out: only the status could not be read.
    assert!(v["status"].is_null());
    assert_eq!(v["issuer"], sample::BEIJING_TRAFFIC_POLICE);
    let p = &v["problems"][0];
    assert_eq!(p["category"], "status");
}

#[tokio::test]
async fn a_node_that_goes_down_after_a_fetch_leaves_its_last_valid_copy_in_use_marked_stale() {
    let a = TestServer::start().await;
    let b = node_with_cache(1).await;
    let hub = Hub::new();
    let issued = a.issue_driving("SM2").await;
    hub.install(&b, &[&a], local_issuers(&a.node).await.unwrap());
    let v = b.verify(credential(&issued)).await;
    assert_eq!(v["status_source"]["stale"], false, "{v}");
    a.stop().await.unwrap();
    // Past the TTL the owner cannot be asked: the copy (its `exp` a day away) still counts,
    // and the verdict says it is stale.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let v = b.verify(credential(&issued)).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["status_source"]["stale"], true, "{v}");
    assert!(v["status_source"]["age_secs"].as_i64().unwrap() >= 1, "{v}");
}

#[tokio::test]
async fn trust_list_rules_foreign_lists_unknown_revoked_and_retired_keys() {
    let a = TestServer::start().await;
    let b = node_with_cache(1).await;
    let hub = Hub::new();
    let issued = a.issue_driving("SM2").await;
    let cred = credential(&issued);
    let iat = {
        let v = a.verify(cred).await;
        v["claims"]["iat"].as_i64().unwrap()
    };
    let issuers = local_issuers(&a.node).await.unwrap();

    // A's keys are listed, A's node is not: its list is not of a trusted node.
    hub.install(&b, &[&b], issuers.clone());
    let v = b.verify(cred).await;
    assert_eq!(problem_codes(&v), ["status.foreign_list"], "{v}");
    assert!(v["status_source"].is_null());

    // The key retired after the credential and its list's token were signed: it still
    // verifies. (A keeps serving that token until the list changes, so the time does not
    // depend on when B fetches it.)
    let list_iat = {
        let uri = issued["status"]["uri"].as_str().unwrap();
        let jwt = a
            .client
            .get(uri)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let payload = jwt.split('.').nth(1).unwrap();
        let payload: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        payload["iat"].as_i64().unwrap()
    };
    let mut retired = issuers.clone();
    for i in &mut retired {
        for k in &mut i.keys {
            k.retired_at = Some(iat.max(list_iat) + 1);
        }
    }
    hub.install(&b, &[&a, &b], retired);
    assert_eq!(b.verify(cred).await["valid"], true);

    // Revoked (compromised) since before iat: refused.
    let mut revoked = issuers.clone();
    for i in &mut revoked {
        for k in &mut i.keys {
            k.revoked_since = Some(iat - 1);
        }
    }
    hub.install(&b, &[&a, &b], revoked);
    let v = b.verify(cred).await;
    assert!(
        problem_codes(&v).contains(&"issuer.key_revoked".to_string()),
        "{v}"
    );
    assert_eq!(v["valid"], false);

    // Listed as an issuer of another node: the credential's iss does not match.
    let mut moved = issuers.clone();
    for i in &mut moved {
        i.node = b.base.clone();
    }
    hub.install(&b, &[&a, &b], moved);
    let v = b.verify(cred).await;
    assert!(
        problem_codes(&v).contains(&"issuer.mismatch".to_string()),
        "{v}"
    );

    // A list without A's issuers: the kid is unknown.
    hub.install(&b, &[&a, &b], vec![]);
    assert_eq!(problem_codes(&b.verify(cred).await), ["issuer.unknown_key"]);
}

#[tokio::test]
async fn the_status_list_index_lists_every_list_with_its_uri() {
    let a = TestServer::start().await;
    let issued = a.issue_driving("SM2").await;
    let (status, index) = read(a.get("/status-lists").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let lists = index["lists"].as_array().unwrap();
    let entry = lists
        .iter()
        .find(|l| l["uri"] == issued["status"]["uri"])
        .unwrap_or_else(|| panic!("{index}"));
    assert_eq!(entry["issuer"], sample::BEIJING_TRAFFIC_POLICE);
    assert_eq!(entry["alg"], "SM2", "the list of SM2 credentials: {index}");
    let id = entry["id"].as_u64().unwrap();
    assert_eq!(entry["uri"], a.url(&format!("/status-lists/{id}")).as_str());
    // The token served there answers its ETag with 304.
    let resp = a.get(&format!("/status-lists/{id}")).send().await.unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let resp = a
        .get(&format!("/status-lists/{id}"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
}

/// The JWS `alg` of the status-list token at `uri`, as fetched.
async fn list_alg(a: &TestServer, uri: &str) -> String {
    let jwt = a
        .client
        .get(uri)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (header, _) = jwt.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    header["alg"].as_str().unwrap().to_owned()
}

/// ES256 and EdDSA credentials of an issuer that also has an SM2 key: their lists are signed
/// with ES256 and EdDSA; B checks each with the trust-listed key of that algorithm and sees
/// a revocation in one list only.
#[tokio::test]
async fn es256_and_eddsa_lists_verify_at_node_b_with_the_trust_listed_keys() {
    let a = TestServer::start().await;
    let b = node_with_cache(1).await;
    let hub = Hub::new();
    hub.install(&b, &[&a, &b], local_issuers(&a.node).await.unwrap());
    let es = a.issue_driving("ES256").await;
    let ed = a
        .issue(&a.driving_request(common::CITIZEN2, "EdDSA").await)
        .await;
    for (issued, alg) in [(&es, "ES256"), (&ed, "EdDSA")] {
        let uri = issued["status"]["uri"].as_str().unwrap();
        assert_eq!(list_alg(&a, uri).await, alg);
        let v = b.verify(credential(issued)).await;
        assert_eq!(v["valid"], true, "{alg}: {v}");
        assert_eq!(v["alg"], alg);
        assert_eq!(v["status_source"]["from"], "remote", "{v}");
        assert_eq!(v["status_source"]["uri"], uri);
    }
    revoke(&a, es["identifier"].as_str().unwrap()).await;
    let seen = common::eventually("B sees A's revocation", Duration::from_secs(5), || async {
        let v = b.verify(credential(&es)).await;
        (problem_codes(&v) == ["status.invalid"]).then_some(v)
    })
    .await;
    assert_eq!(seen["status_source"]["node"], a.base.as_str());
    assert_eq!(b.verify(credential(&ed)).await["valid"], true);
}

/// `verify` events of the license `id` stored at `s`.
async fn verify_events(s: &TestServer, id: &str) -> usize {
    let rec = s
        .node
        .store
        .license(id)
        .await
        .unwrap()
        .expect("stored here");
    s.node
        .store
        .events(&rec.lineage)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "verify")
        .count()
}

#[tokio::test]
async fn an_institution_verifying_another_nodes_credential_records_no_use_here() {
    let a = TestServer::start().await;
    let b = node_with_cache(1).await;
    let hub = Hub::new();
    // Both nodes have the same sample issuers: their first licenses share an identifier.
    let theirs = a.issue_driving("SM2").await;
    let ours = b.issue_driving("SM2").await;
    let id = ours["identifier"].as_str().unwrap();
    assert_eq!(theirs["identifier"], id);
    hub.install(&b, &[&a, &b], local_issuers(&a.node).await.unwrap());
    let key = common::institution(
        &b,
        "91110105MA01B2C3DL",
        "示例汽车租赁有限公司",
        "car_rental",
    )
    .await;
    let check = |cred: String| {
        b.post("/api/v1/verifications")
            .bearer_auth(&key)
            .header("content-type", "application/dc+sd-jwt")
            .body(cred)
            .send()
    };
    let (status, v) = read(check(credential(&theirs).to_owned()).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["status_source"]["from"], "remote");
    assert_eq!(
        verify_events(&b, id).await,
        0,
        "A's license is not B's {id}"
    );
    // B's own license: the use is recorded.
    let (_, v) = read(check(credential(&ours).to_owned()).await.unwrap()).await;
    assert_eq!(v["status_source"]["from"], "local", "{v}");
    assert_eq!(verify_events(&b, id).await, 1);
}
