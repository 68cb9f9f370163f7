//! Public verification pages, for anyone and without an account: by identifier (status,
//! issuer, type, validity, and the check of a printed face's token: the holder's masked name
//! and code only when the face matches; no other personal data), by presentation reference (what the holder
//! chose to disclose, for 60 seconds), a form with a camera QR scanner, and a QR image upload
//! for browsers that cannot scan.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use elicense_app::face::check::{self as face_check, FaceOutcome};
use elicense_app::verify::{public_status, public_status_in_log, PublicStatus, StatusView};
use elicense_app::wallet::present;
use elicense_app::{AppError, ErrorKind};
use serde::Deserialize;

use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "verify_form.html")]
struct FormPage {
    t: T,
    back: String,
}

pub async fn form(t: T, Back(back): Back) -> Response {
    render(&FormPage { t, back })
}

#[derive(Template)]
#[template(path = "verify_result.html")]
struct ResultPage {
    t: T,
    back: String,
    /// `ok`, `warn` or `bad`.
    tone: &'static str,
    valid: bool,
    genuine: bool,
    expired: bool,
    headline: String,
    first_problem: Option<String>,
    status: Option<StatusView>,
    type_name: Option<String>,
    issuer_name: Option<String>,
    validity: Option<String>,
    identifier: Option<String>,
    matter: Option<String>,
    /// Log leaf of the event that set the status, when its inclusion proof checks out.
    log_index: Option<u64>,
    log_size: u64,
    presentation: bool,
    disclosed: Vec<(String, String)>,
    problems: Vec<(String, String)>,
    /// The printed-face check (pages by identifier only).
    face: Option<FaceView>,
}

fn validity(t: &T, p: &PublicStatus) -> Option<String> {
    let from = p.valid_from.clone()?;
    let until = p
        .valid_until
        .clone()
        .unwrap_or_else(|| t.s("long_term").to_owned());
    Some(format!("{from} – {until}"))
}

fn type_name(t: &T, p: &PublicStatus, en: Option<&str>) -> String {
    match en {
        Some(en) if t.is_en() => en.to_owned(),
        _ => p.type_name.clone(),
    }
}

/// `GET /verify/{identifier}`: a typed identifier, or the QR code of a face without a token.
pub async fn by_identifier(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Path(identifier): Path<String>,
) -> Result<Response, PageError> {
    identifier_page(&s, t, back, identifier.trim(), None).await
}

/// `GET /verify/{identifier}/{token}`: the QR code of a face, with the issuer's token over
/// the printed data (see `elicense_app::face::check`).
pub async fn by_face(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Path((identifier, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    identifier_page(&s, t, back, identifier.trim(), Some(token.trim())).await
}

/// The printed-face check as the result page shows it.
struct FaceView {
    /// `matches`, `mismatch` or `absent`.
    outcome: &'static str,
    message: String,
    holder_name: Option<String>,
    holder_code: Option<String>,
}

/// Status by identifier, with the check of the printed face: the holder's masked name and
/// code only when the face's token matches; the headline never says genuine for a face that
/// does not match or cannot be checked.
async fn identifier_page(
    s: &AppState,
    t: T,
    back: String,
    identifier: &str,
    token: Option<&str>,
) -> Result<Response, PageError> {
    let (p, in_log) = public_status_in_log(&s.node, identifier)
        .await
        .or_page(t, "/verify")?;
    let face = face_check::check(&s.node, &p.identifier, token)
        .await
        .or_page(t, "/verify")?;
    let en = s.node.catalogue.get(&p.type_code, None).await.ok();
    let log_size = match in_log {
        Some(_) => {
            elicense_app::log::checkpoint(&s.node)
                .await
                .or_page(t, "/verify")?
                .size
        }
        None => 0,
    };
    let valid = p.status.code == "valid";
    let (tone, headline) = match (face.outcome, valid) {
        (FaceOutcome::Mismatch, _) => ("bad", "verdict_face_mismatch"),
        (FaceOutcome::Matches, true) => ("ok", "verdict_genuine"),
        (FaceOutcome::Absent, true) => ("warn", "verdict_face_unchecked"),
        (_, false) => ("warn", "verdict_genuine_not_valid"),
    };
    let holder = face.holder.as_ref();
    let face_view = FaceView {
        outcome: face.outcome.as_str(),
        message: t
            .s(match face.outcome {
                FaceOutcome::Matches => "face_matches",
                FaceOutcome::Mismatch => "face_mismatch",
                FaceOutcome::Absent => "face_absent",
            })
            .to_owned(),
        holder_name: holder.map(|h| h.name.clone()),
        holder_code: holder.map(|h| h.code.clone()),
    };
    Ok(render(&ResultPage {
        tone,
        valid,
        genuine: face.outcome != FaceOutcome::Mismatch,
        expired: false,
        headline: t.s(headline).to_owned(),
        first_problem: None,
        type_name: Some(type_name(&t, &p, en.as_deref().map(|x| x.name_en.as_str()))),
        issuer_name: Some(p.issuer_name.clone()),
        validity: validity(&t, &p),
        identifier: Some(p.identifier.clone()),
        status: Some(p.status),
        matter: None,
        log_index: in_log,
        log_size,
        presentation: false,
        disclosed: Vec::new(),
        problems: Vec::new(),
        face: Some(face_view),
        t,
        back,
    }))
}

/// Claims of every credential that are not the holder's data.
const REGISTERED: [&str; 9] = [
    "iss", "vct", "iat", "nbf", "exp", "status", "cnf", "jti", "sub",
];

/// `GET /verify/p/{id}`: a presentation shown by a holder's wallet.
pub async fn presentation(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Path(pid): Path<String>,
) -> Result<Response, PageError> {
    let node = &s.node;
    let opening = present::open(node, &pid).await.or_page(t, "/verify")?;
    let v = opening.verdict;
    let expired = v.problems.iter().any(|p| p.code == "presentation.expired");
    let genuine = !v.problems.iter().any(|p| {
        p.code.starts_with("signature") || p.code.starts_with("sdjwt") || p.code.starts_with("key.")
    });
    let public = match &v.identifier {
        Some(id) => public_status(node, id).await.ok(),
        None => None,
    };
    let license_type = match &public {
        Some(p) => node.catalogue.get(&p.type_code, None).await.ok(),
        None => None,
    };
    let label = |name: &str| -> String {
        license_type
            .as_ref()
            .and_then(|lt| lt.item(name).map(|i| i.label.clone()))
            .unwrap_or_else(|| t.s(&format!("claim_{name}")).to_owned())
    };
    let disclosed = v
        .claims
        .iter()
        .filter(|(k, _)| !REGISTERED.contains(&k.as_str()))
        .map(|(k, val)| {
            let val = val
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| val.to_string());
            (label(k), val)
        })
        .collect();
    let matter = opening.matter.as_ref().map(|code| {
        license_type
            .as_ref()
            .and_then(|lt| lt.matters.iter().find(|m| &m.code == code))
            .map(|m| {
                if t.is_en() {
                    m.name_en.clone()
                } else {
                    m.name.clone()
                }
            })
            .unwrap_or_else(|| code.clone())
    });
    let headline = if expired {
        t.s("verdict_expired")
    } else if v.valid {
        t.s("verdict_genuine")
    } else if genuine {
        t.s("verdict_genuine_not_valid")
    } else {
        t.s("verdict_invalid")
    }
    .to_owned();
    Ok(render(&ResultPage {
        tone: if v.valid {
            "ok"
        } else if genuine && !expired {
            "warn"
        } else {
            "bad"
        },
        valid: v.valid,
        genuine,
        expired,
        headline,
        first_problem: v.problems.first().map(|p| p.code.clone()),
        status: if expired { None } else { v.status.clone() },
        type_name: public
            .as_ref()
            .map(|p| type_name(&t, p, license_type.as_deref().map(|x| x.name_en.as_str()))),
        issuer_name: public.as_ref().map(|p| p.issuer_name.clone()),
        validity: public.as_ref().and_then(|p| validity(&t, p)),
        identifier: v.identifier.clone(),
        matter,
        log_index: None,
        log_size: 0,
        presentation: !expired,
        disclosed,
        problems: v
            .problems
            .iter()
            .map(|p| (p.code.clone(), p.message.clone()))
            .collect(),
        face: None,
        t,
        back,
    }))
}

#[derive(Deserialize)]
pub struct GoQuery {
    identifier: Option<String>,
}

/// Where a scanned or typed text leads: a verification link of this node, or an identifier.
fn target(node_base: &str, text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix(node_base) {
        if rest.starts_with("/verify/") && !rest.contains("..") && !rest.contains('?') {
            return Some(rest.to_owned());
        }
        return None;
    }
    let is_identifier = text.starts_with("1.2.156.")
        && text.len() < 200
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    is_identifier.then(|| format!("/verify/{text}"))
}

fn bad_qr(what: &str) -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        "verify.bad_input",
        format!("{what} is neither a license identifier nor a verification link of this node"),
    )
}

/// `GET /verify/go?identifier=`: the form's target.
pub async fn go(
    State(s): State<AppState>,
    t: T,
    Query(q): Query<GoQuery>,
) -> Result<Response, PageError> {
    let text = q.identifier.unwrap_or_default();
    let to = target(&s.node.config.base_url, &text)
        .ok_or_else(|| bad_qr("the text"))
        .or_page(t, "/verify")?;
    Ok(Redirect::to(&to).into_response())
}

/// Largest QR photo accepted.
pub const MAX_SCAN_BYTES: usize = 8 * 1024 * 1024;

/// `POST /verify/scan`: a photo or screenshot of a QR code.
pub async fn scan(
    State(s): State<AppState>,
    t: T,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut bytes = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::new(ErrorKind::Invalid, "verify.bad_upload", e.to_string()))
        .or_page(t, "/verify")?
    {
        if field.name() == Some("image") {
            bytes = Some(
                field
                    .bytes()
                    .await
                    .map_err(|e| {
                        AppError::new(ErrorKind::Invalid, "verify.bad_upload", e.to_string())
                    })
                    .or_page(t, "/verify")?,
            );
        }
    }
    let bytes = bytes
        .ok_or_else(|| AppError::new(ErrorKind::Invalid, "verify.bad_upload", "no image sent"))
        .or_page(t, "/verify")?;
    let texts = tokio::task::spawn_blocking(move || decode_qr(&bytes))
        .await
        .map_err(|e| AppError::internal(e.to_string()))
        .or_page(t, "/verify")?
        .or_page(t, "/verify")?;
    let to = texts
        .iter()
        .find_map(|x| target(&s.node.config.base_url, x))
        .ok_or_else(|| bad_qr("the QR code"))
        .or_page(t, "/verify")?;
    Ok(Redirect::to(&to).into_response())
}

/// Every QR code found in an image (PNG or JPEG).
pub fn decode_qr(bytes: &[u8]) -> Result<Vec<String>, AppError> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| {
            AppError::new(
                ErrorKind::Invalid,
                "verify.bad_image",
                format!("not a PNG or JPEG image: {e}"),
            )
        })?
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let texts: Vec<String> = prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect();
    if texts.is_empty() {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "verify.no_qr",
            "no readable QR code in the image",
        ));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn targets_are_local_verification_paths_or_identifiers() {
        let base = "http://127.0.0.1:8080";
        assert_eq!(
            target(base, "http://127.0.0.1:8080/verify/p/abc").as_deref(),
            Some("/verify/p/abc")
        );
        assert_eq!(target(base, "https://evil.example/verify/p/abc"), None);
        assert_eq!(target(base, "http://127.0.0.1:8080/wallet"), None);
        assert_eq!(
            target(base, " 1.2.156.3005.2.X.Y.1.001.F ").as_deref(),
            Some("/verify/1.2.156.3005.2.X.Y.1.001.F")
        );
        assert_eq!(target(base, "javascript:alert(1)"), None);
    }
}
