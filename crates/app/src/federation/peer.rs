//! Talking to other nodes: signed requests out (RFC 9421 with the node key), signed requests
//! in (the sender found by `keyid` among the nodes this node knows), and the admission of a
//! child by the operator.
//!
//! Invariants:
//! - Every node-to-node request a node sends is signed by its node key ([`send`]); a
//!   request it accepts as from a node is one whose signature verifies with a key of a node
//!   it admitted as a child, or of its parent ([`authenticate`]), or, for the requests any
//!   member may make, of a node of its trust list ([`authenticate_member`]); never a shared
//!   secret.
//! - A child is admitted only by the operator ([`admit`]), after reading the child's own
//!   node document: the child names this node as its parent, stands at a lower level, and
//!   its area lies within this node's area (`federation.not_a_child` otherwise). Admission
//!   also makes this node the witness of the child's log (its origin and verifier keys).

use std::sync::Arc;
use std::time::Duration;

use elicense_core::NodeArea;
use elicense_crypto::{Jwk, Verifier};
use elicense_store::federation::FedNodeRecord;

use super::document::NodeDocument;
use super::httpsig::{self, HttpRequest, VerifyPolicy};
use super::trust_list::TrustedNode;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Timeout of one node-to-node request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client every node-to-node request goes through (connection reuse).
pub fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .expect("HTTP client")
    })
}

pub(crate) fn unreachable(url: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Unavailable,
        "federation.unreachable",
        format!("{url}: {e}"),
    )
}

/// An answer from another node.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON of type `T` (`federation.bad_answer` if it is not).
    pub fn json<T: serde::de::DeserializeOwned>(&self, from: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            AppError::new(
                ErrorKind::Unavailable,
                "federation.bad_answer",
                format!("{from}: {e}"),
            )
        })
    }

    /// The stable code of an error answer (`{"error": {"code": ...}}`), if it has one.
    pub fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()?
            .pointer("/error/code")?
            .as_str()
            .map(str::to_owned)
    }
}

/// Sends a request signed with the node key.
pub async fn send(node: &Node, method: &str, url: &str, body: Option<Vec<u8>>) -> Result<Answer> {
    let target = url::Url::parse(url).map_err(|e| unreachable(url, e))?;
    let mut req = HttpRequest {
        method: method.to_owned(),
        target_uri: target,
        headers: vec![],
        body: body.unwrap_or_default(),
    };
    if !req.body.is_empty() {
        req.headers
            .push(("Content-Type".into(), "application/json".into()));
    }
    let keys = node.node_keys.get()?;
    httpsig::sign(&mut req, keys.node.as_ref(), node.now())
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|e| AppError::internal(e.to_string()))?;
    let mut rb = client().request(method, req.target_uri.as_str());
    for (n, v) in &req.headers {
        rb = rb.header(n, v);
    }
    if !req.body.is_empty() {
        rb = rb.body(req.body);
    }
    let resp = rb.send().await.map_err(|e| unreachable(url, e))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| unreachable(url, e))?
        .to_vec();
    Ok(Answer { status, body })
}

/// The node document of the node at `url`.
pub async fn fetch_document(url: &str) -> Result<NodeDocument> {
    let u = format!("{}/.well-known/elicense-node", url.trim_end_matches('/'));
    let resp = client()
        .get(&u)
        .send()
        .await
        .map_err(|e| unreachable(&u, e))?;
    if !resp.status().is_success() {
        return Err(unreachable(&u, format!("answered {}", resp.status())));
    }
    let body = resp.bytes().await.map_err(|e| unreachable(&u, e))?;
    Answer {
        status: 200,
        body: body.to_vec(),
    }
    .json(&u)
}

/// The trust-list form of a node document (`kid` of every key set to its thumbprint).
pub fn trusted_node(doc: &NodeDocument) -> Result<TrustedNode> {
    let mut keys: elicense_crypto::Jwks = serde_json::from_value(doc.keys.clone())
        .map_err(|e| AppError::new(ErrorKind::Invalid, "federation.bad_document", e.to_string()))?;
    for k in &mut keys.keys {
        k.kid = Some(k.thumbprint());
    }
    let (Some(area), Some(level)) = (doc.area.clone(), doc.level) else {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "federation.not_a_member",
            format!("{} is a standalone node (no area and level)", doc.url),
        ));
    };
    Ok(TrustedNode {
        url: doc.url.trim_end_matches('/').to_owned(),
        area,
        level,
        parent: doc.parent.clone(),
        keys,
        witness_key: doc.witness_key.clone(),
        log_keys: doc.log_keys.clone(),
        log_origin: Some(doc.log_origin.clone()),
        seal_cas: doc.seal_cas.clone(),
    })
}

/// This node as the trust list and its parent see it.
pub async fn own_trusted_node(node: &Node) -> Result<TrustedNode> {
    trusted_node(&super::document::node_document(node).await?)
}

/// The record of a node known through `via` (`None`: a direct child).
pub fn node_record(t: &TrustedNode, via: Option<&str>, now: i64) -> Result<FedNodeRecord> {
    Ok(FedNodeRecord {
        url: t.url.clone(),
        area: t.area.clone(),
        level: t.level.code().to_owned(),
        parent: t.parent.clone(),
        document: serde_json::to_string(t).map_err(|e| AppError::internal(e.to_string()))?,
        via: via.map(str::to_owned),
        updated_at: now,
    })
}

/// The description stored with a node record.
pub fn document_of(r: &FedNodeRecord) -> Result<TrustedNode> {
    serde_json::from_str(&r.document).map_err(|e| {
        AppError::new(
            ErrorKind::Internal,
            "store.corrupt",
            format!("node {}: {e}", r.url),
        )
    })
}

fn not_a_child(msg: String) -> AppError {
    AppError::new(ErrorKind::Invalid, "federation.not_a_child", msg)
}

/// Admits the node at `url` as a child of this node (see the module invariants), after
/// reading its node document; re-admitting refreshes its keys.
pub async fn admit(node: &Arc<Node>, url: &str) -> Result<TrustedNode> {
    let Some(me) = node.config.federation.identity() else {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "federation.standalone",
            "a standalone node has no children: start it with --area and --level",
        ));
    };
    let url = super::NodeUrl::parse(url)
        .map_err(|e| AppError::new(ErrorKind::Invalid, "config.invalid", e.to_string()))?;
    let doc = fetch_document(url.as_str()).await?;
    let t = trusted_node(&doc)?;
    if t.url != url.as_str() {
        return Err(not_a_child(format!(
            "{url} calls itself {}; admit it by the URL it publishes",
            t.url
        )));
    }
    let own = node.config.base_url.trim_end_matches('/');
    if t.parent.as_deref().map(|p| p.trim_end_matches('/')) != Some(own) {
        return Err(not_a_child(format!(
            "{url} names {:?} as its parent, not this node ({own})",
            t.parent
        )));
    }
    if t.level >= me.level() {
        return Err(not_a_child(format!(
            "{url} is a {} node; a {} node admits only lower levels",
            t.level.code(),
            me.level().code()
        )));
    }
    let area = NodeArea::parse(&t.area).map_err(|e| not_a_child(format!("{url}: {e}")))?;
    if !me.area().contains(&area) {
        return Err(not_a_child(format!(
            "{url} is in area {}, outside this node's area {}",
            t.area,
            me.area().as_str()
        )));
    }
    node.store
        .fed_put_node(node_record(&t, None, node.now())?)
        .await?;
    // A new member: the hub's trust list names it (republished soon).
    node.trust_inputs.changed();
    // A parent is its children's witness: it co-signs the checkpoints of the log it admits.
    super::witness::admit(node, &doc.log_origin, &doc.log_keys, &t.url).await?;
    Ok(t)
}

/// The nodes whose signed requests this node accepts: its direct children and its parent;
/// with `members`, every node of the trust list it holds too.
async fn peers(node: &Node, members: bool) -> Result<Vec<TrustedNode>> {
    let mut out = Vec::new();
    if members {
        if let Some(list) = node.trust.current() {
            out.extend(list.nodes.iter().cloned());
        }
    }
    for r in node.store.fed_nodes().await? {
        if r.via.is_none() {
            out.push(document_of(&r)?);
        }
    }
    if let Some(list) = node.trust.current() {
        if let Some(p) = node
            .config
            .federation
            .identity()
            .and_then(|i| i.parent())
            .and_then(|p| list.node(p.as_str()))
        {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The node that signed `req` (see the module invariants): its base URL. Refusals carry the
/// RFC 9421 codes (`httpsig.*`) or `federation.unknown_node` (403).
pub async fn authenticate(node: &Node, req: &HttpRequest) -> Result<String> {
    authenticate_among(node, req, false).await
}

/// [`authenticate`] for a request any node of the network may send: the trust list's nodes
/// are accepted too (one wallet across regions).
///
/// A key it does not know makes it fetch the trust list again first (a node that joined
/// since), at most once every few seconds.
pub async fn authenticate_member(node: &Node, req: &HttpRequest) -> Result<String> {
    match authenticate_among(node, req, true).await {
        Err(e)
            if e.kind == ErrorKind::Forbidden
                && super::trust::refresh_for_unknown_node(node).await =>
        {
            authenticate_among(node, req, true).await
        }
        r => r,
    }
}

async fn authenticate_among(node: &Node, req: &HttpRequest, members: bool) -> Result<String> {
    let peers = peers(node, members).await?;
    let keys: Vec<(String, Jwk)> = peers
        .iter()
        .flat_map(|p| p.keys.keys.iter().map(|k| (p.url.clone(), k.clone())))
        .collect();
    let kid = httpsig::verify(req, node.now(), VerifyPolicy::default(), |kid| {
        keys.iter()
            .find(|(_, k)| k.kid.as_deref() == Some(kid))
            .and_then(|(_, k)| k.verifier(None).ok())
            .map(|v: Box<dyn Verifier>| v)
    })
    .map_err(|e| {
        let kind = if e.code() == "httpsig.unknown_key" {
            ErrorKind::Forbidden
        } else {
            ErrorKind::Unauthorized
        };
        AppError::new(kind, e.code(), e.to_string())
    })?;
    keys.into_iter()
        .find(|(_, k)| k.kid.as_deref() == Some(kid.as_str()))
        .map(|(url, _)| url)
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Forbidden,
                "federation.unknown_node",
                "the request is signed by no node this node knows",
            )
        })
}

/// A node this node knows, as the operator sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct KnownNode {
    pub url: String,
    pub area: String,
    pub level: String,
    pub parent: Option<String>,
    /// Null for a direct child; else the child that reported it.
    pub via: Option<String>,
    /// For a direct child: where its sync stands here.
    pub sync: Option<super::sync::SyncState>,
}

/// Every node this node knows (direct children and the nodes they report), by URL.
pub async fn known_nodes(node: &Node) -> Result<Vec<KnownNode>> {
    let mut out = Vec::new();
    for r in node.store.fed_nodes().await? {
        let sync = match r.via {
            None => Some(super::sync::state(node, &r.url).await?),
            Some(_) => None,
        };
        out.push(KnownNode {
            url: r.url,
            area: r.area,
            level: r.level,
            parent: r.parent,
            via: r.via,
            sync,
        });
    }
    Ok(out)
}
