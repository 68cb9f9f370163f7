//! JSON Web Keys (RFC 7517) for the three algorithms, and JWK sets.
//!
//! Invariants: a [`Jwk`] carries only public members (private members such as `d` are
//! dropped when deserializing); SM2 keys are `{"kty":"EC","crv":"SM2","x","y"}` with
//! 32-byte coordinates, P-256 keys `EC`/`P-256`, Ed25519 keys `OKP`/`Ed25519`. The
//! thumbprint (RFC 7638) covers exactly the required members, so it does not change with
//! `kid`, `alg` or `use`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::pubkey::PublicKey;
use crate::{b64, Alg, CryptoError, Verifier, SM2_DEFAULT_SIGNER_ID};

/// A public JSON Web Key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC` or `OKP`.
    pub kty: String,
    /// Curve: `SM2`, `P-256` or `Ed25519`.
    pub crv: String,
    /// x coordinate (or the Ed25519 public key), base64url.
    pub x: String,
    /// y coordinate for `EC` keys, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Key identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// JWS algorithm the key is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Public key use (`sig`).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// The RFC 7638 thumbprint: base64url(SHA-256(canonical JSON of required members)).
    pub fn thumbprint(&self) -> String {
        // Required members in lexicographic order; serde_json escapes strings per RFC 8259.
        let s = |v: &str| serde_json::Value::from(v).to_string();
        let canonical = match &self.y {
            Some(y) if self.kty == "EC" => format!(
                r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#,
                s(&self.crv),
                s(&self.kty),
                s(&self.x),
                s(y)
            ),
            _ => format!(
                r#"{{"crv":{},"kty":{},"x":{}}}"#,
                s(&self.crv),
                s(&self.kty),
                s(&self.x)
            ),
        };
        b64::encode(&Sha256::digest(canonical.as_bytes()))
    }

    /// The algorithm of the key, from `kty`/`crv`; an `alg` member, if present, must agree.
    pub fn alg(&self) -> Result<Alg, CryptoError> {
        let alg = match (self.kty.as_str(), self.crv.as_str()) {
            ("EC", "SM2") => Alg::Sm2,
            ("EC", "P-256") => Alg::Es256,
            ("OKP", "Ed25519") => Alg::EdDSA,
            (kty, crv) => {
                return Err(CryptoError::UnsupportedKey(format!(
                    "kty {kty:?} crv {crv:?}"
                )))
            }
        };
        match self.alg.as_deref() {
            Some(a) if a != alg.jws_name() => Err(CryptoError::MalformedKey(format!(
                "JWK alg {a:?} does not match curve {}",
                self.crv
            ))),
            _ => Ok(alg),
        }
    }

    /// A verifier for this key. `sm2_signer_id` is the SM2 distinguishing ID
    /// (default [`SM2_DEFAULT_SIGNER_ID`]); it is ignored for other algorithms.
    pub fn verifier(&self, sm2_signer_id: Option<&str>) -> Result<Box<dyn Verifier>, CryptoError> {
        self.alg()?;
        PublicKey::from_jwk(self)?.verifier(sm2_signer_id.unwrap_or(SM2_DEFAULT_SIGNER_ID))
    }

    /// SubjectPublicKeyInfo PEM of this key (for OpenSSL and other tools).
    pub fn to_spki_pem(&self) -> Result<String, CryptoError> {
        PublicKey::from_jwk(self)?.to_spki_pem()
    }
}

/// A JWK set, as published at `/.well-known/jwt-vc-issuer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_shape() {
        // RFC 8037 appendix A.3: thumbprint of the Ed25519 example key.
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        assert_eq!(jwk.alg().unwrap(), Alg::EdDSA);
    }
}
