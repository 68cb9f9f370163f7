//! C2SP tlog-tiles: the Merkle tree served as immutable 256-hash tiles, and the log
//! entries as length-prefixed bundles.
//!
//! Invariants:
//! - Tile height is 8: hash `i` of tile `(L, N)` is the perfect node at tree level `8·L`
//!   and index `N·256 + i`. A full tile holds 256 hashes (8192 bytes); a partial tile
//!   `1..=255`. Hashes at level `L+1` are the roots of *full* tiles at level `L` only.
//! - For a tree of `s` leaves, level `L` holds `⌊s / 256^L⌋` hashes; every tile and
//!   bundle of that tree, and the width of each, follows from `s` alone, so a client
//!   never guesses which resources exist.
//! - Paths are parsed strictly: exactly the strings [`TileId::path`] and
//!   [`BundleId::path`] produce are accepted, everything else is `tile.bad_path`.
//! - Tiles are untrusted data: a proof computed from them proves something only after it
//!   verified against the root of a checkpoint whose signature was checked.

mod build;
mod bundle;
mod path;
mod reader;

use thiserror::Error;

pub use build::{extend_tiles, new_tiles, tiles_for_size, Tile};
pub use bundle::EntryBundle;
pub use path::{BundleId, TileId, TilePath};
pub use reader::{MemoryTiles, TileHashReader, TileReader};

/// Number of tree levels one tile spans.
pub const TILE_HEIGHT: u8 = 8;
/// Number of hashes in a full tile (and entries in a full bundle).
pub const TILE_WIDTH: u16 = 256;
/// Highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;

/// Number of stored hashes at tile level `level` (tree level `8·level`) for `size` leaves.
pub(crate) fn hashes_at(level: u8, size: u64) -> u64 {
    if level >= 8 {
        0
    } else {
        size >> (8 * u32::from(level))
    }
}

/// Why a tile or bundle path, tile or bundle could not be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileError {
    /// The string is not a canonical tile or entry-bundle path.
    #[error("bad tile path {path:?}: {reason}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Tile coordinates out of range (level above 63, width 0 or above 256).
    #[error("bad tile coordinates: {0}")]
    BadCoordinates(&'static str),
    /// Tile data is not `width · 32` bytes.
    #[error("tile data has {got} bytes, {expected} expected")]
    BadTileData {
        /// Bytes a tile of this width has.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// An entry bundle is truncated or has another number of entries than its width.
    #[error("bad entry bundle: {0}")]
    BadBundle(String),
    /// An entry is longer than the 65535 bytes a bundle can hold.
    #[error("entry of {len} bytes does not fit a bundle (max 65535)")]
    EntryTooLarge {
        /// Length of the entry.
        len: usize,
    },
    /// Entries do not hash to the level-0 tile they are checked against.
    #[error("entry {index} does not match its leaf hash")]
    EntryMismatch {
        /// Position in the bundle.
        index: usize,
    },
    /// The tile store could not serve a tile.
    #[error("tile {path} unavailable: {reason}")]
    Unavailable {
        /// The tile's path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl TileError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            TileError::BadPath { .. } => "tile.bad_path",
            TileError::BadCoordinates(_) => "tile.bad_coordinates",
            TileError::BadTileData { .. } => "tile.bad_data",
            TileError::BadBundle(_) => "tile.bad_bundle",
            TileError::EntryTooLarge { .. } => "tile.entry_too_large",
            TileError::EntryMismatch { .. } => "tile.entry_mismatch",
            TileError::Unavailable { .. } => "tile.unavailable",
        }
    }
}
