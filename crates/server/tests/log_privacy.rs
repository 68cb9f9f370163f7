//! The public log keeps who used whose license, and why, to the holder and the issuer: after a
//! scripted scenario (an institution's sharing request with its purpose, the holder's
//! consent, a presentation opened by a verifier, an institution's verification, a suspension
//! with the issuer's reason), every tile served over HTTP is downloaded and none names a
//! license next to a use, an institution or any purpose or reason text. The holder and the
//! issuer fetch the openings of the uses and check them against the signed checkpoint; the
//! public verification shows the reason's category only; the auditor (library) checks every
//! leaf against the database, openings included, and catches a salt changed with SQL.

mod common;

use common::*;
use elicense_app::audit::{self, AuditOptions};
use elicense_app::institutions::{self, NewInstitution};
use elicense_app::openings::{self, UseOpening};
use elicense_core::EventKind;
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::tiles::{tiles_for_size, EntryBundle, TilePath};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A car-rental company: its matter has no legal basis, the holder consents.
const RENTAL: &str = "91110105MA01B2C3DL";
const RENTAL_NAME: &str = "示例汽车租赁有限公司";
const PURPOSE: &str = "租车合同 A-17 押金核对";
const STAFF: &str = "门店3号柜台王五";
const STAFF_USER: &str = "wangwu.store3";
const REASON: &str = "酒后驾驶 (2026)京0105行罚字第123号";

async fn get_json(srv: &TestServer, path: &str, cookie: Option<&str>) -> (StatusCode, Value) {
    let mut req = srv.get(path);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    read(req.send().await.unwrap()).await
}

/// Every hash tile and entry bundle of the current tree, over HTTP: (path, bytes).
async fn every_tile(srv: &TestServer) -> (u64, Vec<(String, Vec<u8>)>) {
    let note = srv.text("/log/checkpoint").await;
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let mut out = Vec::new();
    for id in tiles_for_size(size) {
        let mut paths = vec![id.path()];
        if id.level() == 0 {
            paths.push(id.path().replacen("tile/0/", "tile/entries/", 1));
        }
        for path in paths {
            let resp = srv.get(&format!("/log/{path}")).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            out.push((path, resp.bytes().await.unwrap().to_vec()));
        }
    }
    (size, out)
}

/// The log's origin and note keys, as published.
async fn log_keys(srv: &TestServer) -> (String, Verifiers) {
    let (_, meta) = get_json(srv, "/.well-known/elicense-log", None).await;
    let keys: Vec<VerifierKey> = meta["verifier_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| VerifierKey::parse(k.as_str().unwrap()).unwrap())
        .collect();
    (
        meta["origin"].as_str().unwrap().to_string(),
        Verifiers::new(keys).unwrap(),
    )
}

/// The scripted scenario; returns the license identifier and its credential.
async fn scenario(srv: &TestServer) -> (String, String) {
    with_accounts(srv).await;
    let lic = srv.issue_driving("sm2").await;
    let identifier = lic["identifier"].as_str().unwrap().to_string();
    let credential = lic["credential"].as_str().unwrap().to_string();
    institutions::register(
        &srv.node,
        NewInstitution {
            code: RENTAL.into(),
            name: RENTAL_NAME.into(),
            area: "110105".into(),
            matters: vec!["car_rental".into()],
        },
    )
    .await
    .unwrap();
    let (inst_key, _) = institutions::create_key(&srv.node, RENTAL, "test")
        .await
        .unwrap();
    let (status, _) = read(
        srv.put(&format!("/api/v1/staff/{STAFF_USER}"))
            .bearer_auth(&inst_key)
            .json(&json!({"name": STAFF, "matters": ["car_rental"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The institution asks, with its purpose; the holder consents.
    let (status, pending) = read(
        srv.post("/api/v1/shares")
            .bearer_auth(&inst_key)
            .json(&json!({"matter": "car_rental", "holder_id": CITIZEN.1,
                "purpose": PURPOSE, "staff": STAFF_USER}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    let zhang = sign_in(srv, "zhangwei").await;
    let share = pending["id"].as_str().unwrap();
    let (status, granted) = wallet_post_json(
        srv,
        &format!("/api/v1/wallet/shares/{share}/consent"),
        &zhang,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{granted}");

    // The holder presents it; a verifier opens the presentation.
    let done = present(
        srv,
        &zhang,
        &identifier,
        &Device::new(),
        &["holder_name"],
        "car_rental",
    )
    .await;
    let path = done["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&srv.base)
        .unwrap()
        .to_string();
    let (status, _) = page(srv, &path, None).await;
    assert_eq!(status, StatusCode::OK);

    // The institution verifies the credential (recorded as its use).
    let resp = srv
        .post("/api/v1/verifications")
        .bearer_auth(&inst_key)
        .header("content-type", "application/dc+sd-jwt")
        .body(credential.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // The issuer suspends it, with its reason in its own words and the public category.
    let (status, body) = read(
        srv.post(&format!("/api/v1/licenses/{identifier}/actions"))
            .bearer_auth(srv.key(elicense_core::sample::BEIJING_TRAFFIC_POLICE))
            .json(&json!({"action": "suspend", "reason": REASON, "reason_category": "violation"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (identifier, credential)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_public_tile_shows_who_used_a_license_or_why() {
    let srv = TestServer::start().await;
    let (identifier, _) = scenario(&srv).await;
    let (size, tiles) = every_tile(&srv).await;
    assert!(
        size >= 8,
        "issue, query, consent, copy, present, 2 verifications, suspend"
    );
    let secrets = [
        RENTAL,
        RENTAL_NAME,
        PURPOSE,
        STAFF,
        STAFF_USER,
        REASON,
        "酒后驾驶",
        CITIZEN.0,
        CITIZEN.1,
    ];
    let mut uses = 0;
    let mut leaves = 0;
    for (path, bytes) in &tiles {
        let text = String::from_utf8_lossy(bytes);
        for s in secrets {
            assert!(!text.contains(s), "{s:?} in tile {path}");
        }
        let Ok(TilePath::Entries(id)) = TilePath::parse(path) else {
            continue;
        };
        for leaf in EntryBundle::parse_for(id, bytes).unwrap().entries() {
            leaves += 1;
            let v: Value = serde_json::from_slice(leaf).unwrap();
            let text = String::from_utf8_lossy(leaf);
            // A leaf that names a license is an issue or a lifecycle action, with a reason
            // only as a category; every other leaf names none.
            match v["kind"].as_str().map(EventKind::parse) {
                Some(Ok(kind)) if !kind.is_use() => {
                    assert!(v["reason"].is_null() || v["reason"] == "violation", "{v}");
                }
                other => {
                    assert!(other.is_none(), "a use in clear: {v}");
                    assert!(!text.contains(&identifier), "a use names the license: {v}");
                    assert!(v.get("identifier").is_none() && v.get("actor").is_none());
                    uses += 1;
                }
            }
        }
    }
    assert_eq!(leaves, size);
    assert!(uses >= 6, "{uses} uses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_and_issuer_check_openings_against_the_signed_checkpoint() {
    let srv = TestServer::start().await;
    let (identifier, credential) = scenario(&srv).await;
    let (origin, keys) = log_keys(&srv).await;

    // The holder: the license page links each use to its opening; it opens to the event.
    let zhang = sign_in(&srv, "zhangwei").await;
    let (status, html) = page(
        &srv,
        &format!("/wallet/licenses/{identifier}"),
        Some(&zhang),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let prefix = format!("/api/v1/wallet/licenses/{identifier}/events/");
    let links: Vec<String> = html
        .match_indices(&prefix)
        .map(|(i, _)| {
            let rest = &html[i..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect();
    assert!(links.len() >= 6, "{html}");
    let mut kinds = Vec::new();
    for link in &links {
        let (status, body) = get_json(&srv, link, Some(&zhang)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let o: UseOpening = serde_json::from_value(body).unwrap();
        let used = openings::check(&o, &origin, &keys).expect("the opening checks out");
        assert_eq!(used.identifier, identifier);
        assert_eq!(
            used.credential_sha256,
            elicense_store::log::credential_sha256(&credential)
        );
        if used.kind == EventKind::ShareQuery {
            assert_eq!(used.reason.as_deref(), Some(PURPOSE));
            assert!(used.detail.contains(RENTAL), "{}", used.detail);
        }
        kinds.push(used.kind);
        // A changed opening does not check out: another salt, another event.
        let mut forged = o.clone();
        forged.salt = format!("{:064x}", 1);
        assert!(openings::check(&forged, &origin, &keys).is_err());
        let mut forged = o.clone();
        forged.event = forged.event.replace("\"at\":", "\"at\":1");
        assert!(openings::check(&forged, &origin, &keys).is_err());
    }
    for k in [
        EventKind::ShareQuery,
        EventKind::Consent,
        EventKind::Present,
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    // Another holder, and no one signed in, get nothing.
    let li = sign_in(&srv, "lina").await;
    let (status, _) = get_json(&srv, &links[0], Some(&li)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_json(&srv, &links[0], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A lifecycle event has no opening.
    let (status, body) = get_json(&srv, &format!("{prefix}1/opening"), Some(&zhang)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("log.no_opening"))
    );

    // The issuer: every use of its license, each checking out; another issuer is refused.
    let issuer = elicense_core::sample::BEIJING_TRAFFIC_POLICE;
    let resp = srv
        .get(&format!("/api/v1/licenses/{identifier}/openings"))
        .bearer_auth(srv.key(issuer))
        .send()
        .await
        .unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let all: Vec<UseOpening> = serde_json::from_value(body).unwrap();
    assert_eq!(all.len(), links.len());
    for o in &all {
        openings::check(o, &origin, &keys).unwrap();
    }
    let other = srv
        .keys
        .keys()
        .find(|k| k.as_str() != issuer)
        .unwrap()
        .clone();
    let resp = srv
        .get(&format!("/api/v1/licenses/{identifier}/openings"))
        .bearer_auth(srv.key(&other))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "license.not_your_license").await;
    let resp = srv
        .get(&format!("/api/v1/licenses/{identifier}/openings"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_sees_the_reason_category_and_the_holder_the_words() {
    let srv = TestServer::start().await;
    let (identifier, credential) = scenario(&srv).await;
    let (status, body) = get_json(
        &srv,
        &format!("/api/v1/licenses/{identifier}/verification"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"]["code"], "suspended");
    assert_eq!(body["status"]["reason_category"], "violation");
    assert!(!body.to_string().contains("酒后驾驶"), "{body}");
    let (_, html) = page(&srv, &format!("/verify/{identifier}"), None).await;
    assert!(
        html.contains(r#"data-category="violation""#) && html.contains("违法违规"),
        "{html}"
    );
    assert!(!html.contains("酒后驾驶"));
    let verdict = srv.verify(&credential).await;
    assert_eq!(verdict["status"]["reason_category"], "violation");
    assert!(!verdict.to_string().contains("酒后驾驶"), "{verdict}");
    // The holder and the issuer see the words.
    let zhang = sign_in(&srv, "zhangwei").await;
    let (_, html) = page(
        &srv,
        &format!("/wallet/licenses/{identifier}"),
        Some(&zhang),
    )
    .await;
    assert!(html.contains("酒后驾驶"));
    let resp = srv
        .get(&format!("/api/v1/licenses/{identifier}"))
        .bearer_auth(srv.key(elicense_core::sample::BEIJING_TRAFFIC_POLICE))
        .send()
        .await
        .unwrap();
    let (_, body) = read(resp).await;
    assert!(body["status"]["reason"]
        .as_str()
        .unwrap()
        .contains("酒后驾驶"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auditor_checks_every_leaf_and_opening_against_the_database() {
    let srv = TestServer::start().await;
    scenario(&srv).await;
    let run = || {
        audit::run(AuditOptions {
            node: &srv.base,
            state: None,
            concurrency: 4,
            replay: true,
            database: Some(srv.node.store.clone()),
        })
    };
    let report = run().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.database_checked, Some(report.entries));
    assert!(report.uses >= 6, "{report:?}");
    assert_eq!(report.licenses_checked, 1);

    // A salt changed with SQL behind the node: the leaf no longer opens; the audit says so.
    let changed = rusqlite::Connection::open(srv.db_path())
        .unwrap()
        .execute(
            "UPDATE log_openings SET salt = zeroblob(32) \
             WHERE seq = (SELECT max(seq) FROM log_openings)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let report = run().await.unwrap();
    assert!(!report.ok);
    assert!(
        report.failures.iter().any(|f| f.contains("commitment")),
        "{:?}",
        report.failures
    );
}
