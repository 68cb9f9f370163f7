//! The issuers' key ring. Private keys are stored encrypted (PKCS#8, password from the
//! configuration) and decrypted once per process, on first use; public keys are loaded from
//! the store and turned into verifiers. No private key is ever logged or returned.
//!
//! Retirement and revocation (`crate::operator`): which key signs is cached for
//! [`crate::cache::TTL`] and the public keys (with their `not_after` and `revoked_at`) are
//! read again when they are older than that TTL, so a key retired or revoked by another
//! process (the CLI beside a running node) stops signing, and its revocation applies to
//! verification, within 1 s; [`KeyRing::invalidate`] drops both caches at once in this
//! process. A key signs at `now` only if [`PublicKey::valid_at`]`(now)`-like conditions hold:
//! after `not_before`, before `not_after` (retired) and before `revoked_at` (compromised).
//!
//! The published JWKS ([`KeyRing::jwks`]) keeps retired keys (what they signed stays valid
//! and must stay verifiable) and drops revoked ones: a verifier that knows only the JWKS
//! cannot apply a revocation's `since`, so it refuses everything the compromised key signed
//! (failing closed); the node's verification (and the public log's `key_revoke` leaf, with
//! `since`) tells the credentials from before the compromise.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::cache::TtlCache;

use elicense_crypto::{Alg, Jwk, Jwks, KeyPair, Signer, Verifier};
use elicense_store::{KeyRecord, Store};
use zeroize::Zeroizing;

use crate::error::{AppError, ErrorKind, Result};

/// A public key as the node knows it, ready to verify.
#[derive(Clone)]
pub struct PublicKey {
    pub record: KeyRecord,
    pub jwk: Jwk,
    pub verifier: Arc<dyn Verifier>,
}

impl PublicKey {
    /// Whether the key was usable for signing at `t` (after `not_before`, before it was
    /// retired and before the time from which it is revoked).
    pub fn valid_at(&self, t: i64) -> bool {
        self.standing_at(t) == KeyStanding::Valid
    }

    /// What the key was at `t`: the one decision of whether a signature made at `t` (a
    /// credential's `iat`) counts. A revocation wins over the other reasons: a credential
    /// claiming a time at or after `revoked_at` is [`KeyStanding::Revoked`], whatever else.
    pub fn standing_at(&self, t: i64) -> KeyStanding {
        standing(&self.record, t)
    }
}

/// [`PublicKey::standing_at`] of a stored key: also what decides which key may sign now.
pub fn standing(r: &KeyRecord, t: i64) -> KeyStanding {
    standing_of(r.not_before, r.not_after, r.revoked_at, t)
}

/// The standing at `t` of a key valid from `not_before`, retired at `not_after` and
/// revoked since `revoked_at`: the one rule for local keys and for keys taken from the
/// trust list (`retired_at`, `revoked_since`) alike.
pub fn standing_of(
    not_before: i64,
    not_after: Option<i64>,
    revoked_at: Option<i64>,
    t: i64,
) -> KeyStanding {
    if revoked_at.is_some_and(|since| since <= t) {
        KeyStanding::Revoked
    } else if t < not_before || not_after.is_some_and(|end| end <= t) {
        KeyStanding::OutOfPeriod
    } else {
        KeyStanding::Valid
    }
}

/// Whether a key may sign now: it must still be valid at the next second. Times are whole
/// seconds, so a retirement at `t` sets `not_after = t + 1` (`crate::operator::retire_key`):
/// what the key signed up to and in the second of its retirement has `iat <= t < not_after`
/// and stays valid, and from the retirement on the key signs nothing (`t + 1 < not_after`
/// fails).
pub fn may_sign(k: &KeyRecord, now: i64) -> bool {
    standing(k, now.saturating_add(1)) == KeyStanding::Valid
}

/// Whether an issuer key could sign at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStanding {
    /// Within its period and not revoked.
    Valid,
    /// Before `not_before` or at or after `not_after` (retired).
    OutOfPeriod,
    /// At or after the time from which it is revoked (compromised).
    Revoked,
}

/// Public keys by kid.
type PublicKeys = HashMap<String, Arc<PublicKey>>;

/// Signing keys (decrypted lazily) and verifying keys of every issuer of the node.
pub struct KeyRing {
    store: Arc<dyn Store>,
    password: Zeroizing<String>,
    /// Decrypted private keys by kid.
    signers: RwLock<HashMap<String, Arc<KeyPair>>>,
    /// Which key signs for (issuer, alg) now.
    chosen: TtlCache<(String, &'static str), Arc<KeyPair>>,
    /// Public keys by kid, and when they were read from the store (`None`: never, or
    /// invalidated): older than [`crate::cache::TTL`] they are read again.
    public: RwLock<(PublicKeys, Option<Instant>)>,
    /// When the public keys were last read from the store: an unknown kid triggers a reload
    /// at most once per `RELOAD_INTERVAL`, so random kids cannot make every request a scan.
    reloaded: tokio::sync::Mutex<Option<Instant>>,
}

/// Shortest time between two reloads of the public keys caused by unknown kids.
const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

impl KeyRing {
    pub fn new(store: Arc<dyn Store>, password: Zeroizing<String>) -> Self {
        KeyRing {
            store,
            password,
            signers: RwLock::new(HashMap::new()),
            chosen: TtlCache::default(),
            public: RwLock::new((HashMap::new(), None)),
            reloaded: tokio::sync::Mutex::new(None),
        }
    }

    /// Generates a key for `issuer`, stores it encrypted, and returns its public record.
    pub async fn generate(&self, issuer: &str, alg: Alg, now: i64) -> Result<KeyRecord> {
        let mut rng = rand::rngs::OsRng;
        let pair = KeyPair::generate(alg, &mut rng);
        let pem = pair
            .to_encrypted_pem(self.password.as_bytes(), &mut rng)
            .map_err(AppError::crypto)?;
        let jwk = pair.public_jwk();
        let record = KeyRecord {
            kid: pair.kid().to_string(),
            issuer: issuer.to_string(),
            alg: alg.cli_name().to_string(),
            public_jwk: serde_json::to_string(&jwk)
                .map_err(|e| AppError::internal(e.to_string()))?,
            encrypted_pem: pem,
            sm2_signer_id: None,
            not_before: now,
            not_after: None,
            revoked_at: None,
        };
        self.store.put_key(record.clone()).await?;
        self.signers
            .write()
            .expect("key ring lock")
            .insert(record.kid.clone(), Arc::new(pair));
        self.invalidate().await;
        Ok(record)
    }

    /// Drops the cached choice of signing keys and the cached public keys: the next signature
    /// and verification read the keys from the store (after a key was made, retired or
    /// revoked in this process).
    pub async fn invalidate(&self) {
        *self.public.write().expect("key ring lock") = (HashMap::new(), None);
        *self.reloaded.lock().await = None;
        self.chosen.clear();
    }

    /// The newest key of `issuer` for `alg` that is valid at `now`, decrypted.
    pub async fn signer(&self, issuer: &str, alg: Alg, now: i64) -> Result<Arc<KeyPair>> {
        let key = (issuer.to_string(), alg.cli_name());
        if let Some(pair) = self.chosen.get(&key) {
            return Ok(pair);
        }
        let pair = self.choose(issuer, alg, now).await?;
        self.chosen.put(key, pair.clone());
        Ok(pair)
    }

    async fn choose(&self, issuer: &str, alg: Alg, now: i64) -> Result<Arc<KeyPair>> {
        let keys = self.store.keys(issuer).await?;
        let record = keys
            .iter()
            .rev()
            .find(|k| k.alg == alg.cli_name() && may_sign(k, now))
            .ok_or_else(|| {
                AppError::new(
                    ErrorKind::Invalid,
                    "issuer.no_key",
                    format!("issuer {issuer} has no valid {} key", alg.cli_name()),
                )
            })?;
        if let Some(pair) = self.signers.read().expect("key ring lock").get(&record.kid) {
            return Ok(pair.clone());
        }
        let password = self.password.clone();
        let pem = record.encrypted_pem.clone();
        let signer_id = record.sm2_signer_id.clone();
        let pair = tokio::task::spawn_blocking(move || {
            KeyPair::from_encrypted_pem(&pem, password.as_bytes()).map(|p| match signer_id {
                Some(id) => p.with_sm2_signer_id(&id),
                None => p,
            })
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(|e| AppError::new(ErrorKind::Unavailable, e.code(), e.to_string()))?;
        let pair = Arc::new(pair);
        self.signers
            .write()
            .expect("key ring lock")
            .insert(record.kid.clone(), pair.clone());
        Ok(pair)
    }

    /// The cached public key with this kid, if the cache is younger than the TTL.
    fn cached_public(&self, kid: &str) -> Option<Arc<PublicKey>> {
        let public = self.public.read().expect("key ring lock");
        let fresh = public.1.is_some_and(|t| t.elapsed() < crate::cache::TTL);
        fresh.then(|| public.0.get(kid).cloned()).flatten()
    }

    /// The public key with this kid, loading keys from the store when it is not cached or
    /// the cache is older than [`crate::cache::TTL`].
    pub async fn public_key(&self, kid: &str) -> Result<Option<Arc<PublicKey>>> {
        if let Some(k) = self.cached_public(kid) {
            return Ok(Some(k));
        }
        // One reload at a time; whoever waited finds the keys another request just loaded.
        let mut last = self.reloaded.lock().await;
        if let Some(k) = self.cached_public(kid) {
            return Ok(Some(k));
        }
        let stale = {
            let public = self.public.read().expect("key ring lock");
            public.1.is_none_or(|t| t.elapsed() >= crate::cache::TTL)
        };
        if !stale && last.is_some_and(|t| t.elapsed() < RELOAD_INTERVAL) {
            return Ok(None);
        }
        self.reload().await?;
        *last = Some(Instant::now());
        Ok(self
            .public
            .read()
            .expect("key ring lock")
            .0
            .get(kid)
            .cloned())
    }

    /// The public keys of one issuer that it publishes: every key but the revoked ones
    /// (retired keys stay, see the module documentation).
    pub async fn jwks(&self, issuer: &str) -> Result<Jwks> {
        let keys = self.store.keys(issuer).await?;
        let mut out = Vec::new();
        for k in keys.iter().filter(|k| k.revoked_at.is_none()) {
            out.push(parse_jwk(k)?);
        }
        Ok(Jwks { keys: out })
    }

    async fn reload(&self) -> Result<()> {
        let mut map = HashMap::new();
        for record in self.store.all_keys().await? {
            let jwk = parse_jwk(&record)?;
            let verifier: Arc<dyn Verifier> = Arc::from(
                jwk.verifier(record.sm2_signer_id.as_deref())
                    .map_err(AppError::crypto)?,
            );
            map.insert(
                record.kid.clone(),
                Arc::new(PublicKey {
                    record,
                    jwk,
                    verifier,
                }),
            );
        }
        *self.public.write().expect("key ring lock") = (map, Some(Instant::now()));
        Ok(())
    }
}

fn parse_jwk(k: &KeyRecord) -> Result<Jwk> {
    serde_json::from_str(&k.public_jwk).map_err(|e| {
        AppError::new(
            ErrorKind::Internal,
            "store.corrupt",
            format!("public key {}: {e}", k.kid),
        )
    })
}
