//! Sample face inputs built from the sample catalogue's example values
//! (`crates/core/src/catalogue/sample.toml`), so the built-in templates are exercised with
//! the same data as `elicense demo`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use elicense_face::{FaceInput, Seal};

const SAMPLE: &str = include_str!("../../../core/src/catalogue/sample.toml");

/// Verification URL used in the samples.
/// What a license's face carries: the public page of the license with the face token (the
/// signing time and a 64-byte signature, base64url), as long as the node makes it.
pub const QR_URL: &str = "https://verify.example.gov.cn/verify/1.2.156.3005.2.11100000000000001M001.11110000000000011T.0000002430.001.F/1769990400.q9Xb3kL0vYtR2mNcA7sJfD4hG1pE8wZuV6yTiO5aKlMnBvCxQ3rS0dFgH2jK9LmN4pQ7rStUvWxYz0123456_-";

/// Face input for the sample license type whose `face_template` is `template`.
pub fn sample(template: &str) -> FaceInput {
    let catalogue: toml::Table = SAMPLE.parse().expect("sample catalogue parses");
    let issuers = catalogue["issuers"].as_array().expect("issuers");
    let types = catalogue["types"].as_array().expect("types");
    let ty = types
        .iter()
        .find(|t| t.get("face_template").and_then(|v| v.as_str()) == Some(template))
        .unwrap_or_else(|| panic!("no sample type uses {template}"));
    let issuer_code = ty["issuers"][0].as_str().expect("issuer code");
    let issuer = issuers
        .iter()
        .find(|i| i["code"].as_str() == Some(issuer_code))
        .expect("issuer");
    let issuer_name = issuer["name"].as_str().expect("issuer name").to_owned();
    let person = ty["holder_kind"].as_str() == Some("111");

    let mut fields = BTreeMap::new();
    let mut items = Vec::new();
    for item in ty["items"].as_array().expect("items") {
        let name = item["name"].as_str().expect("item name");
        let label = item["label"].as_str().expect("item label");
        let example = item
            .get("example")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        fields.insert(format!("item.{name}"), example.to_owned());
        items.push((label.to_owned(), example.to_owned()));
    }
    let (holder_name, holder_code) = if person {
        ("王小明".to_owned(), "110101199003074514".to_owned())
    } else {
        let name = fields
            .get("item.name")
            .or(fields.get("item.operator_name"))
            .cloned()
            .unwrap_or_default();
        (name, fields.get("item.uscc").cloned().unwrap_or_default())
    };
    let set = |fields: &mut BTreeMap<String, String>, k: &str, v: &str| {
        fields.insert(k.to_owned(), v.to_owned());
    };
    set(&mut fields, "type_name", ty["name"].as_str().unwrap());
    set(&mut fields, "type_name_en", ty["name_en"].as_str().unwrap());
    set(
        &mut fields,
        "identifier",
        "1.2.156.3005.2.11100000000000001M001.11110000000000011T.2430599.001.F",
    );
    set(&mut fields, "license_number", "2430599");
    set(&mut fields, "holder_name", &holder_name);
    set(&mut fields, "holder_code", &holder_code);
    set(&mut fields, "issuer_name", &issuer_name);
    set(&mut fields, "issue_date", "2024年01月15日");
    set(&mut fields, "valid_from", "2024年01月15日");
    set(&mut fields, "valid_until", "2030年01月14日");
    set(&mut fields, "validity", "2024年01月15日 至 2030年01月14日");
    set(&mut fields, "area_code", issuer["area"].as_str().unwrap());

    FaceInput {
        template: template.to_owned(),
        fields,
        items,
        qr: QR_URL.to_owned(),
        seal: Seal { name: issuer_name },
        watermark: None,
    }
}

/// The built-in templates that the sample catalogue references.
pub const TEMPLATES: [&str; 4] = [
    "faces/business_license.svg",
    "faces/food_business_license.svg",
    "faces/resident_id_card.svg",
    "faces/driving_license.svg",
];

/// A template directory holding `faces/<name>` with `source`.
pub fn template_dir(name: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("faces")).expect("faces dir");
    std::fs::write(dir.path().join("faces").join(name), source).expect("template written");
    dir
}

/// A minimal SVG template around `body`, 400×200 user units.
pub fn svg_template(body: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200" font-size="20">{body}</svg>"#
    )
}

/// Input for a test template `faces/<name>` with the given fields.
pub fn input_for(name: &str, fields: &[(&str, &str)]) -> FaceInput {
    FaceInput {
        template: format!("faces/{name}"),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        qr: QR_URL.to_owned(),
        ..FaceInput::default()
    }
}

/// Decodes every QR code found in a PNG.
pub fn qr_codes_in_png(png: &[u8]) -> Vec<String> {
    let (w, h, grey) = grey(png);
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            grey[y * w as usize + x]
        });
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// Grey levels of a PNG, row by row, with its width and height.
pub fn grey(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let luma = image::load_from_memory(png)
        .expect("PNG decodes")
        .to_luma8();
    (luma.width(), luma.height(), luma.into_raw())
}

/// Text of a PDF as `pdftotext` (poppler-utils) extracts it, laid out as on the page.
pub fn pdftotext(pdf: &[u8]) -> String {
    pdftotext_with(pdf, &[])
}

/// Text of a PDF in content-stream order (`pdftotext -raw`), whitespace removed: rotated
/// text such as the watermark reads back in one piece.
pub fn pdftotext_raw(pdf: &[u8]) -> String {
    pdftotext_with(pdf, &["-raw"]).split_whitespace().collect()
}

fn pdftotext_with(pdf: &[u8], args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("face.pdf");
    std::fs::write(&path, pdf).expect("PDF written");
    let out = std::process::Command::new("pdftotext")
        .args(args)
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (install poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 text")
}
