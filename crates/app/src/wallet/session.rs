//! Wallet sessions: a random 256-bit secret in an HttpOnly cookie, and a row per session in
//! the store, keyed by the SHA-256 of the secret (a copy of the database holds no usable
//! cookie).
//!
//! Why a session table and not a per-account epoch: signing out must end that browser's
//! session and only it; an idle timeout needs the last request of each session; and a row can
//! be ended in the same transaction that disables its account. The cost is one primary-key
//! read per signed-in request (the account is read anyway) and one write per session per
//! minute at most ([`TOUCH_SECS`]).
//!
//! Invariants ([`state`] is the one pure function that decides):
//! - a session is open only while its row exists, is not ended, is younger than
//!   [`SESSION_SECS`] and saw a request less than the idle timeout ago
//!   (`NodeConfig::session_idle_secs`, 30 minutes by default; `last_seen` is recorded at most
//!   once per [`TOUCH_SECS`], so a session may outlive its idle timeout by up to that much);
//! - signing out ends the session at once: the same cookie, replayed, is signed out;
//! - disabling an account ends every session of it in the same transaction, and enabling it
//!   again opens none of them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use elicense_store::SessionRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::NodeConfig;
use crate::error::Result;
use crate::node::Node;

/// Name of the session cookie over plain http (demo, tests on 127.0.0.1).
pub const COOKIE: &str = "elicense_session";
/// Name of the session cookie when the node is served over https: the `__Host-` prefix makes
/// the browser keep it only if it is `Secure`, for this host alone and for path `/`.
pub const HOST_COOKIE: &str = "__Host-elicense_session";
/// How long a session lasts at most, seconds.
pub const SESSION_SECS: i64 = 8 * 3600;
/// A session's `last_seen` is written when it is at least this old.
pub const TOUCH_SECS: i64 = 60;

/// The name of the session cookie for a node.
pub fn cookie_name(config: &NodeConfig) -> &'static str {
    if is_https(config) {
        HOST_COOKIE
    } else {
        COOKIE
    }
}

/// Whether the node is served over https (then cookies are `Secure` and `__Host-`).
pub fn is_https(config: &NodeConfig) -> bool {
    config.base_url.starts_with("https://")
}

/// The secret a session cookie carries.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId([u8; 32]);

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId(<secret>)")
    }
}

impl SessionId {
    fn random() -> Self {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        SessionId(b)
    }

    /// A cookie value: 43 characters of base64url; anything else is no session.
    pub fn parse(cookie: &str) -> Option<Self> {
        let mut b = [0u8; 32];
        match B64.decode_slice(cookie.as_bytes(), &mut b) {
            Ok(32) if cookie.len() == 43 => Some(SessionId(b)),
            _ => None,
        }
    }

    /// The cookie value.
    pub fn cookie_value(&self) -> String {
        B64.encode(self.0)
    }

    /// The secret's bytes (CSRF tokens are bound to them).
    pub fn secret(&self) -> &[u8; 32] {
        &self.0
    }

    /// The store's key: hex SHA-256 of the secret.
    fn key(&self) -> String {
        hex::encode(Sha256::digest(self.0))
    }
}

/// Where a session stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Open; `touch` when its `last_seen` should be recorded now.
    Open { touch: bool },
    /// Signed out, or its account was disabled.
    Ended,
    /// No request for longer than the idle timeout.
    Idle,
    /// Older than [`SESSION_SECS`].
    Expired,
}

/// Decides where a session stands at `now` with idle timeout `idle_secs`.
pub fn state(s: &SessionRecord, now: i64, idle_secs: i64) -> State {
    if s.ended_at.is_some() {
        State::Ended
    } else if now >= s.created_at + SESSION_SECS {
        State::Expired
    } else if now >= s.last_seen + idle_secs {
        State::Idle
    } else {
        State::Open {
            touch: now - s.last_seen >= TOUCH_SECS,
        }
    }
}

/// Starts a session for `account`.
pub async fn start(node: &Node, account: &str) -> Result<SessionId> {
    let id = SessionId::random();
    let now = node.now();
    node.store
        .put_session(SessionRecord {
            id: id.key(),
            account: account.to_owned(),
            created_at: now,
            last_seen: now,
            ended_at: None,
        })
        .await?;
    Ok(id)
}

/// The account of an open session (recording the request as its latest), or `None`.
pub async fn resume(node: &Node, id: &SessionId) -> Result<Option<String>> {
    let key = id.key();
    let Some(rec) = node.store.session(&key).await? else {
        return Ok(None);
    };
    let now = node.now();
    match state(&rec, now, node.config.session_idle_secs) {
        State::Open { touch } => {
            if touch {
                node.store.touch_session(&key, now).await?;
            }
            Ok(Some(rec.account))
        }
        State::Ended | State::Idle | State::Expired => Ok(None),
    }
}

/// Ends a session (sign-out); ending one that is over already is no error.
pub async fn end(node: &Node, id: &SessionId) -> Result<()> {
    node.store.end_session(&id.key(), node.now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(created_at: i64, last_seen: i64, ended_at: Option<i64>) -> SessionRecord {
        SessionRecord {
            id: "k".into(),
            account: "a".into(),
            created_at,
            last_seen,
            ended_at,
        }
    }

    #[test]
    fn state_decides_ended_expired_idle_and_touch() {
        let idle = 1800;
        assert_eq!(
            state(&rec(0, 0, None), 10, idle),
            State::Open { touch: false }
        );
        assert_eq!(
            state(&rec(0, 0, None), 60, idle),
            State::Open { touch: true }
        );
        assert_eq!(state(&rec(0, 0, Some(5)), 10, idle), State::Ended);
        assert_eq!(state(&rec(0, 0, None), 1800, idle), State::Idle);
        assert_eq!(
            state(&rec(0, 1000, None), 2799, idle),
            State::Open { touch: true }
        );
        assert_eq!(
            state(&rec(0, SESSION_SECS - 10, None), SESSION_SECS, idle),
            State::Expired
        );
    }

    #[test]
    fn ids_round_trip_and_garbage_is_no_session() {
        let id = SessionId::random();
        assert_eq!(SessionId::parse(&id.cookie_value()), Some(id.clone()));
        assert_eq!(id.key().len(), 64);
        assert!(SessionId::parse("").is_none());
        assert!(SessionId::parse("abc").is_none());
        assert!(SessionId::parse(&format!("{}A", id.cookie_value())).is_none());
        assert!(!format!("{id:?}").contains(&id.cookie_value()));
    }
}
