//! The signed trust list over real HTTP on 127.0.0.1: a national hub publishes it, a child
//! refreshes it from its parent against the pinned hub keys and serves its copy; a child
//! refuses lists with a bad signature, an older number or past their expiry (served by a
//! tiny parent of the test's own) and keeps the one it holds, also across a restart; the
//! hub's numbers grow across restarts; mutual recognition is enforced on sharing requests;
//! a successor authority takes over lifecycle operations.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use elicense_app::federation::trust::{self, Refreshed, TRUST_LIST_FILE, TRUST_LIST_PATH};
use elicense_app::federation::trust_list::TrustList;
use elicense_app::federation::{Federation, FederationSettings};
use elicense_app::{Node, NodeConfig, SystemClock};
use elicense_core::sample;
use elicense_crypto::{Alg, Jwks, KeyPair};
use elicense_store::SqliteStore;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn member(c: &mut NodeConfig, area: &str, level: &str, parent: Option<&str>) {
    c.federation = Federation::parse(
        &FederationSettings {
            area: Some(area.into()),
            level: Some(level.into()),
            parent: parent.map(Into::into),
        },
        &c.base_url,
    )
    .unwrap();
    c.trust.refresh_secs = 1;
    c.trust.list_ttl_secs = 600;
}

async fn hub() -> TestServer {
    TestServer::start_configured(Arc::new(SystemClock), |c| {
        member(c, "100000", "national", None)
    })
    .await
}

/// Writes `keys` as the JWKS file a member pins.
fn pin(dir: &Path, keys: &Jwks) -> PathBuf {
    let path = dir.join("hub-keys.json");
    std::fs::write(&path, serde_json::to_vec(keys).unwrap()).unwrap();
    path
}

/// A province node under `parent`, with `hub_keys` pinned, its data in `data` if given.
async fn child(parent: &str, area: &str, hub_keys: PathBuf, data: Option<&Path>) -> TestServer {
    let parent = parent.to_owned();
    let data = data.map(Path::to_path_buf);
    TestServer::start_configured(Arc::new(SystemClock), move |c| {
        member(c, area, "province", Some(&parent));
        c.trust.hub_keys = Some(hub_keys);
        c.data_dir = data;
    })
    .await
}

/// `PUT /api/v1/operator/recognition/{id}` with an operator key.
async fn put_recognition(
    srv: &TestServer,
    key: &str,
    id: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    srv.client
        .put(srv.url(&format!("/api/v1/operator/recognition/{id}")))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The trust list a node serves: status and body.
async fn served(srv: &TestServer) -> (StatusCode, String) {
    let resp = srv.get(TRUST_LIST_PATH).send().await.unwrap();
    let status = resp.status();
    if status == StatusCode::OK {
        assert_eq!(resp.headers()["content-type"], "application/jwt");
    }
    (status, resp.text().await.unwrap())
}

fn payload(jws: &str) -> Value {
    let part = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&elicense_crypto::b64::decode(part).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_refreshes_and_serves_the_hubs_list() {
    let standalone = TestServer::start().await;
    let (status, body) = served(&standalone).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("trust_list.none"), "{body}");

    let hub = hub().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = pin(dir.path(), &trust::public_node_keys(&hub.node).unwrap());
    let hub_jws = eventually("the hub publishes", Duration::from_secs(20), || async {
        let (s, b) = served(&hub).await;
        (s == StatusCode::OK).then_some(b)
    })
    .await;
    let p = payload(&hub_jws);
    assert_eq!(p["iss"], hub.base);
    assert_eq!(p["nodes"][0]["url"], hub.base);
    assert_eq!(p["nodes"][0]["level"], "national");
    assert!(!p["nodes"][0]["log_keys"].as_array().unwrap().is_empty());
    let issuers = p["issuers"].as_array().unwrap();
    assert!(issuers
        .iter()
        .any(|i| i["code"] == sample::BEIJING_TRAFFIC_POLICE
            && !i["keys"].as_array().unwrap().is_empty()));
    assert!(p["exp"].as_i64().unwrap() - p["iat"].as_i64().unwrap() == 600);

    let child = child(&hub.base, "310000", keys, None).await;
    let seq = |jws: &str| payload(jws)["seq"].as_u64().unwrap();
    let copy = eventually(
        "the child serves the hub's list",
        Duration::from_secs(20),
        || async {
            let (s, b) = served(&child).await;
            (s == StatusCode::OK).then_some(b)
        },
    )
    .await;
    assert!(seq(&copy) >= seq(&hub_jws));
    assert_eq!(payload(&copy)["iss"], hub.base);
    let (_, now_at_hub) = served(&hub).await;
    assert!(seq(&copy) <= seq(&now_at_hub));
}

/// A parent of the test's own: serves whatever JWS the test puts in.
async fn fake_parent(list: Arc<Mutex<String>>) -> String {
    let app = axum::Router::new().route(
        TRUST_LIST_PATH,
        axum::routing::get(move || {
            let list = list.clone();
            async move { list.lock().unwrap().clone() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn signed(key: &KeyPair, iss: &str, seq: u64, iat: i64, exp: i64) -> String {
    TrustList {
        iss: iss.into(),
        seq,
        iat,
        exp,
        nodes: vec![],
        issuers: vec![],
        recognition: vec![],
    }
    .sign(key)
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_refuses_forged_older_and_expired_lists_and_keeps_its_own() {
    let hub_key = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    let mut jwk = hub_key.public_jwk();
    jwk.kid = Some(jwk.thumbprint());
    let pins = tempfile::tempdir().unwrap();
    let keys = pin(pins.path(), &Jwks { keys: vec![jwk] });
    let list = Arc::new(Mutex::new(String::new()));
    let parent = fake_parent(list.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let child = child(&parent, "320000", keys.clone(), Some(data.path())).await;
    let node = &child.node;
    let now = node.now();
    let set = |jws: String| *list.lock().unwrap() = jws;

    set(signed(&hub_key, &parent, 5, now - 10, now + 600));
    assert_eq!(
        trust::refresh_once(node).await.unwrap(),
        Refreshed::Holding(5)
    );
    let code = |r: Result<Refreshed, elicense_app::AppError>| r.unwrap_err().code.to_string();
    let forger = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    let refusals = || {
        node.trust_inputs
            .refusals
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = refusals();
    set(signed(&forger, &parent, 6, now - 10, now + 600));
    assert_eq!(
        code(trust::refresh_once(node).await),
        "trust_list.bad_signature"
    );
    set(signed(&hub_key, &parent, 4, now - 10, now + 600));
    assert_eq!(
        code(trust::refresh_once(node).await),
        "trust_list.rolled_back"
    );
    set(signed(&hub_key, &parent, 7, now - 700, now - 1));
    assert_eq!(code(trust::refresh_once(node).await), "trust_list.expired");
    assert!(refusals() >= before + 3);
    // The child keeps serving the list it had.
    assert_eq!(node.trust.current().unwrap().seq, 5);
    let (status, body) = served(&child).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(payload(&body)["seq"], 5);
    let metrics = child
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("elicense_trust_list_refusals_total"),
        "refusals are counted on /metrics"
    );

    // The accepted list is kept in the data dir (0600) and loaded again at start.
    set(signed(&hub_key, &parent, 8, now - 10, now + 600));
    assert_eq!(
        trust::refresh_once(node).await.unwrap(),
        Refreshed::Holding(8)
    );
    let file = data.path().join(TRUST_LIST_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let config = child.node.config.clone();
    let restarted = Node::new(
        Arc::new(SqliteStore::open(data.path().join("again.db"), Default::default()).unwrap()),
        Arc::new(SystemClock),
        config.clone(),
    );
    assert_eq!(trust::load_saved(&restarted).unwrap().unwrap().seq, 8);
    // A saved list that has expired is refused at start: the node starts without one.
    std::fs::write(&file, signed(&hub_key, &parent, 9, now - 700, now - 1)).unwrap();
    let again = Node::new(
        Arc::new(SqliteStore::open(data.path().join("third.db"), Default::default()).unwrap()),
        Arc::new(SystemClock),
        config,
    );
    assert!(trust::load_saved(&again).unwrap().is_none());
    assert!(again.trust.current().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hubs_numbers_grow_across_restarts_and_it_republishes_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let mut c = NodeConfig::ephemeral("http://127.0.0.1:9");
        member(&mut c, "100000", "national", None);
        Node::new(
            Arc::new(SqliteStore::open(dir.path().join("hub.db"), Default::default()).unwrap()),
            Arc::new(SystemClock),
            c,
        )
    };
    let first = open();
    let a = trust::publish(&first).await.unwrap().seq;
    // Nothing changed: the list held stays.
    assert_eq!(trust::publish(&first).await.unwrap().seq, a);
    elicense_app::federation::recognition::put(
        &first,
        elicense_core::RecognitionList {
            id: "yrd".into(),
            name: "长三角".into(),
            areas: vec!["310000".into(), "320000".into()],
            types: vec![sample::DRIVING_LICENSE.into()],
        },
    )
    .await
    .unwrap();
    let b = trust::publish(&first).await.unwrap();
    assert!(b.seq > a);
    assert_eq!(b.recognition[0].id, "yrd");
    drop(first);
    // Restarted (another process reading the same store): the next list has a higher number.
    let second = open();
    let c = trust::publish(&second).await.unwrap();
    assert!(c.seq > b.seq, "{} after {}", c.seq, b.seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_below_the_hub_needs_the_hubs_keys_pinned() {
    let mut c = NodeConfig::ephemeral("http://127.0.0.1:9");
    member(&mut c, "320000", "province", Some("http://127.0.0.1:10"));
    let node = Node::new(
        Arc::new(
            SqliteStore::open(
                tempfile::tempdir().unwrap().keep().join("db"),
                Default::default(),
            )
            .unwrap(),
        ),
        Arc::new(SystemClock),
        c,
    );
    let e = trust::anchors(&node).unwrap_err();
    assert_eq!(e.code, "config.invalid");
    assert!(e.message.contains("hub_keys"), "{}", e.message);
}

/// A car-rental company's request for a driving license.
fn rental_ask() -> Value {
    json!({"matter": "car_rental", "holder_id": CITIZEN.1, "purpose": "租车合同 A-17",
           "staff": "clerk"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_recognition_is_enforced_on_sharing_requests_and_presentations() {
    let hub = hub().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = pin(dir.path(), &trust::public_node_keys(&hub.node).unwrap());
    // A Shanghai node holds a driving license issued by Beijing's traffic police.
    let shanghai = child(&hub.base, "310000", keys, None).await;
    eventually(
        "the child holds a list",
        Duration::from_secs(20),
        || async { shanghai.node.trust.current().map(|_| ()) },
    )
    .await;
    let license = shanghai.issue_driving("es256").await["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    with_accounts(&shanghai).await;
    let zhang = sign_in(&shanghai, "zhangwei").await;
    let device = Device::new();
    let rental = institution(
        &shanghai,
        "91110105MA01B2C3DL",
        "示例汽车租赁有限公司",
        "car_rental",
    )
    .await;
    let ask = || async {
        read(
            shanghai
                .post("/api/v1/shares")
                .bearer_auth(&rental)
                .json(&rental_ask())
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (status, body) = ask().await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "recognition.not_listed");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains(sample::DRIVING_LICENSE));
    // Nor may the holder present it for a matter of this node.
    let api = format!("/api/v1/wallet/licenses/{license}");
    let (status, bound) = wallet_post_json(
        &shanghai,
        &format!("{api}/binding"),
        &zhang,
        json!({"jwk": device.jwk()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    let (status, body) = wallet_post_json(
        &shanghai,
        &format!("{api}/presentations/prepare"),
        &zhang,
        json!({"jkt": bound["jkt"], "fields": ["vehicle_class"], "matter": "car_rental"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "recognition.not_listed");

    // Only the hub keeps lists.
    let op_child = operator_key(&shanghai).await;
    let body = json!({"name": "京沪", "areas": ["110000", "310000"],
                      "types": [sample::DRIVING_LICENSE]});
    let resp = put_recognition(&shanghai, &op_child, "jh", &body).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "recognition.not_hub").await;

    let op = operator_key(&hub).await;
    let (status, stored) = read(put_recognition(&hub, &op, "jh", &body).await).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["areas"], json!(["110000", "310000"]));
    let bad = put_recognition(
        &hub,
        &op,
        "x",
        &json!({"name": "x", "areas": ["999999"], "types": ["T"]}),
    )
    .await;
    expect_error(bad, StatusCode::BAD_REQUEST, "recognition.invalid").await;

    eventually(
        "the child holds the list with the recognition",
        Duration::from_secs(20),
        || async {
            shanghai
                .node
                .trust
                .current()
                .filter(|l| l.recognition.iter().any(|r| r.id == "jh"))
                .map(|_| ())
        },
    )
    .await;
    let (status, body) = ask().await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["state"], "pending");
    let done = present(
        &shanghai,
        &zhang,
        &license,
        &device,
        &["vehicle_class"],
        "car_rental",
    )
    .await;
    assert!(done["id"].is_string(), "{done}");

    // A region operator sees which lists apply to its area.
    let applying = |area: &'static str| {
        let (srv, op) = (&shanghai, op_child.clone());
        async move {
            read(
                srv.get(&format!("/api/v1/operator/recognition?area={area}"))
                    .bearer_auth(op)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            .1
        }
    };
    assert_eq!(applying("310104").await[0]["id"], "jh");
    assert_eq!(applying("510000").await, json!([]));

    // Removed at the hub: refused again once the child refreshed.
    let resp = hub
        .client
        .delete(hub.url("/api/v1/operator/recognition/jh"))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    eventually(
        "the child holds the list without it",
        Duration::from_secs(20),
        || async {
            shanghai
                .node
                .trust
                .current()
                .filter(|l| l.recognition.is_empty())
                .map(|_| ())
        },
    )
    .await;
    let (status, _) = ask().await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn act(srv: &TestServer, key: &str, id: &str, action: &str) -> (StatusCode, Value) {
    read(
        srv.post(&format!("/api/v1/licenses/{id}/actions"))
            .bearer_auth(key)
            .json(&json!({"action": action}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successor_takes_over_lifecycle_operations() {
    let srv = TestServer::start().await;
    let issued = srv.issue_driving("es256").await;
    let id = issued["identifier"].as_str().unwrap().to_owned();
    let credential = issued["credential"].as_str().unwrap().to_owned();
    let (old, new) = (
        sample::BEIJING_TRAFFIC_POLICE,
        sample::BEIJING_DONGCHENG_POLICE,
    );
    let op = operator_key(&srv).await;
    let succeed = |body: Value| {
        let (srv, op) = (&srv, op.clone());
        async move {
            read(
                srv.post(&format!("/api/v1/operator/issuers/{old}/succession"))
                    .bearer_auth(op)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    // Not yet succeeded: the successor may not act.
    let (status, body) = act(&srv, srv.key(new), &id, "suspend").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "license.not_your_license");
    let (status, body) = succeed(json!({"successor": old})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "issuer.succession_cycle");

    // Succeeded from a time to come: the old authority still acts until then.
    let later = srv.node.now() + 3600;
    let (status, done) = succeed(json!({"successor": new, "at": later})).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["event"]["action"], "issuer_succeed");
    assert_eq!(done["event"]["subject"], format!("{old}>{new}"));
    assert_eq!(done["event"]["since"], later);
    let (status, body) = succeed(json!({"successor": new})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "issuer.already_succeeded");
    let (status, _) = act(&srv, srv.key(old), &id, "suspend").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = act(&srv, srv.key(new), &id, "reinstate").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Once the end has come (moved earlier by hand, as a succession recorded after the
    // fact), only the successor acts; the history names it; the license still verifies.
    let db = rusqlite::Connection::open(srv.db_path()).unwrap();
    db.execute(
        "UPDATE issuers SET ended_at = ?1 WHERE code = ?2",
        rusqlite::params![srv.node.now() - 1, old],
    )
    .unwrap();
    let (status, body) = act(&srv, srv.key(old), &id, "reinstate").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "issuer.ended");
    let (status, body) = act(&srv, srv.key(new), &id, "reinstate").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lineage = srv.node.store.license(&id).await.unwrap().unwrap().lineage;
    let events = srv.node.store.events(&lineage).await.unwrap();
    let last = events.last().unwrap();
    let detail: Value = serde_json::from_str(&last.detail).unwrap();
    assert_eq!(detail["acting_issuer"], new);
    let verdict = srv.verify(&credential).await;
    assert_eq!(verdict["valid"], true, "{verdict}");
    // The ended authority issues nothing more (its record is cached for at most a second).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let req = srv.driving_request(CITIZEN2, "es256").await;
    let resp = srv
        .post("/api/v1/licenses")
        .bearer_auth(srv.key(old))
        .json(&req)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "issuer.ended").await;
    // Another authority still may not.
    let (status, body) = act(&srv, srv.key(sample::BEIJING_SAMR), &id, "suspend").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "license.not_your_license");

    // The trust-list form of this node's issuers names the successor.
    let issuers = elicense_app::federation::trust_list::local_issuers(&srv.node)
        .await
        .unwrap();
    let o = issuers.iter().find(|i| i.code == old).unwrap();
    assert_eq!(o.successor.as_deref(), Some(new));
    assert!(o.ended_at.is_some());
}
