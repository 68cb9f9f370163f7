//! Publishing and refreshing the signed trust list ([`super::trust_list`]).
//!
//! On the national hub, [`publish`] assembles the list ([`assemble`]: the hub itself, the
//! nodes and issuers its children reported (`fed_nodes`, `fed_issuers`) and those another
//! component pushed into [`TrustInputs`], its own issuers, the recognition lists), numbers it
//! from the store ([`elicense_store::TrustStore::next_trust_seq`]), signs it with the node
//! key and holds it. Every other member node fetches its parent's copy ([`refresh_once`]),
//! installs it against the pinned hub keys ([`anchors`]) and keeps the accepted JWS in
//! `DIR/trust-list.jwt` (0600), loaded again at start ([`load_saved`]).
//!
//! Invariants:
//! - A node holds only lists [`TrustState::install`] accepted: signed by a pinned hub key,
//!   not expired, never older than the one held. A refused list changes nothing (the node
//!   keeps its list), is logged and counted (`elicense_trust_list_refusals_total{code}`).
//! - The hub republishes when its inputs change (their hash differs from the last
//!   published, or [`TrustInputs::changed`] was called) and when less than half of the
//!   held list's lifetime is left; a restarted hub publishes at once with the next number,
//!   so sequence numbers grow across restarts.
//! - The saved file is written only with a list the node accepted (atomically: a temporary
//!   file renamed over it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use elicense_core::NodeLevel;
use elicense_crypto::Jwks;
use sha2::Digest;

use super::peer::{self, document_of};
use super::trust_list::{local_issuers, TrustList, TrustedIssuer, TrustedNode};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The well-known path of the trust list.
pub const TRUST_LIST_PATH: &str = "/.well-known/elicense-trust-list";
/// The file a node keeps its accepted list in.
pub const TRUST_LIST_FILE: &str = "trust-list.jwt";

/// What the hub's list is built from besides the store, and the publishing state.
#[derive(Default)]
pub struct TrustInputs {
    remote: Mutex<(Vec<TrustedNode>, Vec<TrustedIssuer>)>,
    published: Mutex<Option<[u8; 32]>>,
    dirty: AtomicBool,
    wake: tokio::sync::Notify,
    /// Lists refused (bad signature, expired, rolled back, unreachable parent not counted).
    pub refusals: AtomicU64,
}

impl TrustInputs {
    /// Sets the remote nodes and issuers (replacing the ones set before); the hub
    /// republishes.
    pub fn set_remote(&self, nodes: Vec<TrustedNode>, issuers: Vec<TrustedIssuer>) {
        *self.remote.lock().expect("trust inputs") = (nodes, issuers);
        self.changed();
    }

    /// The remote nodes and issuers set.
    pub fn remote(&self) -> (Vec<TrustedNode>, Vec<TrustedIssuer>) {
        self.remote.lock().expect("trust inputs").clone()
    }

    /// Something the list is built from changed: the hub republishes soon.
    pub fn changed(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

fn invalid(msg: String) -> AppError {
    AppError::new(ErrorKind::Invalid, "config.invalid", msg)
}

/// True for the national hub.
pub fn is_hub(node: &Node) -> bool {
    node.config
        .federation
        .identity()
        .is_some_and(|i| i.level() == NodeLevel::National)
}

/// The keys a trust list must be signed with: the hub its own node key; another member its
/// pinned `hub_keys` (`config.invalid` when unset or unreadable); a standalone node none.
pub fn anchors(node: &Node) -> Result<Option<Jwks>> {
    if node.config.federation.identity().is_none() {
        return Ok(None);
    }
    if is_hub(node) {
        return Ok(Some(public_node_keys(node)?));
    }
    let Some(path) = &node.config.trust.hub_keys else {
        return Err(invalid(
            "a member node needs the hub's keys pinned: hub_keys in elicense.toml, \
             ELICENSE_HUB_KEYS or serve --hub-keys FILE (a JWKS file; the hub's operator \
             writes it with `elicense node keys`)"
                .into(),
        ));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("hub_keys {}: {e}", path.display())))?;
    let mut jwks: Jwks = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("hub_keys {}: not a JWKS: {e}", path.display())))?;
    if jwks.keys.is_empty() {
        return Err(invalid(format!("hub_keys {}: no key", path.display())));
    }
    for k in &mut jwks.keys {
        if k.kid.is_none() {
            k.kid = Some(k.thumbprint());
        }
    }
    Ok(Some(jwks))
}

/// The node's public node key(s) as a JWKS, each with its `kid` (RFC 7638 thumbprint): what
/// `elicense node keys` writes for the other nodes to pin when this node is the hub.
pub fn public_node_keys(node: &Node) -> Result<Jwks> {
    let mut jwks = node.node_keys.jwks()?;
    for k in &mut jwks.keys {
        k.kid = Some(k.thumbprint());
    }
    Ok(jwks)
}

/// Assembles the hub's list: the hub itself, `nodes` (deduplicated by URL, the hub's own
/// entry first), its own issuers and `issuers` (by code, its own first), the recognition
/// lists, the next sequence number, `iat` now and `exp` now + the configured lifetime.
pub async fn assemble(
    node: &Node,
    nodes: Vec<TrustedNode>,
    issuers: Vec<TrustedIssuer>,
) -> Result<TrustList> {
    let mut list = inputs(node, nodes, issuers).await?;
    list.seq = node.store.next_trust_seq().await?;
    list.iat = node.now();
    list.exp = list.iat + node.config.trust.list_ttl_secs;
    Ok(list)
}

/// The list without number and times (`seq`, `iat`, `exp` zero).
async fn inputs(
    node: &Node,
    nodes: Vec<TrustedNode>,
    issuers: Vec<TrustedIssuer>,
) -> Result<TrustList> {
    let own = peer::own_trusted_node(node).await?;
    let mut all_nodes = vec![own.clone()];
    for n in nodes {
        if !all_nodes.iter().any(|m| m.url == n.url) {
            all_nodes.push(n);
        }
    }
    let mut all_issuers = local_issuers(node).await?;
    for i in issuers {
        if !all_issuers.iter().any(|j| j.code == i.code) {
            all_issuers.push(i);
        }
    }
    let recognition = super::recognition::stored(node).await?;
    Ok(TrustList {
        iss: own.url,
        seq: 0,
        iat: 0,
        exp: 0,
        nodes: all_nodes,
        issuers: all_issuers,
        recognition,
    })
}

/// The remote nodes and issuers the hub knows: reported by children, then pushed.
async fn remote(node: &Node) -> Result<(Vec<TrustedNode>, Vec<TrustedIssuer>)> {
    let mut nodes = Vec::new();
    for r in node.store.fed_nodes().await? {
        nodes.push(document_of(&r)?);
    }
    let mut issuers = Vec::new();
    for (code, _, doc) in node.store.fed_issuers().await? {
        issuers.push(serde_json::from_str(&doc).map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                "store.corrupt",
                format!("reported issuer {code}: {e}"),
            )
        })?);
    }
    let (n, i) = node.trust_inputs.remote();
    nodes.extend(n);
    issuers.extend(i);
    Ok((nodes, issuers))
}

/// On the hub: publishes a new list if the inputs changed or the held one is past half its
/// life (see the module invariants); returns the list held.
pub async fn publish(node: &Node) -> Result<Arc<TrustList>> {
    let anchors = anchors(node)?.expect("the hub pins its own key");
    let (nodes, issuers) = remote(node).await?;
    let draft = inputs(node, nodes.clone(), issuers.clone()).await?;
    let hash: [u8; 32] =
        sha2::Sha256::digest(serde_json::to_vec(&draft).expect("serialisable")).into();
    let now = node.now();
    let dirty = node.trust_inputs.dirty.swap(false, Ordering::SeqCst);
    if let Some(cur) = node.trust.current() {
        let same = *node.trust_inputs.published.lock().expect("trust") == Some(hash);
        let fresh = cur.exp - now > node.config.trust.list_ttl_secs / 2;
        if same && fresh && !dirty {
            return Ok(cur);
        }
    }
    let mut list = draft;
    list.seq = node.store.next_trust_seq().await?;
    list.iat = now;
    list.exp = now + node.config.trust.list_ttl_secs;
    let keys = node.node_keys.get()?;
    let jws = list.sign(&keys.node)?;
    let held = node.trust.install(&jws, &anchors, now)?;
    *node.trust_inputs.published.lock().expect("trust") = Some(hash);
    save(node, &jws);
    metrics::gauge!("elicense_trust_list_seq").set(held.seq as f64);
    tracing::info!(seq = held.seq, "trust list published");
    Ok(held)
}

fn saved_path(node: &Node) -> Option<PathBuf> {
    node.config
        .data_dir
        .as_ref()
        .map(|d| d.join(TRUST_LIST_FILE))
}

/// Writes the accepted JWS to the data dir (0600, atomically); a failure is logged.
fn save(node: &Node, jws: &str) {
    let Some(path) = saved_path(node) else { return };
    let tmp = path.with_extension(format!("jwt.tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let out = crate::config::write_private_file(&tmp, jws.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = out {
        tracing::warn!(path = %path.display(), error = %e, "trust list not saved");
    }
}

fn refused(node: &Node, from: &str, e: &AppError) {
    node.trust_inputs.refusals.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("elicense_trust_list_refusals_total", "code" => e.code).increment(1);
    tracing::warn!(from, code = e.code, error = %e.message, "trust list refused");
}

/// Installs the list saved in the data dir, if any (still verified: a saved list that
/// expired meanwhile is refused and the node starts without one).
pub fn load_saved(node: &Node) -> Result<Option<Arc<TrustList>>> {
    let (Some(anchors), Some(path)) = (anchors(node)?, saved_path(node)) else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    match node.trust.install(&text, &anchors, node.now()) {
        Ok(l) => Ok(Some(l)),
        Err(e) => {
            refused(node, &path.display().to_string(), &e);
            Ok(None)
        }
    }
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The node holds this list (new or the same as before).
    Holding(u64),
}

async fn fetch(base: &str) -> Result<String> {
    let url = format!("{}{TRUST_LIST_PATH}", base.trim_end_matches('/'));
    let resp = peer::client()
        .get(&url)
        .send()
        .await
        .map_err(|e| peer::unreachable(&url, e))?;
    if !resp.status().is_success() {
        return Err(peer::unreachable(
            &url,
            format!("answered {}", resp.status()),
        ));
    }
    resp.text().await.map_err(|e| peer::unreachable(&url, e))
}

/// On a member node below the hub: fetches the parent's list (else the hub's, named by the
/// list held) and installs it (see the module invariants). A refused list is an error with
/// its `trust_list.*` code; the list held stays.
pub async fn refresh_once(node: &Node) -> Result<Refreshed> {
    let Some(anchors) = anchors(node)? else {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "federation.standalone",
            "a standalone node has no trust list",
        ));
    };
    let parent = node
        .config
        .federation
        .identity()
        .and_then(|i| i.parent())
        .map(|p| p.to_string());
    let mut sources: Vec<String> = parent.into_iter().collect();
    if let Some(hub) = node.trust.current().map(|l| l.iss.clone()) {
        if !sources.contains(&hub) {
            sources.push(hub);
        }
    }
    let mut last = None;
    for src in sources {
        match fetch(&src).await {
            Ok(jws) => {
                return match node.trust.install(&jws, &anchors, node.now()) {
                    Ok(l) => {
                        save(node, &jws);
                        metrics::gauge!("elicense_trust_list_seq").set(l.seq as f64);
                        if let Err(e) = witness_hub(node, &l).await {
                            tracing::warn!(code = e.code, error = %e.message,
                                "not a witness of the hub's log");
                        }
                        Ok(Refreshed::Holding(l.seq))
                    }
                    Err(e) => {
                        refused(node, &src, &e);
                        Err(e)
                    }
                };
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        AppError::new(
            ErrorKind::Unavailable,
            "federation.unreachable",
            "no parent and no hub to fetch the trust list from",
        )
    }))
}

/// Makes this node a witness of the hub's own log, with the log keys the accepted list gives
/// for the hub (the hub, having no parent, asks its children to co-sign its checkpoints).
/// Writes only when the hub's log or keys changed.
async fn witness_hub(node: &Node, list: &TrustList) -> Result<()> {
    let Some(hub) = list.node(&list.iss) else {
        return Ok(());
    };
    let Some(origin) = hub.log_origin.as_deref() else {
        return Ok(());
    };
    if hub.log_keys.is_empty() {
        return Ok(());
    }
    let known = node.store.witnessed_log(origin).await?;
    if known.is_some_and(|k| k.vkeys == hub.log_keys && k.url == hub.url) {
        return Ok(());
    }
    super::witness::admit(node, origin, &hub.log_keys, &hub.url).await
}

/// Least time between two fetches of the trust list forced by an unknown node.
const FORCED_REFRESH_SECS: i64 = 2;

/// Fetches the trust list now because a node it does not name signed something (it may have
/// joined since the list held was fetched): not on the hub (it makes the list), and at most
/// once every [`FORCED_REFRESH_SECS`] whatever arrives. Whether a list was installed.
pub async fn refresh_for_unknown_node(node: &Node) -> bool {
    if is_hub(node) || node.config.federation.identity().is_none() {
        return false;
    }
    let now = node.now();
    let last = node
        .federation
        .forced_trust_refresh
        .swap(now, Ordering::Relaxed);
    if now - last < FORCED_REFRESH_SECS {
        return false;
    }
    match refresh_once(node).await {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(code = e.code, error = %e.message, "trust list not refreshed");
            false
        }
    }
}

/// The background task of a member node: loads the saved list, then publishes (hub) or
/// refreshes (others) at the configured interval, sooner when the held list nears expiry
/// or (hub) when an input changed. Never returns.
pub async fn run(node: Arc<Node>) {
    if !is_hub(&node) {
        if let Err(e) = load_saved(&node) {
            tracing::warn!(code = e.code, error = %e.message, "saved trust list not loaded");
        }
    }
    let interval = Duration::from_secs(node.config.trust.refresh_secs);
    loop {
        let out = if is_hub(&node) {
            publish(&node).await.map(|l| l.seq)
        } else {
            refresh_once(&node).await.map(|Refreshed::Holding(s)| s)
        };
        if let Err(e) = &out {
            if !e.code.starts_with("trust_list.") {
                tracing::warn!(code = e.code, error = %e.message, "trust list not refreshed");
            }
        }
        // Sooner when less than an interval is left before the held list expires.
        let left = node
            .trust
            .current()
            .map(|l| l.exp - node.now())
            .unwrap_or(i64::MAX);
        let wait = if left <= interval.as_secs() as i64 {
            Duration::from_secs(1)
        } else {
            interval
        };
        let _ = tokio::time::timeout(wait, node.trust_inputs.wake.notified()).await;
    }
}
