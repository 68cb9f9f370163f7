//! Issuing a license: validate against the catalogue (and the items the holder's resident ID
//! determines against that ID, `license.holder_mismatch`), assign a GB/T 36904 identifier and a
//! status slot, sign an SD-JWT VC with the issuer's key, and store license + event together.
//!
//! Nothing is stored unless every check passed and the credential is signed; a process killed
//! before the store acknowledged leaves at most an unused serial number and status slot.

use std::collections::BTreeMap;
use std::sync::Arc;

use elicense_core::catalogue::{Disclosure, LicenseType};
use elicense_core::gb32100::Uscc;
use elicense_core::holder::{Holder, HolderCode, HolderCodeType};
use elicense_core::ident::Identifier;
use elicense_core::license::{check_holder_items, LicenseMeta};
use elicense_core::lifecycle::Status;
use elicense_core::EventKind;
use elicense_crypto::sdjwt::{self, Issuance};
use elicense_crypto::{Alg, Jwk, Signer};
use elicense_store::{EventRecord, ImportRowRecord, LicenseRecord, NewLicense};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{AppError, ErrorKind, Result};
use crate::node::{Node, Slot};
use crate::timeutil;

/// What an issuer asks for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct IssueRequest {
    pub type_code: String,
    /// USCC of the issuing authority; over the API it defaults to the API key's issuer.
    #[serde(default)]
    pub issuer: String,
    pub holder_name: String,
    pub holder_id: String,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// `sm2` (default), `ed25519` or `es256`.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "deserialize_alg")]
    pub alg: Option<Alg>,
    /// Public JWK of the holder's device key, to bind the credential to it.
    #[schema(value_type = Option<Object>)]
    pub holder_jwk: Option<Jwk>,
    /// End of validity (`YYYY-MM-DD`) for types whose validity the issuer gives.
    pub valid_until: Option<String>,
    pub related_matter: Option<String>,
    /// Who asks (API key id, CLI user, import job); recorded in the event.
    #[serde(skip)]
    pub actor: String,
}

/// Reads an algorithm by its CLI name (`sm2`, `ed25519`, `es256`) or its JWS name (`SM2`,
/// `EdDSA`, `ES256`).
pub fn deserialize_alg<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Alg>, D::Error> {
    use serde::de::Error;
    let name: Option<String> = Option::deserialize(d)?;
    name.map(|n| {
        n.parse::<Alg>()
            .or_else(|_| Alg::from_jws_name(&n))
            .map_err(|_| D::Error::custom(format!("unknown alg {n:?}: use sm2, ed25519 or es256")))
    })
    .transpose()
}

/// Where a credential's status is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusRef {
    pub uri: String,
    pub idx: u32,
}

/// The result of issuing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issued {
    #[schema(value_type = String)]
    pub identifier: Identifier,
    pub credential: String,
    pub status: StatusRef,
    pub event_seq: i64,
    /// The issue event's place in the event log and its inclusion proof.
    pub log: Option<crate::log::LogProof>,
}

/// Issues one license.
///
/// The result carries the issue event's inclusion proof against a signed checkpoint (issue 5:
/// the issuer can show the license's history is in the log). Signing that checkpoint is the
/// price of the proof; bulk import (`issue_with_journal`) does not pay it per row.
pub async fn issue(node: &Arc<Node>, req: IssueRequest) -> Result<Issued> {
    let seals = node.catalogue.get(&req.type_code, None).await?.issues_seals;
    let mut issued = issue_with_journal(node, req, None).await?;
    issued.log = Some(crate::log::proof_for_event(node, issued.event_seq).await?);
    if seals {
        crate::seals::enterprise::after_issue(node, issued.identifier.as_str());
    }
    Ok(issued)
}

/// Issues one license and journals it as an import row in the same transaction; no log proof
/// (the journal row is the import's receipt; `log::proof_for_event` gives the proof later).
pub async fn issue_with_journal(
    node: &Arc<Node>,
    req: IssueRequest,
    import: Option<(String, u64)>,
) -> Result<Issued> {
    let now = node.now();
    let prepared = prepare(node, &req, now).await?;
    let alg = req.alg.unwrap_or(node.config.default_alg);
    let slot = node
        .take_slot(
            prepared.license_type.code.as_str(),
            prepared.issuer.as_str(),
            alg,
        )
        .await?;
    let identifier = Identifier::new(
        prepared.license_type.code.clone(),
        prepared.issuer.clone(),
        &format!("{:010}", slot.serial),
        1,
    )
    .map_err(AppError::invalid)?;
    let meta = prepared.meta(identifier, now);
    let issued = sign_and_record(
        node,
        &prepared.license_type,
        meta,
        slot,
        alg,
        req.holder_jwk.clone(),
        now,
    )
    .await?;
    let mut new = issued.new_license(EventKind::Issue, &req.actor, None, json!({}));
    if let Some((job, row)) = import {
        new.import_row = Some(ImportRowRecord {
            job,
            row,
            identifier: Some(new.license.identifier.clone()),
            error_code: None,
            error_message: None,
        });
    }
    let event = node.store.insert(new).await?;
    Ok(Issued {
        identifier: issued.identifier,
        credential: issued.record.credential,
        status: StatusRef {
            uri: node.status.uri(slot.list),
            idx: slot.idx,
        },
        event_seq: event.seq,
        log: None,
    })
}

/// A request checked against the catalogue, not yet given an identifier.
pub struct Prepared {
    pub license_type: Arc<LicenseType>,
    pub issuer: Uscc,
    pub issuer_name: String,
    pub area: elicense_core::area::AreaCode,
    pub holder: Holder,
    pub data: BTreeMap<String, Value>,
    pub validity: elicense_core::catalogue::Validity,
    pub related_matter: Option<String>,
}

impl Prepared {
    pub fn meta(&self, identifier: Identifier, now: i64) -> LicenseMeta {
        let license_number = self
            .data
            .get("license_number")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| identifier.serial().to_string());
        LicenseMeta {
            license_number,
            type_code: self.license_type.code.clone(),
            type_name: self.license_type.name.clone(),
            catalogue_version: self.license_type.version,
            issuer_code: self.issuer.clone(),
            issuer_name: self.issuer_name.clone(),
            issue_date: timeutil::date_at(now),
            valid_from: self.validity.from,
            valid_until: self.validity.until,
            area_code: self.area.clone(),
            holder: self.holder.clone(),
            related_matter: self.related_matter.clone(),
            data: self.data.clone(),
            extension: json!({}),
            replaces: None,
            identifier,
        }
    }
}

/// Checks a request against the catalogue and the issuer registry.
pub async fn prepare(node: &Arc<Node>, req: &IssueRequest, now: i64) -> Result<Prepared> {
    let license_type = node.catalogue.get(&req.type_code, None).await?;
    let issuer = Uscc::parse(&req.issuer).map_err(AppError::invalid)?;
    let issuer_rec = node.issuer(issuer.as_str()).await?.ok_or_else(|| {
        AppError::not_found(
            "issuer.unknown",
            format!("issuer {issuer} is not registered"),
        )
    })?;
    // An authority that ended issues nothing more; its successor acts for it.
    if let (Some(next), Some(end)) = (&issuer_rec.successor, issuer_rec.ended_at) {
        if end <= now {
            return Err(AppError::forbidden(
                "issuer.ended",
                format!("issuer {issuer} has ended; {next} succeeds it"),
            ));
        }
    }
    if !license_type.may_issue(&issuer) {
        return Err(AppError::forbidden(
            "catalogue.issuer_not_allowed",
            format!(
                "{} may not issue {} ({})",
                issuer_rec.name, license_type.name, license_type.code
            ),
        ));
    }
    if req.holder_name.trim().is_empty() {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "holder.name_required",
            "holder name is required",
        ));
    }
    let code = HolderCode::parse(license_type.holder_kind.clone(), &req.holder_id)
        .map_err(AppError::invalid)?;
    let data = license_type
        .validate(&req.fields)
        .map_err(AppError::invalid)?;
    check_holder_items(&license_type, &code, &data).map_err(AppError::invalid)?;
    let until = timeutil::parse_valid_until(req.valid_until.as_deref())?;
    let validity = license_type
        .validity(timeutil::date_at(now), until)
        .map_err(AppError::invalid)?;
    let area = elicense_core::area::AreaCode::parse(&issuer_rec.area).map_err(AppError::invalid)?;
    Ok(Prepared {
        license_type,
        issuer,
        issuer_name: issuer_rec.name,
        area,
        holder: Holder {
            name: req.holder_name.trim().to_string(),
            code,
        },
        data,
        validity,
        related_matter: req.related_matter.clone(),
    })
}

/// A signed license version, ready to store.
pub struct Signed {
    /// The new version's identifier (`record.identifier` as parsed).
    pub identifier: Identifier,
    pub record: LicenseRecord,
}

impl Signed {
    /// The license with its event, for the store.
    pub fn new_license(
        &self,
        kind: EventKind,
        actor: &str,
        reason: Option<String>,
        detail: Value,
    ) -> NewLicense {
        NewLicense {
            event: EventRecord {
                seq: 0,
                identifier: self.record.identifier.clone(),
                kind: kind.to_string(),
                actor: actor.to_string(),
                at: self.record.issued_at,
                reason,
                detail: detail.to_string(),
                reason_category: None,
            },
            license: self.record.clone(),
            import_row: None,
        }
    }
}

/// The holder's legal representative that `meta` names, for types with a `represents` item
/// (validated as a resident ID when the data was).
pub fn representative(license_type: &LicenseType, meta: &LicenseMeta) -> Option<HolderCode> {
    let item = license_type.representative_item()?;
    let value = meta.data.get(&item.name)?.as_str()?;
    HolderCode::parse(HolderCodeType::ResidentId, value).ok()
}

/// Signs the credential of `meta` and builds its record (not stored yet).
pub async fn sign_and_record(
    node: &Arc<Node>,
    license_type: &LicenseType,
    mut meta: LicenseMeta,
    slot: Slot,
    alg: Alg,
    holder_jwk: Option<Jwk>,
    now: i64,
) -> Result<Signed> {
    let signer = node
        .keys
        .signer(meta.issuer_code.as_str(), alg, now)
        .await?;
    if let Some(jwk) = &holder_jwk {
        meta.extension = json!({ "holder_jwk": jwk });
    }
    let issuance = issuance(node, license_type, &meta, slot, now, holder_jwk);
    // Salts come from the thread's CSPRNG (ChaCha, seeded and reseeded from the OS): as
    // unpredictable as OsRng for 128-bit salts, without a system call per disclosure.
    let x5c = crate::key_certificates::x5c(node, signer.kid()).await?;
    let credential = sdjwt::issue_with_x5c(
        signer.as_ref(),
        &issuance,
        x5c.as_deref().map(Vec::as_slice),
        &mut rand::thread_rng(),
    )
    .map_err(AppError::crypto)?;
    let identifier = meta.identifier.clone();
    let record = LicenseRecord {
        identifier: identifier.to_string(),
        lineage: lineage(&identifier),
        version: identifier.version() as u32,
        type_code: meta.type_code.to_string(),
        catalogue_version: meta.catalogue_version,
        issuer: meta.issuer_code.to_string(),
        holder_key: node.holder_key(&meta.holder.code),
        status: Status::Valid.code().to_string(),
        status_value: Status::Valid.status_list_value(),
        pledged: false,
        meta: serde_json::to_string(&meta).map_err(|e| AppError::internal(e.to_string()))?,
        credential,
        alg: alg.cli_name().to_string(),
        kid: signer.kid().to_string(),
        status_list: slot.list,
        status_idx: slot.idx,
        issued_at: now,
        valid_until: meta.valid_until.map(timeutil::day_end),
        updated_at: now,
        representative_key: representative(license_type, &meta).map(|c| node.holder_key(&c)),
    };
    Ok(Signed {
        identifier: meta.identifier.clone(),
        record,
    })
}

/// A copy of a stored license's credential bound to a holder device key (`cnf.jwk`), signed
/// now by the issuer with the license's algorithm: same claims, same status-list slot, so it
/// is revoked and suspended with the license. The license itself is not changed.
pub async fn bound_copy(
    node: &Arc<Node>,
    record: &LicenseRecord,
    license_type: &LicenseType,
    meta: &LicenseMeta,
    holder_jwk: Jwk,
) -> Result<String> {
    resign(node, record, license_type, meta, Some(holder_jwk), |_| {}).await
}

/// Signs now, with the issuer's key and the license's algorithm, a credential of a stored
/// license with its status-list slot and the claims `edit` leaves.
async fn resign(
    node: &Arc<Node>,
    record: &LicenseRecord,
    license_type: &LicenseType,
    meta: &LicenseMeta,
    holder_jwk: Option<Jwk>,
    edit: impl FnOnce(&mut Issuance),
) -> Result<String> {
    let now = node.now();
    let alg: Alg = record
        .alg
        .parse()
        .map_err(|_| AppError::internal(format!("stored alg {}", record.alg)))?;
    let signer = node.keys.signer(&record.issuer, alg, now).await?;
    let slot = Slot {
        serial: 0,
        list: record.status_list,
        idx: record.status_idx,
    };
    let mut issuance = issuance(node, license_type, meta, slot, now, holder_jwk);
    edit(&mut issuance);
    let x5c = crate::key_certificates::x5c(node, signer.kid()).await?;
    sdjwt::issue_with_x5c(
        signer.as_ref(),
        &issuance,
        x5c.as_deref().map(Vec::as_slice),
        &mut rand::thread_rng(),
    )
    .map_err(AppError::crypto)
}

/// Claims every credential carries in the clear, whatever a matter needs.
const REGISTERED: [&str; 7] = ["iss", "vct", "jti", "iat", "nbf", "exp", "status"];

/// An annotated copy (加注件) of a license for one matter: a credential signed by the issuer's
/// key, with the license's registered claims and status entry (so revoking the license voids
/// the copy), only the claims in `fields` (as disclosures, all attached), the plain claim
/// `annotation` (who, why, until when), and `exp` at the end of the copy's use or of the
/// license's validity, whichever comes first.
pub async fn annotated_copy(
    node: &Arc<Node>,
    record: &LicenseRecord,
    license_type: &LicenseType,
    meta: &LicenseMeta,
    fields: &[String],
    annotation: serde_json::Value,
    until: i64,
) -> Result<String> {
    resign(node, record, license_type, meta, None, |issuance| {
        issuance
            .plain
            .retain(|k, _| REGISTERED.contains(&k.as_str()) || fields.contains(k));
        issuance.selective.retain(|(k, _)| fields.contains(k));
        let exp = match issuance
            .plain
            .get("exp")
            .and_then(serde_json::Value::as_i64)
        {
            Some(license_end) => license_end.min(until),
            None => until,
        };
        issuance.plain.insert("exp".into(), json!(exp));
        issuance.plain.insert("annotation".into(), annotation);
    })
    .await
}

/// The claims of the credential: registered claims always disclosed, holder data and the
/// catalogue's selective items as disclosures, `never` items left out.
fn issuance(
    node: &Node,
    t: &LicenseType,
    meta: &LicenseMeta,
    slot: Slot,
    now: i64,
    holder_jwk: Option<Jwk>,
) -> Issuance {
    let mut plain = Map::new();
    plain.insert(
        "iss".into(),
        json!(node.issuer_url(meta.issuer_code.as_str())),
    );
    plain.insert("vct".into(), json!(Node::vct(meta.type_code.as_str())));
    plain.insert("jti".into(), json!(meta.identifier.to_string()));
    plain.insert("iat".into(), json!(now));
    plain.insert("nbf".into(), json!(timeutil::day_start(meta.valid_from)));
    if let Some(until) = meta.valid_until {
        plain.insert("exp".into(), json!(timeutil::day_end(until)));
    }
    plain.insert(
        "status".into(),
        json!({"status_list": {"idx": slot.idx, "uri": node.status.uri(slot.list)}}),
    );
    let mut selective = vec![
        ("holder_name".to_string(), json!(meta.holder.name)),
        ("holder_id".to_string(), json!(meta.holder.code.value())),
        (
            "holder_id_type".to_string(),
            json!(meta.holder.code.kind().code()),
        ),
    ];
    // The license number (证照编号) is selective unless the catalogue has an item of that name,
    // whose disclosure rule then decides.
    if t.item("license_number").is_none() {
        selective.push(("license_number".to_string(), json!(meta.license_number)));
    }
    for item in &t.items {
        let Some(value) = meta.data.get(&item.name) else {
            continue;
        };
        match item.disclosure {
            Disclosure::Always => {
                plain.insert(item.name.clone(), value.clone());
            }
            Disclosure::Selective => selective.push((item.name.clone(), value.clone())),
            Disclosure::Never => {}
        }
    }
    Issuance {
        plain,
        selective,
        holder_jwk,
        decoys: 0,
    }
}

/// The part of an identifier shared by all versions of a license.
pub fn lineage(id: &Identifier) -> String {
    format!("{}.{}.{}", id.type_code(), id.issuer(), id.serial())
}
