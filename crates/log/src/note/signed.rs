//! The signed-note wire format, without any key: parsing and printing.

use super::{b64_decode, b64_encode, check_name, has_forbidden_control, NoteError, MAX_SIGNATURES};

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub(crate) name: String,
    pub(crate) key_id: u32,
    pub(crate) signature: Vec<u8>,
}

impl NoteSignature {
    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature bytes (after the 4-byte key ID).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The line, `— <name> <base64>\n`.
    pub fn line(&self) -> String {
        let mut raw = self.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, b64_encode(&raw))
    }

    pub(crate) fn parse_line(line: &str) -> Result<Self, NoteError> {
        let rest = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed(
            "signature line must start with an em dash",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line without signature"))?;
        check_name(name).map_err(|_| NoteError::Malformed("invalid key name"))?;
        let raw = b64_decode(b64).ok_or(NoteError::Malformed("signature is not base64"))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed("signature shorter than 5 bytes"));
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            signature: raw[4..].to_vec(),
        })
    }
}

/// A parsed, not yet verified note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    pub(crate) text: String,
    pub(crate) signatures: Vec<NoteSignature>,
}

/// Checks that `text` can be the text of a note.
pub(crate) fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("text must end with a newline"));
    }
    if has_forbidden_control(text) {
        return Err(NoteError::Malformed("control character in text"));
    }
    Ok(())
}

impl SignedNote {
    /// Parses a note (structure only; see [`super::open`] to verify it).
    pub fn parse(msg: &[u8]) -> Result<Self, NoteError> {
        let msg = std::str::from_utf8(msg).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        if has_forbidden_control(msg) {
            return Err(NoteError::Malformed("control character"));
        }
        let split = msg
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let (text, sigs) = (&msg[..=split], &msg[split + 2..]);
        let sigs = sigs
            .strip_suffix('\n')
            .ok_or(NoteError::Malformed("signatures must end with a newline"))?;
        let lines: Vec<&str> = sigs.split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let mut signatures: Vec<NoteSignature> = Vec::with_capacity(lines.len());
        for line in lines {
            let sig = NoteSignature::parse_line(line)?;
            if signatures
                .iter()
                .any(|s| s.name == sig.name && s.key_id == sig.key_id)
            {
                return Err(NoteError::Malformed("a key signs twice"));
            }
            signatures.push(sig);
        }
        Ok(SignedNote {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// The serialised note: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out
    }
}
