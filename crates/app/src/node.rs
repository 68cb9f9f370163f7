//! A node: the store, the clock, keys, catalogue and status lists, shared by every use case.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;

use elicense_core::holder::HolderCode;
use elicense_crypto::Alg;
use elicense_store::sqlite::SqliteOptions;
use elicense_store::{IssuerRecord, SqliteStore, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cache::TtlCache;
use crate::catalogue::CatalogueCache;
use crate::clock::{Clock, SystemClock};
use crate::config::NodeConfig;
use crate::error::Result;
use crate::keys::KeyRing;
use crate::status::StatusLists;

/// Largest block of serials and status slots a node reserves at once.
const MAX_RESERVATION: u32 = 1024;

/// One serial number and one status slot, reserved for one new license.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub serial: u64,
    pub list: u32,
    pub idx: u32,
}

#[derive(Default)]
struct Reserved {
    free: VecDeque<Slot>,
    /// Size of the next block: grows while a process keeps issuing, so one-off CLI commands
    /// waste no slots and bulk imports make few round trips.
    next_block: u32,
    /// A caller is reserving the next block: the others take what is left or wait for it.
    refilling: bool,
    /// Woken when a reservation ends (with slots or with an error).
    refilled: Arc<Notify>,
}

impl Reserved {
    /// Reserve the next block when none is left or fewer than half of its size, so that a
    /// busy (type, issuer, algorithm) does not wait for the store.
    fn wants_refill(&self) -> bool {
        !self.refilling && (self.free.is_empty() || (self.free.len() as u32) < self.next_block / 2)
    }
}

/// Ends a reservation however its caller stops (an error, a dropped request): clears the flag
/// and wakes the waiters, one of whom then reserves again.
struct RefillGuard<'a> {
    node: &'a Node,
    key: &'a ReservationKey,
}

/// What a reservation is for: serials count per (type, issuer), status slots per (issuer,
/// algorithm), so each block is for one (type, issuer, algorithm).
type ReservationKey = (String, String, Alg);

impl Drop for RefillGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.node.reserved.lock().expect("reservation lock");
        if let Some(r) = map.get_mut(self.key) {
            r.refilling = false;
            r.refilled.notify_waiters();
        }
    }
}

/// Everything the use cases share.
/// Most checked inclusions a node remembers.
pub const INCLUDED_CACHE: usize = 100_000;

pub struct Node {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: NodeConfig,
    pub keys: Arc<KeyRing>,
    pub catalogue: CatalogueCache,
    pub status: StatusLists,
    /// The event log: signers, checkpoints, proofs.
    pub log: crate::log::EventLog,
    /// The federation keys: node (request signing) and witness.
    pub node_keys: crate::federation::keys::NodeKeys,
    /// The OpenID4VP verifier identity: key, certificate, client identifier.
    pub verifier: crate::openid4vp::VerifierKeys,
    /// Wakes the webhook deliverer of presentation results (`institutions::presentations`).
    pub vp_webhooks: tokio::sync::Notify,
    /// The newest signed trust list this node has accepted (none on a standalone node).
    pub trust: crate::federation::trust_list::TrustState,
    /// Other nodes' status lists, fetched and cached for verification.
    pub remote_status: crate::verify::remote::RemoteStatus,
    /// What the hub's trust list is built from besides the store; refusal counter.
    pub trust_inputs: crate::federation::trust::TrustInputs,
    /// Upward sync: counters, the holder-hash key, the push loop's wake-up.
    pub federation: crate::federation::sync::FederationState,
    /// Per-institution limits on sharing requests and their alerts.
    pub share_guard: crate::institutions::Guard,
    /// The witness's per-process state (fork reports made).
    pub witness: crate::federation::witness::WitnessState,
    /// The seal CAs and decrypted seal keys of this process.
    pub seals: crate::seals::SealState,
    reserved: Mutex<HashMap<ReservationKey, Reserved>>,
    issuers: TtlCache<String, IssuerRecord>,
    faces: OnceLock<Arc<elicense_face::Faces>>,
    /// Events whose inclusion in a signed checkpoint was checked, by seq: the log is
    /// append-only, so a checked inclusion stays true.
    included: Mutex<HashMap<i64, u64>>,
}

impl Node {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: NodeConfig) -> Arc<Node> {
        let keys = Arc::new(KeyRing::new(store.clone(), config.key_password.clone()));
        Arc::new(Node {
            catalogue: CatalogueCache::new(store.clone()),
            status: StatusLists::new(store.clone(), keys.clone(), &config.base_url),
            log: crate::log::EventLog::new(&config),
            node_keys: crate::federation::keys::NodeKeys::new(&config),
            verifier: crate::openid4vp::VerifierKeys::new(&config),
            vp_webhooks: tokio::sync::Notify::new(),
            trust: Default::default(),
            remote_status: crate::verify::remote::RemoteStatus::new(
                config.status_cache_max_secs,
                crate::verify::remote::DEFAULT_CAPACITY,
            ),
            trust_inputs: Default::default(),
            federation: Default::default(),
            share_guard: crate::institutions::Guard::new(config.share_limits),
            witness: Default::default(),
            seals: Default::default(),
            keys,
            store,
            clock,
            config,
            reserved: Mutex::new(HashMap::new()),
            issuers: TtlCache::default(),
            faces: OnceLock::new(),
            included: Mutex::new(HashMap::new()),
        })
    }

    /// [`crate::log::event_in_log`], remembered once found (at most [`INCLUDED_CACHE`]
    /// events; the cache starts over when full).
    pub async fn event_in_log_cached(
        &self,
        e: &elicense_store::EventRecord,
    ) -> crate::error::Result<Option<u64>> {
        let seq = e.seq;
        if let Some(i) = self.included.lock().expect("cache lock").get(&seq) {
            return Ok(Some(*i));
        }
        let found = crate::log::event_in_log(self, e).await?;
        if let Some(i) = found {
            let mut m = self.included.lock().expect("cache lock");
            if m.len() >= INCLUDED_CACHE {
                m.clear();
            }
            m.insert(seq, i);
        }
        Ok(found)
    }

    /// Opens the node whose data lives in `dir` (SQLite file `elicense.db`), system clock.
    pub fn open_dir(dir: &Path) -> Result<Arc<Node>> {
        let config = NodeConfig::load(dir)?;
        let path = config.sqlite_path().expect("a data dir config has a path");
        let store = SqliteStore::open(path, SqliteOptions::default())?;
        Ok(Node::new(Arc::new(store), Arc::new(SystemClock), config))
    }

    /// A registered issuing authority (cached briefly; unknown codes are always re-read).
    pub async fn issuer(&self, code: &str) -> Result<Option<IssuerRecord>> {
        if let Some(rec) = self.issuers.get(&code.to_string()) {
            return Ok(Some(rec));
        }
        let rec = self.store.issuer(code).await?;
        if let Some(r) = &rec {
            self.issuers.put(code.to_string(), r.clone());
        }
        Ok(rec)
    }

    /// The face renderer (fonts loaded on first use; templates from the data dir's `faces/`
    /// first, then the built-in ones).
    pub fn faces(&self) -> &Arc<elicense_face::Faces> {
        self.faces.get_or_init(|| {
            let faces = elicense_face::Faces::new();
            Arc::new(match &self.config.data_dir {
                Some(dir) => faces.with_template_dir(dir),
                None => faces,
            })
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The `iss` of credentials signed for issuer `uscc`.
    pub fn issuer_url(&self, uscc: &str) -> String {
        format!("{}/issuers/{uscc}", self.config.base_url)
    }

    /// The `vct` of credentials of a license type (stable across nodes).
    pub fn vct(type_code: &str) -> String {
        format!("urn:elicense:type:{type_code}")
    }

    /// The keyed hash under which a holder's licenses are found (hex HMAC-SHA256).
    pub fn holder_key(&self, code: &HolderCode) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.config.holder_secret)
            .expect("HMAC takes any key length");
        mac.update(code.kind().code().as_bytes());
        mac.update(b":");
        mac.update(code.value().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Takes one reserved serial and status slot for a license of (type, issuer) signed with
    /// `alg`, reserving more as needed. The slot lies in one of the issuer's lists of `alg`,
    /// which its key of `alg` signs, so a verifier that checks the credential can check its
    /// status list with the same algorithm.
    ///
    /// One reservation per (type, issuer, algorithm) is in flight at a time: when a block runs low one
    /// caller reserves the next while the others go on taking what is left, and callers that
    /// find none left wait for it instead of each reserving a block of their own (hundreds of
    /// concurrent import rows would otherwise reserve hundreds of blocks at once, each its own
    /// transaction, and leave most of their slots unused).
    ///
    /// The issuer must have a key of `alg` that may sign now (`issuer.no_key` otherwise), so
    /// that no list of an algorithm its issuer cannot sign is made.
    pub async fn take_slot(&self, type_code: &str, issuer: &str, alg: Alg) -> Result<Slot> {
        self.keys.signer(issuer, alg, self.now()).await?;
        let key = (type_code.to_string(), issuer.to_string(), alg);
        loop {
            let (slot, refill, refilled) = {
                let mut map = self.reserved.lock().expect("reservation lock");
                let r = map.entry(key.clone()).or_default();
                let slot = r.free.pop_front();
                let refill = r.wants_refill();
                if refill {
                    r.refilling = true;
                }
                (slot, refill, r.refilled.clone())
            };
            if refill {
                let reserved = self.reserve_block(&key).await;
                match (slot, reserved) {
                    (Some(s), Err(e)) => {
                        // This caller has its slot; the next one to run low tries again.
                        tracing::warn!(error = %e, "reserving status slots ahead failed");
                        return Ok(s);
                    }
                    (None, Err(e)) => return Err(e),
                    (Some(s), Ok(())) => return Ok(s),
                    (None, Ok(())) => continue,
                }
            }
            if let Some(s) = slot {
                return Ok(s);
            }
            // None left and another caller is reserving: wait for it. `enable` registers the
            // waiter before the check, so a reservation that ends in between is not missed.
            let notified = refilled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let map = self.reserved.lock().expect("reservation lock");
                let r = &map[&key];
                if !r.free.is_empty() || !r.refilling {
                    continue;
                }
            }
            notified.await;
        }
    }

    /// Reserves the next block for `key` (whose `refilling` flag the caller has set) and adds
    /// it to the free slots.
    async fn reserve_block(&self, key: &ReservationKey) -> Result<()> {
        let _guard = RefillGuard { node: self, key };
        let block = {
            let mut map = self.reserved.lock().expect("reservation lock");
            let r = map.get_mut(key).expect("the caller created the entry");
            let n = r.next_block.max(1);
            r.next_block = (n * 2).min(MAX_RESERVATION);
            n
        };
        let res = self
            .store
            .reserve(&key.0, &key.1, key.2.cli_name(), block)
            .await?;
        let slots = res.slots.iter().enumerate().map(|(i, (list, idx))| Slot {
            serial: res.first_serial + i as u64,
            list: *list,
            idx: *idx,
        });
        let mut map = self.reserved.lock().expect("reservation lock");
        map.get_mut(key)
            .expect("entries are never removed")
            .free
            .extend(slots);
        Ok(())
    }
}
