//! The holder wallet: sign-in ([`identity`]; through an OpenID Connect provider: [`oidc`]; throttled by [`throttle`], hashing bounded by
//! [`hashing`]), revocable sessions ([`session`]) and the CSRF tokens bound to them
//! ([`csrf`]), the owner's view of failed sign-ins and the account switch ([`security`]), the
//! holder's licenses and their history ([`licenses`]), showing a license as a short-lived
//! holder-bound presentation ([`present`]), authorizing agents ([`agents`]) and taking a
//! license to another wallet by OpenID4VCI ([`vci`]).

pub mod agents;
pub mod csrf;
pub mod demo;
pub mod hashing;
pub mod identity;
pub mod licenses;
pub mod oidc;
pub mod openid4vp;
pub mod present;
pub mod security;
pub mod session;
pub mod throttle;
pub mod vci;
pub mod vp_foreign;

pub use identity::{Identity, IdentityProvider, LocalAccounts};
pub use throttle::ClientAddr;

/// A random 128-bit identifier, base64url (22 characters).
pub fn random_id() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
