//! C2SP signed notes: a text and one or more signature lines
//! `— <key name> base64(key ID || signature)`, with Ed25519 keys (type `0x01`) and SM2
//! keys (private use, see [`SM2_KEY_TYPE`]).
//!
//! Invariants:
//! - [`SignedNote::parse`] accepts only well-formed notes: valid UTF-8, no control
//!   characters but newline, text ending in newline, separated from the signature lines
//!   by the last blank line, 1 to [`MAX_SIGNATURES`] signature lines with valid key
//!   names, canonical base64 and at least one signature byte, and no key signing twice.
//! - [`open`] returns a [`VerifiedNote`] only if at least one signature by a known key
//!   verifies and no signature by a known key fails; signatures by unknown keys (name and
//!   key ID not both known) are ignored but reported. A key is identified by the pair
//!   (name, key ID) alone.
//! - Key IDs are `SHA-256(name || 0x0A || key type || public key)[:4]`, and a verifier
//!   key string whose ID does not match its key is rejected.

mod key;
mod open;
mod signed;

use thiserror::Error;

pub use key::{NotePublicKey, NoteSigner, VerifierKey, ED25519_KEY_TYPE, SM2_KEY_TYPE};
pub use open::{open, sign, VerifiedNote, Verifiers};
pub use signed::{NoteSignature, SignedNote};

/// Most signature lines a note may carry (the spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Why a note, a key or a signature was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is not a well-formed signed note.
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A key name is empty or contains a space or `+`.
    #[error("invalid key name {0:?}")]
    BadName(String),
    /// A verifier or signer key string is not `<name>+<hex8>+<base64>`, or its key bytes
    /// are not a valid key of its type.
    #[error("malformed key: {0}")]
    BadKey(String),
    /// The key ID in a key string is not the one its name and key imply.
    #[error("key ID {given:08x} does not match the key (expected {computed:08x})")]
    KeyIdMismatch {
        /// The ID written in the key string.
        given: u32,
        /// The ID computed from name and key.
        computed: u32,
    },
    /// The key's type byte is not one we implement.
    #[error("unsupported key type")]
    UnsupportedKeyType,
    /// Two verifier keys share a name and key ID.
    #[error("two keys named {name} with ID {key_id:08x}")]
    DuplicateKey {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// A signature by a known key does not verify: the whole note is rejected.
    #[error("signature by {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature is by a known key; `unknown` lists the signers that were present.
    #[error("note is not signed by any known key (signers: {unknown:?})")]
    Unverified {
        /// `(name, key ID)` of each signature line.
        unknown: Vec<(String, u32)>,
    },
    /// A signer failed to sign; `code` is its own stable code.
    #[error("signer failed: {message}")]
    Signer {
        /// Stable code of the signer's error.
        code: &'static str,
        /// Detail.
        message: String,
    },
}

impl NoteError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::Malformed(_) => "note.malformed",
            NoteError::TooManySignatures => "note.too_many_signatures",
            NoteError::BadName(_) => "note.bad_name",
            NoteError::BadKey(_) => "note.bad_key",
            NoteError::KeyIdMismatch { .. } => "note.key_id_mismatch",
            NoteError::UnsupportedKeyType => "note.unsupported_key_type",
            NoteError::DuplicateKey { .. } => "note.duplicate_key",
            NoteError::BadSignature { .. } => "note.bad_signature",
            NoteError::Unverified { .. } => "note.unverified",
            NoteError::Signer { code, .. } => code,
        }
    }
}

/// Checks a key name: non-empty, no Unicode white space, no `+`.
pub(crate) fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        Err(NoteError::BadName(name.to_owned()))
    } else {
        Ok(())
    }
}

/// No ASCII control characters other than newline (signed-note §Format).
pub(crate) fn has_forbidden_control(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 && b != b'\n')
}

/// Strict standard base64 (RFC 4648 §4, padded, canonical).
pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    (b64_encode(&bytes) == s).then_some(bytes)
}

/// Standard base64 with padding.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
