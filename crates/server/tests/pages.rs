//! The pages over real HTTP: sign-in, what each viewer may see, face downloads, presentations
//! made with a P-256 device key as the browser makes them, public verification, bad input.

mod common;

use std::sync::Arc;

use common::*;
use elicense_app::ManualClock;
use reqwest::StatusCode;
use serde_json::json;

const T0: i64 = 1_769_990_400;

async fn issue_for(srv: &TestServer, holder: (&str, &str)) -> String {
    let body = srv.driving_request(holder, "es256").await;
    srv.issue(&body).await["identifier"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn public_page_shows_status_without_personal_data_and_bad_input_is_a_clear_page() {
    let srv = TestServer::start().await;
    let id = issue_for(&srv, CITIZEN).await;
    let (status, html) = page(&srv, &format!("/verify/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-valid="true""#), "{html}");
    assert!(html.contains("北京市公安局公安交通管理局"));
    assert!(
        html.contains(r#"id="status-in-log""#),
        "the status event is in the log: {html}"
    );
    assert!(
        !html.contains(CITIZEN.0),
        "no holder name on the public page"
    );
    assert!(!html.contains(CITIZEN.1), "no ID number on the public page");

    let (status, html) = page(
        &srv,
        "/verify/1.2.156.3005.2.11100000000000002Q002.11110000000000012X.999999.001.Z",
        None,
    )
    .await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
        "{status}"
    );
    assert!(html.contains(r#"id="error-code""#), "{html}");
    let (status, html) = page(&srv, "/verify/not-an-identifier", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("identifier."), "{html}");
    assert!(!html.contains("panicked") && !html.contains("RUST_BACKTRACE"));
    let (status, html) = page(&srv, "/verify/p/no-such-presentation", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("presentation.not_found"));
    let (status, html) = page(&srv, "/verify/go?identifier=javascript:alert(1)", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("verify.bad_input"));
    let resp = no_redirect()
        .get(srv.url(&format!("/verify/go?identifier={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["location"], format!("/verify/{id}").as_str());
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test]
async fn wallet_needs_sign_in_and_shows_only_the_holders_licenses() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let mine = issue_for(&srv, CITIZEN).await;
    let theirs = issue_for(&srv, CITIZEN2).await;

    let (status, _) = page(&srv, "/wallet", None).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed out: to the sign-in page"
    );
    let resp = post_sign_in(&srv, "zhangwei", "wrong").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.text().await.unwrap().contains(r#"id="login-error""#));

    let cookie = sign_in(&srv, "zhangwei").await;
    let (status, html) = page(&srv, "/wallet", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&mine) && !html.contains(&theirs), "{html}");
    let (status, html) = page(&srv, &format!("/wallet/licenses/{mine}"), Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-kind="issue""#) && html.contains("log-proof"),
        "history in the log"
    );
    let (status, html) = page(&srv, &format!("/wallet/licenses/{theirs}"), Some(&cookie)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another holder's license does not exist here"
    );
    assert!(!html.contains(CITIZEN2.0));
    for path in [
        format!("/wallet/licenses/{theirs}/face/pdf"),
        format!("/wallet/licenses/{theirs}/present"),
    ] {
        assert_eq!(
            page(&srv, &path, Some(&cookie)).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A forged session is no session.
    let forged = format!("elicense_session=x.{}.AAAA", T0 + 1_000_000);
    assert_eq!(
        page(&srv, "/wallet", Some(&forged)).await.0,
        StatusCode::SEE_OTHER
    );
}

/// Malformed identifiers: each edge that takes one (public and issuer API paths, the wallet's
/// JSON paths, the wallet and public pages) answers 400 with the parser's stable code before
/// anything is looked up; a lowercase one is `identifier.lowercase`, a wrong check character
/// `identifier.bad_check`.
#[tokio::test]
async fn a_malformed_identifier_gets_its_stable_code_at_every_edge() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let mine = issue_for(&srv, CITIZEN).await;
    let last = mine.chars().last().unwrap();
    let bad_check = format!(
        "{}{}",
        &mine[..mine.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let cases = [
        (bad_check.clone(), "identifier.bad_check"),
        (mine.to_lowercase(), "identifier.lowercase"),
        ("1.2.156.3005.2.x".to_owned(), "identifier.bad_structure"),
        ("hello".to_owned(), "identifier.bad_root"),
    ];
    let key = srv
        .key(elicense_core::sample::BEIJING_TRAFFIC_POLICE)
        .to_owned();
    let cookie = sign_in(&srv, "zhangwei").await;
    for (bad, code) in &cases {
        // Public and issuer API paths.
        expect_error(
            srv.get(&format!("/api/v1/licenses/{bad}/verification"))
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
            code,
        )
        .await;
        for path in [
            format!("/api/v1/licenses/{bad}"),
            format!("/api/v1/licenses/{bad}/openings"),
        ] {
            let resp = srv.get(&path).bearer_auth(&key).send().await.unwrap();
            expect_error(resp, StatusCode::BAD_REQUEST, code).await;
        }
        let resp = srv
            .post(&format!("/api/v1/licenses/{bad}/actions"))
            .bearer_auth(&key)
            .json(&json!({"action": "suspend"}))
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, code).await;
        // The wallet's JSON paths (session and CSRF token as the browser sends them).
        for (path, body) in [
            (
                format!("/api/v1/wallet/licenses/{bad}/binding"),
                json!({"jwk": Device::new().jwk()}),
            ),
            (
                format!("/api/v1/wallet/licenses/{bad}/presentations/prepare"),
                json!({"jkt": "x", "fields": []}),
            ),
        ] {
            let (status, v) = wallet_post_json(&srv, &path, &cookie, body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {v}");
            assert_eq!(v["error"]["code"], *code, "{path}: {v}");
        }
        let resp = no_redirect()
            .get(srv.url(&format!("/api/v1/wallet/licenses/{bad}/events/1/opening")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::BAD_REQUEST, code).await;
        // Pages: the wallet's and the public ones render the code.
        for path in [
            format!("/wallet/licenses/{bad}"),
            format!("/wallet/licenses/{bad}/face/pdf"),
            format!("/wallet/licenses/{bad}/present"),
            format!("/verify/{bad}"),
            format!("/verify/{bad}/1769990400.AAAA"),
        ] {
            let (status, html) = page(&srv, &path, Some(&cookie)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert!(html.contains(code), "{path}: {html}");
        }
    }
    // Without a key the issuer routes still say 401 first: nothing is parsed for strangers.
    let resp = srv
        .get(&format!("/api/v1/licenses/{bad_check}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn faces_download_as_pdf_png_and_svg() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let mine = issue_for(&srv, CITIZEN).await;
    let cookie = sign_in(&srv, "zhangwei").await;
    for (format, ctype, magic) in [
        ("pdf", "application/pdf", &b"%PDF"[..]),
        ("png", "image/png", &b"\x89PNG"[..]),
        ("svg", "image/svg+xml", &b"<"[..]),
    ] {
        let resp = no_redirect()
            .get(srv.url(&format!("/wallet/licenses/{mine}/face/{format}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{format}");
        assert_eq!(resp.headers()["content-type"], ctype);
        assert!(resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let body = resp.bytes().await.unwrap();
        assert!(body.starts_with(magic), "{format}");
    }
    assert_eq!(
        page(
            &srv,
            &format!("/wallet/licenses/{mine}/face/gif"),
            Some(&cookie)
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_presentation_verifies_for_60_seconds_then_says_expired() {
    let clock = Arc::new(ManualClock::new(T0));
    let srv = TestServer::start_with_clock(clock.clone()).await;
    with_accounts(&srv).await;
    let mine = issue_for(&srv, CITIZEN).await;
    let cookie = sign_in(&srv, "zhangwei").await;
    let api = format!("/api/v1/wallet/licenses/{mine}");

    let device = Device::new();
    let done = present(
        &srv,
        &cookie,
        &mine,
        &device,
        &["holder_name", "vehicle_class"],
        "car_rental",
    )
    .await;
    assert_eq!(done["expires_in"], 60);
    assert!(done["qr_svg"].as_str().unwrap().contains("<svg"));
    let url = done["url"].as_str().unwrap();
    let path = url.strip_prefix(&srv.base).unwrap();

    let (status, html) = page(&srv, path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-valid="true""#), "{html}");
    assert!(html.contains(CITIZEN.0), "the disclosed name is shown");
    assert!(!html.contains(CITIZEN.1), "the ID number was not disclosed");
    assert!(html.contains("汽车租赁"), "the matter is named");

    clock.advance(61);
    let (_, html) = page(&srv, path, None).await;
    assert!(
        html.contains(r#"data-problem="presentation.expired""#),
        "{html}"
    );
    assert!(!html.contains(CITIZEN.0), "expired: no personal data");

    // Signed out, the JSON endpoints answer 401 with a code.
    let resp = no_redirect()
        .post(srv.url(&format!("{api}/binding")))
        .json(&json!({"jwk": device.jwk()}))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "wallet.signed_out").await;
}

#[tokio::test]
async fn an_uploaded_qr_photo_leads_to_the_verification_page() {
    let srv = TestServer::start().await;
    let id = issue_for(&srv, CITIZEN).await;
    let code = qrcode::QrCode::new(format!("{}/verify/{id}", srv.base).as_bytes()).unwrap();
    // Modules drawn 8 px each with a 4-module quiet zone, as a phone photo of a screen would be.
    let (w, colors) = (code.width() as u32, code.to_colors());
    let side = (w + 8) * 8;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / 8) as i64 - 4, (y / 8) as i64 - 4);
        let dark = mx >= 0
            && my >= 0
            && (mx as u32) < w
            && (my as u32) < w
            && colors[(my as u32 * w + mx as u32) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(png).file_name("qr.png"),
    );
    let resp = no_redirect()
        .post(srv.url("/verify/scan"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], format!("/verify/{id}").as_str());

    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(b"not an image".to_vec()),
    );
    let resp = no_redirect()
        .post(srv.url("/verify/scan"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("verify.bad_image"));
}

#[tokio::test]
async fn language_and_text_size_follow_the_viewer_and_redirects_stay_local() {
    let srv = TestServer::start().await;
    let (_, zh) = page(&srv, "/verify", None).await;
    assert!(zh.contains(r#"lang="zh-CN""#) && zh.contains("核验证照"));
    let (_, en) = page(&srv, "/verify", Some("lang=en; text=large")).await;
    assert!(en.contains(r#"lang="en""#) && en.contains("Verify a license"));
    assert!(en.contains(r#"class="large-text""#));
    let resp = no_redirect()
        .get(srv.url("/prefs?lang=en&back=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["location"], "/");
    assert!(resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("lang=en"));
    let font = no_redirect()
        .get(srv.url("/assets/font.woff2"))
        .send()
        .await
        .unwrap();
    assert_eq!(font.headers()["content-type"], "font/woff2");
    assert!(font.bytes().await.unwrap().starts_with(b"wOF2"));
}
