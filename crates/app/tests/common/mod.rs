//! Shared set-up of the app integration tests: a node on a real SQLite file in a temp dir,
//! a manual clock, and the sample catalogue with keys for every issuer.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use elicense_app::issue::{issue, IssueRequest, Issued};
use elicense_app::seed::{self, SAMPLE_CITIZENS, SAMPLE_ENTERPRISES};
use elicense_app::wallet::identity::{create_account, NewAccount};
use elicense_app::wallet::present;
use elicense_app::wallet::Identity;
use elicense_app::{AppError, ManualClock, Node, NodeConfig};
use elicense_core::catalogue::{Catalogue, LicenseType};
use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_crypto::Alg;
use elicense_store::sqlite::SqliteOptions;
use elicense_store::{SqliteStore, Store};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::Value;

/// 2026-02-02 08:00 CST: a fixed "now" for every test.
pub const T0: i64 = 1_769_990_400;

pub const BASE_URL: &str = "http://127.0.0.1:8080";

pub const BUSINESS: &str = "11100000000000001M001";
pub const FOOD: &str = "11100000000000001M002";
pub const RESIDENT_ID: &str = "11100000000000002Q001";
pub const DRIVING: &str = "11100000000000002Q002";

/// Beijing market regulation: issues business and food licenses.
pub const BJ_SAMR: &str = "11110000000000011T";
/// Beijing traffic police: issues driving licenses.
pub const BJ_TRAFFIC: &str = "11110000000000012X";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub node: Arc<Node>,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
}

/// A seeded node on a fresh SQLite file.
pub async fn env() -> Env {
    env_with(NodeConfig::ephemeral(BASE_URL)).await
}

/// A seeded node on a fresh SQLite file, configured by `config` (e.g. small limits).
pub async fn env_with(config: NodeConfig) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(dir.path().join("elicense.db"), SqliteOptions::default())
            .expect("open sqlite"),
    );
    let clock = Arc::new(ManualClock::new(T0));
    let node = Node::new(store.clone(), clock.clone(), config);
    seed::seed_catalogue(&node).await.expect("seed catalogue");
    Env {
        dir,
        node,
        clock,
        store,
    }
}

pub fn sample_type(code: &str) -> LicenseType {
    Catalogue::sample()
        .types
        .into_iter()
        .find(|t| t.code.as_str() == code)
        .expect("sample type")
}

/// The first sample holder of the right kind for a type (`n` picks another one).
pub fn holder(t: &LicenseType, n: usize) -> (&'static str, &'static str) {
    match t.holder_kind {
        HolderCodeType::Uscc => SAMPLE_ENTERPRISES[n],
        _ => SAMPLE_CITIZENS[n],
    }
}

/// A request that validates: the type's example values, holder `n`, the first issuer.
pub fn request(code: &str, n: usize, alg: Alg) -> IssueRequest {
    let t = sample_type(code);
    let (name, id) = holder(&t, n);
    IssueRequest {
        type_code: code.to_string(),
        issuer: t.issuers[0].to_string(),
        holder_name: name.to_string(),
        holder_id: id.to_string(),
        fields: seed::example_fields(&t, name, id),
        alg: Some(alg),
        actor: "test".into(),
        ..Default::default()
    }
}

pub async fn issue_ok(env: &Env, req: IssueRequest) -> Issued {
    issue(&env.node, req).await.expect("issue")
}

pub fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Asserts `r` is an error with `code`, returns it.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(r: Result<T, AppError>, code: &str) -> AppError {
    match r {
        Ok(v) => panic!("expected error {code}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code, code, "wrong code: {e}");
            e
        }
    }
}

/// The JSON of one base64url part.
pub fn b64_json(part: &str) -> Value {
    let bytes = elicense_crypto::b64::decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

pub fn b64_encode_json(v: &Value) -> String {
    elicense_crypto::b64::encode(serde_json::to_vec(v).unwrap().as_slice())
}

/// The issuer JWT's header and payload of a credential.
pub fn jwt_parts(credential: &str) -> (Value, Value) {
    let jwt = credential.split('~').next().unwrap();
    let mut parts = jwt.split('.');
    let header = b64_json(parts.next().unwrap());
    let payload = b64_json(parts.next().unwrap());
    (header, payload)
}

/// The decoded disclosures `[salt, name, value]` of a credential.
pub fn disclosures(credential: &str) -> Vec<Value> {
    credential
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty() && d.matches('.').count() != 2)
        .map(b64_json)
        .collect()
}

pub const ZHANG: (&str, &str) = ("张伟", "11010519491231002X");
pub const LI: (&str, &str) = ("李娜", "110105200002290021");
pub const COMPANY: (&str, &str) = ("北京示例科技有限公司", "91330000755918469E");

/// A password account (`{user}-password`) for a person (the legal representative of the
/// enterprises whose business license names their resident ID).
pub async fn account(env: &Env, user: &str, who: (&str, &str)) -> Identity {
    create_account(
        &env.node,
        NewAccount {
            username: user.into(),
            password: format!("{user}-password"),
            name: who.0.into(),
            person: HolderCode::parse(HolderCodeType::ResidentId, who.1).unwrap(),
        },
    )
    .await
    .expect("account")
}

/// Li Na as agent for the matter `age_check`, from just before `T0` for a day.
#[allow(dead_code)]
pub fn age_check_grant_to_li() -> elicense_app::wallet::agents::Grant {
    elicense_app::wallet::agents::Grant {
        agent_name: LI.0.into(),
        agent_id: LI.1.into(),
        matter: "age_check".into(),
        valid_from: T0 - 10,
        valid_until: T0 + 86_400,
    }
}

/// A browser's device key (P-256), signing as WebCrypto does (raw r‖s).
pub struct Device(pub SigningKey);

impl Device {
    pub fn new() -> Self {
        Device(SigningKey::random(&mut rand::thread_rng()))
    }
    pub fn jwk(&self) -> String {
        let point = self.0.verifying_key().to_encoded_point(false);
        serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": B64.encode(point.x().unwrap()), "y": B64.encode(point.y().unwrap())})
        .to_string()
    }
    pub fn sign(&self, input: &str) -> String {
        let sig: Signature = self.0.sign(input.as_bytes());
        B64.encode(sig.to_bytes())
    }
}

/// Binds `device`, prepares, signs and completes a presentation.
pub async fn show(
    env: &Env,
    id: &Identity,
    identifier: &elicense_core::Identifier,
    device: &Device,
    fields: &[&str],
    matter: Option<&str>,
) -> Result<present::Shown, elicense_app::AppError> {
    let jkt = present::bind(&env.node, id, identifier, &device.jwk()).await?;
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    let prep = present::prepare(&env.node, id, identifier, &jkt, &fields, matter).await?;
    let sig = device.sign(&prep.signing_input);
    present::complete(&env.node, id, identifier, &prep.id, &sig).await
}

/// The staff member every test institution has: `clerk` (柜员 李明), assigned every matter
/// of its scope.
#[allow(dead_code)]
pub const CLERK: &str = "clerk";

/// Registers [`CLERK`] at `inst`.
#[allow(dead_code)]
pub async fn clerk(env: &Env, inst: &elicense_store::InstitutionRecord) {
    elicense_app::institutions::staff::put(
        &env.node,
        inst,
        CLERK,
        elicense_app::institutions::staff::StaffInput {
            name: "柜员 李明".into(),
            matters: inst.matters.clone(),
            resident_id: None,
        },
    )
    .await
    .expect("staff");
}

/// The form a wallet posts for a request object's `payload`: `vp_token` and `state` plain
/// (`direct_post`), or encrypted to the request's key (`direct_post.jwt`, A128GCM).
pub fn vp_form(
    payload: &Value,
    vp_token: Value,
    state: &str,
) -> elicense_app::institutions::presentations::ResponseForm {
    use elicense_app::institutions::presentations::ResponseForm;
    if payload["response_mode"] == "direct_post.jwt" {
        let key: elicense_crypto::Jwk =
            serde_json::from_value(payload["client_metadata"]["jwks"]["keys"][0].clone()).unwrap();
        let plain = serde_json::json!({"vp_token": vp_token, "state": state}).to_string();
        let jwe = elicense_crypto::jwe::encrypt(
            &key,
            elicense_crypto::jwe::Enc::A128Gcm,
            plain.as_bytes(),
            &serde_json::Map::new(),
            &mut rand::rngs::OsRng,
        )
        .unwrap();
        ResponseForm {
            response: Some(jwe),
            ..Default::default()
        }
    } else {
        ResponseForm {
            vp_token: Some(vp_token.to_string()),
            state: Some(state.to_owned()),
            ..Default::default()
        }
    }
}
