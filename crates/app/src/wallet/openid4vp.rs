//! The node's wallet answering an OpenID4VP request of this node's verifier (a counter's QR
//! code): it shows the holder who asks (institution, staff member), for which matter and
//! purpose, which fields and for how long the copy is kept; on consent the device key signs
//! the key-binding JWT in the browser (as for [`super::present`]) and the wallet posts the
//! response exactly as any outside wallet would: the same form, encrypted to the request's
//! key in `direct_post.jwt` mode, checked by the same code
//! (`institutions::presentations::respond`). A refusal is posted as `access_denied`.
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
    /// The fields asked for: the claim, and its label when it is an item of the type (the
    /// holder claims' labels are the pages' words).
    pub fields: Vec<(String, Option<String>)>,
    pub type_name: String,
    pub expires_at: i64,
    /// The holder's licenses that can answer, current and valid.
    pub licenses: Vec<Candidate>,
}

async fn open_request(node: &Node, rid: &str) -> Result<(VpRequestRecord, Matter)> {
    let r = presentations::open_request(node, rid).await?;
    let m = institutions::matter(node, &r.matter)
        .await?
        .ok_or_else(|| {
            invalid(
                "share.unknown_matter",
                format!("the catalogue no longer names the matter {}", r.matter),
            )
        })?;
    Ok((r, m))
}

/// The request `rid` as the signed-in holder sees it, with the licenses that can answer.
pub async fn asked(node: &Arc<Node>, id: &Identity, rid: &str) -> Result<Asked> {
    let (r, m) = open_request(node, rid).await?;
    let inst = node.store.institution(&r.institution).await?;
    let type_code = m.license_type.code.to_string();
    let mut candidates = Vec::new();
    for group in licenses::list(node, id).await? {
        if group.type_code != type_code {
            continue;
        }
        for l in group.licenses {
            let usable = l.status == "valid"
                && (l.access != "agent" || l.agent_matter.as_deref() == Some(r.matter.as_str()));
            if usable {
                candidates.push(Candidate {
                    identifier: l.identifier,
                    holder_name: l.holder_name,
                    license_number: l.license_number,
                    issuer_name: l.issuer_name,
                });
            }
        }
    }
    let fields = m
        .need
        .fields
        .iter()
        .map(|f| (f.clone(), m.license_type.item(f).map(|i| i.label.clone())))
        .collect();
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
        fields,
        type_name: m.license_type.name.clone(),
        expires_at: r.expires_at,
        licenses: candidates,
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
    let (r, m) = open_request(node, rid).await?;
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

/// Answers request `rid` with the prepared presentation of `identifier` and the device
/// key's signature (base64url of the raw 64-byte ES256 signature of `signing_input`).
pub async fn answer(
    node: &Arc<Node>,
    id: &Identity,
    rid: &str,
    identifier: &Identifier,
    presentation: &str,
    signing_input: &str,
    signature: &str,
) -> Result<ResponseAck> {
    let (r, _) = open_request(node, rid).await?;
    presenter(node, id, &r, identifier).await?;
    let full = format!("{presentation}{signing_input}.{}", signature.trim());
    let mut params = Map::new();
    params.insert(
        "vp_token".into(),
        json!({ crate::openid4vp::QUERY_ID: [full] }),
    );
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
