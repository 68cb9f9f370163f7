//! Finding the node that owns a license: this node's own licenses, then its directory (every
//! license of its subtree, from upward sync), then the national hub's directory (one round
//! trip, then cached). "Who issues, verifies": the owning node answers for its licenses; no
//! point-to-point lists.
//!
//! Invariant: a location names the owning node's base URL and the status its log last gave
//! the version; a cached remote answer is kept at most [`CACHE_SECS`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use elicense_core::lifecycle::Status;
use elicense_core::Identifier;
use serde::{Deserialize, Serialize};

use super::peer;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The public lookup endpoint (`/federation/v1/directory/{identifier}`).
pub const DIRECTORY_PATH: &str = "/federation/v1/directory";
/// How long a location learned from the hub is kept.
pub const CACHE_SECS: i64 = 60;

/// Where a license version lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    pub identifier: String,
    /// The owning node's base URL.
    pub node: String,
    /// The version's status as the owning node's log last gave it.
    #[schema(value_type = String)]
    pub status: Status,
    /// The event that set it (`issue` or an action code), when known from the directory.
    pub kind: Option<String>,
    /// Unix seconds of that event.
    pub updated_at: i64,
    /// How this node knew: `local` (its own license), `directory` (its subtree), `hub`.
    pub source: String,
}

/// Locations learned from the hub, with when they were learned.
#[derive(Default)]
pub struct LocationCache(Mutex<HashMap<String, (Location, i64)>>);

/// Where `id` lives, as this node knows without asking anyone.
pub async fn locate_here(node: &Node, id: &Identifier) -> Result<Option<Location>> {
    if let Some(rec) = node.store.license(id.as_str()).await? {
        let l = crate::stored::License::try_from(rec)?;
        return Ok(Some(Location {
            identifier: id.as_str().to_owned(),
            node: node.config.base_url.trim_end_matches('/').to_owned(),
            status: l.status,
            kind: None,
            updated_at: l.record.updated_at,
            source: "local".into(),
        }));
    }
    let lineage = crate::issue::lineage(id);
    Ok(node
        .store
        .hub_license(&lineage, i32::from(id.version()))
        .await?
        .filter(|e| e.identifier == id.as_str())
        .map(|e| Location {
            identifier: e.identifier,
            node: e.origin,
            status: e.status,
            kind: Some(e.kind),
            updated_at: e.at,
            source: "directory".into(),
        }))
}

/// The hub's base URL: the trust list's issuer, else the top of the configured chain is not
/// known and the parent is asked (it asks on).
fn hub_url(node: &Node) -> Option<String> {
    if let Some(l) = node.trust.current() {
        return Some(l.iss.clone());
    }
    node.config
        .federation
        .identity()
        .and_then(|i| i.parent())
        .map(|p| p.to_string())
}

/// Where `id` lives: here, in this node's directory, or at the hub (see the module docs).
pub async fn locate(node: &Arc<Node>, id: &Identifier) -> Result<Option<Location>> {
    if let Some(l) = locate_here(node, id).await? {
        return Ok(Some(l));
    }
    let now = node.now();
    if let Some((l, at)) = node
        .federation
        .locations
        .0
        .lock()
        .expect("lock")
        .get(id.as_str())
    {
        if now - at < CACHE_SECS {
            return Ok(Some(l.clone()));
        }
    }
    let Some(hub) = hub_url(node) else {
        return Ok(None);
    };
    if hub.trim_end_matches('/') == node.config.base_url.trim_end_matches('/') {
        return Ok(None);
    }
    let url = format!("{hub}{DIRECTORY_PATH}/{}", id.as_str());
    let resp = peer::client()
        .get(&url)
        .send()
        .await
        .map_err(|e| peer::unreachable(&url, e))?;
    match resp.status().as_u16() {
        200 => {
            let body = resp.bytes().await.map_err(|e| peer::unreachable(&url, e))?;
            let mut l: Location = peer::Answer {
                status: 200,
                body: body.to_vec(),
            }
            .json(&url)?;
            if l.identifier != id.as_str() {
                return Err(AppError::new(
                    ErrorKind::Unavailable,
                    "federation.bad_answer",
                    format!("{url} answered for {}", l.identifier),
                ));
            }
            l.source = "hub".into();
            node.federation
                .locations
                .0
                .lock()
                .expect("lock")
                .insert(id.as_str().to_owned(), (l.clone(), now));
            Ok(Some(l))
        }
        404 => Ok(None),
        s => Err(peer::unreachable(&url, format!("answered {s}"))),
    }
}
