//! Tile contents, which tiles a tree has, and building the new tiles when a tree grows.

use super::{hashes_at, TileError, TileId, TileReader, TILE_WIDTH};
use crate::hash::{node_hash, Hash, HASH_LEN};

/// A hash tile with its contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    id: TileId,
    hashes: Vec<Hash>,
}

/// The root of a perfect subtree given its `2^k` bottom hashes.
pub(crate) fn perfect_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut row = hashes.to_vec();
    while row.len() > 1 {
        row = row.chunks(2).map(|c| node_hash(&c[0], &c[1])).collect();
    }
    row[0]
}

impl Tile {
    /// A tile; `hashes` must have `id.width()` elements.
    pub fn new(id: TileId, hashes: Vec<Hash>) -> Result<Self, TileError> {
        if hashes.len() != usize::from(id.width()) {
            return Err(TileError::BadTileData {
                expected: usize::from(id.width()) * HASH_LEN,
                got: hashes.len() * HASH_LEN,
            });
        }
        Ok(Tile { id, hashes })
    }

    /// Parses the bytes served at `id`: exactly `width · 32` bytes.
    pub fn parse(id: TileId, bytes: &[u8]) -> Result<Self, TileError> {
        let expected = usize::from(id.width()) * HASH_LEN;
        if bytes.len() != expected {
            return Err(TileError::BadTileData {
                expected,
                got: bytes.len(),
            });
        }
        let hashes = bytes
            .chunks_exact(HASH_LEN)
            .map(|c| Hash::from_slice(c).expect("chunks are 32 bytes"))
            .collect();
        Ok(Tile { id, hashes })
    }

    /// The tile's coordinates.
    pub fn id(&self) -> TileId {
        self.id
    }

    /// The hashes, left to right.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The bytes to serve: the hashes concatenated.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.iter().flat_map(|h| h.0).collect()
    }

    /// For a full tile, the hash it contributes to the tile level above (the root of its
    /// 256 hashes); `None` for a partial tile, which is never hashed upward.
    pub fn root(&self) -> Option<Hash> {
        self.id.is_full().then(|| perfect_root(&self.hashes))
    }
}

fn tile(level: u8, index: u64, width: u64) -> TileId {
    TileId::new(level, index, width as u16).expect("level <= 7 and width in 1..=256")
}

/// Every tile (full and partial) of the tree of `size` leaves, level by level.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    new_tiles(0, size)
}

/// The tiles that the tree of `new` leaves has and the tree of `old` leaves has not (new
/// full tiles, and the partial tiles that grew): what a log writes when it publishes a
/// checkpoint of size `new` after one of size `old`. Empty if `new <= old`.
pub fn new_tiles(old: u64, new: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    for level in 0..8 {
        let (was, is) = (hashes_at(level, old), hashes_at(level, new));
        if is <= was {
            continue;
        }
        let width = u64::from(TILE_WIDTH);
        for index in was / width..=(is - 1) / width {
            out.push(tile(level, index, (is - index * width).min(width)));
        }
    }
    out
}

/// Builds the tiles [`new_tiles`]`(old_size, old_size + new_leaves.len())` lists, from the
/// partial tiles of the tree of `old_size` leaves (read from `stored`) and the leaf hashes
/// of the appended entries. Only the partial tiles of the old tree are read, at most one
/// per level.
pub fn extend_tiles(
    old_size: u64,
    new_leaves: &[Hash],
    stored: &impl TileReader,
) -> Result<Vec<Tile>, TileError> {
    let new_size = u64::try_from(new_leaves.len())
        .ok()
        .and_then(|n| old_size.checked_add(n))
        .ok_or(TileError::BadCoordinates("tree size overflows u64"))?;
    let width = usize::from(TILE_WIDTH);
    let mut out = Vec::new();
    let mut fresh = new_leaves.to_vec();
    for level in 0..8 {
        if fresh.is_empty() {
            break;
        }
        let had = hashes_at(level, old_size);
        let first = had / u64::from(TILE_WIDTH);
        let partial = had % u64::from(TILE_WIDTH);
        let mut hashes = if partial > 0 {
            let id = tile(level, first, partial);
            Tile::parse(id, &stored.read_tile(id)?)?.hashes
        } else {
            Vec::new()
        };
        hashes.append(&mut fresh);
        for (k, chunk) in hashes.chunks(width).enumerate() {
            let t = Tile {
                id: tile(level, first + k as u64, chunk.len() as u64),
                hashes: chunk.to_vec(),
            };
            fresh.extend(t.root());
            out.push(t);
        }
        debug_assert_eq!(
            first * u64::from(TILE_WIDTH) + hashes.len() as u64,
            hashes_at(level, new_size)
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_size_70000() {
        // c2sp.org/tlog-tiles: 273 full level-0 tiles, a partial one of width 112, one
        // full level-1 tile, a partial one of width 17 and a partial level-2 tile of 1.
        let tiles = tiles_for_size(70_000);
        let count = |level: u8, full: bool| {
            tiles
                .iter()
                .filter(|t| t.level() == level && t.is_full() == full)
                .count()
        };
        assert_eq!((count(0, true), count(0, false)), (273, 1));
        assert_eq!((count(1, true), count(1, false)), (1, 1));
        assert_eq!((count(2, true), count(2, false)), (0, 1));
        assert_eq!(tiles.len(), 277);
        let partial: Vec<_> = tiles.iter().filter(|t| !t.is_full()).collect();
        assert_eq!(partial[0].width(), 112);
        assert_eq!(partial[1].width(), 17);
        assert_eq!(partial[2].width(), 1);
        // "a tree of size 256 will be represented by a full level 0 tile and a partial
        // level 1 tile of width 1."
        assert_eq!(
            tiles_for_size(256),
            vec![
                TileId::new(0, 0, 256).unwrap(),
                TileId::new(1, 0, 1).unwrap()
            ]
        );
        assert!(tiles_for_size(0).is_empty());
        assert!(new_tiles(10, 10).is_empty());
        assert!(new_tiles(10, 5).is_empty());
    }

    #[test]
    fn parse_checks_length() {
        let id = TileId::new(0, 0, 2).unwrap();
        assert_eq!(
            Tile::parse(id, &[0; 63]).unwrap_err().code(),
            "tile.bad_data"
        );
        let t = Tile::parse(id, &[7; 64]).unwrap();
        assert_eq!(t.to_bytes(), vec![7; 64]);
        assert_eq!(t.root(), None);
    }
}
