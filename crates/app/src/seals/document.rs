//! Sealing PDFs with the node's seals and verifying sealed PDFs ("who signs, verifies").
//!
//! Sealing: the user (or system) acting must be allowed to use every seal named
//! ([`Principal::may_use`]), each seal must be active and inside its validity; the seals are
//! applied in order, each as one incremental update (a joint seal of several seals or owners
//! keeps every earlier signature valid), and every use is recorded with the sealed
//! document's hash before the document is returned.
//!
//! Verifying: anyone, no account. Each signature is checked against the document as it is
//! now, the seal's maker signature and validity window, the certificates against the trust
//! anchors (the node's seal CAs, their revocation lists, any outside CA the operator lists in
//! `seal_trust_anchors`, and the seal CAs of the other members of the network as the hub's
//! trust list names them), and the seal's status now: this node's register for its own
//! seals, the owning member's revocation list (fetched from it for each verification, never
//! cached) for another node's.

use std::sync::Arc;

use elicense_seal::ca::named_issuer;
use elicense_seal::document::{self as doc, DocVerdict, SealJob, SealStatus, Trust};
use elicense_seal::ses::Seal;
use elicense_store::{SealRecord, SealUseRecord};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{alg_of, ca, invalid, kind_name, record, signer, Principal};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Largest PDF the node seals or verifies (bytes).
pub const MAX_PDF_BYTES: usize = 32 * 1024 * 1024;

/// Default place of a seal on its page: 42 mm square, bottom right of an A4 page (PDF
/// points).
pub const DEFAULT_RECT: [f64; 4] = [400.0, 80.0, 519.0, 199.0];

/// Where one seal goes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// The seal's id.
    pub seal: String,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// `[x1, y1, x2, y2]` in PDF points (default: 42 mm square at the bottom right).
    pub rect: Option<[f64; 4]>,
}

/// One seal of a verified document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignatureView {
    /// The signature field's name.
    pub field: String,
    /// 1-based page of the seal's picture.
    pub page: Option<u32>,
    /// The seal's id (its number), when a seal was found.
    pub seal_id: Option<String>,
    pub seal_name: Option<String>,
    /// `official`, `contract`, `finance`, `invoice`, `legal_rep` (or `other:<n>`).
    pub kind: Option<String>,
    /// The signer certificate's subject: the seal's owner (name, USCC).
    pub owner: Option<String>,
    /// `sm2` or `es256`.
    pub alg: Option<String>,
    /// The signing time the signer claims (unix seconds).
    pub signed_at: Option<i64>,
    /// The signature covers the document to its end (nothing came after it).
    pub covers_whole_document: bool,
    /// What later revisions changed (`pdf.update.*` codes).
    pub later_changes: Vec<String>,
    /// The signature verifies over the bytes it signs.
    pub signature_ok: bool,
    /// The seal's maker signature verifies, it lists the signer and was valid when used.
    pub seal_ok: bool,
    /// The certificates chain to a trusted CA now (revocation lists applied).
    pub chain_ok: bool,
    /// The seal's status now: `active`, `suspended`, `revoked` from this node's register or,
    /// for another member's seal, from that member's revocation list; `unknown` when neither
    /// knows it.
    pub status_now: Option<String>,
    /// Stable codes of everything wrong (`pdf.*`, `cms.*`, `seal.*`, `chain.*`).
    pub problems: Vec<String>,
    pub valid: bool,
}

/// What a sealed PDF proves: who sealed it, and whether each seal holds for the document as
/// it is now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentVerdict {
    /// At least one seal, every seal valid, nothing but signatures added after the last.
    pub valid: bool,
    pub signatures: Vec<SignatureView>,
    /// Something other than a signature was added after the last seal (a page, changed
    /// content).
    pub modified_after_last: bool,
    pub changes_after_last: Vec<String>,
}

impl DocumentVerdict {
    fn of(v: DocVerdict) -> DocumentVerdict {
        DocumentVerdict {
            valid: v.valid,
            modified_after_last: v.modified_after_last,
            changes_after_last: v.changes_after_last,
            signatures: v
                .signatures
                .into_iter()
                .map(|s| SignatureView {
                    field: s.field,
                    page: s.page.map(|p| p as u32 + 1),
                    seal_id: s.seal_id,
                    seal_name: s.seal_name,
                    kind: s.kind.map(kind_name),
                    owner: s.owner,
                    alg: s.alg.map(|a| match a {
                        elicense_seal::SigAlg::Sm2WithSm3 => "sm2".to_owned(),
                        elicense_seal::SigAlg::EcdsaWithSha256 => "es256".to_owned(),
                    }),
                    signed_at: s.signed_at.map(OffsetDateTime::unix_timestamp),
                    covers_whole_document: s.covers_whole_document,
                    later_changes: s.later_changes,
                    signature_ok: s.signature_ok,
                    seal_ok: s.seal_ok,
                    chain_ok: s.chain_ok,
                    status_now: s.status_now.map(|x| x.as_str().to_owned()),
                    problems: s.problems,
                    valid: s.valid,
                })
                .collect(),
        }
    }
}

fn doc_error(e: doc::DocError) -> AppError {
    AppError::new(ErrorKind::Invalid, e.code(), e.to_string())
}

fn check_size(pdf: &[u8]) -> Result<()> {
    if pdf.len() > MAX_PDF_BYTES {
        return Err(invalid(
            "pdf.too_large",
            format!("a PDF of at most {MAX_PDF_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Whether seal `r` may sign at `now`: `seal.not_active`, `seal.outside_validity`.
fn usable(r: &SealRecord, now: i64) -> Result<()> {
    if r.status != "active" {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "seal.not_active",
            format!("the seal {} is {}", r.id, r.status),
        ));
    }
    if now < r.valid_from || now >= r.valid_to {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "seal.outside_validity",
            format!("the seal {} is not valid now", r.id),
        ));
    }
    Ok(())
}

/// A seal ready to apply, owned (it crosses into a blocking task).
struct Ready {
    record: SealRecord,
    seal: Seal,
    key: Arc<elicense_crypto::KeyPair>,
    chain: Vec<Vec<u8>>,
    page: u32,
    rect: [f64; 4],
}

/// Seals `pdf` with the seals of `placements`, in order, for `who` (`seal.not_allowed` for a
/// seal `who` may not use, `seal.not_found`, `seal.not_active`, `seal.outside_validity`,
/// `seal.bad_placement`, `pdf.*` for a PDF that cannot be sealed). Records one use per seal.
pub async fn seal(
    node: &Arc<Node>,
    who: &Principal,
    pdf: &[u8],
    placements: &[Placement],
    purpose: &str,
) -> Result<Vec<u8>> {
    check_size(pdf)?;
    if placements.is_empty() || placements.len() > 16 {
        return Err(invalid("seal.bad_placement", "name 1 to 16 seals"));
    }
    let purpose = purpose.trim();
    if purpose.chars().count() > 200 {
        return Err(invalid(
            "seal.bad_purpose",
            "a purpose of at most 200 characters",
        ));
    }
    let now = node.now();
    let mut ready = Vec::with_capacity(placements.len());
    for p in placements {
        let r = record(node, &p.seal).await?;
        if !who.may_use(&r) {
            return Err(AppError::forbidden(
                "seal.not_allowed",
                format!("{} may not use the seal {}", who.actor(), r.id),
            ));
        }
        usable(&r, now)?;
        let page = p.page.unwrap_or(1);
        if page == 0 {
            return Err(invalid("seal.bad_placement", "pages are numbered from 1"));
        }
        let seal = Seal::from_der(&r.seal)
            .map_err(|e| AppError::internal(format!("stored seal {}: {e}", r.id)))?;
        let key = signer(node, &r).await?;
        let ca = ca::get(node, alg_of(Some(&r.alg))?).await?;
        ready.push(Ready {
            chain: vec![ca.ca.certificate().to_vec()],
            record: r,
            seal,
            key,
            page,
            rect: p.rect.unwrap_or(DEFAULT_RECT),
        });
    }
    let at =
        OffsetDateTime::from_unix_timestamp(now).map_err(|e| AppError::internal(e.to_string()))?;
    let input = pdf.to_vec();
    // Parsing and signing a document is CPU work: off the async threads.
    let (sealed, ready) = tokio::task::spawn_blocking(move || {
        let jobs: Vec<SealJob> = ready
            .iter()
            .map(|r| SealJob {
                seal: &r.seal,
                signer: r.key.as_ref(),
                certificate: &r.record.certificate,
                chain: &r.chain,
                page: (r.page - 1) as usize,
                rect: r.rect,
            })
            .collect();
        let sealed = doc::seal_pdf(&input, &jobs, at);
        (sealed, ready)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?;
    let sealed = sealed.map_err(doc_error)?;
    let digest = hex::encode(Sha256::digest(&sealed));
    let uses = ready
        .iter()
        .map(|r| SealUseRecord {
            seq: 0,
            seal: r.record.id.clone(),
            at: now,
            actor: who.actor(),
            document: digest.clone(),
            page: r.page,
            purpose: purpose.to_owned(),
        })
        .collect();
    node.store.record_seal_uses(uses).await?;
    Ok(sealed)
}

/// The trust anchors and revocation lists this node verifies seals against: its own seal CAs
/// (with their current revocation lists), the outside CAs the operator listed, and the seal
/// CAs of other members (from the trust list) that issued a certificate in `certs`, with the
/// revocation lists fetched from their nodes now. Returns also the member CAs whose list
/// could not be had.
async fn trust(node: &Arc<Node>, certs: &[&[u8]]) -> Result<(Trust, Vec<Vec<u8>>)> {
    let mut anchors = Vec::new();
    let mut crls = Vec::new();
    for alg in [elicense_crypto::Alg::Sm2, elicense_crypto::Alg::Es256] {
        let ca = ca::get(node, alg).await?;
        anchors.push(ca.ca.certificate().to_vec());
        crls.push(super::crl(node, alg).await?);
    }
    anchors.extend(node.config.seal_trust_anchors.iter().cloned());
    crls.extend(node.config.seal_crls.iter().cloned());
    let members = member_cas(node, certs, &anchors);
    let fetched = futures::future::join_all(members.iter().map(fetch_crl)).await;
    let mut unavailable = Vec::new();
    for (m, crl) in members.into_iter().zip(fetched) {
        match crl {
            Some(crl) => crls.push(crl),
            None => unavailable.push(m.certificate.clone()),
        }
        anchors.push(m.certificate);
    }
    Ok((Trust { anchors, crls }, unavailable))
}

/// A seal CA of another member of the network, as the trust list names it.
struct MemberCa {
    /// The member's base URL.
    url: String,
    /// `sm2` or `es256`.
    alg: String,
    certificate: Vec<u8>,
}

/// The seal CAs of the other members in the trust list held that name themselves issuer of
/// one of `certs` (and are not already among `anchors`).
fn member_cas(node: &Node, certs: &[&[u8]], anchors: &[Vec<u8>]) -> Vec<MemberCa> {
    use base64::Engine;
    let Some(list) = node.trust.current() else {
        return Vec::new();
    };
    let mut out: Vec<MemberCa> = Vec::new();
    for n in &list.nodes {
        for (alg, b64) in &n.seal_cas {
            let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64) else {
                continue;
            };
            let known = anchors.contains(&der) || out.iter().any(|m| m.certificate == der);
            if !known && certs.iter().any(|c| named_issuer(c, &der)) {
                out.push(MemberCa {
                    url: n.url.trim_end_matches('/').to_owned(),
                    alg: alg.clone(),
                    certificate: der,
                });
            }
        }
    }
    out
}

/// The member's current revocation list for its seal CA (`GET /api/v1/seal-ca/{alg}/crl`),
/// or `None` when it cannot be had. The list is signed by the CA: the chain check verifies it
/// and ignores a list the CA did not sign.
async fn fetch_crl(m: &MemberCa) -> Option<Vec<u8>> {
    let url = format!("{}/api/v1/seal-ca/{}/crl", m.url, m.alg);
    let resp = crate::federation::peer::client()
        .get(&url)
        .send()
        .await
        .inspect_err(|e| tracing::warn!(%url, error = %e, "seal CRL unreachable"))
        .ok()?;
    if !resp.status().is_success() {
        tracing::warn!(%url, status = %resp.status(), "seal CRL refused");
        return None;
    }
    resp.bytes().await.ok().map(|b| b.to_vec())
}

/// A seal's status as this node files it (`Unknown` for one filed elsewhere).
fn status_of(r: Option<SealRecord>) -> SealStatus {
    let since = |r: &SealRecord| OffsetDateTime::from_unix_timestamp(r.status_at).ok();
    match r {
        None => SealStatus::Unknown,
        Some(r) if r.status == "active" => SealStatus::Active,
        Some(r) if r.status == "suspended" => SealStatus::Suspended { since: since(&r) },
        Some(r) => SealStatus::Revoked { since: since(&r) },
    }
}

/// Verifies a sealed PDF: every seal signature, with the seal's status now: from this node's
/// register when it files the seal, else from the revocation list of the member of the
/// network whose seal CA certified it (`seal.status_unavailable` when that node does not
/// answer), else `unknown`. `pdf.*` only for a file that is not a readable PDF; a bad seal
/// is a verdict.
pub async fn verify(node: &Arc<Node>, pdf: &[u8]) -> Result<DocumentVerdict> {
    check_size(pdf)?;
    let now = OffsetDateTime::from_unix_timestamp(node.now())
        .map_err(|e| AppError::internal(e.to_string()))?;
    let input = pdf.to_vec();
    let inspection = tokio::task::spawn_blocking(move || doc::inspect(&input, now))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(doc_error)?;
    let (trust, unavailable) = trust(node, &inspection.certificates()).await?;
    let store = node.store.clone();
    let handle = tokio::runtime::Handle::current();
    let (mut verdict, signers) = tokio::task::spawn_blocking(move || {
        // The status callback is synchronous: it reads the store from this blocking thread.
        let status = |id: &str| Some(status_of(handle.block_on(store.seal(id)).ok().flatten()));
        let verdict = inspection.judge(&trust, &status);
        let signers: Vec<Option<Vec<u8>>> = inspection
            .signer_certificates()
            .into_iter()
            .map(|c| c.map(<[u8]>::to_vec))
            .collect();
        (verdict, signers)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?;
    // A member's seal whose status could not be asked is not known to be valid now.
    for (s, signer) in verdict.signatures.iter_mut().zip(&signers) {
        let from_silent_member = signer
            .as_deref()
            .is_some_and(|c| unavailable.iter().any(|ca| named_issuer(c, ca)));
        if from_silent_member && s.status_now == Some(SealStatus::Unknown) {
            s.problems.push("seal.status_unavailable".to_owned());
            s.valid = false;
            verdict.valid = false;
        }
    }
    Ok(DocumentVerdict::of(verdict))
}
