//! Finding the node that owns a license, and its answer signed: "who issues, verifies".
//!
//! A node answers for its own licenses with a statement signed by its node key (compact JWS,
//! `typ` [`LOCATION_TYP`]: identifier, owning node, status, when it last changed, when it was
//! said). For any other license it finds the owner and passes on the owner's signed answer:
//! the owner named by its directory (its subtree, from upward sync), else the node of the
//! license's issuer in the trust list, else the hub (which does the same from the national
//! directory). The owner found is cached: the next lookup asks it directly, one round trip,
//! so a status the answer gives is never older than that round trip.
//!
//! Invariants:
//! - A [`Location`] this module returns for a license of another node carries a statement
//!   that verified with a key of the node it names, for exactly the identifier asked
//!   (`federation.bad_answer` otherwise).
//! - What is cached is who owns a version, at most [`CACHE_SECS`]; an owner that no longer
//!   knows it is forgotten and the owner looked up again.
//! - A node asked with `scope=own` answers only for its own licenses and never asks anyone:
//!   every forwarded request carries it, so a lookup never goes round in circles.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use elicense_core::lifecycle::Status;
use elicense_core::Identifier;
use elicense_crypto::{jws, Jwks, Signer};
use serde::{Deserialize, Serialize};

use super::peer;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The public lookup endpoint (`/federation/v1/directory/{identifier}`).
pub const DIRECTORY_PATH: &str = "/federation/v1/directory";
/// How long the owner of a version, learned from another node, is kept.
pub const CACHE_SECS: i64 = 60;
/// The JWS `typ` of an owning node's statement.
pub const LOCATION_TYP: &str = "elicense-location+jwt";

/// How far a node looks for the owner of a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Its own licenses, then the owner found through its directory, the trust list or the hub.
    #[default]
    Network,
    /// Its own licenses only (what a node asks of another; never forwarded).
    Own,
}

/// What the owning node signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Statement {
    identifier: String,
    node: String,
    status: Status,
    updated_at: i64,
    iat: i64,
}

/// Where a license version lives, as its owning node says (signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    pub identifier: String,
    /// The owning node's base URL.
    pub node: String,
    /// The version's status, as the owning node said it.
    #[schema(value_type = String)]
    pub status: Status,
    /// Unix seconds of the version's last change at the owning node.
    pub updated_at: i64,
    /// How the owner was found: `local` (this node), `directory` (this node's subtree),
    /// `issuer` (the issuer's node in the trust list), `hub` (the national directory).
    pub source: String,
    /// The owning node's statement: a compact JWS (`typ` `elicense-location+jwt`, signed
    /// with a node key it publishes) of `identifier`, `node`, `status`, `updated_at` and
    /// `iat` (when it said so).
    pub signed: String,
}

/// Owners learned (identifier → owner URL, how it was found, when).
#[derive(Default)]
pub struct LocationCache(Mutex<HashMap<String, (String, &'static str, i64)>>);

impl LocationCache {
    fn get(&self, id: &Identifier, now: i64) -> Option<(String, &'static str)> {
        let map = self.0.lock().expect("lock");
        map.get(id.as_str())
            .filter(|(_, _, at)| now - at < CACHE_SECS)
            .map(|(url, how, _)| (url.clone(), *how))
    }

    fn put(&self, id: &Identifier, owner: &str, how: &'static str, now: i64) {
        let mut map = self.0.lock().expect("lock");
        // Bounded: a flood of lookups of distinct identifiers empties it rather than grow it.
        if map.len() >= CACHE_CAP {
            map.clear();
        }
        map.insert(id.as_str().to_owned(), (owner.to_owned(), how, now));
    }

    fn forget(&self, id: &Identifier) {
        self.0.lock().expect("lock").remove(id.as_str());
    }
}

/// Most owners cached.
const CACHE_CAP: usize = 100_000;

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

fn bad_answer(msg: String) -> AppError {
    AppError::new(ErrorKind::Unavailable, "federation.bad_answer", msg)
}

/// This node's signed answer for one of its own licenses.
async fn own(node: &Node, id: &Identifier) -> Result<Option<Location>> {
    let Some(rec) = node.store.license(id.as_str()).await? else {
        return Ok(None);
    };
    let l = crate::stored::License::try_from(rec)?;
    let st = Statement {
        identifier: id.as_str().to_owned(),
        node: base(&node.config.base_url).to_owned(),
        status: l.status,
        updated_at: l.record.updated_at,
        iat: node.now(),
    };
    let keys = node.node_keys.get()?;
    let key = keys.node.as_ref();
    let header = jws::Header::new(key.alg())
        .with_typ(LOCATION_TYP)
        .with_kid(&key.public_jwk().thumbprint());
    let payload = serde_json::to_value(&st).map_err(|e| AppError::internal(e.to_string()))?;
    let signed = jws::sign(key, &header, &payload).map_err(AppError::crypto)?;
    Ok(Some(Location {
        identifier: st.identifier,
        node: st.node,
        status: st.status,
        updated_at: st.updated_at,
        source: "local".into(),
        signed,
    }))
}

/// The node keys of the node at `url`: from the trust list, else from the node records of
/// this node's subtree.
async fn keys_of(node: &Node, url: &str) -> Result<Option<Jwks>> {
    if let Some(n) = node.trust.current().and_then(|l| l.node(url).cloned()) {
        return Ok(Some(n.keys));
    }
    for r in node.store.fed_nodes().await? {
        if base(&r.url) == url {
            return Ok(Some(peer::document_of(&r)?.keys));
        }
    }
    Ok(None)
}

/// Checks an answer from another node: the statement verifies with a key of the node it
/// names, for `id`, and says what the answer says.
async fn check(node: &Node, id: &Identifier, l: &Location) -> Result<()> {
    let parsed =
        jws::parse(&l.signed).map_err(|e| bad_answer(format!("statement: {}: {e}", e.code())))?;
    if parsed.header.typ.as_deref() != Some(LOCATION_TYP) {
        return Err(bad_answer(format!(
            "statement typ {:?}, {LOCATION_TYP} expected",
            parsed.header.typ
        )));
    }
    let mut keys = keys_of(node, base(&l.node)).await?;
    if keys.is_none() && super::trust::refresh_for_unknown_node(node).await {
        keys = keys_of(node, base(&l.node)).await?;
    }
    let Some(keys) = keys else {
        return Err(bad_answer(format!("{} is not a known node", l.node)));
    };
    let kid = parsed.header.kid.as_deref().unwrap_or_default();
    let key = keys
        .find(kid)
        .ok_or_else(|| bad_answer(format!("statement key {kid:?} is not a key of {}", l.node)))?;
    let verifier = key.verifier(None).map_err(AppError::crypto)?;
    parsed
        .verify_with(verifier.as_ref())
        .map_err(|e| bad_answer(format!("statement of {}: {e}", l.node)))?;
    let st: Statement = serde_json::from_value(parsed.payload)
        .map_err(|e| bad_answer(format!("statement: {e}")))?;
    let said = (
        st.identifier.as_str(),
        base(&st.node),
        st.status,
        st.updated_at,
    );
    if st.identifier != id.as_str()
        || said != (l.identifier.as_str(), base(&l.node), l.status, l.updated_at)
    {
        return Err(bad_answer(format!(
            "the statement of {} does not say what the answer says for {id}",
            l.node
        )));
    }
    Ok(())
}

/// Asks the node at `url` where `id` lives; `own_only` asks it for its own licenses only.
/// `Ok(None)` when it does not know.
async fn ask(node: &Node, url: &str, id: &Identifier, own_only: bool) -> Result<Option<Location>> {
    let scope = if own_only { "?scope=own" } else { "" };
    let u = format!("{}{DIRECTORY_PATH}/{}{scope}", base(url), id.as_str());
    let resp = peer::client()
        .get(&u)
        .send()
        .await
        .map_err(|e| peer::unreachable(&u, e))?;
    match resp.status().as_u16() {
        200 => {
            let body = resp.bytes().await.map_err(|e| peer::unreachable(&u, e))?;
            let l: Location = peer::Answer {
                status: 200,
                body: body.to_vec(),
            }
            .json(&u)?;
            if own_only && base(&l.node) != base(url) {
                return Err(bad_answer(format!("{u} answered for {}", l.node)));
            }
            check(node, id, &l).await?;
            Ok(Some(l))
        }
        404 => Ok(None),
        s => Err(peer::unreachable(&u, format!("answered {s}"))),
    }
}

/// The hub's base URL: the trust list's issuer, else the configured parent (it asks on).
pub(crate) fn hub_url(node: &Node) -> Option<String> {
    if let Some(l) = node.trust.current() {
        return Some(l.iss.clone());
    }
    node.config
        .federation
        .identity()
        .and_then(|i| i.parent())
        .map(|p| p.to_string())
}

/// The owner of `id` as this node knows without asking: its subtree's directory entry, else
/// the node of the issuer in the trust list. With how it knew.
async fn owner_here(node: &Node, id: &Identifier) -> Result<Option<(String, &'static str)>> {
    let lineage = crate::issue::lineage(id);
    if let Some(e) = node
        .store
        .hub_license(&lineage, i32::from(id.version()))
        .await?
        .filter(|e| e.identifier == id.as_str())
    {
        return Ok(Some((base(&e.origin).to_owned(), "directory")));
    }
    Ok(node.trust.current().and_then(|l| {
        l.issuer(id.issuer().as_str())
            .map(|i| (base(&i.node).to_owned(), "issuer"))
    }))
}

/// Where `id` lives, with its owner's signed answer (see the module docs).
pub async fn locate(node: &Arc<Node>, id: &Identifier, scope: Scope) -> Result<Option<Location>> {
    if let Some(l) = own(node, id).await? {
        return Ok(Some(l));
    }
    if scope == Scope::Own {
        return Ok(None);
    }
    let now = node.now();
    let cache = &node.federation.locations;
    let me = base(&node.config.base_url).to_owned();
    if let Some((owner, how)) = cache.get(id, now) {
        if let Some(l) = ask(node, &owner, id, true).await? {
            return Ok(Some(Location {
                source: how.into(),
                ..l
            }));
        }
        cache.forget(id);
    }
    if let Some((owner, how)) = owner_here(node, id).await? {
        if owner != me {
            if let Some(l) = ask(node, &owner, id, true).await? {
                cache.put(id, &owner, how, now);
                return Ok(Some(Location {
                    source: how.into(),
                    ..l
                }));
            }
        }
    }
    let Some(hub) = hub_url(node).filter(|h| base(h) != me) else {
        return Ok(None);
    };
    let Some(l) = ask(node, &hub, id, false).await? else {
        return Ok(None);
    };
    cache.put(id, base(&l.node), "hub", now);
    Ok(Some(Location {
        source: "hub".into(),
        ..l
    }))
}
