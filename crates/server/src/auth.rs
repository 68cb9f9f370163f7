//! Issuer authentication: `Authorization: Bearer <API key>` (scheme name case-insensitive,
//! RFC 9110 §11.1). No or another scheme is `auth.missing`; a key that is not one of ours
//! (or revoked) is `auth.invalid_key`; both are 401.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use elicense_app::ErrorKind;
use elicense_store::ApiKeyRecord;

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

impl FromRequestParts<AppState> for Issuer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(missing)?;
        // A header that is not visible ASCII cannot hold one of our keys.
        let header = header.to_str().map_err(|_| {
            ApiError::new(
                ErrorKind::Unauthorized,
                "auth.invalid_key",
                "the API key is not valid",
            )
        })?;
        let token = bearer_token(header).ok_or_else(missing)?;
        let rec = elicense_app::apikeys::authenticate(&state.node, token).await?;
        Ok(Issuer(rec))
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
