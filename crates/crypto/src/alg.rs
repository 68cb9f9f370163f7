//! Signature algorithms: SM2-with-SM3, Ed25519 and ECDSA P-256.
//!
//! Invariant: an [`Alg`] value is always one of the three supported algorithms; parsing
//! a JWS `alg` never yields `none` or an HMAC algorithm. `SM2` is not registered at IANA:
//! we use it as a private-use JWS name meaning "SM2 signature over SM3 with the signer's
//! Z_A (distinguishing ID, default [`SM2_DEFAULT_SIGNER_ID`]), encoded as 64-byte r‖s".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::jws::JwsError;

/// The SM2 distinguishing identifier of GM/T 0009 used when none is configured.
pub const SM2_DEFAULT_SIGNER_ID: &str = "1234567812345678";

/// A supported signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// SM2 digital signature with SM3 (GB/T 32918.2, GM/T 0009), JWS name `SM2`.
    Sm2,
    /// Ed25519 (RFC 8037), JWS name `EdDSA`.
    EdDSA,
    /// ECDSA over P-256 with SHA-256 (RFC 7518), JWS name `ES256`.
    Es256,
}

/// The CLI name was not one of `sm2`, `ed25519`, `es256`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown algorithm {0:?} (expected sm2, ed25519 or es256)")]
pub struct UnknownAlg(pub String);

impl UnknownAlg {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        "alg.unknown"
    }
}

impl Alg {
    /// All supported algorithms, for loops in tests and benchmarks.
    pub const ALL: [Alg; 3] = [Alg::Sm2, Alg::EdDSA, Alg::Es256];

    /// The JWS `alg` header value.
    pub fn jws_name(self) -> &'static str {
        match self {
            Alg::Sm2 => "SM2",
            Alg::EdDSA => "EdDSA",
            Alg::Es256 => "ES256",
        }
    }

    /// Parses a JWS `alg` header value against the allowlist.
    pub fn from_jws_name(name: &str) -> Result<Alg, JwsError> {
        match name {
            "SM2" => Ok(Alg::Sm2),
            "EdDSA" => Ok(Alg::EdDSA),
            "ES256" => Ok(Alg::Es256),
            other => Err(JwsError::UnsupportedAlg(other.to_owned())),
        }
    }

    /// The name used on the command line (`--alg`).
    pub fn cli_name(self) -> &'static str {
        match self {
            Alg::Sm2 => "sm2",
            Alg::EdDSA => "ed25519",
            Alg::Es256 => "es256",
        }
    }

    /// The length in bytes of a JWS signature of this algorithm (all three are r‖s or
    /// R‖S of 32-byte halves).
    pub fn signature_len(self) -> usize {
        64
    }
}

impl FromStr for Alg {
    type Err = UnknownAlg;

    /// Parses a CLI name (`sm2`, `ed25519`, `es256`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Alg::ALL
            .into_iter()
            .find(|a| a.cli_name() == s)
            .ok_or_else(|| UnknownAlg(s.to_owned()))
    }
}

impl fmt::Display for Alg {
    /// Shows the JWS name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

impl Serialize for Alg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.jws_name())
    }
}

impl<'de> Deserialize<'de> for Alg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Alg::from_jws_name(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for alg in Alg::ALL {
            assert_eq!(Alg::from_jws_name(alg.jws_name()).unwrap(), alg);
            assert_eq!(alg.cli_name().parse::<Alg>().unwrap(), alg);
        }
        for bad in ["none", "HS256", "RS256", "es256", ""] {
            assert_eq!(
                Alg::from_jws_name(bad).unwrap_err().code(),
                "jws.unsupported_alg"
            );
        }
        assert!("ES256".parse::<Alg>().is_err());
        assert_eq!(serde_json::to_string(&Alg::EdDSA).unwrap(), "\"EdDSA\"");
    }
}
