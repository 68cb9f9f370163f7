//! A printed face checked by its QR code (issue 16, finding 10): the code the node prints
//! opens the public page with the issuer's token over the printed data; the page says whether
//! the face matches what was issued and shows the holder only masked; a tampered token, one
//! made for another license, or none at all never reads as genuine.

mod common;

use common::*;
use elicense_app::face::{self, FaceFormat};
use reqwest::StatusCode;

/// Every QR code in a PNG.
fn decode_qr(png: &[u8]) -> Vec<String> {
    let img = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

async fn issue_for(srv: &TestServer, holder: (&str, &str), alg: &str) -> String {
    let body = srv.driving_request(holder, alg).await;
    srv.issue(&body).await["identifier"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The path (on this node) the QR code of the license's face holds.
async fn face_link(srv: &TestServer, id: &str) -> String {
    let png = face::render_identifier(&srv.node, &id.parse().unwrap(), FaceFormat::Png)
        .await
        .expect("render the face");
    let texts = decode_qr(&png);
    assert_eq!(texts.len(), 1, "one QR code on the face: {texts:?}");
    texts[0]
        .strip_prefix(&srv.base)
        .unwrap_or_else(|| panic!("a link to this node: {}", texts[0]))
        .to_owned()
}

/// The value of `data-face` on a result page.
fn face_outcome(html: &str) -> &str {
    let start = html.find("data-face=\"").expect("a face check section") + 11;
    &html[start..start + html[start..].find('"').unwrap()]
}

#[track_caller]
fn assert_no_personal_data(html: &str) {
    assert!(!html.contains(CITIZEN.0), "the full name is never shown");
    assert!(!html.contains(CITIZEN.1), "the full ID is never shown");
    assert!(!html.contains("北京市东城区示例路"), "no address");
}

#[tokio::test]
async fn a_face_rendered_by_the_node_matches_and_shows_the_holder_masked() {
    let srv = TestServer::start().await;
    for alg in ["sm2", "es256", "ed25519"] {
        let id = issue_for(&srv, CITIZEN, alg).await;
        let link = face_link(&srv, &id).await;
        assert!(
            link.starts_with(&format!("/verify/{id}/")),
            "identifier plus token: {link}"
        );
        let (status, html) = page(&srv, &link, None).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(face_outcome(&html), "matches", "{alg}: {html}");
        assert!(html.contains("印制的照面与签发的数据一致"), "{html}");
        assert!(html.contains("真实有效"), "{html}");
        assert!(
            html.contains(r#"<dd id="face-holder-name">张*</dd>"#),
            "masked name: {html}"
        );
        assert!(
            html.contains(r#"id="face-holder-code">110105********002X</dd>"#),
            "masked code: {html}"
        );
        assert!(html.contains(r#"id="validity""#), "validity shown");
        assert_no_personal_data(&html);
    }
    let id = issue_for(&srv, CITIZEN, "sm2").await;
    let link = face_link(&srv, &id).await;
    let (_, en) = page(&srv, &link, Some("lang=en")).await;
    assert_eq!(face_outcome(&en), "matches");
    assert!(
        en.contains("The printed face matches what was issued"),
        "{en}"
    );
    assert_no_personal_data(&en);

    // The uploaded photo of the face's QR code leads to the same page.
    let png = face::render_identifier(&srv.node, &id.parse().unwrap(), FaceFormat::Png)
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(png).file_name("face.png"),
    );
    let resp = no_redirect()
        .post(srv.url("/verify/scan"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp.headers()["location"].to_str().unwrap();
    assert!(to.starts_with(&format!("/verify/{id}/")), "{to}");
}

#[tokio::test]
async fn a_forged_or_borrowed_token_is_a_mismatch_and_no_token_cannot_be_checked() {
    let srv = TestServer::start().await;
    let id = issue_for(&srv, CITIZEN, "sm2").await;
    let other = issue_for(&srv, CITIZEN2, "sm2").await;
    let link = face_link(&srv, &id).await;
    let token = link.rsplit('/').next().unwrap().to_owned();

    // One character of the signature changed.
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 2;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    // The time changed (the signature covers it).
    let (t, sig) = token.split_once('.').unwrap();
    let retimed = format!("{}.{sig}", t.parse::<i64>().unwrap() - 1);
    // A genuine token of another license.
    let other_link = face_link(&srv, &other).await;
    let borrowed = other_link.rsplit('/').next().unwrap().to_owned();
    for (what, tok) in [
        ("tampered", tampered.as_str()),
        ("retimed", retimed.as_str()),
        ("another license's", borrowed.as_str()),
        ("garbage", "not-a-token"),
    ] {
        let (status, html) = page(&srv, &format!("/verify/{id}/{tok}"), None).await;
        assert_eq!(status, StatusCode::OK, "{what}: {html}");
        assert_eq!(face_outcome(&html), "mismatch", "{what}: {html}");
        assert!(html.contains("照面与签发记录不符"), "{what}: {html}");
        assert!(!html.contains("真实有效"), "{what}: never genuine");
        assert!(html.contains("verdict-bad"), "{what}");
        assert!(!html.contains("face-holder-name"), "{what}: no holder");
        assert_no_personal_data(&html);
        assert!(!html.contains(CITIZEN2.0) && !html.contains(CITIZEN2.1));
    }
    let (_, en) = page(&srv, &format!("/verify/{id}/{borrowed}"), Some("lang=en")).await;
    assert!(en.contains("does not match what was issued"), "{en}");
    // The other license's own face still matches.
    let (_, html) = page(&srv, &other_link, None).await;
    assert_eq!(face_outcome(&html), "matches");
    assert!(html.contains("李*"), "{html}");

    // No token (an old face, or a typed identifier): not checkable, not called genuine.
    let (status, html) = page(&srv, &format!("/verify/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(face_outcome(&html), "absent", "{html}");
    assert!(html.contains("无法核对印制的数据"), "{html}");
    assert!(!html.contains("真实有效"), "{html}");
    assert!(
        html.contains(r#"data-valid="true""#),
        "the license is valid"
    );
    assert!(!html.contains("face-holder-name"));
    assert_no_personal_data(&html);
    let (_, en) = page(&srv, &format!("/verify/{id}"), Some("lang=en")).await;
    assert!(en.contains("its printed data cannot be checked"), "{en}");
}
