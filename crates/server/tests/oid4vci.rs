//! OpenID4VCI with a wallet no one here wrote: `tests/oid4vc/vci_wallet.mjs` runs
//! `@openid4vc/openid4vci` (Openid4vciClient) with `@openid4vc/oauth2` and `jose` on node,
//! and checks the credential it receives with `@sd-jwt/sd-jwt-vc` (issuer keys from the node's
//! SD-JWT VC issuer metadata, the status list fetched and checked). Exact versions from
//! `tests/oid4vc/package-lock.json`, installed by `scripts/deps.sh` into `.cache/oid4vc/`.
//!
//! A real node on 127.0.0.1: the holder signs in, makes an offer through the wallet API; the
//! outside wallet tries a wrong transaction code (refused), redeems the offer with the right
//! one, gets a credential bound to its own ES256 key, and is refused a second redemption of
//! the same code and of the same access token. The holder's history shows the export. The
//! endpoints' HTTP details (OAuth errors, `no-store`, no cookie authentication) are checked
//! with plain requests.

mod common;

use common::*;
use elicense_core::sample;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Runs the outside wallet with `args`; returns its JSON report (and checks that its exit code
/// agrees with it).
async fn outside_wallet(args: &[&str]) -> Value {
    let (report, code, stderr) = oid4vc_script("vci_wallet.mjs", args).await;
    let expected = if report["ok"] == true { 0 } else { 1 };
    assert_eq!(code, Some(expected), "{report} {stderr}");
    report
}

/// Makes an offer of license `id` through the wallet API as the signed-in `cookie`.
async fn offer(s: &TestServer, cookie: &str, id: &str) -> (StatusCode, Value) {
    wallet_post_json(
        s,
        &format!("/api/v1/wallet/licenses/{id}/credential-offer"),
        cookie,
        json!({}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_wallet_takes_an_offered_license_once() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("es256").await;
    let id = issued["identifier"].as_str().unwrap();
    account(&s, "zhangwei", CITIZEN).await;
    let cookie = sign_in(&s, "zhangwei").await;
    let (status, o) = offer(&s, &cookie, id).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let uri = o["offer_uri"].as_str().unwrap();
    assert!(uri.starts_with("openid-credential-offer://?credential_offer="));
    let tx = o["tx_code"].as_str().unwrap();
    let wrong = if tx == "000000" { "000001" } else { "000000" };

    let r = outside_wallet(&[
        "--offer",
        uri,
        "--tx-code",
        tx,
        "--wrong-tx-code",
        wrong,
        "--replay",
    ])
    .await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["credential_issuer"], s.base);
    assert_eq!(r["configuration"], sample::DRIVING_LICENSE);
    assert_eq!(
        r["wrong_tx_code"],
        json!({"error": "invalid_grant", "code": "vci.wrong_tx_code"})
    );
    let c = &r["credential"];
    assert_eq!(c["iss"], s.node.issuer_url(sample::BEIJING_TRAFFIC_POLICE));
    assert_eq!(
        c["vct"],
        format!("urn:elicense:type:{}", sample::DRIVING_LICENSE)
    );
    assert_eq!(
        (c["alg"].as_str(), c["cnf_is_own_key"].as_bool()),
        (Some("ES256"), Some(true)),
        "{r}"
    );
    assert_eq!(c["status_checked"], true);
    let original = issued["credential"].as_str().unwrap();
    let disclosures = original
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty())
        .count();
    assert_eq!(c["disclosures"], disclosures, "every disclosure: {r}");
    assert_eq!(
        r["replay_token"],
        json!({"error": "invalid_grant", "code": "vci.code_used"})
    );
    assert_eq!(
        r["replay_credential"],
        json!({"error": "invalid_token", "code": "vci.token_used"})
    );

    // The holder sees the export in the history, once.
    let (status, html) = page(&s, &format!("/wallet/licenses/{id}"), Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches(r#"data-kind="export""#).count(), 1, "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_answer_oauth_errors_and_take_no_cookie() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("es256").await;
    let id = issued["identifier"].as_str().unwrap();
    account(&s, "zhangwei", CITIZEN).await;
    let cookie = sign_in(&s, "zhangwei").await;

    // Discovery.
    let (status, m) = read(
        s.get("/.well-known/openid-credential-issuer")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m["credential_issuer"], s.base);
    assert_eq!(
        m["credential_endpoint"],
        format!("{}/oid4vci/credential", s.base)
    );
    let config = &m["credential_configurations_supported"][sample::DRIVING_LICENSE];
    assert_eq!(config["format"], "dc+sd-jwt");
    assert!(config["credential_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));
    let (status, a) = read(
        s.get("/.well-known/oauth-authorization-server")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["issuer"], s.base);
    assert_eq!(a["token_endpoint"], format!("{}/oid4vci/token", s.base));

    // The token endpoint takes a form, answers OAuth errors, never to be cached.
    let resp = s
        .post("/oid4vci/token")
        .json(&json!({"grant_type": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (status, e) = read(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (e["error"].as_str(), e["code"].as_str()),
        (Some("invalid_request"), Some("vci.form_required"))
    );
    let resp = s
        .post("/oid4vci/token")
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    let (status, e) = read(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "unsupported_grant_type");

    // Five wrong transaction codes burn the offer.
    let (_, o) = offer(&s, &cookie, id).await;
    let uri = o["offer_uri"].as_str().unwrap();
    let query = uri.split_once('?').unwrap().1;
    let (_, offer_json) = url::form_urlencoded::parse(query.as_bytes())
        .next()
        .unwrap();
    let offer_json: Value = serde_json::from_str(&offer_json).unwrap();
    let code = offer_json["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let tx = o["tx_code"].as_str().unwrap().to_owned();
    let wrong = if tx == "000000" { "000001" } else { "000000" };
    let token = |tx: &str| {
        s.post("/oid4vci/token").form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            ),
            ("pre-authorized_code", code.as_str()),
            ("tx_code", tx),
        ])
    };
    for _ in 0..4 {
        let (_, e) = read(token(wrong).send().await.unwrap()).await;
        assert_eq!(e["code"], "vci.wrong_tx_code");
    }
    let (_, e) = read(token(wrong).send().await.unwrap()).await;
    assert_eq!(e["code"], "vci.offer_burnt");
    let (status, e) = read(token(&tx).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (e["error"].as_str(), e["code"].as_str()),
        (Some("invalid_grant"), Some("vci.offer_burnt"))
    );

    // The nonce endpoint.
    let resp = s.post("/oid4vci/nonce").send().await.unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (status, n) = read(resp).await;
    assert_eq!(status, StatusCode::OK);
    assert!(n["c_nonce"].as_str().is_some_and(|n| n.len() >= 32));

    // The credential endpoint: a bearer token or nothing. The holder's session cookie, even
    // with its CSRF token and from the node's own origin, authenticates nothing here, and a
    // cookie from another origin is not a CSRF matter either.
    for origin in [s.base.as_str(), "https://evil.example"] {
        let resp = s
            .post("/oid4vci/credential")
            .header("cookie", &cookie)
            .header("x-csrf-token", csrf(&s, &cookie).await)
            .header("origin", origin)
            .json(
                &json!({"credential_configuration_id": sample::DRIVING_LICENSE,
                "proofs": {"jwt": ["a.b.c"]}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        let (status, e) = read(resp).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            (e["error"].as_str(), e["code"].as_str()),
            (Some("invalid_token"), Some("vci.invalid_token"))
        );
    }
    // An issuer's API key is no access token.
    let resp = s
        .post("/oid4vci/credential")
        .bearer_auth(s.key(sample::BEIJING_TRAFFIC_POLICE))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The wallet's offer page shows the QR code and the transaction code.
    let (status, html) = page(&s, &format!("/wallet/licenses/{id}"), Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="offer-button""#), "{html}");
    let resp = no_redirect()
        .post(s.url(&format!("/wallet/licenses/{id}/credential-offer")))
        .header("cookie", &cookie)
        .header("origin", &s.base)
        .form(&[("csrf", csrf(&s, &cookie).await)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<svg"), "{html}");
    let tx = html
        .split(r#"id="offer-tx-code">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    assert!(
        tx.len() == 6 && tx.bytes().all(|b| b.is_ascii_digit()),
        "{tx}"
    );
    assert!(html.contains("openid-credential-offer://?credential_offer="));
}
