//! The event log over HTTP, as a C2SP tlog-tiles client sees it: the published verifier
//! keys, the signed checkpoint, hash tiles and entry bundles (root recomputed from them),
//! inclusion proofs from issue responses and from the API, consistency proofs, caching
//! headers and errors.

mod common;

use common::{expect_error, read, TestServer};
use elicense_app::issue::issue;
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::tiles::{
    tiles_for_size, EntryBundle, MemoryTiles, Tile, TileHashReader, TilePath,
};
use elicense_log::tree::root_from_reader;
use elicense_log::{leaf_hash, verify_consistency, verify_inclusion, Hash};
use elicense_store::LogEntry;
use reqwest::StatusCode;
use serde_json::Value;

fn hashes(v: &Value) -> Vec<Hash> {
    let list: Vec<String> = serde_json::from_value(v.clone()).unwrap();
    elicense_app::log::hashes_from_b64(&list).expect("base64 hashes")
}

async fn checkpoint(s: &TestServer, origin: &str, known: &Verifiers) -> VerifiedCheckpoint {
    let resp = s.get("/log/checkpoint").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    VerifiedCheckpoint::open(text.as_bytes(), origin, known).expect("checkpoint verifies")
}

async fn fetch(s: &TestServer, path: &str) -> (Vec<u8>, String) {
    let resp = s.get(&format!("/log/{path}")).send().await.unwrap();
    if resp.status() != StatusCode::OK {
        panic!("{path}: {:?}", resp.text().await);
    }
    let cache = resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    (resp.bytes().await.unwrap().to_vec(), cache)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tlog_client_audits_the_log() {
    let s = TestServer::start().await;
    // Published keys.
    let (status, meta) = read(s.get("/.well-known/elicense-log").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let origin = meta["origin"].as_str().unwrap().to_string();
    assert_eq!(origin, format!("{}/log", s.addr));
    let keys: Vec<VerifierKey> = meta["verifier_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| VerifierKey::parse(k.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(keys.len(), 2);
    let known = Verifiers::new(keys).unwrap();

    // One license over HTTP: its response carries the proof of its issue event.
    let first = s.issue_driving("SM2").await;
    let log = &first["log"];
    assert_eq!(log["index"], 0);
    let cp0 = VerifiedCheckpoint::open(
        log["checkpoint"].as_str().unwrap().as_bytes(),
        &origin,
        &known,
    )
    .unwrap();
    let cp0 = cp0.checkpoint().clone();
    // 299 more through the app, to fill a whole tile and part of the next.
    let req = s.driving_request(common::CITIZEN2, "EdDSA").await;
    let req: elicense_app::issue::IssueRequest = serde_json::from_value(req).unwrap();
    for _ in 0..299 {
        issue(&s.node, req.clone()).await.unwrap();
    }

    let cp = checkpoint(&s, &origin, &known).await;
    assert_eq!(cp.note().verified().count(), 2, "Ed25519 and SM2");
    let cp = cp.checkpoint().clone();
    assert_eq!(cp.size(), 300);

    // Tiles and bundles, fetched by their C2SP paths; the root is recomputed from tiles.
    let mut tiles = MemoryTiles::new();
    let mut level0 = Vec::new();
    for id in tiles_for_size(cp.size()) {
        let (bytes, cache) = fetch(&s, &id.path()).await;
        if id.is_full() {
            assert!(cache.contains("immutable"), "{cache}");
        } else {
            assert!(!cache.contains("immutable"), "{cache}");
        }
        let tile = Tile::parse(id, &bytes).unwrap();
        if id.level() == 0 {
            level0.push(tile.clone());
        }
        tiles.insert(&tile);
    }
    let reader = TileHashReader::new(cp.size(), &tiles);
    assert_eq!(root_from_reader(cp.size(), &reader).unwrap(), cp.root());
    let mut entries = Vec::new();
    for tile in &level0 {
        let path = tile.id().path().replacen("tile/0/", "tile/entries/", 1);
        let TilePath::Entries(bid) = TilePath::parse(&path).unwrap() else {
            panic!("{path}")
        };
        let (bytes, _) = fetch(&s, &path).await;
        let bundle = EntryBundle::parse_for(bid, &bytes).unwrap();
        bundle.check_against(tile).unwrap();
        entries.extend(bundle.entries().iter().cloned());
    }
    assert_eq!(entries.len(), 300);
    let e0 = LogEntry::parse(&entries[0]).unwrap();
    assert_eq!(e0.identifier(), first["identifier"].as_str());
    assert_eq!(e0.kind(), Some("issue"));

    // Inclusion proof from the API, for an entry in the partial tile.
    let (status, body) = read(
        s.get("/api/v1/log/proof/inclusion?index=280&size=300")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    verify_inclusion(
        &leaf_hash(&entries[280]),
        280,
        300,
        &hashes(&body["hashes"]),
        &cp.root(),
    )
    .unwrap();
    // The first license's proof, at the size it was issued, still verifies.
    verify_inclusion(
        &leaf_hash(&entries[0]),
        0,
        cp0.size(),
        &hashes(&log["hashes"]),
        &cp0.root(),
    )
    .unwrap();
    // Consistency between the first checkpoint and the current one.
    let (status, body) = read(
        s.get(&format!(
            "/api/v1/log/proof/consistency?from={}&to=300",
            cp0.size()
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    verify_consistency(
        cp0.size(),
        300,
        &cp0.root(),
        &cp.root(),
        &hashes(&body["hashes"]),
    )
    .unwrap();

    // Errors.
    let r = s
        .get("/api/v1/log/proof/inclusion?index=300&size=300")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST, "log.bad_index").await;
    let r = s
        .get("/api/v1/log/proof/inclusion?index=1&size=301")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST, "log.bad_size").await;
    let r = s.get("/log/tile/0/02").send().await.unwrap();
    expect_error(r, StatusCode::BAD_REQUEST, "tile.bad_path").await;
    let r = s.get("/log/tile/0/001").send().await.unwrap();
    expect_error(r, StatusCode::NOT_FOUND, "log.not_found").await;
    let r = s.get("/log/tile/entries/000.p/45").send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "an older partial bundle is a prefix"
    );
    let r = s.get("/log/tile/entries/001.p/45").send().await.unwrap();
    expect_error(r, StatusCode::NOT_FOUND, "log.not_found").await;
}
