//! C2SP tlog-cosignature, the Ed25519 `cosignature/v1` type: a witness's timestamped
//! statement that a checkpoint is the largest consistent tree head it has seen for its log.
//!
//! A cosignature is one signed-note signature line on the checkpoint,
//! `— <cosigner name> base64(key ID || timestamp || signature)`, where the key ID is 4 bytes,
//! the timestamp 8 bytes (POSIX seconds, big-endian) and the signature 64 bytes (Ed25519,
//! RFC 8032). The signed message is `cosignature/v1\n`, `time <timestamp>\n` and then the
//! checkpoint's note text (every line, extension lines included, with its final newline,
//! without any signature line).
//!
//! Invariants:
//! - A [`CosignerKey`] has a valid key name and a valid Ed25519 point; its key ID is
//!   `SHA-256(name || 0x0A || 0x04 || public key)[:4]`, and [`CosignerKey::parse`] refuses a
//!   vkey whose ID does not match (`cosignature.key_id_mismatch`) or whose type byte is not
//!   `0x04`.
//! - A [`Cosignature`] always has a timestamp in `1..=2^63-1`; parsing refuses anything
//!   else, and a line that is not exactly 4 + 8 + 64 bytes after base64.
//! - A [`Cosigner`] signs only with the key its [`CosignerKey`] names (checked once, when it
//!   is made, by signing and verifying a probe), and only a text that is a canonical
//!   checkpoint: what it signs always verifies with its key.

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::{Signature, VerifyingKey};
use elicense_crypto::{Alg, Signer};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::checkpoint::Checkpoint;
use crate::note::{b64_decode, b64_encode, check_name, NoteSignature, SignedNote};

/// The signed-note signature type byte of Ed25519 `cosignature/v1`.
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;
/// The header line of the signed message (domain separation), without its newline.
pub const HEADER: &str = "cosignature/v1";
/// The largest timestamp a cosignature may carry (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;
/// Bytes after the key ID: timestamp (8) and Ed25519 signature (64).
const SIGNATURE_LEN: usize = 8 + 64;

/// Why a cosigner key or a cosignature was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The line, key string or checkpoint text is not in the expected form.
    #[error("malformed cosignature: {0}")]
    Malformed(&'static str),
    /// The cosigner name is empty or contains white space or `+`.
    #[error("invalid cosigner name {0:?}")]
    BadName(String),
    /// The vkey is not `<name>+<hex8>+<base64(0x04 || 32-byte key)>` or the key is not a
    /// valid Ed25519 point.
    #[error("malformed cosigner key: {0}")]
    BadKey(String),
    /// The key ID in a vkey is not the one its name and key imply.
    #[error("key ID {given:08x} does not match the key (expected {computed:08x})")]
    KeyIdMismatch {
        /// The ID written in the key string.
        given: u32,
        /// The ID computed from name and key.
        computed: u32,
    },
    /// The cosignature is by another key (name or key ID differ), or no line of a note is
    /// by this key.
    #[error("no cosignature by {name}+{key_id:08x}")]
    WrongKey {
        /// The expected cosigner name.
        name: String,
        /// The expected key ID.
        key_id: u32,
    },
    /// The cosignature is by this key but does not verify over this checkpoint and time.
    #[error("cosignature by {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// Cosigner name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// The signer failed, or signs with another key than the one it claims.
    #[error("cosigner failed: {message}")]
    Signer {
        /// Stable code of the underlying error.
        code: &'static str,
        /// Detail.
        message: String,
    },
}

impl CosignatureError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CosignatureError::Malformed(_) => "cosignature.malformed",
            CosignatureError::BadName(_) => "cosignature.bad_name",
            CosignatureError::BadKey(_) => "cosignature.bad_key",
            CosignatureError::KeyIdMismatch { .. } => "cosignature.key_id_mismatch",
            CosignatureError::WrongKey { .. } => "cosignature.wrong_key",
            CosignatureError::BadSignature { .. } => "cosignature.bad_signature",
            CosignatureError::Signer { code, .. } => code,
        }
    }
}

/// The message a `cosignature/v1` signs: header line, time line, checkpoint note text.
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    let mut out = format!("{HEADER}\ntime {timestamp}\n").into_bytes();
    out.extend_from_slice(checkpoint_text.as_bytes());
    out
}

/// A cosigner's public key under its name.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignerKey {
    name: String,
    public: [u8; 32],
    key_id: u32,
}

impl CosignerKey {
    /// The key `public` named `name` (a schema-less URL: no white space, no `+`).
    pub fn new(name: &str, public: [u8; 32]) -> Result<Self, CosignatureError> {
        check_name(name).map_err(|_| CosignatureError::BadName(name.to_owned()))?;
        VerifyingKey::from_bytes(&public)
            .map_err(|_| CosignatureError::BadKey("not a valid Ed25519 public key".into()))?;
        let d = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update([b'\n', COSIGNATURE_V1_TYPE])
            .chain_update(public)
            .finalize();
        Ok(CosignerKey {
            name: name.to_owned(),
            public,
            key_id: u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
        })
    }

    /// Parses a vkey `<name>+<8 hex digits>+<base64(0x04 || 32-byte key)>`.
    pub fn parse(vkey: &str) -> Result<Self, CosignatureError> {
        let bad = || CosignatureError::BadKey("expected <name>+<hex key ID>+<base64 key>".into());
        let (name, rest) = vkey.split_once('+').ok_or_else(bad)?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or_else(bad)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let given = u32::from_str_radix(id_hex, 16).map_err(|_| bad())?;
        let material = b64_decode(key_b64).ok_or_else(bad)?;
        let public: [u8; 32] = match material.split_first() {
            Some((&COSIGNATURE_V1_TYPE, key)) => key
                .try_into()
                .map_err(|_| CosignatureError::BadKey("an Ed25519 key is 32 bytes".into()))?,
            _ => {
                return Err(CosignatureError::BadKey(
                    "the key type is not 0x04 (cosignature/v1)".into(),
                ))
            }
        };
        let key = CosignerKey::new(name, public)?;
        if key.key_id != given {
            return Err(CosignatureError::KeyIdMismatch {
                given,
                computed: key.key_id,
            });
        }
        Ok(key)
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-byte Ed25519 public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The vkey string `<name>+<hex key ID>+<base64(0x04 || key)>`.
    pub fn vkey(&self) -> String {
        self.to_string()
    }

    /// Checks `cosignature` over the checkpoint note text `checkpoint_text`.
    pub fn verify(
        &self,
        checkpoint_text: &str,
        cosignature: &Cosignature,
    ) -> Result<(), CosignatureError> {
        if cosignature.name != self.name || cosignature.key_id != self.key_id {
            return Err(self.wrong_key());
        }
        let bad = || CosignatureError::BadSignature {
            name: self.name.clone(),
            key_id: self.key_id,
        };
        let key = VerifyingKey::from_bytes(&self.public).map_err(|_| bad())?;
        let msg = signed_message(checkpoint_text, cosignature.timestamp);
        key.verify_strict(&msg, &Signature::from_bytes(&cosignature.signature))
            .map_err(|_| bad())
    }

    /// Finds this key's cosignature among the signature lines of `note` and checks it over
    /// the note's text; returns it.
    pub fn verify_note(&self, note: &SignedNote) -> Result<Cosignature, CosignatureError> {
        let line = note
            .signatures()
            .iter()
            .find(|s| s.name() == self.name && s.key_id() == self.key_id)
            .ok_or_else(|| self.wrong_key())?;
        let cosignature = Cosignature::from_note_signature(line)?;
        self.verify(note.text(), &cosignature)?;
        Ok(cosignature)
    }

    fn wrong_key(&self) -> CosignatureError {
        CosignatureError::WrongKey {
            name: self.name.clone(),
            key_id: self.key_id,
        }
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = vec![COSIGNATURE_V1_TYPE];
        material.extend_from_slice(&self.public);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            b64_encode(&material)
        )
    }
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignerKey({self})")
    }
}

/// One `cosignature/v1` signature line, parsed (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    name: String,
    key_id: u32,
    timestamp: u64,
    signature: [u8; 64],
}

impl Cosignature {
    /// Reads a note signature line as a cosignature: 72 bytes after the key ID, a timestamp
    /// in `1..=2^63-1`.
    pub fn from_note_signature(line: &NoteSignature) -> Result<Self, CosignatureError> {
        let raw = line.signature();
        if raw.len() != SIGNATURE_LEN {
            return Err(CosignatureError::Malformed(
                "a cosignature/v1 is 8 timestamp bytes and a 64-byte signature",
            ));
        }
        let timestamp = u64::from_be_bytes(raw[..8].try_into().expect("8 bytes"));
        if timestamp == 0 || timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::Malformed(
                "the timestamp must be between 1 and 2^63-1",
            ));
        }
        Ok(Cosignature {
            name: line.name().to_owned(),
            key_id: line.key_id(),
            timestamp,
            signature: raw[8..].try_into().expect("64 bytes"),
        })
    }

    /// Parses one line `— <name> <base64>` (with or without its final newline).
    pub fn parse_line(line: &str) -> Result<Self, CosignatureError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let sig = NoteSignature::parse_line(line)
            .map_err(|_| CosignatureError::Malformed("not a note signature line"))?;
        Cosignature::from_note_signature(&sig)
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// When the cosigner signed, in POSIX seconds.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The 64-byte Ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The signature line, `— <name> base64(key ID || timestamp || signature)\n`.
    pub fn line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + SIGNATURE_LEN);
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.timestamp.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, b64_encode(&raw))
    }
}

/// A witness's private key (local, or behind any [`Signer`]) that makes `cosignature/v1`s.
pub struct Cosigner {
    key: CosignerKey,
    signer: Arc<dyn Signer>,
}

impl Cosigner {
    /// Cosigns as `key` with `signer`, an Ed25519 signer of `key`'s public key (checked by
    /// signing a probe message).
    pub fn new(key: CosignerKey, signer: Arc<dyn Signer>) -> Result<Self, CosignatureError> {
        if signer.alg() != Alg::EdDSA {
            return Err(CosignatureError::Signer {
                code: "cosignature.wrong_alg",
                message: "a cosignature/v1 key is an Ed25519 key".into(),
            });
        }
        let probe = b"elicense cosigner key check";
        let sig = signer.sign(probe).map_err(|e| CosignatureError::Signer {
            code: e.code(),
            message: e.to_string(),
        })?;
        let matches = VerifyingKey::from_bytes(&key.public).is_ok_and(|k| {
            <[u8; 64]>::try_from(sig.as_slice())
                .is_ok_and(|s| k.verify_strict(probe, &Signature::from_bytes(&s)).is_ok())
        });
        if !matches {
            return Err(CosignatureError::Signer {
                code: "cosignature.key_mismatch",
                message: format!("the signer does not hold the key of {}", key.name),
            });
        }
        Ok(Cosigner { key, signer })
    }

    /// The public key.
    pub fn key(&self) -> &CosignerKey {
        &self.key
    }

    /// Cosigns the checkpoint note text `checkpoint_text` at `timestamp` (POSIX seconds,
    /// `1..=2^63-1`). The text must be a canonical checkpoint.
    pub fn cosign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<Cosignature, CosignatureError> {
        if timestamp == 0 || timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::Malformed(
                "the timestamp must be between 1 and 2^63-1",
            ));
        }
        let cp = Checkpoint::parse(checkpoint_text)
            .map_err(|_| CosignatureError::Malformed("the text is not a checkpoint"))?;
        if cp.to_text() != checkpoint_text {
            return Err(CosignatureError::Malformed(
                "the checkpoint is not canonical",
            ));
        }
        let sig = self
            .signer
            .sign(&signed_message(checkpoint_text, timestamp))
            .map_err(|e| CosignatureError::Signer {
                code: e.code(),
                message: e.to_string(),
            })?;
        let signature: [u8; 64] =
            sig.as_slice()
                .try_into()
                .map_err(|_| CosignatureError::Signer {
                    code: "cosignature.key_mismatch",
                    message: "an Ed25519 signature is 64 bytes".into(),
                })?;
        Ok(Cosignature {
            name: self.key.name.clone(),
            key_id: self.key.key_id,
            timestamp,
            signature,
        })
    }
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cosigner({}+{:08x})", self.key.name, self.key.key_id)
    }
}
