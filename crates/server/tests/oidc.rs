//! Wallet sign-in through a real OpenID Connect provider (the npm `oidc-provider`, see
//! `tests/idp/`): the whole authorization code flow over HTTP, the session it opens, the
//! person's licenses in the wallet, and the refusals at the callback (state, replay, PKCE,
//! the provider's claims, a disabled account). Forged ID tokens are refused in
//! `crates/app/tests/oidc.rs`, with a provider of the test's making.

mod common;
mod idp;

use std::sync::Arc;

use common::*;
use elicense_app::SystemClock;
use reqwest::StatusCode;

/// The page's error code, as error pages render it.
async fn error_code(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let html = resp.text().await.unwrap();
    let start = html.find(r#"id="error-code">"#).expect("an error page") + 16;
    let code = &html[start..start + html[start..].find('<').unwrap()];
    (status, code.to_owned())
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn issue_for(srv: &TestServer, holder: (&str, &str)) -> String {
    let req = srv.driving_request(holder, "ES256").await;
    srv.issue(&req).await["identifier"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn signs_in_through_the_provider_and_sees_the_persons_licenses() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    let mine = issue_for(&srv, CITIZEN2).await;
    let theirs = issue_for(&srv, CITIZEN).await;

    // The sign-in page offers the provider beside the password form.
    let (status, html) = page(&srv, "/wallet/login?next=/wallet/requests", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"id="login-oidc" href="/wallet/oidc/start?next=/wallet/requests""#)
            && html.contains("通过测试身份平台登录")
            && html.contains(r#"id="login-form""#),
        "{html}"
    );

    let at = idp::authorize(&srv, "li-na", "/wallet/requests").await;
    // PKCE S256, state and nonce in the authorization request.
    assert_eq!(
        query(&at.authorization, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query(&at.authorization, "code_challenge").unwrap().len(),
        43
    );
    assert!(query(&at.authorization, "nonce").is_some());
    assert_eq!(
        query(&at.callback, "state"),
        query(&at.authorization, "state")
    );
    let resp = idp::callback(&at.callback, Some(&at.cookie)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/wallet/requests");
    let cleared = set_cookie(&resp, "elicense_oidc").expect("the pre-login cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let timing = resp.headers()["server-timing"].to_str().unwrap().to_owned();
    assert!(
        timing.starts_with("app;dur=") && timing.contains(", idp;dur="),
        "{timing}"
    );
    let session = set_cookie(&resp, "elicense_session").expect("a session");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let session = session.split(';').next().unwrap().to_owned();

    let (status, html) = page(&srv, "/wallet", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&mine) && !html.contains(&theirs), "{html}");
    assert!(html.contains(CITIZEN2.0));

    // The next sign-in is the same account; the other person is another one.
    let first = srv
        .node
        .store
        .oidc_account(&idp::idp().issuer, "li-na")
        .await
        .unwrap()
        .unwrap();
    idp::sign_in(&srv, "li-na").await;
    let again = srv
        .node
        .store
        .oidc_account(&idp::idp().issuer, "li-na")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, again.id);
    let cookie = idp::sign_in(&srv, "zhang-wei").await;
    let (_, html) = page(&srv, "/wallet", Some(&cookie)).await;
    assert!(html.contains(&theirs) && !html.contains(&mine));

    // Signing out ends the session like a password sign-in's.
    let token = csrf(&srv, &session).await;
    let resp = no_redirect()
        .post(srv.url("/wallet/logout"))
        .header("cookie", &session)
        .header("origin", &srv.base)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(&srv, "/wallet", Some(&session)).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn es256_id_tokens_sign_in_too() {
    let srv = idp::node(Arc::new(SystemClock), "ES256").await;
    let mine = issue_for(&srv, CITIZEN2).await;
    let session = idp::sign_in(&srv, "li-na").await;
    let (_, html) = page(&srv, "/wallet", Some(&session)).await;
    assert!(html.contains(&mine));
}

#[tokio::test]
async fn a_callback_without_or_with_a_wrong_state_or_from_another_browser_is_refused() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    let at = idp::authorize(&srv, "li-na", "/wallet").await;
    let code = query(&at.callback, "code").unwrap();
    let no_state = srv.url(&format!("/wallet/oidc/callback?code={code}"));
    let wrong_state = srv.url(&format!("/wallet/oidc/callback?code={code}&state=made-up"));
    for url in [&no_state, &wrong_state] {
        assert_eq!(
            error_code(idp::callback(url, Some(&at.cookie)).await).await,
            (StatusCode::BAD_REQUEST, "oidc.bad_state".into())
        );
    }
    // The right state without the browser's pre-login cookie: refused, and used up.
    assert_eq!(
        error_code(idp::callback(&at.callback, None).await).await,
        (StatusCode::BAD_REQUEST, "oidc.bad_state".into())
    );
    assert_eq!(
        error_code(idp::callback(&at.callback, Some(&at.cookie)).await).await,
        (StatusCode::BAD_REQUEST, "oidc.bad_state".into())
    );
    // Another browser's cookie.
    let at = idp::authorize(&srv, "li-na", "/wallet").await;
    let other = idp::authorize(&srv, "li-na", "/wallet").await;
    assert_eq!(
        error_code(idp::callback(&at.callback, Some(&other.cookie)).await).await,
        (StatusCode::BAD_REQUEST, "oidc.bad_state".into())
    );
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    let at = idp::authorize(&srv, "li-na", "/wallet").await;
    let first = idp::callback(&at.callback, Some(&at.cookie)).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        error_code(idp::callback(&at.callback, Some(&at.cookie)).await).await,
        (StatusCode::BAD_REQUEST, "oidc.bad_state".into())
    );
}

#[tokio::test]
async fn the_provider_requires_pkce_and_accepts_the_nodes() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    let at = idp::authorize(&srv, "li-na", "/wallet").await;
    // The same authorization request without the code challenge: the provider refuses it
    // (it sends the browser back with an error, no code).
    let mut stripped = url::Url::parse(&at.authorization).unwrap();
    let pairs: Vec<(String, String)> = stripped
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    stripped.query_pairs_mut().clear().extend_pairs(pairs);
    let resp = no_redirect().get(stripped.as_str()).send().await.unwrap();
    let back = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&srv.base), "{back}");
    assert_eq!(query(&back, "error").as_deref(), Some("invalid_request"));
    assert!(query(&back, "code").is_none());
    // Our request, with the challenge, got a code that the token endpoint redeemed with the
    // verifier: the sign-in succeeds.
    assert_eq!(
        idp::callback(&at.callback, Some(&at.cookie)).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_provider_must_say_a_valid_resident_id() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    for (account, code) in [
        ("no-id", "oidc.no_resident_id"),
        ("bad-id", "oidc.bad_resident_id"),
    ] {
        let at = idp::authorize(&srv, account, "/wallet").await;
        let resp = idp::callback(&at.callback, Some(&at.cookie)).await;
        assert!(set_cookie(&resp, "elicense_session").is_none());
        assert_eq!(
            error_code(resp).await,
            (StatusCode::UNAUTHORIZED, code.into())
        );
    }
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_through_the_provider() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    let session = idp::sign_in(&srv, "li-na").await;
    let account = srv
        .node
        .store
        .oidc_account(&idp::idp().issuer, "li-na")
        .await
        .unwrap()
        .unwrap();
    elicense_app::operator::set_account_disabled(
        &srv.node,
        &elicense_core::operator::OperatorActor::Cli,
        &account.username,
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        page(&srv, "/wallet", Some(&session)).await.0,
        StatusCode::SEE_OTHER
    );
    let at = idp::authorize(&srv, "li-na", "/wallet").await;
    assert_eq!(
        error_code(idp::callback(&at.callback, Some(&at.cookie)).await).await,
        (StatusCode::FORBIDDEN, "oidc.account_disabled".into())
    );
}

#[tokio::test]
async fn without_a_provider_the_routes_say_so_and_the_page_offers_passwords_only() {
    let srv = TestServer::start().await;
    for path in [
        "/wallet/oidc/start?next=/wallet",
        "/wallet/oidc/callback?state=x&code=y",
    ] {
        let resp = no_redirect().get(srv.url(path)).send().await.unwrap();
        assert_eq!(
            error_code(resp).await,
            (StatusCode::NOT_FOUND, "oidc.not_configured".into())
        );
    }
    let (_, html) = page(&srv, "/wallet/login", None).await;
    assert!(!html.contains("login-oidc") && html.contains(r#"id="login-form""#));
}

#[tokio::test]
async fn next_is_kept_to_wallet_paths() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    for (asked, went) in [
        ("//evil.example", "/wallet"),
        ("/verify", "/wallet"),
        ("/wallet/security", "/wallet/security"),
    ] {
        let at = idp::authorize(
            &srv,
            "li-na",
            &url::form_urlencoded::byte_serialize(asked.as_bytes()).collect::<String>(),
        )
        .await;
        let resp = idp::callback(&at.callback, Some(&at.cookie)).await;
        assert_eq!(resp.headers()["location"], went, "{asked}");
    }
}

/// One browser address starts at most 10 sign-ins at once: the 11th is a page with
/// `429 oidc.throttled` and `Retry-After`; another address is not held up.
#[tokio::test]
async fn a_client_that_starts_too_many_sign_ins_is_throttled() {
    let srv = idp::node(Arc::new(SystemClock), "RS256").await;
    let start = |from: &'static str| {
        no_redirect()
            .get(srv.url("/wallet/oidc/start?next=/wallet"))
            .header("x-forwarded-for", from)
            .send()
    };
    for _ in 0..10 {
        assert_eq!(
            start("192.0.2.10").await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
    }
    let resp = start("192.0.2.10").await.unwrap();
    assert!(resp.headers().contains_key("retry-after"), "{resp:?}");
    assert_eq!(
        error_code(resp).await,
        (StatusCode::TOO_MANY_REQUESTS, "oidc.throttled".into())
    );
    assert_eq!(
        start("192.0.2.99").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}
