//! Damaged storage under a running node: the API answers with a stable code, never a panic,
//! a silent `null`, or the store's own error text.

mod common;

use common::{expect_error, read, TestServer};
use reqwest::StatusCode;

/// Changes the node's SQLite file behind its back, as an operator's tool or a disk fault would.
fn tamper(srv: &TestServer, sql: &str) {
    let db = rusqlite::Connection::open(srv.db_path()).expect("open the node's database");
    db.execute_batch(sql).expect("tamper");
}

#[tokio::test]
async fn corrupt_stored_metadata_is_store_corrupt_not_null() {
    let s = TestServer::start().await;
    let issued = s.issue_driving("ed25519").await;
    let id = issued["identifier"].as_str().unwrap();
    let key = s
        .key(elicense_core::sample::BEIJING_TRAFFIC_POLICE)
        .to_owned();
    let (status, view) = read(
        s.get(&format!("/api/v1/licenses/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(view["meta"].is_object(), "{view}");

    tamper(
        &s,
        &format!("UPDATE licenses SET meta = '{{\"name\": ' WHERE identifier = '{id}'"),
    );
    let body = expect_error(
        s.get(&format!("/api/v1/licenses/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "store.corrupt",
    )
    .await;
    assert!(body.get("meta").is_none(), "{body}");
}

#[tokio::test]
async fn corrupt_event_detail_and_unknown_status_are_store_corrupt() {
    let s = TestServer::start().await;
    let key = s
        .key(elicense_core::sample::BEIJING_TRAFFIC_POLICE)
        .to_owned();
    let a = s.issue_driving("ed25519").await;
    let a = a["identifier"].as_str().unwrap().to_owned();
    let req = s.driving_request(common::CITIZEN2, "ed25519").await;
    let b = s.issue(&req).await;
    let b = b["identifier"].as_str().unwrap().to_owned();

    tamper(
        &s,
        &format!(
            "UPDATE events SET detail = 'not json' WHERE identifier = '{a}'; \
             UPDATE licenses SET status = 'sleeping' WHERE identifier = '{b}'"
        ),
    );
    for id in [&a, &b] {
        expect_error(
            s.get(&format!("/api/v1/licenses/{id}"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "store.corrupt",
        )
        .await;
    }
}

#[tokio::test]
async fn healthz_names_a_store_failure_by_code_without_its_text() {
    let s = TestServer::start().await;
    let (status, body) = read(s.get("/healthz").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The table the health check reads disappears under the running node.
    tamper(&s, "ALTER TABLE events RENAME TO events_gone");
    let resp = s.get("/healthz").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = resp.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["status"], "unavailable", "{text}");
    assert_eq!(body["error"]["code"], "store.unavailable", "{text}");
    for leak in [
        "no such table",
        "events",
        "SELECT",
        "sqlite",
        "storage unavailable",
    ] {
        assert!(
            !text.to_lowercase().contains(&leak.to_lowercase()),
            "the health body leaks {leak:?}: {text}"
        );
    }
}
