//! The RFC 6962 / RFC 9162 hashing of the log: SHA-256 with domain separation.
//!
//! Invariants: a leaf hash is `SHA-256(0x00 || data)`, an interior node hash is
//! `SHA-256(0x01 || left || right)` and the root of the empty tree is `SHA-256("")`; the
//! one-byte prefixes make a leaf hash never equal to a node hash of the same bytes (no
//! second-preimage by reinterpreting a node as a leaf). A [`struct@Hash`] is always exactly 32
//! bytes; there is no way to build a shorter or longer one.

use std::fmt;

use sha2::{Digest, Sha256};

/// Length in bytes of every hash in the log.
pub const HASH_LEN: usize = 32;

/// A SHA-256 value: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// Reads a hash from exactly 32 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; HASH_LEN]>::try_from(bytes).ok().map(Hash)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Lowercase hex, as in RFC test vectors and logs.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex digits (either case); `None` otherwise.
    pub fn from_hex(s: &str) -> Option<Hash> {
        if s.len() != 2 * HASH_LEN || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; HASH_LEN];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Hash(out))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The hash of a log entry: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The root of the tree with no leaves: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // RFC 6962 reference data (Go merkle testdata): leaf hash of the empty entry and
        // the empty-tree root.
        assert_eq!(
            leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hex_round_trip_and_strictness() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(Hash::from_hex("00"), None);
        assert_eq!(Hash::from_hex(&"g".repeat(64)), None);
        assert_eq!(Hash::from_hex(&"é".repeat(32)), None);
        assert_eq!(Hash::from_slice(&[0; 31]), None);
    }

    #[test]
    fn domain_separation() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut concat = vec![];
        concat.extend_from_slice(&a.0);
        concat.extend_from_slice(&b.0);
        assert_ne!(node_hash(&a, &b), leaf_hash(&concat));
    }
}
