//! Status lists of other nodes: checked against the trust list, fetched from their owner and
//! cached by URI.
//!
//! Invariants:
//! - A list is fetched only when its URI lies under the base URL of a node the trust list
//!   names ([`owning_node`]); any other URI is `status.foreign_list` and no request is made.
//! - A token counts only if [`check_token`] accepts it: `typ` `statuslist+jwt`, signed by a
//!   trust-listed key of an issuer held by the owning node and valid at the token's `iat`,
//!   `sub` equal to the URI, `exp` in the future (`status.bad_list`, `status.list_expired`).
//! - A cached list is used without asking for `min(ttl, status_cache_max_secs)` after it
//!   was fetched or revalidated; then it is revalidated with `If-None-Match` (a `304` renews
//!   it). Verifications of one URI share one fetch: the URI's slot is locked while fetching
//!   and whoever waited finds the fresh copy.
//! - A fetch takes at most [`FETCH_TIMEOUT`]. When the owner cannot be reached or answers
//!   badly, the last accepted copy is used while its `exp` lasts (marked `stale`, with its
//!   age); with none, `status.unavailable` (or the token's own problem).
//! - The cache holds at most `capacity` URIs; the least recently used goes first.
//! - Every request to another node counts in `elicense_remote_status_fetches_total{outcome}`
//!   (`fetched`, `not_modified`, `unavailable`, `refused`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use elicense_crypto::status_list::{self, StatusList};
use serde_json::Value;

use super::sources::{StatusFrom, StatusOrigin, StatusReading};
use super::{problem, Category, Problem};
use crate::federation::trust_list::{TrustList, TrustedNode};
use crate::keys::KeyStanding;

/// Longest wait for another node's status list.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Default (and largest) `status_cache_max_secs`.
pub const DEFAULT_MAX_AGE_SECS: u64 = 300;
/// URIs the cache holds at most.
pub const DEFAULT_CAPACITY: usize = 1024;
/// Media type of a Token Status List token.
pub const STATUS_LIST_JWT: &str = "application/statuslist+jwt";

/// The trust-listed node whose base URL `uri` lies under.
pub fn owning_node<'a>(trust: &'a TrustList, uri: &str) -> Option<&'a TrustedNode> {
    trust.nodes.iter().find(|n| {
        let base = n.url.trim_end_matches('/');
        uri.strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// A status-list token that passed [`check_token`].
#[derive(Debug, Clone)]
pub struct CheckedList {
    pub list: StatusList,
    pub iat: i64,
    pub exp: Option<i64>,
    /// The token's `ttl` claim, if any.
    pub ttl: Option<i64>,
    /// The base URL of the owning node.
    pub node: String,
}

fn bad(uri: &str, why: impl std::fmt::Display) -> Problem {
    problem(
        Category::Status,
        "status.bad_list",
        format!("status list {uri}: {why}"),
    )
}

/// Checks a status-list token for `uri` against the trust list (see the module invariants).
pub fn check_token(
    jwt: &str,
    uri: &str,
    trust: &TrustList,
    now: i64,
) -> std::result::Result<CheckedList, Problem> {
    let Some(owner) = owning_node(trust, uri) else {
        return Err(foreign(uri));
    };
    let (parsed, list) = status_list::parse_token(jwt.trim()).map_err(|e| bad(uri, e))?;
    let kid = parsed.header.kid.as_deref().unwrap_or_default();
    let Some((issuer, key)) = trust.issuer_key(kid) else {
        return Err(bad(
            uri,
            format!("signed by key {kid:?}, not a trust-listed key"),
        ));
    };
    if issuer.node.trim_end_matches('/') != owner.url.trim_end_matches('/') {
        return Err(bad(
            uri,
            format!("signed by issuer {} of another node", issuer.code),
        ));
    }
    let verifier = key.jwk.verifier(None).map_err(|e| bad(uri, e))?;
    parsed
        .verify_with(verifier.as_ref())
        .map_err(|e| bad(uri, e))?;
    let claim = |k: &str| parsed.payload.get(k).and_then(Value::as_i64);
    let Some(iat) = claim("iat") else {
        return Err(bad(uri, "no iat"));
    };
    let standing = crate::keys::standing_of(key.not_before, key.retired_at, key.revoked_since, iat);
    if standing != KeyStanding::Valid {
        return Err(bad(uri, "signed with a key not valid at its iat"));
    }
    if parsed.payload.get("sub").and_then(Value::as_str) != Some(uri) {
        return Err(bad(uri, "sub is not the list's URI"));
    }
    let exp = claim("exp");
    if let Some(exp) = exp.filter(|e| *e <= now) {
        return Err(problem(
            Category::Status,
            "status.list_expired",
            format!("status list {uri} expired at {exp}"),
        ));
    }
    Ok(CheckedList {
        list,
        iat,
        exp,
        ttl: claim("ttl"),
        node: owner.url.trim_end_matches('/').to_owned(),
    })
}

fn foreign(uri: &str) -> Problem {
    problem(
        Category::Status,
        "status.foreign_list",
        format!("status list {uri} is neither this node's nor a trust-listed node's"),
    )
}

/// The value of entry `idx`, with its origin.
pub fn read_entry(
    list: &StatusList,
    uri: &str,
    idx: u64,
    origin: StatusOrigin,
) -> std::result::Result<StatusReading, Problem> {
    usize::try_from(idx)
        .ok()
        .and_then(|i| list.get(i))
        .map(|value| StatusReading { value, origin })
        .ok_or_else(|| {
            problem(
                Category::Status,
                "status.unknown_entry",
                format!("no entry {idx} in {uri}"),
            )
        })
}

/// One cached list.
#[derive(Clone)]
struct Cached {
    list: Arc<StatusList>,
    etag: Option<String>,
    /// When it was fetched or last revalidated (monotonic, for the TTL).
    checked: Instant,
    /// The same, in Unix seconds (for the verdict).
    checked_at: i64,
    /// How long it is used without asking.
    ttl: Duration,
    exp: Option<i64>,
    node: String,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

#[derive(Default)]
struct Slots {
    map: HashMap<String, (Slot, u64)>,
    tick: u64,
}

/// Other nodes' status lists, cached by URI (see the module invariants).
pub struct RemoteStatus {
    max_age: Duration,
    capacity: usize,
    slots: Mutex<Slots>,
    fetches: std::sync::atomic::AtomicU64,
}

impl RemoteStatus {
    /// A cache that keeps a list at most `max_age_secs` (at least 1) before revalidating.
    pub fn new(max_age_secs: u64, capacity: usize) -> RemoteStatus {
        RemoteStatus {
            max_age: Duration::from_secs(max_age_secs.max(1)),
            capacity: capacity.max(1),
            slots: Mutex::new(Slots::default()),
            fetches: Default::default(),
        }
    }

    /// Requests sent to other nodes so far (fetches and revalidations).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// URIs held.
    pub fn len(&self) -> usize {
        self.slots.lock().expect("cache lock").map.len()
    }

    /// Whether no URI is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot of `uri`, made (and the least recently used one dropped) if new.
    fn slot(&self, uri: &str) -> Slot {
        let mut s = self.slots.lock().expect("cache lock");
        s.tick += 1;
        let tick = s.tick;
        if let Some((slot, used)) = s.map.get_mut(uri) {
            *used = tick;
            return slot.clone();
        }
        if s.map.len() >= self.capacity {
            if let Some(oldest) = s
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                s.map.remove(&oldest);
            }
        }
        let slot = Slot::default();
        s.map.insert(uri.to_owned(), (slot.clone(), tick));
        slot
    }

    /// Entry `idx` of the list `uri` of another node (see the module invariants).
    pub async fn value(
        &self,
        trust: Option<&TrustList>,
        uri: &str,
        idx: u64,
        now: i64,
    ) -> std::result::Result<StatusReading, Problem> {
        let Some(trust) = trust else {
            return Err(foreign(uri));
        };
        if owning_node(trust, uri).is_none() {
            return Err(foreign(uri));
        }
        let slot = self.slot(uri);
        let mut held = slot.lock().await;
        let usable = |c: &Cached| c.exp.is_none_or(|e| e > now);
        if let Some(c) = held.as_ref().filter(|c| usable(c)) {
            if c.checked.elapsed() < c.ttl {
                return read_entry(&c.list, uri, idx, origin(c, uri, now, false));
            }
        }
        let etag = held
            .as_ref()
            .filter(|c| usable(c))
            .and_then(|c| c.etag.clone());
        match self.fetch(trust, uri, etag.as_deref(), now).await {
            Ok(Fetched::NotModified) if held.as_ref().is_some_and(usable) => {
                let c = held.as_mut().expect("checked above");
                c.checked = Instant::now();
                c.checked_at = now;
                read_entry(&c.list, uri, idx, origin(c, uri, now, false))
            }
            Ok(Fetched::NotModified) => Err(unavailable(uri, "304 without a cached copy")),
            Ok(Fetched::Fresh(checked, etag)) => {
                let ttl = checked
                    .ttl
                    .and_then(|t| u64::try_from(t).ok())
                    .map_or(self.max_age, |t| Duration::from_secs(t).min(self.max_age));
                let c = Cached {
                    list: Arc::new(checked.list),
                    etag,
                    checked: Instant::now(),
                    checked_at: now,
                    ttl,
                    exp: checked.exp,
                    node: checked.node,
                };
                let out = read_entry(&c.list, uri, idx, origin(&c, uri, now, false));
                *held = Some(c);
                out
            }
            Err(p) => match held.as_ref().filter(|c| usable(c)) {
                Some(c) => {
                    tracing::warn!(uri, code = %p.code, "status list not refreshed, using the last copy: {}", p.message);
                    read_entry(&c.list, uri, idx, origin(c, uri, now, true))
                }
                None => Err(p),
            },
        }
    }

    async fn fetch(
        &self,
        trust: &TrustList,
        uri: &str,
        etag: Option<&str>,
        now: i64,
    ) -> std::result::Result<Fetched, Problem> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = match fetch_token(uri, etag).await {
            Ok((304, _, _)) => Ok(Fetched::NotModified),
            Ok((_, etag, body)) => {
                check_token(&body, uri, trust, now).map(|c| Fetched::Fresh(c, etag))
            }
            Err(p) => Err(p),
        };
        let outcome = match &out {
            Ok(Fetched::NotModified) => "not_modified",
            Ok(Fetched::Fresh(..)) => "fetched",
            Err(p) if p.code == "status.unavailable" => "unavailable",
            Err(_) => "refused",
        };
        metrics::counter!("elicense_remote_status_fetches_total", "outcome" => outcome)
            .increment(1);
        out
    }
}

enum Fetched {
    NotModified,
    Fresh(CheckedList, Option<String>),
}

fn origin(c: &Cached, uri: &str, now: i64, stale: bool) -> StatusOrigin {
    StatusOrigin {
        from: StatusFrom::Remote,
        uri: uri.to_owned(),
        node: Some(c.node.clone()),
        fetched_at: Some(c.checked_at),
        age_secs: Some((now - c.checked_at).max(0)),
        ttl_secs: Some(c.ttl.as_secs() as i64),
        stale,
    }
}

fn unavailable(uri: &str, why: impl std::fmt::Display) -> Problem {
    problem(
        Category::Status,
        "status.unavailable",
        format!("status list {uri} could not be read from its node: {why}"),
    )
}

/// `GET uri` (`Accept: application/statuslist+jwt`, `If-None-Match` when `etag`), within
/// [`FETCH_TIMEOUT`]: the HTTP status (200 or 304), the answer's `ETag` and body.
pub async fn fetch_token(
    uri: &str,
    etag: Option<&str>,
) -> std::result::Result<(u16, Option<String>, String), Problem> {
    let mut req = crate::federation::peer::client()
        .get(uri)
        .timeout(FETCH_TIMEOUT)
        .header(reqwest::header::ACCEPT, STATUS_LIST_JWT);
    if let Some(etag) = etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    let resp = req.send().await.map_err(|e| unavailable(uri, e))?;
    let status = resp.status().as_u16();
    let etag = resp
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match status {
        304 => Ok((304, etag, String::new())),
        200 => {
            let body = resp.text().await.map_err(|e| unavailable(uri, e))?;
            Ok((200, etag, body))
        }
        other => Err(unavailable(uri, format!("HTTP {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::trust_list::{TrustedIssuer, TrustedKey};
    use elicense_core::NodeLevel;
    use elicense_crypto::{jws, Alg, Jwks, KeyPair, Signer as _};

    const NODE: &str = "http://127.0.0.1:9001";
    const URI: &str = "http://127.0.0.1:9001/status-lists/3";

    fn key() -> KeyPair {
        KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng)
    }

    fn trust(k: &KeyPair, issuer_node: &str, revoked_since: Option<i64>) -> TrustList {
        let mut jwk = k.public_jwk();
        jwk.kid = Some(k.kid().to_string());
        TrustList {
            iss: "http://127.0.0.1:9000".into(),
            seq: 1,
            iat: 0,
            exp: 10_000,
            nodes: vec![TrustedNode {
                url: NODE.into(),
                area: "110000".into(),
                level: NodeLevel::Province,
                parent: None,
                keys: Jwks::default(),
                witness_key: String::new(),
                log_keys: vec![],
                log_origin: None,
                seal_cas: Default::default(),
            }],
            issuers: vec![TrustedIssuer {
                code: "11100000000000000X".into(),
                name: "issuer".into(),
                node: issuer_node.into(),
                keys: vec![TrustedKey {
                    jwk,
                    not_before: 0,
                    retired_at: None,
                    revoked_since,
                }],
                successor: None,
                ended_at: None,
            }],
            recognition: vec![],
        }
    }

    fn token(k: &KeyPair, sub: &str, iat: i64, exp: i64) -> String {
        let mut list = StatusList::new(2, 16).unwrap();
        list.set(5, 1).unwrap();
        let payload = status_list::token_payload(&list, sub, iat, Some(exp), Some(60));
        jws::sign(k, &status_list::token_header(k.alg(), k.kid()), &payload).unwrap()
    }

    fn code(r: std::result::Result<CheckedList, Problem>) -> String {
        r.map(|_| ()).unwrap_err().code
    }

    #[test]
    fn a_token_counts_only_from_its_owner_signed_for_its_uri_and_unexpired() {
        let k = key();
        let t = trust(&k, NODE, None);
        let ok = check_token(&token(&k, URI, 100, 1_000), URI, &t, 500).unwrap();
        assert_eq!((ok.list.get(5), ok.list.get(4)), (Some(1), Some(0)));
        assert_eq!(
            (ok.ttl, ok.exp, ok.node.as_str()),
            (Some(60), Some(1_000), NODE)
        );

        // Another key, a key of an issuer held by another node, a key revoked at iat.
        assert_eq!(
            code(check_token(&token(&key(), URI, 100, 1_000), URI, &t, 500)),
            "status.bad_list"
        );
        let elsewhere = trust(&k, "http://127.0.0.1:9002", None);
        assert_eq!(
            code(check_token(
                &token(&k, URI, 100, 1_000),
                URI,
                &elsewhere,
                500
            )),
            "status.bad_list"
        );
        let revoked = trust(&k, NODE, Some(100));
        assert_eq!(
            code(check_token(&token(&k, URI, 100, 1_000), URI, &revoked, 500)),
            "status.bad_list"
        );
        // Signed for another list, expired, under no trust-listed node.
        let other = "http://127.0.0.1:9001/status-lists/4";
        assert_eq!(
            code(check_token(&token(&k, other, 100, 1_000), URI, &t, 500)),
            "status.bad_list"
        );
        assert_eq!(
            code(check_token(&token(&k, URI, 100, 1_000), URI, &t, 1_000)),
            "status.list_expired"
        );
        let foreign = "http://127.0.0.1:9003/status-lists/3";
        assert_eq!(
            code(check_token(
                &token(&k, foreign, 100, 1_000),
                foreign,
                &t,
                500
            )),
            "status.foreign_list"
        );
        // A base URL is not a prefix of a longer host name.
        assert!(owning_node(&t, "http://127.0.0.1:90011/status-lists/3").is_none());
        assert!(owning_node(&t, URI).is_some());
        // Not a token at all.
        assert_eq!(code(check_token("x.y.z", URI, &t, 500)), "status.bad_list");
    }

    #[tokio::test]
    async fn untrusted_uris_are_never_fetched_and_the_cache_is_bounded() {
        let k = key();
        let t = trust(&k, NODE, None);
        let cache = RemoteStatus::new(1, 2);
        let p = cache
            .value(Some(&t), "http://127.0.0.1:1/status-lists/1", 0, 500)
            .await
            .unwrap_err();
        assert_eq!(p.code, "status.foreign_list");
        let p = cache.value(None, URI, 0, 500).await.unwrap_err();
        assert_eq!(p.code, "status.foreign_list");
        assert_eq!(cache.fetches(), 0);
        assert!(cache.is_empty());
        for i in 0..5 {
            cache.slot(&format!("{NODE}/status-lists/{i}"));
        }
        assert_eq!(cache.len(), 2);
        // The most recently used stay.
        let held: Vec<String> = cache.slots.lock().unwrap().map.keys().cloned().collect();
        assert!(held.contains(&format!("{NODE}/status-lists/4")), "{held:?}");
        assert!(held.contains(&format!("{NODE}/status-lists/3")), "{held:?}");
    }
}
