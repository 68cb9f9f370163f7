//! SD-JWT VC issuer metadata: `GET /.well-known/jwt-vc-issuer/issuers/{uscc}` for the issuer
//! `{base}/issuers/{uscc}`, and `GET /.well-known/jwt-vc-issuer` listing every issuer's keys.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::AppError;
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiResult;
use crate::state::AppState;

/// Issuer metadata (SD-JWT VC §5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuerMetadata {
    pub issuer: String,
    /// `{"keys":[JWK…]}`; SM2 keys as `{"kty":"EC","crv":"SM2","x","y"}`.
    #[schema(value_type = Object)]
    pub jwks: Value,
    /// SM2 signer IDs by kid, for keys whose ID is not the default `1234567812345678`.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub sm2_signer_ids: serde_json::Map<String, Value>,
}

async fn metadata(s: &AppState, issuer: &str) -> ApiResult<IssuerMetadata> {
    let jwks = s.node.keys.jwks(issuer).await?;
    let mut ids = serde_json::Map::new();
    for k in s.node.store.keys(issuer).await.map_err(AppError::from)? {
        if let Some(id) = k.sm2_signer_id {
            ids.insert(k.kid, Value::String(id));
        }
    }
    Ok(IssuerMetadata {
        issuer: s.node.issuer_url(issuer),
        jwks: serde_json::to_value(jwks).map_err(|e| AppError::internal(e.to_string()))?,
        sm2_signer_ids: ids,
    })
}

#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer/issuers/{uscc}", tag = "public",
    params(("uscc" = String, Path, description = "USCC of the issuing authority")),
    responses((status = 200, body = IssuerMetadata), (status = 404, body = crate::error::ErrorBody)))]
pub async fn issuer(
    State(s): State<AppState>,
    Path(uscc): Path<String>,
) -> ApiResult<Json<IssuerMetadata>> {
    if s.node
        .store
        .issuer(&uscc)
        .await
        .map_err(AppError::from)?
        .is_none()
    {
        return Err(AppError::not_found("issuer.unknown", format!("no issuer {uscc}")).into());
    }
    Ok(Json(metadata(&s, &uscc).await?))
}

/// Every issuer of the node with its metadata.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NodeMetadata {
    pub node: String,
    pub issuers: Vec<IssuerMetadata>,
}

#[utoipa::path(get, path = "/.well-known/jwt-vc-issuer", tag = "public",
    responses((status = 200, body = NodeMetadata)))]
pub async fn node(State(s): State<AppState>) -> ApiResult<Json<NodeMetadata>> {
    let mut issuers = Vec::new();
    for i in s.node.store.issuers().await.map_err(AppError::from)? {
        issuers.push(metadata(&s, &i.code).await?);
    }
    Ok(Json(NodeMetadata {
        node: s.node.config.base_url.clone(),
        issuers,
    }))
}
