//! The pure core of elicense's tamper-evident event log: no storage, no HTTP, no clock.
//!
//! - [`hash`]: RFC 6962 leaf and node hashing.
//! - [`tree`]: the RFC 9162 Merkle Tree Hash, built incrementally by a [`tree::Frontier`],
//!   and the [`tree::HashReader`] seam to stored node hashes.
//! - [`proof`]: inclusion and consistency proofs, generated in O(log n) reads and
//!   verified by pure functions.
//! - [`tiles`]: C2SP tlog-tiles (tile and bundle paths, tile contents, building tiles as
//!   the log grows, and proofs read back out of tiles).
//! - [`checkpoint`] and [`note`]: C2SP tlog-checkpoint inside C2SP signed notes, signed
//!   with Ed25519 and (private use) SM2.
//! - [`cosignature`]: C2SP tlog-cosignature `cosignature/v1` (a witness's timestamped
//!   Ed25519 cosignature of a checkpoint).
//! - [`witness`]: C2SP tlog-witness `add-checkpoint` bodies and the witness's decision.
//!
//! Invariants across the crate: everything is deterministic and side-effect free except
//! the [`tree::HashReader`] / [`tiles::TileReader`] seams the caller implements; parsers
//! of untrusted input never panic and accept only canonical encodings; every error type
//! has a stable dotted `code()`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checkpoint;
pub mod cosignature;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod tree;
pub mod witness;

pub use checkpoint::{Checkpoint, CheckpointError, VerifiedCheckpoint};
pub use hash::{empty_root, leaf_hash, node_hash, Hash, HASH_LEN};
pub use proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, ProofError,
};
pub use tree::{Frontier, HashReader, MemoryHashes, NodeId, TreeError};
