//! Static assets of the pages, compiled into the binary: the style sheet, the scripts, htmx
//! (vendored, 0BSD, `assets/vendor/`) and the CJK web font (a GB 2312 subset of Noto Sans SC
//! from `elicense-face`, so that Chinese renders on machines without a CJK font).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// (name, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "device.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/device.js"),
    ),
    (
        "vp.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vp.js"),
    ),
    (
        "seals.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/seals.js"),
    ),
    (
        "wallet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/wallet.js"),
    ),
    (
        "verify.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/verify.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx-2.0.8.min.js"),
    ),
    ("font.woff2", "font/woff2", elicense_face::WEB_FONT_WOFF2),
];

pub async fn handler(Path(file): Path<String>) -> Response {
    let Some((_, ctype, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == file) else {
        return (StatusCode::NOT_FOUND, "asset.not_found").into_response();
    };
    let mut resp = (*bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    resp
}
