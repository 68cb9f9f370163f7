//! `POST /api/v1/operator/federation/nodes`: admits a child node (its URL; this node reads the
//! child's node document and checks that it names this node as its parent, stands lower and
//! lies within this node's area). `GET`: every node this node knows (direct children and the
//! nodes they report), with where each child's sync stands.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use elicense_app::federation::peer::{self, KnownNode};
use elicense_app::federation::sync;
use serde::Deserialize;

use crate::auth::Operator;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// The child to admit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    /// The child's base URL, as it publishes it in its node document.
    pub url: String,
}

#[utoipa::path(post, path = "/api/v1/operator/federation/nodes", tag = "operator",
    security(("operator_key" = [])),
    request_body = Admission,
    responses(
        (status = 201, body = KnownNode, description = "Admitted"),
        (status = 400, body = crate::error::ErrorBody, description = "`federation.not_a_child`, `federation.standalone`, `config.invalid`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody, description = "The child could not be reached (`federation.unreachable`)")))]
pub async fn admit(
    State(s): State<AppState>,
    _operator: Operator,
    JsonBody(a): JsonBody<Admission>,
) -> ApiResult<(StatusCode, Json<KnownNode>)> {
    let t = peer::admit(&s.node, &a.url).await?;
    Ok((
        StatusCode::CREATED,
        Json(KnownNode {
            sync: Some(sync::state(&s.node, &t.url).await?),
            url: t.url,
            area: t.area,
            level: t.level.code().to_owned(),
            parent: t.parent,
            via: None,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/operator/federation/nodes", tag = "operator",
    security(("operator_key" = [])),
    responses((status = 200, body = [KnownNode]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _operator: Operator,
) -> ApiResult<Json<Vec<KnownNode>>> {
    Ok(Json(peer::known_nodes(&s.node).await?))
}
