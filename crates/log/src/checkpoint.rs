//! C2SP tlog-checkpoint: the signed tree head of a log, as the text of a signed note.
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeros>
//! <root hash, standard base64>
//! [<extension line>]...
//! ```
//!
//! Invariants: a [`Checkpoint`] always has a non-empty origin and non-empty extension
//! lines without control characters, so [`Checkpoint::to_text`] is always a valid note
//! text and `parse(to_text(c)) == c`; `parse` accepts only that canonical form. A
//! [`VerifiedCheckpoint`] exists only for a note whose signature by a known key verified
//! and whose origin is the one the caller expected.

use std::fmt;

use thiserror::Error;

use crate::hash::Hash;
use crate::note::{self, b64_decode, b64_encode, has_forbidden_control, NoteError};
use crate::note::{NoteSigner, VerifiedNote, Verifiers};

/// Why a checkpoint was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text is not a well-formed checkpoint body.
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    /// The checkpoint is from another log than the one expected.
    #[error("checkpoint origin {got:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin the caller follows.
        expected: String,
        /// The origin in the checkpoint.
        got: String,
    },
    /// The signed note around the checkpoint was rejected.
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl CheckpointError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointError::Malformed(_) => "checkpoint.malformed",
            CheckpointError::WrongOrigin { .. } => "checkpoint.wrong_origin",
            CheckpointError::Note(e) => e.code(),
        }
    }
}

/// A log's tree head: origin, size and root, plus optional opaque extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

fn check_line(line: &str, what: &'static str) -> Result<(), CheckpointError> {
    if line.is_empty() || line.contains('\n') || has_forbidden_control(line) {
        Err(CheckpointError::Malformed(what))
    } else {
        Ok(())
    }
}

impl Checkpoint {
    /// The checkpoint of the tree of `size` leaves with root `root` in log `origin`.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        check_line(origin, "origin must be one non-empty line")?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// Adds an extension line (non-empty, no control characters).
    pub fn with_extension(mut self, line: &str) -> Result<Self, CheckpointError> {
        check_line(line, "extension lines must be one non-empty line")?;
        self.extensions.push(line.to_owned());
        Ok(self)
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The extension lines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text (ends with a newline).
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            b64_encode(&self.root.0)
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses a note text as a checkpoint.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("must end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed("fewer than three lines"));
        };
        let size = parse_size(size).ok_or(CheckpointError::Malformed("bad tree size"))?;
        let root = b64_decode(root)
            .and_then(|b| Hash::from_slice(&b))
            .ok_or(CheckpointError::Malformed("bad root hash"))?;
        let mut cp = Checkpoint::new(origin, size, root)?;
        for line in lines {
            cp = cp.with_extension(line)?;
        }
        Ok(cp)
    }

    /// The signed note of this checkpoint, signed by each signer in order.
    pub fn sign(&self, signers: &[&NoteSigner]) -> Result<String, CheckpointError> {
        Ok(note::sign(&self.to_text(), signers)?)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// A checkpoint from the expected log, signed by at least one known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: VerifiedNote,
}

impl VerifiedCheckpoint {
    /// Opens a signed checkpoint of log `origin`, verifying its signatures with `known`.
    pub fn open(msg: &[u8], origin: &str, known: &Verifiers) -> Result<Self, CheckpointError> {
        let note = note::open(msg, known)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                got: checkpoint.origin,
            });
        }
        Ok(VerifiedCheckpoint { checkpoint, note })
    }

    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The verified note (signers, and the note to co-sign).
    pub fn note(&self) -> &VerifiedNote {
        &self.note
    }
}
