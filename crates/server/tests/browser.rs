//! Browser tests: Debian's Chromium, headless, against a real node on 127.0.0.1 (harness in
//! `tests/browser/mod.rs`; Chromium, chromedriver and axe-core come from `scripts/deps.sh`).
//!
//! The `harness_*` tests prove the harness itself: that it drives the browser, that the
//! accessibility check can fail, that QR codes decode and that in-page fetches carry cookies.
//! The others drive the pages as people do: the wallet from sign-in to a QR code that a
//! relying party verifies (then revoked, then expired), accessibility and narrow screens on
//! every page, the web font, agents (代办) through the htmx form, the language and text-size
//! switches, bad input, and sign-in through a real OpenID Connect provider.

mod common;
#[path = "browser/mod.rs"]
mod harness;
mod idp;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::{with_accounts, TestServer, CITIZEN, CITIZEN2};
use elicense_app::{timeutil, Clock};
use elicense_core::sample;
use fantoccini::{Client, Locator};
use futures::FutureExt;
use harness::{
    axe_check, axe_violations, decode_qr, eval, fetch_bytes, glyphs_render, render_text,
    screenshot_element, start_node, Browser, Viewport,
};
use serde_json::json;

#[tokio::test]
async fn harness_opens_the_openapi_document_at_desktop_size() {
    let (node, _clock) = start_node().await;
    let b = Browser::start_with(Viewport::Desktop).await;
    let size: (u32, u32) = eval(&b, "return [window.innerWidth, window.innerHeight]").await;
    assert_eq!(size, (1280, 900), "desktop viewport");

    let url = node.url("/api/openapi.json");
    b.goto(&url).await.expect("open the OpenAPI document");
    let text: String = eval(&b, "return document.body.innerText").await;
    assert!(text.contains("\"openapi\""), "page text: {text:.200}");

    let (status, content_type, body) = fetch_bytes(&b, &url).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    b.close();
}

const QR_TEXT: &str = "https://elicense.example/verify/京A·12345?n=张伟";

/// A page with an accessibility defect (an unlabeled input), a QR code, a session cookie and
/// a few glyphs, served on 127.0.0.1:0 by the test itself.
async fn serve_harness_page() -> (String, tokio::task::JoinHandle<()>) {
    const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harness page</title>
<style>.g { display: inline-block; padding: 4px; font: 40px sans-serif; background: #fff; color: #000; }</style>
</head><body><main>
<h1>Harness page</h1>
<form action="/"><input type="text" name="q"></form>
<p><img id="qr" src="/qr.png" alt="QR code"></p>
<p><span id="ga" class="g">A</span> <span id="gb" class="g">B</span> <span id="gc" class="g">A</span></p>
</main></body></html>"#;
    let png = qr_png(QR_TEXT);
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                (
                    [
                        (
                            header::SET_COOKIE,
                            "sid=s3cret; Path=/; HttpOnly; SameSite=Strict",
                        ),
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    ],
                    PAGE,
                )
                    .into_response()
            }),
        )
        .route(
            "/qr.png",
            get(move || async move { ([(header::CONTENT_TYPE, "image/png")], png) }),
        )
        .route(
            "/whoami",
            get(|headers: axum::http::HeaderMap| async move {
                let cookie = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                ([(header::CONTENT_TYPE, "application/octet-stream")], cookie)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (base, task)
}

/// `text` as a QR code PNG: 6 px per module, 4 modules of quiet zone.
fn qr_png(text: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("QR code");
    let (n, scale, quiet) = (code.width() as u32, 6, 4);
    let colors = code.to_colors();
    let side = (n + 2 * quiet) * scale;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (
            (x / scale).wrapping_sub(quiet),
            (y / scale).wrapping_sub(quiet),
        );
        let dark = mx < n && my < n && colors[(my * n + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode PNG");
    png
}

#[tokio::test]
async fn harness_axe_fails_on_an_unlabeled_input_and_qr_codes_decode() {
    let (base, server) = serve_harness_page().await;
    let b = Browser::start().await;
    b.goto(&format!("{base}/")).await.expect("open the page");
    let size: (u32, u32) = eval(&b, "return [window.innerWidth, window.innerHeight]").await;
    assert_eq!(size, (390, 844), "mobile viewport by default");

    // The accessibility check sees the unlabeled input and fails the test.
    let violations = axe_violations(&b).await;
    let label = violations
        .iter()
        .find(|v| v.id == "label")
        .unwrap_or_else(|| panic!("axe did not report the unlabeled input: {violations:?}"));
    assert_eq!(label.impact.as_deref(), Some("critical"));
    assert!(
        label.targets.iter().any(|t| t.contains("input")),
        "{label:?}"
    );
    let failed = AssertUnwindSafe(axe_check(&b, "harness page"))
        .catch_unwind()
        .await
        .expect_err("axe_check must fail on a critical violation");
    let msg = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("label") && msg.contains("harness page"),
        "{msg}"
    );

    // The QR code the page shows decodes to its text.
    let qr = screenshot_element(&b, "#qr").await;
    assert_eq!(decode_qr(&qr), vec![QR_TEXT.to_string()]);

    // In-page fetches carry the browser's session cookie (HttpOnly, so not visible to JS).
    let (status, content_type, body) = fetch_bytes(&b, "/whoami").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/octet-stream")
    );
    assert_eq!(String::from_utf8(body).unwrap(), "sid=s3cret");

    // Different glyphs differ; the same glyph twice does not count as rendering.
    let a = screenshot_element(&b, "#ga").await;
    let bb = screenshot_element(&b, "#gb").await;
    let a2 = screenshot_element(&b, "#gc").await;
    assert!(glyphs_render(&a, &bb), "A and B should differ");
    assert!(!glyphs_render(&a, &a2), "A and A look the same");
    // Characters no font has are drawn as identical boxes (or nothing): not rendered.
    let style = "font: 40px sans-serif";
    let p1 = render_text(&b, "\u{E000}", style).await;
    let p2 = render_text(&b, "\u{E001}", style).await;
    assert!(
        !glyphs_render(&p1, &p2),
        "private-use characters have no glyphs"
    );

    b.close();
    server.abort();
}

// ---------------------------------------------------------------------------------------
// The pages in a real browser.

const REVOKE_REASON: &str = "以欺骗手段取得";

/// Issues a driving license of Beijing's traffic police to `holder`; returns its identifier.
async fn issue_driving(srv: &TestServer, holder: (&str, &str), alg: &str) -> String {
    let body = srv.driving_request(holder, alg).await;
    srv.issue(&body).await["identifier"]
        .as_str()
        .expect("identifier")
        .to_owned()
}

/// Issues a resident identity card of Beijing Dongcheng police to `holder`.
async fn issue_resident_id(srv: &TestServer, holder: (&str, &str)) -> String {
    let t = srv
        .node
        .catalogue
        .get(sample::RESIDENT_ID_CARD, None)
        .await
        .expect("sample type");
    let body = json!({
        "type_code": sample::RESIDENT_ID_CARD,
        "issuer": sample::BEIJING_DONGCHENG_POLICE,
        "holder_name": holder.0,
        "holder_id": holder.1,
        "fields": elicense_app::seed::example_fields(&t, holder.0, holder.1),
        "alg": "es256",
    });
    srv.issue(&body).await["identifier"]
        .as_str()
        .expect("identifier")
        .to_owned()
}

/// Revokes through the issuer API, as the issuing authority would.
async fn revoke(srv: &TestServer, identifier: &str, issuer: &str, reason: &str) {
    let resp = srv
        .post(&format!("/api/v1/licenses/{identifier}/actions"))
        .bearer_auth(srv.key(issuer))
        .json(&json!({"action": "revoke", "reason": reason}))
        .send()
        .await
        .expect("send");
    let (status, body) = common::read(resp).await;
    assert_eq!(status, reqwest::StatusCode::OK, "revoke failed: {body}");
}

/// Polls `condition` (a JS expression) every 50 ms until it is true; panics after `secs`
/// seconds with the page's URL and text.
async fn wait_until(b: &Client, condition: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let script = format!("return !!({condition})");
    loop {
        // A navigation in progress can make a script fail: try again.
        if let Ok(v) = b.execute(&script, vec![]).await {
            if v == serde_json::Value::Bool(true) {
                return;
            }
        }
        if Instant::now() > deadline {
            let url = b
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let text: String = b
                .execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            panic!("timed out after {secs} s waiting for `{condition}` on {url}\npage text:\n{text:.1500}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// JS for "the element `css` exists".
fn has(css: &str) -> String {
    format!("document.querySelector({})", json!(css))
}

async fn exists(b: &Client, css: &str) -> bool {
    eval(b, &format!("return !!{}", has(css))).await
}

/// The `innerText` of the first element matching `css` (panics if there is none).
async fn text(b: &Client, css: &str) -> String {
    let found: Option<String> = eval(
        b,
        &format!("const e = {}; return e ? e.innerText : null", has(css)),
    )
    .await;
    match found {
        Some(t) => t,
        None => panic!("no element {css} on {}", page_url(b).await),
    }
}

async fn attr(b: &Client, css: &str, name: &str) -> Option<String> {
    eval(
        b,
        &format!(
            "const e = {}; return e ? e.getAttribute({}) : null",
            has(css),
            json!(name)
        ),
    )
    .await
}

async fn page_url(b: &Client) -> String {
    b.current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default()
}

async fn page_text(b: &Client) -> String {
    eval(b, "return document.body.innerText").await
}

async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(b: &Client, css: &str, value: &str) {
    let el = b
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Chooses `file` in the file input `css`.
async fn choose_file(b: &Client, css: &str, file: &std::path::Path) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
}

async fn goto(b: &Client, srv: &TestServer, path: &str) {
    b.goto(&srv.url(path))
        .await
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
}

/// Signs in through the form; ends on the wallet.
async fn sign_in(b: &Client, srv: &TestServer, user: &str) {
    goto(b, srv, "/wallet/login").await;
    type_into(b, "#username", user).await;
    type_into(b, "#password", &format!("{user}-password")).await;
    click(b, "#login-submit").await;
    wait_until(
        b,
        "location.pathname === '/wallet' && document.getElementById('holder-name')",
        10,
    )
    .await;
}

/// Signs out with the wallet's button; ends on the home page, signed out.
async fn sign_out(b: &Client, srv: &TestServer) {
    goto(b, srv, "/wallet").await;
    click(b, "#logout").await;
    wait_until(b, "location.pathname === '/'", 10).await;
    goto(b, srv, "/wallet").await;
    assert!(
        page_url(b).await.contains("/wallet/login"),
        "signed out: the wallet asks to sign in"
    );
}

/// On a present page: chooses `matter` (if any), starts presenting and waits (≤ 20 s) for the
/// QR code; returns the link it encodes (`#qr`'s `data-url`).
async fn show_qr(b: &Client, matter: Option<&str>) -> String {
    if let Some(m) = matter {
        b.find(Locator::Css("#matter"))
            .await
            .expect("#matter")
            .select_by_value(m)
            .await
            .expect("choose the matter");
    }
    click(b, "#present-start").await;
    wait_until(
        b,
        "document.getElementById('qr-image') || !document.getElementById('present-error').hidden",
        20,
    )
    .await;
    if !exists(b, "#qr-image").await {
        panic!("presenting failed: {}", text(b, "#present-error").await);
    }
    attr(b, "#qr", "data-url").await.expect("#qr[data-url]")
}

/// The present page's countdown, in seconds.
async fn seconds_left(b: &Client) -> i64 {
    let left = text(b, "#qr-countdown").await;
    left.trim()
        .parse()
        .unwrap_or_else(|e| panic!("#qr-countdown {left:?}: {e}"))
}

/// `pdftotext - -` on `pdf`.
async fn pdf_text(pdf: Vec<u8>) -> String {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run pdftotext (poppler-utils, installed by scripts/deps.sh)");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = tokio::spawn(async move {
        stdin.write_all(&pdf).await.expect("write the PDF");
    });
    let out = child.wait_with_output().await.expect("pdftotext");
    writer.await.expect("writer");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// The issue's quality bar: issue, sign in, see, download, present as a QR code, verify the
/// code as a relying party would, then revocation and the 60-second expiry show on the page.
#[tokio::test]
async fn wallet_flow_end_to_end() {
    let (srv, clock) = start_node().await;
    with_accounts(&srv).await;
    let id = issue_driving(&srv, CITIZEN, "es256").await;
    let b = Browser::start().await;

    sign_in(&b, &srv, "zhangwei").await;
    assert_eq!(text(&b, "#holder-name").await, CITIZEN.0);
    let card = format!("a.license-card[data-identifier=\"{id}\"]");
    assert!(exists(&b, &card).await, "the wallet lists {id}");
    assert_eq!(
        attr(&b, &format!("{card} .badge"), "data-status")
            .await
            .as_deref(),
        Some("valid")
    );
    click(&b, &card).await;
    wait_until(&b, &has("img#face"), 10).await;
    assert!(page_url(&b)
        .await
        .ends_with(&format!("/wallet/licenses/{id}")));
    wait_until(
        &b,
        "document.getElementById('face').complete && document.getElementById('face').naturalWidth > 0",
        10,
    )
    .await;

    // Its history: the issue, with a proof that it is in the signed log.
    let proof = attr(
        &b,
        "#history li.event[data-kind=\"issue\"] a.log-proof",
        "href",
    )
    .await
    .expect("the issue event links its log proof");
    let (status, _, body) = fetch_bytes(&b, &proof).await;
    assert_eq!(
        status,
        200,
        "log proof {proof}: {}",
        String::from_utf8_lossy(&body)
    );

    // The PDF of the face, fetched with the browser's session.
    let href = attr(&b, "#download-pdf", "href")
        .await
        .expect("#download-pdf href");
    assert_eq!(href, format!("/wallet/licenses/{id}/face/pdf"));
    let (status, content_type, pdf) = fetch_bytes(&b, &href).await;
    assert_eq!(status, 200, "PDF download");
    assert_eq!(content_type, "application/pdf");
    assert!(
        pdf.starts_with(b"%PDF"),
        "a PDF: {:?}",
        &pdf[..pdf.len().min(16)]
    );
    let pdf_text = pdf_text(pdf).await;
    assert!(
        pdf_text.contains(CITIZEN.0),
        "the PDF's text has the holder's name; pdftotext gave:\n{pdf_text}"
    );

    // Presenting for a car rental: the matter's fields are chosen for the holder.
    click(&b, "#present-link").await;
    wait_until(&b, &has("#present-start"), 10).await;
    b.find(Locator::Css("#matter"))
        .await
        .expect("#matter")
        .select_by_value("car_rental")
        .await
        .expect("choose car_rental");
    let lt = srv
        .node
        .catalogue
        .get(sample::DRIVING_LICENSE, None)
        .await
        .expect("type");
    let mut needed: Vec<String> = lt
        .matters
        .iter()
        .find(|m| m.code == "car_rental")
        .expect("car_rental matter")
        .fields
        .clone();
    needed.sort();
    let mut checked: Vec<String> = eval(
        &b,
        "return Array.from(document.querySelectorAll('input[name=field]:checked')).map(i => i.value)",
    )
    .await;
    checked.sort();
    assert_eq!(checked, needed, "choosing car_rental preselects its fields");
    assert!(!checked.contains(&"holder_id".to_string()));

    // The page refreshes the code shortly before it expires, on a timer of about a minute:
    // hold that timer (and only that one) so the test can fire it now.
    b.execute(
        "const later = window.setTimeout.bind(window);
         window.setTimeout = (f, ms, ...args) => {
             if (ms >= 10000) { window.__refresh = f; window.__refreshMs = ms; return 0; }
             return later(f, ms, ...args);
         };",
        vec![],
    )
    .await
    .expect("hold the refresh timer");
    let url = show_qr(&b, None).await;
    assert!(
        url.starts_with(&format!("{}/verify/p/", srv.base)),
        "{url} is a presentation link of this node"
    );
    let left = seconds_left(&b).await;
    assert!((50..=60).contains(&left), "{left} s left on a fresh code");
    let qr = screenshot_element(&b, "#qr").await;
    assert_eq!(
        decode_qr(&qr),
        vec![url.clone()],
        "the QR code encodes #qr's data-url"
    );
    wait_until(
        &b,
        &format!("parseInt(document.getElementById('qr-countdown').textContent) < {left}"),
        5,
    )
    .await;
    let refresh_ms: Option<f64> = eval(&b, "return window.__refreshMs || null").await;
    let refresh_ms = refresh_ms.expect("the page set a refresh timer");
    assert!(
        (50_000.0..60_000.0).contains(&refresh_ms),
        "refreshes before the 60 s end: after {refresh_ms} ms"
    );
    b.execute("window.__refresh()", vec![])
        .await
        .expect("refresh now");
    wait_until(
        &b,
        &format!(
            "document.getElementById('qr').dataset.url !== {} && document.getElementById('qr-image')",
            json!(url)
        ),
        20,
    )
    .await;
    let fresh = attr(&b, "#qr", "data-url").await.expect("#qr[data-url]");
    assert!(seconds_left(&b).await >= 58, "a fresh minute");
    let qr = screenshot_element(&b, "#qr").await;
    assert_eq!(decode_qr(&qr), vec![fresh.clone()], "the refreshed code");
    goto(&b, &srv, fresh.strip_prefix(&srv.base).expect("local link")).await;
    assert!(
        exists(&b, "#verdict[data-valid=\"true\"]").await,
        "the refreshed code verifies"
    );

    // The relying party opens the link.
    b.goto(&url).await.expect("open the presentation");
    let verdict = "#verdict[data-valid=\"true\"]";
    assert!(exists(&b, verdict).await, "valid: {}", page_text(&b).await);
    let disclosed = text(&b, "#disclosed").await;
    assert!(
        disclosed.contains(CITIZEN.0),
        "the name is disclosed: {disclosed}"
    );
    assert!(
        !page_text(&b).await.contains(CITIZEN.1),
        "the resident ID number was not chosen, so it is not shown"
    );

    // Revoked by the issuer: the same link now says so, with the reason.
    revoke(&srv, &id, sample::BEIJING_TRAFFIC_POLICE, REVOKE_REASON).await;
    b.refresh().await.expect("reload");
    assert!(
        exists(&b, "#verdict[data-valid=\"false\"]").await,
        "revoked: not valid: {}",
        page_text(&b).await
    );
    assert_eq!(
        attr(&b, "#status", "data-status").await.as_deref(),
        Some("revoked")
    );
    // The reason's category, not the issuer's words (those stay with holder and issuer).
    assert_eq!(
        attr(&b, "#status-reason", "data-category").await.as_deref(),
        Some("other")
    );
    assert!(!page_text(&b).await.contains(REVOKE_REASON));

    // 61 s later on the node's clock the presentation has expired and shows no personal data.
    clock.advance(61);
    b.refresh().await.expect("reload");
    assert_eq!(
        attr(&b, "#verdict", "data-problem").await.as_deref(),
        Some("presentation.expired"),
        "{}",
        page_text(&b).await
    );
    let body = page_text(&b).await;
    assert!(!body.contains(CITIZEN.0), "expired: no name shown:\n{body}");
    assert!(
        !exists(&b, "#disclosed").await,
        "expired: nothing disclosed"
    );

    // By identifier: revoked, with the reason, never the holder's name.
    goto(&b, &srv, &format!("/verify/{id}")).await;
    assert!(exists(&b, "#verdict[data-valid=\"false\"]").await);
    assert_eq!(
        attr(&b, "#status", "data-status").await.as_deref(),
        Some("revoked")
    );
    assert_eq!(
        attr(&b, "#status-reason", "data-category").await.as_deref(),
        Some("other")
    );
    let html: String = eval(&b, "return document.documentElement.outerHTML").await;
    assert!(
        !html.contains(CITIZEN.0) && !html.contains(CITIZEN.1) && !html.contains(REVOKE_REASON),
        "no personal data, no reason text by identifier"
    );

    // The holder's wallet shows it revoked, with the reason.
    goto(&b, &srv, "/wallet").await;
    assert_eq!(
        attr(&b, &format!("{card} .badge"), "data-status")
            .await
            .as_deref(),
        Some("revoked")
    );
    goto(&b, &srv, &format!("/wallet/licenses/{id}")).await;
    assert!(text(&b, "#status-reason").await.contains(REVOKE_REASON));
    assert!(exists(&b, "#history li.event[data-kind=\"revoke\"]").await);
    b.close();
}

/// One page of the accessibility tour.
#[derive(Debug, Clone)]
enum Visit {
    Path(String),
    FailedSignIn,
    Present(String),
    LastPresentation,
    /// The license page's 转到其他卡包 button: the OpenID4VCI offer page.
    Offer(String),
}

/// axe-core (serious and critical) on every page, in Chinese, in English and in large text,
/// at 390 px; and no page scrolls sideways at 360 px.
/// Registers a car-rental company, lets it ask twice for 张伟's driving license, and grants
/// the second request as 张伟; then a hotel gets 张伟's resident ID card under its legal basis;
/// returns the car-rental company's granted request's id.
async fn sharing_requests(srv: &TestServer) -> String {
    use elicense_app::institutions::{self, Ask, NewInstitution};
    use elicense_app::wallet::IdentityProvider;
    let inst = institutions::register(
        &srv.node,
        NewInstitution {
            code: "91110105MA01B2C3DL".into(),
            name: "示例汽车租赁有限公司".into(),
            area: "110105".into(),
            matters: vec!["car_rental".into()],
        },
    )
    .await
    .unwrap();
    common::clerk(srv, &inst).await;
    let ask = || Ask {
        matter: "car_rental".into(),
        holder_id: CITIZEN.1.into(),
        holder_name: None,
        purpose: "租车合同".into(),
        staff: "clerk".into(),
        keep_days: None,
        license_type: None,
    };
    institutions::ask(&srv.node, &inst, ask()).await.unwrap();
    let granted = institutions::ask(&srv.node, &inst, ask()).await.unwrap();
    let zhang = elicense_app::wallet::LocalAccounts::new(&srv.node)
        .sign_in(
            "zhangwei",
            "zhangwei-password",
            elicense_app::wallet::ClientAddr::unknown(),
        )
        .await
        .unwrap()
        .unwrap();
    institutions::decide(&srv.node, &zhang, &granted.id, true)
        .await
        .unwrap();
    // And a hotel check-in under its legal basis: granted at once, naming the holder as it
    // must (the ID number alone is refused).
    issue_resident_id(srv, CITIZEN).await;
    let hotel = institutions::register(
        &srv.node,
        NewInstitution {
            code: "91310101MA1FPX0Q1Y".into(),
            name: "上海样本大酒店".into(),
            area: "310101".into(),
            matters: vec!["hotel_check_in".into()],
        },
    )
    .await
    .unwrap();
    common::clerk(srv, &hotel).await;
    let check_in = |name: Option<&str>| Ask {
        matter: "hotel_check_in".into(),
        holder_id: CITIZEN.1.into(),
        holder_name: name.map(str::to_owned),
        purpose: "入住登记".into(),
        staff: "clerk".into(),
        keep_days: None,
        license_type: None,
    };
    let refused = institutions::ask(&srv.node, &hotel, check_in(None)).await;
    assert_eq!(refused.unwrap_err().code, "share.holder_name_required");
    let legal = institutions::ask(&srv.node, &hotel, check_in(Some(CITIZEN.0)))
        .await
        .unwrap();
    assert_eq!(legal.state, "granted");
    granted.id
}

#[tokio::test]
async fn every_page_passes_axe() {
    let (srv, _clock) = start_node().await;
    with_accounts(&srv).await;
    let valid = issue_driving(&srv, CITIZEN, "es256").await;
    let revoked = issue_driving(&srv, CITIZEN, "sm2").await;
    revoke(
        &srv,
        &revoked,
        sample::BEIJING_TRAFFIC_POLICE,
        REVOKE_REASON,
    )
    .await;
    let b = Browser::start().await;
    sign_in(&b, &srv, "zhangwei").await;

    // One authorization, so that the license page lists one.
    let today = timeutil::format(timeutil::date_at(srv.node.now()));
    let until = timeutil::format(timeutil::date_at(srv.node.now() + 30 * 86_400));
    let script = r#"
        const [url, body, done] = arguments;
        const token = document.querySelector('meta[name="csrf-token"]').content;
        fetch(url, { method: 'POST', credentials: 'same-origin',
            headers: { 'content-type': 'application/x-www-form-urlencoded',
                       'x-csrf-token': token }, body })
          .then(r => done(r.status)).catch(e => done(String(e)));
    "#;
    let form = format!(
        "agent_name={}&agent_id={}&matter=car_rental&from={today}&until={until}",
        "%E6%9D%8E%E5%A8%9C", CITIZEN2.1
    );
    let status = b
        .execute_async(
            script,
            vec![
                json!(format!("/wallet/licenses/{valid}/authorizations")),
                json!(form),
            ],
        )
        .await
        .expect("authorize");
    assert_eq!(status, json!(200), "authorization");

    // Two sharing requests of a car-rental company: one pending (consent buttons on the
    // requests page), one granted (its annotated copy has a public check page).
    let copy = sharing_requests(&srv).await;

    let visits = vec![
        Visit::Path("/wallet/requests".into()),
        Visit::Path(format!("/verify/c/{copy}")),
        Visit::Path("/".into()),
        Visit::Path("/verify".into()),
        Visit::Path(format!("/verify/{valid}")),
        Visit::Path(format!("/verify/{revoked}")),
        Visit::Path("/wallet/login".into()),
        Visit::FailedSignIn,
        Visit::Path("/wallet".into()),
        Visit::Path("/wallet/security".into()),
        Visit::Path(format!("/wallet/licenses/{valid}")),
        Visit::Present(valid.clone()),
        Visit::LastPresentation,
        Visit::Offer(valid.clone()),
        Visit::Path("/verify/not-an-identifier".into()),
    ];
    for (lang, text_size) in [("zh", "normal"), ("en", "normal"), ("zh", "large")] {
        goto(
            &b,
            &srv,
            &format!("/prefs?lang={lang}&text={text_size}&back=/"),
        )
        .await;
        let html_lang = if lang == "zh" { "zh-CN" } else { "en" };
        let mut last_presentation = None;
        for visit in &visits {
            // Large text: the wallet and verification pages (the time budget of the binary).
            let wallet_or_verify = match visit {
                Visit::Path(p) => {
                    p.starts_with("/wallet/licenses") || p.starts_with("/verify") || p == "/wallet"
                }
                Visit::FailedSignIn => false,
                Visit::Present(_) | Visit::LastPresentation | Visit::Offer(_) => true,
            };
            if text_size == "large" && !wallet_or_verify {
                continue;
            }
            match visit {
                Visit::Path(p) => goto(&b, &srv, p).await,
                Visit::FailedSignIn => {
                    goto(&b, &srv, "/wallet/login").await;
                    type_into(&b, "#username", "zhangwei").await;
                    type_into(&b, "#password", "not-the-password").await;
                    click(&b, "#login-submit").await;
                    wait_until(&b, &has("#login-error"), 10).await;
                }
                Visit::Present(id) => {
                    goto(&b, &srv, &format!("/wallet/licenses/{id}/present")).await;
                    last_presentation = Some(show_qr(&b, Some("car_rental")).await);
                }
                Visit::LastPresentation => {
                    let url = last_presentation.clone().expect("a presentation first");
                    b.goto(&url).await.expect("open the presentation");
                }
                Visit::Offer(id) => {
                    goto(&b, &srv, &format!("/wallet/licenses/{id}")).await;
                    click(&b, "#offer-button").await;
                    wait_until(&b, &has("#offer-tx-code"), 10).await;
                    if lang == "zh" && text_size == "normal" {
                        let uri = attr(&b, "#offer-qr", "data-uri").await.expect("data-uri");
                        assert!(uri.starts_with("openid-credential-offer://?credential_offer="));
                        let qr = screenshot_element(&b, "#offer-qr").await;
                        assert_eq!(decode_qr(&qr), vec![uri], "the QR code is the offer");
                    }
                }
            }
            let name = format!("{visit:?} ({lang}, {text_size} text)");
            // Each page is what it should be, in the language and text size chosen.
            let state: (String, bool) = eval(
                &b,
                "return [document.documentElement.lang, document.body.classList.contains('large-text')]",
            )
            .await;
            assert_eq!(
                state,
                (html_lang.to_string(), text_size == "large"),
                "{name}"
            );
            match visit {
                Visit::Path(p) if p.starts_with("/wallet/licenses/") => assert!(
                    exists(&b, "#agents-box li.authorization[data-state=\"active\"]").await,
                    "{name}: one authorization listed"
                ),
                Visit::Path(p) if p == "/verify/not-an-identifier" => {
                    assert!(exists(&b, "#error-code").await, "{name}: an error page")
                }
                Visit::LastPresentation => assert!(
                    exists(&b, "#verdict[data-valid=\"true\"]").await,
                    "{name}: a valid presentation"
                ),
                Visit::Offer(_) => {
                    let tx = text(&b, "#offer-tx-code").await;
                    assert!(
                        tx.len() == 6 && tx.bytes().all(|c| c.is_ascii_digit()),
                        "{name}: a transaction code, got {tx:?}"
                    );
                }
                _ => {}
            }
            axe_check(&b, &name).await;

            b.set_viewport(Viewport::Narrow).await;
            let widths: (u32, u32) = eval(
                &b,
                "return [document.documentElement.scrollWidth, window.innerWidth]",
            )
            .await;
            assert_eq!(widths.1, 360, "narrow viewport");
            if widths.0 > 360 {
                let wide: Vec<String> = eval(
                    &b,
                    r#"return Array.from(document.querySelectorAll('body *'))
                        .filter(e => e.getBoundingClientRect().right > 360.5)
                        .slice(0, 8)
                        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                            + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : '')
                            + ' right=' + Math.round(e.getBoundingClientRect().right))"#,
                )
                .await;
                panic!(
                    "{name} scrolls sideways at 360 px: scrollWidth {}; too wide: {wide:?}",
                    widths.0
                );
            }
            b.set_viewport(Viewport::Mobile).await;
        }
    }
    b.close();
}

/// Chinese is drawn with the node's web font (`/assets/font.woff2`), not with whatever CJK
/// font the machine may have.
#[tokio::test]
async fn chinese_renders_with_the_web_font() {
    let (srv, _clock) = start_node().await;
    let b = Browser::start().await;
    goto(&b, &srv, "/verify").await;
    assert_eq!(
        attr(&b, "html", "lang").await.as_deref(),
        Some("zh-CN"),
        "a Chinese browser gets the Chinese page"
    );
    let ready: bool = b
        .execute_async(
            "const done = arguments[0]; document.fonts.ready.then(() => done(true));",
            vec![],
        )
        .await
        .expect("fonts ready")
        .as_bool()
        .unwrap_or(false);
    assert!(ready);
    let check: bool = eval(
        &b,
        r#"return document.fonts.check('16px "Noto Sans CJK SC"', '证照')"#,
    )
    .await;
    assert!(check, "the page's CJK font is loaded");
    let faces: Vec<(String, String)> = eval(
        &b,
        "return Array.from(document.fonts).map(f => [f.family.replace(/\"/g, ''), f.status])",
    )
    .await;
    assert!(
        faces.contains(&("Noto Sans CJK SC".to_string(), "loaded".to_string())),
        "the style sheet's font face is loaded: {faces:?}"
    );
    let fetched: bool = eval(
        &b,
        "return performance.getEntriesByType('resource').some(e => new URL(e.name).pathname === '/assets/font.woff2')",
    )
    .await;
    assert!(fetched, "the page fetched /assets/font.woff2");

    // The web font itself, whatever fonts the machine has: two faces made from the file, one
    // drawn at twice the size (`size-adjust`). Glyphs that come from the file are twice as
    // wide in the second; glyphs a system font supplied would be the same width in both.
    let widths: Result<(f64, f64), String> = serde_json::from_value(
        b.execute_async(
            r#"
            const done = arguments[0];
            const plain = new FontFace('ProbeWebFont', 'url(/assets/font.woff2)');
            const big = new FontFace('ProbeWebFont2x', 'url(/assets/font.woff2)', { sizeAdjust: '200%' });
            Promise.all([plain.load(), big.load()]).then(([p, g]) => {
                document.fonts.add(p); document.fonts.add(g);
                const width = family => {
                    const s = document.createElement('span');
                    s.style.font = `50px "${family}"`;
                    s.style.whiteSpace = 'nowrap';
                    s.textContent = '证照';
                    document.body.appendChild(s);
                    const w = s.getBoundingClientRect().width;
                    s.remove();
                    return w;
                };
                done({ Ok: [width('ProbeWebFont'), width('ProbeWebFont2x')] });
            }).catch(e => done({ Err: String(e) }));
            "#,
            vec![],
        )
        .await
        .expect("load the web font"),
    )
    .expect("widths");
    let (plain, big) = widths.unwrap_or_else(|e| panic!("/assets/font.woff2 did not load: {e}"));
    assert!(
        (90.0..=110.0).contains(&plain),
        "two CJK characters at 50 px are ~100 px wide: {plain}"
    );
    assert!(
        (1.8..=2.2).contains(&(big / plain)),
        "the glyphs of 证照 come from the web font (widths {plain} and {big})"
    );

    // Drawn in the page's font and in the file's, 证 and 照 are different glyphs (not tofu).
    for family in ["Noto Sans CJK SC", "ProbeWebFont"] {
        let style = format!("font: 48px \"{family}\"");
        let a = render_text(&b, "证", &style).await;
        let c = render_text(&b, "照", &style).await;
        assert!(
            glyphs_render(&a, &c),
            "证 and 照 render as distinct glyphs in {family}"
        );
    }
    b.close();
}

/// Authorizing an agent through the htmx form, the agent's view, withdrawing; then the
/// language and text-size switches.
#[tokio::test]
async fn agents_and_language_switch() {
    let (srv, clock) = start_node().await;
    with_accounts(&srv).await;
    let id = issue_resident_id(&srv, CITIZEN).await;
    let b = Browser::start().await;
    let card = format!("a.license-card[data-identifier=\"{id}\"]");

    sign_in(&b, &srv, "zhangwei").await;
    assert_eq!(attr(&b, "html", "lang").await.as_deref(), Some("zh-CN"));
    click(&b, &card).await;
    wait_until(&b, &has("#agent-form"), 10).await;
    // Marks this document: an htmx swap keeps it, a full page load would not.
    b.execute("window.__sameDocument = true", vec![])
        .await
        .expect("mark");
    assert!(
        !exists(&b, "li.authorization").await,
        "no authorization yet"
    );
    let today = timeutil::format(timeutil::date_at(clock.now()));
    assert_eq!(
        attr(&b, "#agent_from", "value").await.as_deref(),
        Some(today.as_str()),
        "the period starts today by default"
    );
    let until = timeutil::format(timeutil::date_at(clock.now() + 30 * 86_400));
    type_into(&b, "#agent_name", CITIZEN2.0).await;
    type_into(&b, "#agent_id", CITIZEN2.1).await;
    b.find(Locator::Css("#agent_matter"))
        .await
        .expect("#agent_matter")
        .select_by_value("age_check")
        .await
        .expect("choose age_check");
    // Date inputs take keys in the browser's locale format; set the value as a picker would.
    b.execute(
        "const e = document.getElementById('agent_until'); e.value = arguments[0]; \
         e.dispatchEvent(new Event('input', { bubbles: true })); \
         e.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![json!(until)],
    )
    .await
    .expect("set the end date");
    click(&b, "#agent-submit").await;
    wait_until(
        &b,
        &format!("{} || {}", has("li.authorization"), has("#agents-error")),
        10,
    )
    .await;
    assert!(
        !exists(&b, "#agents-error").await,
        "authorization refused: {}",
        text(&b, "#agents-error").await
    );
    let states: Vec<String> = eval(
        &b,
        "return Array.from(document.querySelectorAll('#agents-box li.authorization')).map(l => l.dataset.state)",
    )
    .await;
    assert_eq!(states, vec!["active"], "one active authorization");
    let item = text(&b, "li.authorization").await;
    assert!(item.contains(CITIZEN2.0), "{item}");
    let same: bool = eval(&b, "return window.__sameDocument === true").await;
    assert!(same, "the form was sent by htmx and swapped in place");
    assert!(exists(&b, "#authorizations #agents-box").await);
    // PAGE BUG (templates/agents.html line 7, also wallet.html line 22 and license.html
    // line 38): the matter is shown as its code (`age_check`), not by its name (年龄核验).
    // Collected here and asserted at the end, so the rest of the test still runs.
    let mut page_bugs = Vec::new();
    if !item.contains("年龄核验") || item.contains("age_check") {
        page_bugs.push(format!(
            "the authorization names its matter by code, not 年龄核验: {item:?}"
        ));
    }
    // PAGE BUG (templates/agents.html line 7): the period's end is shown as the day after the
    // one chosen (`valid_until` is the first moment after that day).
    let period = format!("{today} – {until}");
    if !item.contains(&period) {
        page_bugs.push(format!(
            "the authorization's period should read {period:?}: {item:?}"
        ));
    }

    // 李娜 sees the license as agent, for that matter only.
    sign_out(&b, &srv).await;
    sign_in(&b, &srv, "lina").await;
    assert_eq!(text(&b, "#holder-name").await, CITIZEN2.0);
    assert!(
        exists(&b, &card).await,
        "the agent's wallet shows the license"
    );
    let access = text(&b, &format!("{card} .access")).await;
    assert!(access.contains("代办"), "shown as agent: {access}");
    // PAGE BUG (templates/wallet.html line 22): the agent's matter is shown by its code.
    if !access.contains("年龄核验") || access.contains("age_check") {
        page_bugs.push(format!(
            "the agent's wallet names the matter by code, not 年龄核验: {access:?}"
        ));
    }
    click(&b, &card).await;
    wait_until(&b, &has("img#face"), 10).await;
    assert!(
        !exists(&b, "#agent-form").await,
        "an agent cannot authorize others"
    );
    // The agent presents for that matter only: the matter is fixed, its fields chosen.
    click(&b, "#present-link").await;
    wait_until(&b, &has("#present-start"), 10).await;
    let fixed: (bool, String) = eval(
        &b,
        "const m = document.getElementById('matter'); return [m.disabled, m.value]",
    )
    .await;
    assert_eq!(
        fixed,
        (true, "age_check".to_string()),
        "the matter is fixed"
    );
    let checked: Vec<String> = eval(
        &b,
        "return Array.from(document.querySelectorAll('input[name=field]:checked')).map(i => i.value)",
    )
    .await;
    assert_eq!(
        checked,
        vec!["birth_date"],
        "age_check needs the birth date only"
    );
    let url = show_qr(&b, None).await;
    b.goto(&url).await.expect("open the agent's presentation");
    assert!(
        exists(&b, "#verdict[data-valid=\"true\"]").await,
        "{}",
        page_text(&b).await
    );
    let disclosed = text(&b, "#disclosed").await;
    assert!(
        disclosed.contains("1949-12-31"),
        "the birth date: {disclosed}"
    );
    let body = page_text(&b).await;
    assert!(
        !body.contains(CITIZEN.0) && !body.contains(CITIZEN.1),
        "nothing but the birth date: {body}"
    );

    // 张伟 withdraws with the button.
    sign_out(&b, &srv).await;
    sign_in(&b, &srv, "zhangwei").await;
    goto(&b, &srv, &format!("/wallet/licenses/{id}")).await;
    b.execute("window.__sameDocument = true", vec![])
        .await
        .expect("mark");
    click(&b, "li.authorization[data-state=\"active\"] button").await;
    wait_until(&b, &has("li.authorization[data-state=\"withdrawn\"]"), 10).await;
    assert!(!exists(&b, "li.authorization[data-state=\"active\"]").await);
    let same: bool = eval(&b, "return window.__sameDocument === true").await;
    assert!(same, "withdrawn by htmx, in place");

    // 李娜 no longer sees it, and its page does not exist for her.
    sign_out(&b, &srv).await;
    sign_in(&b, &srv, "lina").await;
    assert!(
        !exists(&b, &card).await,
        "withdrawn: gone from the agent's wallet"
    );
    goto(&b, &srv, &format!("/wallet/licenses/{id}")).await;
    assert_eq!(text(&b, "#error-code").await, "wallet.not_found");
    assert!(!page_text(&b).await.contains(CITIZEN.0));

    // Language and text size.
    goto(&b, &srv, "/wallet").await;
    click(&b, "#lang-switch").await;
    wait_until(&b, "document.documentElement.lang === 'en'", 10).await;
    assert_eq!(
        eval::<String>(&b, "return location.pathname").await,
        "/wallet",
        "the switch returns to the same page"
    );
    assert!(
        text(&b, "#lang-switch").await.contains("中文"),
        "offers Chinese back"
    );
    click(&b, "#lang-switch").await;
    wait_until(&b, "document.documentElement.lang === 'zh-CN'", 10).await;
    assert!(!exists(&b, "body.large-text").await);
    click(&b, "#text-size").await;
    wait_until(&b, &has("body.large-text"), 10).await;
    let size: f64 = eval(
        &b,
        "return parseFloat(getComputedStyle(document.body).fontSize)",
    )
    .await;
    assert!(size >= 19.5, "large text is larger: {size}px");
    click(&b, "#text-size").await;
    wait_until(&b, &format!("!{}", has("body.large-text")), 10).await;
    b.close();
    assert!(page_bugs.is_empty(), "page bugs: {page_bugs:#?}");
}

/// Bad input typed or uploaded in the browser gives an error page with a code.
#[tokio::test]
async fn bad_input_in_the_browser_gives_an_error_page_with_a_code() {
    let (srv, _clock) = start_node().await;
    let b = Browser::start().await;
    let unknown = "1.2.156.3005.2.11100000000000002Q002.11110000000000012X.999999.001.Z";
    goto(&b, &srv, "/verify").await;
    type_into(&b, "#identifier", unknown).await;
    click(&b, "#verify-submit").await;
    wait_until(&b, &has("#error-code"), 10).await;
    let code = text(&b, "#error-code").await;
    assert!(
        !code.is_empty() && code.contains('.'),
        "a stable error code: {code:?}"
    );
    assert!(!text(&b, "#error-message").await.is_empty());
    let body = page_text(&b).await;
    for trace in ["panicked", "RUST_BACKTRACE", "stack backtrace", "src/"] {
        assert!(!body.contains(trace), "no stack trace: {body}");
    }

    // Without a camera or a QR detector (desktop Chromium), the scanner points to the upload.
    goto(&b, &srv, "/verify").await;
    click(&b, "#scan-start").await;
    wait_until(
        &b,
        "!document.getElementById('scan-unsupported').hidden || !document.getElementById('scan-video').hidden",
        10,
    )
    .await;

    // A picture without a QR code, uploaded with the form.
    let dir = tempfile::tempdir().expect("temp dir");
    let photo = dir.path().join("photo.png");
    image::RgbImage::from_fn(200, 150, |x, y| {
        image::Rgb([(x % 256) as u8, (y * 2 % 256) as u8, 90])
    })
    .save(&photo)
    .expect("write the photo");
    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, b"not an image at all").expect("write");
    for (file, codes) in [
        (&photo, &["verify.no_qr"][..]),
        (&not_image, &["verify.bad_image"][..]),
    ] {
        goto(&b, &srv, "/verify").await;
        choose_file(&b, "#qr-file", file).await;
        click(&b, "#upload-submit").await;
        wait_until(&b, &has("#error-code"), 10).await;
        let code = text(&b, "#error-code").await;
        assert!(codes.contains(&code.as_str()), "{}: {code}", file.display());
        assert!(!page_text(&b).await.contains("panicked"));
    }
    b.close();
}

/// Sign-in through the region's identity platform (the real `oidc-provider` of
/// `tests/idp/`): the sign-in page offers it, the provider's form signs the person in, and
/// the wallet shows the person's licenses; the pages involved pass axe.
#[tokio::test]
async fn sign_in_through_the_identity_provider() {
    let srv = idp::node(std::sync::Arc::new(elicense_app::SystemClock), "RS256").await;
    let mine = issue_driving(&srv, CITIZEN2, "es256").await;
    let theirs = issue_driving(&srv, CITIZEN, "es256").await;
    let b = Browser::start().await;
    goto(&b, &srv, "/wallet/login").await;
    assert!(text(&b, "#login-oidc").await.contains("测试身份平台"));
    axe_check(&b, "sign-in page with a provider").await;
    click(&b, "#login-oidc").await;
    wait_until(&b, "!!document.getElementById('idp-submit')", 10).await;
    assert!(page_url(&b).await.starts_with(&idp::idp().issuer));
    click(&b, "#idp-submit").await;
    wait_until(
        &b,
        "location.pathname === '/wallet' && document.getElementById('holder-name')",
        10,
    )
    .await;
    let body = page_text(&b).await;
    assert!(body.contains(CITIZEN2.0), "{body}");
    let html = b.source().await.unwrap();
    assert!(html.contains(&mine) && !html.contains(&theirs));
    axe_check(&b, "wallet after OIDC sign-in").await;
    // A refused callback is an error page with its code.
    goto(&b, &srv, "/wallet/oidc/callback?state=made-up&code=x").await;
    assert_eq!(text(&b, "#error-code").await, "oidc.bad_state");
    axe_check(&b, "OIDC error page").await;
    b.close();
}

/// On the wallet's consent page: consents, and waits (≤ 20 s) until the answer is sent.
async fn consent_in_wallet(holder: &Client) {
    click(holder, "#vp-consent").await;
    wait_until(
        holder,
        "!document.getElementById('vp-done').hidden || !document.getElementById('vp-error').hidden",
        20,
    )
    .await;
    assert!(
        exists(holder, "#vp-done:not([hidden])").await,
        "consent failed: {}",
        text(holder, "#vp-error").await
    );
}

/// Verification at the counter, as the two people do it: a bank teller signed in at the
/// counter page shows a QR code; the company's legal representative opens its link in the
/// wallet, sees who asks for what, and consents (the device key signs in the browser); the
/// teller's page, polling, turns to the bank's form filled from the annotated copy, each
/// field marked as verified from the business license. axe on every new page.
#[tokio::test]
async fn counter_qr_to_wallet_consent_to_the_filled_form() {
    let (srv, _clock) = start_node().await;
    with_accounts(&srv).await;
    const WANG: (&str, &str) = ("王芳", "310104198012315019");
    common::account(&srv, "wangfang", WANG).await;
    const COMPANY: (&str, &str) = ("北京示例科技有限公司", "91330000755918469E");
    let mut req = srv
        .issue_request(
            sample::BUSINESS_LICENSE,
            sample::BEIJING_SAMR,
            COMPANY,
            "es256",
        )
        .await;
    req["fields"]["legal_representative_id"] = json!(CITIZEN.1);
    req["fields"]["legal_representative"] = json!(CITIZEN.0);
    srv.issue(&req).await;
    let bank = elicense_app::institutions::register(
        &srv.node,
        elicense_app::institutions::NewInstitution {
            code: "91110105MA01B2C3DL".into(),
            name: "示例商业银行北京分行".into(),
            area: "110105".into(),
            matters: vec!["bank_account_opening".into(), "enterprise_loan".into()],
        },
    )
    .await
    .unwrap();
    // 王芳 works at the bank's counter: she signs in as herself.
    elicense_app::institutions::staff::put(
        &srv.node,
        &bank,
        "teller1",
        elicense_app::institutions::staff::StaffInput {
            name: "柜员 王芳".into(),
            matters: vec!["bank_account_opening".into(), "enterprise_loan".into()],
            resident_id: Some(WANG.1.into()),
        },
    )
    .await
    .unwrap();
    elicense_app::institutions::forms::put(
        &srv.node,
        &bank,
        "bank_account_opening",
        serde_json::from_value(json!({"fields": [
            {"name": "company", "label": "单位名称", "claim": "name"},
            {"name": "credit_code", "label": "统一社会信用代码", "claim": "uscc"}]}))
        .unwrap(),
    )
    .await
    .unwrap();

    let clerk = Browser::start().await;
    sign_in(&clerk, &srv, "wangfang").await;
    goto(&clerk, &srv, "/counter").await;
    assert!(text(&clerk, "#desk-91110105MA01B2C3DL")
        .await
        .contains("示例商业银行北京分行"));
    axe_check(&clerk, "counter page").await;
    type_into(&clerk, "#purpose-91110105MA01B2C3DL", "开立基本存款账户").await;
    click(&clerk, "#desk-91110105MA01B2C3DL .counter-start").await;
    wait_until(&clerk, "!!document.getElementById('counter-qr')", 10).await;
    assert_eq!(
        attr(&clerk, "#counter-status", "data-state")
            .await
            .as_deref(),
        Some("pending")
    );
    axe_check(&clerk, "counter request, pending").await;
    let link = text(&clerk, "#counter-link").await;
    assert!(
        link.starts_with("openid4vp://?client_id=x509_hash"),
        "{link}"
    );
    // The QR code on screen carries that very link.
    let qr = screenshot_element(clerk.client(), "#counter-qr").await;
    assert_eq!(decode_qr(&qr), std::slice::from_ref(&link));

    // The representative opens the link in the wallet (as the phone would on scanning).
    let holder = Browser::start().await;
    sign_in(&holder, &srv, "zhangwei").await;
    let wallet_link = attr(&clerk, "#counter-link", "href").await.unwrap();
    goto(&holder, &srv, &wallet_link).await;
    assert_eq!(
        text(&holder, "#vp-institution").await,
        "示例商业银行北京分行"
    );
    assert_eq!(text(&holder, "#vp-staff").await, "柜员 王芳（teller1）");
    assert!(text(&holder, "#vp-fields")
        .await
        .contains("统一社会信用代码"));
    axe_check(&holder, "wallet consent to a counter request").await;
    consent_in_wallet(&holder).await;
    assert_eq!(
        attr(&holder, "#vp-done", "data-outcome").await.as_deref(),
        Some("granted")
    );

    // The teller's page follows the request and shows the filled, verified form.
    wait_until(
        &clerk,
        "document.getElementById('counter-status').dataset.state === 'granted' && document.getElementById('counter-form')",
        15,
    )
    .await;
    let form = text(&clerk, "#counter-form").await;
    assert!(
        form.contains(COMPANY.0) && form.contains(COMPANY.1),
        "{form}"
    );
    assert!(form.contains("已核验，来自 营业执照"), "{form}");
    axe_check(&clerk, "counter request, verified form").await;

    // The link, opened again, is answered.
    goto(&holder, &srv, &wallet_link).await;
    assert_eq!(text(&holder, "#error-code").await, "vp.answered");

    // One code (一码通): the holder shows a code, the teller types in what her scanner read;
    // the request waits in the holder's wallet (no QR to scan) until he consents.
    goto(&holder, &srv, "/wallet/code").await;
    let code = text(&holder, "#code-text").await;
    assert!(code.starts_with("elicense-code:"), "{code}");
    let shown = screenshot_element(holder.client(), "#code-qr").await;
    assert_eq!(decode_qr(&shown), std::slice::from_ref(&code));
    axe_check(&holder, "one code").await;
    goto(&clerk, &srv, "/counter").await;
    type_into(&clerk, "#purpose-91110105MA01B2C3DL", "变更预留印鉴").await;
    type_into(&clerk, "#code-91110105MA01B2C3DL", &code).await;
    click(&clerk, "#desk-91110105MA01B2C3DL .counter-start").await;
    wait_until(&clerk, "!!document.getElementById('counter-status')", 10).await;
    goto(&holder, &srv, "/wallet/requests").await;
    assert!(text(&holder, "#counter-requests")
        .await
        .contains("示例商业银行北京分行"));
    axe_check(&holder, "requests page with a counter's request").await;
    click(&holder, "#counter-requests a.counter-request").await;
    wait_until(&holder, "!!document.getElementById('vp-consent')", 10).await;
    consent_in_wallet(&holder).await;
    wait_until(
        &clerk,
        "document.getElementById('counter-status').dataset.state === 'granted'",
        15,
    )
    .await;

    // A joint matter: a loan for the company needs its business license and the
    // representative's own ID card; the holder picks one of each and consents once, and the
    // teller's form is filled from both.
    issue_resident_id(&srv, CITIZEN).await;
    elicense_app::institutions::forms::put(
        &srv.node,
        &bank,
        "enterprise_loan",
        serde_json::from_value(json!({"fields": [
            {"name": "company", "label": "借款企业", "claim": "name"},
            {"name": "applicant_address", "label": "申请人住址", "claim": "address",
             "license_type": sample::RESIDENT_ID_CARD}]}))
        .unwrap(),
    )
    .await
    .unwrap();
    goto(&clerk, &srv, "/counter").await;
    clerk
        .execute(
            "document.getElementById('matter-91110105MA01B2C3DL').value = 'enterprise_loan'",
            vec![],
        )
        .await
        .unwrap();
    type_into(&clerk, "#purpose-91110105MA01B2C3DL", "流动资金贷款").await;
    click(&clerk, "#desk-91110105MA01B2C3DL .counter-start").await;
    wait_until(&clerk, "!!document.getElementById('counter-qr')", 10).await;
    let wallet_link = attr(&clerk, "#counter-link", "href").await.unwrap();
    goto(&holder, &srv, &wallet_link).await;
    assert!(text(&holder, "#vp-matter")
        .await
        .contains("营业执照、居民身份证"));
    assert_eq!(
        holder
            .find_all(Locator::Css("#vp-form fieldset[data-part]"))
            .await
            .unwrap()
            .len(),
        2
    );
    axe_check(&holder, "wallet consent to a joint matter").await;
    consent_in_wallet(&holder).await;
    wait_until(
        &clerk,
        "document.getElementById('counter-status').dataset.state === 'granted' && document.getElementById('counter-form')",
        15,
    )
    .await;
    let form = text(&clerk, "#counter-form").await;
    assert!(form.contains(COMPANY.0), "{form}");
    assert!(form.contains("已核验，来自 营业执照"), "{form}");
    assert!(form.contains("已核验，来自 居民身份证"), "{form}");
    holder.close();
    clerk.close();
}

/// Electronic seals, as anyone checks them: a PDF sealed jointly by an enterprise (its official
/// seal, which came with its business license) and an authority is uploaded on `/seals`; the
/// page names both seals, valid; the same file with a changed byte is not valid; the register
/// lists the enterprise's seals by its code. axe passes on each.
#[tokio::test]
async fn a_sealed_pdf_is_verified_on_the_seal_page_and_the_register_lists_its_seals() {
    use elicense_app::seals::document::{self as sealdoc, Placement};
    use elicense_app::seals::{self, NewSeal, Principal};
    let (srv, _clock) = start_node().await;
    with_accounts(&srv).await;
    const COMPANY: (&str, &str) = ("北京示例科技有限公司", "91330000755918469E");
    let mut req = srv
        .issue_request(
            sample::BUSINESS_LICENSE,
            sample::BEIJING_SAMR,
            COMPANY,
            "sm2",
        )
        .await;
    req["fields"]["legal_representative_id"] = json!(CITIZEN.1);
    req["fields"]["legal_representative"] = json!(CITIZEN.0);
    srv.issue(&req).await;
    let node = &srv.node;
    let register = seals::of_owner(node, COMPANY.1).await.unwrap();
    let official = register.iter().find(|s| s.kind == "official").unwrap();
    let authority = seals::create(
        node,
        &Principal::Organisation {
            role: "issuer",
            uscc: sample::BEIJING_SAMR.into(),
        },
        NewSeal {
            owner: sample::BEIJING_SAMR.into(),
            owner_name: None,
            kind: "official".into(),
            name: "北京市市场监督管理局".into(),
            alg: Some("es256".into()),
            valid_days: None,
            users: Vec::new(),
            picture: None,
        },
    )
    .await
    .unwrap();
    let pdf = include_bytes!("../../pdfsign/testdata/ten-pages-classic.pdf");
    let local = Principal::Node("operator:cli".into());
    let place = |seal: &str, page| Placement {
        seal: seal.into(),
        page: Some(page),
        rect: None,
    };
    let sealed = sealdoc::seal(
        node,
        &local,
        pdf,
        &[place(&official.seal_id, 1), place(&authority.seal_id, 2)],
        "合同",
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("sealed.pdf");
    std::fs::write(&good, &sealed).unwrap();
    let mut changed = sealed.clone();
    let i = changed.len() / 3;
    changed[i] ^= 1;
    let bad = dir.path().join("changed.pdf");
    std::fs::write(&bad, &changed).unwrap();

    let b = Browser::start().await;
    for (file, valid) in [(&good, "true"), (&bad, "false")] {
        goto(&b, &srv, "/seals").await;
        choose_file(&b, "#seal-pdf", file).await;
        click(&b, "#seal-verify-submit").await;
        wait_until(&b, "!!document.getElementById('seal-verdict')", 15).await;
        assert_eq!(
            attr(&b, "#seal-verdict", "data-valid").await.as_deref(),
            Some(valid),
            "{}",
            page_text(&b).await
        );
        let seals_shown = b
            .find_all(Locator::Css("article.seal-signature"))
            .await
            .unwrap()
            .len();
        assert_eq!(seals_shown, 2);
        if valid == "true" {
            // Who sealed it: the enterprise and the authority, by name and seal number.
            let page = page_text(&b).await;
            assert!(page.contains("北京示例科技有限公司"), "{page}");
            assert!(page.contains(&authority.seal_id), "{page}");
        }
        axe_check(&b, &format!("seal verdict ({valid})")).await;
    }

    goto(&b, &srv, &format!("/seals?owner={}", COMPANY.1)).await;
    let rows = b
        .find_all(Locator::Css("#seal-register tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(rows, 2, "the official and the legal representative's seals");
    assert!(text(&b, "#seal-register").await.contains(&official.seal_id));
    axe_check(&b, "seal register").await;

    // 张伟, the company's legal representative, seals a PDF from his wallet; the use shows.
    sign_in(&b, &srv, "zhangwei").await;
    goto(&b, &srv, "/wallet/seals").await;
    assert_eq!(
        b.find_all(Locator::Css("#wseals tbody tr"))
            .await
            .unwrap()
            .len(),
        2,
        "{}",
        page_text(&b).await
    );
    axe_check(&b, "wallet seals").await;
    b.execute(
        &format!(
            "document.getElementById('seal-choice').value = '{}'",
            official.seal_id
        ),
        vec![],
    )
    .await
    .unwrap();
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, pdf).unwrap();
    choose_file(&b, "#seal-file", &plain).await;
    type_into(&b, "#seal-purpose", "采购合同").await;
    click(&b, "#seal-submit").await;
    wait_until(
        &b,
        "!document.getElementById('seal-done').hidden || !document.getElementById('seal-error').hidden",
        20,
    )
    .await;
    assert!(
        exists(&b, "#seal-done:not([hidden])").await,
        "{}",
        text(&b, "#seal-error").await
    );
    let size: usize = attr(&b, "#seal-done", "data-size")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        size > pdf.len(),
        "the sealed PDF is the original plus an update"
    );
    goto(&b, &srv, "/wallet/seals").await;
    let row = text(
        &b,
        &format!("tr[data-seal='{}'] .wseal-uses", official.seal_id),
    )
    .await;
    assert!(row.contains("采购合同"), "{row}");
    b.close();
}
