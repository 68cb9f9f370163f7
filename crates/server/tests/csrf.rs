//! CSRF defence of the wallet on a real node on 127.0.0.1: state changes with the holder's
//! cookie need the session's token and the node's own origin; the sign-in form needs its
//! pre-session token; cookies are `__Host-` and `Secure` when the node is served over https.

mod common;

use std::sync::Arc;

use common::*;
use elicense_app::SystemClock;
use reqwest::StatusCode;
use serde_json::{json, Value};

const RENTAL: &str = "91110105MA01B2C3DL";

/// A car-rental company asks for 张伟's driving license (consent basis): its API key and the
/// pending request's id.
async fn pending_request(srv: &TestServer) -> (String, String) {
    srv.issue_driving("sm2").await;
    let key = institution(srv, RENTAL, "示例汽车租赁有限公司", "car_rental").await;
    let (status, body) = read(
        srv.post("/api/v1/shares")
            .bearer_auth(&key)
            .json(&json!({"matter": "car_rental", "holder_id": CITIZEN.1,
                          "purpose": "租车合同", "staff": "clerk"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    (key, body["id"].as_str().unwrap().to_owned())
}

/// The request's state as the institution sees it.
async fn state(srv: &TestServer, key: &str, id: &str) -> Value {
    let (_, body) = read(
        srv.get(&format!("/api/v1/shares/{id}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    body["state"].clone()
}

/// Status and body of a page response.
async fn text(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_consent_from_another_origin_is_refused_and_the_request_stays_pending() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let (key, id) = pending_request(&srv).await;
    let cookie = sign_in(&srv, "zhangwei").await;
    let token = csrf(&srv, &cookie).await;
    let consent = srv.url(&format!("/wallet/requests/{id}/consent"));

    // A page of a sibling host (same site, so the Lax cookie goes along) posts the consent
    // form; even a leaked token does not help it.
    let refused = [
        (Some("http://attacker.127.0.0.1.nip.io"), None),
        (Some("http://127.0.0.1:1"), None),
        (Some("null"), None),
        (Some("null"), Some("cross-site")),
        (None, Some("same-site")),
        (None, Some("cross-site")),
    ];
    for (origin, site) in refused {
        let mut req = no_redirect()
            .post(&consent)
            .header("cookie", &cookie)
            .form(&[("csrf", &token)]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        let (status, html) = text(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?} {site:?}");
        assert!(html.contains("csrf.cross_origin"), "{html}");
    }
    // The JSON endpoint, as a script of that page would call it.
    let resp = no_redirect()
        .post(srv.url(&format!("/api/v1/wallet/shares/{id}/consent")))
        .header("cookie", &cookie)
        .header("origin", "http://attacker.127.0.0.1.nip.io")
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::FORBIDDEN, "csrf.cross_origin").await;
    assert_eq!(state(&srv, &key, &id).await, "pending");

    // The node's own page, as a browser sends its form (the pages' `no-referrer` policy makes
    // the origin `null`): granted.
    let resp = no_redirect()
        .post(&consent)
        .header("cookie", &cookie)
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(state(&srv, &key, &id).await, "granted");
}

#[tokio::test]
async fn a_state_change_needs_the_token_of_its_own_session() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let (key, id) = pending_request(&srv).await;
    let zhang = sign_in(&srv, "zhangwei").await;
    let lina = sign_in(&srv, "lina").await;
    let lina_token = csrf(&srv, &lina).await;
    let consent = format!("/wallet/requests/{id}/consent");

    // The plain form without a token, or with another session's: a page with the code.
    for form in [
        vec![],
        vec![("csrf", lina_token.as_str())],
        vec![("csrf", "x")],
    ] {
        let resp = no_redirect()
            .post(srv.url(&consent))
            .header("cookie", &zhang)
            .form(&form)
            .send()
            .await
            .unwrap();
        let (status, html) = text(resp).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("csrf.bad_token"), "{html}");
    }
    // The JSON endpoints and the authorization form likewise.
    for path in [
        format!("/api/v1/wallet/shares/{id}/consent"),
        format!("/api/v1/wallet/shares/{id}/refusal"),
    ] {
        let resp = no_redirect()
            .post(srv.url(&path))
            .header("cookie", &zhang)
            .send()
            .await
            .unwrap();
        expect_error(resp, StatusCode::FORBIDDEN, "csrf.bad_token").await;
    }
    assert_eq!(state(&srv, &key, &id).await, "pending");

    // Sign-out without the token does not end the session.
    let resp = no_redirect()
        .post(srv.url("/wallet/logout"))
        .header("cookie", &zhang)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(page(&srv, "/wallet", Some(&zhang)).await.0, StatusCode::OK);

    // The page's token, sent by htmx as a header: the box comes back, granted.
    let token = csrf(&srv, &zhang).await;
    let (status, html) = page(&srv, "/wallet/requests", Some(&zhang)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"hx-headers='{{"x-csrf-token":"{token}"}}'"#))
            && html.contains(&format!(
                r#"<input type="hidden" name="csrf" value="{token}">"#
            )),
        "every form and htmx request carries the token: {html}"
    );
    let resp = no_redirect()
        .post(srv.url(&consent))
        .header("cookie", &zhang)
        .header("hx-request", "true")
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(state(&srv, &key, &id).await, "granted");
    // A signed-out request (no cookie) has nothing to forge: still signed out, not 403.
    let resp = no_redirect()
        .post(srv.url("/api/v1/wallet/shares/x/consent"))
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "wallet.signed_out").await;
}

#[tokio::test]
async fn the_sign_in_form_needs_its_pre_session_token() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let (presession, token) = login_page(&srv).await;
    let (other_presession, other_token) = login_page(&srv).await;
    assert_ne!(token, other_token);
    let form = |t: &str| {
        vec![
            ("username", "zhangwei".to_owned()),
            ("password", "zhangwei-password".to_owned()),
            ("csrf", t.to_owned()),
        ]
    };
    let attempts = [
        (None, form("")),
        (None, form(&token)),
        (Some(&presession), form("")),
        (Some(&presession), form(&other_token)),
        (Some(&other_presession), form(&token)),
    ];
    for (cookie, form) in attempts {
        let mut req = no_redirect().post(srv.url("/wallet/login")).form(&form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let resp = req.send().await.unwrap();
        assert!(
            set_cookie(&resp, "elicense_session").is_none(),
            "no session"
        );
        let (status, html) = text(resp).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("csrf.bad_token"), "{html}");
    }
    // Another origin's page posting a pair it obtained: refused too.
    let resp = no_redirect()
        .post(srv.url("/wallet/login"))
        .header("cookie", &presession)
        .header("origin", "http://attacker.127.0.0.1.nip.io")
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The pair of one page: signed in, and the pre-session cookie is cleared.
    let resp = no_redirect()
        .post(srv.url("/wallet/login"))
        .header("cookie", &presession)
        .header("origin", &srv.base)
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&resp, "elicense_session").is_some());
    let cleared = set_cookie(&resp, "elicense_presession").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

#[tokio::test]
async fn over_plain_http_cookies_have_no_prefix_and_no_secure_flag() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let resp = post_sign_in(&srv, "zhangwei", "zhangwei-password").await;
    let c = set_cookie(&resp, "elicense_session").unwrap();
    assert!(
        c.contains("; Path=/;") && c.contains("HttpOnly") && c.contains("SameSite=Lax"),
        "{c}"
    );
    assert!(!c.contains("Secure") && !c.contains("Domain"), "{c}");
}

#[tokio::test]
async fn over_https_cookies_are_host_prefixed_and_secure() {
    let public = "https://wallet.example.gov.cn";
    let srv = TestServer::start_public(Arc::new(SystemClock), public).await;
    with_accounts(&srv).await;
    let resp = no_redirect()
        .get(srv.url("/wallet/login"))
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&resp, "elicense_presession").is_none());
    let pre = set_cookie(&resp, "__Host-elicense_presession").expect("__Host- pre-session");
    for attr in ["; Path=/;", "; HttpOnly", "; SameSite=Strict", "; Secure"] {
        assert!(pre.contains(attr), "{attr} in {pre}");
    }
    assert!(!pre.contains("Domain"), "{pre}");
    let token = page_token(&resp.text().await.unwrap()).unwrap();
    let pre = pre.split(';').next().unwrap().to_owned();

    let resp = no_redirect()
        .post(srv.url("/wallet/login"))
        .header("cookie", &pre)
        .header("origin", public)
        .form(&[
            ("username", "zhangwei"),
            ("password", "zhangwei-password"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&resp, "elicense_session").is_none());
    let session = set_cookie(&resp, "__Host-elicense_session").expect("__Host- session");
    for attr in ["; Path=/;", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
    assert!(!session.contains("Domain"), "{session}");
    let cookie = session.split(';').next().unwrap().to_owned();
    assert_eq!(page(&srv, "/wallet", Some(&cookie)).await.0, StatusCode::OK);
    // The same secret under the unprefixed name (which a sibling host could set) is no session.
    let unprefixed = cookie.replacen("__Host-", "", 1);
    assert_eq!(
        page(&srv, "/wallet", Some(&unprefixed)).await.0,
        StatusCode::SEE_OTHER
    );
    // The http origin of the same host is another origin.
    let token = csrf(&srv, &cookie).await;
    let resp = no_redirect()
        .post(srv.url("/wallet/logout"))
        .header("cookie", &cookie)
        .header("origin", "http://wallet.example.gov.cn")
        .form(&[("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(page(&srv, "/wallet", Some(&cookie)).await.0, StatusCode::OK);
}
