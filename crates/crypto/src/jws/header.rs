//! The JOSE header of a JWS.
//!
//! Invariants: `alg` is always an allowed [`Alg`]; `typ` and `kid`, when present, are
//! strings; `extra` never holds `alg`, `typ` or `kid`. Serialization is in a fixed member
//! order (`alg`, `typ`, `kid`, then `extra` in insertion order) so that signing inputs are
//! reproducible. Headers carrying `crit` are refused, since we implement no extensions.

use serde::Serialize;
use serde_json::{Map, Value};

use super::JwsError;
use crate::Alg;

/// A JWS protected header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The signature algorithm.
    pub alg: Alg,
    /// The media type of the whole JWS (`dc+sd-jwt`, `kb+jwt`, `statuslist+jwt`, …).
    pub typ: Option<String>,
    /// The key identifier.
    pub kid: Option<String>,
    /// Any other members, serialized after the three above.
    pub extra: Map<String, Value>,
}

#[derive(Serialize)]
struct Ordered<'a> {
    alg: Alg,
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Header {
    /// A header with only `alg`.
    pub fn new(alg: Alg) -> Self {
        Header {
            alg,
            typ: None,
            kid: None,
            extra: Map::new(),
        }
    }

    /// Sets `typ`.
    pub fn with_typ(mut self, typ: &str) -> Self {
        self.typ = Some(typ.to_owned());
        self
    }

    /// Sets `kid`.
    pub fn with_kid(mut self, kid: &str) -> Self {
        self.kid = Some(kid.to_owned());
        self
    }

    /// The header as compact JSON in the fixed member order.
    pub fn to_json_string(&self) -> String {
        let mut extra = self.extra.clone();
        for k in ["alg", "typ", "kid"] {
            extra.remove(k);
        }
        let ordered = Ordered {
            alg: self.alg,
            typ: self.typ.as_deref(),
            kid: self.kid.as_deref(),
            extra,
        };
        serde_json::to_string(&ordered).expect("a JSON map with string keys always serializes")
    }

    /// Reads a header from its decoded JSON object.
    pub fn from_json(map: &Map<String, Value>) -> Result<Self, JwsError> {
        let alg = match map.get("alg") {
            Some(Value::String(s)) => Alg::from_jws_name(s)?,
            Some(_) => return Err(JwsError::Malformed("alg is not a string".into())),
            None => return Err(JwsError::Malformed("header without alg".into())),
        };
        if let Some(crit) = map.get("crit") {
            return Err(JwsError::UnsupportedCrit(crit.to_string()));
        }
        let string = |name: &str| -> Result<Option<String>, JwsError> {
            match map.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(JwsError::Malformed(format!("{name} is not a string"))),
            }
        };
        let mut extra = map.clone();
        for k in ["alg", "typ", "kid"] {
            extra.remove(k);
        }
        Ok(Header {
            alg,
            typ: string("typ")?,
            kid: string("kid")?,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_order() {
        let mut h = Header::new(Alg::Es256).with_kid("k1").with_typ("kb+jwt");
        h.extra.insert("zzz".into(), 1.into());
        h.extra.insert("aaa".into(), 2.into());
        assert_eq!(
            h.to_json_string(),
            r#"{"alg":"ES256","typ":"kb+jwt","kid":"k1","zzz":1,"aaa":2}"#
        );
    }
}
