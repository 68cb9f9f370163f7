//! The accept loop's limits over real TCP: a header-read timeout, a connection cap, bounded
//! metrics labels, `/metrics` on a listener of its own, graceful shutdown with idle
//! keep-alive connections.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect_error, TestServer};
use elicense_app::SystemClock;
use elicense_server::{Limits, ServeOptions};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest a test waits for something that must happen (a guard against hanging, not a
/// measured time).
const GUARD: Duration = Duration::from_secs(60);

async fn start(limits: Limits) -> TestServer {
    TestServer::start_with(
        Arc::new(SystemClock),
        ServeOptions {
            limits,
            metrics: None,
        },
    )
    .await
}

/// Reads until the peer closes; what it sent meanwhile.
async fn read_to_close(conn: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends one keep-alive request on `conn` and reads its whole response head and body
/// (`Content-Length` bodies only).
async fn request(conn: &mut TcpStream, path: &str) -> String {
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn a_client_that_stalls_in_its_request_line_is_disconnected() {
    let s = start(Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(b"GET /healthz HT").await.unwrap();
    let got = tokio::time::timeout(GUARD, read_to_close(&mut conn))
        .await
        .expect("the server never closed the stalled connection");
    assert!(
        !String::from_utf8_lossy(&got).contains("200 OK"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    // The node still serves others.
    let resp = s.get("/healthz").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_busy_until_one_closes() {
    let s = start(Limits {
        header_read_timeout: Duration::from_secs(120),
        max_connections: 2,
    })
    .await;
    // Two keep-alive connections hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        let resp = request(&mut c, "/healthz").await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        held.push(c);
    }
    // A third is told to come back later, with a stable code.
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let refused = tokio::time::timeout(GUARD, read_to_close(&mut third))
        .await
        .expect("refusal");
    let refused = String::from_utf8_lossy(&refused).to_string();
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    assert!(refused.contains(r#""code":"server.busy""#), "{refused}");
    // The held ones still work.
    let again = request(&mut held[0], "/healthz").await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");

    // Once one closes, a new connection is served.
    drop(held.pop());
    let served = tokio::time::timeout(GUARD, async {
        loop {
            let mut c = TcpStream::connect(s.addr).await.unwrap();
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let got = String::from_utf8_lossy(&read_to_close(&mut c).await).to_string();
            if got.starts_with("HTTP/1.1 200") {
                return got;
            }
            assert!(got.starts_with("HTTP/1.1 503"), "{got}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a place frees up when a connection closes");
    assert!(served.contains(r#""status":"ok""#), "{served}");
}

/// The `method` labels of the request counter in a Prometheus text page.
fn method_labels(metrics: &str) -> std::collections::BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| l.starts_with("elicense_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn odd_request_methods_add_at_most_one_other_series() {
    let s = TestServer::start().await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("ODD{i}X").as_bytes()).unwrap();
        let resp = s
            .client
            .request(method, s.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    s.get("/healthz").send().await.unwrap();
    let metrics = s.text("/metrics").await;
    let labels = method_labels(&metrics);
    let allowed = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
    ];
    assert!(labels.contains("other"), "{labels:?}\n{metrics}");
    assert!(
        labels.iter().all(|l| allowed.contains(&l.as_str())),
        "unexpected method labels {labels:?}"
    );
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let s = TestServer::start_with(
        Arc::new(SystemClock),
        ServeOptions {
            limits: Limits::default(),
            metrics: Some(metrics),
        },
    )
    .await;
    assert_ne!(metrics_addr.port(), s.addr.port());
    // The public listener serves the node but not the metrics.
    assert_eq!(
        s.get("/healthz").send().await.unwrap().status(),
        StatusCode::OK
    );
    expect_error(
        s.get("/metrics").send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "route.not_found",
    )
    .await;
    // The metrics listener serves them, and nothing else.
    let resp = s
        .client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(text.contains("elicense_http_requests_total"), "{text}");
    expect_error(
        s.client
            .get(format!("http://{metrics_addr}/healthz"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "route.not_found",
    )
    .await;
    // Shutdown closes both.
    s.stop().await.expect("serve returns after shutdown");
    assert!(TcpStream::connect(metrics_addr).await.is_err());
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_and_returns() {
    let s = start(Limits {
        header_read_timeout: Duration::from_secs(120),
        ..Limits::default()
    })
    .await;
    let mut idle = TcpStream::connect(s.addr).await.unwrap();
    let resp = request(&mut idle, "/healthz").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let addr = s.addr;
    tokio::time::timeout(GUARD, s.stop())
        .await
        .expect("serve returned with an idle connection open")
        .expect("serve returns Ok");
    assert!(TcpStream::connect(addr).await.is_err());
    let rest = tokio::time::timeout(GUARD, read_to_close(&mut idle))
        .await
        .expect("the idle connection was closed");
    assert!(rest.is_empty());
}
