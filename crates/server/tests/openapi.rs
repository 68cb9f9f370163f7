//! `GET /api/openapi.json`: the OpenAPI document, generated from the route registrations,
//! names every route; its full text is pinned by an insta snapshot.

mod common;

use common::{read, TestServer};
use reqwest::StatusCode;

const ROUTES: [(&str, &str); 30] = [
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/.well-known/jwt-vc-issuer", "get"),
    ("/.well-known/jwt-vc-issuer/issuers/{uscc}", "get"),
    ("/status-lists/{id}", "get"),
    ("/api/v1/catalogue", "get"),
    ("/api/v1/catalogue/{code}", "get"),
    ("/api/v1/issuers", "get"),
    ("/api/v1/licenses", "post"),
    ("/api/v1/licenses/{identifier}", "get"),
    ("/api/v1/licenses/{identifier}/verification", "get"),
    ("/api/v1/licenses/{identifier}/actions", "post"),
    ("/api/v1/verifications", "post"),
    ("/.well-known/elicense-log", "get"),
    ("/log/checkpoint", "get"),
    ("/log/tile/{*path}", "get"),
    ("/api/v1/log/proof/inclusion", "get"),
    ("/api/v1/log/proof/consistency", "get"),
    ("/api/v1/licenses/{identifier}/openings", "get"),
    (
        "/api/v1/wallet/licenses/{identifier}/events/{seq}/opening",
        "get",
    ),
    ("/api/v1/wallet/licenses/{identifier}/binding", "post"),
    (
        "/api/v1/wallet/licenses/{identifier}/presentations/prepare",
        "post",
    ),
    ("/api/v1/wallet/licenses/{identifier}/presentations", "post"),
    ("/api/v1/wallet/shares", "get"),
    ("/api/v1/wallet/shares/{id}/consent", "post"),
    ("/api/v1/wallet/shares/{id}/refusal", "post"),
    ("/api/v1/shares", "post"),
    ("/api/v1/shares", "get"),
    ("/api/v1/shares/{id}", "get"),
    ("/api/v1/shares/{id}/face/{format}", "get"),
];

#[tokio::test]
async fn openapi_document_names_every_route() {
    let s = TestServer::start().await;
    let (status, doc) = read(s.get("/api/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in ROUTES {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI paths"));
        assert!(item.get(method).is_some(), "{method} {path} missing");
    }
    let mut distinct: Vec<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    distinct.dedup();
    assert_eq!(
        paths.len(),
        distinct.len(),
        "unexpected paths: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // Every route that needs an API key says so.
    for (path, method) in [
        ("/api/v1/licenses", "post"),
        ("/api/v1/licenses/{identifier}", "get"),
        ("/api/v1/licenses/{identifier}/actions", "post"),
        ("/api/v1/licenses/{identifier}/openings", "get"),
    ] {
        assert!(
            paths[path][method]["security"].is_array(),
            "{method} {path} has no security"
        );
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    // The wallet's JSON endpoints take the wallet session cookie.
    for (path, method) in ROUTES
        .iter()
        .filter(|(p, _)| p.starts_with("/api/v1/wallet/"))
    {
        assert!(
            paths[*path][*method]["security"][0]["wallet_session"].is_array(),
            "{method} {path} has no wallet session"
        );
    }
    // The institution routes take an institution key; verification takes one optionally.
    for (path, method) in ROUTES
        .iter()
        .filter(|(p, _)| p.starts_with("/api/v1/shares"))
    {
        assert!(
            paths[*path][*method]["security"][0]["institution_key"].is_array(),
            "{method} {path} has no institution key"
        );
    }
    assert!(doc["components"]["securitySchemes"]["institution_key"].is_object());
    let optional: Vec<&serde_json::Value> = paths["/api/v1/verifications"]["post"]["security"]
        .as_array()
        .expect("verification security")
        .iter()
        .collect();
    assert!(optional.iter().any(|s| s.as_object().unwrap().is_empty()));
    assert!(optional.iter().any(|s| s["institution_key"].is_array()));
    assert_eq!(
        doc["components"]["securitySchemes"]["wallet_session"]["in"],
        "cookie"
    );
    // Every schema a response refers to is defined.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "schema {name} is referenced but not defined"
        );
    }
    // The crate version changes with every release; the snapshot pins the rest.
    let mut doc = doc;
    doc["info"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn openapi_document_matches_the_router_without_a_server() {
    // The document served equals the one built from the route registrations.
    let (_, api) = elicense_server::routes::api_router().split_for_parts();
    let s = TestServer::start().await;
    let (_, served) = read(s.get("/api/openapi.json").send().await.unwrap()).await;
    assert_eq!(serde_json::to_value(&api).unwrap(), served);
}
