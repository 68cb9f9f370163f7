//! The printed-face check (照面核验): a face's QR code carries, besides the link to the
//! license's public page, a short token signed by the issuer over the data the face prints.
//! A verifier who scans it learns whether the printed face shows what was issued, and sees
//! the holder's masked name and code to compare with the paper, so a face printed with
//! someone else's identifier no longer passes for genuine; the page shows nothing more.
//!
//! Invariants: [`signed_bytes`] is the one definition of what a token signs: the identifier
//! (which names type, issuer and version), license number, holder name, code type and code,
//! issue date, validity, every data item by name, and the signing time, as one JSON array
//! (no maps, so the bytes are canonical). A token is `{t}.{sig}`: `t` the signing time in
//! unix seconds, `sig` the base64url JWS-form signature (64 bytes) of the issuer's key of the
//! license's algorithm. A token verifies only over the license's stored data, with a key of
//! that issuer valid at `t`, and `t` not in the future; [`FaceOutcome::Matches`] is the only
//! outcome that shows the masked holder.
//!
//! Why the issuer's key and not the node's: the issuer vouches for the data, as it does in
//! the credential, so anyone with its published JWKS can check a face offline or on another
//! node, and retiring or revoking an issuer key applies to faces as to credentials.

use std::sync::Arc;

use elicense_core::holder::HolderCodeType;
use elicense_core::license::LicenseMeta;
use elicense_core::Identifier;
use elicense_crypto::{b64, Signer as _};
use serde_json::{json, Value};

use crate::error::{AppError, Result};
use crate::node::Node;
use crate::stored::License;

/// Version tag of the signed bytes.
const FORMAT: &str = "elicense-face/1";

/// How far in the future a token's signing time may be (clock skew between nodes).
const MAX_SKEW_SECS: i64 = 300;

/// The bytes a face token signs for `meta` at time `t` (see the module invariants).
pub fn signed_bytes(meta: &LicenseMeta, t: i64) -> Vec<u8> {
    let items: Vec<Value> = meta
        .data
        .iter()
        .map(|(name, value)| json!([name, value]))
        .collect();
    let until = meta.valid_until.map(elicense_core::date::format_date);
    json!([
        FORMAT,
        meta.identifier.as_str(),
        meta.license_number,
        meta.holder.name,
        meta.holder.code.kind().code(),
        meta.holder.code.value(),
        elicense_core::date::format_date(meta.issue_date),
        elicense_core::date::format_date(meta.valid_from),
        until,
        items,
        t,
    ])
    .to_string()
    .into_bytes()
}

/// A token's text: `{t}.{base64url(sig)}`.
pub fn token_text(t: i64, sig: &[u8]) -> String {
    format!("{t}.{}", b64::encode(sig))
}

/// Reads a token; `None` unless it is `{t}.{sig}` with `t` a non-negative decimal and `sig`
/// strict base64url of 64 bytes.
pub fn parse_token(token: &str) -> Option<(i64, Vec<u8>)> {
    let (t, sig) = token.split_once('.')?;
    if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sig = b64::decode(sig).ok().filter(|s| s.len() == 64)?;
    Some((t.parse().ok()?, sig))
}

/// A person's name masked for a public page: the first character, then one `*` per other
/// character (`张伟` → `张*`, `欧阳娜娜` → `欧***`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// The holder as the public page may show it: a person's name and code masked
/// ([`mask_name`], [`crate::wallet::identity::mask`]); an enterprise's name and unified
/// social credit code as they are, being public registration data.
pub fn masked_holder(meta: &LicenseMeta) -> MaskedHolder {
    let code = meta.holder.code.value();
    match meta.holder.code.kind() {
        HolderCodeType::Uscc => MaskedHolder {
            name: meta.holder.name.clone(),
            code: code.to_owned(),
        },
        _ => MaskedHolder {
            name: mask_name(&meta.holder.name),
            code: crate::wallet::identity::mask(code),
        },
    }
}

/// The holder's name and code as the public page shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MaskedHolder {
    pub name: String,
    pub code: String,
}

/// What the check of a printed face found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceOutcome {
    /// The token verifies over the license's stored data: the face shows what was issued.
    Matches,
    /// A token was given but does not verify over this license's data: tampered, made for
    /// another license, or not made by the issuer.
    Mismatch,
    /// No token (a face rendered before faces carried one, or a typed identifier): the
    /// printed data cannot be checked.
    Absent,
}

impl FaceOutcome {
    /// `matches`, `mismatch`, `absent` (stable; pages put it in `data-face`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Matches => "matches",
            Self::Mismatch => "mismatch",
            Self::Absent => "absent",
        }
    }
}

/// The check of one printed face, as the public page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceCheck {
    pub outcome: FaceOutcome,
    /// Set only when the face matches.
    pub holder: Option<MaskedHolder>,
    /// When the face's token was signed, when it matches.
    pub signed_at: Option<i64>,
}

/// Signs a token for the face of `license` now, with its issuer's key of its algorithm.
pub async fn sign(node: &Node, license: &License) -> Result<String> {
    let now = node.now();
    let signer = node
        .keys
        .signer(&license.record.issuer, license.alg, now)
        .await?;
    let sig = signer
        .sign(&signed_bytes(&license.meta, now))
        .map_err(AppError::crypto)?;
    Ok(token_text(now, &sig))
}

/// The link a face's QR code holds: the license's public page with the face token.
pub fn face_url(node: &Node, identifier: &Identifier, token: &str) -> String {
    format!("{}/{token}", super::verify_url(node, identifier))
}

/// Checks a printed face's token (if any) against the stored license `identifier`.
pub async fn check(
    node: &Arc<Node>,
    identifier: &Identifier,
    token: Option<&str>,
) -> Result<FaceCheck> {
    let absent = |outcome| FaceCheck {
        outcome,
        holder: None,
        signed_at: None,
    };
    let Some(token) = token else {
        return Ok(absent(FaceOutcome::Absent));
    };
    let Some((t, sig)) = parse_token(token) else {
        return Ok(absent(FaceOutcome::Mismatch));
    };
    if t > node.now() + MAX_SKEW_SECS {
        return Ok(absent(FaceOutcome::Mismatch));
    }
    let record = node
        .store
        .license(identifier.as_str())
        .await?
        .ok_or_else(|| {
            AppError::not_found("license.not_found", format!("no license {identifier}"))
        })?;
    let License { meta, record, .. } = License::try_from(record)?;
    let msg = signed_bytes(&meta, t);
    for key in node.store.keys(&record.issuer).await? {
        if key.alg != record.alg {
            continue;
        }
        let Some(public) = node.keys.public_key(&key.kid).await? else {
            continue;
        };
        if public.valid_at(t) && public.verifier.verify(&msg, &sig).is_ok() {
            return Ok(FaceCheck {
                outcome: FaceOutcome::Matches,
                holder: Some(masked_holder(&meta)),
                signed_at: Some(t),
            });
        }
    }
    Ok(absent(FaceOutcome::Mismatch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_after_the_first_character() {
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name(" 李 "), "李");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn tokens_parse_strictly() {
        let sig = [7u8; 64];
        let text = token_text(1_769_990_400, &sig);
        assert_eq!(parse_token(&text), Some((1_769_990_400, sig.to_vec())));
        for bad in [
            "",
            "1769990400",
            ".AAAA",
            "-1.AAAA",
            "17699904x0.AAAA",
            &format!("1769990400.{}", b64::encode(&[7u8; 63])),
            &format!("1769990400.{}=", b64::encode(&sig)),
            &format!("1769990400.{}.x", b64::encode(&sig)),
        ] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }
}
