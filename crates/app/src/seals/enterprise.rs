//! An enterprise's seals come with its electronic business license (a license type with
//! `issues_seals`): its official seal (公章, named after the enterprise) and its legal
//! representative's seal (法定代表人章, named after the representative), owned by the
//! enterprise's USCC, bound to the license's lineage.
//!
//! When: the node issues them right after the license is issued (`after_issue`, in the
//! background so issuing does not wait for key encryption and the picture), and makes any
//! that are missing whenever the enterprise's seals are looked up (`ensure_for_owner`: a
//! bulk import issues many licenses and leaves their seals to that). Each seal's number is
//! fixed by the license and kind (a keyed hash), so two processes making them at once make
//! the same seal and the store keeps one.
//!
//! Their status follows the license (`follow_license`): a suspended license suspends them, a
//! reinstated one reinstates them, a revoked, cancelled or withdrawn one revokes them (final),
//! and a transfer to another holder revokes the former holder's. Only a license in force gets
//! seals, and only its holder's seals count as its seals.

use std::sync::Arc;

use elicense_core::gb32100::Uscc;
use elicense_core::holder::HolderCode;
use elicense_core::lifecycle::Status;
use elicense_seal::ses::SealKind;
use elicense_store::LicenseRecord;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{make, Making, DEFAULT_VALID_DAYS};
use crate::error::Result;
use crate::node::Node;
use crate::stored::License;

/// The seal number seed of the license `lineage`'s seal of `kind` for `owner` (keyed by the
/// node secret, so the numbers of an enterprise's seals cannot be guessed from its license).
fn seed(node: &Node, lineage: &str, owner: &str, kind: SealKind) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
        .expect("HMAC takes any key length");
    m.update(b"elicense enterprise seal\0");
    m.update(lineage.as_bytes());
    m.update(b"\0");
    m.update(owner.as_bytes());
    m.update(&kind.code().to_be_bytes());
    m.finalize().into_bytes().to_vec()
}

/// Makes the missing seals of license `record` if its type issues seals and it is in force.
pub async fn ensure_for_license(node: &Arc<Node>, record: &LicenseRecord) -> Result<()> {
    let t = node
        .catalogue
        .get(&record.type_code, Some(record.catalogue_version))
        .await?;
    if !t.issues_seals {
        return Ok(());
    }
    let license = License::try_from(record.clone())?;
    if license.status != Status::Valid {
        return Ok(());
    }
    let owner = Uscc::parse(license.meta.holder.code.value()).map_err(crate::AppError::invalid)?;
    let representative = t
        .items
        .iter()
        .find(|i| i.name == "legal_representative")
        .and_then(|i| license.meta.data.get(&i.name))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let existing = node.store.seals_of_license(&record.lineage).await?;
    let mut wanted = vec![(SealKind::Official, license.meta.holder.name.clone())];
    if let Some(rep) = representative {
        wanted.push((SealKind::LegalRepresentative, format!("{rep}印")));
    }
    for (kind, name) in wanted {
        let kind_name = super::kind_name(kind);
        // The seals the license's current holder has: a transferred license's former holder's
        // seals (revoked by the transfer) do not count.
        if existing
            .iter()
            .any(|s| s.kind == kind_name && s.owner == owner.as_str())
        {
            continue;
        }
        let m = Making {
            owner: owner.clone(),
            owner_name: license.meta.holder.name.clone(),
            kind,
            name,
            alg: elicense_crypto::Alg::Sm2,
            valid_days: DEFAULT_VALID_DAYS,
            users: Vec::new(),
            license: Some(record.lineage.clone()),
            actor: &format!("license:{}", record.identifier),
            number_seed: Some(seed(node, &record.lineage, owner.as_str(), kind)),
            picture: None,
        };
        match make(node, m).await {
            Ok(_) => {}
            // Another process made it first (same number), or (1 in 10^7) the number is
            // another seal's: either way this license's seal is not made twice.
            Err(e) if e.code == "store.duplicate" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Makes the missing seals of every business license in force that `owner` holds.
pub async fn ensure_for_owner(node: &Arc<Node>, owner: &Uscc) -> Result<()> {
    let code = HolderCode::detect(owner.as_str()).map_err(crate::AppError::invalid)?;
    for r in node.store.by_holder(&node.holder_key(&code)).await? {
        if r.status == Status::Valid.code() {
            ensure_for_license(node, &r).await?;
        }
    }
    Ok(())
}

/// After license `identifier` was issued: makes its seals in the background (a failure is
/// logged; the next lookup makes what is missing).
pub fn after_issue(node: &Arc<Node>, identifier: &str) {
    let (node, identifier) = (node.clone(), identifier.to_owned());
    tokio::spawn(async move {
        let result = match node.store.license(&identifier).await {
            Ok(Some(r)) => ensure_for_license(&node, &r).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = result {
            tracing::warn!(code = e.code, error = %e.message, %identifier, "enterprise seals not made");
        }
    });
}

/// The seals of the license `lineage` follow its new status (`holder`: the USCC of its holder
/// now; a transfer revokes the former holder's seals, and the new holder's are made at the
/// next lookup).
pub async fn follow_license(
    node: &Arc<Node>,
    lineage: &str,
    holder: &str,
    status: Status,
) -> Result<()> {
    let at = node.now();
    for s in node.store.seals_of_license(lineage).await? {
        let next = match (status, s.status.as_str()) {
            (_, "revoked") => continue,
            _ if s.owner != holder => "revoked",
            (Status::Suspended, "active") => "suspended",
            (Status::Valid, "suspended") => "active",
            (Status::Revoked | Status::Cancelled | Status::Withdrawn, _) => "revoked",
            _ => continue,
        };
        node.store.set_seal_status(&s.id, next, at).await?;
    }
    Ok(())
}
