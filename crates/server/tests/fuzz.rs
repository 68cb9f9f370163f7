//! A bounded property-based fuzz run of the node's own OpenAPI document (schemathesis,
//! installed pinned by `scripts/deps.sh`) against a real node on 127.0.0.1, with an issuer
//! key, an institution key, an operator key, a wallet session and an OpenID4VCI access token,
//! so that every operation is reached past its authentication: no request may get a 5xx
//! answer.
//!
//! Bounded: a fixed seed, a few examples per operation, one worker (a few hundred requests).
//! `scripts/fuzz-api.sh` runs the same check with larger numbers against a node of your own.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use elicense_app::institutions::{self, NewInstitution};

/// A hotel: its matter (旅馆住宿登记) has a legal basis.
const HOTEL: &str = "91310101MA1FPX0Q1Y";

fn schemathesis() -> PathBuf {
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/openapi/bin/schemathesis");
    assert!(
        exe.exists(),
        "{} is missing: run scripts/deps.sh",
        exe.display()
    );
    exe
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_fuzzer_finds_no_server_error() {
    let s = TestServer::start().await;
    with_accounts(&s).await;
    let driving = s.issue_driving("es256").await;
    let issuer_key = s
        .key(elicense_core::sample::BEIJING_TRAFFIC_POLICE)
        .to_owned();
    institutions::register(
        &s.node,
        NewInstitution {
            code: HOTEL.into(),
            name: "示例酒店".into(),
            area: "310101".into(),
            matters: vec!["hotel_check_in".into()],
        },
    )
    .await
    .unwrap();
    let institution_key = institutions::create_key(&s.node, HOTEL, "fuzz")
        .await
        .unwrap()
        .0;
    let operator_key = elicense_app::operator::create_key(&s.node, "fuzz")
        .await
        .unwrap()
        .0;
    let cookie = sign_in(&s, "zhangwei").await;
    // An OpenID4VCI access token (the credential endpoint takes nothing else): the holder's
    // offer of the driving license, redeemed at the token endpoint.
    let access_token = {
        use elicense_app::wallet::{vci, ClientAddr, IdentityProvider, LocalAccounts};
        let zhang = LocalAccounts::new(&s.node)
            .sign_in("zhangwei", "zhangwei-password", ClientAddr::unknown())
            .await
            .unwrap()
            .expect("signed in");
        let id = driving["identifier"].as_str().unwrap().parse().unwrap();
        let offer = vci::create_offer(&s.node, &zhang, &id).await.unwrap();
        let query = offer.offer_uri.split_once('?').unwrap().1;
        let (_, json) = url::form_urlencoded::parse(query.as_bytes())
            .next()
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let code = json["grants"][vci::PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
        let req = vci::TokenRequest {
            grant_type: Some(vci::PRE_AUTHORIZED_GRANT.into()),
            pre_authorized_code: Some(code),
            tx_code: Some(offer.tx_code),
        };
        vci::token(&s.node, &req).await.unwrap().access_token
    };
    let session = cookie.split_once('=').expect("name=value").1.to_owned();
    let token = csrf(&s, &cookie).await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "[auth.openapi.api_key]\nbearer = \"{issuer_key}\"\n\n\
             [auth.openapi.institution_key]\nbearer = \"{institution_key}\"\n\n\
             [auth.openapi.operator_key]\nbearer = \"{operator_key}\"\n\n\
             [auth.openapi.oid4vci_token]\nbearer = \"{access_token}\"\n\n\
             [auth.openapi.wallet_session]\napi_key = \"{session}\"\n\n\
             [auth.openapi.wallet_csrf]\napi_key = \"{token}\"\n"
        ),
    )
    .unwrap();
    let examples = std::env::var("ELICENSE_FUZZ_EXAMPLES").unwrap_or_else(|_| "8".into());
    let seed = std::env::var("ELICENSE_FUZZ_SEED").unwrap_or_else(|_| "16".into());
    let schema = s.url("/api/openapi.json");
    let base = s.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(schemathesis())
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["--config-file", config.to_str().unwrap(), "run", &schema])
            .args(["--url", &base])
            // What a browser on the node's own pages sends with a cookie request.
            .args(["--header", &format!("Origin: {base}")])
            .args(["--checks", "not_a_server_error,ignored_auth"])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args([
                "--max-examples",
                &examples,
                "--seed",
                &seed,
                "--workers",
                "1",
            ])
            .args(["--request-timeout", "60", "--suppress-health-check", "all"])
            .args(["--warnings", "off"])
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{said}");
    assert!(out.status.success(), "the fuzzer found problems:\n{said}");
    // Every operation of the document was exercised.
    let doc: serde_json::Value = serde_json::to_value(elicense_server::openapi_document()).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(
        said.contains(&format!("Tested: {operations}\n")),
        "not every one of the {operations} operations ran:\n{said}"
    );
    // And each got past its authentication at least once: the node's own request metrics
    // show an answer other than 401 for every (method, route) of the document.
    let metrics = s.text("/metrics").await;
    let answered: std::collections::BTreeSet<(String, String)> = metrics
        .lines()
        .filter(|l| l.starts_with("elicense_http_requests_total{"))
        .filter(|l| !l.contains("status=\"401\""))
        .filter_map(|l| {
            let label = |name: &str| {
                l.split(&format!("{name}=\""))
                    .nth(1)?
                    .split('"')
                    .next()
                    .map(str::to_owned)
            };
            Some((
                label("method")?.to_lowercase(),
                label("route")?.replace("{*", "{"),
            ))
        })
        .collect();
    // Node-to-node routes take only a request signed with the key of a node this node
    // admitted or of its trust list (RFC 9421), which the fuzzer cannot make: for them a
    // refusal is the answer.
    const NODE_SIGNED: [(&str, &str); 5] = [
        ("get", "/federation/v1/sync"),
        ("post", "/federation/v1/sync"),
        ("get", "/federation/v1/holder-key"),
        ("post", "/federation/v1/holders"),
        ("post", "/federation/v1/wallet"),
    ];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if NODE_SIGNED.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            assert!(
                answered.contains(&(method.clone(), path.clone())),
                "{method} {path} never got past authentication:\n{said}"
            );
        }
    }
}
