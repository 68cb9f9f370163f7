//! Faces (照面) of licenses: the catalogue's template filled with one license's data, with a
//! QR code of its public verification page and the issuer's seal; a license that is not in
//! force carries its status as a watermark. A license's own face ([`license_input`]) puts in
//! its QR code the page's link with a token signed by the issuer over the printed data
//! ([`check`]), so that the page can say whether the printed face is what was issued.
//! Rendering is CPU work: it runs off the async threads.

pub mod check;

use std::str::FromStr;
use std::sync::Arc;

use elicense_core::catalogue::LicenseType;
use elicense_core::lifecycle::Status;
use elicense_core::Identifier;
use elicense_face::{FaceInput, Seal};
use time::Date;

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::stored::License;

/// An output format of a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceFormat {
    Svg,
    Png,
    Pdf,
}

impl FaceFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            FaceFormat::Svg => "image/svg+xml",
            FaceFormat::Png => "image/png",
            FaceFormat::Pdf => "application/pdf",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            FaceFormat::Svg => "svg",
            FaceFormat::Png => "png",
            FaceFormat::Pdf => "pdf",
        }
    }
}

impl FromStr for FaceFormat {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "svg" => Ok(FaceFormat::Svg),
            "png" => Ok(FaceFormat::Png),
            "pdf" => Ok(FaceFormat::Pdf),
            other => Err(AppError::new(
                ErrorKind::Invalid,
                "face.bad_format",
                format!("unknown face format {other:?}: pdf, png or svg"),
            )),
        }
    }
}

/// `2024年01月01日`.
fn date_zh(d: Date) -> String {
    format!(
        "{:04}年{:02}月{:02}日",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The public verification page of a license (its face's QR code holds it with a token,
/// [`check::face_url`]).
pub fn verify_url(node: &Node, identifier: &Identifier) -> String {
    format!("{}/verify/{identifier}", node.config.base_url)
}

/// The template input for a license's own face: [`input`], its QR code holding the link to
/// the public page with a fresh face token ([`check::sign`]).
pub async fn license_input(node: &Node, license: &License, t: &LicenseType) -> Result<FaceInput> {
    let mut face = input(node, license, t);
    let token = check::sign(node, license).await?;
    face.qr = check::face_url(node, &license.identifier, &token);
    Ok(face)
}

/// The template input for one license, its QR code the plain link to the public page (the
/// annotated copy's face replaces it; a license's own face is [`license_input`]).
pub fn input(node: &Node, license: &License, t: &LicenseType) -> FaceInput {
    let meta = &license.meta;
    let mut fields = std::collections::BTreeMap::new();
    let until = meta
        .valid_until
        .map(date_zh)
        .unwrap_or_else(|| "长期".into());
    let from = date_zh(meta.valid_from);
    for (k, v) in [
        ("type_name", t.name.clone()),
        ("type_name_en", t.name_en.clone()),
        ("identifier", license.identifier.to_string()),
        ("license_number", meta.license_number.clone()),
        ("holder_name", meta.holder.name.clone()),
        ("holder_code", meta.holder.code.value().to_owned()),
        ("issuer_name", meta.issuer_name.clone()),
        ("issue_date", date_zh(meta.issue_date)),
        ("valid_from", from.clone()),
        ("valid_until", until.clone()),
        ("validity", format!("{from} 至 {until}")),
        ("area_code", meta.area_code.to_string()),
    ] {
        fields.insert(k.to_owned(), v);
    }
    let mut items = Vec::new();
    for item in &t.items {
        if let Some(v) = meta.data.get(&item.name) {
            fields.insert(format!("item.{}", item.name), text(v));
            items.push((item.label.clone(), text(v)));
        }
    }
    let status = license.status;
    let watermark = (status != Status::Valid).then(|| {
        format!(
            "{} {}",
            status.label_zh(),
            status.code().to_ascii_uppercase()
        )
    });
    FaceInput {
        template: t.face_template.clone(),
        fields,
        items,
        qr: verify_url(node, &license.identifier),
        seal: Seal {
            name: meta.issuer_name.clone(),
        },
        watermark,
    }
}

/// Renders a face in `format`.
pub async fn render(node: &Arc<Node>, input: FaceInput, format: FaceFormat) -> Result<Vec<u8>> {
    let faces = node.faces().clone();
    tokio::task::spawn_blocking(move || match format {
        FaceFormat::Svg => faces.svg(&input).map(String::into_bytes),
        FaceFormat::Png => faces.png(&input, 3.0),
        FaceFormat::Pdf => faces.pdf(&input),
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?
    .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))
}

/// Renders the face (or annotated copy, `what`) of a stored license in `format`; a PDF leaves
/// sealed with its issuer's face seal in the template's seal box (`seals::faces`), so anyone
/// can check it offline, its QR code still leading to the live status.
pub async fn render_sealed(
    node: &Arc<Node>,
    license: &License,
    mut input: FaceInput,
    format: FaceFormat,
    what: &str,
) -> Result<Vec<u8>> {
    if format != FaceFormat::Pdf {
        return render(node, input, format).await;
    }
    // The electronic seal's picture takes the drawn seal's place.
    input.seal.name.clear();
    let rect = node
        .faces()
        .seal_rect(&input)
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    let pdf = render(node, input, format).await?;
    crate::seals::faces::seal_face(node, license, &pdf, rect, what).await
}

/// Renders the face of a stored license by identifier (the operator's `elicense face`).
pub async fn render_identifier(
    node: &Arc<Node>,
    identifier: &Identifier,
    format: FaceFormat,
) -> Result<Vec<u8>> {
    let license = License::load(node, identifier).await?;
    let t = license.type_as_issued(node).await?;
    let face = license_input(node, &license, &t).await?;
    render_sealed(node, &license, face, format, "face").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_reject() {
        assert_eq!("pdf".parse::<FaceFormat>().unwrap(), FaceFormat::Pdf);
        assert_eq!(
            "svg".parse::<FaceFormat>().unwrap().content_type(),
            "image/svg+xml"
        );
        assert_eq!(
            "gif".parse::<FaceFormat>().unwrap_err().code,
            "face.bad_format"
        );
        assert_eq!(
            date_zh(time::macros::date!(2024 - 01 - 05)),
            "2024年01月05日"
        );
    }
}
