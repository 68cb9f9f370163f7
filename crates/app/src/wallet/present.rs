//! Showing a license at a counter: the holder's device key signs a short-lived, holder-bound
//! presentation; the node keeps it for 60 seconds under a short reference that a QR code can
//! carry; a verifier opens the reference and sees the verdict and the disclosed fields.
//!
//! Flow (the device key never leaves the browser; WebCrypto P-256, non-extractable):
//! 1. [`bind`]: the wallet registers the device's public JWK for a license; the issuer signs a
//!    copy of the credential bound to it (`cnf.jwk`), kept per (license, key thumbprint), at
//!    most `MAX_BINDINGS` per license (the oldest is dropped).
//! 2. [`prepare`]: the node selects the disclosures the holder chose and builds the KB-JWT
//!    header and payload (`aud` = the node's verification page, fresh `nonce`, `iat` = now,
//!    `sd_hash`) and stores them with the matter, under a new reference; the browser signs
//!    the signing input.
//! 3. [`complete`]: the browser sends the reference and the signature only; the node adds
//!    the signature to what it stored, checks the whole presentation (issuer signature, key
//!    binding by the bound key, its own nonce, freshness) and keeps it until `iat + 60 s`;
//!    the use is logged. The matter and nonce are the ones stored at `prepare`: the browser
//!    cannot change them, and an agent cannot label a presentation with another matter.
//! 4. [`open`]: anyone with the reference gets the verdict; after 60 s,
//!    `presentation.expired`. Only the first opening is a use (logged); later openings have
//!    no side effect.
//!
//! Every step but `open` needs the current version of the license (`wallet.superseded`).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use elicense_crypto::sdjwt;
use elicense_crypto::{Alg, Jwk};
use elicense_store::{BindingRecord, EventRecord, PresentationRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::identity::Identity;
use super::licenses::{open_for, Access, Opened};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::verify::{verify, Category, Problem, Verdict, VerifyOptions};
use elicense_core::agency::Act;
use elicense_core::Identifier;

/// How long a shown presentation stays valid, seconds.
pub const PRESENTATION_SECS: i64 = 60;

/// How long an expired presentation (which holds the disclosed personal data) is kept before
/// the sweeper deletes it, seconds: meanwhile a verifier who opens it learns that it expired
/// rather than that it never existed.
pub const PURGE_AFTER_SECS: i64 = 300;

/// Deletes presentations that expired more than [`PURGE_AFTER_SECS`] ago (the node's
/// sweeper calls it); returns how many.
pub async fn purge_expired(node: &Node) -> Result<u64> {
    Ok(node
        .store
        .purge_presentations(node.now() - PURGE_AFTER_SECS)
        .await?)
}

/// The `aud` of wallet presentations: this node's verification page.
pub fn audience(node: &Node) -> String {
    format!("{}/verify", node.config.base_url)
}

/// Where a verifier opens presentation `id`.
pub fn presentation_url(node: &Node, id: &str) -> String {
    format!("{}/verify/p/{id}", node.config.base_url)
}

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

/// Registers a device key for a license; returns its thumbprint. Idempotent per key.
pub async fn bind(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    jwk: &str,
) -> Result<String> {
    let opened = open_for(node, id, identifier, Act::Bind).await?;
    let value: serde_json::Value =
        serde_json::from_str(jwk).map_err(|e| invalid("wallet.bad_jwk", e.to_string()))?;
    if value.get("d").is_some() {
        return Err(invalid(
            "wallet.bad_jwk",
            "a device key is registered by its public part only",
        ));
    }
    let jwk: Jwk =
        serde_json::from_value(value).map_err(|e| invalid("wallet.bad_jwk", e.to_string()))?;
    match jwk.alg() {
        Ok(Alg::Es256) => {}
        _ => {
            return Err(invalid(
                "wallet.bad_jwk",
                "the device key must be an EC P-256 public key",
            ))
        }
    }
    jwk.verifier(None)
        .map_err(|e| invalid("wallet.bad_jwk", e.to_string()))?;
    let jkt = jwk.thumbprint();
    if node
        .store
        .binding(&opened.license.record.identifier, &jkt)
        .await?
        .is_some()
    {
        return Ok(jkt);
    }
    let credential = crate::issue::bound_copy(
        node,
        &opened.license.record,
        &opened.license_type,
        &opened.license.meta,
        jwk.clone(),
    )
    .await?;
    node.store
        .put_binding(BindingRecord {
            identifier: opened.license.record.identifier.clone(),
            jkt: jkt.clone(),
            jwk: serde_json::to_string(&jwk).map_err(|e| AppError::internal(e.to_string()))?,
            credential,
            created_at: node.now(),
        })
        .await?;
    Ok(jkt)
}

/// The fields a holder may disclose, in catalogue order: holder claims, then every
/// selectively disclosable item the license has. Always-disclosed items are not listed.
pub fn disclosable(opened: &Opened) -> Vec<String> {
    let mut out: Vec<String> = elicense_core::catalogue::HOLDER_CLAIMS
        .iter()
        .filter(|c| **c != "license_number" || opened.license_type.item("license_number").is_none())
        .map(|c| c.to_string())
        .collect();
    for item in &opened.license_type.items {
        if item.disclosure == elicense_core::catalogue::Disclosure::Selective
            && opened.license.meta.data.contains_key(&item.name)
        {
            out.push(item.name.clone());
        }
    }
    out
}

/// The copy of license `identifier` bound to device key `jkt` (`wallet.not_bound` when the
/// key is not registered for it).
pub(crate) async fn bound(node: &Node, identifier: &str, jkt: &str) -> Result<BindingRecord> {
    node.store.binding(identifier, jkt).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::Conflict,
            "wallet.not_bound",
            "this device key is not registered for the license",
        )
    })
}

/// What the browser signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    /// Reference of the prepared presentation: [`complete`] takes it with the signature.
    pub id: String,
    /// The SD-JWT with the chosen disclosures, ending with `~`.
    pub presentation: String,
    /// The KB-JWT signing input (`header.payload`, base64url) to sign with ES256.
    pub signing_input: String,
}

/// Prepares a presentation of the chosen fields for the device key `jkt`, for `matter`
/// (an agent must name the matter of its authorization and show only what it needs).
pub async fn prepare(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    jkt: &str,
    fields: &[String],
    matter: Option<&str>,
) -> Result<Prepared> {
    let opened = open_for(node, id, identifier, Act::Present).await?;
    let allowed = disclosable(&opened);
    if let Some(f) = fields.iter().find(|f| !allowed.contains(f)) {
        return Err(invalid(
            "wallet.field_not_disclosable",
            format!("{f} cannot be disclosed from this license"),
        ));
    }
    if let Access::Agent(a) = &opened.access {
        let need = opened
            .license_type
            .matters
            .iter()
            .find(|m| m.code == a.grant.matter)
            .map(|m| m.fields.clone())
            .unwrap_or_default();
        if matter != Some(a.grant.matter.as_str()) || fields.iter().any(|f| !need.contains(f)) {
            return Err(AppError::forbidden(
                "wallet.agent_scope",
                format!(
                    "an agent may show only what the matter {} needs",
                    a.grant.matter
                ),
            ));
        }
    }
    if let Some(m) = matter {
        if !opened.license_type.matters.iter().any(|x| x.code == m) {
            return Err(invalid("wallet.unknown_matter", format!("no matter {m}")));
        }
        // A matter of this node accepts a license from another region only under a
        // mutual-recognition list.
        crate::federation::recognition::check(
            node,
            &opened.license.record.issuer,
            &opened.license.record.type_code,
        )?;
    }
    let binding = bound(node, &opened.license.record.identifier, jkt).await?;
    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
    let presentation =
        sdjwt::present(&binding.credential, &names).map_err(|e| AppError::crypto(e.into()))?;
    let nonce = super::random_id();
    let now = node.now();
    let prepared =
        sdjwt::key_binding_prepare(&presentation, &audience(node), &nonce, now, Alg::Es256);
    let signing_input = String::from_utf8(prepared.signing_input().to_vec())
        .map_err(|e| AppError::internal(e.to_string()))?;
    let rec = PresentationRecord {
        id: super::random_id(),
        identifier: opened.license.record.identifier.clone(),
        presentation: format!("{presentation}{signing_input}"),
        matter: matter.map(str::to_owned),
        jkt: jkt.to_owned(),
        nonce,
        created_at: now,
        expires_at: now + PRESENTATION_SECS,
        completed_at: None,
        opened_at: None,
    };
    node.store.put_presentation(rec.clone()).await?;
    Ok(Prepared {
        id: rec.id,
        presentation,
        signing_input,
    })
}

/// A stored presentation, ready to show as a QR code.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: String,
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

fn no_prepared() -> AppError {
    AppError::not_found(
        "wallet.no_prepared_presentation",
        "no such prepared presentation: prepare it again",
    )
}

/// Completes prepared presentation `pid` of license `identifier` with the device key's
/// signature (base64url of the raw 64-byte ES256 signature of the stored signing input),
/// checks it and logs the use.
pub async fn complete(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    pid: &str,
    signature_b64: &str,
) -> Result<Shown> {
    let opened = open_for(node, id, identifier, Act::Present).await?;
    let now = node.now();
    let rec = node
        .store
        .presentation(pid)
        .await?
        .filter(|p| p.identifier == opened.license.record.identifier && p.completed_at.is_none())
        .ok_or_else(no_prepared)?;
    if now >= rec.expires_at {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "wallet.prepared_expired",
            "the prepared presentation expired: prepare it again",
        ));
    }
    if let Access::Agent(a) = &opened.access {
        if rec.matter.as_deref() != Some(a.grant.matter.as_str()) {
            return Err(AppError::forbidden(
                "wallet.agent_scope",
                format!("an agent may show only for the matter {}", a.grant.matter),
            ));
        }
    }
    let sig = B64
        .decode(signature_b64.trim())
        .map_err(|_| invalid("wallet.bad_signature", "the signature is not base64url"))?;
    if sig.len() != 64 {
        return Err(invalid(
            "wallet.bad_signature",
            "expected a 64-byte ES256 signature over the prepared input",
        ));
    }
    let full = format!("{}.{}", rec.presentation, B64.encode(&sig));
    let verdict = check(node, &full, Some(&rec.nonce)).await?;
    if let Some(p) = verdict
        .problems
        .iter()
        .find(|p| matches!(p.category, Category::Authenticity | Category::Binding))
    {
        return Err(invalid(
            "wallet.presentation_invalid",
            format!("{}: {}", p.code, p.message),
        ));
    }
    if verdict.identifier.as_deref() != Some(opened.license.record.identifier.as_str()) {
        return Err(invalid(
            "wallet.presentation_invalid",
            "the presentation is of another license",
        ));
    }
    let fields: Vec<&str> = verdict.claims.keys().map(String::as_str).collect();
    let expires_at = now + PRESENTATION_SECS;
    let event = EventRecord {
        seq: 0,
        identifier: opened.license.record.identifier.clone(),
        kind: elicense_core::EventKind::Present.to_string(),
        actor: opened.access.kind().into(),
        at: now,
        reason: None,
        reason_category: None,
        detail: json!({"matter": rec.matter, "fields": fields}).to_string(),
    };
    node.store
        .complete_presentation(&rec.id, &full, now, expires_at, event)
        .await
        .map_err(|e| match e {
            elicense_store::StoreError::Conflict(_) => no_prepared(),
            e => e.into(),
        })?;
    Ok(Shown {
        url: presentation_url(node, &rec.id),
        id: rec.id,
        expires_at,
    })
}

async fn check(node: &Arc<Node>, full: &str, nonce: Option<&str>) -> Result<Verdict> {
    verify(
        node,
        full,
        &VerifyOptions {
            nonce: nonce.map(str::to_owned),
            audience: Some(audience(node)),
            require_key_binding: true,
            max_age_secs: Some(PRESENTATION_SECS),
        },
    )
    .await
}

/// What a verifier sees of a presentation.
#[derive(Debug, Clone, Serialize)]
pub struct Opening {
    pub verdict: Verdict,
    pub matter: Option<String>,
    pub expires_at: i64,
}

/// Opens presentation `pid` for a verifier: `presentation.not_found` if there is none (or it
/// was purged, or never completed), a verdict with the problem `presentation.expired` once
/// its 60 s are over. The first opening is logged as a use; later ones change nothing.
pub async fn open(node: &Arc<Node>, pid: &str) -> Result<Opening> {
    let rec = node
        .store
        .presentation(pid)
        .await?
        .filter(|p| p.completed_at.is_some())
        .ok_or_else(|| {
            AppError::not_found(
                "presentation.not_found",
                "no such presentation: it was never made or has been cleared",
            )
        })?;
    let now = node.now();
    let mut verdict = check(node, &rec.presentation, Some(&rec.nonce)).await?;
    if now >= rec.expires_at {
        verdict.valid = false;
        verdict.claims.clear();
        verdict.problems.insert(
            0,
            Problem::new(
                Category::Validity,
                "presentation.expired",
                "this presentation has expired: ask the holder to show a fresh QR code",
            ),
        );
    } else if rec.opened_at.is_none() {
        // Two verifiers opening at once: the store lets exactly one record the use.
        node.store
            .open_presentation(
                &rec.id,
                now,
                EventRecord {
                    seq: 0,
                    identifier: rec.identifier.clone(),
                    kind: elicense_core::EventKind::Verify.to_string(),
                    actor: "verifier".into(),
                    at: now,
                    reason: None,
                    reason_category: None,
                    detail: json!({"matter": rec.matter, "presentation": rec.id}).to_string(),
                },
            )
            .await?;
    }
    Ok(Opening {
        verdict,
        matter: rec.matter,
        expires_at: rec.expires_at,
    })
}
