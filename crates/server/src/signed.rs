//! The extractor of node-to-node requests: the whole body, and the node whose key signed the
//! request (HTTP Message Signatures, RFC 9421; `elicense_app::federation::peer::authenticate`).
//! The signed target URI is rebuilt from the node's configured base URL and the request's
//! path and query, so a request signed for another node does not verify here.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use elicense_app::federation::httpsig::HttpRequest;
use elicense_app::federation::peer;
use elicense_app::ErrorKind;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest body of a node-to-node request (a sync batch of 2,000 leaves is about 1 MiB).
pub const MAX_SIGNED_BODY: usize = 16 * 1024 * 1024;

/// A request signed by a node this node deals with directly: a child it admitted, or its
/// parent.
pub struct SignedByNode {
    /// The sender's base URL.
    pub sender: String,
    pub body: Bytes,
}

/// A request signed by any node of the network: one of [`SignedByNode`]'s, or a node of the
/// trust list this node holds.
pub struct SignedByMember {
    /// The sender's base URL.
    pub sender: String,
    pub body: Bytes,
}

impl FromRequest<AppState> for SignedByNode {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (sender, body) = signed(req, state, false).await?;
        Ok(SignedByNode { sender, body })
    }
}

impl FromRequest<AppState> for SignedByMember {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (sender, body) = signed(req, state, true).await?;
        Ok(SignedByMember { sender, body })
    }
}

/// The sender and the body of a signed request; `members`: any node of the trust list.
async fn signed(
    req: Request,
    state: &AppState,
    members: bool,
) -> Result<(String, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_SIGNED_BODY)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorKind::Invalid,
                "request.too_large",
                format!("a node-to-node request body is at most {MAX_SIGNED_BODY} bytes"),
            )
        })?;
    let base = state.node.config.base_url.trim_end_matches('/');
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let target = url::Url::parse(&format!("{base}{path}"))
        .map_err(|e| ApiError::new(ErrorKind::Invalid, "request.malformed", e.to_string()))?;
    let headers = parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let req = HttpRequest {
        method: parts.method.as_str().to_owned(),
        target_uri: target,
        headers,
        body: body.to_vec(),
    };
    let sender = if members {
        peer::authenticate_member(&state.node, &req).await?
    } else {
        peer::authenticate(&state.node, &req).await?
    };
    Ok((sender, body))
}
