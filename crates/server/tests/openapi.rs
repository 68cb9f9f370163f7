//! `GET /api/openapi.json`: the OpenAPI document, generated from the route registrations,
//! names every route; its full text is pinned by an insta snapshot; an independent validator
//! (openapi-spec-validator, installed pinned by `scripts/deps.sh`) accepts it.

mod common;

use common::{read, TestServer};
use reqwest::StatusCode;

const ROUTES: [(&str, &str); 95] = [
    ("/healthz", "get"),
    ("/metrics", "get"),
    ("/.well-known/jwt-vc-issuer", "get"),
    ("/.well-known/jwt-vc-issuer/issuers/{uscc}", "get"),
    ("/.well-known/elicense-node", "get"),
    ("/.well-known/openid-credential-issuer", "get"),
    ("/.well-known/oauth-authorization-server", "get"),
    ("/oid4vci/token", "post"),
    ("/oid4vci/nonce", "post"),
    ("/oid4vci/credential", "post"),
    ("/status-lists", "get"),
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
    ("/log/tile/{path}", "get"),
    ("/api/v1/log/proof/inclusion", "get"),
    ("/api/v1/log/proof/consistency", "get"),
    ("/api/v1/licenses/{identifier}/openings", "get"),
    (
        "/api/v1/wallet/licenses/{identifier}/events/{seq}/opening",
        "get",
    ),
    ("/api/v1/wallet/licenses/{identifier}/binding", "post"),
    (
        "/api/v1/wallet/licenses/{identifier}/credential-offer",
        "post",
    ),
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
    ("/api/v1/forms/{matter}", "put"),
    ("/api/v1/forms/{matter}", "get"),
    ("/api/v1/shares/{id}/form", "get"),
    ("/api/v1/staff", "get"),
    ("/api/v1/staff/{username}", "put"),
    ("/api/v1/staff/{username}/disabling", "post"),
    ("/api/v1/staff/{username}/enabling", "post"),
    ("/api/v1/shares/{id}/face/{format}", "get"),
    ("/api/v1/operator/api-keys/{id}/revocation", "post"),
    ("/api/v1/operator/institutions/{code}/disabling", "post"),
    ("/api/v1/operator/institutions/{code}/enabling", "post"),
    ("/api/v1/operator/accounts", "post"),
    (
        "/api/v1/operator/accounts/{username}/password-reset",
        "post",
    ),
    ("/api/v1/operator/accounts/{username}/disabling", "post"),
    ("/api/v1/operator/accounts/{username}/enabling", "post"),
    ("/api/v1/operator/keys/{kid}/retirement", "post"),
    ("/api/v1/operator/keys/{kid}/revocation", "post"),
    ("/api/v1/operator/events", "get"),
    ("/api/v1/operator/federation/nodes", "get"),
    ("/api/v1/operator/federation/nodes", "post"),
    ("/federation/v1/sync", "get"),
    ("/federation/v1/sync", "post"),
    ("/federation/v1/holder-key", "get"),
    ("/federation/v1/directory/{identifier}", "get"),
    ("/federation/v1/holders", "post"),
    ("/federation/v1/wallet", "post"),
    ("/api/v1/operator/witness/forks", "get"),
    ("/witness/add-checkpoint", "post"),
    ("/.well-known/elicense-trust-list", "get"),
    ("/api/v1/operator/issuers/{code}/succession", "post"),
    ("/api/v1/operator/recognition", "get"),
    ("/api/v1/operator/recognition/{id}", "get"),
    ("/api/v1/operator/recognition/{id}", "put"),
    ("/api/v1/operator/recognition/{id}", "delete"),
    ("/api/v1/presentation-requests", "post"),
    ("/api/v1/presentation-requests", "get"),
    ("/api/v1/presentation-requests/{id}", "get"),
    ("/api/v1/one-code/scans", "post"),
    ("/api/v1/wallet/vp-foreign/prepare", "post"),
    ("/api/v1/wallet/vp-foreign/answer", "post"),
    ("/oid4vp/requests/{id}", "get"),
    ("/oid4vp/responses/{id}", "post"),
    ("/api/v1/wallet/vp/{id}/prepare", "post"),
    ("/api/v1/wallet/vp/{id}/answer", "post"),
    ("/api/v1/seals", "post"),
    ("/api/v1/seals", "get"),
    ("/api/v1/seals/{id}", "get"),
    ("/api/v1/seals/{id}/seal", "get"),
    ("/api/v1/seals/{id}/certificate", "get"),
    ("/api/v1/seals/{id}/suspension", "post"),
    ("/api/v1/seals/{id}/reinstatement", "post"),
    ("/api/v1/seals/{id}/revocation", "post"),
    ("/api/v1/seals/{id}/uses", "get"),
    ("/api/v1/seals/{id}/users", "put"),
    ("/api/v1/seals/{id}/documents", "post"),
    ("/api/v1/seal-verifications", "post"),
    ("/api/v1/seal-ca/{alg}/certificate", "get"),
    ("/api/v1/seal-ca/{alg}/crl", "get"),
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
    for (path, method) in ROUTES.iter().filter(|(p, _)| {
        p.starts_with("/api/v1/shares") || p.starts_with("/api/v1/presentation-requests")
    }) {
        assert!(
            paths[*path][*method]["security"][0]["institution_key"].is_array(),
            "{method} {path} has no institution key"
        );
    }
    assert!(doc["components"]["securitySchemes"]["institution_key"].is_object());
    // The operator routes take an operator key.
    for (path, method) in ROUTES
        .iter()
        .filter(|(p, _)| p.starts_with("/api/v1/operator/"))
    {
        assert!(
            paths[*path][*method]["security"][0]["operator_key"].is_array(),
            "{method} {path} has no operator key"
        );
    }
    assert!(doc["components"]["securitySchemes"]["operator_key"].is_object());
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
    let api = elicense_server::openapi_document();
    let s = TestServer::start().await;
    let (_, served) = read(s.get("/api/openapi.json").send().await.unwrap()).await;
    assert_eq!(serde_json::to_value(&api).unwrap(), served);
}

/// The pinned validator `scripts/deps.sh` installs into the git-ignored `.cache/`.
fn validator() -> std::path::PathBuf {
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/openapi/bin/openapi-spec-validator");
    assert!(
        exe.exists(),
        "{} is missing: run scripts/deps.sh",
        exe.display()
    );
    exe
}

#[tokio::test]
async fn an_independent_validator_accepts_the_served_document() {
    let s = TestServer::start().await;
    let resp = s.get("/api/openapi.json").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let out = std::process::Command::new(validator())
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the document is not valid: {said}");
    assert!(said.contains("OK"), "{said}");
}

#[tokio::test]
async fn every_path_is_a_template_with_its_parameters_and_closed_sets_are_enums() {
    let doc = serde_json::to_value(elicense_server::openapi_document()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(!path.contains("{*"), "router wildcard in {path}");
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .map(|rest| rest.split('}').next().unwrap())
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let mut a = names.clone();
            let mut b = declared.clone();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{method} {path}: template and path parameters differ");
            let id = op["operationId"].as_str().expect("operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }
    let schemas = &doc["components"]["schemas"];
    let statuses: Vec<&str> = elicense_core::lifecycle::Status::ALL
        .iter()
        .map(|s| s.code())
        .collect();
    for (schema, field) in [("StatusView", "code"), ("ActionOutcome", "status")] {
        let values: Vec<&str> = schemas[schema]["properties"][field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.{field} is not an enum"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(values, statuses, "{schema}.{field}");
    }
    for (schema, field) in [
        ("ActionRequest", "action"),
        ("ActionOutcome", "action"),
        ("ShareView", "state"),
        ("ShareView", "basis"),
    ] {
        assert!(
            schemas[schema]["properties"][field]["enum"].is_array(),
            "{schema}.{field} is not an enum"
        );
    }
    let actions = &schemas["ActionRequest"]["properties"]["action"]["enum"];
    assert!(actions.as_array().unwrap().contains(&"revoke".into()));
    assert!(!actions.as_array().unwrap().contains(&"expire".into()));
}
