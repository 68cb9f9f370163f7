//! Commitments to uses of a license, and their openings.
//!
//! A use (presentation, verification, sharing request, consent, refusal, annotated copy,
//! authorization, ...) says who used whose license and why: the holder's business. Its leaf
//! in the public log ([`super::UseLeaf`]) carries only
//!
//! ```text
//! commitment = SHA-256( "elicense/log/use-commitment/v2" ‖ 0x00 ‖ salt ‖ event )
//! ```
//!
//! as lowercase hex, where `salt` is 32 bytes from the operating system's random source,
//! drawn for this event alone, and `event` is the canonical JSON of the [`UseEvent`] (fields
//! in struct order, no whitespace). The domain tag keeps these hashes apart from every other
//! SHA-256 in the system (Merkle leaves and nodes are prefixed 0x00 / 0x01 by RFC 6962 and
//! never start with this tag); the salt is of fixed length and comes first, so the event
//! bytes are exactly the rest.
//!
//! The node keeps the opening (salt and event bytes, [`OpeningRecord`]) in `log_openings`,
//! written in the transaction of the event and its leaf, and shows it to the holder and the
//! issuer: whoever has it recomputes the commitment, rebuilds the leaf and checks its
//! inclusion against a signed checkpoint. Without it the leaf reveals nothing: the salt makes
//! guessing the event (a known identifier, a likely institution) useless.
//!
//! Operator events on a party (an institution or an account disabled or enabled) are
//! committed the same way, under their own tag ([`OPERATOR_COMMITMENT_TAG`]) over the
//! canonical [`super::entry::OperatorEvent`]; their openings ([`OperatorOpeningRecord`]) are
//! kept in `operator_openings`, by operator event number, and seen only by the operator
//! (and the auditor with database access).
//!
//! Invariant: stored openings are never updated or deleted, like the leaves they open.

use elicense_core::lifecycle::Status;
use elicense_core::EventKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// Domain tag of use commitments (followed by one zero byte).
pub const COMMITMENT_TAG: &[u8] = b"elicense/log/use-commitment/v2";

/// Domain tag of operator-event commitments (followed by one zero byte).
pub const OPERATOR_COMMITMENT_TAG: &[u8] = b"elicense/log/operator-commitment/v2";

/// The committed facts of one use: the event as stored, and the state of its license
/// version at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseEvent {
    /// Format version, 2.
    pub v: u8,
    /// The event's sequence number in the node's store.
    pub event: i64,
    /// Identifier of the license version used.
    pub identifier: String,
    /// A use kind.
    pub kind: EventKind,
    /// Who used it (`holder`, `agent`, `verifier`, `institution:<USCC>`, ...).
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
    /// Free text (an institution's purpose).
    pub reason: Option<String>,
    /// The event's detail JSON, exactly as stored (institution, matter, ...).
    pub detail: String,
    /// Status of the license version at the time of the use.
    pub status: Status,
    pub pledged: bool,
    /// Lowercase hex SHA-256 of the version's credential.
    pub credential_sha256: String,
}

impl UseEvent {
    /// The canonical bytes (what the commitment covers).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a UseEvent always serialises")
    }

    /// Parses committed event bytes; accepts only the canonical encoding of a use.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let e: UseEvent = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("opening: {e}")))?;
        if e.v != 2 || !e.kind.is_use() || e.to_bytes() != bytes {
            return Err(StoreError::Corrupt(
                "opening: not a canonical use event".into(),
            ));
        }
        Ok(e)
    }
}

/// The opening of a use's commitment, as the node keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningRecord {
    /// The event's sequence number.
    pub seq: i64,
    /// The 32-byte salt.
    pub salt: Vec<u8>,
    /// The canonical [`UseEvent`] bytes.
    pub event: Vec<u8>,
}

impl OpeningRecord {
    /// Lowercase hex of `SHA-256(COMMITMENT_TAG ‖ 0x00 ‖ salt ‖ event)`.
    pub fn commitment(&self) -> String {
        commitment(&self.salt, &self.event)
    }

    /// The committed event, parsed.
    pub fn use_event(&self) -> Result<UseEvent> {
        if self.salt.len() != 32 {
            return Err(StoreError::Corrupt(format!(
                "opening of event {}: salt of {} bytes",
                self.seq,
                self.salt.len()
            )));
        }
        UseEvent::parse(&self.event)
    }
}

/// The opening of an operator event's commitment, as the node keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorOpeningRecord {
    /// The operator event's number.
    pub seq: i64,
    /// The 32-byte salt.
    pub salt: Vec<u8>,
    /// The canonical [`super::entry::OperatorEvent`] bytes.
    pub event: Vec<u8>,
}

impl OperatorOpeningRecord {
    /// Lowercase hex of `SHA-256(OPERATOR_COMMITMENT_TAG ‖ 0x00 ‖ salt ‖ event)`.
    pub fn commitment(&self) -> String {
        tagged_commitment(OPERATOR_COMMITMENT_TAG, &self.salt, &self.event)
    }

    /// The committed event, parsed.
    pub fn operator_event(&self) -> Result<super::entry::OperatorEvent> {
        if self.salt.len() != 32 {
            return Err(StoreError::Corrupt(format!(
                "opening of operator event {}: salt of {} bytes",
                self.seq,
                self.salt.len()
            )));
        }
        super::entry::OperatorEvent::parse_committed(&self.event)
    }
}

/// Lowercase hex of `SHA-256(COMMITMENT_TAG ‖ 0x00 ‖ salt ‖ event)`.
pub fn commitment(salt: &[u8], event: &[u8]) -> String {
    tagged_commitment(COMMITMENT_TAG, salt, event)
}

fn tagged_commitment(tag: &[u8], salt: &[u8], event: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(tag);
    h.update([0u8]);
    h.update(salt);
    h.update(event);
    hex::encode(h.finalize())
}

/// A fresh salt from the operating system's random source.
pub fn fresh_salt() -> [u8; 32] {
    use rand::RngCore;
    let mut salt = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}
