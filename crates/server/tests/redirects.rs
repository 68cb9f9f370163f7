//! Redirect targets taken from a request stay on this node (`pages::redirect::local_path`).

mod common;

use common::{no_redirect, TestServer};

#[tokio::test]
async fn prefs_back_never_leaves_the_node() {
    let srv = TestServer::start().await;
    // Query-encoded: the server decodes `%09` to a tab, `%0A` to a newline, and so on.
    let cases = [
        ("/%09/evil.example", "/"),
        ("/%0A/evil.example", "/"),
        ("/%0D/evil.example", "/"),
        ("/%0D%0A/evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("//evil.example/", "/"),
        ("/%20/evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/verify", "/verify"),
        ("/wallet%3Flang%3Den", "/wallet?lang=en"),
        // `%2509` decodes once, to the literal text `%09`: a harmless path segment.
        ("/%2509/evil.example", "/%09/evil.example"),
    ];
    for (back, expected) in cases {
        let resp = no_redirect()
            .get(srv.url(&format!("/prefs?lang=en&back={back}")))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_redirection(), "{back}: {}", resp.status());
        assert_eq!(
            resp.headers()["location"],
            expected,
            "back={back} must redirect to {expected}"
        );
    }
}
