//! C2SP tlog-witness: the `add-checkpoint` request and response bodies, and the pure
//! decision a witness takes on a request once it has checked the log's signature.
//!
//! Request body: `old <size>\n`, up to [`MAX_PROOF_LINES`] lines each one base64 hash of a
//! consistency proof, an empty line, then the signed checkpoint note. Answers: the
//! cosignature lines (200), or `<size>\n` as `text/x.tlog.size` (409) when the old size is
//! not the one the witness knows.
//!
//! Invariants:
//! - [`AddCheckpoint::parse`] accepts only the canonical form and never more than
//!   [`MAX_BODY`] bytes: decimal sizes without leading zeros, strict padded base64 hashes
//!   of 32 bytes, every line ending in a newline, a non-empty note after the empty line;
//!   `parse(to_bytes(r)) == r`. It does not look inside the note (the witness opens it
//!   with the log's keys).
//! - [`check`] is total and decides in the order of the spec: old size above the new
//!   size (400), old size not the known size (409), an empty tree whose root is not the
//!   empty root, a proof given from size 0, a proof that does not verify, the same size
//!   with another root (422). `Ok` means the new checkpoint is consistent with the state.
//! - A [`Refusal::fork`] is evidence of a misbehaving log only when the checkpoint's
//!   signature verified (the caller's order): [`Refusal::RootMismatch`] proves a fork (two
//!   signed heads of one size), [`Refusal::Inconsistent`] says the log could not prove
//!   that its new head extends the one the witness co-signed.

use thiserror::Error;

use crate::checkpoint::Checkpoint;
use crate::hash::{empty_root, Hash};
use crate::note::{b64_decode, b64_encode};
use crate::proof::verify_consistency;

/// Most consistency-proof lines a request may carry (the spec's limit).
pub const MAX_PROOF_LINES: usize = 63;
/// Largest request body accepted, in bytes (63 proof lines and a checkpoint with up to
/// [`crate::note::MAX_SIGNATURES`] signature lines fit well below).
pub const MAX_BODY: usize = 64 * 1024;
/// Content type of a 409 answer's body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";
/// Content type of a 200 answer's cosignature lines (and of the request).
pub const LINES_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Why a request body could not be parsed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WitnessFormatError {
    /// The body is larger than [`MAX_BODY`].
    #[error("request body larger than {MAX_BODY} bytes")]
    TooLarge,
    /// The body is not in the `add-checkpoint` form.
    #[error("malformed add-checkpoint body: {0}")]
    Malformed(&'static str),
    /// More than [`MAX_PROOF_LINES`] proof lines.
    #[error("more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
}

impl WitnessFormatError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessFormatError::TooLarge => "witness.too_large",
            WitnessFormatError::Malformed(_) => "witness.malformed",
            WitnessFormatError::TooManyProofLines => "witness.too_many_proof_lines",
        }
    }
}

/// A parsed `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the witness last co-signed, as the log believes.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the new checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note (text, blank line, signature lines).
    pub checkpoint: String,
}

/// A decimal without leading zeros (`0` alone is zero).
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl AddCheckpoint {
    /// Parses a request body (see the module invariants).
    pub fn parse(body: &[u8]) -> Result<Self, WitnessFormatError> {
        let bad = WitnessFormatError::Malformed;
        if body.len() > MAX_BODY {
            return Err(WitnessFormatError::TooLarge);
        }
        let body = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
        let (first, mut rest) = body
            .split_once('\n')
            .ok_or(bad("the old size line must end with a newline"))?;
        let old_size = first
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(bad("the first line must be `old <size>`"))?;
        let mut proof = Vec::new();
        loop {
            let (line, next) = rest
                .split_once('\n')
                .ok_or(bad("no empty line before the checkpoint"))?;
            rest = next;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(WitnessFormatError::TooManyProofLines);
            }
            let hash = b64_decode(line)
                .and_then(|b| Hash::from_slice(&b))
                .ok_or(bad("a proof line is not one base64 hash"))?;
            proof.push(hash);
        }
        if rest.is_empty() {
            return Err(bad("no checkpoint after the empty line"));
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: rest.to_owned(),
        })
    }

    /// The request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&b64_encode(&h.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out.into_bytes()
    }
}

/// The body of a 409 answer: the known size and a newline.
pub fn size_body(size: u64) -> String {
    format!("{size}\n")
}

/// Reads the body of a 409 answer.
pub fn parse_size_body(body: &[u8]) -> Result<u64, WitnessFormatError> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .and_then(parse_decimal)
        .ok_or(WitnessFormatError::Malformed(
            "a size body is one decimal and a newline",
        ))
}

/// What the witness last co-signed for a log: `None` when it never co-signed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WitnessedHead {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// Why a witness refuses to co-sign a validly signed checkpoint.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The old size is above the checkpoint's size (400).
    #[error("old size {old} is larger than the checkpoint size {new}")]
    OldAboveNew {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        new: u64,
    },
    /// The old size is not the size the witness last co-signed (409 with `known`).
    #[error("old size {old} is not the size the witness knows ({known})")]
    SizeMismatch {
        /// The request's old size.
        old: u64,
        /// The size of the latest co-signed checkpoint (0 if none).
        known: u64,
    },
    /// A checkpoint of size 0 whose root is not the empty tree's (422).
    #[error("an empty tree's root must be SHA-256 of the empty string")]
    BadEmptyRoot,
    /// A consistency proof was sent from size 0 (422).
    #[error("a proof from size 0 must be empty")]
    ProofFromZero,
    /// The consistency proof does not lead from the co-signed head to the new one (422).
    #[error("the consistency proof from {old} to {new} does not verify")]
    Inconsistent {
        /// The co-signed size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// The same size as the co-signed head with another root: a fork (422).
    #[error("size {size} was co-signed with another root")]
    RootMismatch {
        /// The size.
        size: u64,
    },
}

impl Refusal {
    /// The stable machine code of this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::OldAboveNew { .. } => "witness.old_above_new",
            Refusal::SizeMismatch { .. } => "witness.size_mismatch",
            Refusal::BadEmptyRoot => "witness.bad_empty_root",
            Refusal::ProofFromZero => "witness.proof_from_zero",
            Refusal::Inconsistent { .. } => "witness.inconsistent",
            Refusal::RootMismatch { .. } => "witness.root_mismatch",
        }
    }

    /// The HTTP status the spec gives this refusal.
    pub fn http_status(&self) -> u16 {
        match self {
            Refusal::OldAboveNew { .. } => 400,
            Refusal::SizeMismatch { .. } => 409,
            _ => 422,
        }
    }

    /// Whether the refusal is evidence against the log (given a verified signature): a
    /// same-size root mismatch, or a new head not proven to extend the co-signed one.
    pub fn fork(&self) -> bool {
        matches!(
            self,
            Refusal::RootMismatch { .. } | Refusal::Inconsistent { .. }
        )
    }
}

/// Decides whether `new` (whose signature the caller verified) may be co-signed, given what
/// the witness last co-signed for its log (`None`: nothing).
pub fn check(
    known: Option<WitnessedHead>,
    old_size: u64,
    proof: &[Hash],
    new: &Checkpoint,
) -> Result<(), Refusal> {
    if old_size > new.size() {
        return Err(Refusal::OldAboveNew {
            old: old_size,
            new: new.size(),
        });
    }
    let known_size = known.map_or(0, |k| k.size);
    if old_size != known_size {
        return Err(Refusal::SizeMismatch {
            old: old_size,
            known: known_size,
        });
    }
    if new.size() == 0 && new.root() != empty_root() {
        return Err(Refusal::BadEmptyRoot);
    }
    let Some(known) = known.filter(|k| k.size > 0) else {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Refusal::ProofFromZero)
        };
    };
    if known.size == new.size() && known.root != new.root() {
        return Err(Refusal::RootMismatch { size: known.size });
    }
    verify_consistency(known.size, new.size(), &known.root, &new.root(), proof).map_err(|_| {
        Refusal::Inconsistent {
            old: known.size,
            new: new.size(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash {
        Hash([b; 32])
    }

    #[test]
    fn body_round_trip_and_strictness() {
        let r = AddCheckpoint {
            old_size: 7,
            proof: vec![h(1), h(2)],
            checkpoint: "o\n9\nAAAA\n\n— o AAAAAAA=\n".into(),
        };
        let bytes = r.to_bytes();
        assert_eq!(AddCheckpoint::parse(&bytes).unwrap(), r);
        for bad in [
            &b"old 07\n\nx"[..],
            b"old 7",
            b"old -1\n\nx",
            b"new 7\n\nx",
            b"old 7\n\n",
            b"old 7\nAAAA\n\nx",
            b"old 7\nnot base64\n\nx",
            b"old 7\nx",
        ] {
            assert_eq!(
                AddCheckpoint::parse(bad).unwrap_err().code(),
                "witness.malformed",
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut many = "old 1\n".to_string();
        for _ in 0..64 {
            many.push_str(&b64_encode(&[0u8; 32]));
            many.push('\n');
        }
        many.push_str("\nx");
        assert_eq!(
            AddCheckpoint::parse(many.as_bytes()).unwrap_err(),
            WitnessFormatError::TooManyProofLines
        );
        assert_eq!(
            AddCheckpoint::parse(&vec![b'a'; MAX_BODY + 1]).unwrap_err(),
            WitnessFormatError::TooLarge
        );
        assert_eq!(parse_size_body(b"42\n").unwrap(), 42);
        assert!(parse_size_body(b"42").is_err());
        assert!(parse_size_body(b"042\n").is_err());
        assert_eq!(size_body(0), "0\n");
    }
}
