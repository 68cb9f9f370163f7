//! Electronic seals (电子印章, GB/T 38540): the seals filed with the node (备案), their
//! certificates from the node's seal CA, their status, sealing PDFs with them and verifying
//! sealed PDFs ("who signs, verifies").
//!
//! A seal belongs to an owner (an issuing authority, an institution or an enterprise, by
//! USCC). Filing one makes a signing key (SM2 by default, ES256 on request), a certificate
//! for it from the node's seal CA of that algorithm (`ca`), the seal picture in the standard
//! style (`elicense_face::seal_png`) and the GB/T 38540 `SESeal` with the CA as its maker. The
//! key is stored encrypted like the issuers' keys; a seal's public facts (id, owner, kind,
//! name, algorithm, validity, status, certificate, the `SESeal`) are public, listed by owner.
//!
//! Invariants:
//! - A seal signs only while `active` and inside its validity (`seal.not_active`,
//!   `seal.outside_validity`); `revoked` is final (`seal.bad_transition`), `suspended` can be
//!   reinstated. A status change enters the CA's revocation list (`crl`) at once, so
//!   outside verifiers see it too.
//! - Every use is recorded with the document's hash before the sealed document is returned
//!   (`record_seal_uses`), and the owner sees it (`uses`).
//! - An enterprise's official and legal-representative seals come with its business license
//!   (`enterprise`): made when the license is issued, revoked when it is cancelled or
//!   withdrawn, usable by whoever represents the enterprise now.

pub(crate) mod ca;
pub mod document;
pub mod enterprise;
pub mod faces;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use elicense_core::gb32100::Uscc;
use elicense_crypto::{Alg, KeyPair};
use elicense_seal::ses::{CertList, Picture, Seal, SealInfo, SealKind};
use elicense_store::{SealRecord, SealUseRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use ca::LoadedCa;

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// The kinds of seal, by their stable names.
pub const KINDS: [&str; 5] = ["official", "contract", "finance", "invoice", "legal_rep"];

/// The vendor id written in every seal's header.
pub const VENDOR_ID: &str = "elicense";

/// Default validity of a new seal, days (five years).
pub const DEFAULT_VALID_DAYS: u32 = 5 * 365;

/// Longest validity of a seal, days (ten years).
pub const MAX_VALID_DAYS: u32 = 10 * 365;

/// Size of the seal picture: 42 mm, the diameter of an organisation's official seal.
pub const PICTURE_MM: u32 = 42;

pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

fn not_found(id: &str) -> AppError {
    AppError::not_found("seal.not_found", format!("no seal {id}"))
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e.to_string())
}

/// Per-process seal state: the loaded CAs, the decrypted seal keys, and the outside CAs'
/// certificate chains of issuer keys (`x5c` by kid, [`crate::key_certificates::x5c`]).
#[derive(Default)]
pub struct SealState {
    cas: tokio::sync::Mutex<HashMap<&'static str, Arc<LoadedCa>>>,
    signers: Mutex<HashMap<String, Arc<KeyPair>>>,
    pub(crate) x5c: crate::cache::TtlCache<String, Option<Arc<Vec<String>>>>,
}

/// Who acts on seals.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The region operator (files seals for any owner, changes any seal's status; never uses
    /// one).
    Operator(String),
    /// An issuing authority or an institution through its API key: the owner of its seals.
    Organisation {
        /// `issuer` or `institution`.
        role: &'static str,
        uscc: String,
    },
    /// A signed-in person: owner of the seals of every enterprise they represent now, and a
    /// user of the seals that list their username.
    Person(crate::wallet::Identity),
    /// The node itself (sealing the faces and copies it serves with their issuer's seal:
    /// `node`), or its operator at the data dir (`operator:cli`): may use every seal.
    Node(String),
}

impl Principal {
    /// What the seal's uses record.
    pub fn actor(&self) -> String {
        match self {
            Principal::Operator(a) => a.clone(),
            Principal::Organisation { role, uscc } => format!("{role}:{uscc}"),
            Principal::Person(id) => format!("account:{}", id.username),
            Principal::Node(actor) => actor.clone(),
        }
    }

    /// Whether it acts for `owner` (a USCC).
    pub fn owns(&self, owner: &str) -> bool {
        match self {
            Principal::Organisation { uscc, .. } => uscc == owner,
            Principal::Person(id) => id.enterprises.iter().any(|(e, _)| e.uscc == owner),
            Principal::Operator(_) | Principal::Node(_) => false,
        }
    }

    /// Whether it may seal with `seal`: its owner, or a user it lists, or the node.
    pub fn may_use(&self, seal: &SealRecord) -> bool {
        match self {
            Principal::Person(id) if seal.users.contains(&id.username) => true,
            Principal::Node(_) => true,
            _ => self.owns(&seal.owner),
        }
    }

    /// Whether it may file seals for `owner` or change a seal of `owner`: the owner or the
    /// operator.
    pub fn may_manage(&self, owner: &str) -> bool {
        matches!(self, Principal::Operator(_)) || self.owns(owner)
    }
}

fn not_allowed(who: &Principal, what: &str) -> AppError {
    AppError::forbidden(
        "seal.not_owner",
        format!(
            "{} may not {what}: only the owner or the operator",
            who.actor()
        ),
    )
}

/// The kind name of a seal kind.
pub fn kind_name(kind: SealKind) -> String {
    match kind {
        SealKind::Official => "official".into(),
        SealKind::Contract => "contract".into(),
        SealKind::Finance => "finance".into(),
        SealKind::Invoice => "invoice".into(),
        SealKind::LegalRepresentative => "legal_rep".into(),
        SealKind::Other(n) => format!("other:{n}"),
    }
}

fn kind_of(name: &str) -> Result<SealKind> {
    Ok(match name.trim() {
        "official" => SealKind::Official,
        "contract" => SealKind::Contract,
        "finance" => SealKind::Finance,
        "invoice" => SealKind::Invoice,
        "legal_rep" => SealKind::LegalRepresentative,
        other => {
            return Err(invalid(
                "seal.bad_kind",
                format!("unknown seal kind {other:?}: {}", KINDS.join(", ")),
            ))
        }
    })
}

/// The seal algorithm named by `alg` (`sm2` by default, or `es256`).
pub fn alg_of(alg: Option<&str>) -> Result<Alg> {
    match alg.map(str::trim).unwrap_or("sm2") {
        "sm2" | "SM2" => Ok(Alg::Sm2),
        "es256" | "ES256" => Ok(Alg::Es256),
        other => Err(invalid(
            "seal.bad_alg",
            format!("a seal signs with sm2 or es256, not {other:?}"),
        )),
    }
}

/// The store's name of a seal algorithm.
pub(crate) fn alg_name(alg: Alg) -> &'static str {
    match alg {
        Alg::Es256 => "es256",
        _ => "sm2",
    }
}

/// A seal to file.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeal {
    /// The owner's USCC.
    pub owner: String,
    /// The owner's name (defaults to the name of the issuing authority or institution
    /// registered with that USCC).
    pub owner_name: Option<String>,
    /// `official`, `contract`, `finance`, `invoice` or `legal_rep`.
    pub kind: String,
    /// The seal's name, as its picture reads (e.g. 北京示例科技有限公司合同专用章).
    pub name: String,
    /// `sm2` (default) or `es256`.
    pub alg: Option<String>,
    /// Days of validity from now (default five years, at most ten).
    pub valid_days: Option<u32>,
    /// Accounts (usernames) besides the owner's representatives that may use the seal.
    #[serde(default)]
    pub users: Vec<String>,
    /// The seal picture, base64 of a PNG (64 to 2048 pixels a side, at most 1 MiB); without
    /// it the node draws one in the standard style.
    #[serde(default)]
    pub picture: Option<String>,
}

/// A seal as anyone sees it (its key never leaves the node).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SealView {
    /// The seal's id (its `esID`, the seal number).
    pub seal_id: String,
    pub owner: String,
    pub owner_name: String,
    pub kind: String,
    pub name: String,
    /// `sm2` or `es256`.
    pub alg: String,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// When the status last changed (unix seconds).
    pub status_at: i64,
    pub valid_from: i64,
    pub valid_to: i64,
    /// The seal's certificate, PEM (issued by the node's seal CA of its algorithm).
    pub certificate: String,
    /// The business license it came with (an enterprise's seal), if any.
    pub license: Option<String>,
    /// Accounts besides the owner's representatives that may use it (authorised staff).
    pub users: Vec<String>,
    pub created_at: i64,
}

impl SealView {
    pub(crate) fn of(r: &SealRecord) -> SealView {
        SealView {
            seal_id: r.id.clone(),
            owner: r.owner.clone(),
            owner_name: r.owner_name.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            alg: r.alg.clone(),
            status: r.status.clone(),
            status_at: r.status_at,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            certificate: elicense_seal::ca::pem("CERTIFICATE", &r.certificate),
            license: r.license.clone(),
            users: r.users.clone(),
            created_at: r.created_at,
        }
    }
}

/// One use of a seal, as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UseView {
    pub at: i64,
    pub actor: String,
    /// SHA-256 of the sealed document (hex).
    pub document: String,
    pub page: u32,
    pub purpose: String,
}

fn time_of(unix: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(internal)
}

/// A new seal number: the owner's registering authority's division code (USCC positions
/// 3–8) and seven digits (the 13-digit form of seal numbers), random unless `seed` fixes them.
fn seal_number(owner: &Uscc, seed: Option<&[u8]>) -> String {
    use rand::Rng;
    let area = &owner.as_str()[2..8];
    let n: u32 = match seed {
        Some(s) => {
            let d = <sha2::Sha256 as sha2::Digest>::digest(s);
            u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 10_000_000
        }
        None => rand::thread_rng().gen_range(0..10_000_000),
    };
    format!("{area}{n:07}")
}

/// What [`make`] needs to file a seal.
pub(crate) struct Making<'a> {
    pub owner: Uscc,
    pub owner_name: String,
    pub kind: SealKind,
    pub name: String,
    pub alg: Alg,
    pub valid_days: u32,
    pub users: Vec<String>,
    pub license: Option<String>,
    pub actor: &'a str,
    /// Fixes the seal number (an enterprise's seals: one per license and kind).
    pub number_seed: Option<Vec<u8>>,
    /// An uploaded picture (checked PNG); `None`: drawn in the standard style.
    pub picture: Option<Vec<u8>>,
}

/// Largest uploaded seal picture, bytes.
pub const MAX_PICTURE_BYTES: usize = 1024 * 1024;

/// Checks an uploaded seal picture: base64 of a PNG, 64 to 2048 pixels a side, at most
/// [`MAX_PICTURE_BYTES`] (`seal.bad_picture`).
pub fn picture_of(b64: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    let bad = |why: &str| invalid("seal.bad_picture", format!("the seal picture {why}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| bad("is not base64"))?;
    if bytes.len() > MAX_PICTURE_BYTES {
        return Err(bad("is larger than 1 MiB"));
    }
    let mut decoder = png::Decoder::new(std::io::Cursor::new(&bytes[..]));
    decoder.set_limits(png::Limits { bytes: 64 << 20 });
    let reader = decoder.read_info().map_err(|_| bad("is not a PNG"))?;
    let info = reader.info();
    let fits = |n: u32| (64..=2048).contains(&n);
    if !fits(info.width) || !fits(info.height) {
        return Err(bad("must be 64 to 2048 pixels a side"));
    }
    Ok(bytes)
}

/// Makes and files a seal (key, certificate, picture, `SESeal`); `Duplicate` from the store
/// when its number is taken.
pub(crate) async fn make(node: &Arc<Node>, m: Making<'_>) -> Result<SealRecord> {
    let name = m.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(invalid(
            "seal.bad_name",
            "a seal's name has 1 to 40 characters",
        ));
    }
    if m.valid_days == 0 || m.valid_days > MAX_VALID_DAYS {
        return Err(invalid(
            "seal.bad_validity",
            format!("a seal is valid for 1 to {MAX_VALID_DAYS} days"),
        ));
    }
    let ca = ca::get(node, m.alg).await?;
    let now = node.now();
    let (from, to) = (now, now + i64::from(m.valid_days) * 86_400);
    let id = seal_number(&m.owner, m.number_seed.as_deref());
    let key = Arc::new(KeyPair::generate(m.alg, &mut rand::rngs::OsRng));
    let serial = ca::fresh_serial();
    let subject = elicense_seal::ca::Subject {
        common_name: name.clone(),
        organization: Some(m.owner_name.clone()),
        uscc: Some(m.owner.to_string()),
    };
    let validity = elicense_seal::ca::Validity {
        not_before: time_of(from)?,
        not_after: time_of(to)?,
    };
    let certificate = ca
        .ca
        .issue(&subject, &key.public_jwk(), validity, &serial)
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    let picture = match m.picture {
        Some(p) => p,
        None => elicense_face::seal_png(&name, &id, 480).map_err(internal)?,
    };
    let info = SealInfo {
        vendor_id: VENDOR_ID.into(),
        seal_id: id.clone(),
        kind: m.kind,
        name: name.clone(),
        signers: CertList::Certs(vec![certificate.clone()]),
        created: time_of(now)?,
        valid_from: time_of(from)?,
        valid_to: time_of(to)?,
        picture: Picture {
            format: "PNG".into(),
            data: picture.clone(),
            width_mm: PICTURE_MM,
            height_mm: PICTURE_MM,
        },
        extensions: None,
    };
    let seal = Seal::make(&info, ca.maker.as_ref(), &ca.maker_certificate)
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))?;
    let encrypted_pem = {
        let password = node.config.key_password.clone();
        let key = key.clone();
        tokio::task::spawn_blocking(move || {
            key.to_encrypted_pem(password.as_bytes(), &mut rand::rngs::OsRng)
        })
        .await
        .map_err(internal)?
        .map_err(AppError::crypto)?
    };
    let record = SealRecord {
        id,
        owner: m.owner.to_string(),
        owner_name: m.owner_name,
        kind: kind_name(m.kind),
        name,
        alg: alg_name(m.alg).into(),
        encrypted_pem: encrypted_pem.to_string(),
        certificate,
        serial: hex::encode(serial),
        seal: seal.to_der(),
        picture,
        valid_from: from,
        valid_to: to,
        status: "active".into(),
        status_at: now,
        license: m.license,
        users: m.users,
        created_at: now,
        created_by: m.actor.to_owned(),
    };
    node.store.put_seal(record.clone()).await?;
    node.seals
        .signers
        .lock()
        .expect("seal keys lock")
        .insert(record.id.clone(), key);
    Ok(record)
}

/// The owner's name: given, or that of the issuing authority or institution registered
/// with that USCC, or the holder name on a license the enterprise holds here
/// (`seal.owner_unknown` when none).
async fn owner_name(node: &Node, owner: &Uscc, given: Option<&str>) -> Result<String> {
    if let Some(n) = given.map(str::trim).filter(|n| !n.is_empty()) {
        return Ok(n.to_owned());
    }
    if let Some(i) = node.issuer(owner.as_str()).await? {
        return Ok(i.name);
    }
    if let Some(i) = node.store.institution(owner.as_str()).await? {
        return Ok(i.name);
    }
    // An enterprise: the name on a license it holds here (its business license, say).
    let code =
        elicense_core::holder::HolderCode::detect(owner.as_str()).map_err(AppError::invalid)?;
    for r in node.store.by_holder(&node.holder_key(&code)).await? {
        if let Ok(l) = crate::stored::License::try_from(r) {
            return Ok(l.meta.holder.name);
        }
    }
    Err(invalid(
        "seal.owner_unknown",
        format!("{owner} is no registered authority or institution: give owner_name"),
    ))
}

/// Files a new seal for `new.owner` (`seal.not_owner` unless `who` is the owner or the
/// operator; `seal.bad_kind`, `seal.bad_alg`, `seal.bad_name`, `seal.bad_validity`,
/// `seal.bad_picture`, `seal.owner_unknown`, `uscc.*`). `who` is recorded as its maker.
pub async fn create(node: &Arc<Node>, who: &Principal, new: NewSeal) -> Result<SealView> {
    let owner = Uscc::parse(new.owner.trim()).map_err(AppError::invalid)?;
    if !who.may_manage(owner.as_str()) {
        return Err(not_allowed(who, "file a seal for this owner"));
    }
    let actor = &who.actor();
    let owner_name = owner_name(node, &owner, new.owner_name.as_deref()).await?;
    let kind = kind_of(&new.kind)?;
    let alg = alg_of(new.alg.as_deref())?;
    let picture = new.picture.as_deref().map(picture_of).transpose()?;
    for u in &new.users {
        if u.trim().is_empty() || u.contains(char::is_whitespace) {
            return Err(invalid("seal.bad_user", format!("{u:?} is not a username")));
        }
    }
    let mut tries = 0;
    loop {
        let m = Making {
            owner: owner.clone(),
            owner_name: owner_name.clone(),
            kind,
            name: new.name.clone(),
            alg,
            valid_days: new.valid_days.unwrap_or(DEFAULT_VALID_DAYS),
            users: new.users.clone(),
            license: None,
            actor,
            number_seed: None,
            picture: picture.clone(),
        };
        match make(node, m).await {
            Ok(r) => return Ok(SealView::of(&r)),
            // A seal number taken (1 in 10^7 per seal of the area): draw another.
            Err(e) if e.code == "store.duplicate" && tries < 5 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The stored seal `id` (`seal.not_found`).
pub async fn record(node: &Node, id: &str) -> Result<SealRecord> {
    node.store
        .seal(id.trim())
        .await?
        .ok_or_else(|| not_found(id))
}

/// The seal `id` as anyone sees it.
pub async fn get(node: &Node, id: &str) -> Result<SealView> {
    Ok(SealView::of(&record(node, id).await?))
}

/// The seals filed for `owner` (a USCC), oldest first: the public register (备案).
pub async fn of_owner(node: &Arc<Node>, owner: &str) -> Result<Vec<SealView>> {
    let owner = Uscc::parse(owner.trim()).map_err(AppError::invalid)?;
    enterprise::ensure_for_owner(node, &owner).await?;
    Ok(node
        .store
        .seals_of(owner.as_str())
        .await?
        .iter()
        .map(SealView::of)
        .collect())
}

/// The seal's `SESeal` (DER), as filed.
pub async fn seal_der(node: &Node, id: &str) -> Result<Vec<u8>> {
    Ok(record(node, id).await?.seal)
}

/// The seal's certificate chain, PEM: its certificate, then the CA's.
pub async fn chain_pem(node: &Arc<Node>, id: &str) -> Result<String> {
    let r = record(node, id).await?;
    let ca = ca::get(node, alg_of(Some(&r.alg))?).await?;
    Ok(format!(
        "{}{}",
        elicense_seal::ca::pem("CERTIFICATE", &r.certificate),
        elicense_seal::ca::pem("CERTIFICATE", ca.ca.certificate())
    ))
}

/// Replaces who besides the owner's representatives may use seal `id` (authorised staff,
/// by account username; the owner or the operator: `seal.not_owner`; `seal.bad_user`).
pub async fn set_users(
    node: &Arc<Node>,
    who: &Principal,
    id: &str,
    users: Vec<String>,
) -> Result<SealView> {
    let r = record(node, id).await?;
    if !who.may_manage(&r.owner) {
        return Err(not_allowed(who, "authorise users of this seal"));
    }
    let mut clean = Vec::new();
    for u in users {
        let u = u.trim().to_owned();
        if u.is_empty() || u.len() > 64 || u.contains(char::is_whitespace) {
            return Err(invalid("seal.bad_user", format!("{u:?} is not a username")));
        }
        if !clean.contains(&u) {
            clean.push(u);
        }
    }
    if clean.len() > 100 {
        return Err(invalid("seal.bad_user", "at most 100 users per seal"));
    }
    node.store.set_seal_users(&r.id, clean).await?;
    get(node, id).await
}

/// The seals a signed-in person may use: those of every enterprise they represent now
/// (made if missing), then those that list them as a user (authorised staff).
pub async fn for_person(node: &Arc<Node>, id: &crate::wallet::Identity) -> Result<Vec<SealView>> {
    let mut out = Vec::new();
    for (e, _) in &id.enterprises {
        out.extend(of_owner(node, &e.uscc).await?);
    }
    for r in node.store.seals_of_user(&id.username).await? {
        if !out.iter().any(|s: &SealView| s.seal_id == r.id) {
            out.push(SealView::of(&r));
        }
    }
    Ok(out)
}

/// A status change of a seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Suspend,
    Reinstate,
    Revoke,
}

/// Suspends, reinstates or revokes seal `id` (the owner or the operator: `seal.not_owner`):
/// `seal.bad_transition` for a revoked seal (final), suspending a suspended one or
/// reinstating an active one.
pub async fn set_status(
    node: &Arc<Node>,
    who: &Principal,
    id: &str,
    change: StatusChange,
) -> Result<SealView> {
    let r = record(node, id).await?;
    if !who.may_manage(&r.owner) {
        return Err(not_allowed(who, "change this seal"));
    }
    let next = match (r.status.as_str(), change) {
        ("active", StatusChange::Suspend) => "suspended",
        ("suspended", StatusChange::Reinstate) => "active",
        ("active" | "suspended", StatusChange::Revoke) => "revoked",
        (now, _) => {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "seal.bad_transition",
                format!("the seal {id} is {now}: that change does not apply"),
            ))
        }
    };
    let at = node.now();
    node.store.set_seal_status(&r.id, next, at).await?;
    get(node, id).await
}

/// The uses of seal `id`, newest first: the owner's (and the operator's) view
/// (`seal.not_owner`).
pub async fn uses(node: &Node, who: &Principal, id: &str, limit: u32) -> Result<Vec<UseView>> {
    let r = record(node, id).await?;
    if !who.may_manage(&r.owner) {
        return Err(not_allowed(who, "see this seal's uses"));
    }
    Ok(node
        .store
        .seal_uses(&r.id, limit.clamp(1, 1000))
        .await?
        .into_iter()
        .map(|u: SealUseRecord| UseView {
            at: u.at,
            actor: u.actor,
            document: u.document,
            page: u.page,
            purpose: u.purpose,
        })
        .collect())
}

/// The seal CA certificate of `alg`, PEM (what a verifier lists as trust anchor).
pub async fn ca_pem(node: &Arc<Node>, alg: Alg) -> Result<String> {
    let ca = ca::get(node, alg).await?;
    Ok(elicense_seal::ca::pem("CERTIFICATE", ca.ca.certificate()))
}

/// The revocation list of the seal CA of `alg` (DER): every seal of that algorithm that is
/// not active, as of when its status changed; valid for a day (what another node lists in
/// `seal_crls`).
pub async fn crl(node: &Arc<Node>, alg: Alg) -> Result<Vec<u8>> {
    let ca = ca::get(node, alg).await?;
    let mut revoked = Vec::new();
    for s in node.store.inactive_seals(alg_name(alg)).await? {
        revoked.push(elicense_seal::ca::Revoked {
            serial: hex::decode(&s.serial).map_err(internal)?,
            at: time_of(s.status_at)?,
            hold: s.status == "suspended",
        });
    }
    let now = node.now();
    ca.ca
        .crl(&revoked, time_of(now)?, time_of(now + 86_400)?)
        .map_err(|e| AppError::new(ErrorKind::Internal, e.code(), e.to_string()))
}

/// The node's seal CA certificates by algorithm name, base64 of the DER (the CAs made on
/// first use): what the node document and the trust list carry.
pub async fn ca_certificates(node: &Node) -> Result<std::collections::BTreeMap<String, String>> {
    use base64::Engine;
    let mut out = std::collections::BTreeMap::new();
    for alg in [Alg::Sm2, Alg::Es256] {
        let ca = ca::get(node, alg).await?;
        out.insert(
            alg_name(alg).to_owned(),
            base64::engine::general_purpose::STANDARD.encode(ca.ca.certificate()),
        );
    }
    Ok(out)
}

/// The decrypted key of seal `r` (decrypted once per process).
pub(crate) async fn signer(node: &Node, r: &SealRecord) -> Result<Arc<KeyPair>> {
    if let Some(k) = node
        .seals
        .signers
        .lock()
        .expect("seal keys lock")
        .get(&r.id)
    {
        return Ok(k.clone());
    }
    let key = ca::decrypt_pem(node, &r.encrypted_pem).await?;
    node.seals
        .signers
        .lock()
        .expect("seal keys lock")
        .insert(r.id.clone(), key.clone());
    Ok(key)
}
