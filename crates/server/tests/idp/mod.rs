//! The real OpenID Connect provider of the tests (`provider.mjs`: the npm `oidc-provider`,
//! installed by `scripts/deps.sh`), started once per test process on a free port of
//! 127.0.0.1 and stopped when the process ends (the script exits when its stdin closes).
//! Nodes register their own client (dynamic registration) and sign people in through the
//! provider's login form with a small cookie-keeping HTTP client.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};

use elicense_app::wallet::oidc::OidcSettings;
use elicense_app::Clock;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::common::{no_redirect, set_cookie, TestServer, CITIZEN, CITIZEN2};

/// The provider's accounts: subject → claims.
pub fn accounts() -> Value {
    json!({
        "li-na": {"name": CITIZEN2.0, "resident_id": CITIZEN2.1},
        "zhang-wei": {"name": CITIZEN.0, "resident_id": CITIZEN.1},
        "no-id": {"name": "王五"},
        "bad-id": {"name": "赵六", "resident_id": "110105200002290022"},
    })
}

pub struct Idp {
    pub issuer: String,
    _child: Child,
}

/// The directory `scripts/deps.sh` installs the provider into.
fn package_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/oidc")
}

/// The provider of this test process.
pub fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        let dir = package_dir();
        assert!(
            dir.join("node_modules/oidc-provider/package.json").exists(),
            "oidc-provider is not installed: run scripts/deps.sh"
        );
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idp/provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .env("OIDC_PROVIDER_DIR", dir.canonicalize().unwrap())
            .env("OIDC_ACCOUNTS", accounts().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let out = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).expect("the provider's first line");
        Idp {
            issuer: v["issuer"].as_str().unwrap().to_owned(),
            _child: child,
        }
    })
}

/// Registers a client with `redirect_uri` (RFC 7591); `alg` for its ID tokens.
pub async fn register(redirect_uri: &str, alg: &str) -> (String, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/reg", idp().issuer))
        .json(&json!({
            "redirect_uris": [redirect_uri],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "id_token_signed_response_alg": alg,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    (
        v["client_id"].as_str().unwrap().to_owned(),
        v["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// A node whose wallet signs in with the provider (ID tokens signed with `alg`).
pub async fn node(clock: Arc<dyn Clock>, alg: &'static str) -> TestServer {
    TestServer::start_configured(clock, move |config| {
        let redirect = format!("{}/wallet/oidc/callback", config.base_url);
        // The configuration is made before the node runs: register on a runtime of its own.
        let (client_id, secret) = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(register(&redirect, alg))
        })
        .join()
        .unwrap();
        // Starts are counted per client address (`oidc::START_RATE`): behind a trusted
        // proxy on 127.0.0.1, each browser here comes from an address of its own.
        config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        config.oidc = Some(OidcSettings {
            issuer: idp().issuer.clone(),
            client_id,
            client_secret: secret.into(),
            scopes: vec!["openid".into(), "profile".into()],
            resident_id_claim: "resident_id".into(),
            name_claim: "name".into(),
            provider_name: "测试身份平台".into(),
        });
    })
    .await
}

/// Cookies by name, as a browser keeps them for one site (paths ignored).
#[derive(Default, Debug, Clone)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    pub fn take(&mut self, resp: &Response) {
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.contains("expires=Thu, 01 Jan 1970") {
                    self.0.remove(k);
                } else {
                    self.0.insert(k.to_owned(), val.to_owned());
                }
            }
        }
    }
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn location(resp: &Response, base: &str) -> String {
    assert!(
        resp.status().is_redirection(),
        "expected a redirect, got {}",
        resp.status()
    );
    let l = resp.headers()["location"].to_str().unwrap();
    url::Url::parse(base).unwrap().join(l).unwrap().to_string()
}

async fn get(url: &str, jar: &mut Jar) -> Response {
    let resp = no_redirect()
        .get(url)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    jar.take(&resp);
    resp
}

/// A sign-in taken up to the provider's redirect back: the callback URL, the node's
/// pre-login cookie (`name=value`) and the authorization request the node sent.
pub struct AtCallback {
    pub callback: String,
    pub cookie: String,
    pub authorization: String,
}

/// An address of its own for each browser (10.0.0.0/8, as a proxy reports it).
pub fn browser_address() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    std::net::Ipv4Addr::from(0x0a00_0000 + N.fetch_add(1, Ordering::Relaxed)).to_string()
}

/// Starts a sign-in at `srv` (returning to `next`) and signs in at the provider as
/// `account`.
pub async fn authorize(srv: &TestServer, account: &str, next: &str) -> AtCallback {
    let resp = no_redirect()
        .get(srv.url(&format!("/wallet/oidc/start?next={next}")))
        .header("x-forwarded-for", browser_address())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&resp, "elicense_oidc").expect("a pre-login cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let authorization = location(&resp, &srv.base);
    let issuer = &idp().issuer;
    let mut jar = Jar::default();
    let resp = get(&authorization, &mut jar).await;
    let login = location(&resp, issuer);
    assert!(login.contains("/interaction/"), "{login}");
    let page = get(&login, &mut jar).await;
    assert_eq!(page.status(), StatusCode::OK);
    let resp = no_redirect()
        .post(format!("{login}/login"))
        .header("cookie", jar.header())
        .form(&[("login", account)])
        .send()
        .await
        .unwrap();
    jar.take(&resp);
    let mut next_url = location(&resp, issuer);
    // Follow the provider's own redirects until it sends the browser back to the node.
    for _ in 0..5 {
        if next_url.starts_with(&srv.base) {
            return AtCallback {
                callback: next_url,
                cookie,
                authorization,
            };
        }
        let resp = get(&next_url, &mut jar).await;
        next_url = location(&resp, issuer);
    }
    panic!("the provider never sent the browser back: {next_url}");
}

/// GETs the callback with `cookie` (`None`: without the pre-login cookie).
pub async fn callback(url: &str, cookie: Option<&str>) -> Response {
    let mut req = no_redirect().get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

/// Signs `account` in through the provider; the session cookie (`name=value`).
pub async fn sign_in(srv: &TestServer, account: &str) -> String {
    let at = authorize(srv, account, "/wallet").await;
    let resp = callback(&at.callback, Some(&at.cookie)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{:?}", resp.headers());
    assert_eq!(resp.headers()["location"], "/wallet");
    let session = set_cookie(&resp, "elicense_session").expect("a session cookie");
    session.split(';').next().unwrap().to_owned()
}
