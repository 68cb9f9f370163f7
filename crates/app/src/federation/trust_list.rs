//! The signed trust list: what the national hub tells every node and verifier about the
//! network — the nodes with their URLs, areas, levels and keys; the issuing authorities with
//! their keys, validity and successors; the mutual-recognition lists. Published by the hub
//! at `/.well-known/elicense-trust-list` as a compact JWS (`typ`
//! [`TRUST_LIST_TYP`]) signed with the hub's node key; every other node serves its cached
//! copy.
//!
//! Invariants:
//! - A [`TrustList`] is only ever obtained from a JWS by [`verify`], which checks, in this
//!   order: the structure (`trust_list.malformed`), the `typ` (`trust_list.wrong_type`), the
//!   signature against the pinned hub key(s) (`trust_list.bad_signature`; the key is found
//!   by `kid`), the expiry (`trust_list.expired`: `exp` ≤ now) and the sequence number
//!   against the last one accepted (`trust_list.rolled_back`: an older `seq`; the same `seq`
//!   is accepted only with the same content, else `trust_list.rolled_back` too, since two
//!   different lists cannot share a number).
//! - `seq` grows with every list the hub publishes; `iat < exp`.
//! - [`TrustState`] holds the newest list a process has accepted; [`TrustState::install`]
//!   runs [`verify`] against the list it holds, so the list it holds never moves backwards.

use std::sync::{Arc, RwLock};

use elicense_core::NodeLevel;
use elicense_crypto::{jws, CryptoError, Jwk, Jwks, KeyPair, Signer as _, Verifier};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorKind, Result};

/// The hub's assembly of a list (publishing and refreshing live in `federation::trust`).
pub use super::trust::assemble;

/// The JWS `typ` of a trust list.
pub const TRUST_LIST_TYP: &str = "elicense-trust-list+jwt";

/// The trust list (the JWS payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// The hub's base URL.
    pub iss: String,
    /// Sequence number: grows with every list the hub publishes.
    pub seq: u64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds): a list past it is refused.
    pub exp: i64,
    /// Every node of the network, the hub included.
    pub nodes: Vec<TrustedNode>,
    /// Every issuing authority of the network.
    pub issuers: Vec<TrustedIssuer>,
    /// Mutual-recognition lists.
    #[serde(default)]
    pub recognition: Vec<RecognitionList>,
}

/// A node of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedNode {
    /// Base URL.
    pub url: String,
    /// GB/T 2260 division code (`100000` for the hub).
    pub area: String,
    pub level: NodeLevel,
    /// The parent's base URL (none for the hub).
    pub parent: Option<String>,
    /// The node's request-signing keys (RFC 9421 `keyid` = `kid`).
    pub keys: Jwks,
    /// The node's witness key (C2SP vkey).
    pub witness_key: String,
    /// The node's log verifier keys (C2SP vkeys) and the log's origin line.
    #[serde(default)]
    pub log_keys: Vec<String>,
    #[serde(default)]
    pub log_origin: Option<String>,
    /// The node's seal CA certificates by algorithm (`sm2`, `es256`): base64 of the DER.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub seal_cas: std::collections::BTreeMap<String, String>,
}

/// An issuing authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// Unified social credit code.
    pub code: String,
    pub name: String,
    /// The node that holds the authority's licenses (base URL).
    pub node: String,
    /// The authority's signing keys with their validity.
    pub keys: Vec<TrustedKey>,
    /// The authority that took over (merger, renaming, dissolution), by code.
    #[serde(default)]
    pub successor: Option<String>,
    /// When the authority ceased to act itself (Unix seconds), if it has.
    #[serde(default)]
    pub ended_at: Option<i64>,
}

/// An issuer key and its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// The public key (`kid` set: its RFC 7638 thumbprint).
    pub jwk: Jwk,
    /// From when the key signs (Unix seconds).
    pub not_before: i64,
    /// Retired: signs nothing after this; earlier signatures keep verifying.
    #[serde(default)]
    pub retired_at: Option<i64>,
    /// Compromised: signatures with `iat` from this time on are invalid.
    #[serde(default)]
    pub revoked_since: Option<i64>,
}

/// A mutual-recognition list (`elicense_core::recognition`, where [`covers`] decides).
///
/// [`covers`]: elicense_core::recognition::covers
pub use elicense_core::recognition::RecognitionList;

impl TrustList {
    /// The node whose base URL is `url`.
    pub fn node(&self, url: &str) -> Option<&TrustedNode> {
        let url = url.trim_end_matches('/');
        self.nodes.iter().find(|n| n.url == url)
    }

    /// The node that holds a request-signing key `kid`, and the key.
    pub fn node_key(&self, kid: &str) -> Option<(&TrustedNode, &Jwk)> {
        self.nodes
            .iter()
            .find_map(|n| n.keys.find(kid).map(|k| (n, k)))
    }

    /// The issuer with the key `kid`, and the key.
    pub fn issuer_key(&self, kid: &str) -> Option<(&TrustedIssuer, &TrustedKey)> {
        self.issuers.iter().find_map(|i| {
            i.keys
                .iter()
                .find(|k| k.jwk.kid.as_deref() == Some(kid))
                .map(|k| (i, k))
        })
    }

    /// The issuer with code `code`.
    pub fn issuer(&self, code: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.code == code)
    }

    /// The authority that acts for `code` now: itself, or the end of its successor chain
    /// (a cycle ends where it would repeat).
    pub fn acting_for<'a>(&'a self, code: &'a str) -> &'a str {
        let mut seen = std::collections::BTreeSet::new();
        let mut at = code;
        while let Some(next) = self.issuer(at).and_then(|i| i.successor.as_deref()) {
            if !seen.insert(at) {
                break;
            }
            at = next;
        }
        at
    }

    /// Signs the list with the hub's node key (`kid` = its thumbprint).
    pub fn sign(&self, key: &KeyPair) -> Result<String> {
        let kid = key.public_jwk().thumbprint();
        let header = jws::Header::new(key.alg())
            .with_typ(TRUST_LIST_TYP)
            .with_kid(&kid);
        let payload = serde_json::to_value(self).map_err(|e| AppError::internal(e.to_string()))?;
        jws::sign(key, &header, &payload).map_err(AppError::crypto)
    }
}

/// This node's issuers in trust-list form: every key with its validity (`not_after` as
/// the retirement, `revoked_at` as the compromise time), the successor and end of an
/// authority that ended; `node` is this node's base URL.
pub async fn local_issuers(node: &crate::node::Node) -> Result<Vec<TrustedIssuer>> {
    let keys = node.store.all_keys().await?;
    let mut out = Vec::new();
    for i in node.store.issuers().await? {
        let mut tk = Vec::new();
        for k in keys.iter().filter(|k| k.issuer == i.code) {
            let mut jwk: Jwk = serde_json::from_str(&k.public_jwk).map_err(|e| {
                AppError::new(
                    ErrorKind::Internal,
                    "store.corrupt",
                    format!("key {}: {e}", k.kid),
                )
            })?;
            jwk.kid = Some(k.kid.clone());
            tk.push(TrustedKey {
                jwk,
                not_before: k.not_before,
                retired_at: k.not_after,
                revoked_since: k.revoked_at,
            });
        }
        out.push(TrustedIssuer {
            code: i.code,
            name: i.name,
            node: node.config.base_url.trim_end_matches('/').to_owned(),
            keys: tk,
            successor: i.successor,
            ended_at: i.ended_at,
        });
    }
    Ok(out)
}

fn refused(code: &'static str, msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, msg.into())
}

/// Verifies a trust list JWS against the pinned hub keys (see the module invariants).
/// `last` is the list accepted before, if any.
pub fn verify(
    compact: &str,
    anchors: &Jwks,
    now: i64,
    last: Option<&TrustList>,
) -> Result<TrustList> {
    let parsed = jws::parse(compact.trim())
        .map_err(|e| refused("trust_list.malformed", format!("{}: {e}", e.code())))?;
    if parsed.header.typ.as_deref() != Some(TRUST_LIST_TYP) {
        return Err(refused(
            "trust_list.wrong_type",
            format!("typ {:?}, {TRUST_LIST_TYP} expected", parsed.header.typ),
        ));
    }
    let kid = parsed.header.kid.as_deref().unwrap_or_default();
    let Some(anchor) = anchors.find(kid) else {
        return Err(refused(
            "trust_list.bad_signature",
            format!("signed by key {kid:?}, which is not a pinned hub key"),
        ));
    };
    let verifier = anchor.verifier(None).map_err(AppError::crypto)?;
    parsed
        .verify_with(verifier.as_ref())
        .map_err(|e| refused("trust_list.bad_signature", e.to_string()))?;
    let list: TrustList = serde_json::from_value(parsed.payload)
        .map_err(|e| refused("trust_list.malformed", e.to_string()))?;
    if list.iat >= list.exp {
        return Err(refused("trust_list.malformed", "iat is not before exp"));
    }
    if list.exp <= now {
        return Err(refused(
            "trust_list.expired",
            format!("trust list {} expired at {}", list.seq, list.exp),
        ));
    }
    if let Some(last) = last {
        if list.seq < last.seq || (list.seq == last.seq && list != *last) {
            return Err(refused(
                "trust_list.rolled_back",
                format!(
                    "trust list {} is not newer than the accepted list {}",
                    list.seq, last.seq
                ),
            ));
        }
    }
    Ok(list)
}

/// The newest trust list this process has accepted, with its JWS, and the verifiers of its
/// keys as they were first needed.
#[derive(Default)]
pub struct TrustState {
    current: RwLock<Option<(Arc<TrustList>, Arc<str>)>>,
    /// By `kid` (the key's thumbprint, so an entry never goes stale); a key kept here keeps
    /// what its verifier learned (SM2: `Z_A`, the key's multiplication table).
    verifiers: std::sync::Mutex<std::collections::HashMap<String, Arc<dyn Verifier>>>,
}

/// Trust-listed keys whose verifiers are kept at once (then the cache starts again).
const MAX_CACHED_VERIFIERS: usize = 4096;

impl TrustState {
    /// The list held, if any.
    pub fn current(&self) -> Option<Arc<TrustList>> {
        self.current
            .read()
            .expect("trust lock")
            .as_ref()
            .map(|c| c.0.clone())
    }

    /// The JWS of the list held, if any.
    pub fn jws(&self) -> Option<Arc<str>> {
        self.current
            .read()
            .expect("trust lock")
            .as_ref()
            .map(|c| c.1.clone())
    }

    /// The verifier of a key of the list, built once.
    pub fn verifier(
        &self,
        key: &TrustedKey,
    ) -> std::result::Result<Arc<dyn Verifier>, CryptoError> {
        let Some(kid) = key.jwk.kid.clone() else {
            return key.jwk.verifier(None).map(Arc::from);
        };
        if let Some(v) = self.verifiers.lock().expect("verifier cache").get(&kid) {
            return Ok(v.clone());
        }
        let v: Arc<dyn Verifier> = Arc::from(key.jwk.verifier(None)?);
        let mut cache = self.verifiers.lock().expect("verifier cache");
        if cache.len() >= MAX_CACHED_VERIFIERS {
            cache.clear();
        }
        cache.insert(kid, v.clone());
        Ok(v)
    }

    /// Verifies `compact` against `anchors` and the list held, and holds it if it passes.
    pub fn install(&self, compact: &str, anchors: &Jwks, now: i64) -> Result<Arc<TrustList>> {
        let mut cur = self.current.write().expect("trust lock");
        let list = Arc::new(verify(compact, anchors, now, cur.as_ref().map(|c| &*c.0))?);
        *cur = Some((list.clone(), Arc::from(compact.trim())));
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elicense_crypto::Alg;

    fn hub_key() -> KeyPair {
        KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng)
    }

    fn anchors(k: &KeyPair) -> Jwks {
        let mut jwk = k.public_jwk();
        jwk.kid = Some(jwk.thumbprint());
        Jwks { keys: vec![jwk] }
    }

    fn list(seq: u64) -> TrustList {
        TrustList {
            iss: "http://127.0.0.1:9000".into(),
            seq,
            iat: 1_000,
            exp: 2_000,
            nodes: vec![],
            issuers: vec![TrustedIssuer {
                code: "A".into(),
                name: "old".into(),
                node: "http://127.0.0.1:9001".into(),
                keys: vec![],
                successor: Some("B".into()),
                ended_at: Some(1_500),
            }],
            recognition: vec![],
        }
    }

    #[test]
    fn verifies_and_refuses_with_stable_codes() {
        let k = hub_key();
        let a = anchors(&k);
        let signed = list(5).sign(&k).unwrap();
        assert_eq!(verify(&signed, &a, 1_500, None).unwrap(), list(5));

        let code = |r: Result<TrustList>| r.unwrap_err().code.to_string();
        // Another key.
        let other = hub_key();
        assert_eq!(
            code(verify(&list(5).sign(&other).unwrap(), &a, 1_500, None)),
            "trust_list.bad_signature"
        );
        // A changed payload byte.
        let mut parts: Vec<String> = signed.split('.').map(str::to_string).collect();
        let mut tampered = list(5);
        tampered.issuers[0].name = "forged".into();
        parts[1] = elicense_crypto::b64::encode(serde_json::to_vec(&tampered).unwrap().as_slice());
        assert_eq!(
            code(verify(&parts.join("."), &a, 1_500, None)),
            "trust_list.bad_signature"
        );
        // Expired, rolled back, same number with other content, not a JWS.
        assert_eq!(code(verify(&signed, &a, 2_000, None)), "trust_list.expired");
        assert_eq!(
            code(verify(&signed, &a, 1_500, Some(&list(6)))),
            "trust_list.rolled_back"
        );
        let mut same_seq = list(5);
        same_seq.iss = "http://elsewhere".into();
        assert_eq!(
            code(verify(&signed, &a, 1_500, Some(&same_seq))),
            "trust_list.rolled_back"
        );
        assert!(verify(&signed, &a, 1_500, Some(&list(5))).is_ok());
        assert_eq!(code(verify("x.y", &a, 1_500, None)), "trust_list.malformed");
    }

    #[test]
    fn a_trust_listed_key_gets_one_verifier() {
        let state = TrustState::default();
        let issuer = KeyPair::generate(Alg::Sm2, &mut rand::rngs::OsRng);
        let key = TrustedKey {
            jwk: issuer.public_jwk(),
            not_before: 0,
            retired_at: None,
            revoked_since: None,
        };
        let (a, b) = (state.verifier(&key).unwrap(), state.verifier(&key).unwrap());
        assert!(Arc::ptr_eq(&a, &b), "built once, then kept");
        let sig = issuer.sign(b"msg").unwrap();
        a.verify(b"msg", &sig).unwrap();
        assert!(b.verify(b"other", &sig).is_err());
        let other = KeyPair::generate(Alg::Sm2, &mut rand::rngs::OsRng);
        let c = state
            .verifier(&TrustedKey {
                jwk: other.public_jwk(),
                ..key
            })
            .unwrap();
        assert!(
            c.verify(b"msg", &sig).is_err(),
            "another key, another verifier"
        );
    }

    #[test]
    fn state_never_moves_backwards() {
        let k = hub_key();
        let a = anchors(&k);
        let st = TrustState::default();
        st.install(&list(7).sign(&k).unwrap(), &a, 1_500).unwrap();
        let old = list(6).sign(&k).unwrap();
        assert_eq!(
            st.install(&old, &a, 1_500).unwrap_err().code,
            "trust_list.rolled_back"
        );
        assert_eq!(st.current().unwrap().seq, 7);
        assert_eq!(st.current().unwrap().acting_for("A"), "B");
    }
}
