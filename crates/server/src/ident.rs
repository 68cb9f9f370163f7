//! License identifiers in request paths, parsed once at the edge.
//!
//! Invariant: a handler that takes [`LicensePath`] or [`LicensePathWith`] sees only a strictly
//! conformant `Identifier` (what this node issues); any other text in the `{identifier}`
//! segment is answered `400` with the parser's stable code (`identifier.bad_root`,
//! `identifier.bad_check`, `identifier.lowercase`, …) before the handler runs, and nothing
//! is looked up. Pages parse with [`parse`] and render the same code as a page. Extractors
//! run in the order a handler lists them: authentication first, so an anonymous caller
//! still gets `401`.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use elicense_app::AppError;
use elicense_core::Identifier;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A license identifier as typed or taken from a URL: strict, else `identifier.*` (400).
pub fn parse(text: &str) -> Result<Identifier, AppError> {
    Identifier::parse(text).map_err(AppError::invalid)
}

/// A path whose only parameter is `{identifier}`.
#[derive(Debug, Clone)]
pub struct LicensePath(pub Identifier);

impl<S: Send + Sync> FromRequestParts<S> for LicensePath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        parse(&text)
            .map(LicensePath)
            .map_err(|e| ApiError(e).into_response())
    }
}

/// A path `{identifier}/{…}`: the identifier and the parameter after it.
#[derive(Debug, Clone)]
pub struct LicensePathWith<T>(pub Identifier, pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for LicensePathWith<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((text, rest)) = Path::<(String, T)>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        parse(&text)
            .map(|id| LicensePathWith(id, rest))
            .map_err(|e| ApiError(e).into_response())
    }
}
