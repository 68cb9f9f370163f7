//! OpenID4VCI (pre-authorized code with a transaction code) end to end on a real SQLite
//! node: the offer, the token, the nonce, the JWT proof and the bound credential; every
//! refusal with its stable code; who may make an offer; the use in the holder's history.

mod common;

use common::*;
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::wallet::vci::{self, TokenRequest};
use elicense_app::wallet::{agents, licenses, Identity};
use elicense_core::lifecycle::Action;
use elicense_core::{EventKind, Identifier};
use elicense_crypto::jws::{self, Header};
use elicense_crypto::{Alg, KeyPair, Signer as _};
use serde_json::{json, Value};

/// The offer JSON inside an offer URI.
fn offer_json(uri: &str) -> Value {
    let query = uri
        .strip_prefix("openid-credential-offer://?")
        .expect("offer URI scheme");
    let (k, v) = url::form_urlencoded::parse(query.as_bytes())
        .next()
        .expect("one parameter");
    assert_eq!(k, "credential_offer");
    serde_json::from_str(&v).expect("offer JSON")
}

fn pre_authorized_code(offer: &Value) -> String {
    offer["grants"][vci::PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn token_request(code: &str, tx_code: &str) -> TokenRequest {
    TokenRequest {
        grant_type: Some(vci::PRE_AUTHORIZED_GRANT.into()),
        pre_authorized_code: Some(code.into()),
        tx_code: Some(tx_code.into()),
    }
}

/// A wallet key and the proofs it signs.
struct Wallet(KeyPair);

impl Wallet {
    fn new(alg: Alg) -> Self {
        Wallet(KeyPair::generate(alg, &mut rand::rngs::OsRng))
    }

    fn jwk(&self) -> Value {
        serde_json::to_value(self.0.public_jwk()).unwrap()
    }

    /// A proof with `payload`, the header `jwk` of `header_key` (default: this key).
    fn proof_with(&self, typ: &str, header_key: Option<&Wallet>, payload: Value) -> String {
        let mut h = Header::new(self.0.alg()).with_typ(typ);
        h.extra
            .insert("jwk".into(), header_key.unwrap_or(self).jwk());
        jws::sign(&self.0, &h, &payload).unwrap()
    }

    fn proof(&self, nonce: &str, iat: i64) -> String {
        self.proof_with(
            vci::PROOF_TYP,
            None,
            json!({"aud": BASE_URL, "iat": iat, "nonce": nonce}),
        )
    }
}

fn cred_request(config: &str, proof: &str) -> Value {
    json!({"credential_configuration_id": config, "proofs": {"jwt": [proof]}})
}

struct Redeemable {
    code: String,
    tx_code: String,
}

async fn offer(env: &Env, who: &Identity, id: &Identifier) -> Redeemable {
    let o = vci::create_offer(&env.node, who, id).await.unwrap();
    assert_eq!(o.tx_code.len(), 6);
    assert!(o.tx_code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(o.expires_at, env.node.now() + vci::OFFER_SECS);
    Redeemable {
        code: pre_authorized_code(&offer_json(&o.offer_uri)),
        tx_code: o.tx_code,
    }
}

/// The credential request of a fresh ES256 wallet with a fresh nonce, for the driving license.
async fn redeem(env: &Env, access: &str) -> Result<String, elicense_app::AppError> {
    let wallet = Wallet::new(Alg::Es256);
    let nonce = vci::nonce(&env.node).await.unwrap();
    vci::credential(
        &env.node,
        Some(access),
        &cred_request(DRIVING, &wallet.proof(&nonce, T0)),
    )
    .await
}

async fn token(env: &Env, r: &Redeemable) -> String {
    vci::token(&env.node, &token_request(&r.code, &r.tx_code))
        .await
        .unwrap()
        .access_token
}

#[tokio::test]
async fn another_wallet_takes_the_license_bound_to_its_key() {
    let env = env().await;
    let issued = issue_ok(&env, request(DRIVING, 0, Alg::Es256)).await; // 张伟
    let zhang = account(&env, "zhangwei", ZHANG).await;

    let o = vci::create_offer(&env.node, &zhang, &issued.identifier)
        .await
        .unwrap();
    let offer = offer_json(&o.offer_uri);
    assert_eq!(offer["credential_issuer"], BASE_URL);
    assert_eq!(offer["credential_configuration_ids"], json!([DRIVING]));
    let grant = &offer["grants"][vci::PRE_AUTHORIZED_GRANT];
    assert_eq!(grant["tx_code"]["length"], 6);
    assert_eq!(grant["tx_code"]["input_mode"], "numeric");
    let code = pre_authorized_code(&offer);

    let t = vci::token(&env.node, &token_request(&code, &o.tx_code))
        .await
        .unwrap();
    assert_eq!((t.token_type, t.expires_in), ("Bearer", vci::TOKEN_SECS));
    let nonce = vci::nonce(&env.node).await.unwrap();
    let wallet = Wallet::new(Alg::Es256);
    let body = cred_request(DRIVING, &wallet.proof(&nonce, T0));
    let credential = vci::credential(&env.node, Some(&t.access_token), &body)
        .await
        .unwrap();

    let (header, payload) = jwt_parts(&credential);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(payload["cnf"]["jwk"], wallet.jwk());
    assert_eq!(payload["vct"], elicense_app::Node::vct(DRIVING));
    assert_eq!(payload["jti"], issued.identifier.as_str());
    assert_eq!(
        disclosures(&credential).len(),
        disclosures(&issued.credential).len(),
        "every disclosure attached"
    );

    // One credential per offer: the token and the code are used up.
    expect_code(
        vci::credential(&env.node, Some(&t.access_token), &body).await,
        "vci.token_used",
    );
    expect_code(
        vci::token(&env.node, &token_request(&code, &o.tx_code)).await,
        "vci.code_used",
    );

    // The holder sees the export in the history, as the holder's own act.
    let opened = licenses::open(&env.node, &zhang, &issued.identifier)
        .await
        .unwrap();
    let history = licenses::history(&env.node, &opened, 0).await.unwrap();
    let export = &history.entries[0];
    assert_eq!(
        (export.kind, export.actor.as_str()),
        (EventKind::Exported, "holder")
    );
    assert_eq!(
        history
            .entries
            .iter()
            .filter(|e| e.kind == EventKind::Exported)
            .count(),
        1
    );
}

#[tokio::test]
async fn an_eddsa_proof_and_the_enterprise_representative() {
    let env = env().await;
    let business = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await; // 张伟 represents it
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let r = offer(&env, &zhang, &business.identifier).await;
    let access = token(&env, &r).await;
    let wallet = Wallet::new(Alg::EdDSA);
    let nonce = vci::nonce(&env.node).await.unwrap();
    let credential = vci::credential(
        &env.node,
        Some(&access),
        &cred_request(BUSINESS, &wallet.proof(&nonce, T0 - 10)),
    )
    .await
    .unwrap();
    assert_eq!(jwt_parts(&credential).1["cnf"]["jwk"], wallet.jwk());
    let opened = licenses::open(&env.node, &zhang, &business.identifier)
        .await
        .unwrap();
    let history = licenses::history(&env.node, &opened, 0).await.unwrap();
    assert_eq!(
        (history.entries[0].kind, history.entries[0].actor.as_str()),
        (EventKind::Exported, "enterprise")
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_with_stable_codes() {
    let env = env().await;
    let issued = issue_ok(&env, request(DRIVING, 0, Alg::Es256)).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let r = offer(&env, &zhang, &issued.identifier).await;
    let node = &env.node;

    let mut req = token_request(&r.code, &r.tx_code);
    req.grant_type = Some("authorization_code".into());
    expect_code(vci::token(node, &req).await, "vci.unsupported_grant_type");
    req.grant_type = None;
    expect_code(vci::token(node, &req).await, "vci.missing_parameter");
    let mut req = token_request(&r.code, &r.tx_code);
    req.pre_authorized_code = None;
    expect_code(vci::token(node, &req).await, "vci.missing_parameter");
    let mut req = token_request(&r.code, &r.tx_code);
    req.tx_code = None;
    expect_code(vci::token(node, &req).await, "vci.tx_code_required");
    expect_code(
        vci::token(node, &token_request("no-such-code", &r.tx_code)).await,
        "vci.unknown_code",
    );
    // A form as the endpoint receives it.
    let form = format!(
        "grant_type={}&pre-authorized_code={}&tx_code=000000x",
        url::form_urlencoded::byte_serialize(vci::PRE_AUTHORIZED_GRANT.as_bytes())
            .collect::<String>(),
        r.code
    );
    let parsed = TokenRequest::from_form(form.as_bytes());
    assert_eq!(parsed.pre_authorized_code.as_deref(), Some(r.code.as_str()));
    let e = expect_code(vci::token(node, &parsed).await, "vci.wrong_tx_code");
    assert!(e.message.contains("4 tries left"), "{}", e.message);

    // Four more wrong codes burn the offer: then the right one is refused too.
    let wrong = if r.tx_code == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..3 {
        expect_code(
            vci::token(node, &token_request(&r.code, wrong)).await,
            "vci.wrong_tx_code",
        );
    }
    expect_code(
        vci::token(node, &token_request(&r.code, wrong)).await,
        "vci.offer_burnt",
    );
    expect_code(
        vci::token(node, &token_request(&r.code, &r.tx_code)).await,
        "vci.offer_burnt",
    );

    // An offer expires after ten minutes.
    let late = offer(&env, &zhang, &issued.identifier).await;
    env.clock.advance(vci::OFFER_SECS);
    expect_code(
        vci::token(node, &token_request(&late.code, &late.tx_code)).await,
        "vci.offer_expired",
    );
    // Every code maps to its OAuth error.
    for (code, oauth) in [
        ("vci.unsupported_grant_type", "unsupported_grant_type"),
        ("vci.missing_parameter", "invalid_request"),
        ("vci.tx_code_required", "invalid_request"),
        ("vci.wrong_tx_code", "invalid_grant"),
        ("vci.offer_burnt", "invalid_grant"),
        ("vci.offer_expired", "invalid_grant"),
        ("vci.code_used", "invalid_grant"),
        ("vci.unknown_code", "invalid_grant"),
        ("vci.token_used", "invalid_token"),
        ("vci.proof_signature", "invalid_proof"),
        ("vci.invalid_nonce", "invalid_nonce"),
        (
            "vci.unknown_configuration",
            "unknown_credential_configuration",
        ),
        ("vci.license_unavailable", "credential_request_denied"),
    ] {
        assert_eq!(vci::oauth_error(code), Some(oauth), "{code}");
    }
    assert_eq!(vci::oauth_error("wallet.not_found"), None);
}

#[tokio::test]
async fn the_credential_endpoint_refuses_bad_tokens_proofs_and_nonces() {
    let env = env().await;
    let issued = issue_ok(&env, request(DRIVING, 0, Alg::Es256)).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let node = &env.node;
    let r = offer(&env, &zhang, &issued.identifier).await;
    let access = token(&env, &r).await;
    let wallet = Wallet::new(Alg::Es256);
    let nonce = vci::nonce(node).await.unwrap();
    let good = cred_request(DRIVING, &wallet.proof(&nonce, T0));
    let at = Some(access.as_str());

    expect_code(
        vci::credential(node, None, &good).await,
        "vci.invalid_token",
    );
    expect_code(
        vci::credential(node, Some("not-a-token"), &good).await,
        "vci.invalid_token",
    );
    expect_code(
        vci::credential(node, at, &json!("not an object")).await,
        "vci.bad_request",
    );
    expect_code(
        vci::credential(node, at, &json!({"credential_configuration_id": DRIVING})).await,
        "vci.bad_request",
    );
    let proof = wallet.proof(&nonce, T0);
    expect_code(
        vci::credential(
            node,
            at,
            &json!({"credential_configuration_id": DRIVING, "proofs": {"jwt": [proof, proof]}}),
        )
        .await,
        "vci.bad_request",
    );
    expect_code(
        vci::credential(node, at, &cred_request("no_such_type", &proof)).await,
        "vci.unknown_configuration",
    );
    expect_code(
        vci::credential(node, at, &cred_request(BUSINESS, &proof)).await,
        "vci.not_offered",
    );
    expect_code(
        vci::credential(node, at, &cred_request(DRIVING, "a.b")).await,
        "vci.proof_malformed",
    );
    let aud = json!({"aud": BASE_URL, "iat": T0, "nonce": nonce});
    expect_code(
        vci::credential(
            node,
            at,
            &cred_request(DRIVING, &wallet.proof_with("JWT", None, aud.clone())),
        )
        .await,
        "vci.proof_type",
    );
    // Signed by another key than the one in its header.
    let other = Wallet::new(Alg::Es256);
    expect_code(
        vci::credential(
            node,
            at,
            &cred_request(
                DRIVING,
                &other.proof_with(vci::PROOF_TYP, Some(&wallet), aud),
            ),
        )
        .await,
        "vci.proof_signature",
    );
    // An SM2 proof key is not among the proof algorithms.
    let sm2 = Wallet::new(Alg::Sm2);
    expect_code(
        vci::credential(node, at, &cred_request(DRIVING, &sm2.proof(&nonce, T0))).await,
        "vci.proof_alg",
    );
    let wrong_aud = wallet.proof_with(
        vci::PROOF_TYP,
        None,
        json!({"aud": "https://elsewhere.example", "iat": T0, "nonce": nonce}),
    );
    expect_code(
        vci::credential(node, at, &cred_request(DRIVING, &wrong_aud)).await,
        "vci.proof_audience",
    );
    expect_code(
        vci::credential(
            node,
            at,
            &cred_request(
                DRIVING,
                &wallet.proof(&nonce, T0 - vci::PROOF_MAX_AGE_SECS - 1),
            ),
        )
        .await,
        "vci.proof_stale",
    );
    expect_code(
        vci::credential(
            node,
            at,
            &cred_request(
                DRIVING,
                &wallet.proof(&nonce, T0 + vci::PROOF_SKEW_SECS + 1),
            ),
        )
        .await,
        "vci.proof_stale",
    );
    expect_code(
        vci::credential(
            node,
            at,
            &cred_request(DRIVING, &wallet.proof("made-up", T0)),
        )
        .await,
        "vci.invalid_nonce",
    );
    // A nonce is sealed by the node: one with its expiry pushed later (or sealed by another
    // node) is refused, and handing out nonces writes nothing to the store.
    let forged = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut bytes = b64.decode(&nonce).unwrap();
        assert_eq!(bytes.len(), 40, "expiry, random part, seal");
        bytes[7] ^= 0x40;
        b64.encode(bytes)
    };
    let other = elicense_app::Node::new(
        env.store.clone(),
        env.clock.clone(),
        elicense_app::NodeConfig::ephemeral(BASE_URL),
    );
    let foreign = vci::nonce(&other).await.unwrap();
    for bad in [forged, foreign] {
        expect_code(
            vci::credential(node, at, &cred_request(DRIVING, &wallet.proof(&bad, T0))).await,
            "vci.invalid_nonce",
        );
    }
    let fresh = common::env().await;
    for _ in 0..100 {
        vci::nonce(&fresh.node).await.unwrap();
    }
    assert_eq!(
        fresh.store.purge_vci(i64::MAX).await.unwrap(),
        0,
        "no nonce kept"
    );
    // None of the refusals used the token or the nonce: the good request passes.
    vci::credential(node, at, &good).await.unwrap();

    // The nonce was taken: another offer's proof with it is refused.
    let r2 = offer(&env, &zhang, &issued.identifier).await;
    let access2 = token(&env, &r2).await;
    expect_code(
        vci::credential(node, Some(&access2), &good).await,
        "vci.invalid_nonce",
    );
    // A nonce expires; a token expires.
    let old_nonce = vci::nonce(node).await.unwrap();
    env.clock.advance(vci::NONCE_SECS);
    expect_code(
        vci::credential(
            node,
            Some(&access2),
            &cred_request(DRIVING, &wallet.proof(&old_nonce, node.now())),
        )
        .await,
        "vci.token_expired",
    );
    let r3 = offer(&env, &zhang, &issued.identifier).await;
    let access3 = token(&env, &r3).await;
    expect_code(
        vci::credential(
            node,
            Some(&access3),
            &cred_request(DRIVING, &wallet.proof(&old_nonce, node.now())),
        )
        .await,
        "vci.invalid_nonce",
    );
}

#[tokio::test]
async fn only_the_holder_offers_and_only_the_current_version() {
    let env = env().await;
    // 北京示例科技's food license: 张伟 represents it, 李娜 becomes its agent.
    // (The business license names 张伟 as the enterprise's legal representative.)
    issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let food = issue_ok(&env, request(FOOD, 0, Alg::Es256))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    agents::authorize(
        &env.node,
        &zhang,
        &food,
        agents::Grant {
            agent_name: LI.0.into(),
            agent_id: LI.1.into(),
            matter: "food_delivery_platform".into(),
            valid_from: T0 - 10,
            valid_until: T0 + 86_400,
        },
    )
    .await
    .unwrap();
    assert!(licenses::open(&env.node, &li, &food).await.is_ok());
    expect_code(
        vci::create_offer(&env.node, &li, &food).await,
        "wallet.agent_cannot_delegate",
    );
    // Someone with no standing does not see the license at all.
    let chen = account(&env, "chenming", ("陈明", "440306199910101239")).await;
    expect_code(
        vci::create_offer(&env.node, &chen, &food).await,
        "wallet.not_found",
    );

    // An offer made before an extension is refused at redemption; the old version cannot be
    // offered any more.
    let mut req = request(DRIVING, 0, Alg::Es256);
    req.valid_until = Some("2027-02-02".into());
    let driving = issue_ok(&env, req).await.identifier;
    let before = offer(&env, &zhang, &driving).await;
    let access = token(&env, &before).await;
    let mut extend = ActionRequest::new(Action::Extend, "clerk");
    extend.valid_until = Some("2031-01-31".into());
    let next = apply(&env.node, &driving, extend)
        .await
        .unwrap()
        .successor
        .unwrap();
    expect_code(
        vci::create_offer(&env.node, &zhang, &driving).await,
        "wallet.superseded",
    );
    expect_code(redeem(&env, &access).await, "vci.license_unavailable");
    // The current version can be offered.
    vci::create_offer(&env.node, &zhang, &next.identifier)
        .await
        .unwrap();
}

/// Only a license in force leaves for another wallet: an offer made while it was valid is
/// refused at redemption once it is suspended, and a revoked one cannot be offered at all.
#[tokio::test]
async fn a_license_not_in_force_is_not_offered_or_redeemed() {
    let env = env().await;
    let driving = issue_ok(&env, request(DRIVING, 0, Alg::Es256))
        .await
        .identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let pending = offer(&env, &zhang, &driving).await;
    let access = token(&env, &pending).await;
    let mut suspend = ActionRequest::new(Action::Suspend, "clerk");
    suspend.reason = Some("违章未处理".into());
    apply(&env.node, &driving, suspend).await.unwrap();
    expect_code(redeem(&env, &access).await, "vci.license_unavailable");
    expect_code(
        vci::create_offer(&env.node, &zhang, &driving).await,
        "vci.license_unavailable",
    );
    let mut revoke = ActionRequest::new(Action::Revoke, "clerk");
    revoke.reason = Some("以欺骗手段取得".into());
    apply(&env.node, &driving, revoke).await.unwrap();
    expect_code(
        vci::create_offer(&env.node, &zhang, &driving).await,
        "vci.license_unavailable",
    );
    // Nothing was exported.
    let events = env
        .store
        .events(&elicense_app::issue::lineage(&driving))
        .await
        .unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["issue", "suspend", "revoke"]);
}

#[tokio::test]
async fn the_metadata_names_every_type_and_the_endpoints() {
    let env = env().await;
    let m = vci::issuer_metadata(&env.node).await.unwrap();
    assert_eq!(m["credential_issuer"], BASE_URL);
    assert_eq!(
        m["credential_endpoint"],
        format!("{BASE_URL}{}", vci::CREDENTIAL_PATH)
    );
    assert_eq!(
        m["nonce_endpoint"],
        format!("{BASE_URL}{}", vci::NONCE_PATH)
    );
    let configs = m["credential_configurations_supported"]
        .as_object()
        .unwrap();
    let types = env.node.catalogue.all().await.unwrap();
    assert_eq!(configs.len(), types.len());
    for t in types {
        let c = &configs[t.code.as_str()];
        assert_eq!(c["format"], "dc+sd-jwt");
        assert_eq!(c["vct"], elicense_app::Node::vct(t.code.as_str()));
        assert_eq!(c["cryptographic_binding_methods_supported"], json!(["jwk"]));
        assert_eq!(
            c["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"],
            json!(["ES256", "EdDSA"])
        );
        assert_eq!(c["credential_metadata"]["display"][0]["name"], t.name);
    }
    let a = vci::authorization_server_metadata(&env.node);
    assert_eq!(a["issuer"], BASE_URL);
    assert_eq!(
        a["token_endpoint"],
        format!("{BASE_URL}{}", vci::TOKEN_PATH)
    );
    assert_eq!(a["pre-authorized_grant_anonymous_access_supported"], true);
}
