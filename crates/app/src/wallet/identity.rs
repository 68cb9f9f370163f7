//! Who a holder is: identity proofing behind [`IdentityProvider`], so that a real identity
//! provider (an OIDC provider, a government single sign-on) can replace the node's own
//! password accounts without touching the wallet.
//!
//! Invariants: an [`Identity`] carries keyed hashes of holder codes, never the codes
//! themselves (the person's ID number is kept masked, for display only); an account sees the
//! licenses of its own holder code and of the enterprises it represents (法定代表人).
//! [`LocalAccounts`] checks a password only when the throttle lets the attempt through
//! (`wallet::throttle`), through the bounded Argon2 queue (`wallet::hashing`), and records
//! every failure on an existing account for its owner (`wallet::security`); a successful
//! sign-in waits for nothing but its own hash. The codes themselves are kept only sealed
//! (AES-256-GCM under a key derived from the holder secret, bound to the account), for the
//! home node to find the holder's licenses at other nodes ([`holder_codes`]).

use std::sync::Arc;

use async_trait::async_trait;
use elicense_core::holder::HolderCode;
use elicense_store::{AccountRecord, Store, StoreError};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::hashing::HashGate;
use super::security::{record_failure, FailureReason};
use super::throttle::{ClientAddr, Throttle};
use crate::clock::Clock;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

pub use super::hashing::hash_password;

/// An enterprise an account represents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub uscc: String,
    pub name: String,
}

/// A signed-in holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub account: String,
    pub username: String,
    pub name: String,
    /// The person's code, masked (`110105********002X`).
    pub person_masked: String,
    /// Keyed hash of the person's own holder code (authorizations name agents by it).
    pub person_key: String,
    /// Enterprises the person represents, with the keyed hash of each USCC.
    pub enterprises: Vec<(Enterprise, String)>,
}

impl Identity {
    /// Every holder key whose licenses this identity may see as holder.
    pub fn holder_keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.person_key.as_str())
            .chain(self.enterprises.iter().map(|(_, k)| k.as_str()))
    }
}

/// Identity proofing: turns credentials into an [`Identity`].
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// Checks a username and password from `client`; `Ok(None)` when they do not match an
    /// active account; `signin.throttled` (with a retry delay) after too many failures,
    /// `signin.busy` when too many sign-ins are under way.
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: ClientAddr,
    ) -> Result<Option<Identity>>;
    /// The identity of an account named in a session, if it is still active.
    async fn identity(&self, account: &str) -> Result<Option<Identity>>;
}

/// What the node keeps in an account's profile (JSON in the store).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    pub(crate) name: String,
    pub(crate) person_masked: String,
    pub(crate) person_key: String,
    pub(crate) enterprises: Vec<(Enterprise, String)>,
    /// The person's and the enterprises' holder codes, sealed ([`seal_codes`]): the home node
    /// needs them to find the holder's licenses at other nodes (one wallet across regions).
    /// Absent in accounts made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sealed_codes: Option<String>,
}

/// The AES-256-GCM key that seals accounts' holder codes: derived from the holder secret,
/// which already guards the holder hashes (whoever has it can test any code against them).
fn sealing_key(node: &Node) -> aes_gcm::Key<aes_gcm::Aes256Gcm> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
        .expect("HMAC takes any key length");
    mac.update(b"elicense account holder codes v1");
    mac.finalize().into_bytes()
}

/// Seals the codes for account `account` (bound to it): base64url of nonce ‖ ciphertext.
pub(crate) fn seal_codes(node: &Node, account: &str, codes: &[HolderCode]) -> Result<String> {
    use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
    let cipher = aes_gcm::Aes256Gcm::new(&sealing_key(node));
    let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
    let plain =
        Zeroizing::new(serde_json::to_vec(codes).map_err(|e| AppError::internal(e.to_string()))?);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: account.as_bytes(),
            },
        )
        .map_err(|_| AppError::internal("sealing the holder codes failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(elicense_crypto::b64::encode(&out))
}

/// The holder codes an account may see licenses of (the person's first, then each
/// enterprise's), unsealed; `None` for an account made before they were kept, or an unknown
/// account. A seal that does not open is `store.corrupt`.
pub async fn holder_codes(node: &Node, account: &str) -> Result<Option<Vec<HolderCode>>> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let Some(rec) = node.store.account(account).await? else {
        return Ok(None);
    };
    let p: Profile = serde_json::from_str(&rec.profile)
        .map_err(|e| AppError::internal(format!("account profile: {e}")))?;
    let Some(sealed) = p.sealed_codes else {
        return Ok(None);
    };
    let corrupt = || {
        AppError::new(
            ErrorKind::Internal,
            "store.corrupt",
            format!("the sealed holder codes of account {account} do not open"),
        )
    };
    let bytes = elicense_crypto::b64::decode(&sealed).map_err(|_| corrupt())?;
    if bytes.len() < 12 {
        return Err(corrupt());
    }
    let (nonce, ct) = bytes.split_at(12);
    let plain = Zeroizing::new(
        aes_gcm::Aes256Gcm::new(&sealing_key(node))
            .decrypt(
                aes_gcm::Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: account.as_bytes(),
                },
            )
            .map_err(|_| corrupt())?,
    );
    serde_json::from_slice(&plain)
        .map(Some)
        .map_err(|_| corrupt())
}

/// The node's own password accounts (Argon2id hashes in the store).
pub struct LocalAccounts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    gate: HashGate,
}

impl LocalAccounts {
    /// The accounts of `node`'s store, throttled on its clock, one hash per core at a time.
    pub fn new(node: &Node) -> Self {
        LocalAccounts::with(node, Throttle::default(), HashGate::default())
    }

    /// With another throttle or hashing bound.
    pub fn with(node: &Node, throttle: Throttle, gate: HashGate) -> Self {
        LocalAccounts {
            store: node.store.clone(),
            clock: node.clock.clone(),
            throttle,
            gate,
        }
    }
}

pub(crate) fn identity_of(rec: AccountRecord) -> Result<Option<Identity>> {
    if rec.disabled_at.is_some() {
        return Ok(None);
    }
    let p: Profile = serde_json::from_str(&rec.profile)
        .map_err(|e| AppError::internal(format!("account profile: {e}")))?;
    Ok(Some(Identity {
        account: rec.id,
        username: rec.username,
        name: p.name,
        person_masked: p.person_masked,
        person_key: p.person_key,
        enterprises: p.enterprises,
    }))
}

/// A hash to check against when the username is unknown, so that both paths cost the same.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a password").expect("hashing works"))
}

#[async_trait]
impl IdentityProvider for LocalAccounts {
    async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: ClientAddr,
    ) -> Result<Option<Identity>> {
        self.throttle.check(username, client, self.clock.now())?;
        let rec = self.store.account_by_username(username.trim()).await?;
        let hash = rec
            .as_ref()
            .map(|r| r.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let ok = self
            .gate
            .verify(hash, Zeroizing::new(password.to_owned()))
            .await?;
        let now = self.clock.now();
        let failed = match rec {
            Some(r) if ok && r.disabled_at.is_none() => {
                self.throttle.succeeded(username);
                return identity_of(r);
            }
            Some(r) if ok => Some((r.id, FailureReason::AccountDisabled)),
            Some(r) => Some((r.id, FailureReason::BadPassword)),
            None => None,
        };
        self.throttle.failed(username, client, now);
        if let Some((account, reason)) = failed {
            record_failure(self.store.as_ref(), &account, now, client, reason).await?;
        }
        Ok(None)
    }

    async fn identity(&self, account: &str) -> Result<Option<Identity>> {
        match self.store.account(account).await? {
            Some(r) => identity_of(r),
            None => Ok(None),
        }
    }
}

/// Masks a holder code for display: keeps the first 6 and the last 4 characters.
pub fn mask(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// A new password account for a person, who may represent enterprises.
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub name: String,
    pub person: HolderCode,
    pub enterprises: Vec<(String, HolderCode)>,
}

/// Creates a password account; a taken username is `account.username_taken`.
pub async fn create_account(node: &Node, a: NewAccount) -> Result<Identity> {
    let username = a.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 || a.password.chars().count() < 8 {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "account.invalid",
            "a username of 1 to 64 characters and a password of at least 8 are required",
        ));
    }
    let person_key = node.holder_key(&a.person);
    let enterprises = a
        .enterprises
        .iter()
        .map(|(name, code)| {
            (
                Enterprise {
                    uscc: code.value().to_owned(),
                    name: name.clone(),
                },
                node.holder_key(code),
            )
        })
        .collect::<Vec<_>>();
    let id = crate::wallet::random_id();
    let codes: Vec<HolderCode> = std::iter::once(a.person.clone())
        .chain(a.enterprises.iter().map(|(_, c)| c.clone()))
        .collect();
    let profile = Profile {
        name: a.name.clone(),
        person_masked: mask(a.person.value()),
        person_key: person_key.clone(),
        enterprises: enterprises.clone(),
        sealed_codes: Some(seal_codes(node, &id, &codes)?),
    };
    let password = Zeroizing::new(a.password.clone());
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::internal(e.to_string()))??;
    let rec = AccountRecord {
        id,
        username: username.clone(),
        password_hash,
        profile: serde_json::to_string(&profile).map_err(|e| AppError::internal(e.to_string()))?,
        holder_keys: std::iter::once(person_key.clone())
            .chain(enterprises.iter().map(|(_, k)| k.clone()))
            .collect(),
        created_at: node.now(),
        disabled_at: None,
    };
    let id = rec.id.clone();
    node.store.put_account(rec).await.map_err(|e| match e {
        StoreError::UsernameTaken(_) => AppError::new(
            ErrorKind::Conflict,
            "account.username_taken",
            format!("the username {username} is taken"),
        ),
        other => other.into(),
    })?;
    Ok(Identity {
        account: id,
        username,
        name: a.name,
        person_masked: profile.person_masked,
        person_key,
        enterprises,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_ends_only() {
        assert_eq!(mask("11010519491231002X"), "110105********002X");
        assert_eq!(mask("12345"), "*****");
    }
}
