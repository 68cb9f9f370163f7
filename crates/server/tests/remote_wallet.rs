//! The network seen from a holder and a verifier, with three real nodes on 127.0.0.1 (a hub
//! and two provinces), each serving with its own background tasks (upward sync, trust list,
//! witnessing):
//! - one wallet across regions: a citizen signed in at their home province sees the license
//!   another province issued them, found through the hub by keyed holder hash and fetched
//!   from the owning node, which records the showing in the license's history; the
//!   node-to-node requests are refused unsigned, from a node outside the trust list, for
//!   another holder, or malformed;
//! - a lookup at one province is answered with the owning province's signed statement;
//! - the hub's own log is co-signed by its children.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{account, eventually, page, read, sign_in, TestServer, CITIZEN, CITIZEN2};
use elicense_app::federation::directory::{self, Scope};
use elicense_app::federation::wallet::{WalletAnswer, WalletRequest, WALLET_PATH};
use elicense_app::federation::{
    peer, sync, trust, witness, Federation, FederationSettings, NodeUrl,
};
use elicense_app::SystemClock;
use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_core::Identifier;
use reqwest::StatusCode;

async fn member(
    area: &str,
    level: &str,
    parent: Option<&str>,
    hub_keys: Option<std::path::PathBuf>,
) -> TestServer {
    let (area, level, parent) = (area.to_owned(), level.to_owned(), parent.map(str::to_owned));
    TestServer::start_configured(Arc::new(SystemClock), move |c| {
        c.federation = Federation::parse(
            &FederationSettings {
                area: Some(area),
                level: Some(level),
                parent,
            },
            &c.base_url,
        )
        .unwrap();
        c.trust.hub_keys = hub_keys;
        c.trust.refresh_secs = 1;
        c.trust.list_ttl_secs = 3600;
    })
    .await
}

/// The hub, Beijing (which issues) and Shanghai (the holder's home), joined up; the
/// identifier of a driving license Beijing issued to `CITIZEN`, once Shanghai's trust list
/// names Beijing and the hub's directory has the license.
async fn network() -> (
    TestServer,
    TestServer,
    TestServer,
    String,
    tempfile::TempDir,
) {
    let hub = member("100000", "national", None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("hub-keys.json");
    std::fs::write(
        &keys,
        serde_json::to_string(&trust::public_node_keys(&hub.node).unwrap()).unwrap(),
    )
    .unwrap();
    let beijing = member("110000", "province", Some(&hub.base), Some(keys.clone())).await;
    let shanghai = member("310000", "province", Some(&hub.base), Some(keys.clone())).await;
    for child in [&beijing, &shanghai] {
        peer::admit(&hub.node, &child.base).await.unwrap();
    }
    let issued = beijing
        .issue(&beijing.driving_request(CITIZEN, "SM2").await)
        .await;
    let id = issued["identifier"].as_str().unwrap().to_owned();
    eventually(
        "the hub's directory has the license",
        Duration::from_secs(60),
        || {
            let hub = &hub;
            let id = id.clone();
            async move {
                let lineage = elicense_app::issue::lineage(&Identifier::parse(&id).unwrap());
                hub.node
                    .store
                    .hub_license(&lineage, 1)
                    .await
                    .unwrap()
                    .map(|_| ())
            }
        },
    )
    .await;
    for (a, b) in [(&shanghai, &beijing), (&beijing, &shanghai)] {
        eventually(
            "each province's trust list names the other",
            Duration::from_secs(60),
            || {
                let (a, b) = (a, b.base.clone());
                async move { a.node.trust.current()?.node(&b).map(|_| ()) }
            },
        )
        .await;
    }
    (hub, beijing, shanghai, id, dir)
}

async fn remote_views(node: &TestServer, id: &str) -> Vec<String> {
    let lineage = elicense_app::issue::lineage(&Identifier::parse(id).unwrap());
    node.node
        .store
        .events(&lineage)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "remote_view")
        .map(|e| e.actor)
        .collect()
}

fn holder_hash(key: &[u8; 32], who: (&str, &str)) -> String {
    hex::encode(sync::holder_hash(
        key,
        &HolderCode::parse(HolderCodeType::ResidentId, who.1).unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_holder_sees_at_home_the_license_another_province_issued_and_the_owner_records_it() {
    let (_hub, beijing, shanghai, id, _dir) = network().await;

    // Signed in at home (Shanghai), the citizen sees Beijing's license.
    account(&shanghai, "zhangwei", CITIZEN).await;
    let cookie = sign_in(&shanghai, "zhangwei").await;
    let (status, html) = page(&shanghai, "/wallet", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "data-identifier=\"{id}\" data-node=\"{}\"",
            beijing.base
        )),
        "{html}"
    );
    assert!(!html.contains("data-unreachable"), "{html}");
    // Beijing recorded the showing, by Shanghai, once; a reload within the minute asks again
    // nobody (and records nothing more).
    assert_eq!(
        remote_views(&beijing, &id).await,
        vec![format!("node:{}", shanghai.base)]
    );
    let (_, again) = page(&shanghai, "/wallet", Some(&cookie)).await;
    assert!(again.contains(&id));
    assert_eq!(remote_views(&beijing, &id).await.len(), 1);

    // Another citizen at Shanghai sees nothing of it.
    account(&shanghai, "lina", CITIZEN2).await;
    let other = sign_in(&shanghai, "lina").await;
    let (_, html) = page(&shanghai, "/wallet", Some(&other)).await;
    assert!(!html.contains(&id), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owning_node_answers_only_signed_members_and_only_for_the_holder_asked() {
    let (hub, beijing, shanghai, id, _dir) = network().await;
    let key = sync::holder_key(&shanghai.node).await.unwrap();
    let url = format!("{}{WALLET_PATH}", beijing.base);
    let ask = |holders: Vec<String>| WalletRequest {
        holders,
        identifiers: vec![id.clone()],
    };
    let body = |r: &WalletRequest| serde_json::to_vec(r).unwrap();

    // Unsigned: 401.
    let resp = beijing
        .client
        .post(&url)
        .json(&ask(vec![holder_hash(&key, CITIZEN)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Signed by a node the trust list does not name: 403.
    let stranger = member("440000", "province", Some(&hub.base), None).await;
    let a = peer::send(
        &stranger.node,
        "POST",
        &url,
        Some(body(&ask(vec![holder_hash(&key, CITIZEN)]))),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 403, "{:?}", a.error_code());

    // A member asking for another holder's hash gets nothing, and nothing is recorded.
    let a = peer::send(
        &shanghai.node,
        "POST",
        &url,
        Some(body(&ask(vec![holder_hash(&key, CITIZEN2)]))),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 200);
    assert!(a.json::<WalletAnswer>(&url).unwrap().licenses.is_empty());
    assert!(remote_views(&beijing, &id).await.is_empty());

    // Malformed hashes: 400 with a stable code.
    let a = peer::send(
        &shanghai.node,
        "POST",
        &url,
        Some(body(&ask(vec!["00ff".into()]))),
    )
    .await
    .unwrap();
    assert_eq!(
        (a.status, a.error_code().as_deref()),
        (400, Some("federation.bad_request"))
    );

    // The right hash: the license, what the list shows, recorded once.
    let a = peer::send(
        &shanghai.node,
        "POST",
        &url,
        Some(body(&ask(vec![holder_hash(&key, CITIZEN)]))),
    )
    .await
    .unwrap();
    let got = a.json::<WalletAnswer>(&url).unwrap().licenses;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].identifier.as_str(), got[0].node.as_str()),
        (id.as_str(), beijing.base.as_str())
    );
    assert_eq!(got[0].holder_name, CITIZEN.0);
    assert_eq!(remote_views(&beijing, &id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lookup_elsewhere_carries_the_owners_signed_statement_and_the_hubs_log_is_cosigned() {
    let (hub, beijing, shanghai, id, _dir) = network().await;
    let ident = Identifier::parse(&id).unwrap();

    // At Shanghai: the owner is found (trust list or hub) and its statement verified.
    let l = directory::locate(&shanghai.node, &ident, Scope::Network)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(l.node, beijing.base);
    assert_eq!(l.status.code(), "valid");
    assert!(
        matches!(l.source.as_str(), "issuer" | "hub"),
        "{}",
        l.source
    );
    // Asked with scope=own, a node that does not own it does not look further.
    let lookup = |scope: &str| {
        let req = shanghai.get(&format!("/federation/v1/directory/{id}?scope={scope}"));
        async move { read(req.send().await.unwrap()).await }
    };
    assert_eq!(lookup("own").await.0, StatusCode::NOT_FOUND);
    let (status, body) = lookup("sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "request.malformed");

    // Revoked at Beijing: the next lookup at Shanghai (owner cached) has the new status.
    let (status, _) = read(
        beijing
            .post(&format!("/api/v1/licenses/{id}/actions"))
            .bearer_auth(beijing.key(elicense_core::sample::BEIJING_TRAFFIC_POLICE))
            .json(&serde_json::json!({"action": "revoke", "reason": "test"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status.is_success(), "{status}");
    let l = directory::locate(&shanghai.node, &ident, Scope::Network)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.status.code(), "revoked");

    // The hub's checkpoint carries one cosignature of each child's witness key, and a
    // witness that co-signed a size is not asked again for it.
    let names: Vec<String> = [&beijing, &shanghai]
        .iter()
        .map(|c| format!("\u{2014} {}/witness ", c.addr))
        .collect();
    let cp = eventually(
        "the hub's checkpoint is co-signed by both children",
        Duration::from_secs(60),
        || {
            let (hub, names) = (&hub, names.clone());
            async move {
                let cp = hub.text("/log/checkpoint").await;
                names
                    .iter()
                    .all(|n| cp.lines().filter(|l| l.starts_with(n)).count() == 1)
                    .then_some(cp)
            }
        },
    )
    .await;
    for child in [&beijing, &shanghai] {
        let w = witness::Witness::new(NodeUrl::parse(&child.base).unwrap()).unwrap();
        let size: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
        let again = witness::submit(&hub.node, &w).await.unwrap();
        // (The hub's log may have grown meanwhile: then a new size is co-signed.)
        if hub.text("/log/checkpoint").await.lines().nth(1) == Some(size.to_string().as_str()) {
            assert_eq!(again, witness::Submitted::AlreadyCosigned(size));
        }
    }
}
