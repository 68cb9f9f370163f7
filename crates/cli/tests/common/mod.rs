//! Helpers for the end-to-end tests: they run the real `elicense` binary as child processes on
//! data dirs in temporary directories, and real servers on 127.0.0.1.
//!
//! Every child has a deadline: a hung command fails its test instead of hanging CI.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[allow(unused_imports)]
pub use elicense_core::sample::{
    BEIJING_DONGCHENG_POLICE, BEIJING_SAMR, BEIJING_TRAFFIC_POLICE, BUSINESS_LICENSE,
    DRIVING_LICENSE, RESIDENT_ID_CARD,
};

/// Password for issuer keys and key files in these tests.
pub const KEY_PASSWORD: &str = "e2e-test-password";

/// Longest any one-shot command may take (debug build, busy 2-core CI runner).
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(120);

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_elicense")
}

/// The sample catalogue shipped with elicense-core.
pub fn sample_catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/catalogue/sample.toml")
}

/// A test data file of this crate (`tests/testdata/NAME`).
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(name)
}

/// A command for the binary with a clean environment: no ELICENSE_* from the caller leaks in,
/// and issuer keys use [`KEY_PASSWORD`].
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ELICENSE_") {
            c.env_remove(k);
        }
    }
    c.env("ELICENSE_KEY_PASSWORD", KEY_PASSWORD);
    c.env("ELICENSE_KEYFILE_PASSWORD", KEY_PASSWORD);
    c.env("ELICENSE_LOG", "warn");
    c.env("NO_COLOR", "1");
    c
}

/// What a finished command did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// stdout as JSON (panics with the whole output when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
    }

    /// stderr as JSON (the `{"error":{...}}` form).
    pub fn stderr_json(&self) -> Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}):\n{self:?}"))
    }

    /// Asserts the exit code, showing everything when it is not the expected one.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code:\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts exit 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// Runs `cmd` to completion (with `stdin` as its input), killing it at [`COMMAND_DEADLINE`].
pub fn run_command(mut cmd: Command, stdin: Option<&str>) -> Out {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn elicense");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let input = input.to_string();
        // A writer thread: a child that does not read all of stdin must not block us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + COMMAND_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for elicense") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {COMMAND_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().expect("stderr reader")).into_owned();
    Out {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// Runs `elicense ARGS...`.
pub fn run(args: &[&str]) -> Out {
    run_command(command(args), None)
}

/// Runs `elicense ARGS...` with `stdin` as input.
pub fn run_stdin(args: &[&str], stdin: &str) -> Out {
    run_command(command(args), Some(stdin))
}

/// A data dir in a temporary directory, set up the way a user would.
pub struct DataDir {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl DataDir {
    /// An empty data dir (not created yet: the binary creates it).
    pub fn empty() -> DataDir {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        DataDir { tmp, dir }
    }

    /// A data dir whose public base URL is `base_url` (written before anything is issued).
    pub fn with_base_url(base_url: &str) -> DataDir {
        let d = DataDir::empty();
        std::fs::create_dir_all(&d.dir).expect("create data dir");
        std::fs::write(
            d.dir.join("elicense.toml"),
            format!("base_url = \"{base_url}\"\n"),
        )
        .expect("write elicense.toml");
        d
    }

    /// `elicense catalogue --load sample.toml`, then `keygen` of each (issuer, alg).
    pub fn setup(self, keys: &[(&str, &str)]) -> DataDir {
        let catalogue = sample_catalogue();
        self.run(&["catalogue", "--load", catalogue.to_str().unwrap()])
            .ok();
        for (issuer, alg) in keys {
            let out = self.run(&["keygen", "--issuer", issuer, "--alg", alg]);
            out.ok();
            let jwk = out.json();
            assert!(
                jwk["kid"].is_string(),
                "keygen prints the public JWK: {jwk}"
            );
        }
        self
    }

    pub fn data(&self) -> &str {
        self.dir.to_str().expect("utf-8 temp path")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.join("elicense.db")
    }

    /// Another path in the same temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `elicense SUBCOMMAND --data DIR REST...`.
    pub fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![args[0], "--data", self.data()];
        v.extend_from_slice(&args[1..]);
        v
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run(&self.args(args))
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        run_stdin(&self.args(args), stdin)
    }

    /// `elicense apikey --issuer USCC`: the key printed on stdout.
    pub fn apikey(&self, issuer: &str) -> String {
        let out = self.run(&["apikey", "--issuer", issuer]);
        out.ok();
        let key = out.stdout.trim().to_string();
        assert!(
            !key.is_empty() && !key.contains(char::is_whitespace),
            "one API key on stdout: {out:?}"
        );
        key
    }

    /// `elicense issue --json` of a driving licence for (`name`, `id`); `extra` args appended.
    pub fn issue_driving(&self, name: &str, id: &str, extra: &[&str]) -> Out {
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
        ];
        let fields: Vec<String> = driving_fields(id)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for f in &fields {
            args.push("--field");
            args.push(f);
        }
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Read-only connection to the SQLite database (safe while a child writes: WAL).
    pub fn sql(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_with_flags(
            self.db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open the SQLite database read-only");
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        conn
    }

    /// `SELECT COUNT(*) ...` (or any one-integer query).
    pub fn count(&self, sql: &str) -> i64 {
        self.sql()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Store invariants that must hold at every instant, crash or not: every license has
    /// exactly one `issue` event (an issued license is never without its event, nor the
    /// event without its license).
    #[track_caller]
    pub fn assert_license_event_integrity(&self) {
        let conn = self.sql();
        let orphans: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM licenses l WHERE (SELECT COUNT(*) FROM events e \
                 WHERE e.identifier = l.identifier AND e.kind = 'issue') <> 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0, "licenses without exactly one issue event");
        let stray: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events e WHERE e.kind = 'issue' \
                 AND NOT EXISTS (SELECT 1 FROM licenses l WHERE l.identifier = e.identifier)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stray, 0, "issue events without their license");
    }
}

/// What a resident ID determines for the sample catalogue's `derives` items: (sex, birth
/// date), which must agree with the holder's ID.
pub fn derived(id: &str) -> (&'static str, String) {
    let id = elicense_core::ResidentId::parse(id).expect("a valid resident ID");
    let sex = if id.is_male() { "男" } else { "女" };
    (sex, elicense_core::date::format_date(id.birth_date()))
}

/// The data items of a driving licence (机动车驾驶证) of the sample catalogue for the holder
/// with resident ID `id` (sex and birth date as the ID gives them).
pub fn driving_fields(id: &str) -> Vec<(&'static str, String)> {
    let (sex, birth_date) = derived(id);
    vec![
        ("sex", sex.to_owned()),
        ("nationality", "中国".to_owned()),
        ("birth_date", birth_date),
        ("address", "北京市东城区示例路1号".to_owned()),
        ("first_issue_date", "2010-06-15".to_owned()),
        ("vehicle_class", "C1".to_owned()),
        ("file_number", "110100123456".to_owned()),
    ]
}

/// The driving-licence items for the holder `id` as a JSON object (HTTP API).
pub fn driving_fields_json(id: &str) -> Value {
    Value::Object(
        driving_fields(id)
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect(),
    )
}

/// The GB 11643 check character of a 17-digit body.
pub fn resident_id_check(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    C[(sum % 11) as usize] as char
}

/// A distinct valid resident ID (东城区, born 1950–1999) for each `n` < 504,000.
pub fn resident_id(n: u32) -> String {
    let year = 1950 + (n / 10_080) % 50;
    let month = 1 + (n / 28) % 12;
    let day = 1 + n % 28;
    let seq = (n / 336) % 30 * 10 + 1;
    let body = format!("110101{year}{month:02}{day:02}{seq:03}");
    assert_eq!(body.len(), 17);
    let check = resident_id_check(&body);
    format!("{body}{check}")
}

/// The same ID with a wrong check character.
pub fn bad_check(id: &str) -> String {
    let (body, check) = id.split_at(17);
    let wrong = if check == "1" { '2' } else { '1' };
    format!("{body}{wrong}")
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind :0")
        .local_addr()
        .unwrap()
        .port()
}

/// A long-running child (`serve`, `demo`, `import`), SIGKILLed when dropped; its output goes to
/// files beside the data dir so that nothing blocks on a full pipe.
pub struct Running {
    pub child: Child,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Running {
    pub fn spawn(mut cmd: Command, logs: &Path, name: &str) -> Running {
        let stdout = logs.join(format!("{name}.stdout"));
        let stderr = logs.join(format!("{name}.stderr"));
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        let child = cmd.spawn().expect("spawn elicense");
        Running {
            child,
            stdout,
            stderr,
        }
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Whether the child has exited (and with what code).
    pub fn exited(&mut self) -> Option<i32> {
        self.child
            .try_wait()
            .expect("try_wait")
            .map(|s| s.code().unwrap_or(-1))
    }

    /// Sends the signal `name` (`TERM`, `INT`) with `kill(1)`, as an operator or a service
    /// manager would.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -s {name} failed");
    }

    /// SIGKILL (std's `Child::kill`) and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the child to exit on its own, up to `limit`.
    pub fn wait(&mut self, limit: Duration) -> i32 {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(code) = self.exited() {
                return code;
            }
            if Instant::now() > deadline {
                self.kill9();
                panic!(
                    "child did not finish within {limit:?}\n--- stderr\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `elicense serve` (or `demo`) on 127.0.0.1:`port`, ready when /healthz answers.
pub struct Server {
    pub proc: Running,
    pub url: String,
}

impl Server {
    /// Starts `elicense serve --data DIR --listen 127.0.0.1:PORT` and waits until it answers.
    pub fn serve(data: &DataDir, port: u16, name: &str) -> Server {
        let listen = format!("127.0.0.1:{port}");
        Server::start(
            command(&["serve", "--data", data.data(), "--listen", &listen]),
            data.tmp.path(),
            name,
            port,
        )
    }

    /// Starts `elicense demo --data DIR --listen 127.0.0.1:PORT`.
    pub fn demo(data: &DataDir, port: u16) -> Server {
        let listen = format!("127.0.0.1:{port}");
        Server::start(
            command(&["demo", "--data", data.data(), "--listen", &listen]),
            data.tmp.path(),
            "demo",
            port,
        )
    }

    /// Starts `cmd` (a `serve` or `demo` on 127.0.0.1:`port`) and waits until it answers.
    pub fn start(cmd: Command, logs: &Path, name: &str, port: u16) -> Server {
        let mut proc = Running::spawn(cmd, logs, name);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(code) = proc.exited() {
                panic!(
                    "{name} exited with {code} before serving:\n{}",
                    proc.stderr()
                );
            }
            // Ready when *this* child says it listens on the port (not some other process
            // that took the port meanwhile) and /healthz answers.
            let said = format!("{}{}", proc.stdout(), proc.stderr()).contains(&url);
            if said && http_ok(port, "/healthz") {
                return Server { proc, url };
            }
            if Instant::now() > deadline {
                panic!(
                    "{name} did not answer /healthz within 60 s:\n{}",
                    proc.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Status code and body of `GET path` on 127.0.0.1:`port` (`None` if nothing answers).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::net::TcpStream;
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// A tiny blocking HTTP/1.1 GET without a client library: true on a 200 answer.
pub fn http_ok(port: u16, path: &str) -> bool {
    use std::net::TcpStream;
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 32];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    buf[..got].starts_with(b"HTTP/1.1 200")
}

/// An HTTP client whose requests give up after 30 s.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The verdict of `POST {url}/api/v1/verifications` on a credential.
pub async fn verify_http(url: &str, credential: &str) -> Value {
    http()
        .post(format!("{url}/api/v1/verifications"))
        .header("content-type", "application/dc+sd-jwt")
        .body(credential.to_owned())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// USCC of the car-rental company the tests register.
pub const RENTAL: &str = "91110105MA01B2C3DL";

/// The options of `institution add` that register the car-rental company (matter
/// `car_rental`).
pub const RENTAL_ADD: [&str; 8] = [
    "--code",
    RENTAL,
    "--name",
    "示例汽车租赁有限公司",
    "--area",
    "110105",
    "--matter",
    "car_rental",
];
