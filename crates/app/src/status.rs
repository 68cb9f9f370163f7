//! Token Status Lists as the node serves them.
//!
//! The store is the truth (each license version has a list, a slot and a status value); this
//! cache holds every list in memory for verification and signs each list's token when it is
//! asked for and its content changed. Freshness: the cache asks the store for its status epoch
//! (the last event sequence) at most every `CHECK_INTERVAL`, and rebuilds the lists when it
//! moved, so a status change is visible well within one second.
//!
//! Who signs: a list holds the slots of one issuer's credentials of one algorithm
//! (`Node::take_slot`) and is signed only with that issuer's key of that algorithm, the newest
//! that may sign now (`KeyRing::signer`, so a key rotation within the algorithm goes on
//! signing), so a verifier that knows a credential's algorithm (ES256, EdDSA) can check its
//! status without knowing SM2. Without such a key the token is not signed at all
//! (`status_list.no_key`), never with a key of another algorithm. A list made before lists
//! had an algorithm (`alg` unrecorded) is signed as it always was: with the issuer's SM2 key
//! when it has one, else EdDSA, else ES256.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use elicense_crypto::status_list::StatusList;
use elicense_crypto::{jws, status_list, Alg, KeyPair, Signer};
use elicense_store::Store;
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind, Result};
use crate::keys::KeyRing;

/// How often the cache asks the store whether statuses changed.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(200);
/// Bits per entry: 0 valid, 1 invalid, 2 suspended.
pub const BITS: u8 = 2;
/// Lists are published in whole blocks of this many entries, so their size says little about
/// how many licenses an issuer has.
pub const BLOCK: usize = 8 * 1024;
/// A signed token is re-signed after this long even when nothing changed.
pub const TOKEN_LIFETIME: i64 = 24 * 3600;
/// `ttl` claim of the tokens: how long a relying party may cache a list.
pub const TOKEN_TTL: i64 = 60;

/// A signed status-list token and its entity tag.
#[derive(Debug, Clone)]
pub struct SignedList {
    pub jwt: String,
    pub etag: String,
    pub iat: i64,
}

/// One list as the index shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListInfo {
    pub id: u32,
    /// The issuer whose key signs it.
    pub issuer: String,
    /// The algorithm of its credentials and of the key that signs it; `None` for a list made
    /// before lists had one (see the module documentation).
    pub alg: Option<Alg>,
}

struct ListState {
    issuer: String,
    alg: Option<Alg>,
    list: StatusList,
    token: Option<SignedList>,
}

struct State {
    epoch: i64,
    checked: Option<Instant>,
    lists: HashMap<u32, ListState>,
}

/// Every status list of the node.
pub struct StatusLists {
    store: Arc<dyn Store>,
    keys: Arc<KeyRing>,
    base_url: String,
    state: RwLock<State>,
    refresh: tokio::sync::Mutex<()>,
}

impl StatusLists {
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyRing>, base_url: &str) -> Self {
        StatusLists {
            store,
            keys,
            base_url: base_url.to_string(),
            state: RwLock::new(State {
                epoch: -1,
                checked: None,
                lists: HashMap::new(),
            }),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The URI of list `id` (the `sub` of its token, the `uri` in credentials).
    pub fn uri(&self, id: u32) -> String {
        format!("{}/status-lists/{id}", self.base_url)
    }

    /// The list id named by `uri`, when it is one of this node's lists.
    pub fn list_id(&self, uri: &str) -> Option<u32> {
        uri.strip_prefix(&self.base_url)?
            .strip_prefix("/status-lists/")?
            .parse()
            .ok()
    }

    /// Brings the cache up to date with the store, at most every `CHECK_INTERVAL`.
    pub async fn refresh(&self) -> Result<()> {
        let fresh = |s: &State| s.checked.is_some_and(|c| c.elapsed() < CHECK_INTERVAL);
        if fresh(&self.state.read().expect("status lock")) {
            return Ok(());
        }
        let _guard = self.refresh.lock().await;
        if fresh(&self.state.read().expect("status lock")) {
            return Ok(());
        }
        self.rebuild_if_moved().await
    }

    /// Makes the next read ask the store again (called after this node changed a status, so
    /// that its own changes are visible at once rather than within `CHECK_INTERVAL`).
    pub fn invalidate(&self) {
        self.state.write().expect("status lock").checked = None;
    }

    /// Refreshes ignoring the check interval: for lists and slots the cache does not know yet
    /// (a license issued by another process a moment ago).
    async fn refresh_now(&self) -> Result<()> {
        let _guard = self.refresh.lock().await;
        self.rebuild_if_moved().await
    }

    /// Rebuilds now if the store's epoch moved (ignores the check interval).
    pub async fn rebuild_if_moved(&self) -> Result<()> {
        let epoch = self.store.status_epoch().await?;
        if epoch == self.state.read().expect("status lock").epoch {
            self.state.write().expect("status lock").checked = Some(Instant::now());
            return Ok(());
        }
        let mut lists = HashMap::new();
        for rec in self.store.lists().await? {
            let alg = match &rec.alg {
                Some(a) => Some(a.parse::<Alg>().map_err(|e| {
                    crate::stored::corrupt(format_args!("status list {}", rec.id), e)
                })?),
                None => None,
            };
            let len = (rec.len as usize).div_ceil(BLOCK).max(1) * BLOCK;
            let mut list =
                StatusList::new(BITS, len).map_err(|e| AppError::internal(e.to_string()))?;
            for e in self.store.non_valid(rec.id).await? {
                list.set(e.idx as usize, e.status)
                    .map_err(|e| AppError::internal(e.to_string()))?;
            }
            lists.insert(
                rec.id,
                ListState {
                    issuer: rec.issuer,
                    alg,
                    list,
                    token: None,
                },
            );
        }
        let mut state = self.state.write().expect("status lock");
        // Keep tokens of lists whose content did not change.
        for (id, new) in lists.iter_mut() {
            if let Some(old) = state.lists.get(id) {
                if old.list == new.list {
                    new.token = old.token.clone();
                }
            }
        }
        state.lists = lists;
        state.epoch = epoch;
        state.checked = Some(Instant::now());
        Ok(())
    }

    /// Every list of the node, by id, with the issuer and algorithm that sign it.
    pub async fn lists(&self) -> Result<Vec<ListInfo>> {
        self.refresh().await?;
        let state = self.state.read().expect("status lock");
        let mut out: Vec<ListInfo> = state
            .lists
            .iter()
            .map(|(id, l)| ListInfo {
                id: *id,
                issuer: l.issuer.clone(),
                alg: l.alg,
            })
            .collect();
        out.sort_by_key(|l| l.id);
        Ok(out)
    }

    /// The status value of a slot (0 valid, 1 invalid, 2 suspended), `None` if unknown.
    pub async fn value(&self, list: u32, idx: u32) -> Result<Option<u8>> {
        self.refresh().await?;
        let lookup = || {
            let state = self.state.read().expect("status lock");
            state
                .lists
                .get(&list)
                .and_then(|l| l.list.get(idx as usize))
        };
        if let Some(v) = lookup() {
            return Ok(Some(v));
        }
        self.refresh_now().await?;
        Ok(lookup())
    }

    /// The signed token of list `id` (signing it if its content changed), `None` if unknown.
    pub async fn token(&self, id: u32, now: i64) -> Result<Option<SignedList>> {
        self.refresh().await?;
        if !self
            .state
            .read()
            .expect("status lock")
            .lists
            .contains_key(&id)
        {
            self.refresh_now().await?;
        }
        let (issuer, alg, list) = {
            let state = self.state.read().expect("status lock");
            let Some(l) = state.lists.get(&id) else {
                return Ok(None);
            };
            if let Some(t) = &l.token {
                if now - t.iat < TOKEN_LIFETIME {
                    return Ok(Some(t.clone()));
                }
            }
            (l.issuer.clone(), l.alg, l.list.clone())
        };
        let signer = self.list_signer(id, &issuer, alg, now).await?;
        let payload = status_list::token_payload(
            &list,
            &self.uri(id),
            now,
            Some(now + TOKEN_LIFETIME),
            Some(TOKEN_TTL),
        );
        let header = status_list::token_header(signer.alg(), signer.kid());
        let jwt = jws::sign(signer.as_ref(), &header, &payload).map_err(AppError::crypto)?;
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(jwt.as_bytes()))[..32]);
        let signed = SignedList {
            jwt,
            etag,
            iat: now,
        };
        let mut state = self.state.write().expect("status lock");
        if let Some(l) = state.lists.get_mut(&id) {
            if l.list == list {
                l.token = Some(signed.clone());
            }
        }
        Ok(Some(signed))
    }

    /// The key that signs list `id`: the issuer's key of the list's algorithm that may sign
    /// now; for a list without one, SM2 when the issuer has it, else EdDSA, else ES256.
    async fn list_signer(
        &self,
        id: u32,
        issuer: &str,
        alg: Option<Alg>,
        now: i64,
    ) -> Result<Arc<KeyPair>> {
        let Some(alg) = alg else {
            let mut last = None;
            for alg in [Alg::Sm2, Alg::EdDSA, Alg::Es256] {
                match self.keys.signer(issuer, alg, now).await {
                    Ok(s) => return Ok(s),
                    Err(e) => last = Some(e),
                }
            }
            return Err(last.expect("three algorithms tried"));
        };
        self.keys.signer(issuer, alg, now).await.map_err(|e| {
            if e.code != "issuer.no_key" {
                return e;
            }
            AppError::new(
                ErrorKind::Unavailable,
                "status_list.no_key",
                format!(
                    "status list {id} holds {} credentials of issuer {issuer}, which has no {} \
                     key that may sign now (make one: elicense keygen --issuer {issuer} --alg {})",
                    alg.jws_name(),
                    alg.jws_name(),
                    alg.cli_name()
                ),
            )
        })
    }
}
