//! JWS compact serialization (RFC 7515) restricted to our algorithm allowlist.
//!
//! Invariants: [`parse`] accepts only three base64url parts whose header and payload are
//! JSON objects, whose `alg` is in the allowlist (never `none`, never HMAC) and whose
//! signature has the length the algorithm defines; a [`Parsed`] value is therefore
//! structurally valid but **not** verified until [`Parsed::verify_with`] succeeds. Signing
//! is two-step ([`prepare`] → [`PreparedJws::complete`]) so a remote key can sign.

mod header;

pub use header::Header;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::{b64, Alg, CryptoError, Signer, Verifier};

/// Why a compact JWS could not be read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three dot-separated base64url parts, or header/payload is not a JSON object,
    /// or a header member has the wrong type.
    #[error("malformed JWS: {0}")]
    Malformed(String),
    /// The `alg` is not one we accept (`none`, HMAC and unknown algorithms are refused).
    #[error("unsupported JWS alg {0:?}")]
    UnsupportedAlg(String),
    /// The signature has the wrong length for the algorithm.
    #[error("{alg} signature must be {expected} bytes, got {len}")]
    SignatureLength {
        /// The header's algorithm.
        alg: Alg,
        /// The required length.
        expected: usize,
        /// The length found.
        len: usize,
    },
    /// The header has a `crit` member; we implement no JWS extensions.
    #[error("unsupported critical header extensions {0}")]
    UnsupportedCrit(String),
}

impl JwsError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            JwsError::Malformed(_) => "jws.malformed",
            JwsError::UnsupportedAlg(_) => "jws.unsupported_alg",
            JwsError::SignatureLength { .. } => "jws.signature_length",
            JwsError::UnsupportedCrit(_) => "jws.unsupported_crit",
        }
    }
}

/// A JWS whose signing input is ready and whose signature is still to be made.
#[derive(Debug, Clone)]
pub struct PreparedJws {
    alg: Alg,
    signing_input: String,
}

impl PreparedJws {
    /// The algorithm the signature must use.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The bytes to sign: `base64url(header) || '.' || base64url(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// Appends the signature (JWS form, see [`Signer::sign`]) and returns the compact JWS.
    pub fn complete(self, signature: &[u8]) -> String {
        let mut out = self.signing_input;
        out.push('.');
        out.push_str(&b64::encode(signature));
        out
    }
}

/// Builds the signing input for `header` and `payload`.
pub fn prepare(header: &Header, payload: &Value) -> PreparedJws {
    let signing_input = format!(
        "{}.{}",
        b64::encode(header.to_json_string().as_bytes()),
        b64::encode(payload.to_string().as_bytes())
    );
    PreparedJws {
        alg: header.alg,
        signing_input,
    }
}

/// Prepares and signs in one step. The header's `alg` must be the signer's.
pub fn sign(signer: &dyn Signer, header: &Header, payload: &Value) -> Result<String, CryptoError> {
    if signer.alg() != header.alg {
        return Err(CryptoError::AlgMismatch {
            header: header.alg.jws_name(),
            key: signer.alg().jws_name(),
        });
    }
    sign_prepared(signer, prepare(header, payload))
}

/// Has `signer` sign a prepared JWS and completes it, checking the algorithm and the
/// length of what the signer returned.
pub fn sign_prepared(signer: &dyn Signer, prepared: PreparedJws) -> Result<String, CryptoError> {
    if signer.alg() != prepared.alg {
        return Err(CryptoError::AlgMismatch {
            header: prepared.alg.jws_name(),
            key: signer.alg().jws_name(),
        });
    }
    let signature = signer.sign(prepared.signing_input())?;
    if signature.len() != prepared.alg.signature_len() {
        return Err(CryptoError::SignerFailed(format!(
            "signer returned {} bytes for {}",
            signature.len(),
            prepared.alg
        )));
    }
    Ok(prepared.complete(&signature))
}

/// A structurally valid, not yet verified compact JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The typed header.
    pub header: Header,
    /// The header exactly as decoded.
    pub header_raw: Map<String, Value>,
    /// The payload (a JSON object).
    pub payload: Value,
    /// The signed text: the first two parts joined by `.`.
    pub signing_input: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

fn json_object(part: &str, what: &str) -> Result<Map<String, Value>, JwsError> {
    let bytes =
        b64::decode(part).map_err(|_| JwsError::Malformed(format!("{what}: bad base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(JwsError::Malformed(format!("{what}: not a JSON object"))),
        Err(e) => Err(JwsError::Malformed(format!("{what}: {e}"))),
    }
}

/// Parses a compact JWS strictly (see the module invariants).
pub fn parse(compact: &str) -> Result<Parsed, JwsError> {
    let mut parts = compact.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed(
            "compact JWS must have exactly 3 parts".into(),
        ));
    };
    let header_raw = json_object(h, "header")?;
    let header = Header::from_json(&header_raw)?;
    let payload = Value::Object(json_object(p, "payload")?);
    let signature =
        b64::decode(s).map_err(|_| JwsError::Malformed("signature: bad base64url".into()))?;
    let expected = header.alg.signature_len();
    if signature.len() != expected {
        return Err(JwsError::SignatureLength {
            alg: header.alg,
            expected,
            len: signature.len(),
        });
    }
    Ok(Parsed {
        header,
        header_raw,
        payload,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

impl Parsed {
    /// Checks the signature with `v`, which must be of the header's algorithm.
    pub fn verify_with(&self, v: &dyn Verifier) -> Result<(), CryptoError> {
        if v.alg() != self.header.alg {
            return Err(CryptoError::AlgMismatch {
                header: self.header.alg.jws_name(),
                key: v.alg().jws_name(),
            });
        }
        v.verify(self.signing_input.as_bytes(), &self.signature)
    }

    /// The payload's `iss`, if it is a string.
    pub fn issuer(&self) -> Option<&str> {
        self.payload.get("iss").and_then(Value::as_str)
    }
}
