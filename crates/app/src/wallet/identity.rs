//! Who a holder is: identity proofing behind [`IdentityProvider`], so that a real identity
//! provider (an OIDC provider, a government single sign-on) can replace the node's own
//! password accounts without touching the wallet.
//!
//! Invariants: an [`Identity`] carries keyed hashes of holder codes, never the codes
//! themselves (the person's ID number is kept masked, for display only); an account sees the
//! licenses of its own holder code and of the enterprises it represents (法定代表人): those
//! whose license in force names the person's resident ID as legal representative
//! ([`represented`], asked at every sign-in and every request of a session, so a change of
//! representative on the license moves the right at once).
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
    /// Enterprises the person represents, with the keyed hash of each USCC ([`represented`]).
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
    /// The person's holder code, sealed ([`seal_codes`]): the home node
    /// needs it to find the holder's licenses at other nodes (one wallet across regions).
    /// Accounts made before representation came from licenses have their declared
    /// enterprises' codes after it; only the first is used.
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

/// The holder codes sealed in an account's profile (the person's first; an older account may
/// have declared enterprises' after it, which nothing uses), unsealed; `None` for an account made before they were kept, or an unknown
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

/// The identity of an active account: its profile, and the enterprises the person
/// represents now ([`represented`]).
pub(crate) async fn identity_of(store: &dyn Store, rec: AccountRecord) -> Result<Option<Identity>> {
    if rec.disabled_at.is_some() {
        return Ok(None);
    }
    let p: Profile = serde_json::from_str(&rec.profile)
        .map_err(|e| AppError::internal(format!("account profile: {e}")))?;
    let enterprises = represented(store, &p.person_key).await?;
    Ok(Some(Identity {
        account: rec.id,
        username: rec.username,
        name: p.name,
        person_masked: p.person_masked,
        person_key: p.person_key,
        enterprises,
    }))
}

/// The enterprises whose license names the person (keyed hash of their resident ID) as legal
/// representative, in a version that is current and in force
/// (`elicense_core::agency::representation_holds`), each once, with the keyed hash of its
/// USCC. Identity providers call it for every identity they give, so a change of
/// representative, a revocation or a cancellation of the license takes the right away at the
/// next request.
pub async fn represented(store: &dyn Store, person_key: &str) -> Result<Vec<(Enterprise, String)>> {
    let mut out: Vec<(Enterprise, String)> = Vec::new();
    for rec in store.represented_by(person_key).await? {
        let license = crate::stored::License::try_from(rec)?;
        if !elicense_core::agency::representation_holds(license.status) {
            continue;
        }
        if out.iter().any(|(_, k)| *k == license.record.holder_key) {
            continue;
        }
        let holder = &license.meta.holder;
        out.push((
            Enterprise {
                uscc: holder.code.value().to_owned(),
                name: holder.name.clone(),
            },
            license.record.holder_key.clone(),
        ));
    }
    Ok(out)
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
                return identity_of(self.store.as_ref(), r).await;
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
            Some(r) => identity_of(self.store.as_ref(), r).await,
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

/// A new password account for a person (who represents the enterprises whose licenses name
/// them: [`represented`]).
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub name: String,
    pub person: HolderCode,
}

/// Creates a password account; a taken username is `account.username_taken`.
pub async fn create_account(node: &Node, a: NewAccount) -> Result<Identity> {
    let (rec, identity) = account_record(node, a).await?;
    node.store
        .put_account(rec)
        .await
        .map_err(|e| username_taken(e, &identity.username))?;
    Ok(identity)
}

/// The store's answer to a new account, with `account.username_taken` for a taken name.
pub(crate) fn username_taken(e: StoreError, username: &str) -> AppError {
    match e {
        StoreError::UsernameTaken(_) => AppError::new(
            ErrorKind::Conflict,
            "account.username_taken",
            format!("the username {username} is taken"),
        ),
        other => other.into(),
    }
}

/// Checks a new password: at least [`MIN_PASSWORD`] characters (`account.invalid`).
pub(crate) fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "account.invalid",
            format!("a password of at least {MIN_PASSWORD} characters is required"),
        ));
    }
    Ok(())
}

/// Fewest characters of a password.
pub const MIN_PASSWORD: usize = 8;

/// The Argon2id hash of a password, computed off the async threads.
pub(crate) async fn hash_off_thread(password: &str) -> Result<String> {
    let password = Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
}

/// The store record of a new password account and the identity it gives, not yet stored
/// (the demo seeding stores it alone, the operator with its event:
/// `crate::operator::create_account`).
pub(crate) async fn account_record(
    node: &Node,
    a: NewAccount,
) -> Result<(AccountRecord, Identity)> {
    let username = a.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "account.invalid",
            "a username of 1 to 64 characters is required",
        ));
    }
    check_password(&a.password)?;
    let name = a.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "account.invalid",
            "the person's name (1 to 64 characters) is required",
        ));
    }
    let person_key = node.holder_key(&a.person);
    let id = crate::wallet::random_id();
    let codes = [a.person.clone()];
    let profile = Profile {
        name: name.clone(),
        person_masked: mask(a.person.value()),
        person_key: person_key.clone(),
        sealed_codes: Some(seal_codes(node, &id, &codes)?),
    };
    let rec = AccountRecord {
        id: id.clone(),
        username: username.clone(),
        password_hash: hash_off_thread(&a.password).await?,
        profile: serde_json::to_string(&profile).map_err(|e| AppError::internal(e.to_string()))?,
        holder_keys: vec![person_key.clone()],
        created_at: node.now(),
        disabled_at: None,
    };
    let identity = Identity {
        account: id,
        username,
        name,
        person_masked: profile.person_masked,
        enterprises: represented(node.store.as_ref(), &person_key).await?,
        person_key,
    };
    Ok((rec, identity))
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
