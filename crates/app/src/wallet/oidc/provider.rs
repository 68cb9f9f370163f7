//! The provider as seen over HTTP: its discovery document
//! (`/.well-known/openid-configuration`), its JWKS and its token endpoint.
//!
//! Invariants: the discovery document must name exactly the configured issuer (OpenID
//! Connect Discovery §4.3), else `oidc.bad_discovery`; it is kept for [`DISCOVERY_SECS`]. The
//! JWKS is kept for [`JWKS_MAX_SECS`]; a token signed with a key it lacks makes the node fetch
//! it again, at most once per [`JWKS_REFETCH_SECS`] (node time), one fetch at a time, so
//! tokens with made-up `kid`s cannot make the node hammer the provider. The provider not
//! answering, or answering with an error status, is `oidc.provider_unavailable`; the token
//! endpoint refusing a code is `oidc.token_refused`. No redirects are followed.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::id_token::{refused, ProviderKey};
use super::settings::OidcSettings;
use crate::error::{AppError, ErrorKind, Result};

/// How long a discovery document is used, seconds.
pub const DISCOVERY_SECS: i64 = 3600;
/// How long a JWKS is used before it is fetched again, seconds.
pub const JWKS_MAX_SECS: i64 = 3600;
/// Least time between two JWKS fetches for an unknown `kid`, seconds.
pub const JWKS_REFETCH_SECS: i64 = 5;
/// Timeout of each request to the provider.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the node uses of the discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
}

fn unavailable(message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unavailable, "oidc.provider_unavailable", message)
}

fn bad_discovery(message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unavailable, "oidc.bad_discovery", message)
}

#[derive(Default)]
struct Jwks {
    keys: Vec<ProviderKey>,
    fetched_at: Option<i64>,
}

/// The provider's metadata and keys, cached.
pub struct Provider {
    client: reqwest::Client,
    metadata: Mutex<Option<(Metadata, i64)>>,
    jwks: Mutex<Jwks>,
}

/// An answer of the token endpoint.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub id_token: Option<String>,
}

impl Default for Provider {
    fn default() -> Self {
        Provider::new()
    }
}

impl Provider {
    pub fn new() -> Provider {
        Provider {
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client without TLS settings builds"),
            metadata: Mutex::new(None),
            jwks: Mutex::new(Jwks::default()),
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value> {
        let resp = self
            .client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| unavailable(format!("{url}: {e}")))?;
        if !resp.status().is_success() {
            return Err(unavailable(format!("{url}: {}", resp.status())));
        }
        resp.json()
            .await
            .map_err(|e| bad_discovery(format!("{url}: {e}")))
    }

    /// The discovery document (cached; a failed refresh keeps using the last one).
    pub async fn metadata(&self, s: &OidcSettings, now: i64) -> Result<Metadata> {
        let mut held = self.metadata.lock().await;
        if let Some((m, at)) = held.as_ref() {
            if now < at + DISCOVERY_SECS {
                return Ok(m.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            s.issuer.trim_end_matches('/')
        );
        let fetched = async {
            let m: Metadata = serde_json::from_value(self.get_json(&url).await?)
                .map_err(|e| bad_discovery(format!("{url}: {e}")))?;
            if m.issuer != s.issuer {
                return Err(bad_discovery(format!(
                    "the discovery document names issuer {:?}, not the configured {:?}",
                    m.issuer, s.issuer
                )));
            }
            if let Some(methods) = &m.code_challenge_methods_supported {
                if !methods.iter().any(|x| x == "S256") {
                    return Err(bad_discovery("the provider does not support PKCE S256"));
                }
            }
            Ok(m)
        }
        .await;
        match (fetched, held.as_ref()) {
            (Ok(m), _) => {
                *held = Some((m.clone(), now));
                Ok(m)
            }
            (Err(e), Some((m, _))) if e.code == "oidc.provider_unavailable" => {
                tracing::warn!(code = e.code, error = %e.message, "discovery refresh failed");
                Ok(m.clone())
            }
            (Err(e), _) => Err(e),
        }
    }

    /// The key for a token's `kid` (and algorithm): from the cached JWKS, else from a fresh
    /// fetch when the last one is at least [`JWKS_REFETCH_SECS`] old.
    pub async fn key(
        &self,
        s: &OidcSettings,
        kid: Option<&str>,
        alg: super::id_token::IdAlg,
        now: i64,
    ) -> Result<ProviderKey> {
        let mut jwks = self.jwks.lock().await;
        let stale = jwks.fetched_at.is_none_or(|at| now >= at + JWKS_MAX_SECS);
        if !stale {
            if let Some(k) = pick(&jwks.keys, kid, alg) {
                return Ok(k);
            }
        }
        let may_fetch = jwks
            .fetched_at
            .is_none_or(|at| stale || now >= at + JWKS_REFETCH_SECS);
        if may_fetch {
            let m = self.metadata(s, now).await?;
            let doc = self.get_json(&m.jwks_uri).await?;
            let keys: Vec<ProviderKey> = doc
                .get("keys")
                .and_then(Value::as_array)
                .map(|ks| ks.iter().filter_map(ProviderKey::from_jwk).collect())
                .unwrap_or_default();
            *jwks = Jwks {
                keys,
                fetched_at: Some(now),
            };
        }
        pick(&jwks.keys, kid, alg).ok_or_else(|| {
            refused(
                "oidc.bad_signature",
                format!("the provider publishes no {} key {kid:?}", alg.name()),
            )
        })
    }

    /// Redeems an authorization code at the token endpoint (client_secret_basic).
    pub async fn redeem(
        &self,
        s: &OidcSettings,
        m: &Metadata,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<TokenResponse> {
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
        let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let resp = self
            .client
            .post(&m.token_endpoint)
            .basic_auth(enc(&s.client_id), Some(enc(&s.client_secret)))
            .header("accept", "application/json")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(|e| unavailable(format!("token endpoint: {e}")))?;
        let status = resp.status();
        if status.is_server_error() {
            return Err(unavailable(format!("token endpoint: {status}")));
        }
        let body: Value = resp
            .json()
            .await
            .map_err(|e| unavailable(format!("token endpoint: {e}")))?;
        if !status.is_success() {
            let error = body.get("error").and_then(Value::as_str).unwrap_or("?");
            return Err(refused(
                "oidc.token_refused",
                format!("the provider refused the code: {}", printable(error)),
            ));
        }
        serde_json::from_value(body).map_err(|e| unavailable(format!("token endpoint: {e}")))
    }
}

/// The key a token names: by `kid`, or the only key of its algorithm when it names none.
fn pick(
    keys: &[ProviderKey],
    kid: Option<&str>,
    alg: super::id_token::IdAlg,
) -> Option<ProviderKey> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned(),
        None => {
            let mut of_alg = keys.iter().filter(|k| k.alg == alg);
            match (of_alg.next(), of_alg.next()) {
                (Some(k), None) => Some(k.clone()),
                _ => None,
            }
        }
    }
}

/// A provider's error code, shortened to printable ASCII (it ends up in pages and logs).
pub fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(100)
        .collect()
}
