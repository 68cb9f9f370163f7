//! `POST /verify/scan` over real HTTP: a decompression bomb is refused from its header, and
//! real faces (the node's own QR rendering), also as large photos, still lead to their page.

mod common;

use common::*;
use reqwest::StatusCode;

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A tiny valid PNG header declaring `side` × `side` 8-bit grey pixels, with one zero row
/// in a stored zlib block: decoding it in full would take `side²` bytes.
fn bomb(side: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8 bits, grey, deflate, adaptive, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    let row = vec![0u8; side as usize + 1]; // filter byte + pixels
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&(row.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(row.len() as u16)).to_le_bytes());
    z.extend_from_slice(&row);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &row {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

async fn upload(srv: &TestServer, png: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(png).file_name("photo.png"),
    );
    no_redirect()
        .post(srv.url("/verify/scan"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header() {
    let srv = TestServer::start().await;
    let png = bomb(20_000);
    assert!(png.len() < 30_000, "the bomb is small: {} bytes", png.len());
    let resp = upload(&srv, png).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = resp.text().await.unwrap();
    assert!(html.contains("verify.image_too_large"), "{html}");
    // A bomb within the side limit but over the pixel limit, too.
    let resp = upload(&srv, bomb(8_000)).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The node still reads ordinary images.
    let resp = upload(&srv, b"not an image".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("verify.bad_image"));
}

/// A PNG of `img`.
fn png_of(img: image::DynamicImage) -> Vec<u8> {
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

#[tokio::test]
async fn a_face_and_a_large_photo_of_it_lead_to_the_verification_page() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let body = srv.driving_request(CITIZEN, "es256").await;
    let id = srv.issue(&body).await["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = sign_in(&srv, "zhangwei").await;
    let face = no_redirect()
        .get(srv.url(&format!("/wallet/licenses/{id}/face/png")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(face.status(), StatusCode::OK);
    let face = image::load_from_memory(&face.bytes().await.unwrap()).unwrap();

    let leads_to_page = |resp: reqwest::Response| {
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/verify/") && to.contains(&id), "{to}");
    };
    // The face as the node renders it.
    leads_to_page(upload(&srv, png_of(face.clone())).await);

    // A large "photo": the face scaled up on a big grey frame (scaled down before detection).
    let (w, h) = (3800u32, 2800u32);
    let scale = (w as f32 * 0.6 / face.width() as f32).min(h as f32 * 0.8 / face.height() as f32);
    let big = face.resize(
        (face.width() as f32 * scale) as u32,
        (face.height() as f32 * scale) as u32,
        image::imageops::FilterType::Triangle,
    );
    let mut photo = image::RgbaImage::from_pixel(w, h, image::Rgba([180, 180, 180, 255]));
    image::imageops::overlay(&mut photo, &big.to_rgba8(), 300, 200);
    leads_to_page(upload(&srv, png_of(image::DynamicImage::ImageRgba8(photo))).await);
}
