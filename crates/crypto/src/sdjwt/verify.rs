//! Verification of a parsed SD-JWT: the last stage of the pipeline.
//!
//! Invariants: [`Parsed::verify`] returns `Err` only when the payload cannot be processed
//! (a malformed `_sd`/`...` structure, nesting deeper than 100); every failed check is a
//! [`Problem`]. Each digest is resolved at most once and each disclosure used at most
//! once, so processing is linear in the input. Claims of a valid result are exactly the
//! payload with disclosed claims in place and `_sd`, `_sd_alg` and undisclosed `...`
//! elements removed.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::present::MAX_DEPTH;
use super::{sha256_b64, Disclosure, Parsed, SdJwtError, SD_ALG, TYP_KB_JWT};
use crate::{Jwk, Verifier};

/// What the verifier requires of key binding, and the time to check against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbPolicy {
    /// A KB-JWT must be present.
    pub require: bool,
    /// The expected `aud`, if the verifier checks it.
    pub aud: Option<String>,
    /// The expected `nonce`, if the verifier checks it.
    pub nonce: Option<String>,
    /// The current time, unix seconds (also used for the issuer JWT's `exp`/`nbf`).
    pub now: i64,
    /// The oldest KB-JWT `iat` accepted, in seconds before `now`.
    pub max_age_secs: i64,
    /// Allowed clock skew, seconds.
    pub leeway_secs: i64,
}

impl KbPolicy {
    /// No key binding required; `now` for time checks, 300 s max age, 60 s leeway.
    pub fn none(now: i64) -> Self {
        KbPolicy {
            require: false,
            aud: None,
            nonce: None,
            now,
            max_age_secs: 300,
            leeway_secs: 60,
        }
    }

    /// Key binding required with this audience and nonce.
    pub fn required(aud: &str, nonce: &str, now: i64) -> Self {
        KbPolicy {
            require: true,
            aud: Some(aud.to_owned()),
            nonce: Some(nonce.to_owned()),
            ..KbPolicy::none(now)
        }
    }
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code, e.g. `signature.invalid`, `kb.nonce`.
    pub code: &'static str,
    /// Human-readable detail.
    pub message: String,
}

impl Problem {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
        }
    }
}

/// The outcome of verification.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The processed payload (disclosed claims resolved, `_sd`/`_sd_alg` removed).
    pub claims: Map<String, Value>,
    /// Paths of the disclosed claims: `name`, `parent.name`, `array[index]`.
    pub disclosed: Vec<String>,
    /// The holder key from `cnf.jwk`, if the credential is holder-bound.
    pub holder_jwk: Option<Jwk>,
    /// Every failed check; empty means valid.
    pub problems: Vec<Problem>,
}

impl Verified {
    /// True when no check failed.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

struct Resolver<'a> {
    disclosures: &'a [Disclosure],
    by_digest: HashMap<&'a str, usize>,
    used: Vec<bool>,
    seen: HashSet<&'a str>,
    disclosed: Vec<String>,
    problems: Vec<Problem>,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

impl<'a> Resolver<'a> {
    /// Looks a digest up; `None` for decoys, undisclosed claims and repeated digests.
    fn take(&mut self, digest: &'a str, want_array_element: bool) -> Option<&'a Disclosure> {
        if !self.seen.insert(digest) {
            self.problems.push(Problem::new(
                "sdjwt.duplicate_digest",
                format!("digest {digest} appears twice"),
            ));
            return None;
        }
        let i = *self.by_digest.get(digest)?;
        self.used[i] = true;
        let d = &self.disclosures[i];
        if d.array_element != want_array_element {
            let (what, place) = if d.array_element {
                ("array-element", "_sd")
            } else {
                ("claim", "an array")
            };
            self.problems.push(Problem::new(
                "sdjwt.bad_disclosure",
                format!("{what} disclosure {digest} referenced from {place}"),
            ));
            return None;
        }
        Some(d)
    }

    fn object(
        &mut self,
        m: &'a Map<String, Value>,
        path: &str,
        depth: usize,
        top: bool,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed("nesting too deep".into()));
        }
        let mut out = Map::new();
        for (k, v) in m {
            if k == "_sd" || (top && k == "_sd_alg") {
                continue;
            }
            out.insert(k.clone(), self.value(v, &join(path, k), depth + 1)?);
        }
        let Some(sd) = m.get("_sd") else {
            return Ok(out);
        };
        let Value::Array(digests) = sd else {
            return Err(SdJwtError::Malformed("_sd is not an array".into()));
        };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::Malformed("_sd holds a non-string".into()));
            };
            let Some(d) = self.take(digest, false) else {
                continue;
            };
            if out.contains_key(&d.name) {
                self.problems.push(Problem::new(
                    "sdjwt.claim_collision",
                    format!("claim {:?} both plain and disclosed", d.name),
                ));
                continue;
            }
            let name = join(path, &d.name);
            let value = self.value(&d.value, &name, depth + 1)?;
            out.insert(d.name.clone(), value);
            self.disclosed.push(name);
        }
        Ok(out)
    }

    fn value(&mut self, v: &'a Value, path: &str, depth: usize) -> Result<Value, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::Malformed("nesting too deep".into()));
        }
        Ok(match v {
            Value::Object(m) => Value::Object(self.object(m, path, depth, false)?),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let digest = match item {
                        Value::Object(o) if o.len() == 1 && o.contains_key("...") => {
                            match &o["..."] {
                                Value::String(s) => Some(s.as_str()),
                                _ => {
                                    return Err(SdJwtError::Malformed(
                                        "'...' holds a non-string".into(),
                                    ))
                                }
                            }
                        }
                        _ => None,
                    };
                    let Some(digest) = digest else {
                        let elem_path = format!("{path}[{}]", out.len());
                        out.push(self.value(item, &elem_path, depth + 1)?);
                        continue;
                    };
                    if let Some(d) = self.take(digest, true) {
                        let elem_path = format!("{path}[{}]", out.len());
                        out.push(self.value(&d.value, &elem_path, depth + 1)?);
                        self.disclosed.push(elem_path);
                    }
                }
                Value::Array(out)
            }
            other => other.clone(),
        })
    }
}

impl Parsed {
    /// Verifies the issuer signature with `issuer_key`, resolves the disclosures, checks
    /// `exp`/`nbf` against `kb.now`, and checks key binding according to `kb`.
    pub fn verify(&self, issuer_key: &dyn Verifier, kb: &KbPolicy) -> Result<Verified, SdJwtError> {
        let mut problems = Vec::new();
        if let Err(e) = self.jws.verify_with(issuer_key) {
            problems.push(Problem::new(
                "signature.invalid",
                format!("issuer signature: {e}"),
            ));
        }
        let payload = self
            .jws
            .payload
            .as_object()
            .ok_or_else(|| SdJwtError::Malformed("payload is not an object".into()))?;
        let mut r = Resolver {
            disclosures: &self.disclosures,
            by_digest: HashMap::new(),
            used: vec![false; self.disclosures.len()],
            seen: HashSet::new(),
            disclosed: Vec::new(),
            problems: Vec::new(),
        };
        for (i, d) in self.disclosures.iter().enumerate() {
            if r.by_digest.insert(&d.digest, i).is_some() {
                problems.push(Problem::new(
                    "sdjwt.duplicate_disclosure",
                    format!("disclosure {} given twice", d.digest),
                ));
            }
        }
        let claims = match payload.get("_sd_alg") {
            None => r.object(payload, "", 0, true)?,
            Some(Value::String(a)) if a == SD_ALG => r.object(payload, "", 0, true)?,
            Some(other) => {
                problems.push(Problem::new(
                    "sdjwt.bad_sd_alg",
                    format!("unsupported _sd_alg {other}"),
                ));
                let mut m = payload.clone();
                m.remove("_sd");
                m.remove("_sd_alg");
                m
            }
        };
        problems.append(&mut r.problems);
        for (d, _) in self
            .disclosures
            .iter()
            .zip(&r.used)
            .filter(|(_, used)| !**used)
        {
            // Duplicates were reported already; each other unused disclosure is unreferenced.
            if r.by_digest
                .get(d.digest.as_str())
                .is_some_and(|&i| !r.used[i])
            {
                problems.push(Problem::new(
                    "sdjwt.unreferenced_disclosure",
                    format!("disclosure {} is not referenced", d.digest),
                ));
            }
        }
        check_validity(&claims, kb, &mut problems);
        let holder_jwk = match claims.get("cnf") {
            None => None,
            Some(cnf) => match cnf.get("jwk").cloned().map(serde_json::from_value::<Jwk>) {
                Some(Ok(jwk)) => Some(jwk),
                _ => {
                    problems.push(Problem::new("sdjwt.bad_cnf", "cnf without a usable jwk"));
                    None
                }
            },
        };
        self.check_kb(holder_jwk.as_ref(), kb, &mut problems);
        Ok(Verified {
            claims,
            disclosed: r.disclosed,
            holder_jwk,
            problems,
        })
    }

    fn check_kb(&self, holder: Option<&Jwk>, policy: &KbPolicy, problems: &mut Vec<Problem>) {
        let mut fail = |code, msg: String| problems.push(Problem::new(code, msg));
        let (kb, holder) = match (&self.kb_jwt, holder) {
            (None, _) if policy.require => {
                return fail("kb.missing", "key binding required but absent".into())
            }
            (None, _) => return,
            (Some(_), None) => {
                return fail(
                    "kb.unexpected",
                    "KB-JWT present but the credential has no cnf key".into(),
                )
            }
            (Some(kb), Some(holder)) => (kb, holder),
        };
        if kb.header.typ.as_deref() != Some(TYP_KB_JWT) {
            fail("kb.typ", format!("KB-JWT typ {:?}", kb.header.typ));
        }
        match holder.verifier(None) {
            Ok(v) => {
                if let Err(e) = kb.verify_with(&*v) {
                    fail("kb.signature", format!("KB-JWT signature: {e}"));
                }
            }
            Err(e) => fail("kb.signature", format!("holder key unusable: {e}")),
        }
        let claim = |name: &str| kb.payload.get(name).and_then(Value::as_str);
        if claim("sd_hash") != Some(sha256_b64(&self.sd_hash_input).as_str()) {
            fail(
                "kb.sd_hash",
                "sd_hash does not match the presentation".into(),
            );
        }
        for (code, name, expected) in [
            ("kb.nonce", "nonce", &policy.nonce),
            ("kb.aud", "aud", &policy.aud),
        ] {
            match (claim(name), expected) {
                (None, _) => fail(code, format!("KB-JWT without string {name}")),
                (Some(got), Some(want)) if got != want => {
                    fail(code, format!("{name} {got:?}, expected {want:?}"))
                }
                _ => {}
            }
        }
        match kb.payload.get("iat").and_then(Value::as_i64) {
            None => fail("kb.iat", "KB-JWT without integer iat".into()),
            Some(iat) if iat > policy.now + policy.leeway_secs => {
                fail("kb.iat", format!("iat {iat} is in the future"))
            }
            Some(iat) if iat < policy.now - policy.max_age_secs - policy.leeway_secs => {
                fail("kb.iat", format!("iat {iat} is too old"))
            }
            Some(_) => {}
        }
    }
}

fn check_validity(claims: &Map<String, Value>, policy: &KbPolicy, problems: &mut Vec<Problem>) {
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        if policy.now - policy.leeway_secs >= exp {
            problems.push(Problem::new("sdjwt.expired", format!("expired at {exp}")));
        }
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        if policy.now + policy.leeway_secs < nbf {
            problems.push(Problem::new(
                "sdjwt.not_yet_valid",
                format!("not valid before {nbf}"),
            ));
        }
    }
}
