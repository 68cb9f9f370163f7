//! OpenID4VP 1.0 at the counter against a wallet no one here wrote: `tests/oid4vc/vp_wallet.mjs`
//! runs the OpenWallet Foundation's `@openid4vc/openid4vp` (request object, client identifier
//! prefix `x509_hash`, the response and its JWE), `dcql` (the query) and `@sd-jwt/sd-jwt-vc`
//! (the presentation and its KB-JWT) on node, with `jose`; exact versions from
//! `tests/oid4vc/package-lock.json`, installed by `scripts/deps.sh` into `.cache/oid4vc/`.
//!
//! A real node on 127.0.0.1: the bank starts a request over the API, the outside wallet scans
//! its `openid4vp://` link, fetches and checks the signed request object, answers in both
//! response modes; the bank polls the result, reads its form filled from the annotated copy,
//! and receives the signed result on its webhook (retried after a failure). Every wrong
//! answer the wallet can make is refused with its stable code: extra or missing claims,
//! another nonce, audience or key, no key binding, another state, a replay, and an answer
//! posted to another request.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use elicense_core::sample::BEIJING_SAMR;
use reqwest::StatusCode;
use serde_json::{json, Value};

const BANK: &str = "91110105MA01B2C3DL";
const MATTER: &str = "bank_account_opening";
const COMPANY: (&str, &str) = ("北京示例科技有限公司", "91330000755918469E");

/// The outside wallet's run: its JSON report and exit code.
async fn wallet(args: &[&str]) -> (Value, i32) {
    let (report, code, stderr) = oid4vc_script("vp_wallet.mjs", args).await;
    // Every case here reaches the node: a wallet that could not run (2) is a broken test.
    assert!(matches!(code, Some(0 | 1)), "{report}\n{stderr}");
    (report, code.unwrap_or(-1))
}

/// The holder (the company, represented by 张伟), its ES256 business license bound to the
/// outside wallet's key, and the bank with its clerk and its form.
struct Counter {
    srv: TestServer,
    bank_key: String,
    dir: tempfile::TempDir,
    credential: PathBuf,
    holder_key: PathBuf,
}

/// 张伟 signed in (an account), the ES256 business license of [`COMPANY`] naming him its legal
/// representative, and a device key of his bound to it: the identity, the license, the device
/// and the key's thumbprint.
async fn represented_license(
    srv: &TestServer,
) -> (
    elicense_app::wallet::Identity,
    elicense_core::Identifier,
    Device,
    String,
) {
    let zhang = account(srv, "zhangwei", CITIZEN).await;
    let mut req = srv
        .issue_request(
            elicense_core::sample::BUSINESS_LICENSE,
            BEIJING_SAMR,
            COMPANY,
            "es256",
        )
        .await;
    req["fields"]["legal_representative_id"] = json!(CITIZEN.1);
    req["fields"]["legal_representative"] = json!(CITIZEN.0);
    let identifier: elicense_core::Identifier = srv.issue(&req).await["identifier"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let zhang = now_as(srv, &zhang).await;
    let device = Device::new();
    let jkt = elicense_app::wallet::present::bind(
        &srv.node,
        &zhang,
        &identifier,
        &device.jwk().to_string(),
    )
    .await
    .unwrap();
    (zhang, identifier, device, jkt)
}

async fn counter() -> Counter {
    let srv = TestServer::start().await;
    let (_, identifier, device, jkt) = represented_license(&srv).await;
    let identifier = identifier.as_str().to_owned();
    let credential = srv
        .node
        .store
        .binding(&identifier, &jkt)
        .await
        .unwrap()
        .unwrap()
        .credential;
    let dir = tempfile::tempdir().unwrap();
    let (cred_path, key_path) = (dir.path().join("credential"), dir.path().join("key.jwk"));
    std::fs::write(&cred_path, credential).unwrap();
    std::fs::write(&key_path, device.private_jwk().to_string()).unwrap();
    let bank_key = institution(&srv, BANK, "示例商业银行北京分行", MATTER).await;
    let (status, body) = read(
        srv.put(&format!("/api/v1/forms/{MATTER}"))
            .bearer_auth(&bank_key)
            .json(&json!({"fields": [
                {"name": "company", "label": "单位名称", "claim": "name"},
                {"name": "credit_code", "label": "统一社会信用代码", "claim": "uscc"}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Counter {
        srv,
        bank_key,
        credential: cred_path,
        holder_key: key_path,
        dir,
    }
}

impl Counter {
    async fn start(&self, mode: &str, webhook: Option<&str>) -> Value {
        let (status, body) = read(
            self.srv
                .post("/api/v1/presentation-requests")
                .bearer_auth(&self.bank_key)
                .json(
                    &json!({"matter": MATTER, "staff": CLERK, "purpose": "企业开户",
                    "response_mode": mode, "webhook": webhook}),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn poll(&self, id: &str) -> Value {
        let (status, body) = read(
            self.srv
                .get(&format!("/api/v1/presentation-requests/{id}"))
                .bearer_auth(&self.bank_key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The outside wallet answers `request` in `mode`, trusting the node's client id.
    async fn answer(&self, request: &Value, mode: &str, extra: &[&str]) -> (Value, i32) {
        let hash = request["client_id"]
            .as_str()
            .unwrap()
            .strip_prefix("x509_hash:")
            .unwrap()
            .to_owned();
        // One argument: a base64url hash may begin with '-', which would read as an option.
        let trust = format!("--trust-x509-hash={hash}");
        let mut args = vec![
            "--url",
            request["qr"].as_str().unwrap(),
            "--credential",
            self.credential.to_str().unwrap(),
            "--holder-key",
            self.holder_key.to_str().unwrap(),
            "--mode",
            mode,
            &trust,
        ];
        args.extend_from_slice(extra);
        wallet(&args).await
    }
}

#[tokio::test]
async fn an_outside_wallet_answers_the_counter_in_both_response_modes() {
    let c = counter().await;
    for mode in ["direct_post.jwt", "direct_post"] {
        let request = c.start(mode, None).await;
        assert_eq!(request["state"], "pending");
        let (report, code) = c.answer(&request, "ok", &[]).await;
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["client_id_prefix"], "x509_hash");
        assert_eq!(report["response_mode"], mode);
        // The query the `dcql` package parsed and matched against the credential.
        assert_eq!(report["dcql"]["can_be_satisfied"], true, "{report}");
        let asked: Vec<&str> = report["dcql"]["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap())
            .collect();
        assert_eq!(
            asked,
            [
                "name",
                "uscc",
                "entity_type",
                "legal_representative",
                "address"
            ]
        );
        assert_eq!(report["status"], 200);
        assert_eq!(report["body"]["outcome"], "granted");

        let done = c.poll(request["id"].as_str().unwrap()).await;
        assert_eq!(done["state"], "granted", "{done}");
        assert!(done["fetched_at"].is_i64());
        let share = &done["share"];
        assert_eq!(share["staff"], "柜员 李明（clerk）");
        assert_eq!(share["copy"]["fields"]["uscc"], COMPANY.1);
        // 免填报: the bank's form, filled from the copy the answer made.
        let (status, form) = read(
            c.srv
                .get(&format!(
                    "/api/v1/shares/{}/form",
                    share["id"].as_str().unwrap()
                ))
                .bearer_auth(&c.bank_key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{form}");
        let company = &form["fields"][0];
        assert_eq!(company["value"], COMPANY.0, "{form}");
        assert_eq!(company["verified"], true, "{form}");
    }
}

/// A joint matter (the sample's `enterprise_loan`: the business license and the legal
/// representative's resident ID card): the outside wallet holds both, bound to one key, and
/// answers both credential queries in one response; the bank reads one form filled from both.
#[tokio::test]
async fn an_outside_wallet_answers_a_joint_matter_with_two_licenses() {
    const JOINT: &str = "enterprise_loan";
    use elicense_core::sample::{BEIJING_DONGCHENG_POLICE, BUSINESS_LICENSE, RESIDENT_ID_CARD};
    let srv = TestServer::start().await;
    let (zhang, company, device, jkt) = represented_license(&srv).await;
    let req = srv
        .issue_request(RESIDENT_ID_CARD, BEIJING_DONGCHENG_POLICE, CITIZEN, "es256")
        .await;
    let id_card: elicense_core::Identifier = srv.issue(&req).await["identifier"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let zhang = now_as(&srv, &zhang).await;
    let same =
        elicense_app::wallet::present::bind(&srv.node, &zhang, &id_card, &device.jwk().to_string())
            .await
            .unwrap();
    assert_eq!(same, jkt, "one device key");
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, identifier) in [("company", &company), ("person", &id_card)] {
        let credential = srv
            .node
            .store
            .binding(identifier.as_str(), &jkt)
            .await
            .unwrap()
            .unwrap()
            .credential;
        let path = dir.path().join(name);
        std::fs::write(&path, credential).unwrap();
        files.push(path);
    }
    let key_path = dir.path().join("key.jwk");
    std::fs::write(&key_path, device.private_jwk().to_string()).unwrap();
    let bank_key = institution(&srv, BANK, "示例商业银行北京分行", JOINT).await;
    // The form: `address` is on both licenses, so each address field names its type; a form
    // that leaves it open is refused.
    let put_form = |fields: Value| {
        srv.put(&format!("/api/v1/forms/{JOINT}"))
            .bearer_auth(&bank_key)
            .json(&json!({ "fields": fields }))
            .send()
    };
    let (status, body) = read(
        put_form(json!([{"name": "addr", "label": "地址", "claim": "address"}]))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "form.ambiguous_claim");
    let (status, body) = read(
        put_form(json!([
            {"name": "company", "label": "借款企业", "claim": "name"},
            {"name": "company_address", "label": "企业地址", "claim": "address",
             "license_type": BUSINESS_LICENSE},
            {"name": "applicant", "label": "申请人", "claim": "holder_name"},
            {"name": "applicant_address", "label": "申请人住址", "claim": "address",
             "license_type": RESIDENT_ID_CARD}]))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, request) = read(
        srv.post("/api/v1/presentation-requests")
            .bearer_auth(&bank_key)
            .json(&json!({"matter": JOINT, "staff": CLERK, "purpose": "流动资金贷款"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let trust = format!(
        "--trust-x509-hash={}",
        request["client_id"]
            .as_str()
            .unwrap()
            .strip_prefix("x509_hash:")
            .unwrap()
    );
    let url = request["qr"].as_str().unwrap();
    let (company_file, person_file) = (files[0].to_str().unwrap(), files[1].to_str().unwrap());
    let key_file = key_path.to_str().unwrap();
    // Holding only one of the two, the wallet cannot satisfy the query (the `dcql` package
    // says so) and the node refuses what it sends.
    let (report, code) = wallet(&[
        "--url",
        url,
        "--credential",
        company_file,
        "--holder-key",
        key_file,
        &trust,
    ])
    .await;
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["dcql"]["can_be_satisfied"], false, "{report}");
    assert_eq!(report["body"]["error"]["code"], "vp.wrong_type", "{report}");
    // Holding both, it answers both queries at once.
    let (report, code) = wallet(&[
        "--url",
        url,
        "--credential",
        company_file,
        "--credential",
        person_file,
        "--holder-key",
        key_file,
        &trust,
    ])
    .await;
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["dcql"]["can_be_satisfied"], true, "{report}");
    assert_eq!(
        report["dcql"]["queries"],
        json!([BUSINESS_LICENSE, RESIDENT_ID_CARD])
    );
    assert_eq!(report["body"]["outcome"], "granted");

    let (status, done) = read(
        srv.get(&format!(
            "/api/v1/presentation-requests/{}",
            request["id"].as_str().unwrap()
        ))
        .bearer_auth(&bank_key)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "granted", "{done}");
    assert_eq!(done["shares"].as_array().unwrap().len(), 2, "{done}");
    let field = |name: &str| {
        done["form"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(field("company")["value"], COMPANY.0, "{done}");
    assert_eq!(field("applicant")["value"], CITIZEN.0, "{done}");
    assert_eq!(field("company_address")["source"]["type_name"], "营业执照");
    assert_eq!(
        field("applicant_address")["source"]["type_name"],
        "居民身份证"
    );
    assert_ne!(
        field("company_address")["value"],
        field("applicant_address")["value"]
    );
    for name in [
        "company",
        "company_address",
        "applicant",
        "applicant_address",
    ] {
        assert_eq!(field(name)["verified"], true, "{name}: {done}");
    }
}

#[tokio::test]
async fn wrong_answers_from_the_outside_wallet_are_refused_with_their_codes() {
    let c = counter().await;
    for mode in ["direct_post.jwt", "direct_post"] {
        for (how, status, code) in [
            ("extra", 400, "vp.extra_disclosure"),
            ("missing", 400, "vp.missing_claim"),
            ("wrong-nonce", 400, "vp.nonce_mismatch"),
            ("wrong-aud", 400, "vp.audience_mismatch"),
            ("no-kb", 400, "vp.presentation_invalid"),
            ("other-key", 400, "vp.presentation_invalid"),
            ("wrong-state", 400, "vp.state_mismatch"),
        ] {
            let request = c.start(mode, None).await;
            let (report, exit) = c.answer(&request, how, &[]).await;
            assert_eq!(exit, 1, "{how} {mode}: {report}");
            assert_eq!(report["status"], status, "{how} {mode}: {report}");
            assert_eq!(
                report["body"]["error"]["code"], code,
                "{how} {mode}: {report}"
            );
            // The request stays open for the real holder.
            assert_eq!(
                c.poll(request["id"].as_str().unwrap()).await["state"],
                "pending"
            );
        }
        // The holder refuses.
        let request = c.start(mode, None).await;
        let (report, exit) = c.answer(&request, "refuse", &[]).await;
        assert_eq!(exit, 0, "{report}");
        assert_eq!(report["body"]["outcome"], "refused");
        let seen = c.poll(request["id"].as_str().unwrap()).await;
        assert_eq!(seen["state"], "refused");
        assert!(seen["share"].is_null());

        // A replayed answer, and an answer posted to another request.
        let request = c.start(mode, None).await;
        let saved = c.dir.path().join(format!("answer-{mode}"));
        let saved = saved.to_str().unwrap();
        let (report, exit) = c.answer(&request, "ok", &["--save", saved]).await;
        assert_eq!(exit, 0, "{report}");
        // (The request object is answered already, so the wallet posts without fetching it.)
        let own_uri = c.srv.url(&format!(
            "/oid4vp/responses/{}",
            request["id"].as_str().unwrap()
        ));
        let (report, exit) = c
            .answer(&request, "ok", &["--form", saved, "--submit-to", &own_uri])
            .await;
        assert_eq!(exit, 1, "{report}");
        assert_eq!(report["status"], 409, "{report}");
        assert_eq!(report["body"]["error"]["code"], "vp.answered");
        let other = c.start(mode, None).await;
        let other_uri = c.srv.url(&format!(
            "/oid4vp/responses/{}",
            other["id"].as_str().unwrap()
        ));
        let (report, exit) = c
            .answer(&other, "ok", &["--form", saved, "--submit-to", &other_uri])
            .await;
        assert_eq!(exit, 1, "{report}");
        let refused = report["body"]["error"]["code"].as_str().unwrap().to_owned();
        // Plain: it carries the first request's state; encrypted: it does not even decrypt
        // with the other request's key.
        let expected = if mode == "direct_post" {
            "vp.state_mismatch"
        } else {
            "vp.bad_response"
        };
        assert_eq!(refused, expected, "{report}");
        assert_eq!(
            c.poll(other["id"].as_str().unwrap()).await["state"],
            "pending"
        );
    }
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first POST, 200 after; keeps bodies.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                let mut v = seen.lock().unwrap();
                v.push(body);
                if v.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn the_bank_backend_gets_the_signed_result_on_its_webhook_retried_after_a_failure() {
    let c = counter().await;
    let (hook, got) = webhook_receiver().await;
    let request = c.start("direct_post.jwt", Some(&hook)).await;
    let (report, exit) = c.answer(&request, "ok", &[]).await;
    assert_eq!(exit, 0, "{report}");
    // The first delivery fails (500); the second, 5 s later, is taken.
    eventually("two webhook deliveries", Duration::from_secs(30), || {
        let n = got.lock().unwrap().len();
        async move { (n >= 2).then_some(()) }
    })
    .await;
    let body = got.lock().unwrap()[1].clone();
    // A JWS by the verifier's certificate key: the same certificate as the request's client id.
    let parts: Vec<&str> = body.split('.').collect();
    assert_eq!(parts.len(), 3, "{body}");
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    };
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    let payload: Value = serde_json::from_slice(&b64(parts[1])).unwrap();
    assert_eq!(header["typ"], "elicense-vp-result+jwt");
    let cert = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(header["x5c"][0].as_str().unwrap())
            .unwrap()
    };
    assert_eq!(
        format!("x509_hash:{}", elicense_crypto::x509::hash(&cert)),
        request["client_id"]
    );
    let key = elicense_crypto::x509::leaf_key(&cert).unwrap();
    let parsed = elicense_crypto::jws::parse(&body).unwrap();
    parsed
        .verify_with(key.verifier(None).unwrap().as_ref())
        .unwrap();
    assert_eq!(payload["request"], request["id"]);
    assert_eq!(payload["state"], "granted");
    assert_eq!(payload["aud"], BANK);
    let done = c.poll(request["id"].as_str().unwrap()).await;
    assert_eq!(payload["share"], done["share"]["id"]);
    // Delivered: no third attempt.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(got.lock().unwrap().len(), 2);
}

/// An outside verifier (`tests/oid4vc/vp_verifier.mjs`: the same libraries as a relying party)
/// on a port of 127.0.0.1 that the node lists (`wallet_verifiers`): its first line, and what
/// to wait on for its verdict.
struct Verifier {
    child: tokio::process::Child,
    rest: tokio::task::JoinHandle<Vec<String>>,
}

async fn outside_verifier(port: u16, issuer: &str, mode: &str) -> (Value, Verifier) {
    use tokio::io::AsyncBufReadExt;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = tokio::process::Command::new("node")
        .arg(root.join("tests/oid4vc/vp_verifier.mjs"))
        .args([
            "--trust",
            issuer,
            "--mode",
            mode,
            "--vct",
            &format!(
                "urn:elicense:type:{}",
                elicense_core::sample::BUSINESS_LICENSE
            ),
            "--claims",
            "holder_name,legal_representative",
            "--port",
            &port.to_string(),
            "--timeout",
            "30",
        ])
        .env("ELICENSE_OID4VC_DIR", root.join("../../.cache/oid4vc"))
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = lines
        .next_line()
        .await
        .unwrap()
        .expect("the verifier's first line");
    let first: Value = serde_json::from_str(&first).unwrap();
    // Keep reading the rest (the verdict) through the child's handle.
    let rest = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Ok(Some(l)) = lines.next_line().await {
            out.push(l);
        }
        out
    });
    (first, Verifier { child, rest })
}

/// The verdict line the outside verifier printed after the answer.
async fn verdict(mut v: Verifier) -> Value {
    let _ = tokio::time::timeout(Duration::from_secs(40), v.child.wait()).await;
    let lines = v.rest.await.unwrap();
    serde_json::from_str(lines.last().expect("the verifier's verdict")).unwrap()
}

#[tokio::test]
async fn the_nodes_wallet_answers_an_outside_verifier_it_lists() {
    use elicense_app::wallet::vp_foreign;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let srv = TestServer::start_configured(Arc::new(elicense_app::SystemClock), |c| {
        c.wallet_verifiers = vec![format!("http://127.0.0.1:{port}")];
    })
    .await;
    let (zhang, identifier, device, jkt) = represented_license(&srv).await;
    let node = &srv.node;
    let issuer = node.issuer_url(BEIJING_SAMR);

    let cookie = sign_in(&srv, "zhangwei").await;
    for mode in ["direct_post.jwt", "direct_post"] {
        let (first, child) = outside_verifier(port, &issuer, mode).await;
        let link = first["url"].as_str().unwrap();
        // The wallet's page shows who asks, what, and the license to choose.
        let query = link.split_once('?').unwrap().1;
        let (status, html) = page(&srv, &format!("/wallet/vp?{query}"), Some(&cookie)).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{html}");
        for part in [
            "id=\"vp-form\"",
            "data-jar=\"",
            "id=\"vp-consent\"",
            "id=\"vp-client\"",
            "/wallet/vp-foreign/refuse",
            identifier.as_str(),
            COMPANY.0,
        ] {
            assert!(html.contains(part), "{part} missing: {html}");
        }
        let r = vp_foreign::fetch(node, link).await.unwrap();
        assert_eq!(r.claims, ["holder_name", "legal_representative"]);
        assert_eq!(r.response_mode, mode);
        let candidates = vp_foreign::candidates(node, &zhang, &r).await.unwrap();
        assert_eq!(candidates.len(), 1);
        let prepared = vp_foreign::prepare(node, &zhang, &r.jar, &identifier, &jkt)
            .await
            .unwrap();
        let sent = vp_foreign::answer(
            node,
            &zhang,
            &r.jar,
            &identifier,
            &prepared.presentation,
            &prepared.signing_input,
            &device.sign(&prepared.signing_input),
        )
        .await
        .unwrap();
        assert_eq!(sent.outcome, "sent");
        let v = verdict(child).await;
        assert_eq!(v["valid"], true, "{mode}: {v}");
        // Exactly what it asked for (both selectively disclosable on the business license).
        assert_eq!(v["claims"]["holder_name"], COMPANY.0, "{v}");
        assert_eq!(v["claims"]["legal_representative"], CITIZEN.0, "{v}");
        assert_eq!(v["claims"].as_object().unwrap().len(), 2, "{v}");
    }
    // The uses are in the license's history, naming the verifier.
    let rec = node
        .store
        .license(identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let presented = node
        .store
        .events(&rec.lineage)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "present" && e.detail.contains("x509_hash:"))
        .count();
    assert_eq!(presented, 2);

    // A refusal reaches the verifier as one.
    let (first, child) = outside_verifier(port, &issuer, "direct_post").await;
    let r = vp_foreign::fetch(node, first["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        vp_foreign::refuse(node, &r.jar).await.unwrap().outcome,
        "refused"
    );
    let v = verdict(child).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["code"], "refused", "{v}");

    // A verifier the operator did not list is not contacted; a changed request object does
    // not verify.
    let other = "openid4vp://?client_id=x509_hash%3Aabc&request_uri=http%3A%2F%2F127.0.0.1%3A9%2Fr";
    assert_eq!(
        vp_foreign::fetch(node, other).await.unwrap_err().code,
        "wallet.vp_foreign"
    );
    let mut parts: Vec<String> = r.jar.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert_eq!(
        vp_foreign::check(node, &parts.join("."), None)
            .unwrap_err()
            .code,
        "wallet.vp_bad_request"
    );
}
