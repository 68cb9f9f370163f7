//! Reading an SD-JWT or SD-JWT+KB: the first stage of the verification pipeline.
//!
//! Invariants: a [`Parsed`] has a structurally valid issuer JWS (allowed `alg`, right
//! signature length), disclosures that each decode to a valid array, and — when the
//! input does not end with `~` — a structurally valid KB-JWT. Nothing is verified yet.
//! `sd_hash_input` is the exact prefix up to and including the last `~`.

use super::{Disclosure, SdJwtError};
use crate::jws;

/// Inputs longer than this (1 MiB) are refused with `sdjwt.too_large`.
pub const MAX_LEN: usize = 1 << 20;

/// A structurally valid, not yet verified SD-JWT (with or without key binding).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The issuer-signed JWT.
    pub jws: jws::Parsed,
    /// The disclosures, in the order received.
    pub disclosures: Vec<Disclosure>,
    /// The key-binding JWT, if one was appended.
    pub kb_jwt: Option<jws::Parsed>,
    /// Everything up to and including the last `~` before the KB-JWT.
    pub sd_hash_input: String,
}

/// Parses `<jwt>~<d1>~…~<dn>~[<kb-jwt>]`.
pub fn parse(s: &str) -> Result<Parsed, SdJwtError> {
    if s.len() > MAX_LEN {
        return Err(SdJwtError::TooLarge(s.len()));
    }
    let Some(last) = s.rfind('~') else {
        return Err(SdJwtError::Malformed("no '~': not an SD-JWT".into()));
    };
    let (sd_hash_input, kb_part) = (&s[..=last], &s[last + 1..]);
    let mut parts = sd_hash_input[..last].split('~');
    let jwt = parts.next().unwrap_or_default();
    let mut disclosures = Vec::new();
    for part in parts {
        if part.is_empty() {
            return Err(SdJwtError::Malformed("empty disclosure ('~~')".into()));
        }
        disclosures.push(Disclosure::parse(part)?);
    }
    let jws = jws::parse(jwt).map_err(SdJwtError::Jws)?;
    let kb_jwt = if kb_part.is_empty() {
        None
    } else if kb_part.bytes().filter(|&b| b == b'.').count() != 2 {
        return Err(SdJwtError::Malformed(
            "last component is neither empty nor a KB-JWT (truncated?)".into(),
        ));
    } else {
        Some(jws::parse(kb_part).map_err(SdJwtError::KbJwt)?)
    };
    Ok(Parsed {
        jws,
        disclosures,
        kb_jwt,
        sd_hash_input: sd_hash_input.to_owned(),
    })
}

impl Parsed {
    /// The issuer JWT's `iss` claim, if a string (untrusted until verified).
    pub fn issuer(&self) -> Option<&str> {
        self.jws.issuer()
    }

    /// The issuer JWT's header `kid` (untrusted until verified).
    pub fn kid(&self) -> Option<&str> {
        self.jws.header.kid.as_deref()
    }

    /// The issuer-signed JWT as received (the text before the first `~`).
    pub fn issuer_jwt(&self) -> &str {
        self.sd_hash_input.split('~').next().unwrap_or_default()
    }
}
