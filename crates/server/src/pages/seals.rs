//! Public seal pages, for anyone and without an account ("who signs, verifies"):
//! `/seals` (upload a sealed PDF and see every seal's verdict; look up an owner's seals in the
//! register), `POST /seals/verify` (the upload). Over `elicense_app::seals`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use elicense_app::seals::document::{self as sealdoc, DocumentVerdict};
use elicense_app::seals::{self, SealView};
use elicense_app::{AppError, ErrorKind};

use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "seals.html")]
struct SealsPage {
    t: T,
    back: String,
    verdict: Option<DocumentVerdict>,
    owner: String,
    listed: Vec<SealView>,
}

/// `GET /seals[?owner=USCC]`: the upload form, and an owner's seals when asked.
pub async fn page(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let owner = q
        .get("owner")
        .map(|o| o.trim().to_owned())
        .unwrap_or_default();
    let listed = if owner.is_empty() {
        Vec::new()
    } else {
        seals::of_owner(&s.node, &owner)
            .await
            .or_page(t, "/seals")?
    };
    Ok(render(&SealsPage {
        t,
        back,
        verdict: None,
        owner,
        listed,
    }))
}

fn bad_upload(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Invalid, "seal.bad_upload", e.to_string())
}

/// `POST /seals/verify`: a sealed PDF (multipart field `pdf`), verified.
pub async fn verify(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut pdf = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(bad_upload)
        .or_page(t, "/seals")?
    {
        if field.name() == Some("pdf") {
            pdf = Some(
                field
                    .bytes()
                    .await
                    .map_err(bad_upload)
                    .or_page(t, "/seals")?,
            );
        }
    }
    let pdf = pdf
        .ok_or_else(|| bad_upload("no PDF sent"))
        .or_page(t, "/seals")?;
    let verdict = sealdoc::verify(&s.node, &pdf).await.or_page(t, "/seals")?;
    Ok(render(&SealsPage {
        t,
        back,
        verdict: Some(verdict),
        owner: String::new(),
        listed: Vec::new(),
    }))
}

#[derive(Template)]
#[template(path = "wallet_seals.html")]
struct WalletSealsPage {
    t: T,
    back: String,
    /// Each seal the person may use, with its latest uses.
    seals: Vec<(SealView, Vec<seals::UseView>)>,
    /// The active ones (what the sealing form offers).
    active: Vec<SealView>,
}

/// `GET /wallet/seals`: the seals of the enterprises the signed-in person represents, their
/// latest uses, and a form that seals a PDF with one of them (`seals.js`, through
/// `POST /api/v1/seals/{id}/documents`).
pub async fn wallet(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    super::auth::Holder(id): super::auth::Holder,
) -> Result<Response, PageError> {
    let who = seals::Principal::Person(id.clone());
    let mut rows = Vec::new();
    for seal in seals::for_person(&s.node, &id)
        .await
        .or_page(t, "/wallet")?
    {
        let uses = seals::uses(&s.node, &who, &seal.seal_id, 5)
            .await
            .or_page(t, "/wallet")?;
        rows.push((seal, uses));
    }
    let active = rows
        .iter()
        .filter(|(s, _)| s.status == "active")
        .map(|(s, _)| s.clone())
        .collect();
    Ok(render(&WalletSealsPage {
        t,
        back,
        seals: rows,
        active,
    }))
}
