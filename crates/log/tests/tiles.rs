//! Tiles: building them incrementally matches the tree, a client holding only tiles gets
//! the same proofs as the log, tampered tiles are caught by verification, and paths,
//! tiles and bundles round-trip.

use elicense_log::hash::leaf_hash;
use elicense_log::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use elicense_log::tiles::{
    extend_tiles, new_tiles, tiles_for_size, BundleId, EntryBundle, MemoryTiles, Tile,
    TileHashReader, TileId, TilePath, TileReader,
};
use elicense_log::tree::{root_from_reader, HashReader, MemoryHashes, NodeId};
use proptest::prelude::*;

/// Grows a tiled log by `batches`, checking every step against an in-memory tree.
fn grow(batches: &[u64]) -> (MemoryTiles, MemoryHashes) {
    let mut tiles = MemoryTiles::new();
    let mut mem = MemoryHashes::new();
    let mut size = 0;
    for &b in batches {
        let new: Vec<_> = (size..size + b)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect();
        let built = extend_tiles(size, &new, &tiles).unwrap();
        for h in &new {
            mem.append(*h);
        }
        let ids: Vec<TileId> = built.iter().map(Tile::id).collect();
        assert_eq!(ids, new_tiles(size, size + b), "{size} + {b}");
        for t in &built {
            let level = 8 * t.id().level();
            let nodes: Vec<_> = (0..u64::from(t.id().width()))
                .map(|k| NodeId::new(level, t.id().index() * 256 + k))
                .collect();
            assert_eq!(t.hashes(), mem.read_hashes(&nodes).unwrap(), "{}", t.id());
            tiles.insert(t);
        }
        size += b;
        let reader = TileHashReader::new(size, &tiles);
        assert_eq!(
            root_from_reader(size, &reader).unwrap(),
            mem.root(),
            "size {size}"
        );
    }
    (tiles, mem)
}

#[test]
fn every_tile_of_a_tree_is_built() {
    let (tiles, _) = grow(&[1, 254, 1, 300, 65_000, 536, 3]);
    let size = 1 + 254 + 1 + 300 + 65_000 + 536 + 3;
    for id in tiles_for_size(size) {
        assert!(tiles.read_tile(id).is_ok(), "{id} missing");
    }
}

#[test]
fn proofs_from_tiles_equal_proofs_from_the_log() {
    let (tiles, mem) = grow(&[70_000]);
    let n = mem.size();
    let reader = TileHashReader::new(n, &tiles);
    for i in [0, 1, 255, 256, 65_535, 65_536, 69_999] {
        let p = inclusion_proof(i, n, &reader).unwrap();
        assert_eq!(p, inclusion_proof(i, n, &mem).unwrap());
        let leaf = leaf_hash(format!("leaf {i}").as_bytes());
        verify_inclusion(&leaf, i, n, &p, &mem.root()).unwrap();
    }
    for m in [1, 255, 256, 257, 65_536, 69_999] {
        assert_eq!(
            consistency_proof(m, n, &reader).unwrap(),
            consistency_proof(m, n, &mem).unwrap()
        );
    }
}

#[test]
fn tampered_tile_fails_verification() {
    let (mut tiles, mem) = grow(&[1000]);
    let n = mem.size();
    // A mirror serves a wrong hash in the level-1 partial tile.
    let id = TileId::new(1, 0, 3).unwrap();
    let mut bytes = tiles.read_tile(id).unwrap();
    bytes[40] ^= 1;
    tiles.insert_raw(id, bytes);
    let reader = TileHashReader::new(n, &tiles);
    let leaf = leaf_hash(b"leaf 5");
    let p = inclusion_proof(5, n, &reader).unwrap();
    assert_eq!(
        verify_inclusion(&leaf, 5, n, &p, &mem.root())
            .unwrap_err()
            .code(),
        "log.bad_proof"
    );
    // A truncated tile is refused outright.
    tiles.insert_raw(id, vec![0; 95]);
    let e = inclusion_proof(5, n, &TileHashReader::new(n, &tiles)).unwrap_err();
    assert_eq!(e.code(), "tile.bad_data");
    // A tile that does not exist for the size is never asked for.
    let e = inclusion_proof(5, n, &TileHashReader::new(n, &MemoryTiles::new())).unwrap_err();
    assert_eq!(e.code(), "tile.unavailable");
}

#[test]
fn a_mirror_checks_entries_against_tiles() {
    let entries: Vec<Vec<u8>> = (0..300u32)
        .map(|i| i.to_be_bytes().repeat(i as usize % 7))
        .collect();
    let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
    let built = extend_tiles(0, &leaves, &MemoryTiles::new()).unwrap();
    let full = BundleId::new(0, 256).unwrap();
    let partial = BundleId::new(1, 44).unwrap();
    assert_eq!(partial.path(), "tile/entries/001.p/44");
    let b0 = EntryBundle::new(entries[..256].to_vec()).unwrap();
    let b1 = EntryBundle::new(entries[256..].to_vec()).unwrap();
    let b0 = EntryBundle::parse_for(full, &b0.to_bytes()).unwrap();
    let b1 = EntryBundle::parse_for(partial, &b1.to_bytes()).unwrap();
    let tile = |id: TileId| built.iter().find(|t| t.id() == id).unwrap();
    b0.check_against(tile(full.tile())).unwrap();
    b1.check_against(tile(partial.tile())).unwrap();
    assert!(b0.check_against(tile(partial.tile())).is_err());
    let mut forged = entries[256..].to_vec();
    forged[3].push(0);
    let e = EntryBundle::new(forged)
        .unwrap()
        .check_against(tile(partial.tile()));
    assert_eq!(e.unwrap_err().code(), "tile.entry_mismatch");
}

proptest! {
    #[test]
    fn tile_paths_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256) {
        let id = TileId::new(level, index, width).unwrap();
        prop_assert_eq!(TileId::parse(&id.path()).unwrap(), id);
        prop_assert_eq!(TilePath::parse(&id.path()).unwrap(), TilePath::Hashes(id));
        let b = BundleId::new(index, width).unwrap();
        prop_assert_eq!(BundleId::parse(&b.path()).unwrap(), b);
    }

    #[test]
    fn path_parser_never_panics_and_is_canonical(s in "(tile/)?[0-9x.p/entries]{0,30}") {
        if let Ok(p) = TilePath::parse(&s) {
            prop_assert_eq!(p.path(), s);
        }
    }

    #[test]
    fn arbitrary_path_never_panics(s in any::<String>()) {
        let _ = TilePath::parse(&s);
    }

    #[test]
    fn bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
        let b = EntryBundle::new(entries.clone()).unwrap();
        let parsed = EntryBundle::parse(&b.to_bytes()).unwrap();
        prop_assert_eq!(parsed.entries(), &entries[..]);
    }

    #[test]
    fn bundle_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(b) = EntryBundle::parse(&bytes) {
            prop_assert_eq!(b.to_bytes(), bytes);
        }
    }

    #[test]
    fn tiles_round_trip(width in 1u16..=256, seed in any::<u8>()) {
        let id = TileId::new(0, 7, width).unwrap();
        let bytes: Vec<u8> = (0..usize::from(width) * 32).map(|k| (k as u8).wrapping_add(seed)).collect();
        prop_assert_eq!(Tile::parse(id, &bytes).unwrap().to_bytes(), bytes);
    }

    #[test]
    fn growing_in_any_batches_gives_the_same_tiles(batches in prop::collection::vec(1u64..700, 1..8)) {
        let (tiles, mem) = grow(&batches);
        let (whole, _) = grow(&[mem.size()]);
        for id in tiles_for_size(mem.size()) {
            prop_assert_eq!(tiles.read_tile(id).unwrap(), whole.read_tile(id).unwrap());
        }
    }
}

#[test]
fn consistency_from_tiles_verifies() {
    let (tiles, mem) = grow(&[300, 4000]);
    let reader = TileHashReader::new(4300, &tiles);
    let old_root = root_from_reader(300, &TileHashReader::new(300, &tiles)).unwrap();
    let p = consistency_proof(300, 4300, &reader).unwrap();
    verify_consistency(300, 4300, &old_root, &mem.root(), &p).unwrap();
}
