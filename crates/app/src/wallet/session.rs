//! Wallet sessions: a signed, expiring token in an HttpOnly cookie. The node keeps no session
//! table; the token names the account and its expiry and carries an HMAC-SHA256 under a key
//! derived from the node's holder secret, so it cannot be forged or extended. Signing out
//! clears the cookie; disabling the account ends every session at its next request.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::node::Node;

/// Name of the session cookie.
pub const COOKIE: &str = "elicense_session";
/// How long a session lasts, seconds.
pub const SESSION_SECS: i64 = 8 * 3600;

fn mac(node: &Node) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
        .expect("HMAC takes any key length");
    m.update(b"elicense wallet session v1\0");
    m
}

/// A session token for `account`, valid for [`SESSION_SECS`] from now.
pub fn issue(node: &Node, account: &str) -> String {
    let body = format!("{account}.{}", node.now() + SESSION_SECS);
    let mut m = mac(node);
    m.update(body.as_bytes());
    format!("{body}.{}", B64.encode(m.finalize().into_bytes()))
}

/// The account of a valid, unexpired token.
pub fn check(node: &Node, token: &str) -> Option<String> {
    let (body, sig) = token.rsplit_once('.')?;
    let (account, exp) = body.split_once('.')?;
    let sig = B64.decode(sig).ok()?;
    let mut m = mac(node);
    m.update(body.as_bytes());
    m.verify_slice(&sig).ok()?;
    let exp: i64 = exp.parse().ok()?;
    (node.now() < exp).then(|| account.to_owned())
}
