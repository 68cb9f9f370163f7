//! OpenID Connect sign-in against a provider of the test's making: a real HTTP server on
//! 127.0.0.1 serving discovery, a JWKS with a test key, and a token endpoint that returns the
//! ID token the test forged. Each refusal of `wallet::oidc` is shown with its stable code,
//! next to the same flow with a good token, which signs in.
//! (The same flow against the real `oidc-provider` is in `crates/server/tests/oidc.rs`.)

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::*;
use elicense_app::wallet::oidc::id_token::IdAlg;
use elicense_app::wallet::oidc::{Callback, Oidc, OidcSettings, Start};
use elicense_app::wallet::ClientAddr;
use elicense_app::NodeConfig;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT: &str = "node-client";
const SECRET: &str = "s3cret:with/odd chars";

/// What the fake provider serves and saw.
#[derive(Default)]
struct Served {
    /// Path → JSON body.
    bodies: HashMap<String, Value>,
    /// Requests per path.
    hits: HashMap<String, usize>,
    /// The token endpoint's last request (headers and body).
    token_request: String,
}

struct FakeIdp {
    issuer: String,
    served: Arc<Mutex<Served>>,
    key: SigningKey,
}

async fn answer(mut sock: tokio::net::TcpStream, served: Arc<Mutex<Served>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the head, then as much body as Content-Length says.
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let path = text.split(' ').nth(1).unwrap_or("/").to_owned();
    let body = {
        let mut s = served.lock().unwrap();
        *s.hits.entry(path.clone()).or_default() += 1;
        if path == "/token" {
            s.token_request = text.clone();
        }
        s.bodies.get(&path).cloned()
    };
    let resp = match body {
        Some(b) => {
            let b = b.to_string();
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{b}",
                b.len()
            )
        }
        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    };
    let _ = sock.write_all(resp.as_bytes()).await;
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn b64(bytes: &[u8]) -> String {
    elicense_crypto::b64::encode(bytes)
}

fn public_jwk(key: &SigningKey, kid: &str) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
           "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())})
}

impl FakeIdp {
    async fn start() -> FakeIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let served = Arc::new(Mutex::new(Served::default()));
        {
            let mut s = served.lock().unwrap();
            s.bodies.insert(
                "/.well-known/openid-configuration".into(),
                json!({"issuer": issuer, "authorization_endpoint": format!("{issuer}/auth"),
                       "token_endpoint": format!("{issuer}/token"),
                       "jwks_uri": format!("{issuer}/jwks"),
                       "code_challenge_methods_supported": ["S256"]}),
            );
            s.bodies
                .insert("/jwks".into(), json!({"keys": [public_jwk(&key, "k1")]}));
        }
        let s2 = served.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(answer(sock, s2.clone()));
            }
        });
        FakeIdp {
            issuer,
            served,
            key,
        }
    }

    fn settings(&self) -> OidcSettings {
        OidcSettings {
            issuer: self.issuer.clone(),
            client_id: CLIENT.into(),
            client_secret: SECRET.to_owned().into(),
            scopes: vec!["openid".into(), "profile".into()],
            resident_id_claim: "resident_id".into(),
            name_claim: "name".into(),
            provider_name: "测试身份平台".into(),
        }
    }

    fn hits(&self, path: &str) -> usize {
        self.served
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Makes the token endpoint return `id_token`.
    fn serve_token(&self, id_token: &str) {
        self.served.lock().unwrap().bodies.insert(
            "/token".into(),
            json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}),
        );
    }
}

/// A compact ES256 JWS of `payload` with `header`, signed by `key`.
fn sign(key: &SigningKey, header: &Value, payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

/// The claims a good token has for the sign-in whose authorization URL is `start`.
fn good_claims(idp: &FakeIdp, start: &Start) -> Value {
    let url = url::Url::parse(&start.location).unwrap();
    let nonce = url
        .query_pairs()
        .find(|(k, _)| k == "nonce")
        .unwrap()
        .1
        .into_owned();
    json!({"iss": idp.issuer, "sub": "person-1", "aud": CLIENT, "exp": T0 + 300,
           "iat": T0, "nonce": nonce, "name": LI.0, "resident_id": LI.1})
}

fn state_of(start: &Start) -> String {
    let url = url::Url::parse(&start.location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

struct Case {
    env: Env,
    idp: FakeIdp,
    oidc: Oidc,
}

async fn case() -> Case {
    let idp = FakeIdp::start().await;
    let env = env_with(NodeConfig::ephemeral(BASE_URL)).await;
    let oidc = Oidc::new(idp.settings());
    Case { env, idp, oidc }
}

/// A client address of its own (each start is counted per client address).
fn fresh_client() -> ClientAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    ClientAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::from(
        0x0a00_0000 + n,
    )))
}

impl Case {
    /// Starts a sign-in, makes the provider answer the token `forge` makes of the good
    /// claims (and the good header), and finishes it.
    async fn run(
        &self,
        forge: impl FnOnce(&mut Value, &mut Value) -> Option<String>,
    ) -> Result<elicense_app::wallet::oidc::SignedIn, elicense_app::AppError> {
        let start = self
            .oidc
            .start(&self.env.node, "/wallet", fresh_client())
            .await
            .unwrap();
        let mut header = json!({"alg": "ES256", "kid": "k1", "typ": "JWT"});
        let mut claims = good_claims(&self.idp, &start);
        let token = forge(&mut header, &mut claims)
            .unwrap_or_else(|| sign(&self.idp.key, &header, &claims));
        self.idp.serve_token(&token);
        let cb = Callback {
            state: Some(state_of(&start)),
            code: Some("the-code".into()),
            ..Default::default()
        };
        self.oidc
            .finish(
                &self.env.node,
                cb,
                Some(&start.cookie),
                ClientAddr::unknown(),
            )
            .await
    }
}

#[tokio::test]
async fn a_good_token_signs_in_with_pkce_and_basic_auth() {
    let c = case().await;
    let start = c
        .oidc
        .start(&c.env.node, "/wallet/requests", fresh_client())
        .await
        .unwrap();
    let url = url::Url::parse(&start.location).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(
        q["redirect_uri"],
        format!("{BASE_URL}/wallet/oidc/callback")
    );
    assert_eq!(q["scope"], "openid profile");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43);

    let mut claims = good_claims(&c.idp, &start);
    claims["aud"] = json!([CLIENT]);
    c.idp.serve_token(&sign(
        &c.idp.key,
        &json!({"alg": "ES256", "kid": "k1"}),
        &claims,
    ));
    let cb = Callback {
        state: Some(q["state"].clone()),
        code: Some("the-code".into()),
        iss: Some(c.idp.issuer.clone()),
        ..Default::default()
    };
    let done = c
        .oidc
        .finish(&c.env.node, cb, Some(&start.cookie), ClientAddr::unknown())
        .await
        .unwrap();
    assert_eq!(done.next, "/wallet/requests");
    assert_eq!(done.identity.name, LI.0);
    assert_eq!(done.identity.person_masked, "110105********0021");
    let code = elicense_core::holder::HolderCode::parse(
        elicense_core::holder::HolderCodeType::ResidentId,
        LI.1,
    )
    .unwrap();
    assert_eq!(done.identity.person_key, c.env.node.holder_key(&code));
    // The token request: client_secret_basic (form-urlencoded, then Basic), the code, the
    // redirect URI and the PKCE verifier whose S256 is the challenge sent.
    let req = c.idp.served.lock().unwrap().token_request.clone();
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{CLIENT}:{}",
        url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect::<String>()
    ));
    assert!(
        req.to_lowercase()
            .contains(&format!("authorization: basic {}", basic.to_lowercase())),
        "{req}"
    );
    let body = req.split("\r\n\r\n").nth(1).unwrap();
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    use sha2::Digest;
    assert_eq!(
        b64(&sha2::Sha256::digest(form["code_verifier"].as_bytes())),
        q["code_challenge"]
    );
    // The codes are kept sealed for the wallet across regions, like a password account's.
    let codes = elicense_app::wallet::identity::holder_codes(&c.env.node, &done.identity.account)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(codes, vec![code]);
    // A password does not open an account made by OIDC.
    let rec = c
        .env
        .store
        .account(&done.identity.account)
        .await
        .unwrap()
        .unwrap();
    assert!(!elicense_app::wallet::hashing::verify_password(
        &rec.password_hash,
        "!oidc"
    ));
}

#[tokio::test]
async fn later_sign_ins_reuse_the_account_and_follow_the_providers_changes() {
    let c = case().await;
    let first = c.run(|_, _| None).await.unwrap().identity;
    let again = c.run(|_, _| None).await.unwrap().identity;
    assert_eq!(first.account, again.account);
    let renamed = c
        .run(|_, claims| {
            claims["name"] = json!("李 娜");
            None
        })
        .await
        .unwrap()
        .identity;
    assert_eq!(renamed.account, first.account);
    assert_eq!(renamed.name, "李 娜");
    // Another subject is another account, even with the same resident ID.
    let other = c
        .run(|_, claims| {
            claims["sub"] = json!("person-2");
            None
        })
        .await
        .unwrap()
        .identity;
    assert_ne!(other.account, first.account);
    assert_eq!(other.person_key, first.person_key);
}

/// Changes a good token's header and claims, or makes the whole token.
type Forge = Box<dyn FnOnce(&mut Value, &mut Value) -> Option<String>>;

#[tokio::test]
async fn forged_tokens_are_refused_with_their_codes() {
    let c = case().await;
    let other_key = SigningKey::random(&mut rand::rngs::OsRng);
    let cases: Vec<(&str, Forge)> = vec![
        (
            "oidc.bad_issuer",
            Box::new(|_, p| {
                p["iss"] = json!("http://127.0.0.1:1");
                None
            }),
        ),
        (
            "oidc.bad_audience",
            Box::new(|_, p| {
                p["aud"] = json!("another-client");
                None
            }),
        ),
        (
            "oidc.bad_audience",
            Box::new(|_, p| {
                p["aud"] = json!([CLIENT, "another-client"]);
                None
            }),
        ),
        (
            "oidc.bad_audience",
            Box::new(|_, p| {
                p["aud"] = json!([CLIENT, "another-client"]);
                p["azp"] = json!("another-client");
                None
            }),
        ),
        (
            "oidc.expired",
            Box::new(|_, p| {
                p["exp"] = json!(T0 - 31);
                None
            }),
        ),
        (
            "oidc.not_yet_valid",
            Box::new(|_, p| {
                p["iat"] = json!(T0 + 120);
                None
            }),
        ),
        (
            "oidc.not_yet_valid",
            Box::new(|_, p| {
                p["nbf"] = json!(T0 + 120);
                None
            }),
        ),
        (
            "oidc.bad_nonce",
            Box::new(|_, p| {
                p["nonce"] = json!("another-nonce");
                None
            }),
        ),
        (
            "oidc.bad_nonce",
            Box::new(|_, p| {
                p.as_object_mut().unwrap().remove("nonce");
                None
            }),
        ),
        (
            "oidc.bad_signature",
            Box::new(move |h, p| Some(sign(&other_key, h, p))),
        ),
        (
            "oidc.bad_signature",
            Box::new(|h, p| {
                h["alg"] = json!("none");
                Some(format!(
                    "{}.{}.",
                    b64(h.to_string().as_bytes()),
                    b64(p.to_string().as_bytes())
                ))
            }),
        ),
        (
            "oidc.bad_signature",
            Box::new(|h, p| {
                // HS256 with the client secret as key: the classic downgrade.
                h["alg"] = json!("HS256");
                let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
                let mut hd = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                hd.kid = Some("k1".into());
                Some(jsonwebtoken::encode(&hd, p, &key).unwrap())
            }),
        ),
        (
            "oidc.bad_token",
            Box::new(|_, p| {
                p.as_object_mut().unwrap().remove("sub");
                None
            }),
        ),
        (
            "oidc.no_resident_id",
            Box::new(|_, p| {
                p.as_object_mut().unwrap().remove("resident_id");
                None
            }),
        ),
        (
            "oidc.bad_resident_id",
            Box::new(|_, p| {
                p["resident_id"] = json!("110105200002290022");
                None
            }),
        ),
        (
            "oidc.no_name",
            Box::new(|_, p| {
                p["name"] = json!("  ");
                None
            }),
        ),
    ];
    for (code, forge) in cases {
        let r = c.run(forge).await;
        expect_code(r, code);
    }
    // The control: the same harness with a good token signs in.
    assert!(c.run(|_, _| None).await.is_ok());
}

#[tokio::test]
async fn time_is_the_nodes_with_a_small_leeway() {
    let c = case().await;
    // exp within the leeway still passes; iat a little ahead too.
    assert!(c
        .run(|_, p| {
            p["exp"] = json!(T0 - 29);
            p["iat"] = json!(T0 + 29);
            None
        })
        .await
        .is_ok());
    c.env.clock.advance(400);
    // The good token's exp (T0 + 300) is now past on the node's clock.
    expect_code(
        c.run(|_, p| {
            p["exp"] = json!(T0 + 300);
            p["iat"] = json!(T0);
            None
        })
        .await,
        "oidc.expired",
    );
}

#[tokio::test]
async fn state_is_bound_to_the_browser_single_use_and_short_lived() {
    let c = case().await;
    let node = &c.env.node;
    let finish = |state: Option<String>, cookie: Option<String>| {
        let cb = Callback {
            state,
            code: Some("the-code".into()),
            ..Default::default()
        };
        let oidc = &c.oidc;
        async move {
            oidc.finish(node, cb, cookie.as_deref(), ClientAddr::unknown())
                .await
        }
    };
    // No state, an unknown state.
    expect_code(finish(None, None).await, "oidc.bad_state");
    expect_code(finish(Some("made-up".into()), None).await, "oidc.bad_state");
    // The right state from another browser (no cookie, another cookie).
    for cookie in [None, Some("another-browser".to_owned())] {
        let start = c.oidc.start(node, "/wallet", fresh_client()).await.unwrap();
        expect_code(
            finish(Some(state_of(&start)), cookie).await,
            "oidc.bad_state",
        );
    }
    // Replayed: the first callback consumed the state, good or not.
    let start = c.oidc.start(node, "/wallet", fresh_client()).await.unwrap();
    c.idp.serve_token(&sign(
        &c.idp.key,
        &json!({"alg": "ES256", "kid": "k1"}),
        &good_claims(&c.idp, &start),
    ));
    finish(Some(state_of(&start)), Some(start.cookie.clone()))
        .await
        .unwrap();
    expect_code(
        finish(Some(state_of(&start)), Some(start.cookie.clone())).await,
        "oidc.bad_state",
    );
    // Too late.
    let start = c.oidc.start(node, "/wallet", fresh_client()).await.unwrap();
    c.env.clock.advance(elicense_app::wallet::oidc::LOGIN_SECS);
    expect_code(
        finish(Some(state_of(&start)), Some(start.cookie.clone())).await,
        "oidc.bad_state",
    );
    // Records of sign-ins never finished are purged once expired.
    c.oidc.start(node, "/wallet", fresh_client()).await.unwrap();
    assert_eq!(Oidc::purge(node).await.unwrap(), 0);
    c.env
        .clock
        .advance(elicense_app::wallet::oidc::LOGIN_SECS + 1);
    assert_eq!(Oidc::purge(node).await.unwrap(), 1);
    // A response naming another issuer (RFC 9207), and a provider's own refusal.
    let start = c.oidc.start(node, "/wallet", fresh_client()).await.unwrap();
    let cb = Callback {
        state: Some(state_of(&start)),
        iss: Some("http://127.0.0.1:1".into()),
        ..Default::default()
    };
    expect_code(
        c.oidc
            .finish(node, cb, Some(&start.cookie), ClientAddr::unknown())
            .await,
        "oidc.bad_issuer",
    );
    let start = c.oidc.start(node, "/wallet", fresh_client()).await.unwrap();
    let cb = Callback {
        state: Some(state_of(&start)),
        error: Some("access_denied".into()),
        ..Default::default()
    };
    expect_code(
        c.oidc
            .finish(node, cb, Some(&start.cookie), ClientAddr::unknown())
            .await,
        "oidc.provider_refused",
    );
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_jwks_at_most_every_few_seconds() {
    let c = case().await;
    let now = T0;
    c.oidc
        .provider_key(Some("k1"), IdAlg::Es256, now)
        .await
        .unwrap();
    assert_eq!(c.idp.hits("/jwks"), 1);
    // Cached.
    c.oidc
        .provider_key(Some("k1"), IdAlg::Es256, now)
        .await
        .unwrap();
    assert_eq!(c.idp.hits("/jwks"), 1);
    // The provider rotates: a token with the new kid makes the node fetch again, once the
    // last fetch is old enough; made-up kids in between cost no fetch.
    let rotated = SigningKey::random(&mut rand::rngs::OsRng);
    c.idp.served.lock().unwrap().bodies.insert(
        "/jwks".into(),
        json!({"keys": [public_jwk(&c.idp.key, "k1"), public_jwk(&rotated, "k2")]}),
    );
    expect_code(
        c.oidc.provider_key(Some("k2"), IdAlg::Es256, now + 1).await,
        "oidc.bad_signature",
    );
    assert_eq!(c.idp.hits("/jwks"), 1, "too soon after the last fetch");
    let k = c
        .oidc
        .provider_key(Some("k2"), IdAlg::Es256, now + 5)
        .await
        .unwrap();
    assert_eq!(k.kid.as_deref(), Some("k2"));
    assert_eq!(c.idp.hits("/jwks"), 2);
    for i in 0..5 {
        let _ = c
            .oidc
            .provider_key(Some(&format!("made-up-{i}")), IdAlg::Es256, now + 6)
            .await;
    }
    assert_eq!(c.idp.hits("/jwks"), 2);
    // The discovery document was fetched once for all of this.
    assert_eq!(c.idp.hits("/.well-known/openid-configuration"), 1);
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in() {
    let c = case().await;
    let id = c.run(|_, _| None).await.unwrap().identity;
    elicense_app::operator::set_account_disabled(
        &c.env.node,
        &elicense_core::operator::OperatorActor::Cli,
        &id.username,
        true,
    )
    .await
    .unwrap();
    expect_code(c.run(|_, _| None).await, "oidc.account_disabled");
    let failures = c.env.store.sign_in_failures(&id.account, 10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].reason, "signin.account_disabled");
}

#[tokio::test]
async fn a_provider_that_is_down_or_names_another_issuer_is_refused() {
    let c = case().await;
    c.idp.served.lock().unwrap().bodies.insert(
        "/.well-known/openid-configuration".into(),
        json!({"issuer": "https://evil.example", "authorization_endpoint": "https://evil.example/a",
               "token_endpoint": "https://evil.example/t", "jwks_uri": "https://evil.example/j"}),
    );
    expect_code(
        c.oidc
            .start(&c.env.node, "/wallet", ClientAddr::unknown())
            .await,
        "oidc.bad_discovery",
    );
    let mut settings = c.idp.settings();
    settings.issuer = "http://127.0.0.1:9".into(); // discard port: nothing listens
    let down = Oidc::new(settings);
    expect_code(
        down.start(&c.env.node, "/wallet", ClientAddr::unknown())
            .await,
        "oidc.provider_unavailable",
    );
}

/// A provider outside the loopback is reached over https: the node opens a TLS handshake
/// (a ClientHello record, content type 22) with an `https` issuer.
#[tokio::test]
async fn an_https_issuer_is_reached_over_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut b = [0u8; 1];
        sock.read_exact(&mut b).await.unwrap();
        b[0]
    });
    let env = env().await;
    let idp = FakeIdp::start().await;
    let mut settings = idp.settings();
    settings.issuer = format!("https://127.0.0.1:{port}");
    let oidc = Oidc::new(settings);
    // Nothing answers the handshake: the provider is unavailable, after the node tried TLS.
    expect_code(
        oidc.start(&env.node, "/wallet", ClientAddr::unknown())
            .await,
        "oidc.provider_unavailable",
    );
    assert_eq!(first.await.unwrap(), 22, "a TLS handshake record");
}

/// Each start stores a pre-login row: one client address starts at most 10 at once, then
/// one every 6 seconds (`oidc.throttled` with its delay); another client is not held up.
#[tokio::test]
async fn one_client_starts_at_most_ten_sign_ins_then_ten_a_minute() {
    let c = case().await;
    let node = &c.env.node;
    let a = ClientAddr::new("203.0.113.7".parse().unwrap());
    let b = ClientAddr::new("198.51.100.9".parse().unwrap());
    for _ in 0..10 {
        c.oidc.start(node, "/wallet", a).await.unwrap();
    }
    let e = c.oidc.start(node, "/wallet", a).await.unwrap_err();
    assert_eq!(e.code, "oidc.throttled");
    assert_eq!(
        e.kind,
        elicense_app::ErrorKind::Throttled {
            retry_after_secs: 6
        }
    );
    c.oidc.start(node, "/wallet", b).await.unwrap();
    c.env.clock.advance(6);
    c.oidc.start(node, "/wallet", a).await.unwrap();
    expect_code(c.oidc.start(node, "/wallet", a).await, "oidc.throttled");
}
