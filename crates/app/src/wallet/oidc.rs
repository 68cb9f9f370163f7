//! OpenID Connect sign-in for the wallet: the node is a relying party of the region's
//! identity platform (authorization code flow with PKCE, OpenID Connect Core 1.0 §3.1).
//!
//! [`Oidc::start`] makes a pre-login record (random `state`, `nonce` and PKCE S256 code
//! verifier, kept in the store under a hash of the `state`, bound to a random value the
//! browser keeps in an HttpOnly cookie) and sends the browser to the provider;
//! [`Oidc::finish`] takes the record back once, redeems the code at the token endpoint
//! (client_secret_basic, with the verifier), verifies the ID token ([`id_token`]) and turns
//! its verified resident ID and name into the account linked to (issuer, `sub`), created on
//! the first sign-in and updated on later ones ([`link`]).
//!
//! Invariants: a callback is accepted only with the `state` of a record that exists, has not
//! expired ([`LOGIN_SECS`]) and was started by the same browser (the cookie's hash matches),
//! and only once (`oidc.bad_state` otherwise); a response naming another issuer (RFC 9207
//! `iss`) is `oidc.bad_issuer`, a provider's error `oidc.provider_refused`; the
//! ID token's `nonce` must be the record's; the person's resident ID must be a valid GB 11643
//! number (`oidc.no_resident_id`, `oidc.bad_resident_id`) and the name present
//! (`oidc.no_name`); a disabled account does not sign in (`oidc.account_disabled`).

pub mod id_token;
pub mod link;
pub mod provider;
pub mod settings;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use elicense_store::OidcLoginRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use settings::OidcSettings;

use super::throttle::ClientAddr;
use super::Identity;
use crate::error::{AppError, ErrorKind, Result};
use crate::limit::{Bucket, Keyed, Rate};
use crate::node::Node;

/// How long a sign-in at the provider may take, seconds.
pub const LOGIN_SECS: i64 = 600;
/// The pre-login cookie over plain http.
pub const COOKIE: &str = "elicense_oidc";
/// Its name over https (`__Host-`: Secure, this host, path `/`).
pub const HOST_COOKIE: &str = "__Host-elicense_oidc";
/// The node's callback path.
pub const CALLBACK_PATH: &str = "/wallet/oidc/callback";

/// The pre-login cookie's name for a node.
pub fn cookie_name(config: &crate::config::NodeConfig) -> &'static str {
    if super::session::is_https(config) {
        HOST_COOKIE
    } else {
        COOKIE
    }
}

/// The relying party of one configured provider.
pub struct Oidc {
    pub settings: OidcSettings,
    provider: provider::Provider,
    /// Sign-ins started per client address: each stores a pre-login row for
    /// [`LOGIN_SECS`], so a client that starts more than [`START_RATE`] allows is refused
    /// (`429 oidc.throttled`) instead of filling the store.
    starts: Keyed<ClientAddr, Bucket>,
}

/// Sign-ins one client address may start: 10 at once, then 10 a minute.
pub const START_RATE: (u32, u32, u32) = (10, 10, 60);
/// Client addresses whose starts are counted at once (the least recently full dropped first).
const START_CLIENTS: usize = 65_536;

/// Where to send the browser, and the value of its pre-login cookie.
#[derive(Debug)]
pub struct Start {
    pub location: String,
    pub cookie: String,
}

/// The query of the callback.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    /// The issuer of the response (RFC 9207), when the provider names it.
    pub iss: Option<String>,
}

/// A finished sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub identity: Identity,
    /// Where the browser goes now.
    pub next: String,
    /// Time spent waiting for the provider (token endpoint, JWKS or discovery fetches).
    pub provider_time: std::time::Duration,
}

fn random() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    B64.encode(b)
}

fn hash(v: &str) -> String {
    hex::encode(Sha256::digest(v.as_bytes()))
}

fn bad_state(message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, "oidc.bad_state", message)
}

impl Oidc {
    /// The relying party of `settings`' provider (nothing is fetched yet).
    pub fn new(settings: OidcSettings) -> Oidc {
        let (burst, refill, per) = START_RATE;
        Oidc {
            settings,
            provider: provider::Provider::new(),
            starts: Keyed::new(
                Rate::new(burst, refill, per).expect("a rate of positive numbers"),
                START_CLIENTS,
            ),
        }
    }

    /// The node's redirect URI.
    pub fn redirect_uri(node: &Node) -> String {
        format!("{}{CALLBACK_PATH}", node.config.base_url)
    }

    /// Starts a sign-in from `client` that returns to `next` (a local path the caller
    /// checked). `oidc.throttled` (with a retry delay) when the client started too many.
    pub async fn start(&self, node: &Node, next: &str, client: ClientAddr) -> Result<Start> {
        let now = node.now();
        self.starts
            .update(&client, now, |b, rate| match b.take(rate, now) {
                Ok(b) => (b, Ok(())),
                Err(wait) => (
                    b,
                    Err(AppError::new(
                        ErrorKind::Throttled {
                            retry_after_secs: wait.max(1) as u64,
                        },
                        "oidc.throttled",
                        format!(
                            "too many sign-ins started; try again in {} seconds",
                            wait.max(1)
                        ),
                    )),
                ),
            })?;
        let m = self.provider.metadata(&self.settings, now).await?;
        let (state, nonce, verifier, cookie) = (random(), random(), random(), random());
        node.store
            .put_oidc_login(OidcLoginRecord {
                id: hash(&state),
                binding: hash(&cookie),
                nonce: nonce.clone(),
                verifier: verifier.clone(),
                next: next.to_owned(),
                created_at: now,
                expires_at: now + LOGIN_SECS,
            })
            .await?;
        let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
        let mut location = url::Url::parse(&m.authorization_endpoint).map_err(|e| {
            AppError::new(
                ErrorKind::Unavailable,
                "oidc.bad_discovery",
                format!("authorization_endpoint: {e}"),
            )
        })?;
        location
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &Self::redirect_uri(node))
            .append_pair("scope", &self.settings.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(Start {
            location: location.into(),
            cookie,
        })
    }

    /// Finishes a sign-in: `cookie` is the browser's pre-login cookie, if it sent one;
    /// `client` is named in the owner's list of failed sign-ins when the account is disabled.
    pub async fn finish(
        &self,
        node: &Node,
        cb: Callback,
        cookie: Option<&str>,
        client: super::ClientAddr,
    ) -> Result<SignedIn> {
        let state = cb
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_state("the callback carries no state"))?;
        let rec = node
            .store
            .take_oidc_login(&hash(state))
            .await?
            .ok_or_else(|| bad_state("no sign-in under way has this state (or it was used)"))?;
        let now = node.now();
        if now >= rec.expires_at {
            return Err(bad_state("the sign-in took too long; start again"));
        }
        if cookie.map(hash).as_deref() != Some(rec.binding.as_str()) {
            return Err(bad_state("this sign-in was started in another browser"));
        }
        if cb
            .iss
            .as_ref()
            .is_some_and(|iss| *iss != self.settings.issuer)
        {
            return Err(id_token::refused(
                "oidc.bad_issuer",
                "the response comes from another issuer (iss, RFC 9207)",
            ));
        }
        if let Some(error) = cb.error {
            return Err(AppError::new(
                ErrorKind::Unauthorized,
                "oidc.provider_refused",
                format!(
                    "the identity provider did not sign you in: {}",
                    provider::printable(&error)
                ),
            ));
        }
        let code = cb
            .code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad_state("the callback carries no code"))?;
        let waited = std::time::Instant::now();
        let m = self.provider.metadata(&self.settings, now).await?;
        let tokens = self
            .provider
            .redeem(
                &self.settings,
                &m,
                &code,
                &Self::redirect_uri(node),
                &rec.verifier,
            )
            .await?;
        let mut provider_time = waited.elapsed();
        let compact = tokens.id_token.ok_or_else(|| {
            id_token::refused("oidc.bad_token", "the token endpoint returned no ID token")
        })?;
        let parsed = id_token::parse(&compact)?;
        let fetching = std::time::Instant::now();
        let key = self
            .provider
            .key(&self.settings, parsed.kid.as_deref(), parsed.alg, now)
            .await?;
        provider_time += fetching.elapsed();
        let claims = id_token::check_claims(
            parsed.verify(&key)?,
            &id_token::Expected {
                issuer: &self.settings.issuer,
                client_id: &self.settings.client_id,
                nonce: &rec.nonce,
                now: node.now(),
            },
        )?;
        let person = link::Person::from_claims(&self.settings, &claims)?;
        let identity =
            link::sign_in(node, &self.settings.issuer, &claims.subject, person, client).await?;
        Ok(SignedIn {
            identity,
            next: rec.next,
            provider_time,
        })
    }

    /// Deletes pre-login records that expired (the sweeper calls it).
    pub async fn purge(node: &Node) -> Result<u64> {
        Ok(node.store.purge_oidc_logins(node.now()).await?)
    }

    /// The cached key lookup, for tests and benchmarks of the JWKS cache.
    pub async fn provider_key(
        &self,
        kid: Option<&str>,
        alg: id_token::IdAlg,
        now: i64,
    ) -> Result<id_token::ProviderKey> {
        self.provider.key(&self.settings, kid, alg, now).await
    }
}
