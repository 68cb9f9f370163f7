//! Issuance of SD-JWT VCs.
//!
//! Invariants: the signed payload holds the plain claims, then `cnf` (when holder-bound),
//! `_sd` (real and decoy digests, sorted, so their order reveals nothing) and `_sd_alg`;
//! every selectively disclosable claim is a top-level claim with exactly one disclosure;
//! the header is `{"alg","typ":"dc+sd-jwt","kid"}`. The output ends with `~` (no KB-JWT).

use serde_json::{Map, Value};

use super::{sha256_b64, Disclosure, SdJwtError, SD_ALG, TYP_SD_JWT_VC};
use crate::jws::{self, Header, PreparedJws};
use crate::{b64, Alg, CryptoError, Jwk, Signer};

/// What to issue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Issuance {
    /// Claims always visible (`iss`, `vct`, `iat`, `exp`, `status`, …).
    pub plain: Map<String, Value>,
    /// Selectively disclosable top-level claims, in the order their disclosures appear.
    pub selective: Vec<(String, Value)>,
    /// The holder's public key, put in `cnf.jwk` for key binding.
    pub holder_jwk: Option<Jwk>,
    /// How many decoy digests to add to `_sd`.
    pub decoys: usize,
}

const RESERVED: [&str; 3] = ["_sd", "_sd_alg", "..."];

impl Issuance {
    /// Checks that the issuance is consistent: no claim both plain and selective, no
    /// selective claim given twice, no reserved name (`_sd`, `_sd_alg`, `...`, and `cnf`
    /// when a holder key is given).
    pub fn validate(&self) -> Result<(), SdJwtError> {
        let bad = |m: String| Err(SdJwtError::BadIssuance(m));
        let reserved = |n: &str| RESERVED.contains(&n) || (n == "cnf" && self.holder_jwk.is_some());
        if let Some(n) = self.plain.keys().find(|n| reserved(n)) {
            return bad(format!("plain claim {n:?} is reserved"));
        }
        let mut seen = std::collections::HashSet::new();
        for (n, _) in &self.selective {
            if reserved(n) {
                return bad(format!("selective claim {n:?} is reserved"));
            }
            if self.plain.contains_key(n) {
                return bad(format!("claim {n:?} is both plain and selective"));
            }
            if !seen.insert(n.as_str()) {
                return bad(format!("selective claim {n:?} given twice"));
            }
        }
        Ok(())
    }
}

/// An SD-JWT whose issuer signature is still to be made.
#[derive(Debug, Clone)]
pub struct PreparedSdJwt {
    /// The issuer-signed JWT, prepared.
    pub jws: PreparedJws,
    /// The disclosures, in issuance order.
    pub disclosures: Vec<Disclosure>,
}

impl PreparedSdJwt {
    /// Completes the JWT with `signature` and appends the disclosures:
    /// `<jwt>~<d1>~…~<dn>~`.
    pub fn complete(self, signature: &[u8]) -> String {
        with_disclosures(self.jws.complete(signature), &self.disclosures)
    }
}

fn with_disclosures(mut jwt: String, disclosures: &[Disclosure]) -> String {
    jwt.push('~');
    for d in disclosures {
        jwt.push_str(&d.encoded);
        jwt.push('~');
    }
    jwt
}

/// Builds the payload and disclosures. Call [`Issuance::validate`] first: an
/// inconsistent issuance gives a credential that verifiers reject.
pub fn prepare(
    issuance: &Issuance,
    alg: Alg,
    kid: &str,
    rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
) -> PreparedSdJwt {
    prepare_with_x5c(issuance, alg, kid, None, rng)
}

/// [`prepare`] with an `x5c` header (RFC 7515 §4.1.6: the base64 DER certificate of the
/// signing key first, then the CAs above it) when the key is certified by a CA.
pub fn prepare_with_x5c(
    issuance: &Issuance,
    alg: Alg,
    kid: &str,
    x5c: Option<&[String]>,
    rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
) -> PreparedSdJwt {
    let disclosures: Vec<Disclosure> = issuance
        .selective
        .iter()
        .map(|(name, value)| Disclosure::new(name, value.clone(), rng))
        .collect();
    let mut digests: Vec<String> = disclosures.iter().map(|d| d.digest.clone()).collect();
    for _ in 0..issuance.decoys {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        digests.push(sha256_b64(&b64::encode(&bytes)));
    }
    digests.sort();

    let mut payload = issuance.plain.clone();
    if let Some(jwk) = &issuance.holder_jwk {
        let jwk = serde_json::to_value(jwk).expect("a JWK always serializes");
        payload.insert("cnf".into(), serde_json::json!({ "jwk": jwk }));
    }
    if !digests.is_empty() {
        payload.insert("_sd".into(), digests.into());
    }
    payload.insert("_sd_alg".into(), SD_ALG.into());

    let mut header = Header::new(alg).with_typ(TYP_SD_JWT_VC).with_kid(kid);
    if let Some(chain) = x5c {
        header.extra.insert("x5c".into(), chain.into());
    }
    PreparedSdJwt {
        jws: jws::prepare(&header, &Value::Object(payload)),
        disclosures,
    }
}

/// Validates, prepares and signs with `signer` (its `alg` and `kid` go in the header).
pub fn issue(
    signer: &dyn Signer,
    issuance: &Issuance,
    rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
) -> Result<String, CryptoError> {
    issue_with_x5c(signer, issuance, None, rng)
}

/// [`issue`] with the signing key's certificate chain in the `x5c` header.
pub fn issue_with_x5c(
    signer: &dyn Signer,
    issuance: &Issuance,
    x5c: Option<&[String]>,
    rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
) -> Result<String, CryptoError> {
    issuance.validate()?;
    let prepared = prepare_with_x5c(issuance, signer.alg(), signer.kid(), x5c, rng);
    let jwt = jws::sign_prepared(signer, prepared.jws)?;
    Ok(with_disclosures(jwt, &prepared.disclosures))
}
