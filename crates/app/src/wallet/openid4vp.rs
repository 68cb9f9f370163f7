//! The node's wallet answering an OpenID4VP request of this node's verifier (a counter's QR
//! code): it shows the holder who asks (institution, staff member), for which matter and
//! purpose, which fields and for how long the copy is kept; on consent the device key signs
//! the key-binding JWT in the browser (as for [`super::present`]) and the wallet posts the
//! response exactly as any outside wallet would: the same form, encrypted to the request's
//! key in `direct_post.jwt` mode, checked by the same code
//! (`institutions::presentations::respond`). A refusal is posted as `access_denied`.
//! A joint matter asks for one license of each of its types: the holder picks one per part,
//! each is prepared and signed on its own, and all go in one response.
//!
//! Invariants: the presentation discloses exactly the fields the request's DCQL query asks
//! for that the credential carries selectively (the rest is plain in the credential); it is
//! made only for a license the signed-in person may present (holder, representative, or an
//! agent for that very matter); requests of other verifiers are not answered here
//! (`wallet.vp_foreign`).

use std::sync::Arc;

use elicense_core::agency::Act;
use elicense_core::Identifier;
use elicense_crypto::jwe::{self, Enc};
use elicense_crypto::{sdjwt, Alg};
use elicense_store::VpRequestRecord;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::identity::Identity;
use super::licenses::{self, open_for, Access};
use super::present::Prepared;
use crate::error::{AppError, ErrorKind, Result};
use crate::institutions::presentations::{self, ResponseAck, ResponseForm};
use crate::institutions::{self, Matter};
use crate::node::Node;

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

/// The request id an `openid4vp://` link (or its query, or its `request_uri`) names, when
/// the request is this node's.
pub fn request_id(node: &Node, link: &str) -> Result<String> {
    let (request_uri, client_id) = crate::openid4vp::link_params(link);
    let request_uri = request_uri.unwrap_or_else(|| link.trim().to_owned());
    let prefix = crate::openid4vp::request_uri(node, "");
    let id = request_uri
        .strip_prefix(&prefix)
        .filter(|id| {
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        })
        .ok_or_else(|| {
            invalid(
                "wallet.vp_foreign",
                "this wallet answers presentation requests of this node only",
            )
        })?;
    if let Some(c) = client_id {
        if c != node.verifier.get()?.client_id {
            return Err(invalid(
                "wallet.vp_foreign",
                "the link names another verifier than this node",
            ));
        }
    }
    Ok(id.to_owned())
}

/// A license the holder may answer with.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub identifier: String,
    pub holder_name: String,
    pub license_number: String,
    pub issuer_name: String,
}

/// One license the request asks for: a plain matter has one part, a joint matter one per
/// license type.
#[derive(Debug, Clone, Serialize)]
pub struct AskedPart {
    /// The DCQL credential query it answers.
    pub query: String,
    pub type_code: String,
    pub type_name: String,
    /// The fields asked for: the claim, and its label when it is an item of the type (the
    /// holder claims' labels are the pages' words).
    pub fields: Vec<(String, Option<String>)>,
    /// The holder's licenses of this type that can answer, current and valid.
    pub licenses: Vec<Candidate>,
}

/// What the holder sees before consenting.
#[derive(Debug, Clone, Serialize)]
pub struct Asked {
    pub request: String,
    pub institution_name: String,
    pub staff: String,
    pub matter: String,
    pub matter_name: String,
    pub matter_name_en: String,
    pub purpose: String,
    pub keep_days: u32,
    pub expires_at: i64,
    /// What is asked, license by license; the holder answers all parts or none.
    pub parts: Vec<AskedPart>,
}

impl Asked {
    /// Whether every part has a license to answer with.
    pub fn answerable(&self) -> bool {
        self.parts.iter().all(|p| !p.licenses.is_empty())
    }
}

async fn open_request(node: &Node, rid: &str) -> Result<(VpRequestRecord, Vec<Matter>)> {
    let r = presentations::open_request(node, rid).await?;
    let parts = institutions::matter_parts(node, &r.matter).await?;
    if parts.is_empty() {
        return Err(invalid(
            "share.unknown_matter",
            format!("the catalogue no longer names the matter {}", r.matter),
        ));
    }
    Ok((r, parts))
}

/// The request `rid` as the signed-in holder sees it, with the licenses that can answer.
pub async fn asked(node: &Arc<Node>, id: &Identity, rid: &str) -> Result<Asked> {
    let (r, parts) = open_request(node, rid).await?;
    let inst = node.store.institution(&r.institution).await?;
    let groups = licenses::list(node, id).await?;
    let mut asked_parts = Vec::with_capacity(parts.len());
    for (i, m) in parts.iter().enumerate() {
        let type_code = m.license_type.code.to_string();
        let mut candidates = Vec::new();
        for l in groups
            .iter()
            .filter(|g| g.type_code == type_code)
            .flat_map(|g| g.licenses.iter())
        {
            let usable = l.status == "valid"
                && (l.access != "agent" || l.agent_matter.as_deref() == Some(r.matter.as_str()));
            if usable {
                candidates.push(Candidate {
                    identifier: l.identifier.clone(),
                    holder_name: l.holder_name.clone(),
                    license_number: l.license_number.clone(),
                    issuer_name: l.issuer_name.clone(),
                });
            }
        }
        asked_parts.push(AskedPart {
            query: crate::openid4vp::query_id(&parts, i),
            type_code,
            type_name: m.license_type.name.clone(),
            fields: m
                .need
                .fields
                .iter()
                .map(|f| (f.clone(), m.license_type.item(f).map(|i| i.label.clone())))
                .collect(),
            licenses: candidates,
        });
    }
    let m = &parts[0];
    Ok(Asked {
        request: r.id.clone(),
        institution_name: inst
            .map(|i| i.name)
            .unwrap_or_else(|| r.institution.clone()),
        staff: r.staff.clone(),
        matter: m.need.code.clone(),
        matter_name: m.need.name.clone(),
        matter_name_en: m.need.name_en.clone(),
        purpose: r.purpose.clone(),
        keep_days: r.keep_days,
        expires_at: r.expires_at,
        parts: asked_parts,
    })
}

/// The part of `parts` that a license of `identifier`'s type answers (`vp.wrong_type`).
fn part_for<'a>(parts: &'a [Matter], identifier: &Identifier) -> Result<(usize, &'a Matter)> {
    parts
        .iter()
        .enumerate()
        .find(|(_, m)| &m.license_type.code == identifier.type_code())
        .ok_or_else(|| {
            let names: Vec<&str> = parts.iter().map(|m| m.license_type.name.as_str()).collect();
            invalid(
                "vp.wrong_type",
                format!(
                    "the matter {} needs a {}",
                    parts[0].need.code,
                    names.join(" and a ")
                ),
            )
        })
}

/// The license `identifier` opened for presenting it to request `r`: an agent only for the
/// request's matter (`wallet.agent_scope`).
async fn presenter(
    node: &Arc<Node>,
    id: &Identity,
    r: &VpRequestRecord,
    identifier: &Identifier,
) -> Result<licenses::Opened> {
    let opened = open_for(node, id, identifier, Act::Present).await?;
    if let Access::Agent(a) = &opened.access {
        if a.grant.matter != r.matter {
            return Err(AppError::forbidden(
                "wallet.agent_scope",
                format!("an agent may show only for the matter {}", a.grant.matter),
            ));
        }
    }
    Ok(opened)
}

/// The counters' requests addressed to the signed-in person through their one code (一码通)
/// that wait for an answer, newest first.
pub async fn addressed(node: &Arc<Node>, id: &Identity) -> Result<Vec<Asked>> {
    let mut out = Vec::new();
    for r in node
        .store
        .vp_requests_for_holders(std::slice::from_ref(&id.person_key), node.now())
        .await?
    {
        out.push(asked(node, id, &r.id).await?);
    }
    Ok(out)
}

/// Prepares the presentation of `identifier` for request `rid` with the device key `jkt`:
/// the disclosures of the asked fields, and the KB-JWT signing input (`aud` the verifier's
/// client id, the request's `nonce`) for the browser to sign.
pub async fn prepare(
    node: &Arc<Node>,
    id: &Identity,
    rid: &str,
    identifier: &Identifier,
    jkt: &str,
) -> Result<Prepared> {
    let (r, parts) = open_request(node, rid).await?;
    let (_, m) = part_for(&parts, identifier)?;
    let opened = presenter(node, id, &r, identifier).await?;
    if opened.license_type.code != m.license_type.code {
        return Err(invalid(
            "vp.wrong_type",
            format!("the matter {} needs a {}", m.need.code, m.license_type.name),
        ));
    }
    let binding = super::present::bound(node, &opened.license.record.identifier, jkt).await?;
    let parsed = sdjwt::parse(&binding.credential).map_err(|e| AppError::crypto(e.into()))?;
    let names: Vec<&str> = m
        .need
        .fields
        .iter()
        .filter(|f| parsed.disclosures.iter().any(|d| &d.name == *f))
        .map(String::as_str)
        .collect();
    let presentation =
        sdjwt::present(&binding.credential, &names).map_err(|e| AppError::crypto(e.into()))?;
    let client_id = node.verifier.get()?.client_id.clone();
    let prepared =
        sdjwt::key_binding_prepare(&presentation, &client_id, &r.nonce, node.now(), Alg::Es256);
    let signing_input = String::from_utf8(prepared.signing_input().to_vec())
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Prepared {
        id: r.id,
        presentation,
        signing_input,
    })
}

/// The form a wallet posts for request `r` with these response parameters: encrypted to the
/// request's key (from its request object) in `direct_post.jwt` mode.
fn form(node: &Node, r: &VpRequestRecord, params: Map<String, Value>) -> Result<ResponseForm> {
    if r.response_mode != "direct_post.jwt" {
        let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_owned);
        return Ok(ResponseForm {
            vp_token: params.get("vp_token").map(Value::to_string),
            state: text("state"),
            error: text("error"),
            ..Default::default()
        });
    }
    // The key the request object publishes, taken at its source rather than by building the
    // whole request object again (a matter and an institution read).
    let key = crate::openid4vp::response_key(node, &r.id).public_jwk(&r.id);
    let jwe = jwe::encrypt(
        &key,
        Enc::A128Gcm,
        Value::Object(params).to_string().as_bytes(),
        &Map::new(),
        &mut rand::rngs::OsRng,
    )
    .map_err(AppError::crypto)?;
    Ok(ResponseForm {
        response: Some(jwe),
        ..Default::default()
    })
}

/// One license's part of an answer, as prepared and signed in the browser.
#[derive(Debug, Clone)]
pub struct PartAnswer {
    pub identifier: Identifier,
    /// As prepared.
    pub presentation: String,
    /// As prepared.
    pub signing_input: String,
    /// base64url of the device key's raw 64-byte ES256 signature of `signing_input`.
    pub signature: String,
}

/// Answers request `rid` with the prepared presentations, one per part of its matter (one
/// license, or one of each type of a joint matter: `vp.wrong_type` for a license of no part,
/// `vp.bad_vp_token` for a part answered twice or not at all).
pub async fn answer(
    node: &Arc<Node>,
    id: &Identity,
    rid: &str,
    answers: &[PartAnswer],
) -> Result<ResponseAck> {
    let (r, parts) = open_request(node, rid).await?;
    let mut token = Map::new();
    for a in answers {
        let (i, _) = part_for(&parts, &a.identifier)?;
        presenter(node, id, &r, &a.identifier).await?;
        let full = format!(
            "{}{}.{}",
            a.presentation,
            a.signing_input,
            a.signature.trim()
        );
        let query = crate::openid4vp::query_id(&parts, i);
        if token.insert(query.clone(), json!([full])).is_some() {
            return Err(invalid(
                "vp.bad_vp_token",
                format!("the part {query} is answered twice"),
            ));
        }
    }
    let mut params = Map::new();
    params.insert("vp_token".into(), Value::Object(token));
    params.insert("state".into(), json!(r.state));
    let form = form(node, &r, params)?;
    presentations::respond(node, rid, form).await
}

/// Refuses request `rid` (`access_denied`).
pub async fn refuse(node: &Arc<Node>, _id: &Identity, rid: &str) -> Result<ResponseAck> {
    let (r, _) = open_request(node, rid).await?;
    let mut params = Map::new();
    params.insert("error".into(), json!("access_denied"));
    params.insert("state".into(), json!(r.state));
    let form = form(node, &r, params)?;
    presentations::respond(node, rid, form).await
}
