//! Issuer and institution authentication: `Authorization: Bearer <API key>` (scheme name
//! case-insensitive, RFC 9110 §11.1). No or another scheme is `auth.missing`; a key that is
//! not one of ours (or revoked) is `auth.invalid_key`; both are 401. Issuer keys start with
//! `elk_`, institution keys with `eli_`, the region operator's keys with `elo_`; a key of
//! another role than the route's is `auth.invalid_key` too (every check reads the store, so a
//! revoked key is refused from the next request on).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use elicense_app::{AppError, ErrorKind, Node};
use elicense_core::OperatorActor;
use elicense_store::{ApiKeyRecord, InstitutionRecord};

use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated issuing authority (through one of its API keys).
pub struct Issuer(pub ApiKeyRecord);

fn missing() -> ApiError {
    ApiError::new(
        ErrorKind::Unauthorized,
        "auth.missing",
        "send Authorization: Bearer <API key>",
    )
}

/// The token of a `Bearer` credential, if `header` is one.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The Bearer token of a request, `None` without an Authorization header.
pub(crate) fn request_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    // A header that is not visible ASCII cannot hold one of our keys.
    let header = header.to_str().map_err(|_| {
        ApiError::new(
            ErrorKind::Unauthorized,
            "auth.invalid_key",
            "the API key is not valid",
        )
    })?;
    bearer_token(header).map(Some).ok_or_else(missing)
}

/// The request's Bearer token checked by `authenticate` (a role's use case): what it
/// authenticates, `auth.missing` without a token, its error (401) for a key it refuses.
async fn authenticated<T>(
    parts: &Parts,
    state: &AppState,
    authenticate: impl AsyncFnOnce(&Arc<Node>, &str) -> Result<T, AppError>,
) -> Result<T, ApiError> {
    let token = request_token(parts)?.ok_or_else(missing)?;
    Ok(authenticate(&state.node, token).await?)
}

impl FromRequestParts<AppState> for Issuer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticated(parts, state, elicense_app::apikeys::authenticate)
            .await
            .map(Issuer)
    }
}

/// An authenticated relying institution (through one of its API keys).
pub struct Institution(pub InstitutionRecord);

impl FromRequestParts<AppState> for Institution {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticated(parts, state, elicense_app::institutions::authenticate)
            .await
            .map(Institution)
    }
}

/// The region operator, authenticated through one of its operator keys: the actor its
/// events name (`operator:<key id>`).
pub struct Operator(pub OperatorActor);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticated(parts, state, elicense_app::operator::authenticate)
            .await
            .map(Operator)
    }
}

/// An institution when the request carries an institution key, `None` when it carries no
/// Authorization header (public callers). A key that does not authenticate is still 401.
pub struct MaybeInstitution(pub Option<InstitutionRecord>);

impl FromRequestParts<AppState> for MaybeInstitution {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match request_token(parts)? {
            None => Ok(MaybeInstitution(None)),
            Some(token) => Ok(MaybeInstitution(Some(
                elicense_app::institutions::authenticate(&state.node, token).await?,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
    }
}
