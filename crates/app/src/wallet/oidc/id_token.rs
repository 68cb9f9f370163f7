//! Verification of an ID token (OpenID Connect Core 1.0 §3.1.3.7), as a pipeline: the
//! compact text becomes a [`Parsed`] token (structure, `alg` allowlisted), then a
//! [`Verified`] one only through [`Parsed::verify`] with the provider's key, then
//! [`Claims`] only through [`check_claims`] with what the node expects.
//!
//! The signature primitives are `jsonwebtoken`'s (`crypto::verify`, backed by *ring*): RS256
//! is not among our own `elicense_crypto` algorithms, *ring*'s RSA and ECDSA verification are
//! well kept and audited, and the crate is already in the workspace as the tests' oracle. We
//! use only its signature check: parsing, the `alg` allowlist, key selection and every claim
//! (on the node's `Clock`, not the system time) are decided here.
//!
//! Invariants: `alg` is `RS256` or `ES256` (never `none`, never an HMAC that the client secret
//! could forge) and must fit the key's type; every refusal has its own stable code:
//! `oidc.bad_token` (malformed, no `sub`), `oidc.bad_signature`, `oidc.bad_issuer`,
//! `oidc.bad_audience` (`aud` without the client id, or several audiences and `azp` not the
//! client id), `oidc.expired` (`exp` passed), `oidc.not_yet_valid` (`iat` or `nbf` in the
//! future), `oidc.bad_nonce`; times are compared with [`LEEWAY_SECS`] of leeway.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::error::{AppError, ErrorKind, Result};

/// Leeway for clock differences with the provider, seconds.
pub const LEEWAY_SECS: i64 = 30;

/// A refusal of the token.
pub(crate) fn refused(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unauthorized, code, message)
}

/// A signature algorithm an ID token may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdAlg {
    Rs256,
    Es256,
}

impl IdAlg {
    fn parse(name: &str) -> Option<IdAlg> {
        match name {
            "RS256" => Some(IdAlg::Rs256),
            "ES256" => Some(IdAlg::Es256),
            _ => None,
        }
    }

    /// The JWS name.
    pub fn name(self) -> &'static str {
        match self {
            IdAlg::Rs256 => "RS256",
            IdAlg::Es256 => "ES256",
        }
    }
}

/// A public key from the provider's JWKS.
#[derive(Clone)]
pub struct ProviderKey {
    pub kid: Option<String>,
    pub alg: IdAlg,
    key: DecodingKey,
}

impl std::fmt::Debug for ProviderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

impl ProviderKey {
    /// A signing key of a JWKS entry: RSA (RS256) or EC P-256 (ES256); `None` for keys that
    /// are not for signatures or of another type (skipped, not an error: a JWKS may hold
    /// encryption keys too).
    pub fn from_jwk(jwk: &Value) -> Option<ProviderKey> {
        let s = |k: &str| jwk.get(k).and_then(Value::as_str);
        if s("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let (alg, key) = match (s("kty")?, s("crv")) {
            ("RSA", _) => (
                IdAlg::Rs256,
                DecodingKey::from_rsa_components(s("n")?, s("e")?).ok()?,
            ),
            ("EC", Some("P-256")) => (
                IdAlg::Es256,
                DecodingKey::from_ec_components(s("x")?, s("y")?).ok()?,
            ),
            _ => return None,
        };
        if s("alg").is_some_and(|a| a != alg.name()) {
            return None;
        }
        Some(ProviderKey {
            kid: s("kid").map(str::to_owned),
            alg,
            key,
        })
    }
}

/// A structurally valid, unverified ID token.
#[derive(Debug)]
pub struct Parsed {
    pub alg: IdAlg,
    pub kid: Option<String>,
    signing_input: String,
    signature: String,
    payload: Map<String, Value>,
}

fn object(part: &str, what: &str) -> Result<Map<String, Value>> {
    let bytes = B64.decode(part).map_err(|_| {
        refused(
            "oidc.bad_token",
            format!("the ID token's {what} is not base64url"),
        )
    })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(refused(
            "oidc.bad_token",
            format!("the ID token's {what} is not a JSON object"),
        )),
    }
}

/// Parses a compact JWS; `alg` outside the allowlist is `oidc.bad_signature`.
pub fn parse(compact: &str) -> Result<Parsed> {
    let parts: Vec<&str> = compact.split('.').collect();
    let [h, p, sig] = parts[..] else {
        return Err(refused(
            "oidc.bad_token",
            "the ID token is not a compact JWS of three parts",
        ));
    };
    let header = object(h, "header")?;
    if header.contains_key("crit") {
        return Err(refused("oidc.bad_token", "the ID token's header has crit"));
    }
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = IdAlg::parse(alg_name).ok_or_else(|| {
        refused(
            "oidc.bad_signature",
            format!("ID token alg {alg_name:?} is not accepted (RS256 or ES256)"),
        )
    })?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            return Err(refused(
                "oidc.bad_token",
                "the ID token's kid is not a string",
            ))
        }
    };
    Ok(Parsed {
        alg,
        kid,
        signing_input: format!("{h}.{p}"),
        signature: sig.to_owned(),
        payload: object(p, "payload")?,
    })
}

/// A token whose signature a provider key verified.
#[derive(Debug)]
pub struct Verified {
    payload: Map<String, Value>,
}

impl Parsed {
    /// Checks the signature with `key`, which must be of the token's algorithm.
    pub fn verify(self, key: &ProviderKey) -> Result<Verified> {
        if key.alg != self.alg {
            return Err(refused(
                "oidc.bad_signature",
                format!(
                    "the ID token says {} but the key {:?} is for {}",
                    self.alg.name(),
                    key.kid,
                    key.alg.name()
                ),
            ));
        }
        let alg = match self.alg {
            IdAlg::Rs256 => Algorithm::RS256,
            IdAlg::Es256 => Algorithm::ES256,
        };
        match jsonwebtoken::crypto::verify(
            &self.signature,
            self.signing_input.as_bytes(),
            &key.key,
            alg,
        ) {
            Ok(true) => Ok(Verified {
                payload: self.payload,
            }),
            _ => Err(refused(
                "oidc.bad_signature",
                "the ID token's signature does not verify with the provider's key",
            )),
        }
    }
}

/// What the node expects of the token.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// The node's time, unix seconds.
    pub now: i64,
}

/// The checked claims.
#[derive(Debug, Clone)]
pub struct Claims {
    pub subject: String,
    /// Every claim of the token (the resident ID and name are read from these).
    pub all: Map<String, Value>,
}

fn number(p: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| refused("oidc.bad_token", format!("{name} is not a number"))),
    }
}

/// Checks the claims of a verified token against `e` (see the module header).
pub fn check_claims(t: Verified, e: &Expected<'_>) -> Result<Claims> {
    let p = t.payload;
    let iss = p.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != e.issuer {
        return Err(refused(
            "oidc.bad_issuer",
            format!(
                "the ID token is from {iss:?}, not the configured {:?}",
                e.issuer
            ),
        ));
    }
    let aud: Vec<&str> = match p.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !aud.contains(&e.client_id) {
        return Err(refused(
            "oidc.bad_audience",
            "the ID token is not meant for this node (aud)",
        ));
    }
    let azp = p.get("azp").and_then(Value::as_str);
    if (aud.len() > 1 && azp.is_none()) || azp.is_some_and(|a| a != e.client_id) {
        return Err(refused(
            "oidc.bad_audience",
            "the ID token was issued to another party (azp)",
        ));
    }
    let exp = number(&p, "exp")?.ok_or_else(|| refused("oidc.bad_token", "no exp"))?;
    if e.now >= exp + LEEWAY_SECS {
        return Err(refused(
            "oidc.expired",
            format!("the ID token expired at {exp}"),
        ));
    }
    let iat = number(&p, "iat")?.ok_or_else(|| refused("oidc.bad_token", "no iat"))?;
    for (name, at) in [("iat", Some(iat)), ("nbf", number(&p, "nbf")?)] {
        if let Some(at) = at.filter(|at| *at > e.now + LEEWAY_SECS) {
            return Err(refused(
                "oidc.not_yet_valid",
                format!("the ID token's {name} {at} is in the future"),
            ));
        }
    }
    let nonce = p.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !constant_time_eq(nonce.as_bytes(), e.nonce.as_bytes()) {
        return Err(refused(
            "oidc.bad_nonce",
            "the ID token's nonce is not the one this sign-in sent",
        ));
    }
    let subject = match p.get("sub").and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= 255 => s.to_owned(),
        _ => return Err(refused("oidc.bad_token", "the ID token has no valid sub")),
    };
    Ok(Claims { subject, all: p })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Equal-length digests compared without an early exit.
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}
