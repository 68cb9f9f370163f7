//! The federation as real processes on 127.0.0.1: a national hub, a province (Beijing), a city
//! under it and a county under that, and a second province; each an `elicense serve` with a
//! data dir of its own, admitted by its parent with `elicense federation admit`. What a
//! county issues or revokes reaches the hub's directory through upward sync; a city killed
//! with SIGKILL mid-sync, or a hub that is down for a while, loses and duplicates nothing; a
//! county that rewrites its log is refused as a fork.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// One member node: its data dir, port and (while running) process.
struct Member {
    dir: DataDir,
    port: u16,
    name: &'static str,
    server: Option<Server>,
}

impl Member {
    /// A data dir whose `elicense.toml` places the node at `area`/`level` under `parent`.
    fn new(name: &'static str, area: &str, level: &str, parent: Option<&Member>) -> Member {
        let port = free_port();
        let dir = DataDir::with_base_url(&format!("http://127.0.0.1:{port}"));
        let mut toml = std::fs::read_to_string(dir.dir.join("elicense.toml")).unwrap();
        toml.push_str(&format!(
            "area = \"{area}\"\nlevel = \"{level}\"\ntrust_refresh_secs = 1\nstatus_cache_max_secs = 1\n"
        ));
        if let Some(p) = parent {
            toml.push_str(&format!("parent = \"{}\"\n", p.url()));
        }
        std::fs::write(dir.dir.join("elicense.toml"), toml).unwrap();
        Member {
            dir,
            port,
            name,
            server: None,
        }
    }

    /// Pins the hub's node key: `elicense node keys --data HUB --out DIR/hub-keys.json` and
    /// `hub_keys = "hub-keys.json"` in this node's `elicense.toml` (relative to its dir).
    fn pin(&self, hub: &Member) {
        self.pin_with(hub, &[]);
    }

    /// [`Member::pin`] with more arguments for the hub's `node keys` (its `--database`).
    fn pin_with(&self, hub: &Member, extra: &[&str]) {
        let path = self.dir.dir.join("hub-keys.json");
        let mut args = vec![
            "node",
            "keys",
            "--data",
            hub.dir.data(),
            "--out",
            path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        out.ok();
        let toml_path = self.dir.dir.join("elicense.toml");
        let mut toml = std::fs::read_to_string(&toml_path).unwrap();
        toml.push_str("hub_keys = \"hub-keys.json\"\n");
        std::fs::write(toml_path, toml).unwrap();
    }

    /// The trust list this node serves (its payload), once it serves one.
    fn trust_list(&self) -> Option<Value> {
        let (status, body) = http_get(self.port, "/.well-known/elicense-trust-list")?;
        if status != 200 {
            return None;
        }
        let part = body.split('.').nth(1)?;
        serde_json::from_slice(&elicense_crypto::b64::decode(part).ok()?).ok()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Checks that a directory answer carries this node's statement, signed with a node key
    /// it publishes, saying what the answer says.
    fn assert_signed(&self, answer: &Value) {
        let (_, doc) = http_get(self.port, "/.well-known/elicense-node").unwrap();
        let doc: Value = serde_json::from_str(&doc).unwrap();
        let keys: elicense_crypto::Jwks = serde_json::from_value(doc["keys"].clone()).unwrap();
        let jws = elicense_crypto::jws::parse(answer["signed"].as_str().unwrap()).unwrap();
        assert_eq!(
            jws.header.typ.as_deref(),
            Some("elicense-location+jwt"),
            "{answer}"
        );
        let kid = jws.header.kid.clone().unwrap();
        let key = keys
            .keys
            .iter()
            .find(|k| k.thumbprint() == kid)
            .unwrap_or_else(|| panic!("{} publishes no key {kid}", self.name));
        jws.verify_with(key.verifier(None).unwrap().as_ref())
            .unwrap();
        for f in ["identifier", "node", "status", "updated_at"] {
            assert_eq!(jws.payload[f], answer[f], "{f}: {answer}");
        }
        assert_eq!(answer["node"], self.url());
    }

    fn start(&mut self) {
        self.server = Some(Server::serve(&self.dir, self.port, self.name));
    }

    fn kill9(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.proc.kill9();
        }
    }

    /// `elicense federation admit --data DIR --url CHILD`.
    fn admit(&self, child: &Member) {
        let out = run(&[
            "federation",
            "admit",
            "--data",
            self.dir.data(),
            "--url",
            &child.url(),
        ]);
        out.ok();
        assert_eq!(out.json()["url"], child.url());
    }

    /// `GET /federation/v1/directory/{id}` at this node: status and JSON body.
    fn locate(&self, id: &str) -> (u16, Value) {
        let (status, body) = http_get(self.port, &format!("/federation/v1/directory/{id}"))
            .unwrap_or_else(|| panic!("{} answers", self.name));
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn count(&self, sql: &str) -> i64 {
        self.dir.count(sql)
    }
}

/// Polls `f` every 50 ms until it gives `Some`, failing after `limit`.
fn eventually<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// hub ← Beijing ← city ← county, hub ← Sichuan; all started and admitted; the county has the
/// sample catalogue and a traffic-police key.
fn network() -> (Member, Member, Member, Member, Member) {
    let mut hub = Member::new("hub", "100000", "national", None);
    let mut beijing = Member::new("beijing", "110000", "province", Some(&hub));
    let mut city = Member::new("city", "110100", "city", Some(&beijing));
    let mut county = Member::new("county", "110105", "county", Some(&city));
    let mut sichuan = Member::new("sichuan", "510000", "province", Some(&hub));
    county.dir = std::mem::replace(&mut county.dir, DataDir::empty())
        .setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    for m in [&beijing, &city, &county, &sichuan] {
        m.pin(&hub);
    }
    for m in [&mut hub, &mut beijing, &mut city, &mut county, &mut sichuan] {
        m.start();
    }
    hub.admit(&beijing);
    hub.admit(&sichuan);
    beijing.admit(&city);
    city.admit(&county);
    (hub, beijing, city, county, sichuan)
}

/// `elicense revoke` of `id` at `m` (on the holder's request).
fn revoke(m: &Member, id: &str) {
    m.dir
        .run(&[
            "revoke",
            id,
            "--reason",
            "测试撤销",
            "--reason-category",
            "on_request",
        ])
        .ok();
}

fn issue(county: &Member, n: u32) -> String {
    let out = county
        .dir
        .issue_driving(&format!("持证人{n}"), &resident_id(n), &["--json"]);
    out.ok();
    out.json()["identifier"].as_str().unwrap().to_owned()
}

#[test]
fn a_license_issued_in_a_county_is_found_through_the_hub_and_its_revocation_follows() {
    let (hub, beijing, city, county, sichuan) = network();
    let id = issue(&county, 1);

    // Gathered upward: the city, the province and the hub have it in their directories (a
    // lookup may find the owner through the trust list's issuer before that).
    for m in [&city, &beijing, &hub] {
        let loc = eventually(
            Duration::from_secs(60),
            &format!("{}'s directory has {id}", m.name),
            || {
                let (s, v) = m.locate(&id);
                (s == 200 && v["source"] == "directory").then_some(v)
            },
        );
        assert_eq!(loc["node"], county.url(), "{}: {loc}", m.name);
        assert_eq!(loc["status"], "valid");
    }
    // The other province has never seen it: it asks the owner it finds in the trust list
    // (the county's issuer), or the hub when the list does not name it; one round trip.
    // (Until the trust list names the county, its statement cannot be checked: 503.)
    let loc = eventually(
        Duration::from_secs(30),
        "Sichuan finds the county's license",
        || {
            let (s, v) = sichuan.locate(&id);
            (s == 200).then_some(v)
        },
    );
    assert_eq!(loc["node"], county.url(), "{loc}");
    assert!(
        matches!(loc["source"].as_str(), Some("issuer" | "hub")),
        "{loc}"
    );
    // Whoever answers, the answer is the owning county's, signed with its node key.
    for l in [&loc, &hub.locate(&id).1] {
        county.assert_signed(l);
    }
    // No personal data in the hub's directory: the holder is a 32-byte keyed hash.
    assert_eq!(
        hub.count("SELECT COUNT(*) FROM hub_licenses WHERE length(holder_key) = 32"),
        1
    );
    assert_eq!(
        hub.count("SELECT COUNT(*) FROM hub_licenses WHERE holder_key LIKE '%110%'"),
        0
    );

    // Revoked in the county: the hub's directory says so within seconds, and a lookup
    // anywhere gives the owner's new status.
    revoke(&county, &id);
    eventually(
        Duration::from_secs(5),
        "the hub's directory has the revocation",
        || {
            (hub.count("SELECT COUNT(*) FROM hub_status_changes WHERE status = 'revoked'") == 1)
                .then_some(())
        },
    );
    let (_, v) = hub.locate(&id);
    assert_eq!(v["status"], "revoked", "{v}");

    // Every parent witnesses its child: the county's published checkpoint carries a
    // cosignature line of the city's witness key (admission made the city its witness).
    let city_doc: Value =
        serde_json::from_str(&http_get(city.port, "/.well-known/elicense-node").unwrap().1)
            .unwrap();
    let witness_name = city_doc["witness_key"]
        .as_str()
        .unwrap()
        .split('+')
        .next()
        .unwrap()
        .to_owned();
    eventually(
        Duration::from_secs(30),
        "the county's checkpoint is co-signed",
        || {
            let (_, cp) = http_get(county.port, "/log/checkpoint")?;
            cp.lines()
                .any(|l| l.starts_with(&format!("\u{2014} {witness_name} ")))
                .then_some(())
        },
    );

    // Every node reported upward is known at the hub.
    let nodes = run(&["federation", "nodes", "--data", hub.dir.data()]);
    nodes.ok();
    let urls: Vec<String> = nodes
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["url"].as_str().unwrap().to_owned())
        .collect();
    for m in [&beijing, &city, &county, &sichuan] {
        assert!(urls.contains(&m.url()), "{} in {urls:?}", m.name);
    }

    // The hub's signed trust list names every node and the county's issuer; each node
    // serves the copy it refreshed from its parent.
    let list =
        eventually(
            Duration::from_secs(30),
            "the other province serves a list naming the county and its issuer",
            || {
                sichuan.trust_list().filter(|l| {
                    let nodes = l["nodes"].as_array().unwrap();
                    nodes.iter().any(|n| n["url"] == county.url())
                        && l["issuers"].as_array().unwrap().iter().any(|i| {
                            i["code"] == BEIJING_TRAFFIC_POLICE && i["node"] == county.url()
                        })
                })
            },
        );
    assert_eq!(list["iss"], hub.url());
    for m in [&hub, &beijing, &city, &county] {
        let l = eventually(Duration::from_secs(30), m.name, || m.trust_list());
        assert_eq!(l["iss"], hub.url(), "{}", m.name);
    }

    // A restarted hub numbers its next list above every one before; the other province
    // takes it (a lower number would be refused as a rollback).
    let before = hub.trust_list().unwrap()["seq"].as_u64().unwrap();
    let mut hub = hub;
    hub.kill9();
    hub.start();
    let after = eventually(
        Duration::from_secs(30),
        "the restarted hub publishes",
        || {
            hub.trust_list()
                .and_then(|l| l["seq"].as_u64())
                .filter(|s| *s > before)
        },
    );
    eventually(
        Duration::from_secs(30),
        "the other province holds the new list",
        || {
            sichuan
                .trust_list()
                .filter(|l| l["seq"].as_u64() >= Some(after))
        },
    );
}

/// A CSV of `n` driving licences (holders `from..from + n`).
fn csv(from: u32, n: u32) -> String {
    let mut csv = "type,issuer,holder_name,holder_id,sex,nationality,birth_date,address,first_issue_date,vehicle_class,file_number\n".to_owned();
    for i in from..from + n {
        let id = resident_id(i);
        let (sex, birth) = derived(&id);
        csv.push_str(&format!(
            "{DRIVING_LICENSE},{BEIJING_TRAFFIC_POLICE},持证人{i},{id},{sex},中国,{birth},北京市朝阳区示例路{i}号,2010-06-15,C1,{:012}\n",
            110_100_000_000u64 + i as u64
        ));
    }
    csv
}

fn import(county: &Member, from: u32, n: u32, name: &str) {
    let path = county.dir.path(name);
    std::fs::write(&path, csv(from, n)).unwrap();
    county
        .dir
        .run(&["import", "--csv", path.to_str().unwrap()])
        .ok();
}

/// Licenses in `m`'s directory.
fn directory_size(m: &Member) -> i64 {
    m.count("SELECT COUNT(*) FROM hub_licenses")
}

#[test]
fn a_city_killed_mid_sync_and_a_hub_that_is_down_lose_and_duplicate_nothing() {
    let (mut hub, beijing, mut city, county, _sichuan) = network();
    import(&county, 100, 3000, "a.csv");
    // Kill the city while the county's entries pass through it, then restart it.
    eventually(Duration::from_secs(60), "the city receives entries", || {
        (city.count("SELECT COUNT(*) FROM hub_licenses") > 0).then_some(())
    });
    city.kill9();
    std::thread::sleep(Duration::from_millis(300));
    city.start();
    // Take the hub down; the province keeps what it cannot pass on.
    eventually(Duration::from_secs(60), "the hub receives entries", || {
        (directory_size(&hub) > 0).then_some(())
    });
    hub.kill9();
    import(&county, 5000, 500, "b.csv");
    eventually(
        Duration::from_secs(90),
        "the province holds all 3500",
        || (directory_size(&beijing) == 3500).then_some(()),
    );
    assert!(
        beijing.count("SELECT COUNT(*) FROM fed_outbox") >= 3500,
        "the province queued what the hub has not acknowledged"
    );
    hub.start();
    eventually(Duration::from_secs(90), "the hub catches up", || {
        (directory_size(&hub) == 3500).then_some(())
    });
    // Nothing lost, nothing twice: every node holds each license once, and each parent's
    // copy of its child's log is the child's whole log.
    for m in [&city, &beijing, &hub] {
        assert_eq!(directory_size(m), 3500, "{}", m.name);
        assert_eq!(
            m.count("SELECT COUNT(DISTINCT identifier) FROM hub_licenses"),
            3500,
            "{}",
            m.name
        );
    }
    let county_log = county.count("SELECT COUNT(*) FROM log_entries");
    assert_eq!(
        city.count("SELECT size FROM fed_children"),
        county_log,
        "the city holds the county's whole log"
    );
    assert_eq!(
        beijing.count("SELECT COUNT(*) FROM fed_outbox"),
        3500,
        "each entry entered the province's outbox once"
    );
}

#[test]
fn a_county_that_rewrites_its_log_is_refused_as_a_fork() {
    let (_hub, _beijing, city, mut county, _sichuan) = network();
    let first = issue(&county, 1);
    eventually(
        Duration::from_secs(60),
        "the city has the first license",
        || (city.locate(&first).0 == 200).then_some(()),
    );
    // The county loses its database and starts a new history under the same keys.
    county.kill9();
    for f in ["elicense.db", "elicense.db-wal", "elicense.db-shm"] {
        let _ = std::fs::remove_file(county.dir.dir.join(f));
    }
    let catalogue = sample_catalogue();
    county
        .dir
        .run(&["catalogue", "--load", catalogue.to_str().unwrap()])
        .ok();
    county
        .dir
        .run(&["keygen", "--issuer", BEIJING_TRAFFIC_POLICE, "--alg", "sm2"])
        .ok();
    for n in 10..14 {
        issue(&county, n);
    }
    county.start();
    let metrics = eventually(Duration::from_secs(60), "the city reports the fork", || {
        let (_, body) = http_get(city.port, "/metrics")?;
        body.lines()
            .any(|l| l.starts_with("elicense_federation_forks_total") && !l.ends_with(" 0"))
            .then_some(body)
    });
    assert!(metrics.contains(&county.url()), "the fork names the county");
    // Nothing of the rewritten history entered the city's directory.
    assert_eq!(city.count("SELECT COUNT(*) FROM hub_licenses"), 1);
}

/// The Citus cluster's URL (`scripts/test.sh` exports what `scripts/citus.sh` prints); under
/// `CI=true` it must be set, elsewhere the script's default is used.
fn citus_url() -> String {
    match std::env::var("ELICENSE_TEST_CITUS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("ELICENSE_TEST_CITUS_URL is not set: scripts/test.sh starts the cluster")
        }
        _ => "postgres://postgres@127.0.0.1:9700/test".to_owned(),
    }
}

/// Runs `sql` on the Citus coordinator (a runtime of its own: these tests are synchronous).
fn citus_sql(sql: &str) -> Vec<tokio_postgres::Row> {
    let url = citus_url();
    let sql = sql.to_owned();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| {
                    panic!("no Citus cluster at {url} ({e}): run scripts/citus.sh")
                });
            tokio::spawn(conn);
            c.query(&sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
}

/// Drops the hub's schema on the cluster when the test ends.
struct CitusSchema(String);

impl Drop for CitusSchema {
    fn drop(&mut self) {
        citus_sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}

#[test]
fn the_hub_runs_on_a_citus_cluster() {
    let schema = CitusSchema(format!("fedhub_{}_{}", std::process::id(), free_port()));
    let database = format!("{}?schema={}", citus_url(), schema.0);
    let mut hub = Member::new("hub", "100000", "national", None);
    let mut beijing = Member::new("beijing", "110000", "province", Some(&hub));
    let mut county = Member::new("county", "110105", "county", Some(&beijing));
    county.dir = std::mem::replace(&mut county.dir, DataDir::empty())
        .setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    for m in [&beijing, &county] {
        m.pin_with(&hub, &["--database", &database]);
    }
    let listen = format!("127.0.0.1:{}", hub.port);
    hub.server = Some(Server::start(
        command(&[
            "serve",
            "--data",
            hub.dir.data(),
            "--database",
            &database,
            "--listen",
            &listen,
        ]),
        hub.dir.tmp.path(),
        "hub",
        hub.port,
    ));
    beijing.start();
    county.start();
    run(&[
        "federation",
        "admit",
        "--data",
        hub.dir.data(),
        "--database",
        &database,
        "--url",
        &beijing.url(),
    ])
    .ok();
    beijing.admit(&county);

    let ids: Vec<String> = (1..=3).map(|n| issue(&county, n)).collect();
    for id in &ids {
        let loc = eventually(Duration::from_secs(60), "the Citus hub knows it", || {
            let (s, v) = hub.locate(id);
            (s == 200).then_some(v)
        });
        assert_eq!(loc["node"], county.url());
    }
    // The rows are in the distributed tables, each license on the shard of its lineage. The
    // hub may locate a license through the trust list's issuer node before the sync that
    // writes its row has arrived, so the rows are awaited, not expected at once.
    let (n, shards) = eventually(
        Duration::from_secs(60),
        "the three rows in hub_licenses",
        || {
            let rows = citus_sql(&format!(
                "SELECT count(*)::bigint, count(DISTINCT get_shard_id_for_distribution_column(\
                 '{0}.hub_licenses', lineage))::bigint FROM {0}.hub_licenses",
                schema.0
            ));
            let (n, shards): (i64, i64) = (rows[0].get(0), rows[0].get(1));
            (n == 3).then_some((n, shards))
        },
    );
    assert_eq!(n, 3);
    assert!(shards >= 1);
    let dist = citus_sql(&format!(
        "SELECT count(*)::bigint FROM pg_dist_partition WHERE logicalrelid::text IN \
         ('{0}.hub_licenses', '{0}.hub_holders', '{0}.hub_status_changes')",
        schema.0
    ));
    assert_eq!(
        dist[0].get::<_, i64>(0),
        3,
        "the hub tables are distributed"
    );

    revoke(&county, &ids[0]);
    eventually(
        Duration::from_secs(5),
        "the Citus hub sees the revocation",
        || (hub.locate(&ids[0]).1["status"] == "revoked").then_some(()),
    );
}

#[test]
fn demo_federation_starts_five_nodes_and_gathers_their_licenses_at_the_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fed");
    let port = free_port();
    // The demo takes five consecutive ports from PORT; a port taken meanwhile fails the start.
    let mut demo = Running::spawn(
        command(&[
            "demo",
            "--federation",
            "--data",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ]),
        tmp.path(),
        "demo",
    );
    let file = dir.join("federation.json");
    let fed: Value = eventually(Duration::from_secs(120), "federation.json", || {
        if let Some(code) = demo.exited() {
            panic!("demo exited with {code}:\n{}", demo.stderr());
        }
        serde_json::from_str(&std::fs::read_to_string(&file).ok()?).ok()
    });
    let nodes = fed["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    let levels: Vec<&str> = nodes.iter().map(|n| n["level"].as_str().unwrap()).collect();
    for l in ["national", "province", "city", "county"] {
        assert!(levels.contains(&l), "{levels:?}");
    }
    // Every issuing node's API keys are in the file, and its licenses reach the hub.
    let county = nodes.iter().find(|n| n["level"] == "county").unwrap();
    assert!(county["issuers"][0]["api_key"]
        .as_str()
        .unwrap()
        .starts_with("elk_"));
    let db =
        rusqlite::Connection::open(county["data"].as_str().unwrap().to_owned() + "/elicense.db")
            .unwrap();
    let id: String = db
        .query_row("SELECT identifier FROM licenses LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let loc = eventually(
        Duration::from_secs(60),
        "the hub knows the county's license",
        || {
            let (s, body) = http_get(port, &format!("/federation/v1/directory/{id}"))?;
            (s == 200).then(|| serde_json::from_str::<Value>(&body).unwrap())
        },
    );
    assert_eq!(loc["node"], county["url"]);
    assert!(
        demo.stdout().contains("federation.json"),
        "{}",
        demo.stdout()
    );
    // Stopped as a service manager stops it (SIGTERM), the demo stops its five nodes too:
    // none is left running (before, every node outlived it).
    demo.signal("TERM");
    assert_eq!(demo.wait(Duration::from_secs(30)), 0, "{}", demo.stderr());
    for n in nodes {
        let url = n["url"].as_str().unwrap();
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        assert!(!http_ok(port, "/healthz"), "{url} still answers");
    }
}

#[test]
fn a_county_license_verifies_in_the_other_province_and_its_revocation_is_seen_there() {
    let (_hub, _beijing, _city, county, sichuan) = network();
    let out = county
        .dir
        .issue_driving("持证人2", &resident_id(2), &["--json"]);
    out.ok();
    let issued = out.json();
    let id = issued["identifier"].as_str().unwrap().to_owned();
    let credential = issued["credential"].as_str().unwrap().to_owned();
    let verify = || run_stdin(&["verify", "--node", &sichuan.url()], &credential).json();

    // Once the hub's trust list names the county's issuer key, Sichuan verifies it, with the
    // status read from the county's own status list ("who issues, verifies").
    let verdict = eventually(
        Duration::from_secs(60),
        "Sichuan verifies the county's license",
        || {
            let v = verify();
            (v["valid"] == true).then_some(v)
        },
    );
    assert_eq!(verdict["identifier"], id);
    assert_eq!(verdict["status_source"]["node"], county.url(), "{verdict}");

    // Revoked in the county: a verifier in the other province sees it within 5 s.
    revoke(&county, &id);
    let refused = eventually(
        Duration::from_secs(5),
        "Sichuan sees the revocation",
        || {
            let v = verify();
            (v["valid"] == false).then_some(v)
        },
    );
    let codes: Vec<&str> = refused["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().any(|c| c.starts_with("status.")), "{refused}");
}

/// `elicense seal SUB --data DIR ARGS…` at `m`, which must succeed.
fn seal_cmd(m: &Member, sub: &str, rest: &[&str]) -> Out {
    let mut args = vec!["seal", sub, "--data", m.dir.data()];
    args.extend_from_slice(rest);
    let out = run(&args);
    out.ok();
    out
}

/// Each signature's (status now, problems) in `elicense seal verify`'s verdict.
fn seal_states(v: &Value) -> Vec<(String, Vec<String>)> {
    v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let problems = s["problems"].as_array().unwrap();
            (
                s["status_now"].as_str().unwrap_or("").to_owned(),
                problems
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// "Who signs, verifies" across the network: a PDF sealed in the county verifies in the other
/// province, its seals' certificates trusted through the hub's trust list and their status
/// read from the county's revocation lists, live: suspended, reinstated, revoked; and a county
/// that does not answer leaves the status unavailable, not valid.
#[test]
fn a_county_seal_verifies_in_the_other_province_with_its_status_from_the_county() {
    let (_hub, _beijing, _city, mut county, sichuan) = network();
    let sm = seal_cmd(
        &county,
        "create",
        &[
            "--owner",
            BEIJING_TRAFFIC_POLICE,
            "--kind",
            "contract",
            "--name",
            "北京市公安局公安交通管理局合同专用章",
        ],
    )
    .json()["seal_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let es = seal_cmd(
        &county,
        "create",
        &[
            "--owner",
            BEIJING_SAMR,
            "--kind",
            "official",
            "--name",
            "北京市市场监督管理局",
            "--alg",
            "es256",
        ],
    )
    .json()["seal_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let classic = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pdfsign/testdata/ten-pages-classic.pdf");
    let sealed = county.dir.path("sealed.pdf");
    let sealed = sealed.to_str().unwrap();
    seal_cmd(
        &county,
        "sign",
        &[
            "--seal",
            &sm,
            "--seal",
            &es,
            "--page",
            "1",
            "--page",
            "2",
            "--in",
            classic.to_str().unwrap(),
            "--out",
            sealed,
        ],
    );
    let verify = || {
        let out = run(&["seal", "verify", "--node", &sichuan.url(), sealed]);
        assert!(matches!(out.code, 0 | 1), "{}", out.stderr);
        out.json()
    };
    let active = || (String::from("active"), Vec::<String>::new());

    // The county's node document names its seal CAs; once the hub's trust list carries them,
    // Sichuan trusts the county's seals and asks the county for their status.
    let (_, doc) = http_get(county.port, "/.well-known/elicense-node").unwrap();
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["seal_cas"]["sm2"].is_string() && doc["seal_cas"]["es256"].is_string());
    let v = eventually(
        Duration::from_secs(60),
        "Sichuan verifies the county's seals",
        || {
            let v = verify();
            (v["valid"] == true).then_some(v)
        },
    );
    assert_eq!(seal_states(&v), [active(), active()], "{v}");
    let listed = sichuan.trust_list().unwrap();
    let entry = listed["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["url"] == county.url())
        .unwrap()
        .clone();
    assert_eq!(entry["seal_cas"], doc["seal_cas"]);

    // Suspended in the county: on hold in its revocation list, seen in Sichuan at once. (A
    // second after the sealing: times are whole seconds, and a seal used in the second it was
    // suspended counts as used while suspended.)
    std::thread::sleep(Duration::from_millis(1100));
    seal_cmd(&county, "suspend", &["--seal", &sm]);
    let v = verify();
    assert_eq!(v["valid"], false);
    assert_eq!(
        seal_states(&v),
        [
            ("suspended".to_owned(), vec!["chain.revoked".to_owned()]),
            active()
        ],
        "{v}"
    );
    seal_cmd(&county, "reinstate", &["--seal", &sm]);
    assert_eq!(verify()["valid"], true);

    // Revoked: no use of it is valid any more.
    seal_cmd(&county, "revoke", &["--seal", &es]);
    let v = verify();
    assert_eq!(
        seal_states(&v),
        [
            active(),
            (
                "revoked".to_owned(),
                vec!["chain.revoked".to_owned(), "seal.revoked".to_owned()]
            )
        ],
        "{v}"
    );

    // The county down: Sichuan cannot know the status now and says so.
    county.kill9();
    let v = verify();
    assert_eq!(v["valid"], false);
    for (status, problems) in seal_states(&v) {
        assert_eq!(status, "unknown", "{v}");
        assert!(
            problems.contains(&"seal.status_unavailable".to_owned()),
            "{v}"
        );
    }
}
