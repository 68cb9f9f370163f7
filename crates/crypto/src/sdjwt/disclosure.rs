//! Disclosures: `base64url(JSON [salt, name, value])` for object properties and
//! `base64url(JSON [salt, value])` for array elements.
//!
//! Invariants: `encoded` is exactly the text the digest is computed over (we never
//! re-serialize a received disclosure); `digest` = base64url(SHA-256(`encoded`)); salts we
//! create carry 128 random bits; names `_sd` and `...` are refused.

use serde_json::Value;

use super::{sha256_b64, SdJwtError};
use crate::b64;

/// One disclosure of a claim or array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The salt (base64url of random bytes for disclosures we make).
    pub salt: String,
    /// The claim name; empty for an array-element disclosure.
    pub name: String,
    /// The claim value.
    pub value: Value,
    /// The disclosure as it appears in the SD-JWT.
    pub encoded: String,
    /// base64url(SHA-256(`encoded`)).
    pub digest: String,
    /// True for a two-element `[salt, value]` array-element disclosure.
    pub array_element: bool,
}

fn salt(rng: &mut (impl rand_core::CryptoRngCore + ?Sized)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    b64::encode(&bytes)
}

fn finish(salt: String, name: Option<&str>, value: Value) -> Disclosure {
    let array = match name {
        Some(n) => Value::Array(vec![salt.clone().into(), n.into(), value.clone()]),
        None => Value::Array(vec![salt.clone().into(), value.clone()]),
    };
    let encoded = b64::encode(array.to_string().as_bytes());
    Disclosure {
        digest: sha256_b64(&encoded),
        salt,
        name: name.unwrap_or_default().to_owned(),
        value,
        encoded,
        array_element: name.is_none(),
    }
}

impl Disclosure {
    /// A new object-property disclosure with a fresh salt.
    pub fn new(
        name: &str,
        value: Value,
        rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
    ) -> Self {
        finish(salt(rng), Some(name), value)
    }

    /// A new array-element disclosure with a fresh salt.
    pub fn new_array_element(
        value: Value,
        rng: &mut (impl rand_core::CryptoRngCore + ?Sized),
    ) -> Self {
        finish(salt(rng), None, value)
    }

    /// Reads a disclosure as received, keeping its exact encoding.
    pub fn parse(encoded: &str) -> Result<Self, SdJwtError> {
        let bad = |m: &str| SdJwtError::BadDisclosure(m.to_owned());
        let bytes = b64::decode(encoded).map_err(|_| bad("not base64url"))?;
        let Ok(Value::Array(mut items)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(bad("not a JSON array"));
        };
        let (salt, name, value) = match items.len() {
            3 => {
                let value = items.pop().unwrap_or_default();
                let Some(Value::String(name)) = items.pop() else {
                    return Err(bad("claim name is not a string"));
                };
                if name == "_sd" || name == "..." {
                    return Err(bad("reserved claim name"));
                }
                (items.pop(), Some(name), value)
            }
            2 => {
                let value = items.pop().unwrap_or_default();
                (items.pop(), None, value)
            }
            n => return Err(SdJwtError::BadDisclosure(format!("array of {n} elements"))),
        };
        let Some(Value::String(salt)) = salt else {
            return Err(bad("salt is not a string"));
        };
        Ok(Disclosure {
            salt,
            array_element: name.is_none(),
            name: name.unwrap_or_default(),
            value,
            encoded: encoded.to_owned(),
            digest: sha256_b64(encoded),
        })
    }
}
