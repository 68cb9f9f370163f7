//! The region operator's API (issue 16, finding 8), authenticated with an operator key
//! (`elo_…`, made by `elicense operator key`): the same operations as the command line, each
//! a logged operator event with the actor `operator:<key id>`. See `elicense_app::operator`.
//!
//! Every change is a `POST` that creates the event (`201`, body `Done`: the event and its
//! log leaf index): `.../revocation`, `.../retirement`, `.../disabling`, `.../enabling`. A
//! change that would change nothing is `409` with a stable code; an unknown subject `404`.
//! Issuer succession is such a change too (`.../succession`); the mutual-recognition lists
//! (`recognition`) are the hub's data, kept with `PUT`/`DELETE`.
//! Requests carry `Authorization: Bearer`, never a cookie, so the CSRF layer (which looks only
//! at requests with the wallet's cookies) does not apply to them.

pub mod account_disabling;
pub mod account_enabling;
pub mod accounts;
pub mod api_key_revocation;
pub mod events;
pub mod federation_nodes;
pub mod institution_disabling;
pub mod institution_enabling;
pub mod issuer_succession;
pub mod key_retirement;
pub mod key_revocation;
pub mod recognition;
pub mod witness_forks;

use axum::http::StatusCode;
use axum::Json;
use elicense_app::operator::Done;
use elicense_app::AppError;

use crate::error::ApiResult;

/// The answer to every change: `201 Created` with the event and its log leaf.
pub type Created = ApiResult<(StatusCode, Json<Done>)>;

/// `201 Created` with what a change did, or its error.
pub(super) fn created(done: Result<Done, AppError>) -> Created {
    Ok((StatusCode::CREATED, Json(done?)))
}

/// A page of a numbered list (operator events, fork reports): what comes after a number.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Only entries with a number above this; 0 from the start.
    #[serde(default)]
    pub after: i64,
    /// At most this many (1 to 500, default 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    100
}
