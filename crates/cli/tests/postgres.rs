//! The `elicense` binary on PostgreSQL (`--database postgres://…`), as child processes: demo
//! and serve, issue by CLI and verify over HTTP, lifecycle, import with resume, `db migrate`
//! and `db status`; and an outage: a throw-away PostgreSQL cluster SIGKILLed mid-import and
//! restarted, with the node reporting `store.unavailable` (HTTP 503) and recovering by itself.
//!
//! Each test uses a schema of its own in the shared server (`ELICENSE_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`), dropped at the end. The outage test
//! never touches that server: it runs its own cluster (initdb) on another port.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn base_url() -> String {
    std::env::var("ELICENSE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn fresh_schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "cli_{:x}_{:x}_{}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn raw(conninfo: &str) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {conninfo} is needed for these tests: {e}"));
    tokio::spawn(conn);
    c
}

/// A data dir (config, secrets) whose store is a fresh schema; the schema is dropped on drop.
struct PgNode {
    d: DataDir,
    conninfo: String,
    schema: String,
    url: String,
}

impl PgNode {
    fn new(conninfo: &str, base_url: Option<&str>) -> PgNode {
        let schema = fresh_schema();
        let sep = if conninfo.contains('?') { '&' } else { '?' };
        PgNode {
            d: match base_url {
                Some(u) => DataDir::with_base_url(u),
                None => DataDir::empty(),
            },
            url: format!("{conninfo}{sep}schema={schema}"),
            conninfo: conninfo.to_owned(),
            schema,
        }
    }

    /// `elicense WORDS… --data DIR --database URL REST…` (`words` subcommand words).
    fn args<'a>(&'a self, words: usize, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = args[..words].to_vec();
        v.extend(["--data", self.d.data(), "--database", &self.url]);
        v.extend_from_slice(&args[words..]);
        v
    }

    fn run(&self, args: &[&str]) -> Out {
        run(&self.args(1, args))
    }

    fn setup(&self, keys: &[(&str, &str)]) {
        let catalogue = sample_catalogue();
        self.run(&["catalogue", "--load", catalogue.to_str().unwrap()])
            .ok();
        for (issuer, alg) in keys {
            self.run(&["keygen", "--issuer", issuer, "--alg", alg]).ok();
        }
    }

    fn apikey(&self, issuer: &str) -> String {
        let out = self.run(&["apikey", "--issuer", issuer]);
        out.ok();
        out.stdout.trim().to_string()
    }

    fn issue_driving(&self, name: &str, id: &str) -> Out {
        let fields: Vec<String> = driving_fields(id)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut args = vec![
            "issue",
            "--type",
            DRIVING_LICENSE,
            "--issuer",
            BEIJING_TRAFFIC_POLICE,
            "--holder-name",
            name,
            "--holder-id",
            id,
            "--json",
        ];
        for f in &fields {
            args.extend(["--field", f.as_str()]);
        }
        self.run(&args)
    }

    fn server(&self, what: &str, port: u16) -> Server {
        let listen = format!("127.0.0.1:{port}");
        let args = self.args(1, &[what, "--listen", &listen]);
        let mut proc = Running::spawn(command(&args), self.d.tmp.path(), what);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(90);
        while !http_ok(port, "/healthz") {
            if let Some(code) = proc.exited() {
                panic!("{what} exited with {code}:\n{}", proc.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "{what} not ready:\n{}",
                proc.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { proc, url }
    }

    async fn count(&self, sql: &str) -> i64 {
        let c = raw(&self.conninfo).await;
        c.batch_execute(&format!("SET search_path TO {}", self.schema))
            .await
            .unwrap();
        c.query_one(sql, &[]).await.unwrap().get(0)
    }
}

impl Drop for PgNode {
    fn drop(&mut self) {
        let (conninfo, schema) = (self.conninfo.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((c, conn)) =
                    tokio_postgres::connect(&conninfo, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            })
        })
        .join();
    }
}

/// Verifies over HTTP until `valid` is as expected (status lists follow changes within a
/// second), up to 5 s; returns the last verdict.
async fn verify_until(url: &str, credential: &str, valid: bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v = verify_http(url, credential).await;
        if v["valid"] == valid || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_status_and_migrate_on_both_back_ends() {
    let n = PgNode::new(&base_url(), None);
    let out = run(&n.args(2, &["db", "status", "--json"]));
    out.expect_code(1); // pending migrations
    let v = out.json();
    assert_eq!(v["backend"], "postgres");
    assert_eq!(v["current"], 0);
    let latest = v["latest"].as_u64().unwrap();
    assert!(latest >= 3, "{v}");
    assert_eq!(v["pending"].as_array().unwrap().len() as u64, latest);
    let out = run(&n.args(2, &["db", "migrate", "--json"]));
    out.ok();
    assert_eq!(out.json()["applied_now"], json!(latest));
    let out = run(&n.args(2, &["db", "status", "--json"]));
    out.ok();
    let v = out.json();
    assert_eq!(v["current"], json!(latest));
    assert_eq!(v["pending"], json!([]));
    assert_eq!(v["applied"].as_array().unwrap().len() as u64, latest);
    assert!(v["applied"][0]["applied_at"].as_i64().unwrap() > 0);
    // Idempotent.
    let out = run(&n.args(2, &["db", "migrate", "--json"]));
    assert_eq!(out.json()["applied_now"], 0);

    // SQLite (the data dir's file, and sqlite://PATH).
    let d = DataDir::empty();
    let out = run(&["db", "status", "--data", d.data(), "--json"]);
    out.expect_code(1);
    assert_eq!(out.json()["backend"], "sqlite");
    run(&["db", "migrate", "--data", d.data(), "--json"]).ok();
    let out = run(&["db", "status", "--data", d.data(), "--json"]);
    out.ok();
    assert_eq!(out.json()["pending"], json!([]));
    let file = d.path("other.db");
    let url = format!("sqlite://{}", file.display());
    run(&["db", "migrate", "--data", d.data(), "--database", &url]).ok();
    assert!(file.exists());

    // A database URL that is neither.
    let out = run(&[
        "db",
        "status",
        "--data",
        d.data(),
        "--database",
        "mysql://x",
        "--json",
    ]);
    out.expect_code(2);
    assert_eq!(
        out.stderr_json()["error"]["code"],
        "config.unsupported_database"
    );
}

/// `demo --database postgres://…` seeds PostgreSQL and serves it; licenses issued by the CLI
/// verify over HTTP; lifecycle actions by CLI show over HTTP; `serve` on the same schema later
/// finds everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serve_issue_verify_lifecycle_on_postgres() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let n = PgNode::new(&base_url(), Some(&url));
    let demo = n.server("demo", port);
    let banner = demo.proc.stdout();
    assert!(banner.contains("Sample licenses"), "{banner}");
    let seeded = n.count("SELECT count(*) FROM licenses").await;
    assert!(seeded > 0, "demo seeded PostgreSQL");
    // Nothing went to a SQLite file in the data dir.
    assert!(
        !n.d.db().exists(),
        "no SQLite file with --database postgres://"
    );

    let out = n.issue_driving("张伟", &resident_id(1));
    out.ok();
    let issued = out.json();
    let id = issued["identifier"].as_str().unwrap().to_owned();
    let credential = issued["credential"].as_str().unwrap().to_owned();
    let v = verify_http(&url, &credential).await;
    assert_eq!(v["valid"], true, "{v}");

    n.run(&["suspend", &id, "--reason", "年检未通过"]).ok();
    let v = verify_until(&url, &credential, false).await;
    assert_eq!(v["valid"], false, "{v}");
    let status = n.run(&["status", &id]);
    status.ok();
    assert!(status.stdout.contains("suspended"), "{}", status.stdout);
    n.run(&["reinstate", &id]).ok();
    let v = verify_until(&url, &credential, true).await;
    assert_eq!(v["valid"], true, "{v}");
    let out = n.run(&[
        "change",
        &id,
        "--field",
        "address=北京市朝阳区新地址2号",
        "--json",
    ]);
    out.ok();
    assert_eq!(
        n.count("SELECT count(*) FROM licenses").await,
        seeded + 2,
        "issued + changed version"
    );
    drop(demo);

    // `serve` on the same schema: everything is there, and the API issues too.
    let server = n.server("serve", port);
    let key = n.apikey(BEIJING_TRAFFIC_POLICE);
    let resp = http()
        .post(format!("{}/api/v1/licenses", server.url))
        .bearer_auth(&key)
        .json(&json!({
            "type_code": DRIVING_LICENSE, "issuer": BEIJING_TRAFFIC_POLICE,
            "holder_name": "李娜", "holder_id": resident_id(2), "fields": driving_fields_json(&resident_id(2)),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let v = verify_until(&server.url, &credential, false).await;
    assert_eq!(v["valid"], false, "superseded by the change: {v}");
    let out = run(&n.args(2, &["db", "status", "--json"]));
    out.ok();
}

fn import_csv(path: &Path, rows: u32) {
    let mut csv = String::from("type,issuer,holder_name,holder_id,sex,nationality,birth_date,address,first_issue_date,vehicle_class,file_number\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "{DRIVING_LICENSE},{BEIJING_TRAFFIC_POLICE},持证人{i},{},{},中国,{},北京市东城区示例路{i}号,2010-06-15,C1,{:012}\n",
            resident_id(i),
            derived(&resident_id(i)).0,
            derived(&resident_id(i)).1,
            110_100_000_000u64 + u64::from(i)
        ));
    }
    csv.push_str(&format!(
        "{DRIVING_LICENSE},{BEIJING_TRAFFIC_POLICE},坏行,{},男,中国,1980-01-01,x,2010-06-15,C1,1\n",
        bad_check(&resident_id(rows))
    ));
    std::fs::write(path, csv).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_into_postgres_resumes() {
    let n = PgNode::new(&base_url(), None);
    n.setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let csv = n.d.path("rows.csv");
    import_csv(&csv, 120);
    let out = n.run(&[
        "import",
        "--csv",
        csv.to_str().unwrap(),
        "--alg",
        "ed25519",
        "--json",
    ]);
    out.expect_code(1); // one bad row
    let s = out.json();
    assert_eq!(
        (s["issued"].as_u64(), s["failed"].as_u64()),
        (Some(120), Some(1))
    );
    let report = std::fs::read_to_string(format!("{}.errors.csv", csv.display())).unwrap();
    assert!(report.contains("resident_id.bad_check"), "{report}");
    // A rerun resumes: nothing issued twice.
    let out = n.run(&[
        "import",
        "--csv",
        csv.to_str().unwrap(),
        "--alg",
        "ed25519",
        "--json",
    ]);
    let s = out.json();
    assert_eq!(s["resumed"].as_u64(), Some(121));
    assert_eq!(n.count("SELECT count(*) FROM licenses").await, 120);
    assert_eq!(
        n.count("SELECT count(*) FROM events WHERE kind = 'issue'")
            .await,
        120
    );
}

/// `bench lookup` fills a store to `--entries` through its own insert and finds every license it
/// looks up, on PostgreSQL and SQLite alike; run again on the same store it adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_lookup_fills_once_and_finds_every_license_on_both_back_ends() {
    let n = PgNode::new(&base_url(), None);
    let sqlite = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", sqlite.path().join("bench.db").display());
    for url in [n.url.as_str(), sqlite_url.as_str()] {
        for run_no in 0..2 {
            let mut args = vec![
                "bench",
                "lookup",
                "--database",
                url,
                "--entries",
                "300",
                "--count",
                "400",
                "--json",
            ];
            // The second run on PostgreSQL reads the lookup path's indexes first.
            let prewarm = run_no == 1 && url.starts_with("postgres");
            if prewarm {
                args.push("--prewarm");
            }
            let out = run(&args);
            out.ok();
            let v = out.json();
            if prewarm {
                // Both primary keys, 16 partitions each, at least one block each.
                assert_eq!(v["prewarmed"]["indexes"].as_u64(), Some(32), "{v}");
                assert!(
                    v["prewarmed"]["bytes"].as_u64().unwrap() >= 32 * 8192,
                    "{v}"
                );
            } else {
                assert!(v["prewarmed"].is_null(), "{v}");
            }
            assert_eq!(v["licenses"].as_u64(), Some(300), "{url} run {run_no}: {v}");
            assert_eq!(v["lookups"].as_u64(), Some(400), "{v}");
            assert_eq!(
                v["misses"].as_u64(),
                Some(0),
                "{url}: every serial is a license: {v}"
            );
            let (p50, p99) = (&v["lookup_ms"]["p50"], &v["lookup_ms"]["p99"]);
            assert!(p50.as_f64().unwrap() > 0.0, "{v}");
            assert!(p99.as_f64().unwrap() >= p50.as_f64().unwrap(), "{v}");
            assert!(v["floor_ms"]["p99"].as_f64().unwrap() > 0.0, "{v}");
        }
    }
    assert_eq!(n.count("SELECT count(*) FROM licenses").await, 300);
    assert_eq!(n.count("SELECT count(*) FROM events").await, 300);
    // pg_prewarm reads PostgreSQL's indexes; asked of SQLite, the benchmark says so.
    let out = run(&[
        "bench",
        "lookup",
        "--database",
        &sqlite_url,
        "--entries",
        "300",
        "--count",
        "10",
        "--prewarm",
        "--json",
    ]);
    out.expect_code(2);
    assert_eq!(
        out.stderr_json()["error"]["code"],
        "bench.prewarm",
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Outage: a throw-away cluster of our own.

/// A PostgreSQL cluster in a temporary directory on its own port, run as the `postgres` user
/// when the tests run as root (initdb refuses root). Stopped (immediate) and removed on drop.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    fn find_bin() -> Option<PathBuf> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        versions.sort();
        versions.pop()
    }

    fn cmd(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn start_new() -> Option<Cluster> {
        let bin = Cluster::find_bin()?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("elicense-pg-")
            .tempdir()
            .ok()?;
        let c = Cluster {
            port: free_port(),
            bin,
            as_postgres,
            dir,
        };
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres", c.dir.path().to_str().unwrap()])
                .status()
                .ok()?
                .success();
            assert!(ok, "chown the cluster dir to postgres");
        }
        let out = c
            .cmd("initdb")
            .args([
                "-D",
                c.data().to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        c.start();
        Some(c)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn conninfo(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let out = self
            .cmd("pg_ctl")
            .args([
                "-D",
                self.data().to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// SIGKILL the postmaster and every backend of this cluster (by pid: children of the
    /// postmaster only), as a crash would.
    fn kill9(&self) {
        let pid_file = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        let pm: i32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
        let mut pids = vec![pm];
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // Fields after the `(comm)`: state, ppid, ...
            let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            let ppid: i32 = after
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            if ppid == pm {
                pids.push(pid);
            }
        }
        for pid in &pids {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        // Wait until they are gone, so that a restart does not find them.
        let deadline = Instant::now() + Duration::from_secs(30);
        while pids
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
        {
            assert!(
                Instant::now() < deadline,
                "postgres processes survived SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .args([
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

async fn http_json(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// PostgreSQL SIGKILLed mid-import: the import stops with `store.unavailable`, the running
/// node answers 503 `store.unavailable` (and /healthz 503), and once the server is back the node
/// recovers without a restart; rerunning the import finishes it with no acknowledged row lost
/// and none issued twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_import_loses_nothing_and_node_recovers() {
    // No silent skip: without the server binaries this test fails (scripts/postgres.sh
    // installs them).
    let cluster = Cluster::start_new().expect(
        "cannot start a cluster of our own: are the PostgreSQL server binaries (initdb) under \
         /usr/lib/postgresql? scripts/postgres.sh installs them",
    );
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let n = PgNode::new(&cluster.conninfo(), Some(&url));
    n.setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let key = n.apikey(BEIJING_TRAFFIC_POLICE);
    let server = n.server("serve", port);
    let rows = 3000;
    let csv = n.d.path("rows.csv");
    import_csv(&csv, rows);
    let mut import = Running::spawn(
        command(&n.args(
            1,
            &[
                "import",
                "--csv",
                csv.to_str().unwrap(),
                "--alg",
                "ed25519",
                "--json",
            ],
        )),
        n.d.tmp.path(),
        "import1",
    );
    // Let it journal some rows, then crash the database.
    let deadline = Instant::now() + Duration::from_secs(120);
    let before: Vec<(i64, String)> = loop {
        let c = raw(&cluster.conninfo()).await;
        let q = format!(
            "SELECT row, identifier FROM {}.import_rows WHERE identifier IS NOT NULL",
            n.schema
        );
        let got: Vec<(i64, String)> = match c.query(&q, &[]).await {
            Ok(r) => r.iter().map(|r| (r.get(0), r.get(1))).collect(),
            Err(_) => Vec::new(),
        };
        if got.len() >= 200 {
            break got;
        }
        assert!(
            import.exited().is_none(),
            "import finished before the crash: {}",
            import.stderr()
        );
        assert!(
            Instant::now() < deadline,
            "import too slow: {}",
            import.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    cluster.kill9();

    let code = import.wait(Duration::from_secs(120));
    assert_eq!(code, 2, "import fails: {}", import.stderr());
    let err: Value = serde_json::from_str(import.stderr().trim().lines().last().unwrap()).unwrap();
    assert_eq!(err["error"]["code"], "store.unavailable", "{err}");

    // The node says so: /healthz and the API answer 503 store.unavailable.
    let (status, body) = http_json(http().get(format!("{url}/healthz"))).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "store.unavailable");
    // A code only: the store's own error text (hosts, errors of the driver) stays in the log.
    assert!(
        !body.to_string().contains("storage unavailable"),
        "/healthz leaks the store's error: {body}"
    );
    let issue = || {
        http()
            .post(format!("{url}/api/v1/licenses"))
            .bearer_auth(&key)
            .json(&json!({
                "type_code": DRIVING_LICENSE, "issuer": BEIJING_TRAFFIC_POLICE,
                "holder_name": "王芳", "holder_id": resident_id(90_000), "fields": driving_fields_json(&resident_id(90_000)),
                "alg": "ed25519",
            }))
    };
    let (status, body) = http_json(issue()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "store.unavailable", "{body}");

    // Back up: the same node process recovers (its pool reconnects).
    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http_ok(port, "/healthz") {
        assert!(
            Instant::now() < deadline,
            "node did not recover: {}",
            server.proc.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, body) = http_json(issue()).await;
    assert_eq!(status, 201, "{body}");

    // Rerun the import: it resumes and finishes.
    let out = n.run(&[
        "import",
        "--csv",
        csv.to_str().unwrap(),
        "--alg",
        "ed25519",
        "--json",
    ]);
    out.expect_code(1); // the one bad row
    let s = out.json();
    assert_eq!(s["issued"].as_u64(), Some(u64::from(rows)), "{s}");
    assert_eq!(s["failed"].as_u64(), Some(1));
    assert!(s["resumed"].as_u64().unwrap() >= before.len() as u64, "{s}");

    let c = raw(&cluster.conninfo()).await;
    c.batch_execute(&format!("SET search_path TO {}", n.schema))
        .await
        .unwrap();
    // Every row acknowledged before the crash is still there, with the same license.
    for (row, id) in &before {
        let r = c
            .query_one("SELECT identifier FROM import_rows WHERE row = $1", &[row])
            .await
            .unwrap();
        assert_eq!(&r.get::<_, String>(0), id);
        let l = c
            .query_one("SELECT count(*) FROM licenses WHERE identifier = $1", &[id])
            .await
            .unwrap();
        assert_eq!(l.get::<_, i64>(0), 1, "{id} survived");
    }
    // Nothing issued twice: one license (and one issue event) per journalled row, plus the
    // one issued over HTTP.
    let one = |sql: &'static str| {
        let c = &c;
        async move { c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(
        one("SELECT count(*) FROM licenses").await,
        i64::from(rows) + 1
    );
    assert_eq!(
        one("SELECT count(*) FROM events WHERE kind = 'issue'").await,
        i64::from(rows) + 1
    );
    assert_eq!(
        one("SELECT count(DISTINCT identifier) FROM import_rows WHERE identifier IS NOT NULL")
            .await,
        i64::from(rows)
    );
    assert_eq!(
        one(
            "SELECT count(*) FROM import_rows r WHERE identifier IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM licenses l WHERE l.identifier = r.identifier)"
        )
        .await,
        0
    );
    drop(server);
}
