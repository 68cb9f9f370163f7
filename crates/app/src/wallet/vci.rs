//! Taking a license to another wallet: OpenID for Verifiable Credential Issuance 1.0 with the
//! pre-authorized code grant and a transaction code.
//!
//! Flow:
//! 1. [`create_offer`]: the holder (or the enterprise's representative; never an agent, and
//!    only on the current version: `Act::Export`) makes a credential offer for one license
//!    version. The node draws a pre-authorized code (256 bits) and a 6-digit transaction code,
//!    keeps only their hashes ([`VciOfferRecord`]) and answers the offer URI
//!    (`openid-credential-offer://?credential_offer=…`) and the transaction code, shown once
//!    beside the QR code. The offer can be redeemed for [`OFFER_SECS`].
//! 2. The other wallet reads [`issuer_metadata`] and [`authorization_server_metadata`].
//! 3. [`token`]: the pre-authorized code with the transaction code gives a bearer access token
//!    bound to that offer, valid [`TOKEN_SECS`]. A wrong transaction code counts; after
//!    [`MAX_TX_FAILURES`] the offer is burnt. A code gives one token.
//! 4. [`nonce`]: a fresh `c_nonce`, valid [`NONCE_SECS`]: sealed by the node (its expiry and
//!    16 random bytes under an HMAC keyed by the node secret), so the endpoint, open to
//!    anyone, writes nothing; a proof's nonce is checked against its seal and then recorded
//!    as used until it expires, so it is taken once.
//! 5. [`credential`]: with the access token, a JWT proof of possession (`typ`
//!    `openid4vci-proof+jwt`, `jwk` in the header, ES256 or EdDSA, signed by that key, `aud`
//!    the credential issuer, `iat` fresh, `nonce` a c_nonce of this node) gives the license
//!    re-signed by its issuer with `cnf.jwk` = the proof's key (`issue::bound_copy`, the
//!    function the wallet's device binding uses), every disclosure attached.
//!
//! Invariants:
//! - one credential per offer: the redemption and its use event (`export`, in the holder's
//!   history; in the log only as a commitment) are one store write that succeeds once
//!   (`VciStore::redeem_vci_offer`); a second request with the same token is `invalid_token`;
//! - the store keeps no secret in clear: code, transaction code (salted with the code), token
//!   and used nonce are SHA-256 hashes;
//! - the credential is of the version offered, and only while it is still current
//!   (`vci.license_unavailable` after a change or transfer);
//! - every refusal has a stable code (`vci.*`) and the OAuth / OpenID4VCI error it stands
//!   for ([`oauth_error`]).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use elicense_core::agency::Act;
use elicense_core::lifecycle::Status;
use elicense_core::{EventKind, Identifier};
use elicense_crypto::{jws, Alg, Jwk};
use elicense_store::{EventRecord, StoreError, VciOfferRecord};
use hmac::Mac as _;
use rand::{Rng, RngCore};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::identity::Identity;
use super::licenses::open_for;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::stored::License;

/// How long an offer's pre-authorized code can be redeemed, seconds.
pub const OFFER_SECS: i64 = 600;
/// How long an access token is valid, seconds.
pub const TOKEN_SECS: i64 = 300;
/// How long a `c_nonce` is valid, seconds.
pub const NONCE_SECS: i64 = 300;
/// Wrong transaction codes after which an offer is burnt.
pub const MAX_TX_FAILURES: i64 = 5;
/// How old a proof's `iat` may be, seconds.
pub const PROOF_MAX_AGE_SECS: i64 = 300;
/// How far in the future a proof's `iat` may be (clock skew), seconds.
pub const PROOF_SKEW_SECS: i64 = 60;
/// Digits of the transaction code.
pub const TX_CODE_DIGITS: usize = 6;
/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The `typ` of a JWT proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The credential format.
pub const FORMAT: &str = "dc+sd-jwt";
/// Where the OpenID4VCI endpoints are, under the node's base URL.
pub const TOKEN_PATH: &str = "/oid4vci/token";
pub const NONCE_PATH: &str = "/oid4vci/nonce";
pub const CREDENTIAL_PATH: &str = "/oid4vci/credential";

fn err(code: &'static str, message: impl Into<String>) -> AppError {
    let kind = match oauth_error(code) {
        Some("invalid_token") => ErrorKind::Unauthorized,
        _ => ErrorKind::Invalid,
    };
    AppError::new(kind, code, message)
}

/// The OAuth 2.0 (RFC 6749 §5.2, RFC 6750 §3.1) or OpenID4VCI (§6.3, §8.3.1.2) error a `vci.*`
/// code stands for; `None` for other codes.
pub fn oauth_error(code: &str) -> Option<&'static str> {
    Some(match code {
        "vci.missing_parameter" | "vci.tx_code_required" => "invalid_request",
        "vci.unsupported_grant_type" => "unsupported_grant_type",
        "vci.unknown_code" | "vci.offer_expired" | "vci.code_used" | "vci.offer_burnt"
        | "vci.wrong_tx_code" => "invalid_grant",
        "vci.invalid_token" | "vci.token_expired" | "vci.token_used" => "invalid_token",
        "vci.bad_request" | "vci.not_offered" => "invalid_credential_request",
        "vci.unknown_configuration" => "unknown_credential_configuration",
        "vci.proof_malformed"
        | "vci.proof_type"
        | "vci.proof_alg"
        | "vci.proof_key"
        | "vci.proof_signature"
        | "vci.proof_audience"
        | "vci.proof_stale" => "invalid_proof",
        "vci.invalid_nonce" => "invalid_nonce",
        "vci.license_unavailable" => "credential_request_denied",
        _ => return None,
    })
}

/// Hex SHA-256 of `parts` joined by `:` (codes, tokens and nonces are kept only so).
fn hash(parts: &[&str]) -> String {
    hex::encode(Sha256::digest(parts.join(":").as_bytes()))
}

/// 256 random bits, base64url.
fn secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    B64.encode(b)
}

/// Equal in time independent of where they differ (hashes of the same length).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The credential issuer identifier: the node's base URL.
pub fn credential_issuer(node: &Node) -> String {
    node.config.base_url.clone()
}

/// An offer as the holder's wallet shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    /// `openid-credential-offer://?credential_offer=…` (the offer by value), for a QR code.
    pub offer_uri: String,
    /// The transaction code (6 digits), shown once, to be typed into the other wallet.
    pub tx_code: String,
    /// Until when the offer can be redeemed (unix seconds).
    pub expires_at: i64,
}

/// Makes a credential offer of license version `identifier` for the identity `id`: the holder
/// or the enterprise's representative, on the current version only.
pub async fn create_offer(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
) -> Result<Offer> {
    let opened = open_for(node, id, identifier, Act::Export).await?;
    in_force(opened.license.status)?;
    let code = secret();
    let tx_code = format!(
        "{:0width$}",
        rand::rngs::OsRng.gen_range(0..10u32.pow(TX_CODE_DIGITS as u32)),
        width = TX_CODE_DIGITS
    );
    let now = node.now();
    let expires_at = now + OFFER_SECS;
    node.store
        .put_vci_offer(VciOfferRecord {
            id: hash(&[code.as_str()]),
            identifier: opened.license.record.identifier.clone(),
            actor: opened.access.kind().into(),
            tx_code: hash(&[code.as_str(), tx_code.as_str()]),
            failures: 0,
            created_at: now,
            expires_at,
            token: None,
            token_expires_at: None,
            redeemed_at: None,
        })
        .await?;
    let offer = json!({
        "credential_issuer": credential_issuer(node),
        "credential_configuration_ids": [opened.license.record.type_code],
        "grants": {
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": code,
                "tx_code": {
                    "length": TX_CODE_DIGITS,
                    "input_mode": "numeric",
                    "description": "The 6 digits shown beside the QR code",
                },
            },
        },
    });
    let encoded: String =
        url::form_urlencoded::byte_serialize(offer.to_string().as_bytes()).collect();
    Ok(Offer {
        offer_uri: format!("openid-credential-offer://?credential_offer={encoded}"),
        tx_code,
        expires_at,
    })
}

/// The algorithms the node's issuers sign credentials with (keys that may sign now).
async fn signing_algs(node: &Node) -> Result<Vec<&'static str>> {
    let now = node.now();
    let mut algs = Vec::new();
    for issuer in node.store.issuers().await? {
        for k in node.store.keys(&issuer.code).await? {
            if crate::keys::may_sign(&k, now) {
                if let Ok(alg) = k.alg.parse::<Alg>() {
                    algs.push(alg);
                }
            }
        }
    }
    Ok(Alg::ALL
        .into_iter()
        .filter(|a| algs.contains(a))
        .map(Alg::jws_name)
        .collect())
}

/// The credential issuer metadata (OpenID4VCI §12.2): one configuration per license type of
/// the catalogue, id = the type code.
pub async fn issuer_metadata(node: &Node) -> Result<Value> {
    let base = credential_issuer(node);
    let algs = signing_algs(node).await?;
    let mut configurations = serde_json::Map::new();
    for t in node.catalogue.all().await? {
        let code = t.code.as_str().to_owned();
        configurations.insert(
            code.clone(),
            json!({
                "format": FORMAT,
                "vct": Node::vct(&code),
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": algs,
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": ["ES256", "EdDSA"]}
                },
                "credential_metadata": {
                    "display": [
                        {"name": t.name, "locale": "zh-CN"},
                        {"name": t.name_en, "locale": "en"},
                    ]
                },
            }),
        );
    }
    Ok(json!({
        "credential_issuer": base,
        "authorization_servers": [base],
        "credential_endpoint": format!("{base}{CREDENTIAL_PATH}"),
        "nonce_endpoint": format!("{base}{NONCE_PATH}"),
        "display": [{"name": "电子证照", "locale": "zh-CN"}, {"name": "Electronic licenses", "locale": "en"}],
        "credential_configurations_supported": configurations,
    }))
}

/// The authorization server metadata (RFC 8414) of the node, which is its own authorization
/// server for the pre-authorized code grant only.
pub fn authorization_server_metadata(node: &Node) -> Value {
    let base = credential_issuer(node);
    json!({
        "issuer": base,
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": true,
    })
}

/// A token request's parameters (form fields of RFC 6749 §4.1.3 and OpenID4VCI §6.1).
#[derive(Debug, Default, Clone)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub pre_authorized_code: Option<String>,
    pub tx_code: Option<String>,
}

impl TokenRequest {
    /// From `application/x-www-form-urlencoded` fields; other fields are ignored.
    pub fn from_form(body: &[u8]) -> TokenRequest {
        let mut req = TokenRequest::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            let slot = match k.as_ref() {
                "grant_type" => &mut req.grant_type,
                "pre-authorized_code" => &mut req.pre_authorized_code,
                "tx_code" => &mut req.tx_code,
                _ => continue,
            };
            slot.get_or_insert_with(|| v.into_owned());
        }
        req
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds the token is valid.
    pub expires_in: i64,
}

/// The token endpoint: a pre-authorized code and its transaction code give an access token.
pub async fn token(node: &Node, req: &TokenRequest) -> Result<AccessToken> {
    let grant = req
        .grant_type
        .as_deref()
        .ok_or_else(|| err("vci.missing_parameter", "grant_type is missing"))?;
    if grant != PRE_AUTHORIZED_GRANT {
        return Err(err(
            "vci.unsupported_grant_type",
            format!("only {PRE_AUTHORIZED_GRANT} is supported"),
        ));
    }
    let code = req
        .pre_authorized_code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| err("vci.missing_parameter", "pre-authorized_code is missing"))?;
    let tx_code = req
        .tx_code
        .as_deref()
        .ok_or_else(|| err("vci.tx_code_required", "this offer needs its tx_code"))?;
    let id = hash(&[code]);
    let offer = node
        .store
        .vci_offer(&id)
        .await?
        .ok_or_else(|| err("vci.unknown_code", "no such pre-authorized code"))?;
    let now = node.now();
    check_redeemable(&offer, now)?;
    if !same(&offer.tx_code, &hash(&[code, tx_code])) {
        return Err(
            match node.store.fail_vci_tx_code(&id, MAX_TX_FAILURES).await? {
                Some(n) if n < MAX_TX_FAILURES => err(
                    "vci.wrong_tx_code",
                    format!("wrong tx_code; {} tries left", MAX_TX_FAILURES - n),
                ),
                Some(_) => err(
                    "vci.offer_burnt",
                    "wrong tx_code; too many wrong tries: the offer can no longer be redeemed",
                ),
                None => match node.store.vci_offer(&id).await? {
                    Some(o) => check_redeemable(&o, now).err().unwrap_or_else(used),
                    None => err("vci.unknown_code", "no such pre-authorized code"),
                },
            },
        );
    }
    let token = secret();
    node.store
        .grant_vci_token(
            &id,
            &hash(&[token.as_str()]),
            now + TOKEN_SECS,
            MAX_TX_FAILURES,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) | StoreError::NotFound(_) => used(),
            e => e.into(),
        })?;
    Ok(AccessToken {
        access_token: token,
        token_type: "Bearer",
        expires_in: TOKEN_SECS,
    })
}

fn used() -> AppError {
    err(
        "vci.code_used",
        "this pre-authorized code was redeemed already",
    )
}

/// `Ok` if offer `o` may still get a token at `now`.
fn check_redeemable(o: &VciOfferRecord, now: i64) -> Result<()> {
    if o.token.is_some() {
        return Err(used());
    }
    if o.failures >= MAX_TX_FAILURES {
        return Err(err(
            "vci.offer_burnt",
            "too many wrong tx_codes: the offer can no longer be redeemed",
        ));
    }
    if now >= o.expires_at {
        return Err(err(
            "vci.offer_expired",
            "the offer expired: make a new one",
        ));
    }
    Ok(())
}

/// Deletes expired nonces, and offers whose code and token expired (the sweeper calls it);
/// returns how many rows went.
pub async fn purge(node: &Node) -> Result<u64> {
    Ok(node.store.purge_vci(node.now()).await?)
}

/// The nonce endpoint: a fresh `c_nonce`, valid [`NONCE_SECS`], single use. Nothing is
/// stored: the nonce carries its expiry, sealed ([`nonce_seal`]).
pub async fn nonce(node: &Node) -> Result<String> {
    let mut body = [0u8; 24];
    body[..8].copy_from_slice(&(node.now() + NONCE_SECS).to_be_bytes());
    rand::rngs::OsRng.fill_bytes(&mut body[8..]);
    let mut n = body.to_vec();
    n.extend_from_slice(&nonce_seal(node, &body).finalize().into_bytes()[..16]);
    Ok(B64.encode(n))
}

/// The MAC over a nonce's expiry and random part, keyed by the node secret.
fn nonce_seal(node: &Node, body: &[u8]) -> hmac::Hmac<Sha256> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
        .expect("HMAC takes any key length");
    mac.update(b"elicense oid4vci c_nonce\0");
    mac.update(body);
    mac
}

/// The expiry of a nonce this node sealed, if `nonce` is one.
fn nonce_expiry(node: &Node, nonce: &str) -> Option<i64> {
    let bytes = B64.decode(nonce).ok()?;
    let (body, tag) = (bytes.get(..24)?, bytes.get(24..)?);
    if tag.len() != 16 {
        return None;
    }
    nonce_seal(node, body).verify_truncated_left(tag).ok()?;
    Some(i64::from_be_bytes(body[..8].try_into().ok()?))
}

/// The credential endpoint: with the access token `bearer` and a request body (JSON), the
/// offered license as an SD-JWT VC bound to the proof's key.
pub async fn credential(node: &Arc<Node>, bearer: Option<&str>, body: &Value) -> Result<String> {
    let now = node.now();
    let bearer = bearer
        .filter(|b| !b.is_empty())
        .ok_or_else(|| err("vci.invalid_token", "an access token is needed"))?;
    let offer = node
        .store
        .vci_offer_by_token(&hash(&[bearer]))
        .await?
        .ok_or_else(|| err("vci.invalid_token", "unknown access token"))?;
    if offer.redeemed_at.is_some() {
        return Err(err("vci.token_used", "this access token was used already"));
    }
    if offer.token_expires_at.is_none_or(|t| now >= t) {
        return Err(err("vci.token_expired", "the access token expired"));
    }
    let config = body
        .get("credential_configuration_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            err(
                "vci.bad_request",
                "credential_configuration_id (a string) is needed",
            )
        })?;
    let record = node
        .store
        .license(&offer.identifier)
        .await?
        .ok_or_else(|| err("vci.license_unavailable", "the license offered is gone"))?;
    if config != record.type_code {
        let known = node.catalogue.get(config, None).await.is_ok();
        return Err(if known {
            err(
                "vci.not_offered",
                format!("the offer is for {}, not {config}", record.type_code),
            )
        } else {
            err(
                "vci.unknown_configuration",
                format!("no credential configuration {config}"),
            )
        });
    }
    let proof = one_proof(body)?;
    let jwk = check_proof(node, proof, now).await?;
    let license = License::try_from(record)?;
    if license.status == Status::Superseded {
        return Err(err(
            "vci.license_unavailable",
            "the license offered was superseded: ask the holder for a new offer",
        ));
    }
    in_force(license.status)?;
    let license_type = license.type_as_issued(node).await?;
    let jkt = jwk.thumbprint();
    let credential =
        crate::issue::bound_copy(node, &license.record, &license_type, &license.meta, jwk).await?;
    let event = EventRecord {
        seq: 0,
        identifier: offer.identifier.clone(),
        kind: EventKind::Exported.to_string(),
        actor: offer.actor.clone(),
        at: now,
        reason: None,
        reason_category: None,
        detail: json!({"protocol": "openid4vci", "jkt": jkt}).to_string(),
    };
    node.store
        .redeem_vci_offer(&offer.id, now, event)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) | StoreError::NotFound(_) => {
                err("vci.token_used", "this access token was used already")
            }
            e => e.into(),
        })?;
    Ok(credential)
}

/// Only a license in force (valid) is taken to another wallet: a suspended, revoked,
/// cancelled, withdrawn or expired one would arrive there as a credential its own status
/// already refuses (`vci.license_unavailable`).
fn in_force(status: Status) -> Result<()> {
    if status == Status::Valid {
        return Ok(());
    }
    Err(err(
        "vci.license_unavailable",
        format!("the license is {status}: only a license in force can be taken to another wallet"),
    ))
}

/// The one JWT proof of a request: `{"proofs": {"jwt": ["…"]}}` (no batch issuance).
fn one_proof(body: &Value) -> Result<&str> {
    let proofs = body
        .get("proofs")
        .and_then(Value::as_object)
        .ok_or_else(|| err("vci.bad_request", "proofs (an object) is needed"))?;
    if let Some(other) = proofs.keys().find(|k| *k != "jwt") {
        return Err(err(
            "vci.bad_request",
            format!("proof type {other} is not supported: send jwt"),
        ));
    }
    match proofs
        .get("jwt")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([Value::String(p)]) => Ok(p),
        _ => Err(err(
            "vci.bad_request",
            "proofs.jwt must hold exactly one JWT (no batch issuance)",
        )),
    }
}

/// Checks a JWT proof of possession (OpenID4VCI appendix F.1) and takes its nonce; returns
/// the key it proves.
async fn check_proof(node: &Node, proof: &str, now: i64) -> Result<Jwk> {
    let bad = |code, m: &str| err(code, m.to_owned());
    let parsed = jws::parse(proof).map_err(|e| err("vci.proof_malformed", e.to_string()))?;
    if parsed.header.typ.as_deref() != Some(PROOF_TYP) {
        return Err(bad(
            "vci.proof_type",
            "the proof's typ must be openid4vci-proof+jwt",
        ));
    }
    if !matches!(parsed.header.alg, Alg::Es256 | Alg::EdDSA) {
        return Err(bad(
            "vci.proof_alg",
            "the proof must be signed with ES256 or EdDSA",
        ));
    }
    let raw = &parsed.header_raw;
    if raw.contains_key("kid") || raw.contains_key("x5c") || raw.contains_key("trust_chain") {
        return Err(bad(
            "vci.proof_key",
            "the proof names its key by jwk only (cryptographic binding method jwk)",
        ));
    }
    let jwk_value = raw
        .get("jwk")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("vci.proof_key", "the proof's header has no jwk"))?;
    if jwk_value.contains_key("d") {
        return Err(bad("vci.proof_key", "the proof's jwk holds a private key"));
    }
    let jwk: Jwk = serde_json::from_value(Value::Object(jwk_value.clone()))
        .map_err(|e| err("vci.proof_key", format!("the proof's jwk: {e}")))?;
    let verifier = jwk
        .verifier(None)
        .map_err(|e| err("vci.proof_key", format!("the proof's jwk: {e}")))?;
    parsed.verify_with(verifier.as_ref()).map_err(|_| {
        bad(
            "vci.proof_signature",
            "the proof is not signed by the key in its header",
        )
    })?;
    let issuer = credential_issuer(node);
    let aud_ok = match parsed.payload.get("aud") {
        Some(Value::String(a)) => *a == issuer,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(&issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(err(
            "vci.proof_audience",
            format!("the proof's aud must be the credential issuer {issuer}"),
        ));
    }
    let iat = parsed
        .payload
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("vci.proof_malformed", "the proof has no iat"))?;
    if iat < now - PROOF_MAX_AGE_SECS || iat > now + PROOF_SKEW_SECS {
        return Err(err(
            "vci.proof_stale",
            format!("the proof's iat is not within {PROOF_MAX_AGE_SECS} s of now"),
        ));
    }
    let nonce = parsed
        .payload
        .get("nonce")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("vci.invalid_nonce", "the proof has no nonce: get a c_nonce"))?;
    let refused = || {
        bad(
            "vci.invalid_nonce",
            "unknown, used or expired nonce: get a new c_nonce",
        )
    };
    let expires_at = nonce_expiry(node, nonce)
        .filter(|e| now < *e)
        .ok_or_else(refused)?;
    if !node
        .store
        .use_vci_nonce(&hash(&[nonce]), expires_at)
        .await?
    {
        return Err(refused());
    }
    Ok(jwk)
}
