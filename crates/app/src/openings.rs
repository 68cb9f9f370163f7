//! Openings of use commitments, for the holder and the issuer (see
//! `elicense_store::log::opening` for the construction).
//!
//! A use of a license enters the public log only as a salted commitment. Whoever may know the
//! use gets its opening here, with the leaf and its inclusion proof against a signed
//! checkpoint, and checks it with [`check`]: the commitment recomputed from salt and event,
//! the leaf rebuilt from it, the proof leading to the checkpoint's root, the checkpoint's
//! signatures verified with the node's published keys.
//!
//! Invariants: the holder gets only the openings of events in the history the wallet shows
//! them (`wallet::licenses::open` and `history` decide); the issuer only those of licenses it
//! issued; anyone else gets `log.no_opening` or `license.not_your_license`, as for a license
//! that does not exist or is not theirs.

use std::sync::Arc;

use elicense_core::Identifier;
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::Verifiers;
use elicense_log::{leaf_hash, verify_inclusion};
use elicense_store::log::{commitment, UseEvent, UseLeaf};
use elicense_store::{LogEntry, OpeningRecord};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::log::{hashes_from_b64, proof_for_index, LogProof};
use crate::node::Node;
use crate::wallet::Identity;

/// The opening of one use's commitment, with its leaf and the leaf's inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UseOpening {
    /// The event's sequence number.
    pub seq: i64,
    /// The leaf as the public log has it (`{"v":2,"event":…,"commitment":…}`).
    pub leaf: String,
    /// The 32-byte salt, lowercase hex.
    pub salt: String,
    /// The committed event, canonical JSON (the exact bytes the commitment covers).
    pub event: String,
    /// The leaf's place in the log and its inclusion proof against a signed checkpoint.
    pub proof: LogProof,
}

fn no_opening(seq: i64) -> AppError {
    AppError::not_found(
        "log.no_opening",
        format!("no opening of event {seq} for you"),
    )
}

async fn opening_of(node: &Arc<Node>, o: OpeningRecord) -> Result<UseOpening> {
    let index =
        node.store.log_index(o.seq).await?.ok_or_else(|| {
            AppError::internal(format!("event {} has an opening but no leaf", o.seq))
        })?;
    let leaf = node
        .store
        .log_entries(index, index + 1)
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(format!("leaf {index} missing")))?;
    Ok(UseOpening {
        seq: o.seq,
        leaf: String::from_utf8_lossy(&leaf.data).into_owned(),
        salt: hex::encode(&o.salt),
        event: String::from_utf8_lossy(&o.event).into_owned(),
        proof: proof_for_index(node, index).await?,
    })
}

/// The opening of use `seq` of license `identifier`, for a signed-in identity that sees the
/// event in the license's history.
pub async fn for_holder(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    seq: i64,
) -> Result<UseOpening> {
    let opened = crate::wallet::licenses::open(node, id, identifier).await?;
    let visible = crate::wallet::licenses::visible_events(node, &opened).await?;
    if !visible.iter().any(|e| e.record.seq == seq) {
        return Err(no_opening(seq));
    }
    let o = node
        .store
        .log_openings(vec![seq])
        .await?
        .pop()
        .ok_or_else(|| no_opening(seq))?;
    opening_of(node, o).await
}

/// The openings of every use of every version of license `identifier`, oldest first, for
/// the issuing authority `issuer` (uses logged before commitments have none).
pub async fn for_issuer(
    node: &Arc<Node>,
    issuer: &str,
    id: &Identifier,
) -> Result<Vec<UseOpening>> {
    let rec = node
        .store
        .license(id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("license.not_found", format!("no license {id}")))?;
    if rec.issuer != issuer {
        return Err(AppError::forbidden(
            "license.not_your_license",
            "only the issuing authority may read this license's uses",
        ));
    }
    let mut seqs = Vec::new();
    for e in node.store.events(&rec.lineage).await? {
        let e = crate::stored::Event::try_from(e)?;
        if e.kind.is_use() {
            seqs.push(e.record.seq);
        }
    }
    let mut out = Vec::with_capacity(seqs.len());
    for o in node.store.log_openings(seqs).await? {
        out.push(opening_of(node, o).await?);
    }
    Ok(out)
}

/// Why an opening does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpeningError {
    /// The salt is not 32 bytes of hex, or the event is not a canonical use event.
    #[error("malformed opening: {0}")]
    Malformed(String),
    /// The leaf is not the commitment leaf of this salt and event.
    #[error("the leaf is not the commitment to this opening")]
    Commitment,
    /// The checkpoint's signatures do not verify with the keys given, or its origin differs.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Inclusion(String),
}

/// Checks an opening as its holder or issuer does, trusting only the node's log keys and
/// origin: returns the committed use event.
pub fn check(o: &UseOpening, origin: &str, keys: &Verifiers) -> Result<UseEvent, OpeningError> {
    let salt = hex::decode(&o.salt)
        .ok()
        .filter(|s| s.len() == 32)
        .ok_or_else(|| OpeningError::Malformed("salt is not 32 bytes of hex".into()))?;
    let event =
        UseEvent::parse(o.event.as_bytes()).map_err(|e| OpeningError::Malformed(e.to_string()))?;
    let expected = LogEntry::Use(UseLeaf {
        v: 2,
        event: o.seq,
        commitment: commitment(&salt, o.event.as_bytes()),
    });
    if event.event != o.seq || expected.to_bytes() != o.leaf.as_bytes() {
        return Err(OpeningError::Commitment);
    }
    let cp = VerifiedCheckpoint::open(o.proof.checkpoint.as_bytes(), origin, keys)
        .map_err(|e| OpeningError::Checkpoint(e.to_string()))?;
    let cp = cp.checkpoint();
    if cp.size() != o.proof.tree_size {
        return Err(OpeningError::Checkpoint(
            "the proof is for another tree size".into(),
        ));
    }
    let hashes = hashes_from_b64(&o.proof.hashes)
        .ok_or_else(|| OpeningError::Inclusion("hashes are not base64".into()))?;
    verify_inclusion(
        &leaf_hash(o.leaf.as_bytes()),
        o.proof.index,
        cp.size(),
        &hashes,
        &cp.root(),
    )
    .map_err(|e| OpeningError::Inclusion(e.to_string()))?;
    Ok(event)
}
