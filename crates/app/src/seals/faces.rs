//! Faces and annotated copies leave the node sealed: a face (or copy) PDF carries the
//! issuing authority's face seal, an ES256 official seal the node files for it on first use
//! (so ordinary PDF readers check it offline against the node's ES256 seal CA), placed in the
//! template's seal box instead of the drawn seal. The QR code still leads to the live status.
//!
//! Invariants: one active face seal per issuer at a time (its number is fixed by the issuer
//! and how many it had, so two processes making it at once make the same one); a suspended or
//! revoked face seal is replaced by a new one at the next face; each sealed face is a seal
//! use (actor `node`) in the issuer's view of its seal.

use std::sync::Arc;

use elicense_core::gb32100::Uscc;
use elicense_crypto::Alg;
use elicense_seal::ses::SealKind;
use elicense_store::SealRecord;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::document::{self, Placement};
use super::{make, Making, Principal, DEFAULT_VALID_DAYS};
use crate::error::Result;
use crate::node::Node;
use crate::stored::License;

/// Who makes and uses face seals.
const FACE_ACTOR: &str = "node";

/// The face seal of `issuer` (made when it has none in force).
async fn face_seal(node: &Arc<Node>, issuer: &str, issuer_name: &str) -> Result<SealRecord> {
    let now = node.now();
    for _ in 0..2 {
        let mine: Vec<SealRecord> = node
            .store
            .seals_of(issuer)
            .await?
            .into_iter()
            .filter(|s| s.created_by == FACE_ACTOR && s.alg == "es256")
            .collect();
        if let Some(s) = mine
            .iter()
            .find(|s| s.status == "active" && s.valid_from <= now && now < s.valid_to)
        {
            return Ok(s.clone());
        }
        let mut m = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
            .expect("HMAC takes any key length");
        m.update(b"elicense face seal\0");
        m.update(issuer.as_bytes());
        m.update(&(mine.len() as u64).to_be_bytes());
        let making = Making {
            owner: Uscc::parse(issuer).map_err(crate::AppError::invalid)?,
            owner_name: issuer_name.to_owned(),
            kind: SealKind::Official,
            name: issuer_name.to_owned(),
            alg: Alg::Es256,
            valid_days: DEFAULT_VALID_DAYS,
            users: Vec::new(),
            license: None,
            actor: FACE_ACTOR,
            number_seed: Some(m.finalize().into_bytes().to_vec()),
            picture: None,
        };
        match make(node, making).await {
            Ok(r) => return Ok(r),
            // Another process made it first: read it.
            Err(e) if e.code == "store.duplicate" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(crate::AppError::internal(format!(
        "no face seal could be made for {issuer}"
    )))
}

/// Seals the face (or copy) PDF of `license` with its issuer's face seal at `rect` (page 1;
/// the default box when the template has no seal slot).
pub async fn seal_face(
    node: &Arc<Node>,
    license: &License,
    pdf: &[u8],
    rect: Option<[f64; 4]>,
    what: &str,
) -> Result<Vec<u8>> {
    let seal = face_seal(node, &license.record.issuer, &license.meta.issuer_name).await?;
    document::seal(
        node,
        &Principal::Node(FACE_ACTOR.into()),
        pdf,
        &[Placement {
            seal: seal.id,
            page: Some(1),
            rect,
        }],
        &format!("{what} {}", license.identifier),
    )
    .await
}
