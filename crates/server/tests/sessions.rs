//! Wallet sessions and sign-in throttling on a real node on 127.0.0.1 with a manual clock:
//! sign-out and a disabled account end sessions at once, idle sessions time out, repeated
//! wrong passwords are throttled per account and per client address, the owner sees the
//! failures, and the enterprises a session's holder represents follow their license.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use common::*;
use elicense_app::operator;
use elicense_app::ManualClock;
use elicense_core::OperatorActor;
use reqwest::StatusCode;

/// 2026-02-02 08:00 CST.
const T0: i64 = 1_769_990_400;

async fn clocked() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let srv = TestServer::start_with_clock(clock.clone()).await;
    with_accounts(&srv).await;
    (srv, clock)
}

/// Whether `cookie` is signed in: the wallet page answers (not a redirect to sign in), and
/// so does the JSON endpoint (not 401).
async fn signed_in(srv: &TestServer, cookie: &str) -> bool {
    let page_ok = match page(srv, "/wallet", Some(cookie)).await.0 {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        other => panic!("unexpected {other}"),
    };
    let api = srv
        .get("/api/v1/wallet/shares")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(page_ok, api == StatusCode::OK, "page and API agree");
    page_ok
}

#[tokio::test]
async fn sign_out_ends_the_session_and_its_cookie_stops_working() {
    let (srv, _) = clocked().await;
    let cookie = sign_in(&srv, "zhangwei").await;
    let elsewhere = sign_in(&srv, "zhangwei").await;
    assert!(signed_in(&srv, &cookie).await);
    let token = csrf(&srv, &cookie).await;
    let resp = no_redirect()
        .post(srv.url("/wallet/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cleared = set_cookie(&resp, "elicense_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // A copy of the cookie (stolen before sign-out) is signed out too.
    assert!(!signed_in(&srv, &cookie).await);
    assert!(
        signed_in(&srv, &elsewhere).await,
        "the account's other session goes on"
    );

    // Signing in again in a browser that has a session replaces it.
    let (_, html) = page(&srv, "/wallet/login", Some(&elsewhere)).await;
    let token = page_token(&html).expect("the form's token, bound to the session");
    let resp = no_redirect()
        .post(srv.url("/wallet/login"))
        .header("cookie", &elsewhere)
        .form(&[
            ("username", "lina"),
            ("password", "lina-password"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let new = set_cookie(&resp, "elicense_session").unwrap();
    let new = new.split(';').next().unwrap();
    assert!(signed_in(&srv, new).await);
    assert!(
        !signed_in(&srv, &elsewhere).await,
        "the replaced session ended"
    );
}

#[tokio::test]
async fn disabling_an_account_ends_every_session_at_once() {
    let (srv, _) = clocked().await;
    let one = sign_in(&srv, "zhangwei").await;
    let two = sign_in(&srv, "zhangwei").await;
    let other = sign_in(&srv, "lina").await;
    operator::set_account_disabled(&srv.node, &OperatorActor::Cli, "zhangwei", true)
        .await
        .unwrap();
    assert!(!signed_in(&srv, &one).await && !signed_in(&srv, &two).await);
    assert!(signed_in(&srv, &other).await, "other accounts go on");
    let resp = post_sign_in(&srv, "zhangwei", "zhangwei-password").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "cannot sign in");

    operator::set_account_disabled(&srv.node, &OperatorActor::Cli, "zhangwei", false)
        .await
        .unwrap();
    assert!(!signed_in(&srv, &one).await, "ended sessions stay ended");
    let again = sign_in(&srv, "zhangwei").await;
    assert!(signed_in(&srv, &again).await);
    let cookie = sign_in(&srv, "zhangwei").await;
    let (status, html) = page(&srv, "/wallet/security", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"data-code="signin.account_disabled""#),
        "the refused sign-in is listed: {html}"
    );
    let e = operator::set_account_disabled(&srv.node, &OperatorActor::Cli, "nobody", true)
        .await
        .unwrap_err();
    assert_eq!(e.code, "account.not_found");
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes_and_after_eight_hours() {
    let (srv, clock) = clocked().await;
    let cookie = sign_in(&srv, "zhangwei").await;
    // Requests every 20 minutes keep it open ...
    for _ in 0..3 {
        clock.advance(20 * 60);
        assert!(signed_in(&srv, &cookie).await);
    }
    // ... 31 minutes without one end it.
    clock.advance(31 * 60);
    assert!(!signed_in(&srv, &cookie).await);

    // However active, a session ends 8 hours after it started.
    let cookie = sign_in(&srv, "zhangwei").await;
    for _ in 0..23 {
        clock.advance(20 * 60);
        assert!(signed_in(&srv, &cookie).await);
    }
    clock.advance(20 * 60);
    assert!(!signed_in(&srv, &cookie).await);
}

/// The `Retry-After` seconds and body of a throttled sign-in.
async fn throttled(resp: reqwest::Response) -> (i64, String) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let secs: i64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"data-code="signin.throttled""#), "{html}");
    (secs, html)
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_even_for_the_right_one_until_the_lock_ends() {
    let (srv, clock) = clocked().await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let resp = post_sign_in(&srv, "zhangwei", "guess").await;
        statuses.push(resp.status().as_u16());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            let (secs, _) = throttled(resp).await;
            assert!(secs >= 1);
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    // The right password during the lock: refused as well, without a look at it.
    let (secs, _) = throttled(post_sign_in(&srv, "zhangwei", "zhangwei-password").await).await;
    assert_eq!(
        post_sign_in(&srv, " ZhangWei", "zhangwei-password")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the same username however typed"
    );
    clock.advance(secs);
    let cookie = sign_in(&srv, "zhangwei").await;

    // The owner sees the failures that were checked (the throttled ones never were).
    let (status, html) = page(&srv, "/wallet/security", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches(r#"data-code="signin.bad_password""#).count(),
        5,
        "{html}"
    );
    assert!(
        html.contains("127.0.0.0/24"),
        "the client's network: {html}"
    );
    // Another holder sees none of them.
    let li = sign_in(&srv, "lina").await;
    let (_, html) = page(&srv, "/wallet/security", Some(&li)).await;
    assert!(html.contains(r#"id="security-none""#), "{html}");
}

#[tokio::test]
async fn one_address_guessing_many_usernames_is_throttled_for_every_account() {
    let (srv, _) = clocked().await;
    // Twenty failures over twenty usernames: no username reaches its own limit.
    for i in 0..20 {
        let resp = post_sign_in(&srv, &format!("guess{i}"), "guess").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Now the address is locked, for an account it never tried too.
    throttled(post_sign_in(&srv, "lina", "lina-password").await).await;

    // Another address is not.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let resp = client.get(srv.url("/wallet/login")).send().await.unwrap();
    let pre = set_cookie(&resp, "elicense_presession").unwrap();
    let pre = pre.split(';').next().unwrap().to_owned();
    let token = page_token(&resp.text().await.unwrap()).unwrap();
    let resp = client
        .post(srv.url("/wallet/login"))
        .header("cookie", pre)
        .form(&[
            ("username", "lina"),
            ("password", "lina-password"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

/// The enterprise a person represents comes from its license at each request: an open
/// session loses it at once when the license names someone else, and theirs gains it.
#[tokio::test]
async fn a_change_of_representative_moves_the_enterprise_between_open_sessions() {
    use elicense_core::sample::{BEIJING_SAMR, BUSINESS_LICENSE};
    let (srv, _clock) = clocked().await;
    let company = ("北京示例科技有限公司", "91330000755918469E");
    let mut req = srv
        .issue_request(BUSINESS_LICENSE, BEIJING_SAMR, company, "sm2")
        .await;
    req["fields"]["legal_representative"] = serde_json::json!(CITIZEN.0);
    req["fields"]["legal_representative_id"] = serde_json::json!(CITIZEN.1);
    let issued = srv.issue(&req).await;
    let id = issued["identifier"].as_str().unwrap().to_owned();
    let zhang = sign_in(&srv, "zhangwei").await;
    let li = sign_in(&srv, "lina").await;
    let shows = |html: &str| html.contains(company.0);
    assert!(shows(&page(&srv, "/wallet", Some(&zhang)).await.1));
    assert!(!shows(&page(&srv, "/wallet", Some(&li)).await.1));
    let (status, _) = page(&srv, &format!("/wallet/licenses/{id}"), Some(&zhang)).await;
    assert_eq!(status, StatusCode::OK);

    let resp = srv
        .post(&format!("/api/v1/licenses/{id}/actions"))
        .bearer_auth(srv.key(BEIJING_SAMR))
        .json(
            &serde_json::json!({"action": "change", "reason": "法定代表人变更",
            "fields": {"legal_representative": CITIZEN2.0,
                "legal_representative_id": CITIZEN2.1}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let changed: serde_json::Value = resp.json().await.unwrap();
    let new_id = changed["successor"]["identifier"].as_str().unwrap();

    assert!(!shows(&page(&srv, "/wallet", Some(&zhang)).await.1));
    assert!(shows(&page(&srv, "/wallet", Some(&li)).await.1));
    let (status, _) = page(&srv, &format!("/wallet/licenses/{new_id}"), Some(&zhang)).await;
    assert_ne!(
        status,
        StatusCode::OK,
        "the former representative no longer reaches it"
    );
    let (status, _) = page(&srv, &format!("/wallet/licenses/{new_id}"), Some(&li)).await;
    assert_eq!(status, StatusCode::OK);
}
