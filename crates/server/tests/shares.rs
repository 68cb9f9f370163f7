//! Relying institutions over real HTTP: sharing requests with the institution's API key, the
//! holder's consent in the wallet (JSON and page), the annotated copy, its face and public
//! check page, verifications recorded as uses, and bad input answered with stable codes.

mod common;

use std::sync::Arc;

use common::*;
use elicense_app::limit::Rate;
use elicense_app::ManualClock;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A car-rental company: its matter (汽车租赁) has no legal basis, the holder consents.
const RENTAL: &str = "91110105MA01B2C3DL";
/// A hotel: 旅馆住宿登记 has a legal basis, the copy is made at once.
const HOTEL: &str = "91310101MA1FPX0Q1Y";
/// 2026-02-02 08:00 CST, the manual clock's start.
const T0: i64 = 1_769_990_400;

async fn ask(srv: &TestServer, key: &str, body: Value) -> (StatusCode, Value) {
    read(
        srv.post("/api/v1/shares")
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A resident ID card for `holder`, issued in the node.
async fn issue_resident_id(srv: &TestServer, holder: (&str, &str)) {
    let t = srv
        .node
        .catalogue
        .get(elicense_core::sample::RESIDENT_ID_CARD, None)
        .await
        .unwrap();
    elicense_app::issue::issue(
        &srv.node,
        elicense_app::issue::IssueRequest {
            type_code: t.code.to_string(),
            issuer: t.issuers[0].to_string(),
            holder_name: holder.0.into(),
            holder_id: holder.1.into(),
            fields: elicense_app::seed::example_fields(&t, holder.0, holder.1),
            actor: "test".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// A hotel check-in (legal basis) naming `holder`.
fn hotel_ask(holder: (&str, &str)) -> Value {
    json!({"matter": "hotel_check_in", "holder_id": holder.1, "holder_name": holder.0,
           "purpose": "入住登记", "staff": "clerk"})
}

fn rental_ask() -> Value {
    json!({"matter": "car_rental", "holder_id": CITIZEN.1, "purpose": "租车合同 A-17",
           "staff": "clerk"})
}

async fn wallet_post(srv: &TestServer, path: &str, cookie: &str) -> (StatusCode, Value) {
    read(
        no_redirect()
            .post(srv.url(path))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf(srv, cookie).await)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn consent_in_the_wallet_gives_the_institution_its_annotated_copy() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    let lic = srv.issue_driving("sm2").await;
    let identifier = lic["identifier"].as_str().unwrap();
    let key = institution(&srv, RENTAL, "示例汽车租赁有限公司", "car_rental").await;

    let (status, pending) = ask(&srv, &key, rental_ask()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    assert_eq!(pending["state"], "pending");
    assert_eq!(pending["basis"], "consent");
    assert!(pending["copy"].is_null() && pending["identifier"].is_null());
    let id = pending["id"].as_str().unwrap();

    // The holder sees the request in the wallet page; another holder does not.
    let zhang = sign_in(&srv, "zhangwei").await;
    let li = sign_in(&srv, "lina").await;
    let (status, html) = page(&srv, "/wallet/requests", Some(&zhang)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"id="request-{id}""#))
            && html.contains("示例汽车租赁有限公司")
            && html.contains("租车合同 A-17"),
        "{html}"
    );
    let (_, html) = page(&srv, "/wallet/requests", Some(&li)).await;
    assert!(!html.contains(id) && html.contains(r#"id="requests-none""#));
    let (status, list) = read(
        srv.get("/api/v1/wallet/shares")
            .header("cookie", &li)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    let (status, _) = read(srv.get("/api/v1/wallet/shares").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Only the holder decides.
    let (status, body) =
        wallet_post(&srv, &format!("/api/v1/wallet/shares/{id}/consent"), &li).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("share.not_found"))
    );
    let (status, body) =
        wallet_post(&srv, &format!("/api/v1/wallet/shares/{id}/consent"), &zhang).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "granted");
    assert_eq!(body["identifier"], identifier);
    let (status, body) =
        wallet_post(&srv, &format!("/api/v1/wallet/shares/{id}/refusal"), &zhang).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::CONFLICT, &json!("share.decided"))
    );

    // The institution polls and gets the copy: the matter's fields only.
    let (status, got) = read(
        srv.get(&format!("/api/v1/shares/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let copy = &got["copy"];
    let mut names: Vec<&str> = copy["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["holder_name", "license_number", "vehicle_class"]);
    let credential = copy["credential"].as_str().unwrap();

    // Anyone can check the copy; an institution that sends its key has the check recorded.
    let verdict = srv.verify(credential).await;
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(verdict["annotation"]["institution"]["code"], RENTAL);
    assert!(verdict["claims"].get("holder_id").is_none());
    let resp = srv
        .post("/api/v1/verifications")
        .bearer_auth(&key)
        .header("content-type", "application/dc+sd-jwt")
        .body(credential.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = srv
        .post("/api/v1/verifications")
        .bearer_auth("eli_000000000000_00")
        .header("content-type", "application/dc+sd-jwt")
        .body(credential.to_string())
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.invalid_key").await;

    // The holder's history names every use by the institution.
    let (_, html) = page(
        &srv,
        &format!("/wallet/licenses/{identifier}"),
        Some(&zhang),
    )
    .await;
    for kind in ["share_query", "consent", "annotated_copy", "verify"] {
        assert!(
            html.contains(&format!(r#"data-kind="{kind}""#)),
            "{kind} in {html}"
        );
    }
    assert!(html.contains("示例汽车租赁有限公司"));
    // An anonymous verification is not an institution's use: exactly one `verify`.
    assert_eq!(html.matches(r#"data-kind="verify""#).count(), 1);

    // The copy's public page: what it is for, until when, the status; no personal data.
    let (status, html) = page(&srv, &format!("/verify/c/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-usable="true""#) && html.contains("示例汽车租赁有限公司"));
    assert!(
        !html.contains(CITIZEN.0) && !html.contains(CITIZEN.1),
        "{html}"
    );
    let (status, html) = page(&srv, "/verify/c/no-such-copy", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("copy.not_found"));

    // Its face, for the institution's records.
    let resp = srv
        .get(&format!("/api/v1/shares/{id}/face/pdf"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    assert!(resp.bytes().await.unwrap().starts_with(b"%PDF-"));
    let resp = srv
        .get(&format!("/api/v1/shares/{id}/face/doc"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "face.bad_format").await;

    let (status, list) = read(
        srv.get("/api/v1/shares?limit=5")
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_legal_basis_grants_at_once_and_the_page_form_refuses_without_script() {
    let srv = TestServer::start().await;
    with_accounts(&srv).await;
    issue_resident_id(&srv, CITIZEN).await;
    let hotel = institution(&srv, HOTEL, "上海样本大酒店", "hotel_check_in").await;
    let (status, granted) = ask(
        &srv,
        &hotel,
        json!({"matter": "hotel_check_in", "holder_id": CITIZEN.1, "holder_name": CITIZEN.0,
               "purpose": "入住登记", "staff": "clerk"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    assert_eq!(granted["basis"], "legal");
    assert!(granted["copy"]["credential"]
        .as_str()
        .unwrap()
        .contains('~'));

    // The holder sees it as granted, with the legal basis, and has nothing to decide.
    let zhang = sign_in(&srv, "zhangwei").await;
    let (_, html) = page(&srv, "/wallet/requests", Some(&zhang)).await;
    assert!(html.contains("旅馆业治安管理办法") && html.contains(r#"data-state="granted""#));
    assert!(!html.contains(r#"class="consent""#));

    // A request the holder refuses through the plain form (no htmx): back to the page.
    let rental = institution(&srv, RENTAL, "示例汽车租赁有限公司", "car_rental").await;
    srv.issue_driving("es256").await;
    let (_, pending) = ask(&srv, &rental, rental_ask()).await;
    let id = pending["id"].as_str().unwrap();
    let token = csrf(&srv, &zhang).await;
    let resp = no_redirect()
        .post(srv.url(&format!("/wallet/requests/{id}/refuse")))
        .header("cookie", &zhang)
        .form(&[("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/wallet/requests");
    // With htmx, the box comes back and says the request is decided when asked twice.
    let resp = no_redirect()
        .post(srv.url(&format!("/wallet/requests/{id}/consent")))
        .header("cookie", &zhang)
        .header("hx-request", "true")
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(r#"id="requests-error""#) && html.contains("share.decided"),
        "{html}"
    );
    let (_, got) = read(
        srv.get(&format!("/api/v1/shares/{id}"))
            .bearer_auth(&rental)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["state"], "refused");
    assert!(got["copy"].is_null());
    // The page needs a session.
    let resp = no_redirect()
        .post(srv.url(&format!("/wallet/requests/{id}/consent")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn bad_requests_get_stable_codes_and_store_nothing() {
    let srv = TestServer::start().await;
    srv.issue_driving("sm2").await;
    let key = institution(&srv, RENTAL, "示例汽车租赁有限公司", "car_rental").await;
    let issuer_key = srv
        .key(elicense_core::sample::BEIJING_TRAFFIC_POLICE)
        .to_owned();

    let resp = srv
        .post("/api/v1/shares")
        .json(&rental_ask())
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "auth.missing").await;
    let (status, body) = ask(&srv, &issuer_key, rental_ask()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("auth.invalid_key"))
    );
    let resp = srv
        .post("/api/v1/shares")
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"matter": "car_rental", "holder_id": 5"#)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "request.malformed").await;
    for (body, status, code) in [
        (
            json!({"matter": "hotel_check_in", "holder_id": CITIZEN.1, "purpose": "p", "staff": "clerk"}),
            StatusCode::FORBIDDEN,
            "share.out_of_scope",
        ),
        (
            json!({"matter": "car_rental", "holder_id": "123", "purpose": "p", "staff": "clerk"}),
            StatusCode::BAD_REQUEST,
            "share.bad_holder_id",
        ),
        (
            json!({"matter": "car_rental", "holder_id": CITIZEN2.1, "purpose": "p", "staff": "clerk"}),
            StatusCode::NOT_FOUND,
            "share.no_license",
        ),
        (
            json!({"matter": "car_rental", "holder_id": CITIZEN.1, "purpose": "p", "staff": "clerk",
                   "keep_days": 400}),
            StatusCode::BAD_REQUEST,
            "share.bad_period",
        ),
    ] {
        let (got, err) = ask(&srv, &key, body).await;
        assert_eq!(
            (got, &err["error"]["code"]),
            (status, &json!(code)),
            "{err}"
        );
    }
    let (_, list) = read(
        srv.get("/api/v1/shares")
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list, json!([]));
    let resp = srv
        .get("/api/v1/shares/nope")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "share.not_found").await;
}

#[tokio::test]
async fn a_legal_basis_needs_the_name_and_a_wrong_one_looks_like_no_holder() {
    let srv = TestServer::start().await;
    issue_resident_id(&srv, CITIZEN).await;
    let hotel = institution(&srv, HOTEL, "上海样本大酒店", "hotel_check_in").await;

    // The ID number alone: name, sex and address are not handed out.
    let mut id_alone = hotel_ask(CITIZEN);
    id_alone.as_object_mut().unwrap().remove("holder_name");
    let (status, body) = ask(&srv, &hotel, id_alone).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("share.holder_name_required")
        ),
        "{body}"
    );
    assert!(body.get("copy").is_none());

    // A wrong name for a real holder, and a holder the node does not know: one answer.
    let wrong = ask(&srv, &hotel, hotel_ask(("李四", CITIZEN.1))).await;
    let unknown = ask(&srv, &hotel, hotel_ask(CITIZEN2)).await;
    assert_eq!(wrong.0, StatusCode::NOT_FOUND);
    assert_eq!(wrong.1["error"]["code"], "share.no_license");
    assert_eq!(wrong, unknown);

    let (status, granted) = ask(&srv, &hotel, hotel_ask(CITIZEN)).await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    assert_eq!(granted["copy"]["fields"]["holder_name"], CITIZEN.0);
}

#[tokio::test]
async fn an_institution_beyond_its_rate_gets_429_and_the_operator_an_alert() {
    let clock = Arc::new(ManualClock::new(T0));
    let srv = TestServer::start_configured(clock.clone(), |c| {
        c.share_limits.legal = Rate::new(2, 6, 60).unwrap(); // 2 at once, then one per 10 s
    })
    .await;
    issue_resident_id(&srv, CITIZEN).await;
    let hotel = institution(&srv, HOTEL, "上海样本大酒店", "hotel_check_in").await;
    for _ in 0..2 {
        let (status, body) = ask(&srv, &hotel, hotel_ask(CITIZEN)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let resp = srv
        .post("/api/v1/shares")
        .bearer_auth(&hotel)
        .json(&hotel_ask(CITIZEN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "10");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "share.throttled");

    // The operator sees it: a counter by kind, and the recent alert with the institution.
    let metrics = srv.text("/metrics").await;
    assert!(
        metrics.contains("elicense_share_alerts_total{kind=\"throttled\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "elicense_share_alert_last_seconds{{kind=\"throttled\",institution=\"{HOTEL}\"}} {T0}"
        )),
        "{metrics}"
    );

    // After the wait, the next one goes through.
    clock.advance(10);
    let (status, body) = ask(&srv, &hotel, hotel_ask(CITIZEN)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
