//! Signing notes and opening them against a set of known keys.

use std::collections::HashMap;

use super::signed::check_text;
use super::{NoteError, NoteSignature, NoteSigner, SignedNote, VerifierKey, MAX_SIGNATURES};

/// The keys a client trusts, looked up by (name, key ID).
#[derive(Debug, Default)]
pub struct Verifiers {
    keys: HashMap<(String, u32), VerifierKey>,
}

impl Verifiers {
    /// A set of keys; two keys with the same name and ID are rejected.
    pub fn new(keys: impl IntoIterator<Item = VerifierKey>) -> Result<Self, NoteError> {
        let mut map = HashMap::new();
        for k in keys {
            let id = (k.name().to_owned(), k.key_id());
            if map.contains_key(&id) {
                return Err(NoteError::DuplicateKey {
                    name: id.0,
                    key_id: id.1,
                });
            }
            map.insert(id, k);
        }
        Ok(Verifiers { keys: map })
    }

    /// The key named `name` with ID `key_id`, if known.
    pub fn get(&self, name: &str, key_id: u32) -> Option<&VerifierKey> {
        self.keys.get(&(name.to_owned(), key_id))
    }
}

/// A note at least one known key has signed, with no failing known signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    note: SignedNote,
    verified: Vec<bool>,
}

impl VerifiedNote {
    /// The note text, with its final newline. Trust it.
    pub fn text(&self) -> &str {
        &self.note.text
    }

    /// Signatures by known keys (all verified).
    pub fn verified(&self) -> impl Iterator<Item = &NoteSignature> {
        self.lines(true)
    }

    /// Signatures by keys the verifier set does not know (not checked).
    pub fn unknown(&self) -> impl Iterator<Item = &NoteSignature> {
        self.lines(false)
    }

    fn lines(&self, verified: bool) -> impl Iterator<Item = &NoteSignature> {
        self.note
            .signatures
            .iter()
            .zip(&self.verified)
            .filter(move |(_, v)| **v == verified)
            .map(|(s, _)| s)
    }

    /// The note as received.
    pub fn note(&self) -> &SignedNote {
        &self.note
    }

    /// The note with `signer`'s plain signed-note signature appended (another key signing
    /// the same text). Existing lines are kept in order; re-signing with a key that already
    /// signed is an error. This is not a witness's cosignature: a parent co-signs a child's
    /// checkpoint with a timestamped `cosignature/v1` ([`crate::cosignature`]).
    pub fn cosign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        let mut note = self.note.clone();
        if note
            .signatures
            .iter()
            .any(|s| s.name == signer.name() && s.key_id == signer.key_id())
        {
            return Err(NoteError::Malformed("a key signs twice"));
        }
        if note.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        note.signatures.push(signer.sign(&note.text)?);
        Ok(note.to_text())
    }
}

/// Signs `text` (which must end with a newline and have no control characters other
/// than newline) with each signer, in order.
pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::Malformed("a note needs at least one signature"));
    }
    if signers.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures);
    }
    let mut signatures: Vec<NoteSignature> = Vec::with_capacity(signers.len());
    for s in signers {
        if signatures
            .iter()
            .any(|x| x.name == s.name() && x.key_id == s.key_id())
        {
            return Err(NoteError::Malformed("a key signs twice"));
        }
        signatures.push(s.sign(text)?);
    }
    Ok(SignedNote {
        text: text.to_owned(),
        signatures,
    }
    .to_text())
}

/// Parses `msg` and checks its signatures against `known`. See the module invariants
/// for what is accepted.
pub fn open(msg: &[u8], known: &Verifiers) -> Result<VerifiedNote, NoteError> {
    let note = SignedNote::parse(msg)?;
    let mut verified = Vec::with_capacity(note.signatures.len());
    for sig in &note.signatures {
        match known.get(&sig.name, sig.key_id) {
            Some(key) if key.verifies(note.text.as_bytes(), &sig.signature) => verified.push(true),
            Some(_) => {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                })
            }
            None => verified.push(false),
        }
    }
    if !verified.contains(&true) {
        return Err(NoteError::Unverified {
            unknown: note
                .signatures
                .iter()
                .map(|s| (s.name.clone(), s.key_id))
                .collect(),
        });
    }
    Ok(VerifiedNote { note, verified })
}
