//! The holder's sharing requests (`/wallet/requests`: consent or refuse, with htmx) and the
//! public check page of an annotated copy (`/verify/c/{id}`, no personal data).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use elicense_app::institutions::{self, PublicCopy, ShareView};
use elicense_app::wallet::Identity;
use elicense_app::ErrorKind;

use super::auth::Holder;
use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

/// One request as the page shows it.
struct Row {
    id: String,
    institution: String,
    matter: String,
    type_name: String,
    purpose: String,
    staff: String,
    created_at: i64,
    fields: String,
    legal_basis: Option<String>,
    state: String,
    state_key: String,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    t: T,
    back: String,
    rows: Vec<Row>,
    error: Option<String>,
    /// Counters' requests addressed through the one code: (institution, matter, link to the
    /// consent page).
    counter: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "requests_box.html")]
struct RequestsBox {
    t: T,
    rows: Vec<Row>,
    error: Option<String>,
}

/// The field labels of a request, in the viewer's language where the catalogue has them.
async fn rows(s: &AppState, t: &T, views: Vec<ShareView>) -> Vec<Row> {
    let mut out = Vec::with_capacity(views.len());
    for v in views {
        let m = institutions::matter(&s.node, &v.matter)
            .await
            .ok()
            .flatten();
        let label = |f: &str| -> String {
            match m.as_ref().and_then(|m| m.license_type.item(f)) {
                Some(item) => item.label.clone(),
                None => t.s(&format!("claim_{f}")).to_owned(),
            }
        };
        let fields = v
            .fields
            .iter()
            .map(|f| label(f))
            .collect::<Vec<_>>()
            .join("、");
        let (matter, type_name) = match (&m, t.is_en()) {
            (Some(m), true) => (m.need.name_en.clone(), m.license_type.name_en.clone()),
            _ => (v.matter_name.clone(), v.type_name.clone()),
        };
        out.push(Row {
            state_key: format!("share_state_{}", v.state),
            id: v.id,
            institution: v.institution_name,
            matter,
            type_name,
            purpose: v.purpose,
            staff: v.staff,
            created_at: v.created_at,
            fields,
            legal_basis: v.legal_basis,
            state: v.state,
        });
    }
    out
}

pub async fn list(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
) -> Result<Response, PageError> {
    let views = institutions::for_holder(&s.node, &id)
        .await
        .or_page(t, "/wallet")?;
    let rows = rows(&s, &t, views).await;
    let counter = elicense_app::wallet::openid4vp::addressed(&s.node, &id)
        .await
        .or_page(t, "/wallet")?
        .into_iter()
        .map(|a| {
            let uri = elicense_app::openid4vp::request_uri(&s.node, &a.request);
            let link = format!(
                "/wallet/vp?request_uri={}",
                url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
            );
            let matter = if t.is_en() {
                a.matter_name_en
            } else {
                a.matter_name
            };
            (a.institution_name, matter, link)
        })
        .collect();
    Ok(render(&RequestsPage {
        t,
        back,
        rows,
        error: None,
        counter,
    }))
}

async fn decide(
    s: &AppState,
    t: T,
    headers: &HeaderMap,
    id: &Identity,
    share: &str,
    consent: bool,
) -> Result<Response, PageError> {
    let error = match institutions::decide(&s.node, id, share, consent).await {
        Ok(_) => None,
        // A request decided meanwhile (another tab) is shown as it now is, with a note.
        Err(e) if e.kind == ErrorKind::Conflict => Some(format!("{} ({})", e.message, e.code)),
        Err(e) => {
            return Err(PageError {
                t,
                error: e,
                back: "/wallet/requests",
            })
        }
    };
    // Without script the form posts normally: back to the page.
    if !headers.contains_key("hx-request") {
        return Ok(Redirect::to("/wallet/requests").into_response());
    }
    let views = institutions::for_holder(&s.node, id)
        .await
        .or_page(t, "/wallet")?;
    let rows = rows(s, &t, views).await;
    Ok(render(&RequestsBox { t, rows, error }))
}

pub async fn consent(
    State(s): State<AppState>,
    t: T,
    headers: HeaderMap,
    Holder(id): Holder,
    Path(share): Path<String>,
) -> Result<Response, PageError> {
    decide(&s, t, &headers, &id, &share, true).await
}

pub async fn refuse(
    State(s): State<AppState>,
    t: T,
    headers: HeaderMap,
    Holder(id): Holder,
    Path(share): Path<String>,
) -> Result<Response, PageError> {
    decide(&s, t, &headers, &id, &share, false).await
}

#[derive(Template)]
#[template(path = "verify_copy.html")]
struct CopyPage {
    t: T,
    back: String,
    c: PublicCopy,
}

pub async fn copy(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = institutions::public_copy(&s.node, id.trim())
        .await
        .or_page(t, "/verify")?;
    Ok(render(&CopyPage { t, back, c }))
}
