//! Reading tiles: the [`TileReader`] seam, an in-memory store, and a [`HashReader`] over
//! tiles so that a client mirroring a tiled log computes proofs with the same code as
//! the log itself.
//!
//! Invariant: [`TileHashReader`] only reads the tiles that exist for its tree size (the
//! exact partial widths), at most one read per tile per call; it does not authenticate
//! them — verify the proofs it yields against a checked checkpoint root.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use super::build::perfect_root;
use super::{hashes_at, Tile, TileError, TileId, TILE_HEIGHT, TILE_WIDTH};
use crate::hash::Hash;
use crate::tree::{HashReader, NodeId, TreeError};

/// Something that serves tile bytes: a directory, an object store, an HTTP mirror.
pub trait TileReader {
    /// The bytes of tile `id`, exactly as served at `id.path()`.
    fn read_tile(&self, id: TileId) -> Result<Vec<u8>, TileError>;
}

impl<T: TileReader + ?Sized> TileReader for &T {
    fn read_tile(&self, id: TileId) -> Result<Vec<u8>, TileError> {
        (**self).read_tile(id)
    }
}

/// Tiles kept in memory, keyed by exact coordinates (a partial tile and the full tile
/// of the same index are different resources).
#[derive(Clone, Debug, Default)]
pub struct MemoryTiles {
    tiles: BTreeMap<TileId, Vec<u8>>,
}

impl MemoryTiles {
    /// No tiles.
    pub fn new() -> Self {
        MemoryTiles::default()
    }

    /// Stores a tile (replacing one with the same coordinates).
    pub fn insert(&mut self, tile: &Tile) {
        self.tiles.insert(tile.id(), tile.to_bytes());
    }

    /// Stores raw bytes under `id`, unchecked (to simulate a faulty or hostile mirror).
    pub fn insert_raw(&mut self, id: TileId, bytes: Vec<u8>) {
        self.tiles.insert(id, bytes);
    }

    /// Number of tiles held.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

impl TileReader for MemoryTiles {
    fn read_tile(&self, id: TileId) -> Result<Vec<u8>, TileError> {
        self.tiles
            .get(&id)
            .cloned()
            .ok_or_else(|| TileError::Unavailable {
                path: id.path(),
                reason: "not stored".into(),
            })
    }
}

/// A [`HashReader`] for the tree of `size` leaves that computes node hashes from tiles.
#[derive(Clone, Debug)]
pub struct TileHashReader<R> {
    size: u64,
    tiles: R,
}

impl<R: TileReader> TileHashReader<R> {
    /// Reads the tree of `size` leaves from `tiles`.
    pub fn new(size: u64, tiles: R) -> Self {
        TileHashReader { size, tiles }
    }

    /// The tile holding the bottom hashes of `node`, and the range of them it spans.
    fn locate(&self, node: NodeId) -> (TileId, usize, usize) {
        let level = node.level / TILE_HEIGHT;
        let rise = node.level % TILE_HEIGHT;
        let first = node.index << rise;
        let width = u64::from(TILE_WIDTH);
        let index = first / width;
        let tile_width = (hashes_at(level, self.size) - index * width).min(width);
        let id = TileId::new(level, index, tile_width as u16).expect("a tile of the tree");
        (id, (first % width) as usize, 1usize << rise)
    }
}

fn storage(e: TileError) -> TreeError {
    TreeError::Storage {
        code: e.code(),
        message: e.to_string(),
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError> {
        let mut cache: HashMap<TileId, Tile> = HashMap::new();
        nodes
            .iter()
            .map(|&node| {
                if !node.exists_in(self.size) {
                    return Err(TreeError::MissingNode {
                        level: node.level,
                        index: node.index,
                    });
                }
                let (id, offset, len) = self.locate(node);
                let tile = match cache.entry(id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let bytes = self.tiles.read_tile(id).map_err(storage)?;
                        e.insert(Tile::parse(id, &bytes).map_err(storage)?)
                    }
                };
                Ok(perfect_root(&tile.hashes()[offset..offset + len]))
            })
            .collect()
    }
}
