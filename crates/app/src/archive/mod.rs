//! Archives: BagIt (RFC 8493) bags of licenses, their events and log proofs, checkable
//! offline (`elicense archive export|verify`).
//!
//! Bag layout (payload under `data/`):
//! ```text
//! bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
//! data/checkpoint.txt                 the node's signed checkpoint (C2SP signed note)
//! data/log-keys.json                  {"origin","verifier_keys"} to open it
//! data/issuers/<USCC>/jwks.json       issuer keys (+ SM2 signer IDs) for the credentials
//! data/licenses/<identifier>/credential.txt   the SD-JWT VC as issued
//! data/licenses/<identifier>/meta.json        GB/T 36903 metadata, status
//! data/licenses/<identifier>/events.json      the version's events as stored
//! data/licenses/<identifier>/face.pdf         the face (照面), CJK font embedded
//! data/licenses/<identifier>/log/<index>.json {"index","tree_size","entry","hashes"}
//!                                             and, for a use, "opening": {"salt","event"}
//! ```
//! [`verify`] checks: bagit.txt; every tag-manifest and manifest line; that every payload
//! file is listed (completeness) and Payload-Oxum; the checkpoint's signatures with the
//! bag's keys; every inclusion proof against the checkpoint root; that each logged entry
//! names its directory's license and the SHA-256 of its credential (for a use: that the
//! bag's opening hashes to the leaf's commitment and names them); each credential's issuer
//! signature with the bag's issuer keys. The report is `ok` when all hold.

mod export;
mod verify;

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind};

pub use export::export;
pub use verify::verify;

/// Which licenses a bag holds.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every license of this issuing authority (USCC).
    Issuer(String),
    /// Every license of this holder (resident ID or USCC).
    Holder(String),
    /// Every version of this license.
    License(elicense_core::Identifier),
}

/// What an export wrote.
#[derive(Debug, Serialize)]
pub struct ExportSummary {
    pub bag: String,
    pub licenses: usize,
    pub events: usize,
    pub tree_size: u64,
    pub files: usize,
}

/// What the check of a bag found.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub bag: String,
    pub files: usize,
    pub licenses: usize,
    pub proofs: usize,
    pub credentials_verified: usize,
    pub tree_size: Option<u64>,
    pub problems: Vec<String>,
    pub ok: bool,
}

fn io(path: &Path, e: std::io::Error) -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        "archive.io",
        format!("{}: {e}", path.display()),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
