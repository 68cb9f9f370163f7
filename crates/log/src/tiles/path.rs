//! Tile and entry-bundle coordinates and their paths, `tile/<L>/<N>[.p/<W>]` and
//! `tile/entries/<N>[.p/<W>]`.
//!
//! Invariant: a [`TileId`] or [`BundleId`] always has a level `<= 63` and a width in
//! `1..=256` (256 = full, no `.p/` suffix); `parse(id.path()) == id` and `parse`
//! accepts nothing else (no leading zeros, no `x000` leading group, no `.p/256`).

use std::fmt;

use super::{TileError, MAX_TILE_LEVEL, TILE_WIDTH};

fn check_width(width: u16) -> Result<(), TileError> {
    if width == 0 || width > TILE_WIDTH {
        Err(TileError::BadCoordinates("width must be 1..=256"))
    } else {
        Ok(())
    }
}

/// A hash tile: level, index within the level, and width (number of hashes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileId {
    level: u8,
    index: u64,
    width: u16,
}

impl TileId {
    /// A tile; `width` 256 is a full tile.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, TileError> {
        if level > MAX_TILE_LEVEL {
            return Err(TileError::BadCoordinates("level must be 0..=63"));
        }
        check_width(width)?;
        Ok(TileId {
            level,
            index,
            width,
        })
    }

    /// Tile level (0: leaf hashes).
    pub fn level(&self) -> u8 {
        self.level
    }

    /// Index of the tile within its level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Number of hashes in the tile.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile holds all 256 hashes.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The resource path, relative to the log prefix.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, suffix(self.index, self.width))
    }

    /// Parses a hash-tile path (not an entry-bundle path).
    pub fn parse(path: &str) -> Result<Self, TileError> {
        match TilePath::parse(path)? {
            TilePath::Hashes(t) => Ok(t),
            TilePath::Entries(_) => Err(bad(path, "an entry bundle path, not a hash tile")),
        }
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// An entry bundle: index (same as the level-0 tile it matches) and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BundleId {
    index: u64,
    width: u16,
}

impl BundleId {
    /// A bundle; `width` 256 is a full bundle.
    pub fn new(index: u64, width: u16) -> Result<Self, TileError> {
        check_width(width)?;
        Ok(BundleId { index, width })
    }

    /// Index of the bundle; entries `index·256 ..` are in it.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Number of entries in the bundle.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// The level-0 tile whose hashes are the leaf hashes of this bundle's entries.
    pub fn tile(&self) -> TileId {
        TileId {
            level: 0,
            index: self.index,
            width: self.width,
        }
    }

    /// The resource path, relative to the log prefix.
    pub fn path(&self) -> String {
        format!("tile/entries/{}", suffix(self.index, self.width))
    }

    /// Parses an entry-bundle path.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        match TilePath::parse(path)? {
            TilePath::Entries(b) => Ok(b),
            TilePath::Hashes(_) => Err(bad(path, "a hash tile path, not an entry bundle")),
        }
    }
}

impl fmt::Display for BundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Either kind of resource under `tile/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hashes(TileId),
    /// `tile/entries/<N>[.p/<W>]`.
    Entries(BundleId),
}

impl TilePath {
    /// Parses a path relative to the log prefix, strictly.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let mut parts = path.split('/');
        if parts.next() != Some("tile") {
            return Err(bad(path, "must start with tile/"));
        }
        let kind = parts.next().ok_or_else(|| bad(path, "missing level"))?;
        let rest: Vec<&str> = parts.collect();
        let (index, width) = parse_index_and_width(path, &rest)?;
        if kind == "entries" {
            return Ok(TilePath::Entries(BundleId { index, width }));
        }
        let level = parse_decimal(kind, 2).ok_or_else(|| bad(path, "bad level"))?;
        if level > u64::from(MAX_TILE_LEVEL) {
            return Err(bad(path, "level above 63"));
        }
        Ok(TilePath::Hashes(TileId {
            level: level as u8,
            index,
            width,
        }))
    }

    /// The resource path.
    pub fn path(&self) -> String {
        match self {
            TilePath::Hashes(t) => t.path(),
            TilePath::Entries(b) => b.path(),
        }
    }
}

fn bad(path: &str, reason: &'static str) -> TileError {
    TileError::BadPath {
        path: path.to_owned(),
        reason,
    }
}

/// `<N>[.p/<W>]` with N in 3-digit groups, all but the last prefixed by `x`.
fn suffix(index: u64, width: u16) -> String {
    let mut groups = vec![];
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.remove(0);
    let mut out: String = groups.iter().rev().map(|g| format!("x{g:03}/")).collect();
    out.push_str(&format!("{last:03}"));
    if width != TILE_WIDTH {
        out.push_str(&format!(".p/{width}"));
    }
    out
}

/// ASCII decimal without leading zeros, at most `max_digits` digits.
fn parse_decimal(s: &str, max_digits: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

fn three_digits(s: &str) -> Option<u64> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_index_and_width(path: &str, parts: &[&str]) -> Result<(u64, u16), TileError> {
    let last_group = parts
        .iter()
        .position(|p| !p.starts_with('x'))
        .ok_or_else(|| bad(path, "missing index"))?;
    let mut index: u64 = 0;
    for (i, group) in parts[..last_group].iter().enumerate() {
        let g = three_digits(&group[1..]).ok_or_else(|| bad(path, "bad index group"))?;
        if i == 0 && g == 0 {
            return Err(bad(path, "leading zero index group"));
        }
        index = push_group(index, g).ok_or_else(|| bad(path, "index overflows"))?;
    }
    let (digits, partial) = match parts[last_group].strip_suffix(".p") {
        Some(d) => (d, true),
        None => (parts[last_group], false),
    };
    let g = three_digits(digits).ok_or_else(|| bad(path, "bad index group"))?;
    index = push_group(index, g).ok_or_else(|| bad(path, "index overflows"))?;
    let tail = &parts[last_group + 1..];
    let width = match (partial, tail) {
        (false, []) => TILE_WIDTH,
        (true, [w]) => {
            let w = parse_decimal(w, 3).ok_or_else(|| bad(path, "bad width"))?;
            if !(1..u64::from(TILE_WIDTH)).contains(&w) {
                return Err(bad(path, "partial width must be 1..=255"));
            }
            w as u16
        }
        (true, _) => return Err(bad(path, "expected one width after .p")),
        (false, _) => return Err(bad(path, "trailing path elements")),
    };
    Ok((index, width))
}

fn push_group(index: u64, group: u64) -> Option<u64> {
    index.checked_mul(1000)?.checked_add(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        let t = TileId::new(0, 1_234_067, 256).unwrap();
        assert_eq!(t.path(), "tile/0/x001/x234/067");
        assert_eq!(TileId::new(1, 0, 17).unwrap().path(), "tile/1/000.p/17");
        assert_eq!(BundleId::new(5, 3).unwrap().path(), "tile/entries/005.p/3");
        assert_eq!(
            TileId::new(2, u64::MAX, 256).unwrap().path(),
            "tile/2/x018/x446/x744/x073/x709/x551/615"
        );
        assert_eq!(TileId::parse("tile/0/x001/x234/067").unwrap(), t);
    }

    #[test]
    fn rejects_non_canonical() {
        for p in [
            "",
            "tile",
            "tile/",
            "tile/0",
            "tile/0/",
            "tile/00/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/0/0",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/x01/001",
            "tile/0/x001",
            "tile/0/001/x001",
            "tile/0/001.p",
            "tile/0/001.p/",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/01",
            "tile/0/001.p/1/2",
            "tile/0/001/",
            "tile/0/001.q/1",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            "/tile/0/000",
            "tile/entries/000.p/",
            "tile/entries/x000/000",
            "tile/0/００１",
            "tile/0/x/001",
        ] {
            assert!(TilePath::parse(p).is_err(), "{p:?} accepted");
            assert_eq!(TilePath::parse(p).unwrap_err().code(), "tile.bad_path");
        }
        assert!(TileId::parse("tile/entries/000").is_err());
        assert!(BundleId::parse("tile/0/000").is_err());
    }

    #[test]
    fn coordinates_checked() {
        assert!(TileId::new(64, 0, 1).is_err());
        assert!(TileId::new(0, 0, 0).is_err());
        assert!(TileId::new(0, 0, 257).is_err());
        assert!(BundleId::new(0, 0).is_err());
    }
}
