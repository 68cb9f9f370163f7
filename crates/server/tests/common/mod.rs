//! A real node served on 127.0.0.1 for the HTTP tests: its own SQLite file in a temp dir,
//! the sample catalogue, and an API key per issuer.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use elicense_app::seed::{example_fields, seed_catalogue};
use elicense_app::{Clock, Node, NodeConfig, SystemClock};
use elicense_core::sample;
use elicense_store::SqliteStore;
use reqwest::redirect::Policy;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// Sample resident IDs (correct GB 11643 check characters).
pub const CITIZEN: (&str, &str) = ("张伟", "11010519491231002X");
pub const CITIZEN2: (&str, &str) = ("李娜", "110105200002290021");

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub node: Arc<Node>,
    pub client: Client,
    /// API key per issuer USCC.
    pub keys: HashMap<String, String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with_clock(Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> TestServer {
        TestServer::start_full(
            clock,
            None,
            elicense_server::ServeOptions::default(),
            |_| {},
        )
        .await
    }

    /// A server whose node configuration the test changes first (e.g. small limits).
    pub async fn start_configured(
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut NodeConfig),
    ) -> TestServer {
        TestServer::start_full(clock, None, Default::default(), configure).await
    }

    /// A server with serving options of the test's choosing (limits, a metrics listener).
    pub async fn start_with(
        clock: Arc<dyn Clock>,
        options: elicense_server::ServeOptions,
    ) -> TestServer {
        TestServer::start_full(clock, None, options, |_| {}).await
    }

    /// A node that calls itself `public_url` (e.g. `https://...`, as behind a TLS proxy)
    /// while served over plain http on 127.0.0.1.
    pub async fn start_public(clock: Arc<dyn Clock>, public_url: &str) -> TestServer {
        TestServer::start_full(clock, Some(public_url), Default::default(), |_| {}).await
    }

    /// `public_url`: what the node calls itself; `None`: its own http address.
    async fn start_full(
        clock: Arc<dyn Clock>,
        public_url: Option<&str>,
        options: elicense_server::ServeOptions,
        configure: impl FnOnce(&mut NodeConfig),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let store =
            SqliteStore::open(dir.path().join("db"), Default::default()).expect("open store");
        let mut config = NodeConfig::ephemeral(public_url.unwrap_or(&base));
        configure(&mut config);
        let node = Node::new(Arc::new(store), clock, config);
        let seeded = seed_catalogue(&node).await.expect("seed catalogue");
        let keys = seeded
            .issuers
            .into_iter()
            .map(|i| (i.code, i.api_key))
            .collect();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(elicense_server::serve_with(
            node.clone(),
            listener,
            options,
            async move {
                let _ = stopped.await;
            },
        ));
        let client = Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        TestServer {
            addr,
            base,
            node,
            client,
            keys,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        let _ = self.stop.take().expect("running").send(());
        self.task
            .take()
            .expect("running")
            .await
            .expect("server task")
    }

    /// The SQLite file of this node's store (tests that damage it on purpose open it).
    pub fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("db")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn key(&self, issuer: &str) -> &str {
        self.keys
            .get(issuer)
            .map(String::as_str)
            .expect("an API key for the issuer")
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    #[allow(dead_code)]
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.client.put(self.url(path))
    }

    /// A driving-license issue request of Beijing's traffic police for `holder`.
    pub async fn driving_request(&self, holder: (&str, &str), alg: &str) -> Value {
        self.issue_request(
            sample::DRIVING_LICENSE,
            sample::BEIJING_TRAFFIC_POLICE,
            holder,
            alg,
        )
        .await
    }

    /// An issue request of `issuer` for a license of type `type_code` to `holder`, with the
    /// type's example data.
    pub async fn issue_request(
        &self,
        type_code: &str,
        issuer: &str,
        holder: (&str, &str),
        alg: &str,
    ) -> Value {
        let t = self
            .node
            .catalogue
            .get(type_code, None)
            .await
            .expect("sample type");
        json!({
            "type_code": type_code,
            "issuer": issuer,
            "holder_name": holder.0,
            "holder_id": holder.1,
            "fields": example_fields(&t, holder.0, holder.1),
            "alg": alg,
        })
    }

    /// Issues over HTTP and returns the 201 body.
    pub async fn issue(&self, body: &Value) -> Value {
        let issuer = body["issuer"].as_str().expect("issuer in request");
        let resp = self
            .post("/api/v1/licenses")
            .bearer_auth(self.key(issuer))
            .json(body)
            .send()
            .await
            .expect("send");
        let (status, json) = read(resp).await;
        assert_eq!(status, StatusCode::CREATED, "issue failed: {json}");
        json
    }

    /// Issues a driving license to `CITIZEN` signed with `alg`.
    pub async fn issue_driving(&self, alg: &str) -> Value {
        let req = self.driving_request(CITIZEN, alg).await;
        self.issue(&req).await
    }

    /// Verifies a raw credential over HTTP; returns the 200 verdict.
    pub async fn verify(&self, credential: &str) -> Value {
        let resp = self
            .post("/api/v1/verifications")
            .header("content-type", "application/dc+sd-jwt")
            .body(credential.to_string())
            .send()
            .await
            .expect("send");
        let (status, json) = read(resp).await;
        assert_eq!(status, StatusCode::OK, "verification failed: {json}");
        json
    }

    /// The body of `GET path`, as text.
    pub async fn text(&self, path: &str) -> String {
        self.get(path).send().await.unwrap().text().await.unwrap()
    }

    pub async fn count(&self) -> u64 {
        self.node.store.count().await.expect("count")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Status and JSON body of a response (panics if the body is not JSON).
pub async fn read(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text:?}"));
    (status, json)
}

/// Asserts an error response: status and `error.code`.
pub async fn expect_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let (got, json) = read(resp).await;
    assert_eq!(got, status, "unexpected status, body {json}");
    assert_eq!(json["error"]["code"], code, "unexpected error body {json}");
    assert!(
        json["error"]["message"].is_string(),
        "error without message: {json}"
    );
    json
}

/// The codes of a verdict's problems.
pub fn problem_codes(verdict: &Value) -> Vec<String> {
    verdict["problems"]
        .as_array()
        .expect("problems array")
        .iter()
        .map(|p| p["code"].as_str().expect("problem code").to_string())
        .collect()
}

/// Wallet accounts `zhangwei` (张伟) and `lina` (李娜), password `<user>-password`.
pub async fn with_accounts(srv: &TestServer) {
    for (user, who) in [("zhangwei", CITIZEN), ("lina", CITIZEN2)] {
        account(srv, user, who).await;
    }
}

/// A password account (`{user}-password`) for a person (the legal representative of the
/// enterprises whose business license names their resident ID).
pub async fn account(
    srv: &TestServer,
    user: &str,
    who: (&str, &str),
) -> elicense_app::wallet::Identity {
    use elicense_app::wallet::identity::{create_account, NewAccount};
    use elicense_core::holder::{HolderCode, HolderCodeType};
    create_account(
        &srv.node,
        NewAccount {
            username: user.into(),
            password: format!("{user}-password"),
            name: who.0.into(),
            person: HolderCode::parse(HolderCodeType::ResidentId, who.1).unwrap(),
        },
    )
    .await
    .unwrap()
}

/// The identity `who`'s session gives now (the enterprises their licenses in force make them
/// represent are read at each request).
#[allow(dead_code)]
pub async fn now_as(
    srv: &TestServer,
    who: &elicense_app::wallet::Identity,
) -> elicense_app::wallet::Identity {
    use elicense_app::wallet::IdentityProvider;
    elicense_app::wallet::LocalAccounts::new(&srv.node)
        .identity(&who.account)
        .await
        .unwrap()
        .expect("an active account")
}

/// POSTs JSON as the signed-in holder's browser does: the session cookie and its CSRF token.
pub async fn wallet_post_json(
    srv: &TestServer,
    path: &str,
    cookie: &str,
    body: Value,
) -> (StatusCode, Value) {
    let resp = no_redirect()
        .post(srv.url(path))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf(srv, cookie).await)
        .json(&body)
        .send()
        .await
        .unwrap();
    read(resp).await
}

/// A browser's device key: P-256, signing as WebCrypto does (raw r‖s, base64url).
pub struct Device(p256::ecdsa::SigningKey);

impl Device {
    pub fn new() -> Device {
        Device(p256::ecdsa::SigningKey::random(&mut rand::thread_rng()))
    }

    /// The public key as the wallet's script sends it.
    pub fn jwk(&self) -> Value {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let point = self.0.verifying_key().to_encoded_point(false);
        json!({"kty": "EC", "crv": "P-256",
            "x": b64.encode(point.x().unwrap()), "y": b64.encode(point.y().unwrap())})
    }

    /// The private key as a JWK (`d` included), as an outside wallet keeps it.
    #[allow(dead_code)]
    pub fn private_jwk(&self) -> Value {
        use base64::Engine;
        let mut jwk = self.jwk();
        jwk["d"] =
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0.to_bytes()));
        jwk
    }

    pub fn sign(&self, input: &str) -> String {
        use base64::Engine;
        use p256::ecdsa::signature::Signer as _;
        let sig: p256::ecdsa::Signature = self.0.sign(input.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes())
    }
}

/// Binds `device` to license `identifier` over the wallet API, prepares a presentation of
/// `fields` for `matter`, signs it and completes it: the completed presentation's JSON.
pub async fn present(
    srv: &TestServer,
    cookie: &str,
    identifier: &str,
    device: &Device,
    fields: &[&str],
    matter: &str,
) -> Value {
    let api = format!("/api/v1/wallet/licenses/{identifier}");
    let (status, bound) = wallet_post_json(
        srv,
        &format!("{api}/binding"),
        cookie,
        json!({"jwk": device.jwk()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    let (status, prep) = wallet_post_json(
        srv,
        &format!("{api}/presentations/prepare"),
        cookie,
        json!({"jkt": bound["jkt"], "fields": fields, "matter": matter}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{prep}");
    let signature = device.sign(prep["signing_input"].as_str().unwrap());
    let (status, done) = wallet_post_json(
        srv,
        &format!("{api}/presentations"),
        cookie,
        json!({"id": prep["id"], "signature": signature}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    done
}

/// A client that does not follow redirects.
pub fn no_redirect() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// The value of `<meta name="csrf-token">` or of a form's `csrf` field in a page.
pub fn page_token(html: &str) -> Option<String> {
    for marker in [r#"name="csrf-token" content=""#, r#"name="csrf" value=""#] {
        if let Some(i) = html.find(marker) {
            let rest = &html[i + marker.len()..];
            let token = &rest[..rest.find('"')?];
            if !token.is_empty() {
                return Some(token.to_owned());
            }
        }
    }
    None
}

/// The `name=value` of the `Set-Cookie` header that sets `name`.
pub fn set_cookie(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Opens the sign-in page as a browser would: its pre-session cookie and the form's token.
pub async fn login_page(srv: &TestServer) -> (String, String) {
    let resp = no_redirect()
        .get(srv.url("/wallet/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = set_cookie(&resp, "elicense_presession").expect("a pre-session cookie");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let token = page_token(&resp.text().await.unwrap()).expect("a token in the form");
    (cookie, token)
}

/// Posts the sign-in form as a browser would after opening the sign-in page: with the
/// page's pre-session cookie and token when it has them.
pub async fn post_sign_in(srv: &TestServer, user: &str, password: &str) -> Response {
    let resp = no_redirect()
        .get(srv.url("/wallet/login"))
        .send()
        .await
        .unwrap();
    let presession =
        set_cookie(&resp, "elicense_presession").map(|c| c.split(';').next().unwrap().to_owned());
    let token = page_token(&resp.text().await.unwrap()).unwrap_or_default();
    let mut req = no_redirect().post(srv.url("/wallet/login")).form(&[
        ("username", user),
        ("password", password),
        ("next", "/wallet"),
        ("csrf", &token),
    ]);
    if let Some(c) = presession {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

/// Signs in; returns the Cookie header value.
pub async fn sign_in(srv: &TestServer, user: &str) -> String {
    let resp = post_sign_in(srv, user, &format!("{user}-password")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&resp, "elicense_session").expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

/// The CSRF token of a signed-in session, as its wallet page carries it (empty if none).
pub async fn csrf(srv: &TestServer, cookie: &str) -> String {
    let (status, html) = page(srv, "/wallet", Some(cookie)).await;
    assert_eq!(status, StatusCode::OK, "signed in");
    page_token(&html).unwrap_or_default()
}

/// GETs a page (with the Cookie header when given); status and body.
pub async fn page(srv: &TestServer, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut req = no_redirect().get(srv.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

/// Registers [`CLERK`] (柜员 李明) at `inst`, assigned every matter of its scope.
#[allow(dead_code)]
pub async fn clerk(srv: &TestServer, inst: &elicense_store::InstitutionRecord) {
    elicense_app::institutions::staff::put(
        &srv.node,
        inst,
        CLERK,
        elicense_app::institutions::staff::StaffInput {
            name: "柜员 李明".into(),
            matters: inst.matters.clone(),
            resident_id: None,
        },
    )
    .await
    .unwrap();
}

/// The staff member [`institution`] registers, assigned its matter.
#[allow(dead_code)]
pub const CLERK: &str = "clerk";

/// Registers a relying institution (area 110105) for one matter, with its staff member
/// [`CLERK`]; its new API key.
pub async fn institution(srv: &TestServer, code: &str, name: &str, matter: &str) -> String {
    let inst = elicense_app::institutions::register(
        &srv.node,
        elicense_app::institutions::NewInstitution {
            code: code.into(),
            name: name.into(),
            area: "110105".into(),
            matters: vec![matter.into()],
        },
    )
    .await
    .unwrap();
    clerk(srv, &inst).await;
    elicense_app::institutions::create_key(&srv.node, code, "test")
        .await
        .unwrap()
        .0
}

/// A new operator key (`elo_…`).
pub async fn operator_key(srv: &TestServer) -> String {
    elicense_app::operator::create_key(&srv.node, "test")
        .await
        .unwrap()
        .0
}

/// Polls `f` every 100 ms until it gives `Some`, failing after `limit` with `what`.
#[allow(dead_code)]
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not within {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `tests/oid4vc/<script>` (an outside OpenID4VC wallet or verifier) with node and the
/// packages `scripts/deps.sh` installed into `.cache/oid4vc/`: its one JSON line on stdout, its
/// exit code and its stderr.
#[allow(dead_code)]
pub async fn oid4vc_script(script: &str, args: &[&str]) -> (Value, Option<i32>, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let packages = root.join("../../.cache/oid4vc");
    assert!(
        packages
            .join("node_modules/@openid4vc/openid4vp/package.json")
            .exists(),
        "{} has no @openid4vc packages: run scripts/deps.sh",
        packages.display()
    );
    let out = tokio::process::Command::new("node")
        .arg(root.join("tests/oid4vc").join(script))
        .args(args)
        .env("ELICENSE_OID4VC_DIR", packages)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node (installed by scripts/deps.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (report, out.status.code(), stderr)
}
