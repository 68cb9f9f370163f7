//! The holder's side: choosing what to disclose, and key binding (KB-JWT).
//!
//! Invariants: a presentation keeps the issuer JWT byte for byte and a subset of its
//! disclosures in their original order, always including the disclosures that enclose a
//! kept one (so none is unreferenced), and ends with `~`. A KB-JWT is
//! `{"typ":"kb+jwt"}` over `{"iat","aud","nonce","sd_hash"}` where `sd_hash` =
//! base64url(SHA-256(presentation up to and including its last `~`)).

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::{parse, sha256_b64, SdJwtError, TYP_KB_JWT};
use crate::jws::{self, Header, PreparedJws};
use crate::{Alg, CryptoError, Signer};

/// Deepest nesting of objects, arrays and disclosures we walk.
pub(crate) const MAX_DEPTH: usize = 100;

/// Where each disclosure sits in the payload tree.
struct Tree<'a> {
    by_digest: HashMap<&'a str, usize>,
    /// For each reached disclosure: (enclosing disclosure, claim names on its path).
    place: Vec<Option<(Option<usize>, Vec<String>)>>,
    names: HashSet<String>,
}

impl<'a> Tree<'a> {
    fn reach(&mut self, digest: &str, parent: Option<usize>, path: Vec<String>) -> Option<usize> {
        let i = *self.by_digest.get(digest)?;
        if self.place[i].is_some() {
            return None;
        }
        self.place[i] = Some((parent, path));
        Some(i)
    }

    fn walk(
        &mut self,
        v: &Value,
        parsed: &'a super::Parsed,
        parent: Option<usize>,
        path: &[String],
        depth: usize,
    ) -> Result<(), SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed("nesting too deep".into()));
        }
        let with = |name: &str| {
            let mut p = path.to_vec();
            p.push(name.to_owned());
            p
        };
        match v {
            Value::Object(m) => {
                for d in m.get("_sd").and_then(Value::as_array).into_iter().flatten() {
                    let Some(i) = d.as_str().and_then(|d| {
                        let name = parsed.disclosures[*self.by_digest.get(d)?].name.clone();
                        self.reach(d, parent, with(&name))
                    }) else {
                        continue;
                    };
                    let d = &parsed.disclosures[i];
                    self.names.insert(d.name.clone());
                    self.walk(&d.value, parsed, Some(i), &with(&d.name), depth + 1)?;
                }
                for (k, v) in m.iter().filter(|(k, _)| *k != "_sd" && *k != "_sd_alg") {
                    self.names.insert(k.clone());
                    self.walk(v, parsed, parent, &with(k), depth + 1)?;
                }
            }
            Value::Array(items) => {
                for item in items {
                    let digest = item
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("..."))
                        .and_then(Value::as_str);
                    match digest.and_then(|d| self.reach(d, parent, path.to_vec())) {
                        Some(i) => self.walk(
                            &parsed.disclosures[i].value,
                            parsed,
                            Some(i),
                            path,
                            depth + 1,
                        )?,
                        None => self.walk(item, parsed, parent, path, depth + 1)?,
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Keeps only the disclosures of the named claims (at any depth; naming a claim keeps
/// everything inside it, and the disclosures enclosing it), drops any KB-JWT, and ends
/// with `~`. A name found nowhere in the credential is an error (`sdjwt.unknown_claim`).
pub fn present(sd_jwt: &str, disclose: &[&str]) -> Result<String, SdJwtError> {
    let parsed = parse(sd_jwt)?;
    let mut tree = Tree {
        by_digest: parsed
            .disclosures
            .iter()
            .enumerate()
            .map(|(i, d)| (d.digest.as_str(), i))
            .collect(),
        place: vec![None; parsed.disclosures.len()],
        names: HashSet::new(),
    };
    tree.walk(&parsed.jws.payload, &parsed, None, &[], 0)?;
    if let Some(n) = disclose.iter().find(|n| !tree.names.contains(**n)) {
        return Err(SdJwtError::UnknownClaim((*n).to_owned()));
    }
    let mut keep = vec![false; parsed.disclosures.len()];
    for (i, place) in tree.place.iter().enumerate() {
        let Some((_, path)) = place else { continue };
        if path.iter().any(|n| disclose.contains(&n.as_str())) {
            let mut cur = Some(i);
            while let Some(j) = cur.filter(|&j| !keep[j]) {
                keep[j] = true;
                cur = tree.place[j].as_ref().and_then(|(parent, _)| *parent);
            }
        }
    }
    let mut out = parsed.issuer_jwt().to_owned();
    out.push('~');
    for (d, _) in parsed.disclosures.iter().zip(&keep).filter(|(_, k)| **k) {
        out.push_str(&d.encoded);
        out.push('~');
    }
    Ok(out)
}

/// Prepares a KB-JWT over `presentation_without_kb` (which must end with `~`).
pub fn key_binding_prepare(
    presentation_without_kb: &str,
    aud: &str,
    nonce: &str,
    iat: i64,
    alg: Alg,
) -> PreparedJws {
    let payload = json!({
        "iat": iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": sha256_b64(presentation_without_kb),
    });
    jws::prepare(&Header::new(alg).with_typ(TYP_KB_JWT), &payload)
}

/// Signs a KB-JWT with the holder's key and appends it to the presentation.
pub fn add_key_binding(
    presentation_without_kb: &str,
    holder: &dyn Signer,
    aud: &str,
    nonce: &str,
    iat: i64,
) -> Result<String, CryptoError> {
    if !presentation_without_kb.ends_with('~') {
        return Err(SdJwtError::Malformed(
            "a presentation must end with '~' before key binding".into(),
        )
        .into());
    }
    let prepared = key_binding_prepare(presentation_without_kb, aud, nonce, iat, holder.alg());
    let kb = jws::sign_prepared(holder, prepared)?;
    Ok(format!("{presentation_without_kb}{kb}"))
}
