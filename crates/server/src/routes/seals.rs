//! Electronic seals (GB/T 38540) over `elicense_app::seals`:
//! - public: `GET /api/v1/seals?owner=USCC` (the register, 备案), `GET /api/v1/seals/{id}`,
//!   its `SESeal` (`/seal`, DER) and certificate chain (`/certificate`, PEM), the seal CAs'
//!   certificates and revocation lists (`/api/v1/seal-ca/{alg}/certificate|crl`), and
//!   `POST /api/v1/seal-verifications` (a sealed PDF in, the verdict out: who signs,
//!   verifies);
//! - the owner (its issuer or institution key, or a signed-in representative of the
//!   enterprise) or the operator (`elo_…`): `POST /api/v1/seals` files a seal,
//!   `POST /api/v1/seals/{id}/suspension|reinstatement|revocation`, `GET …/uses`;
//! - the owner or a user the seal lists: `POST /api/v1/seals/{id}/documents` seals a PDF
//!   (the body) and returns it sealed.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use elicense_app::seals::document::{self as sealdoc, Placement};
use elicense_app::seals::{self, NewSeal, Principal, SealView, StatusChange, UseView};
use elicense_app::ErrorKind;
use serde::Deserialize;

use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A PDF request body, described as bytes (`application/octet-stream`; `application/pdf` is
/// taken too: the body is read as it comes).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfBytes(#[allow(dead_code)] Vec<u8>);

/// Largest PDF body (the app's limit).
pub const MAX_PDF_BODY: usize = sealdoc::MAX_PDF_BYTES;

/// Who calls: an API key by its prefix (`elk_` an issuer, `eli_` an institution, `elo_` the
/// operator), else the wallet session (with its CSRF token on POST).
pub struct SealCaller(pub Principal);

impl FromRequestParts<AppState> for SealCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        // The same Bearer parsing as every key-authenticated route (`auth.missing` for another
        // scheme, `auth.invalid_key` for a header that cannot hold a key).
        let token = crate::auth::request_token(parts)?.map(str::to_owned);
        let node = &s.node;
        let role = |t: &str, prefix: &str| t.starts_with(&format!("{prefix}_"));
        let principal = match token {
            Some(t) if role(&t, elicense_app::operator::OPERATOR_PREFIX) => {
                Principal::Operator(elicense_app::operator::authenticate(node, &t).await?.code())
            }
            Some(t) if role(&t, elicense_app::apikeys::INSTITUTION_PREFIX) => {
                Principal::Organisation {
                    role: "institution",
                    uscc: elicense_app::institutions::authenticate(node, &t)
                        .await?
                        .code,
                }
            }
            Some(t) => Principal::Organisation {
                role: "issuer",
                uscc: elicense_app::apikeys::authenticate(node, &t).await?.issuer,
            },
            None => {
                let crate::pages::auth::ApiHolder(id) =
                    crate::pages::auth::ApiHolder::from_request_parts(parts, s).await?;
                Principal::Person(id)
            }
        };
        Ok(SealCaller(principal))
    }
}

#[utoipa::path(post, path = "/api/v1/seals", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("operator_key" = []), ("wallet_session" = [], "wallet_csrf" = [])),
    request_body = NewSeal,
    responses(
        (status = 201, body = SealView, description = "Filed: key, certificate from the node's seal CA, picture, `SESeal`"),
        (status = 400, body = crate::error::ErrorBody, description = "`seal.bad_kind`, `seal.bad_alg`, `seal.bad_name`, `seal.bad_validity`, `seal.bad_user`, `seal.owner_unknown`, `uscc.*`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_owner`: only the owner (or the operator) files its seals")))]
pub async fn create(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    JsonBody(new): JsonBody<NewSeal>,
) -> ApiResult<(StatusCode, Json<SealView>)> {
    Ok((
        StatusCode::CREATED,
        Json(seals::create(&s.node, &who, new).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OwnerQuery {
    /// The owner's USCC (required: `seal.owner_required`).
    pub owner: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/seals", tag = "seals",
    params(OwnerQuery),
    responses(
        (status = 200, body = [SealView], description = "The seals filed for the owner, oldest first (an enterprise's seals from its business license included)"),
        (status = 400, body = crate::error::ErrorBody, description = "`seal.owner_required`, `uscc.*`")))]
pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<OwnerQuery>,
) -> ApiResult<Json<Vec<SealView>>> {
    let owner = q.owner.ok_or_else(|| {
        ApiError::new(
            ErrorKind::Invalid,
            "seal.owner_required",
            "name the owner: ?owner=<USCC>",
        )
    })?;
    Ok(Json(seals::of_owner(&s.node, &owner).await?))
}

#[utoipa::path(get, path = "/api/v1/seals/{id}", tag = "seals",
    params(("id" = String, Path, description = "The seal's id (its number)")),
    responses(
        (status = 200, body = SealView),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`")))]
pub async fn get(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<SealView>> {
    Ok(Json(seals::get(&s.node, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/seals/{id}/seal", tag = "seals",
    params(("id" = String, Path, description = "The seal's id")),
    responses(
        (status = 200, content_type = "application/octet-stream", body = Vec<u8>, description = "The GB/T 38540 `SESeal`, DER"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`")))]
pub async fn seal_der(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let der = seals::seal_der(&s.node, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], der).into_response())
}

#[utoipa::path(get, path = "/api/v1/seals/{id}/certificate", tag = "seals",
    params(("id" = String, Path, description = "The seal's id")),
    responses(
        (status = 200, content_type = "application/pem-certificate-chain", body = String, description = "The seal's certificate, then its CA's"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`")))]
pub async fn certificate(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let pem = seals::chain_pem(&s.node, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        pem,
    )
        .into_response())
}

async fn change(
    s: &AppState,
    who: &Principal,
    id: &str,
    c: StatusChange,
) -> ApiResult<Json<SealView>> {
    Ok(Json(seals::set_status(&s.node, who, id, c).await?))
}

#[utoipa::path(post, path = "/api/v1/seals/{id}/suspension", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("operator_key" = []), ("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The seal's id")),
    responses(
        (status = 200, body = SealView, description = "Suspended: it signs nothing until reinstated; listed on the CA's revocation list"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_owner`"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`seal.bad_transition`")))]
pub async fn suspension(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<SealView>> {
    change(&s, &who, &id, StatusChange::Suspend).await
}

#[utoipa::path(post, path = "/api/v1/seals/{id}/reinstatement", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("operator_key" = []), ("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The seal's id")),
    responses(
        (status = 200, body = SealView, description = "Active again"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_owner`"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`seal.bad_transition`")))]
pub async fn reinstatement(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<SealView>> {
    change(&s, &who, &id, StatusChange::Reinstate).await
}

#[utoipa::path(post, path = "/api/v1/seals/{id}/revocation", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("operator_key" = []), ("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The seal's id")),
    responses(
        (status = 200, body = SealView, description = "Revoked, for good; documents it sealed no longer verify as valid"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_owner`"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`seal.bad_transition`")))]
pub async fn revocation(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<SealView>> {
    change(&s, &who, &id, StatusChange::Revoke).await
}

/// Who besides the owner's representatives may use a seal.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealUsers {
    /// Account usernames (authorised staff); replaces the list.
    pub users: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/seals/{id}/users", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("operator_key" = []), ("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The seal's id")),
    request_body = SealUsers,
    responses(
        (status = 200, body = SealView, description = "The seal with its users replaced"),
        (status = 400, body = crate::error::ErrorBody, description = "`seal.bad_user`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_owner`"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`")))]
pub async fn users(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SealUsers>,
) -> ApiResult<Json<SealView>> {
    Ok(Json(
        seals::set_users(&s.node, &who, &id, body.users).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UsesQuery {
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/seals/{id}/uses", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("operator_key" = []), ("wallet_session" = [])),
    params(("id" = String, Path, description = "The seal's id"), UsesQuery),
    responses(
        (status = 200, body = [UseView], description = "Every document sealed with it, newest first"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_owner`"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`")))]
pub async fn uses(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    Path(id): Path<String>,
    Query(q): Query<UsesQuery>,
) -> ApiResult<Json<Vec<UseView>>> {
    Ok(Json(
        seals::uses(&s.node, &who, &id, q.limit.unwrap_or(100)).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SealQuery {
    /// 1-based page to place the seal on (default 1).
    pub page: Option<u32>,
    /// Where on the page, `x1,y1,x2,y2` in PDF points (default: 42 mm square, bottom right).
    pub rect: Option<String>,
    /// What is sealed (kept with the use).
    pub purpose: Option<String>,
}

fn pdf_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorKind::Invalid,
                "pdf.too_large",
                format!("a PDF of at most {MAX_PDF_BODY} bytes"),
            )
        } else {
            ApiError::new(ErrorKind::Invalid, "request.malformed", e.body_text())
        }
    })
}

fn rect_of(text: &str) -> Result<[f64; 4], ApiError> {
    let bad = || {
        ApiError::new(
            ErrorKind::Invalid,
            "seal.bad_placement",
            "rect is x1,y1,x2,y2 in PDF points",
        )
    };
    let v: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    <[f64; 4]>::try_from(v).map_err(|_| bad())
}

#[utoipa::path(post, path = "/api/v1/seals/{id}/documents", tag = "seals",
    security(("api_key" = []), ("institution_key" = []), ("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The seal's id"), SealQuery),
    request_body(content = PdfBytes, content_type = "application/octet-stream", description = "The PDF to seal (at most 32 MiB; sent as application/pdf or application/octet-stream); a PDF sealed before keeps its signatures (joint seals: seal again with the next seal)"),
    responses(
        (status = 200, content_type = "application/pdf", body = Vec<u8>, description = "The PDF with the seal's picture and its signature, as an incremental update; the use is recorded"),
        (status = 400, body = crate::error::ErrorBody, description = "`pdf.*` (not a PDF, encrypted, no such page, too large), `seal.bad_placement`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`seal.not_allowed`: neither the owner nor a user the seal lists"),
        (status = 404, body = crate::error::ErrorBody, description = "`seal.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`seal.not_active`, `seal.outside_validity`")))]
pub async fn documents(
    State(s): State<AppState>,
    SealCaller(who): SealCaller,
    Path(id): Path<String>,
    Query(q): Query<SealQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let pdf = pdf_body(body)?;
    let placement = Placement {
        seal: id,
        page: q.page,
        rect: q.rect.as_deref().map(rect_of).transpose()?,
    };
    let sealed = sealdoc::seal(
        &s.node,
        &who,
        &pdf,
        &[placement],
        q.purpose.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], sealed).into_response())
}

#[utoipa::path(post, path = "/api/v1/seal-verifications", tag = "public",
    request_body(content = PdfBytes, content_type = "application/octet-stream", description = "A sealed PDF (at most 32 MiB; sent as application/pdf or application/octet-stream)"),
    responses(
        (status = 200, body = sealdoc::DocumentVerdict, description = "Every seal's signature, seal, certificates and status; `valid` when all hold and nothing was added after the last signature"),
        (status = 400, body = crate::error::ErrorBody, description = "`pdf.*`: not a PDF, truncated, too large")))]
pub async fn verification(
    State(s): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<sealdoc::DocumentVerdict>> {
    let pdf = pdf_body(body)?;
    Ok(Json(sealdoc::verify(&s.node, &pdf).await?))
}

fn alg_param(alg: &str) -> Result<elicense_crypto::Alg, ApiError> {
    Ok(seals::alg_of(Some(alg))?)
}

#[utoipa::path(get, path = "/api/v1/seal-ca/{alg}/certificate", tag = "seals",
    params(("alg" = String, Path, description = "`sm2` or `es256`")),
    responses(
        (status = 200, content_type = "application/pem-certificate-chain", body = String, description = "The node's seal CA certificate for that algorithm: the trust anchor of its seals"),
        (status = 400, body = crate::error::ErrorBody, description = "`seal.bad_alg`")))]
pub async fn ca_certificate(
    State(s): State<AppState>,
    Path(alg): Path<String>,
) -> ApiResult<Response> {
    let pem = seals::ca_pem(&s.node, alg_param(&alg)?).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        pem,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/seal-ca/{alg}/crl", tag = "seals",
    params(("alg" = String, Path, description = "`sm2` or `es256`")),
    responses(
        (status = 200, content_type = "application/pkix-crl", body = Vec<u8>, description = "The CA's revocation list (DER): every suspended (reason certificateHold) or revoked seal, valid for a day; other members of the network read it for the status of this node's seals"),
        (status = 400, body = crate::error::ErrorBody, description = "`seal.bad_alg`")))]
pub async fn ca_crl(State(s): State<AppState>, Path(alg): Path<String>) -> ApiResult<Response> {
    let der = seals::crl(&s.node, alg_param(&alg)?).await?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response())
}
