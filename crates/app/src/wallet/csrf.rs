//! CSRF tokens of the wallet's forms and scripts: synchronizer tokens derived, not stored.
//!
//! A token is `base64url(HMAC-SHA256(k, context ‖ binding))` with `k` derived from the node's
//! holder secret. Its binding is what the browser alone holds in an HttpOnly cookie:
//! - signed in: the session's secret ([`for_session`]); a page of another origin can neither
//!   read the cookie nor compute the token, and a token stops mattering when the session ends;
//! - before sign-in: a pre-session cookie `nonce.expiry` ([`new_presession`]) that the
//!   sign-in page sets, valid for [`PRESESSION_SECS`]; its token covers the expiry, so
//!   neither can be changed without the other.
//!
//! Invariant: [`check`] compares in constant time and accepts a token only for the binding
//! it was made for; an expired or malformed pre-session has no token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::session::{is_https, SessionId};
use crate::config::NodeConfig;

/// Name of the pre-session cookie over plain http.
pub const PRESESSION_COOKIE: &str = "elicense_presession";
/// Its name over https (see [`super::session::HOST_COOKIE`]).
pub const PRESESSION_HOST_COOKIE: &str = "__Host-elicense_presession";
/// How long a sign-in page's token stays good, seconds.
pub const PRESESSION_SECS: i64 = 2 * 3600;
/// The header scripts and htmx send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The form field plain forms send it in.
pub const FIELD: &str = "csrf";

/// The pre-session cookie's name for a node.
pub fn presession_cookie_name(config: &NodeConfig) -> &'static str {
    if is_https(config) {
        PRESESSION_HOST_COOKIE
    } else {
        PRESESSION_COOKIE
    }
}

/// What a token is bound to.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    Session(&'a SessionId),
    /// A pre-session cookie's value.
    PreSession(&'a str),
}

/// A token, as rendered into pages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CsrfToken([u8; 32]);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(<secret>)")
    }
}

impl CsrfToken {
    /// The token as pages and requests carry it (43 characters of base64url).
    pub fn encode(&self) -> String {
        B64.encode(self.0)
    }
}

fn mac(config: &NodeConfig, b: Binding<'_>) -> Hmac<Sha256> {
    let mut m =
        Hmac::<Sha256>::new_from_slice(&config.holder_secret).expect("HMAC takes any key length");
    m.update(b"elicense wallet csrf v1\0");
    match b {
        Binding::Session(id) => {
            m.update(b"session\0");
            m.update(id.secret());
        }
        Binding::PreSession(value) => {
            m.update(b"presession\0");
            m.update(value.as_bytes());
        }
    }
    m
}

/// Whether a pre-session value is well formed and not expired at `now`.
fn presession_open(value: &str, now: i64) -> bool {
    let Some((nonce, exp)) = value.split_once('.') else {
        return false;
    };
    let mut raw = [0u8; 16];
    let nonce_ok = matches!(B64.decode_slice(nonce.as_bytes(), &mut raw), Ok(16));
    let exp_ok = exp.parse::<i64>().is_ok_and(|exp| now < exp);
    nonce_ok && exp_ok
}

/// The token of a binding; `None` for a pre-session that is malformed or expired at `now`.
pub fn token(config: &NodeConfig, b: Binding<'_>, now: i64) -> Option<CsrfToken> {
    if let Binding::PreSession(v) = b {
        if !presession_open(v, now) {
            return None;
        }
    }
    Some(CsrfToken(mac(config, b).finalize().into_bytes().into()))
}

/// The token of a session.
pub fn for_session(config: &NodeConfig, id: &SessionId) -> CsrfToken {
    CsrfToken(
        mac(config, Binding::Session(id))
            .finalize()
            .into_bytes()
            .into(),
    )
}

/// A new pre-session: its cookie value and its token.
pub fn new_presession(config: &NodeConfig, now: i64) -> (String, CsrfToken) {
    let mut nonce = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let value = format!("{}.{}", B64.encode(nonce), now + PRESESSION_SECS);
    let t = CsrfToken(
        mac(config, Binding::PreSession(&value))
            .finalize()
            .into_bytes()
            .into(),
    );
    (value, t)
}

/// Whether `given` is the token of binding `b` at `now` (constant-time comparison).
pub fn check(config: &NodeConfig, b: Binding<'_>, given: &str, now: i64) -> bool {
    if let Binding::PreSession(v) = b {
        if !presession_open(v, now) {
            return false;
        }
    }
    let mut raw = [0u8; 32];
    if !matches!(B64.decode_slice(given.trim().as_bytes(), &mut raw), Ok(32)) {
        return false;
    }
    mac(config, b).verify_slice(&raw).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_session_or_presession() {
        let config = NodeConfig::ephemeral("http://127.0.0.1:8080");
        let a = SessionId::parse(&B64.encode([1u8; 32])).unwrap();
        let b = SessionId::parse(&B64.encode([2u8; 32])).unwrap();
        let ta = for_session(&config, &a).encode();
        assert!(check(&config, Binding::Session(&a), &ta, 0));
        assert!(!check(&config, Binding::Session(&b), &ta, 0));
        assert!(!check(&config, Binding::Session(&a), "", 0));
        assert!(!check(&config, Binding::Session(&a), &ta[..40], 0));
        let other_node = NodeConfig::ephemeral("http://127.0.0.1:8080");
        assert!(!check(&other_node, Binding::Session(&a), &ta, 0));

        let now = 1_000;
        let (value, t) = new_presession(&config, now);
        let p = Binding::PreSession(&value);
        assert_eq!(token(&config, p, now), Some(t));
        assert!(check(&config, p, &t.encode(), now));
        assert!(!check(&config, Binding::Session(&a), &t.encode(), now));
        // Expired: no token, and the old one is refused.
        let end = now + PRESESSION_SECS;
        assert!(token(&config, p, end).is_none());
        assert!(!check(&config, p, &t.encode(), end));
        // A later expiry written into the cookie does not carry the token along.
        let (nonce, _) = value.split_once('.').unwrap();
        let longer = format!("{nonce}.{}", end + 3600);
        assert!(!check(
            &config,
            Binding::PreSession(&longer),
            &t.encode(),
            end
        ));
        assert!(token(&config, Binding::PreSession("garbage"), now).is_none());
    }
}
