//! Base64url without padding (RFC 4648 §5), the only base64 flavour JOSE uses.
//!
//! Invariant: [`decode`] is strict. It rejects `=` padding, characters outside the
//! URL-safe alphabet (`+`, `/`, whitespace) and non-canonical trailing bits, so every
//! accepted string is exactly what [`encode`] would produce for the decoded bytes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::CryptoError;

/// Encodes bytes as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes strict base64url without padding.
pub fn decode(s: &str) -> Result<Vec<u8>, CryptoError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| CryptoError::Base64(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").unwrap(), b"\xfb\xff");
        assert!(decode("-_8=").is_err());
        assert!(decode("+/8").is_err());
        assert!(decode("-_9").is_err(), "non-canonical trailing bits");
        assert!(decode("a b").is_err());
        assert_eq!(decode("").unwrap(), b"");
    }
}
