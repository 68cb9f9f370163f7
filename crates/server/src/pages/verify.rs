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
use elicense_core::Identifier;
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
    let identifier = crate::ident::parse(identifier).or_page(t, "/verify")?;
    let (p, in_log) = public_status_in_log(&s.node, &identifier)
        .await
        .or_page(t, "/verify")?;
    let face = face_check::check(&s.node, &identifier, token)
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
    let genuine = v.genuine();
    let public = match v.identifier.as_deref().map(Identifier::parse) {
        Some(Ok(id)) => public_status(node, &id).await.ok(),
        _ => None,
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

/// Largest QR photo accepted, in bytes.
pub const MAX_SCAN_BYTES: usize = 8 * 1024 * 1024;
/// Largest QR photo decoded, in pixels (a 12-megapixel phone photo) ...
pub const MAX_SCAN_PIXELS: u64 = 12_000_000;
/// ... and its longest side.
pub const MAX_SCAN_SIDE: u32 = 8192;
/// Larger images are scaled down to this longest side before QR detection first.
const DETECT_SIDE: u32 = 1600;
/// Photos decoded at once; others wait up to `DECODE_WAIT`, then get `verify.busy`.
const MAX_DECODES: usize = 2;
const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_DECODES);

/// `POST /verify/scan`: a photo or screenshot of a QR code.
///
/// Invariant: an image is decoded only after its declared size passed `check_size`, under
/// decoder allocation limits, and at most `MAX_DECODES` at a time.
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
    // Cheap refusal first: the declared size, read from the header only.
    image_size(&bytes).or_page(t, "/verify")?;
    let Ok(Ok(permit)) = tokio::time::timeout(DECODE_WAIT, DECODES.acquire()).await else {
        return Ok(busy(t));
    };
    let texts = tokio::task::spawn_blocking(move || {
        let texts = decode_qr(&bytes);
        drop(permit);
        texts
    })
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

/// `503 verify.busy` with `Retry-After`: every decoding slot stayed taken.
fn busy(t: T) -> Response {
    let error = AppError::new(
        ErrorKind::Unavailable,
        "verify.busy",
        "too many images are being read; retry in a few seconds",
    );
    let mut resp = PageError {
        t,
        error,
        back: "/verify",
    }
    .into_response();
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("2"),
    );
    resp
}

fn bad_image(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        "verify.bad_image",
        format!("not a PNG or JPEG image: {e}"),
    )
}

/// A reader of `bytes` as PNG or JPEG (nothing else is decoded).
fn reader(bytes: &[u8]) -> Result<image::ImageReader<std::io::Cursor<&[u8]>>, AppError> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(bad_image)?;
    match reader.format() {
        Some(image::ImageFormat::Png | image::ImageFormat::Jpeg) => Ok(reader),
        _ => Err(bad_image("unknown format")),
    }
}

/// Whether an image of `width` × `height` may be decoded.
pub fn check_size(width: u32, height: u32) -> Result<(), AppError> {
    let pixels = u64::from(width) * u64::from(height);
    if width > MAX_SCAN_SIDE || height > MAX_SCAN_SIDE || pixels > MAX_SCAN_PIXELS {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "verify.image_too_large",
            format!(
                "the image is {width}×{height} pixels; at most {} megapixels and {MAX_SCAN_SIDE} \
                 pixels a side are read",
                MAX_SCAN_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// The declared size of a PNG or JPEG, read from its header (nothing decoded), if allowed.
fn image_size(bytes: &[u8]) -> Result<(u32, u32), AppError> {
    let (w, h) = reader(bytes)?.into_dimensions().map_err(bad_image)?;
    check_size(w, h)?;
    Ok((w, h))
}

/// Every QR code found in an image (PNG or JPEG) of an allowed size.
pub fn decode_qr(bytes: &[u8]) -> Result<Vec<String>, AppError> {
    image_size(bytes)?;
    let mut reader = reader(bytes)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SCAN_SIDE);
    limits.max_image_height = Some(MAX_SCAN_SIDE);
    // The largest allowed image at 16 bits per channel, RGBA, with some slack.
    limits.max_alloc = Some(MAX_SCAN_PIXELS * 8 + (4 << 20));
    reader.limits(limits);
    let img = reader.decode().map_err(bad_image)?.to_luma8();
    let (w, h) = img.dimensions();
    let mut texts = Vec::new();
    if w.max(h) > DETECT_SIDE {
        // Phone photos: a scaled-down copy is enough for a code that fills part of the frame.
        let scale = |side: u32| (side * DETECT_SIDE / w.max(h)).max(1);
        texts = detect(image::imageops::resize(
            &img,
            scale(w),
            scale(h),
            image::imageops::FilterType::Triangle,
        ));
    }
    if texts.is_empty() {
        texts = detect(img);
    }
    if texts.is_empty() {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "verify.no_qr",
            "no readable QR code in the image",
        ));
    }
    Ok(texts)
}

fn detect(img: image::GrayImage) -> Vec<String> {
    rqrr::PreparedImage::prepare(img)
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{busy, check_size, target, MAX_SCAN_SIDE};
    use crate::pages::{Lang, T};

    #[test]
    fn sizes_over_the_limits_are_refused() {
        assert!(check_size(4000, 3000).is_ok(), "a 12 MP phone photo");
        assert!(check_size(1, MAX_SCAN_SIDE).is_ok());
        for (w, h) in [
            (4001, 3000),
            (MAX_SCAN_SIDE + 1, 1),
            (1, MAX_SCAN_SIDE + 1),
            (20_000, 20_000),
            (u32::MAX, u32::MAX),
        ] {
            assert_eq!(
                check_size(w, h).unwrap_err().code,
                "verify.image_too_large",
                "{w}×{h}"
            );
        }
    }

    #[test]
    fn a_busy_answer_says_when_to_retry() {
        let resp = busy(T {
            lang: Lang::En,
            large: false,
            csrf: None,
        });
        assert_eq!(resp.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "2");
    }

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
