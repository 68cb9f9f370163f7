//! The counter page for relying institutions' staff (`/counter`): a person registered as
//! staff of an institution (by their resident ID, `PUT /api/v1/staff/{username}`) signs in
//! like any wallet user (a local account or the region's OpenID Connect provider) and starts
//! presentation requests for their matters. The request page shows the QR code the holder
//! scans, follows the request (htmx, every two seconds) and, once the holder has consented,
//! shows the institution's form filled from the annotated copies (one per license; a joint
//! matter has several), each field marked as verified from which license (免填报). Over
//! `elicense_app::institutions::presentations`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use elicense_app::institutions::presentations::{self, RequestView};
use elicense_app::institutions::{self, staff};
use elicense_app::wallet::Identity;
use serde::Deserialize;

use super::auth::Holder;
use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

/// One counter of the signed-in person.
struct Desk {
    institution: String,
    institution_name: String,
    staff: String,
    /// (code, name) of the matters assigned to them.
    matters: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "counter.html")]
struct CounterPage {
    t: T,
    back: String,
    desks: Vec<Desk>,
}

async fn matter_name(s: &AppState, t: &T, code: &str) -> String {
    match institutions::matter(&s.node, code).await.ok().flatten() {
        Some(m) if t.is_en() => m.need.name_en,
        Some(m) => m.need.name,
        None => code.to_owned(),
    }
}

pub async fn page(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
) -> Result<Response, PageError> {
    let counters = staff::counters_of(&s.node, &id)
        .await
        .or_page(t, "/wallet")?;
    let mut desks = Vec::new();
    for c in counters {
        let mut matters = Vec::new();
        for m in &c.staff.matters {
            matters.push((m.clone(), matter_name(&s, &t, m).await));
        }
        desks.push(Desk {
            staff: c.display(),
            institution: c.institution.code,
            institution_name: c.institution.name,
            matters,
        });
    }
    Ok(render(&CounterPage { t, back, desks }))
}

#[derive(Deserialize)]
pub struct StartForm {
    institution: String,
    matter: String,
    purpose: String,
    response_mode: Option<String>,
    /// A holder's one code, scanned: the request is addressed to them.
    one_code: Option<String>,
}

pub async fn start(
    State(s): State<AppState>,
    t: T,
    Holder(id): Holder,
    Form(f): Form<StartForm>,
) -> Result<Response, PageError> {
    let handle = match f
        .one_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => {
            let counter = staff::counter_of(&s.node, &id, &f.institution)
                .await
                .or_page(t, "/counter")?;
            let h = elicense_app::one_code::scan(
                &s.node,
                &counter.institution,
                code,
                &counter.staff.username,
            )
            .await
            .or_page(t, "/counter")?;
            Some(h.handle)
        }
        None => None,
    };
    let req = serde_json::from_value(serde_json::json!({
        "matter": f.matter, "staff": "", "purpose": f.purpose,
        "response_mode": f.response_mode.filter(|m| !m.is_empty()),
        "handle": handle,
    }))
    .map_err(|e| {
        elicense_app::AppError::new(
            elicense_app::ErrorKind::Invalid,
            "request.malformed",
            e.to_string(),
        )
    })
    .or_page(t, "/counter")?;
    let view = presentations::start_at_counter(&s.node, &id, &f.institution, req)
        .await
        .or_page(t, "/counter")?;
    Ok(Redirect::to(&format!("/counter/requests/{}", view.id)).into_response())
}

/// A field of the filled form as the page shows it.
struct Field {
    label: String,
    value: String,
    /// The license type it was verified from, when verified.
    source: Option<String>,
}

#[derive(Template)]
#[template(path = "counter_status.html")]
struct StatusBox {
    t: T,
    r: RequestView,
    /// The text key of the state.
    state_key: String,
    matter_name: String,
    fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "counter_request.html")]
struct RequestPage {
    t: T,
    back: String,
    qr_svg: String,
    /// The QR code's link as a link to this node's wallet (same query).
    wallet_link: String,
    qr: String,
    /// The status box, rendered.
    status: String,
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The status box: the filled form once granted (or the copy's fields when the institution
/// has no form for the matter).
async fn status(s: &AppState, t: T, id: &Identity, rid: &str) -> Result<StatusBox, PageError> {
    let r = presentations::get_at_counter(&s.node, id, rid)
        .await
        .or_page(t, "/counter")?;
    let mut fields = Vec::new();
    match &r.form {
        Some(form) => {
            for f in &form.fields {
                fields.push(Field {
                    label: f.label.clone(),
                    value: text(&f.value),
                    source: f.source.as_ref().map(|src| src.type_name.clone()),
                });
            }
        }
        None => {
            for share in &r.shares {
                for (k, v) in share.copy.iter().flat_map(|c| c.fields.iter()) {
                    fields.push(Field {
                        label: k.clone(),
                        value: text(v),
                        source: Some(share.type_name.clone()),
                    });
                }
            }
        }
    }
    let matter_name = matter_name(s, &t, &r.matter).await;
    Ok(StatusBox {
        t,
        state_key: format!("counter_state_{}", r.state),
        r,
        matter_name,
        fields,
    })
}

pub async fn request(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
    Path(rid): Path<String>,
) -> Result<Response, PageError> {
    let status = status(&s, t, &id, &rid).await?;
    let qr_svg = elicense_face::qr_svg(&status.r.qr)
        .map_err(|e| elicense_app::AppError::internal(e.to_string()))
        .or_page(t, "/counter")?;
    let qr = status.r.qr.clone();
    let wallet_link = format!("/wallet/vp?{}", qr.split_once('?').map_or("", |(_, q)| q));
    let status = status
        .render()
        .map_err(|e| elicense_app::AppError::internal(e.to_string()))
        .or_page(t, "/counter")?;
    Ok(render(&RequestPage {
        t,
        back,
        qr_svg,
        wallet_link,
        qr,
        status,
    }))
}

pub async fn request_status(
    State(s): State<AppState>,
    t: T,
    Holder(id): Holder,
    Path(rid): Path<String>,
) -> Result<Response, PageError> {
    Ok(render(&status(&s, t, &id, &rid).await?))
}
