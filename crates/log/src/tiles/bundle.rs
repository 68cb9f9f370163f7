//! Entry bundles: a sequence of entries, each a big-endian `uint16` length and the bytes.
//!
//! Invariant: [`EntryBundle::parse`] accepts exactly the encodings [`EntryBundle::to_bytes`]
//! produces (no trailing bytes, no truncated entry); an [`EntryBundle`] never holds an
//! entry over 65535 bytes, so it can always be encoded.

use super::{BundleId, Tile, TileError};
use crate::hash::{leaf_hash, Hash};

/// The log entries of one bundle, in log order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryBundle {
    entries: Vec<Vec<u8>>,
}

impl EntryBundle {
    /// A bundle of these entries; fails if one is longer than 65535 bytes.
    pub fn new(entries: Vec<Vec<u8>>) -> Result<Self, TileError> {
        if let Some(e) = entries.iter().find(|e| e.len() > usize::from(u16::MAX)) {
            return Err(TileError::EntryTooLarge { len: e.len() });
        }
        Ok(EntryBundle { entries })
    }

    /// The entries.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the bundle has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The serialised bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let total = self.entries.iter().map(|e| 2 + e.len()).sum();
        let mut out = Vec::with_capacity(total);
        for e in &self.entries {
            let len = u16::try_from(e.len()).expect("checked when built");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(e);
        }
        out
    }

    /// Parses a serialised bundle.
    pub fn parse(mut bytes: &[u8]) -> Result<Self, TileError> {
        let mut entries = Vec::new();
        while !bytes.is_empty() {
            let [hi, lo, rest @ ..] = bytes else {
                return Err(TileError::BadBundle("truncated length".into()));
            };
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            if rest.len() < len {
                return Err(TileError::BadBundle(format!(
                    "entry {} needs {len} bytes, {} left",
                    entries.len(),
                    rest.len()
                )));
            }
            entries.push(rest[..len].to_vec());
            bytes = &rest[len..];
        }
        Ok(EntryBundle { entries })
    }

    /// Parses the bundle served at `id`: it must hold exactly `id.width()` entries.
    pub fn parse_for(id: BundleId, bytes: &[u8]) -> Result<Self, TileError> {
        let bundle = EntryBundle::parse(bytes)?;
        if bundle.len() != usize::from(id.width()) {
            return Err(TileError::BadBundle(format!(
                "{} has {} entries, {} expected",
                id.path(),
                bundle.len(),
                id.width()
            )));
        }
        Ok(bundle)
    }

    /// The RFC 6962 leaf hashes of the entries: the matching level-0 tile's hashes.
    pub fn leaf_hashes(&self) -> Vec<Hash> {
        self.entries.iter().map(|e| leaf_hash(e)).collect()
    }

    /// Checks the entries against the level-0 tile of the same index and width.
    pub fn check_against(&self, tile: &Tile) -> Result<(), TileError> {
        if tile.id().level() != 0 || tile.hashes().len() != self.len() {
            return Err(TileError::BadBundle(format!(
                "{} entries cannot match {}",
                self.len(),
                tile.id().path()
            )));
        }
        match self
            .leaf_hashes()
            .iter()
            .zip(tile.hashes())
            .position(|(a, b)| a != b)
        {
            Some(index) => Err(TileError::EntryMismatch { index }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format() {
        let b = EntryBundle::new(vec![b"".to_vec(), b"ab".to_vec()]).unwrap();
        assert_eq!(b.to_bytes(), [0, 0, 0, 2, b'a', b'b']);
        assert_eq!(EntryBundle::parse(&b.to_bytes()).unwrap(), b);
        assert_eq!(EntryBundle::parse(&[]).unwrap().len(), 0);
    }

    #[test]
    fn strict() {
        for bad in [&[0u8][..], &[0, 2, b'a'], &[0, 1, b'a', 0]] {
            assert_eq!(
                EntryBundle::parse(bad).unwrap_err().code(),
                "tile.bad_bundle"
            );
        }
        let big = vec![0u8; 65536];
        assert_eq!(
            EntryBundle::new(vec![big]).unwrap_err().code(),
            "tile.entry_too_large"
        );
        let id = BundleId::new(0, 2).unwrap();
        assert!(EntryBundle::parse_for(id, &[0, 0]).is_err());
        assert!(EntryBundle::parse_for(id, &[0, 0, 0, 0]).is_ok());
    }
}
