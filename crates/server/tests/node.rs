//! The server as a process part: graceful shutdown and the expiry sweeper.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{problem_codes, read, TestServer};
use elicense_app::ManualClock;
use reqwest::StatusCode;

#[tokio::test]
async fn serve_returns_after_shutdown() {
    let s = TestServer::start().await;
    let resp = s.get("/healthz").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let addr = s.addr;
    s.stop().await.expect("serve returns Ok after shutdown");
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn the_sweeper_expires_licenses_whose_validity_ended() {
    let start = 1_750_000_000; // 2025-06-15
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(clock.clone()).await;
    let issued = s.issue_driving("SM2").await;
    let id = issued["identifier"].as_str().unwrap();
    let credential = issued["credential"].as_str().unwrap();
    assert_eq!(s.verify(credential).await["valid"], true);

    // A driving license is valid for 6 years.
    clock.advance(7 * 366 * 86_400);
    let mut status = None;
    for _ in 0..50 {
        let (code, v) = read(
            s.get(&format!("/api/v1/licenses/{id}/verification"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        status = Some(v["status"]["code"].clone());
        if v["status"]["code"] == "expired" {
            assert_eq!(v["status"]["label"], "过期", "{v}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status.unwrap(),
        "expired",
        "the sweeper did not expire the license"
    );
    let v = s.verify(credential).await;
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        problem_codes(&v).contains(&"license.expired".to_string()),
        "{v}"
    );
}
