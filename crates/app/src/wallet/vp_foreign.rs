//! The node's wallet answering another verifier's OpenID4VP request: a relying party
//! elsewhere (a shop, an officer's app) whose origin the operator listed
//! (`wallet_verifiers`). Unlike requests of this node's own verifier
//! ([`super::openid4vp`]), the node fetches the request object over HTTP and posts the
//! answer to the verifier, exactly as a phone wallet would.
//!
//! Invariants:
//! - The node contacts only listed origins (the request URI and the response URI alike:
//!   `wallet.vp_foreign`), follows no redirects and reads at most 64 KiB.
//! - The request object must be signed by the key of the certificate in its `x5c` header,
//!   whose hash is its `x509_hash` client identifier (`wallet.vp_bad_request`); it is
//!   checked again at every step (the browser carries it between the consent page and the
//!   answer, and cannot change it without breaking the signature).
//! - The presentation discloses exactly the asked claims the credential carries selectively,
//!   with a KB-JWT for the request's nonce and the verifier's client identifier; agents do
//!   not answer other verifiers (`wallet.agent_scope`). An answer the verifier accepts is a
//!   `present` use in the license's history, naming the verifier.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use elicense_core::agency::Act;
use elicense_core::Identifier;
use elicense_crypto::jwe::{self, Enc};
use elicense_crypto::{jws, sdjwt, x509, Alg, Jwk};
use elicense_store::EventRecord;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::identity::Identity;
use super::licenses::{self, open_for, Access};
use super::openid4vp::Candidate;
use super::present::Prepared;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Largest request object read, bytes.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

fn bad_request(message: impl Into<String>) -> AppError {
    invalid("wallet.vp_bad_request", message)
}

fn foreign() -> AppError {
    invalid(
        "wallet.vp_foreign",
        "this wallet answers only this node's verifier and the verifiers the operator listed",
    )
}

/// Whether `url` is at an origin the operator listed.
fn listed(node: &Node, url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        let origin = u.origin().ascii_serialization();
        node.config.wallet_verifiers.contains(&origin)
    })
}

fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .expect("HTTP client")
    })
}

/// Another verifier's request, checked.
#[derive(Debug, Clone, Serialize)]
pub struct ForeignRequest {
    /// The request object as fetched.
    pub jar: String,
    pub client_id: String,
    /// The name the verifier gives itself (in its signed request), if any.
    pub client_name: Option<String>,
    pub response_uri: String,
    pub response_mode: String,
    pub nonce: String,
    pub state: String,
    /// The credential types it accepts.
    pub vct_values: Vec<String>,
    /// The DCQL credential query id.
    pub query_id: String,
    /// The claims it asks for (top-level names).
    pub claims: Vec<String>,
    pub expires_at: Option<i64>,
    #[serde(skip)]
    client_metadata: Value,
}

/// Checks a request object (see the module's invariants); `client_id`, when given, is the one
/// the link named.
pub fn check(node: &Node, jar: &str, client_id: Option<&str>) -> Result<ForeignRequest> {
    let parsed = jws::parse(jar.trim()).map_err(|e| bad_request(e.to_string()))?;
    if parsed.header.typ.as_deref() != Some(crate::openid4vp::REQUEST_TYP) {
        return Err(bad_request(
            "the request object's typ is not oauth-authz-req+jwt",
        ));
    }
    let der = parsed
        .header
        .extra
        .get("x5c")
        .and_then(|v| v.get(0))
        .and_then(Value::as_str)
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .ok_or_else(|| bad_request("the request object carries no x5c certificate"))?;
    let p = &parsed.payload;
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
    let cid = text("client_id").ok_or_else(|| bad_request("no client_id"))?;
    if cid != format!("x509_hash:{}", x509::hash(&der)) {
        return Err(bad_request(
            "the client_id is not the x509_hash of the request object's certificate",
        ));
    }
    if client_id.is_some_and(|c| c != cid) {
        return Err(bad_request(
            "the link names another client_id than the request object",
        ));
    }
    let key = x509::leaf_key(&der).map_err(|e| bad_request(e.to_string()))?;
    let verifier = key.verifier(None).map_err(|e| bad_request(e.to_string()))?;
    if parsed.header.alg != Alg::Es256 || parsed.verify_with(verifier.as_ref()).is_err() {
        return Err(bad_request(
            "the request object does not verify with its certificate's key",
        ));
    }
    let expires_at = p.get("exp").and_then(Value::as_i64);
    if expires_at.is_some_and(|e| e <= node.now()) {
        return Err(invalid("vp.expired", "the request has lapsed"));
    }
    if text("response_type").as_deref() != Some("vp_token") {
        return Err(bad_request("response_type must be vp_token"));
    }
    let response_mode = text("response_mode").unwrap_or_default();
    if !crate::openid4vp::RESPONSE_MODES.contains(&response_mode.as_str()) {
        return Err(bad_request(
            "response_mode must be direct_post or direct_post.jwt",
        ));
    }
    let response_uri = text("response_uri").ok_or_else(|| bad_request("no response_uri"))?;
    if !listed(node, &response_uri) {
        return Err(foreign());
    }
    let (nonce, state) = (
        text("nonce").ok_or_else(|| bad_request("no nonce"))?,
        text("state").unwrap_or_default(),
    );
    let query = p
        .pointer("/dcql_query/credentials/0")
        .filter(|q| q.get("format").and_then(Value::as_str) == Some(crate::openid4vp::FORMAT))
        .ok_or_else(|| bad_request("the DCQL query asks for no dc+sd-jwt credential"))?;
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut claims = Vec::new();
    for c in query
        .get("claims")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match c.get("path").and_then(Value::as_array).map(Vec::as_slice) {
            Some([Value::String(name)]) => claims.push(name.clone()),
            _ => return Err(bad_request("only top-level claims can be asked for")),
        }
    }
    Ok(ForeignRequest {
        jar: jar.trim().to_owned(),
        client_id: cid,
        client_name: p
            .pointer("/client_metadata/client_name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        response_uri,
        response_mode,
        nonce,
        state,
        vct_values: strings(query.pointer("/meta/vct_values")),
        query_id: query
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_request("the credential query has no id"))?
            .to_owned(),
        claims,
        expires_at,
        client_metadata: p.get("client_metadata").cloned().unwrap_or(Value::Null),
    })
}

/// Fetches and checks the request an `openid4vp://` link names (by `request_uri`).
pub async fn fetch(node: &Node, link: &str) -> Result<ForeignRequest> {
    let (request_uri, client_id) = crate::openid4vp::link_params(link);
    let request_uri = request_uri.ok_or_else(|| bad_request("the link has no request_uri"))?;
    if !listed(node, &request_uri) {
        return Err(foreign());
    }
    let unreachable = |e: String| {
        AppError::new(
            ErrorKind::Unavailable,
            "wallet.vp_unreachable",
            format!("{request_uri}: {e}"),
        )
    };
    let resp = client()
        .get(&request_uri)
        .header("accept", "application/oauth-authz-req+jwt")
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(unreachable(format!("answered {}", resp.status())));
    }
    let body = resp.bytes().await.map_err(|e| unreachable(e.to_string()))?;
    if body.len() > MAX_REQUEST_BYTES {
        return Err(bad_request("the request object is too large"));
    }
    let jar =
        std::str::from_utf8(&body).map_err(|_| bad_request("the request object is not text"))?;
    check(node, jar, client_id.as_deref())
}

/// The holder's licenses that can answer `r` (their own or their enterprise's, valid, of a
/// type it accepts).
pub async fn candidates(
    node: &Arc<Node>,
    id: &Identity,
    r: &ForeignRequest,
) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    for group in licenses::list(node, id).await? {
        if !r.vct_values.contains(&Node::vct(&group.type_code)) {
            continue;
        }
        for l in group.licenses {
            if l.status == "valid" && l.access != "agent" {
                out.push(Candidate {
                    identifier: l.identifier,
                    holder_name: l.holder_name,
                    license_number: l.license_number,
                    issuer_name: l.issuer_name,
                });
            }
        }
    }
    Ok(out)
}

async fn presenter(
    node: &Arc<Node>,
    id: &Identity,
    r: &ForeignRequest,
    identifier: &Identifier,
) -> Result<licenses::Opened> {
    let opened = open_for(node, id, identifier, Act::Present).await?;
    if let Access::Agent(_) = opened.access {
        return Err(AppError::forbidden(
            "wallet.agent_scope",
            "an agent does not answer other verifiers",
        ));
    }
    if !r
        .vct_values
        .contains(&Node::vct(opened.license_type.code.as_str()))
    {
        return Err(invalid(
            "vp.wrong_type",
            "the verifier does not ask for this license type",
        ));
    }
    Ok(opened)
}

/// Prepares the presentation of `identifier` for the request object `jar` with device key
/// `jkt`: the asked claims' disclosures and the KB-JWT input for the browser to sign.
pub async fn prepare(
    node: &Arc<Node>,
    id: &Identity,
    jar: &str,
    identifier: &Identifier,
    jkt: &str,
) -> Result<Prepared> {
    let r = check(node, jar, None)?;
    let opened = presenter(node, id, &r, identifier).await?;
    let binding = super::present::bound(node, &opened.license.record.identifier, jkt).await?;
    let parsed = sdjwt::parse(&binding.credential).map_err(|e| AppError::crypto(e.into()))?;
    let names: Vec<&str> = r
        .claims
        .iter()
        .filter(|c| parsed.disclosures.iter().any(|d| &d.name == *c))
        .map(String::as_str)
        .collect();
    let presentation =
        sdjwt::present(&binding.credential, &names).map_err(|e| AppError::crypto(e.into()))?;
    let prepared = sdjwt::key_binding_prepare(
        &presentation,
        &r.client_id,
        &r.nonce,
        node.now(),
        Alg::Es256,
    );
    let signing_input = String::from_utf8(prepared.signing_input().to_vec())
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Prepared {
        id: String::new(),
        presentation,
        signing_input,
    })
}

/// The verifier's answer to a posted response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// `sent` (the verifier accepted it) or `refused` (the holder refused).
    pub outcome: String,
}

/// The form body for `r` with these parameters: encrypted to the verifier's key in
/// `direct_post.jwt` mode.
fn form(r: &ForeignRequest, params: Map<String, Value>) -> Result<Vec<(String, String)>> {
    if r.response_mode != "direct_post.jwt" {
        return Ok(params
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect());
    }
    let key: Jwk = r
        .client_metadata
        .pointer("/jwks/keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|k| {
            let jwk: Jwk = serde_json::from_value(k.clone()).ok()?;
            (jwk.kty == "EC" && jwk.crv == "P-256" && jwk.use_.as_deref() != Some("sig"))
                .then_some(jwk)
        })
        .ok_or_else(|| bad_request("no P-256 encryption key in the client metadata"))?;
    let enc = r
        .client_metadata
        .get("encrypted_response_enc_values_supported")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().filter_map(Value::as_str).find_map(Enc::parse))
        .unwrap_or(Enc::A128Gcm);
    let jwe = jwe::encrypt(
        &key,
        enc,
        Value::Object(params).to_string().as_bytes(),
        &Map::new(),
        &mut rand::rngs::OsRng,
    )
    .map_err(AppError::crypto)?;
    Ok(vec![("response".into(), jwe)])
}

async fn post(r: &ForeignRequest, body: Vec<(String, String)>) -> Result<()> {
    let resp = client()
        .post(&r.response_uri)
        .form(&body)
        .send()
        .await
        .map_err(|e| {
            AppError::new(
                ErrorKind::Unavailable,
                "wallet.vp_unreachable",
                format!("{}: {e}", r.response_uri),
            )
        })?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        return Err(invalid(
            "wallet.vp_not_accepted",
            format!("the verifier answered {status}: {text}"),
        ));
    }
    Ok(())
}

/// Answers request object `jar` with the prepared presentation of `identifier` and the device
/// key's signature; the use is logged when the verifier accepts it.
pub async fn answer(
    node: &Arc<Node>,
    id: &Identity,
    jar: &str,
    identifier: &Identifier,
    presentation: &str,
    signing_input: &str,
    signature: &str,
) -> Result<Sent> {
    let r = check(node, jar, None)?;
    let opened = presenter(node, id, &r, identifier).await?;
    let full = format!("{presentation}{signing_input}.{}", signature.trim());
    let fields: Vec<String> = sdjwt::parse(&full)
        .map_err(|e| invalid("wallet.bad_signature", e.to_string()))?
        .disclosures
        .iter()
        .map(|d| d.name.clone())
        .collect();
    let mut params = Map::new();
    params.insert("vp_token".into(), json!({ r.query_id.clone(): [full] }));
    params.insert("state".into(), json!(r.state));
    post(&r, form(&r, params)?).await?;
    node.store
        .record_use(EventRecord {
            seq: 0,
            identifier: opened.license.record.identifier.clone(),
            kind: elicense_core::EventKind::Present.to_string(),
            actor: opened.access.kind().into(),
            at: node.now(),
            reason: None,
            reason_category: None,
            detail: json!({"verifier": r.client_id, "verifier_name": r.client_name,
                "fields": fields})
            .to_string(),
        })
        .await?;
    Ok(Sent {
        outcome: "sent".into(),
    })
}

/// Refuses request object `jar` (`error=access_denied`, plain).
pub async fn refuse(node: &Node, jar: &str) -> Result<Sent> {
    let r = check(node, jar, None)?;
    post(
        &r,
        vec![
            ("error".into(), "access_denied".into()),
            ("state".into(), r.state.clone()),
        ],
    )
    .await?;
    Ok(Sent {
        outcome: "refused".into(),
    })
}
