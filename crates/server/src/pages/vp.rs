//! The wallet's answer to a counter's OpenID4VP request: `/wallet/vp?client_id=…&request_uri=…`
//! (the query of the counter's `openid4vp://` link, or `?link=` with the whole link pasted)
//! shows who asks, for which matter and purpose, which fields and how long the copy is kept,
//! and the licenses that can answer. Consent runs in the browser (`vp.js`: the device key
//! signs the key-binding JWT, `POST /api/v1/wallet/vp/{id}/prepare` and `…/answer`); a
//! refusal is a plain form (`POST /wallet/vp/{id}/refuse`). Over
//! `elicense_app::wallet::openid4vp`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::Response;
use elicense_app::wallet::openid4vp::{self, Asked};
use elicense_app::wallet::vp_foreign;

use super::auth::Holder;
use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "vp.html")]
struct VpPage {
    t: T,
    back: String,
    asked: Option<Asked>,
    /// Another verifier's request (its request object, carried to the answer).
    foreign: Option<ForeignView>,
    matter_name: String,
    /// The license types asked for, joined.
    type_names: String,
    /// Labels of the fields asked for, joined (per license type for a joint matter).
    fields: String,
    /// The license choices: one per part of the matter (one, or one per license type of a
    /// joint matter), or the one of another verifier's request.
    choices: Vec<Choice>,
    /// Whether every choice has a license to pick.
    answerable: bool,
    /// `granted` or `refused` once answered from this page.
    outcome: Option<String>,
}

/// One license to choose.
struct Choice {
    /// The fieldset's legend.
    legend: String,
    licenses: Vec<elicense_app::wallet::openid4vp::Candidate>,
}

/// Another verifier's request as the consent page shows it.
struct ForeignView {
    jar: String,
    verifier: String,
    client_id: String,
    licenses: Vec<elicense_app::wallet::openid4vp::Candidate>,
}

fn page(t: T, back: String, asked: Option<Asked>, outcome: Option<String>) -> Response {
    page_with(t, back, asked, None, String::new(), outcome)
}

fn page_with(
    t: T,
    back: String,
    asked: Option<Asked>,
    foreign: Option<ForeignView>,
    foreign_fields: String,
    outcome: Option<String>,
) -> Response {
    let labels = |fields: &[(String, Option<String>)]| {
        fields
            .iter()
            .map(|(claim, label)| match label {
                Some(l) => l.clone(),
                None => t.s(&format!("claim_{claim}")).to_owned(),
            })
            .collect::<Vec<_>>()
            .join("、")
    };
    let choose = t.s("vp_choose");
    let (matter_name, type_names, fields, choices) = match &asked {
        Some(a) => {
            let joint = a.parts.len() > 1;
            let fields = a
                .parts
                .iter()
                .map(|p| match joint {
                    true => format!("{}：{}", p.type_name, labels(&p.fields)),
                    false => labels(&p.fields),
                })
                .collect::<Vec<_>>()
                .join("；");
            let choices: Vec<Choice> = a
                .parts
                .iter()
                .map(|p| Choice {
                    legend: match joint {
                        true => format!("{choose}（{}）", p.type_name),
                        false => choose.to_owned(),
                    },
                    licenses: p.licenses.clone(),
                })
                .collect();
            (
                if t.is_en() {
                    a.matter_name_en.clone()
                } else {
                    a.matter_name.clone()
                },
                a.parts
                    .iter()
                    .map(|p| p.type_name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                fields,
                choices,
            )
        }
        None => (
            String::new(),
            String::new(),
            foreign_fields,
            foreign
                .iter()
                .map(|f| Choice {
                    legend: choose.to_owned(),
                    licenses: f.licenses.clone(),
                })
                .collect(),
        ),
    };
    let answerable = choices.iter().all(|c| !c.licenses.is_empty());
    render(&VpPage {
        t,
        back,
        asked,
        foreign,
        matter_name,
        type_names,
        fields,
        choices,
        answerable,
        outcome,
    })
}

pub async fn show(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
    RawQuery(query): RawQuery,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let link = match params.get("link") {
        Some(l) => l.clone(),
        None => match query {
            Some(q) if params.contains_key("request_uri") => q,
            // No request yet: the form to paste a counter's link.
            _ => return Ok(page(t, back, None, None)),
        },
    };
    let rid = match openid4vp::request_id(&s.node, &link) {
        Ok(rid) => rid,
        // Another verifier's request: fetched only from an origin the operator listed.
        Err(e) if e.code == "wallet.vp_foreign" => {
            let r = vp_foreign::fetch(&s.node, &link)
                .await
                .or_page(t, "/wallet/vp")?;
            let licenses = vp_foreign::candidates(&s.node, &id, &r)
                .await
                .or_page(t, "/wallet")?;
            let fields = r
                .claims
                .iter()
                .map(|c| match c.as_str() {
                    "holder_name" | "holder_id" | "holder_id_type" | "license_number" => {
                        t.s(&format!("claim_{c}")).to_owned()
                    }
                    other => other.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("、");
            let view = ForeignView {
                verifier: r.client_name.clone().unwrap_or_else(|| r.client_id.clone()),
                client_id: r.client_id,
                jar: r.jar,
                licenses,
            };
            return Ok(page_with(t, back, None, Some(view), fields, None));
        }
        Err(e) => return Err(e).or_page(t, "/wallet/vp"),
    };
    let asked = openid4vp::asked(&s.node, &id, &rid)
        .await
        .or_page(t, "/wallet")?;
    Ok(page(t, back, Some(asked), None))
}

pub async fn refuse(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
    Path(rid): Path<String>,
) -> Result<Response, PageError> {
    let ack = openid4vp::refuse(&s.node, &id, &rid)
        .await
        .or_page(t, "/wallet")?;
    Ok(page(t, back, None, Some(ack.outcome)))
}

#[derive(Template)]
#[template(path = "wallet_code.html")]
struct CodePage {
    t: T,
    back: String,
    /// The code box, rendered.
    code_box: String,
}

#[derive(Template)]
#[template(path = "wallet_code_box.html")]
struct CodeBox {
    t: T,
    code: String,
    qr_svg: String,
    expires_at: i64,
    rotate_secs: i64,
}

fn code_box(s: &AppState, t: T, id: &elicense_app::wallet::Identity) -> Result<CodeBox, PageError> {
    let c = elicense_app::one_code::code_for(&s.node, id).or_page(t, "/wallet")?;
    let qr_svg = elicense_face::qr_svg(&c.code)
        .map_err(|e| elicense_app::AppError::internal(e.to_string()))
        .or_page(t, "/wallet")?;
    Ok(CodeBox {
        t,
        code: c.code,
        qr_svg,
        expires_at: c.expires_at,
        rotate_secs: elicense_app::one_code::ROTATE_SECS,
    })
}

/// `/wallet/code`: the person's one code (一码通), a new one every 30 seconds.
pub async fn code(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
) -> Result<Response, PageError> {
    let code_box = code_box(&s, t, &id)?
        .render()
        .map_err(|e| elicense_app::AppError::internal(e.to_string()))
        .or_page(t, "/wallet")?;
    Ok(render(&CodePage { t, back, code_box }))
}

/// `/wallet/code/box`: the next code (htmx).
pub async fn code_next(
    State(s): State<AppState>,
    t: T,
    Holder(id): Holder,
) -> Result<Response, PageError> {
    Ok(render(&code_box(&s, t, &id)?))
}

#[derive(serde::Deserialize)]
pub struct ForeignRefusal {
    jar: String,
}

/// Refuses another verifier's request (`POST /wallet/vp-foreign/refuse`, the request object in
/// the form).
pub async fn refuse_foreign(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(_id): Holder,
    axum::Form(f): axum::Form<ForeignRefusal>,
) -> Result<Response, PageError> {
    let sent = vp_foreign::refuse(&s.node, &f.jar)
        .await
        .or_page(t, "/wallet")?;
    Ok(page(t, back, None, Some(sent.outcome)))
}
