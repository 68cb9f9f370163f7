//! Verification of a credential or presentation, and status by identifier.
//!
//! `Err` means the input could not be checked (malformed, too large); a check that fails is a
//! problem in an `Ok(Verdict { valid: false, .. })`. The checks: the JWS signature and `typ`; the issuer
//! and key are known and the key was valid when the credential was issued; disclosure digests,
//! no duplicate or unreferenced disclosure; the validity window; the status-list entry; and
//! holder binding (KB-JWT nonce, audience, sd_hash, freshness) when present or required.
//!
//! One core ([`verify_with`]) serves every verifier: it takes its issuer keys from a
//! [`KeySource`] and its status-list values from a [`StatusSource`] (`sources`). A node
//! ([`verify`]) uses its own keys and lists, then the trust list's issuer keys and the owning
//! nodes' lists (`remote`); `elicense verify --offline` uses a cached trust list and cached
//! lists (`crate::offline`). The verdict names where its status came from
//! (`status_source`).

pub mod remote;
pub mod sources;

use std::sync::Arc;

use elicense_core::lifecycle::Status;
use elicense_core::{EventKind, Identifier, ReasonCategory};
use elicense_crypto::sdjwt::{self, KbPolicy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AppError, ErrorKind, Result};
use crate::keys::KeyStanding;
use crate::node::Node;
use crate::stored::{Event, License};
pub use sources::{
    IssuerKey, KeyOrigin, KeySource, NodeSources, StatusFrom, StatusOrigin, StatusReading,
    StatusSource,
};

/// Largest credential or presentation accepted.
pub const MAX_INPUT: usize = 256 * 1024;

/// What the verifier expects of holder binding.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VerifyOptions {
    /// Expected KB-JWT nonce; when given (or `audience` is), a KB-JWT is required.
    pub nonce: Option<String>,
    pub audience: Option<String>,
    /// Require a KB-JWT even without nonce and audience.
    #[serde(default)]
    pub require_key_binding: bool,
    /// Oldest acceptable KB-JWT, in seconds (default 300).
    pub max_age_secs: Option<i64>,
}

/// What a failed check is about. Pages and callers ask the verdict by category instead of
/// reading code prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The data is not what a known key of the issuer signed (signature, digests, issuer,
    /// key validity, format).
    Authenticity,
    /// Outside its validity period (a license's dates, an annotated copy's period of use, a
    /// presentation's minute).
    Validity,
    /// The status list says it is not in force, or its status cannot be read.
    Status,
    /// Holder binding (KB-JWT) failed or is missing.
    Binding,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub code: String,
    pub message: String,
    pub category: Category,
}

impl Problem {
    /// A problem of `category` with a stable `code`.
    pub fn new(category: Category, code: &str, message: impl Into<String>) -> Problem {
        problem(category, code, message)
    }
}

impl Verdict {
    /// Whether any problem is of `category`.
    pub fn has(&self, category: Category) -> bool {
        self.problems.iter().any(|p| p.category == category)
    }

    /// The credential is what a known key of its issuer signed (it may still be expired,
    /// revoked or badly bound).
    pub fn genuine(&self) -> bool {
        !self.has(Category::Authenticity)
    }
}

/// A license's status as the public may know it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    /// `valid`, `suspended`, `revoked`, `cancelled`, `withdrawn`, `expired`, `superseded`.
    pub code: String,
    /// Chinese label: 有效, 暂扣, 撤销, 注销, 吊销, 过期, 变更.
    pub label: String,
    /// Token Status List value: 0 valid, 1 invalid, 2 suspended.
    pub list_value: u8,
    /// The public category of the reason for the status (`on_request`, `data_error`,
    /// `issued_in_error`, `improperly_obtained`, `violation`, `court_order`,
    /// `holder_ended`, `expiry`, `transfer`, `other`).
    #[schema(value_type = Option<String>)]
    pub reason_category: Option<ReasonCategory>,
    /// The issuer's reason in its own words: shown to the holder and the issuer, absent
    /// from the public verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the status was set (unix seconds).
    pub since: Option<i64>,
    /// The version that replaced this one, when superseded.
    pub superseded_by: Option<String>,
}

/// The verdict on a credential or presentation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub valid: bool,
    pub identifier: Option<String>,
    pub issuer: Option<String>,
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub status: Option<StatusView>,
    /// The disclosed claims (registered claims plus what the holder disclosed).
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    pub key_binding: bool,
    /// Set when the credential is an annotated copy (加注件) made for an institution: who
    /// received it, for which matter and purpose, and until when it may be used.
    #[schema(value_type = Option<Object>)]
    pub annotation: Option<Value>,
    pub problems: Vec<Problem>,
    /// Where the status came from: this node's own list, another node's list (fetched or
    /// cached, with its age) or an offline cache. Absent when no status was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_source: Option<StatusOrigin>,
    /// The outside CA's certificate of the signing key, from the credential's `x5c`, when
    /// the verifier trusts that CA (`seal_trust_anchors`) and the chain holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_certificate: Option<crate::key_certificates::CertificateView>,
}

impl StatusView {
    /// What the public may see: the reason's category, without the issuer's words.
    pub fn public(self) -> StatusView {
        StatusView {
            reason: None,
            ..self
        }
    }

    /// The view of a license whose status-list entry says valid.
    fn valid() -> StatusView {
        StatusView {
            code: Status::Valid.code().to_string(),
            label: Status::Valid.label_zh().to_string(),
            list_value: 0,
            reason_category: None,
            reason: None,
            since: None,
            superseded_by: None,
        }
    }
}

fn problem(category: Category, code: &str, message: impl Into<String>) -> Problem {
    Problem {
        code: code.to_string(),
        message: message.into(),
        category,
    }
}

/// The category of a problem the SD-JWT layer found: key binding, or the credential itself.
fn sdjwt_category(p: &sdjwt::Problem) -> Category {
    if p.code.starts_with("kb.") {
        Category::Binding
    } else {
        Category::Authenticity
    }
}

/// Verifies a credential or presentation against this node's keys and status lists, then
/// the trust list's issuer keys and the owning nodes' status lists.
pub async fn verify(node: &Arc<Node>, input: &str, opts: &VerifyOptions) -> Result<Verdict> {
    let sources = NodeSources(node.clone());
    verify_with(&sources, &sources, node.now(), input, opts).await
}

/// Verifies a credential or presentation at `now` with issuer keys from `keys` and status
/// values from `status` (see the module documentation).
pub async fn verify_with(
    keys: &dyn KeySource,
    status: &dyn StatusSource,
    now: i64,
    input: &str,
    opts: &VerifyOptions,
) -> Result<Verdict> {
    let input = input.trim();
    if input.len() > MAX_INPUT {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "sdjwt.too_large",
            format!("credential is {} bytes, more than {MAX_INPUT}", input.len()),
        ));
    }
    let parsed = sdjwt::parse(input)
        .map_err(|e| AppError::new(ErrorKind::Invalid, e.code(), e.to_string()))?;
    let mut problems = Vec::new();
    let kid = parsed.kid().map(str::to_string);
    let iss = parsed.issuer().map(str::to_string);
    let alg = parsed.jws.header.alg.jws_name().to_string();

    let key = match &kid {
        Some(kid) => keys.issuer_key(kid).await?,
        None => None,
    };
    let Some(key) = key else {
        problems.push(problem(
            Category::Authenticity,
            "issuer.unknown_key",
            format!(
                "no known issuer key {}",
                kid.as_deref().unwrap_or("(no kid)")
            ),
        ));
        return Ok(Verdict {
            valid: false,
            identifier: parsed
                .jws
                .payload
                .get("jti")
                .and_then(Value::as_str)
                .map(str::to_string),
            issuer: iss,
            alg: Some(alg),
            kid,
            status: None,
            claims: Map::new(),
            key_binding: parsed.kb_jwt.is_some(),
            annotation: None,
            problems,
            status_source: None,
            issuer_certificate: None,
        });
    };
    let policy = KbPolicy {
        require: opts.require_key_binding || opts.nonce.is_some() || opts.audience.is_some(),
        aud: opts.audience.clone(),
        nonce: opts.nonce.clone(),
        now,
        max_age_secs: opts.max_age_secs.unwrap_or(300),
        leeway_secs: 60,
    };
    let verified = parsed
        .verify(key.verifier.as_ref(), &policy)
        .map_err(|e| AppError::new(ErrorKind::Invalid, e.code(), e.to_string()))?;
    // The validity window is checked below against the license's calendar dates (exactly,
    // with the license.* codes); the SD-JWT layer's leeway-based checks of the same claims
    // would report the same fact twice.
    problems.extend(
        verified
            .problems
            .iter()
            .filter(|p| p.code != "sdjwt.expired" && p.code != "sdjwt.not_yet_valid")
            .map(|p| problem(sdjwt_category(p), p.code, p.message.clone())),
    );
    if parsed.jws.header.typ.as_deref() != Some(sdjwt::TYP_SD_JWT_VC) {
        problems.push(problem(
            Category::Authenticity,
            "credential.typ",
            format!(
                "header typ {:?} is not {}",
                parsed.jws.header.typ.as_deref().unwrap_or(""),
                sdjwt::TYP_SD_JWT_VC
            ),
        ));
    }
    let claims = verified.claims;
    let issuer_certificate =
        outside_certificate(keys, &key, &parsed.jws.header, now, &mut problems);

    // The issuer named in the credential must be the key's owner, and the key valid at iat.
    let expected_iss = &key.iss;
    if iss.as_deref() != Some(expected_iss.as_str()) {
        problems.push(problem(
            Category::Authenticity,
            "issuer.mismatch",
            format!(
                "iss {:?} is not the key owner {expected_iss}",
                iss.as_deref().unwrap_or("")
            ),
        ));
    }
    let iat = claims.get("iat").and_then(Value::as_i64);
    // `iat` is when the issuer says it signed: a key revoked since a time invalidates what
    // claims to be signed at or after it, one retired (or not yet valid) what claims a time
    // outside its period (`keys::standing`).
    match iat.map(|t| key.standing_at(t)) {
        Some(KeyStanding::Valid) => {}
        Some(KeyStanding::Revoked) => problems.push(problem(
            Category::Authenticity,
            "issuer.key_revoked",
            "the issuer key is revoked (compromised) from a time at or before the credential's iat",
        )),
        Some(KeyStanding::OutOfPeriod) => problems.push(problem(
            Category::Authenticity,
            "issuer.key_not_valid",
            "the issuer key was not valid when the credential was issued",
        )),
        None => problems.push(problem(
            Category::Authenticity,
            "claims.missing_iat",
            "the credential has no iat",
        )),
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        if now < nbf {
            problems.push(problem(
                Category::Validity,
                "license.not_yet_valid",
                "the license is not valid yet",
            ));
        }
    }
    let annotation = claims.get("annotation").cloned();
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        let copy_until = annotation
            .as_ref()
            .and_then(|a| a.get("until"))
            .and_then(Value::as_i64);
        if now >= exp && copy_until.is_some_and(|u| now >= u) {
            problems.push(problem(
                Category::Validity,
                "copy.expired",
                "the annotated copy's period of use has ended",
            ));
        } else if now >= exp {
            problems.push(problem(
                Category::Validity,
                "license.expired",
                "the license's validity has ended",
            ));
        }
    }

    let identifier = claims
        .get("jti")
        .and_then(Value::as_str)
        .map(str::to_string);
    let reading = status_of_credential(status, &claims).await?;
    let status_source = reading.as_ref().ok().map(|r| r.origin.clone());
    let status = match reading {
        // The status list is authoritative; the store only explains a status that is not valid.
        Ok(r) if r.value == 0 => Some(StatusView::valid()),
        Ok(r) => {
            // A verdict is public: the reason's category, not the issuer's words.
            let view = match &identifier {
                Some(id) => status.explain(id, &r).await?,
                None => None,
            };
            if r.value == 2 {
                problems.push(problem(
                    Category::Status,
                    "status.suspended",
                    describe(&view, "the license is suspended (暂扣)"),
                ));
            } else {
                problems.push(problem(
                    Category::Status,
                    "status.invalid",
                    describe(&view, "the license is no longer valid"),
                ));
            }
            view
        }
        Err(p) => {
            problems.push(p);
            None
        }
    };
    Ok(Verdict {
        valid: problems.is_empty(),
        identifier,
        issuer: Some(key.issuer.clone()),
        alg: Some(alg),
        kid,
        status,
        claims,
        key_binding: parsed.kb_jwt.is_some(),
        annotation,
        problems,
        status_source,
        issuer_certificate,
    })
}

/// The outside CA's certificate a credential carries in `x5c`, judged when the verifier
/// trusts outside CAs: for the signing key, naming its issuer, chaining now to an anchor
/// (CRLs applied); else an `issuer.certificate_*` problem. `None` without `x5c` or anchors.
fn outside_certificate(
    keys: &dyn KeySource,
    key: &IssuerKey,
    header: &elicense_crypto::jws::Header,
    now: i64,
    problems: &mut Vec<Problem>,
) -> Option<crate::key_certificates::CertificateView> {
    let x5c = header.extra.get("x5c")?;
    let (anchors, crls) = keys.outside_cas();
    if anchors.is_empty() {
        return None;
    }
    use crate::key_certificates::{chain_of_x5c, check_chain, ChainFault, ChainProblem};
    use elicense_seal::ca::ChainError;
    let checked = match chain_of_x5c(x5c) {
        Some(chain) => check_chain(&chain, &key.jwk, &key.issuer, anchors, crls, now),
        None => Err(ChainProblem {
            fault: ChainFault::BadChain,
            message: "x5c is not an array of base64 certificates".into(),
        }),
    };
    match checked {
        Ok(view) => Some(view),
        Err(p) => {
            let code = match p.fault {
                ChainFault::WrongKey => "issuer.certificate_wrong_key",
                ChainFault::WrongSubject => "issuer.certificate_wrong_subject",
                ChainFault::Chain(ChainError::Untrusted(_)) => "issuer.certificate_untrusted",
                ChainFault::Chain(ChainError::Expired(_) | ChainError::NotYetValid(_)) => {
                    "issuer.certificate_expired"
                }
                ChainFault::Chain(ChainError::Revoked(_)) => "issuer.certificate_revoked",
                ChainFault::BadChain | ChainFault::Chain(_) => "issuer.certificate_invalid",
            };
            problems.push(problem(Category::Authenticity, code, p.message));
            None
        }
    }
}

fn describe(view: &Option<StatusView>, fallback: &str) -> String {
    match view {
        Some(v) => match &v.reason_category {
            Some(r) => format!("{} ({}): {} ({r})", v.label, v.code, r.label_zh()),
            None => format!("{} ({})", v.label, v.code),
        },
        None => fallback.to_string(),
    }
}

/// The status-list value the credential points at, or the problem that prevents reading it.
async fn status_of_credential(
    status: &dyn StatusSource,
    claims: &Map<String, Value>,
) -> Result<std::result::Result<StatusReading, Problem>> {
    let Some(sl) = claims.get("status").and_then(|s| s.get("status_list")) else {
        return Ok(Err(problem(
            Category::Status,
            "status.missing",
            "the credential names no status list",
        )));
    };
    let (Some(uri), Some(idx)) = (
        sl.get("uri").and_then(Value::as_str),
        sl.get("idx").and_then(Value::as_u64),
    ) else {
        return Ok(Err(problem(
            Category::Status,
            "status.malformed",
            "status_list needs uri and idx",
        )));
    };
    status.status(uri, idx).await
}

/// Status of a license version by identifier, with the reason of the last status change;
/// `None` when this node does not hold it.
pub async fn status_view(node: &Arc<Node>, identifier: &Identifier) -> Result<Option<StatusView>> {
    match node.store.license(identifier.as_str()).await? {
        Some(rec) => Ok(Some(status_view_of(node, &License::try_from(rec)?).await?)),
        None => Ok(None),
    }
}

/// The event that set a stored license version's current status: its issue or the last
/// lifecycle action that changed it ([`EventKind::sets_status`]).
fn status_event<'a>(license: &License, events: &'a [Event]) -> Option<&'a Event> {
    events
        .iter()
        .rev()
        .filter(|e| e.record.identifier == license.record.identifier)
        .find(|e| e.kind.sets_status())
}

/// Status of a stored license version, with the reason of the last status change.
pub async fn status_view_of(node: &Arc<Node>, license: &License) -> Result<StatusView> {
    Ok(status_view_parts(node, license).await?.0)
}

/// The status view and the event that set the status (one read of the events).
async fn status_view_parts(
    node: &Arc<Node>,
    license: &License,
) -> Result<(StatusView, Option<elicense_store::EventRecord>)> {
    let events = crate::stored::event::all(node.store.events(&license.record.lineage).await?)?;
    let last = status_event(license, &events);
    let superseded_by = events
        .iter()
        .filter(|e| e.record.identifier == license.record.identifier)
        .find_map(|e| e.detail_text("successor").map(str::to_string));
    let changed = last.filter(|e| e.kind != EventKind::Issue);
    let view = StatusView {
        code: license.status.code().to_string(),
        label: license.status.label_zh().to_string(),
        list_value: license.record.status_value,
        reason_category: changed.and_then(|e| e.reason_category),
        reason: changed.and_then(|e| e.record.reason.clone()),
        since: last.map(|e| e.record.at),
        superseded_by,
    };
    Ok((view, last.map(|e| e.record.clone())))
}

/// Public facts about a license version, by identifier: no personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    pub identifier: String,
    pub type_code: String,
    pub type_name: String,
    pub issuer: String,
    pub issuer_name: String,
    pub version: u32,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub status: StatusView,
    pub status_list: crate::issue::StatusRef,
}

/// `GET /api/v1/licenses/{identifier}/verification`: status by identifier, public.
pub async fn public_status(node: &Arc<Node>, identifier: &Identifier) -> Result<PublicStatus> {
    Ok(public_status_parts(node, identifier).await?.0)
}

/// The public status and the log leaf index of the event that set it, when that event's
/// inclusion in the signed log checks out (what the public page shows as "in the log").
pub async fn public_status_in_log(
    node: &Arc<Node>,
    identifier: &Identifier,
) -> Result<(PublicStatus, Option<u64>)> {
    let (public, event) = public_status_parts(node, identifier).await?;
    let index = match event {
        Some(e) => crate::log::event_in_log(node, &e).await?,
        None => None,
    };
    Ok((public, index))
}

async fn public_status_parts(
    node: &Arc<Node>,
    id: &Identifier,
) -> Result<(PublicStatus, Option<elicense_store::EventRecord>)> {
    let rec = node
        .store
        .license(id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("license.not_found", format!("no license {id}")))?;
    let license = License::try_from(rec)?;
    let (status, event) = status_view_parts(node, &license).await?;
    // The public sees the reason's category only; the words stay with holder and issuer.
    let status = status.public();
    let meta = &license.meta;
    let public = PublicStatus {
        identifier: license.record.identifier.clone(),
        type_code: license.record.type_code.clone(),
        type_name: meta.type_name.clone(),
        issuer: license.record.issuer.clone(),
        issuer_name: meta.issuer_name.clone(),
        version: license.record.version,
        valid_from: Some(crate::timeutil::format(meta.valid_from)),
        valid_until: meta.valid_until.map(crate::timeutil::format),
        status,
        status_list: crate::issue::StatusRef {
            uri: node.status.uri(license.record.status_list),
            idx: license.record.status_idx,
        },
    };
    Ok((public, event))
}
