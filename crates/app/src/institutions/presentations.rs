//! Verification at the counter with OpenID4VP 1.0 (see `crate::openid4vp` for the protocol
//! choices): a clerk starts a presentation request for a matter, the holder's wallet fetches
//! the signed request object, the holder consents (or refuses) and the wallet posts the
//! response; the node checks it and, when it holds, grants a sharing request with its
//! annotated copy, exactly as a consented sharing request (`shares`), in one transaction
//! with the request's answer.
//!
//! A response is accepted only when all of this holds, else it is refused with a stable
//! code and the request stays open for the real holder until it lapses:
//! - the request exists (`vp.not_found`), has not lapsed (`vp.expired`) and is not answered
//!   (`vp.answered`: a replay, or a second wallet);
//! - it comes in the request's response mode (`vp.encryption_required` when a
//!   `direct_post.jwt` request gets a plain presentation; a refusal, which reveals nothing,
//!   is taken plain in either mode), decrypts with the request's own key
//!   (`vp.bad_response`), and carries the request's `state` (`vp.state_mismatch`);
//! - `vp_token` holds exactly one presentation for each credential query: `license` for a
//!   plain matter, one per license type (its code) for a joint matter (`vp.bad_vp_token`);
//!   each of them must then pass every check below for its own part, or nothing is granted;
//! - the presentation verifies: issuer signature and key, validity, status, and key binding
//!   with the request's `nonce` (`vp.nonce_mismatch`: a response made for another request)
//!   and the node's client identifier as audience (`vp.audience_mismatch`), fresh, signed by
//!   the credential's `cnf` key (`vp.presentation_invalid` for any other failed check);
//! - it is a credential of the matter's license type (`vp.wrong_type`), discloses no claim
//!   beyond the matter's fields (`vp.extra_disclosure`) and every field the license carries
//!   (`vp.missing_claim`), and is of a license held on this node (`vp.unknown_license`)
//!   that a matter here may accept (mutual recognition).
//!
//! A granted answer makes one sharing request (with its annotated copy of that part's
//! fields) per license; the parts' licenses need not name the same person (an agent may
//! answer with the enterprise's license and their own ID card), but each presentation is bound
//! to the key of the device that holds it.
//!
//! The institution learns the result by polling (`get`) or by its webhook: a POST of the
//! result, signed by the node's verifier key, retried with growing pauses.

use std::sync::Arc;

use elicense_crypto::jws::{self, Header};
use elicense_crypto::{sdjwt, Alg};
use elicense_store::{EventRecord, InstitutionRecord, ShareRecord, VpRequestRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::*;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::openid4vp;
use crate::verify::{verify, VerifyOptions};

/// How long a presentation request can be answered, seconds.
pub const REQUEST_SECS: i64 = 300;

/// Most webhook deliveries of one result.
pub const WEBHOOK_ATTEMPTS: u32 = 6;

/// What a clerk (or the institution's system) starts.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Matter code, one of the institution's scope and of the staff member's matters.
    pub matter: String,
    /// The username of the registered staff member at the counter.
    pub staff: String,
    /// Why, in the institution's words (shown to the holder).
    pub purpose: String,
    /// Days the annotated copy may be used (default 30, at most 366).
    pub keep_days: Option<u32>,
    /// `direct_post.jwt` (default: the response is encrypted to this request's key) or
    /// `direct_post`.
    pub response_mode: Option<String>,
    /// An `https://` (or `http://127.0.0.1`) URL of the institution's backend to which the
    /// signed result is posted when the holder answers.
    pub webhook: Option<String>,
    /// A handle from scanning the holder's one code (一码通, `POST /api/v1/one-code/scans`):
    /// the request is addressed to that person and waits in their wallet.
    pub handle: Option<String>,
}

/// A presentation request as the institution sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    /// `pending`, `granted`, `refused` or `expired`.
    pub state: String,
    pub matter: String,
    pub matter_name: String,
    pub staff: String,
    pub purpose: String,
    pub keep_days: u32,
    pub response_mode: String,
    /// The link the counter shows as a QR code (`openid4vp://?client_id=…&request_uri=…`).
    pub qr: String,
    /// Where wallets fetch the signed request object.
    pub request_uri: String,
    /// The node's verifier identifier (`x509_hash:…`).
    pub client_id: String,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
    /// When a wallet first fetched the request object.
    pub fetched_at: Option<i64>,
    pub answered_at: Option<i64>,
    /// The granted sharing request, with the annotated copy and its fields (the first of
    /// `shares`).
    pub share: Option<ShareView>,
    /// Every granted sharing request: one per license, several for a joint matter.
    pub shares: Vec<ShareView>,
    /// The institution's form for the matter filled from the copies (免填报), once granted
    /// and when the institution defined one.
    pub form: Option<super::forms::FilledForm>,
    /// Whether it is addressed to one person (through their one code) and waits in their
    /// wallet.
    pub addressed: bool,
}

fn state_of(r: &VpRequestRecord, now: i64) -> &'static str {
    match r.outcome.as_deref() {
        Some("granted") => "granted",
        Some(_) => "refused",
        None if now >= r.expires_at => "expired",
        None => "pending",
    }
}

async fn view_of(node: &Node, r: &VpRequestRecord) -> Result<RequestView> {
    let id = node.verifier.get()?;
    let mut shares = Vec::with_capacity(r.shares.len());
    for s in &r.shares {
        if let Some(s) = node.store.share(s).await? {
            shares.push(view(node, &s, Viewer::Institution).await?);
        }
    }
    let form = super::forms::fill(node, &r.institution, &r.matter, &shares).await?;
    let matter_name = matter(node, &r.matter)
        .await?
        .map(|m| m.need.name)
        .unwrap_or_else(|| r.matter.clone());
    let request_uri = openid4vp::request_uri(node, &r.id);
    Ok(RequestView {
        id: r.id.clone(),
        state: state_of(r, node.now()).into(),
        matter: r.matter.clone(),
        matter_name,
        staff: r.staff.clone(),
        purpose: r.purpose.clone(),
        keep_days: r.keep_days,
        response_mode: r.response_mode.clone(),
        qr: openid4vp::qr_link(&id.client_id, &request_uri),
        request_uri,
        client_id: id.client_id.clone(),
        created_at: r.created_at,
        expires_at: r.expires_at,
        fetched_at: r.fetched_at,
        answered_at: r.answered_at,
        share: shares.first().cloned(),
        shares,
        form,
        addressed: r.holder_key.is_some(),
    })
}

fn check_webhook(url: &str) -> Result<()> {
    let bad = || {
        invalid(
            "vp.bad_webhook",
            "a webhook is an https:// URL (http:// only on 127.0.0.1 or localhost)",
        )
    };
    let u = url::Url::parse(url).map_err(|_| bad())?;
    let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" if u.host_str().is_some() => Ok(()),
        "http" if local => Ok(()),
        _ => Err(bad()),
    }
}

/// Starts a presentation request for a matter of the institution's scope assigned to the
/// staff member.
pub async fn start(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    req: StartRequest,
) -> Result<RequestView> {
    let m = scoped_matter(node, inst, req.matter.trim()).await?;
    let purpose = req.purpose.trim();
    if purpose.is_empty() {
        return Err(invalid(
            "share.missing_purpose",
            "a request names its purpose",
        ));
    }
    let staff = super::staff::asking(node, inst, req.staff.trim(), &m.need.code).await?;
    let keep_days = req.keep_days.unwrap_or(DEFAULT_KEEP_DAYS);
    if keep_days == 0 || keep_days > MAX_KEEP_DAYS {
        return Err(invalid(
            "share.bad_period",
            format!("keep_days must be 1 to {MAX_KEEP_DAYS}"),
        ));
    }
    let mode = req
        .response_mode
        .as_deref()
        .unwrap_or(openid4vp::RESPONSE_MODES[0]);
    if !openid4vp::RESPONSE_MODES.contains(&mode) {
        return Err(invalid(
            "vp.bad_response_mode",
            "response_mode is direct_post.jwt or direct_post",
        ));
    }
    if let Some(w) = &req.webhook {
        check_webhook(w)?;
    }
    let holder_key = match &req.handle {
        Some(h) => Some(crate::one_code::person_of_handle(node, inst, h)?),
        None => None,
    };
    node.verifier.get()?;
    let now = node.now();
    let r = VpRequestRecord {
        id: crate::wallet::random_id(),
        institution: inst.code.clone(),
        staff,
        matter: m.need.code.clone(),
        purpose: purpose.to_string(),
        keep_days,
        response_mode: mode.to_string(),
        nonce: crate::wallet::random_id(),
        state: crate::wallet::random_id(),
        webhook: req.webhook,
        created_at: now,
        expires_at: now + REQUEST_SECS,
        fetched_at: None,
        answered_at: None,
        outcome: None,
        shares: Vec::new(),
        webhook_attempts: 0,
        webhook_done_at: None,
        holder_key,
    };
    node.store.put_vp_request(r.clone()).await?;
    view_of(node, &r).await
}

/// A staff member signed in at the counter page starts a request at their counter, in their
/// own name (`StartRequest::staff` is ignored): `staff.not_yours` unless `id` works at
/// institution `code`.
pub async fn start_at_counter(
    node: &Arc<Node>,
    id: &crate::wallet::Identity,
    code: &str,
    mut req: StartRequest,
) -> Result<RequestView> {
    let counter = super::staff::counter_of(node, id, code).await?;
    req.staff = counter.staff.username.clone();
    start(node, &counter.institution, req).await
}

/// A request as the staff member who started it sees it at the counter page (anyone else:
/// `vp.not_found`).
pub async fn get_at_counter(
    node: &Arc<Node>,
    id: &crate::wallet::Identity,
    rid: &str,
) -> Result<RequestView> {
    let r = node
        .store
        .vp_request(rid)
        .await?
        .ok_or_else(|| not_found(rid))?;
    let counter = super::staff::counter_of(node, id, &r.institution)
        .await
        .map_err(|_| not_found(rid))?;
    if r.staff != counter.display() {
        return Err(not_found(rid));
    }
    view_of(node, &r).await
}

fn not_found(id: &str) -> AppError {
    AppError::not_found("vp.not_found", format!("no presentation request {id}"))
}

/// A request of this institution; another institution's is `vp.not_found`.
pub async fn get(node: &Arc<Node>, inst: &InstitutionRecord, id: &str) -> Result<RequestView> {
    let r = node
        .store
        .vp_request(id)
        .await?
        .filter(|r| r.institution == inst.code)
        .ok_or_else(|| not_found(id))?;
    view_of(node, &r).await
}

/// The institution's requests, newest first.
pub async fn list(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    limit: u32,
) -> Result<Vec<RequestView>> {
    let mut out = Vec::new();
    for r in node
        .store
        .vp_requests_of(&inst.code, limit.clamp(1, 1000))
        .await?
    {
        out.push(view_of(node, &r).await?);
    }
    Ok(out)
}

/// An open request: `vp.not_found`, `vp.expired`, `vp.answered`.
pub async fn open_request(node: &Node, id: &str) -> Result<VpRequestRecord> {
    let r = node
        .store
        .vp_request(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if r.answered_at.is_some() {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "vp.answered",
            format!("the presentation request {id} has been answered"),
        ));
    }
    if node.now() >= r.expires_at {
        return Err(invalid(
            "vp.expired",
            format!("the presentation request {id} has lapsed"),
        ));
    }
    Ok(r)
}

/// The request object's payload (what the JAR signs).
pub async fn request_payload(node: &Node, r: &VpRequestRecord) -> Result<Value> {
    let identity = node.verifier.get()?;
    let parts = parts_of(node, &r.matter).await?;
    let m = &parts[0];
    let inst = existing(node, &r.institution).await?;
    let mut formats = Map::new();
    formats.insert(
        openid4vp::FORMAT.into(),
        json!({
            "sd-jwt_alg_values": ["ES256", "EdDSA", "SM2"],
            "kb-jwt_alg_values": ["ES256", "EdDSA"],
        }),
    );
    let mut metadata = Map::new();
    metadata.insert("vp_formats_supported".into(), Value::Object(formats));
    metadata.insert("client_name".into(), json!(inst.name));
    if r.response_mode == "direct_post.jwt" {
        let key = openid4vp::response_key(node, &r.id).public_jwk(&r.id);
        metadata.insert("jwks".into(), json!({ "keys": [key] }));
        metadata.insert(
            "encrypted_response_enc_values_supported".into(),
            json!(openid4vp::ENC_VALUES),
        );
    }
    Ok(json!({
        "iss": identity.client_id,
        "aud": openid4vp::SELF_ISSUED_AUD,
        "iat": node.now(),
        "exp": r.expires_at,
        "client_id": identity.client_id,
        "response_type": "vp_token",
        "response_mode": r.response_mode,
        "response_uri": openid4vp::response_uri(node, &r.id),
        "nonce": r.nonce,
        "state": r.state,
        "dcql_query": openid4vp::dcql_query(&parts),
        "client_metadata": metadata,
        // What the holder sees besides the client's name; not part of OpenID4VP.
        "elicense_request": {
            "institution": {"code": inst.code, "name": inst.name},
            "staff": r.staff,
            "matter": {"code": m.need.code, "name": m.need.name},
            "purpose": r.purpose,
            "keep_days": r.keep_days,
        },
    }))
}

/// The parts of the matter `code` (one, or several for a joint matter);
/// `share.unknown_matter` when the catalogue no longer names it.
async fn parts_of(node: &Node, code: &str) -> Result<Vec<Matter>> {
    let parts = matter_parts(node, code).await?;
    if parts.is_empty() {
        return Err(invalid(
            "share.unknown_matter",
            format!("the catalogue no longer names the matter {code}"),
        ));
    }
    Ok(parts)
}

/// The signed request object of request `id` (`application/oauth-authz-req+jwt`). The
/// first fetch is noted.
pub async fn request_object(node: &Arc<Node>, id: &str) -> Result<String> {
    let r = open_request(node, id).await?;
    let identity = node.verifier.get()?;
    let payload = request_payload(node, &r).await?;
    let mut header = Header::new(Alg::Es256).with_typ(openid4vp::REQUEST_TYP);
    header.extra.insert(
        "x5c".into(),
        json!([base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &identity.certificate
        )]),
    );
    let jar = jws::sign(&identity.key, &header, &payload).map_err(AppError::crypto)?;
    node.store.mark_vp_fetched(id, node.now()).await?;
    Ok(jar)
}

/// What a wallet posts to the response URI (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ResponseForm {
    /// `direct_post`: the DCQL `vp_token` JSON (`{"license": ["<sd-jwt>~<kb-jwt>"]}`).
    pub vp_token: Option<String>,
    /// `direct_post`: the request's `state`.
    pub state: Option<String>,
    /// `direct_post.jwt`: the encrypted response (compact JWE).
    pub response: Option<String>,
    /// A refusal: `access_denied`.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What the node answers a wallet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResponseAck {
    /// `granted` or `refused`.
    pub outcome: String,
}

/// The response's fields after decryption: `vp_token` (JSON), `state`, `error`.
struct Answer {
    vp_token: Option<Value>,
    state: Option<String>,
    error: Option<String>,
}

fn bad_response(message: impl Into<String>) -> AppError {
    invalid("vp.bad_response", message)
}

fn answer_of(node: &Node, r: &VpRequestRecord, form: ResponseForm) -> Result<Answer> {
    // A refusal reveals nothing: it is taken plain in either mode (wallets differ).
    if r.response_mode == "direct_post.jwt" && !(form.response.is_none() && form.error.is_some()) {
        let Some(jwe) = form.response else {
            return Err(invalid(
                "vp.encryption_required",
                "this request takes an encrypted response (response=<JWE>)",
            ));
        };
        let (_, plain) = openid4vp::response_key(node, &r.id)
            .decrypt(jwe.trim())
            .map_err(|e| bad_response(format!("the response does not decrypt: {e}")))?;
        let inner: Map<String, Value> = serde_json::from_slice(&plain)
            .map_err(|_| bad_response("the decrypted response is not a JSON object"))?;
        let text = |k: &str| inner.get(k).and_then(Value::as_str).map(str::to_owned);
        return Ok(Answer {
            vp_token: inner.get("vp_token").cloned(),
            state: text("state"),
            error: text("error"),
        });
    }
    if form.response.is_some() {
        return Err(bad_response(
            "this request takes a direct_post response (vp_token and state)",
        ));
    }
    let vp_token = match form.vp_token {
        Some(t) => Some(
            serde_json::from_str(&t)
                .map_err(|_| invalid("vp.bad_vp_token", "vp_token is not JSON"))?,
        ),
        None => None,
    };
    Ok(Answer {
        vp_token,
        state: form.state,
        error: form.error,
    })
}

/// The presentations of a DCQL `vp_token`, one per credential query of `parts` in their
/// order: `{"license": ["…"]}` for a plain matter, one entry per license type (its code) for
/// a joint matter. Exactly the queries asked, each with exactly one presentation.
fn presentations_of<'a>(vp_token: &'a Value, parts: &[Matter]) -> Result<Vec<&'a str>> {
    let ids: Vec<String> = (0..parts.len())
        .map(|i| openid4vp::query_id(parts, i))
        .collect();
    let bad = || {
        invalid(
            "vp.bad_vp_token",
            format!(
                "vp_token must hold one presentation for each of {}",
                ids.join(", ")
            ),
        )
    };
    let obj = vp_token.as_object().ok_or_else(bad)?;
    if obj.len() != ids.len() {
        return Err(bad());
    }
    ids.iter()
        .map(|id| match obj.get(id) {
            Some(Value::Array(items)) if items.len() == 1 => items[0].as_str().ok_or_else(bad),
            _ => Err(bad()),
        })
        .collect()
}

/// Checks a wallet's response to request `id` and answers the request (module docs).
pub async fn respond(node: &Arc<Node>, id: &str, form: ResponseForm) -> Result<ResponseAck> {
    let r = open_request(node, id).await?;
    let answer = answer_of(node, &r, form)?;
    if answer.state.as_deref() != Some(r.state.as_str()) {
        return Err(invalid(
            "vp.state_mismatch",
            "the response does not carry this request's state",
        ));
    }
    let now = node.now();
    if let Some(error) = answer.error {
        if error != "access_denied" {
            return Err(bad_response(format!("unknown error {error:?}")));
        }
        answer_request(node, &r, now, "refused", Vec::new(), Vec::new()).await?;
        schedule_webhook(node, &r);
        return Ok(ResponseAck {
            outcome: "refused".into(),
        });
    }
    let vp_token = answer
        .vp_token
        .ok_or_else(|| invalid("vp.bad_vp_token", "the response has no vp_token"))?;
    let parts = parts_of(node, &r.matter).await?;
    let presentations = presentations_of(&vp_token, &parts)?;
    let inst = existing(node, &r.institution).await?;
    let (mut shares, mut events) = (Vec::new(), Vec::new());
    for (m, presentation) in parts.iter().zip(presentations) {
        let (share, evs) = accept(node, &r, m, presentation, &inst, now).await?;
        shares.push(share);
        events.extend(evs);
    }
    answer_request(node, &r, now, "granted", shares, events).await?;
    schedule_webhook(node, &r);
    Ok(ResponseAck {
        outcome: "granted".into(),
    })
}

/// Checks the presentation answering part `m` of request `r` (module docs) and makes the
/// granted sharing request with its annotated copy and its three use events.
async fn accept(
    node: &Arc<Node>,
    r: &VpRequestRecord,
    m: &Matter,
    presentation: &str,
    inst: &InstitutionRecord,
    now: i64,
) -> Result<(ShareRecord, Vec<EventRecord>)> {
    let identity = node.verifier.get()?;
    let verdict = verify(
        node,
        presentation,
        &VerifyOptions {
            nonce: Some(r.nonce.clone()),
            audience: Some(identity.client_id.clone()),
            require_key_binding: true,
            max_age_secs: Some(REQUEST_SECS),
        },
    )
    .await
    .map_err(|e| match e.kind {
        // A presentation that cannot even be read (a broken KB-JWT, bad base64).
        ErrorKind::Invalid => invalid(
            "vp.presentation_invalid",
            format!("{}: {}", e.code, e.message),
        ),
        _ => e,
    })?;
    if let Some(p) = verdict.problems.first() {
        let code = match p.code.as_str() {
            "kb.nonce" => "vp.nonce_mismatch",
            "kb.aud" => "vp.audience_mismatch",
            _ => "vp.presentation_invalid",
        };
        return Err(invalid(code, format!("{}: {}", p.code, p.message)));
    }
    let vct = Node::vct(m.license_type.code.as_str());
    if verdict.claims.get("vct").and_then(Value::as_str) != Some(vct.as_str()) {
        return Err(invalid(
            "vp.wrong_type",
            format!("the matter {} needs a {}", m.need.code, m.license_type.name),
        ));
    }
    let parsed = sdjwt::parse(presentation).map_err(|e| AppError::crypto(e.into()))?;
    if let Some(extra) = parsed
        .disclosures
        .iter()
        .find(|d| d.array_element || !m.need.fields.contains(&d.name))
    {
        return Err(invalid(
            "vp.extra_disclosure",
            format!(
                "the presentation discloses {}, which the matter {} does not need",
                extra.name, m.need.code
            ),
        ));
    }
    let identifier = verdict
        .identifier
        .clone()
        .ok_or_else(|| invalid("vp.unknown_license", "the credential names no license"))?;
    let unknown = || {
        invalid(
            "vp.unknown_license",
            "the credential is not of a license held on this node",
        )
    };
    let record = node.store.license(&identifier).await?.ok_or_else(unknown)?;
    // A request addressed through the one code is answered only by a license of that person,
    // held or represented.
    if let Some(h) = &r.holder_key {
        if record.holder_key != *h && record.representative_key.as_ref() != Some(h) {
            return Err(invalid(
                "vp.not_addressed",
                "this request is addressed to another person",
            ));
        }
    }
    let license = crate::stored::License::try_from(record.clone())?;
    for f in &m.need.fields {
        let carried = elicense_core::catalogue::HOLDER_CLAIMS.contains(&f.as_str())
            || license.meta.data.contains_key(f);
        if carried && !verdict.claims.contains_key(f) {
            return Err(invalid(
                "vp.missing_claim",
                format!(
                    "the matter {} needs {f}, which was not disclosed",
                    m.need.code
                ),
            ));
        }
    }
    crate::federation::recognition::check(node, &record.issuer, &record.type_code)?;
    let mut share = ShareRecord {
        id: crate::wallet::random_id(),
        institution: inst.code.clone(),
        staff: r.staff.clone(),
        matter: m.need.code.clone(),
        purpose: r.purpose.clone(),
        identifier: record.identifier.clone(),
        lineage: record.lineage.clone(),
        holder_key: record.holder_key.clone(),
        basis: elicense_core::share::Basis::Consent.code().into(),
        state: elicense_core::share::ShareState::Granted.code().into(),
        created_at: r.created_at,
        expires_at: r.expires_at,
        decided_at: Some(now),
        copy: None,
        copy_until: None,
        keep_days: r.keep_days,
    };
    let (copy, until) = make_copy(node, &share, inst, m, r.keep_days, now).await?;
    share.copy = Some(copy);
    share.copy_until = Some(until);
    let actor = institution_actor(&inst.code);
    let kinds = [
        (elicense_core::EventKind::ShareQuery, actor.clone()),
        (elicense_core::EventKind::Consent, "holder".to_string()),
        (elicense_core::EventKind::AnnotatedCopy, actor),
    ];
    let events: Vec<EventRecord> = kinds
        .into_iter()
        .map(|(kind, actor)| {
            let reason = (kind == elicense_core::EventKind::ShareQuery).then(|| r.purpose.clone());
            use_event(&share, &inst.name, kind, actor, now, reason)
        })
        .collect();
    Ok((share, events))
}

async fn answer_request(
    node: &Node,
    r: &VpRequestRecord,
    now: i64,
    outcome: &str,
    shares: Vec<ShareRecord>,
    events: Vec<EventRecord>,
) -> Result<()> {
    match node
        .store
        .answer_vp_request(&r.id, now, outcome, shares, events)
        .await
    {
        Ok(_) => Ok(()),
        Err(elicense_store::StoreError::Conflict(_)) => Err(AppError::new(
            ErrorKind::Conflict,
            "vp.answered",
            format!("the presentation request {} has been answered", r.id),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The result an institution's webhook receives, signed: a JWS (`typ`
/// `elicense-vp-result+jwt`, ES256, the verifier certificate in `x5c`) over
/// `{"iss": node, "aud": institution, "iat", "request", "state", "matter", "share",
/// "shares"}` (`share` is the first of `shares`: one per license, several for a joint
/// matter).
pub async fn webhook_body(node: &Node, r: &VpRequestRecord) -> Result<String> {
    let identity = node.verifier.get()?;
    let payload = json!({
        "iss": node.config.base_url,
        "aud": r.institution,
        "iat": node.now(),
        "request": r.id,
        "state": state_of(r, node.now()),
        "matter": r.matter,
        "share": r.shares.first(),
        "shares": r.shares,
    });
    let mut header = Header::new(Alg::Es256).with_typ("elicense-vp-result+jwt");
    header.extra.insert(
        "x5c".into(),
        json!([base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &identity.certificate
        )]),
    );
    jws::sign(&identity.key, &header, &payload).map_err(AppError::crypto)
}

/// How long a lapsed, unanswered request is kept (so that a late wallet learns it lapsed),
/// seconds.
pub const PURGE_AFTER_SECS: i64 = 3_600;

/// Deletes unanswered requests that lapsed more than [`PURGE_AFTER_SECS`] ago; returns how
/// many.
pub async fn purge(node: &Node) -> Result<u64> {
    Ok(node
        .store
        .purge_vp_requests(node.now() - PURGE_AFTER_SECS)
        .await?)
}

/// The pause before delivery attempt `n` (0-based) of a result, seconds after the answer:
/// 0, 5, 15, 35, 75, 155.
pub fn webhook_due(answered_at: i64, attempts: u32) -> i64 {
    answered_at + 5 * ((1i64 << attempts.min(20)) - 1)
}

/// Delivers the webhooks that are due (see [`webhook_due`]), once each: a 2xx reply is
/// delivery, anything else is tried again later, at most [`WEBHOOK_ATTEMPTS`] times.
/// Returns how many were delivered.
pub async fn deliver_webhooks(node: &Arc<Node>, client: &reqwest::Client) -> Result<u32> {
    let mut delivered = 0;
    let now = node.now();
    for r in node
        .store
        .vp_webhooks_pending(WEBHOOK_ATTEMPTS, 100)
        .await?
    {
        let (Some(url), Some(answered)) = (&r.webhook, r.answered_at) else {
            continue;
        };
        if now < webhook_due(answered, r.webhook_attempts) {
            continue;
        }
        let body = webhook_body(node, &r).await?;
        let ok = client
            .post(url)
            .header("content-type", "application/jwt")
            .body(body)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .is_ok_and(|resp| resp.status().is_success());
        node.store
            .record_vp_webhook(&r.id, ok.then_some(now))
            .await?;
        delivered += u32::from(ok);
    }
    Ok(delivered)
}

/// Delivers webhooks as they become due: at once after an answer, then every second for
/// retries. Runs until the task is dropped.
pub async fn run_webhooks(node: Arc<Node>) {
    let client = crate::federation::peer::client();
    loop {
        tokio::select! {
            _ = node.vp_webhooks.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
        }
        if let Err(e) = deliver_webhooks(&node, client).await {
            tracing::warn!(code = e.code, error = %e.message, "webhook delivery failed");
        }
    }
}

fn schedule_webhook(node: &Node, r: &VpRequestRecord) {
    if r.webhook.is_some() {
        node.vp_webhooks.notify_one();
    }
}
