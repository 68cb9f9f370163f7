//! The Merkle Tree Hash of RFC 9162 §2.1, computed incrementally, and the seam to stored
//! node hashes.
//!
//! Invariants:
//! - Node `(level, index)` is the *perfect* subtree over leaves
//!   `[index·2^level, (index+1)·2^level)`. It exists in a tree of `n` leaves iff its end
//!   is `<= n`, and once it exists its hash never changes (the log is append-only). Only
//!   perfect nodes are ever stored or read through a [`HashReader`]; the hash of any
//!   other subtree is folded from them on the fly.
//! - The root of `n > 0` leaves is the right fold, with [`node_hash`], of the perfect
//!   nodes of the binary decomposition of `n` (largest first). This equals RFC 9162's
//!   recursive definition (split at the largest power of two `< n`).
//! - A [`Frontier`] holds exactly one hash per set bit of its size (its *peaks*), so its
//!   memory is O(log n), and [`Frontier::root`] costs at most `log2 n` hashes.

use thiserror::Error;

use crate::hash::{empty_root, node_hash, Hash};

/// Why node hashes could not be read or a frontier could not be rebuilt.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeError {
    /// The reader does not hold a node the tree of the given size must have.
    #[error("node hash missing at level {level}, index {index}")]
    MissingNode {
        /// Level of the missing node.
        level: u8,
        /// Index of the missing node within its level.
        index: u64,
    },
    /// The reader returned another number of hashes than it was asked for.
    #[error("hash reader returned {got} hashes for {wanted} nodes")]
    BadRead {
        /// Number of nodes asked for.
        wanted: usize,
        /// Number of hashes returned.
        got: usize,
    },
    /// A frontier was given a number of peaks that does not match its size.
    #[error("a frontier of size {size} needs {expected} peaks, got {got}")]
    BadFrontier {
        /// Tree size.
        size: u64,
        /// Number of set bits of `size`.
        expected: usize,
        /// Number of peaks given.
        got: usize,
    },
    /// The storage behind a reader failed; `code` is the storage's own stable code.
    #[error("hash storage failed: {message}")]
    Storage {
        /// Stable code of the underlying failure (e.g. `tile.unavailable`).
        code: &'static str,
        /// Human-readable detail.
        message: String,
    },
}

impl TreeError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            TreeError::MissingNode { .. } => "log.missing_node",
            TreeError::BadRead { .. } => "log.bad_read",
            TreeError::BadFrontier { .. } => "log.bad_frontier",
            TreeError::Storage { code, .. } => code,
        }
    }
}

/// A perfect subtree: `2^level` leaves starting at leaf `index·2^level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    /// Height above the leaves (0 = a leaf hash).
    pub level: u8,
    /// Position within the level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level`, `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The first leaf the node covers.
    pub fn start(&self) -> u128 {
        u128::from(self.index) << self.level
    }

    /// One past the last leaf the node covers.
    pub fn end(&self) -> u128 {
        (u128::from(self.index) + 1) << self.level
    }

    /// Whether the node is complete in a tree of `size` leaves.
    pub fn exists_in(&self, size: u64) -> bool {
        self.level < 64 && self.end() <= u128::from(size)
    }
}

/// Something that serves stored hashes of perfect nodes: a database table, a cache, the
/// tiles of a tiled log. Asked for several nodes at once so a backend can batch.
pub trait HashReader {
    /// The hashes of `nodes`, in the same order. Callers only ask for nodes that exist in
    /// the tree they work on.
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError>;
}

impl<T: HashReader + ?Sized> HashReader for &T {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError> {
        (**self).read_hashes(nodes)
    }
}

/// Reads `nodes` and checks that the reader kept its side of the contract.
pub(crate) fn read_checked(
    reader: &impl HashReader,
    nodes: &[NodeId],
) -> Result<Vec<Hash>, TreeError> {
    let hashes = reader.read_hashes(nodes)?;
    if hashes.len() != nodes.len() {
        return Err(TreeError::BadRead {
            wanted: nodes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

/// The largest power of two strictly less than `n` (`n >= 2`): RFC 9162's split point.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The perfect nodes, left to right, of the RFC 9162 subtree over leaves `[start, end)`.
/// `start` must be a multiple of a power of two `>= end - start` (true of every subtree
/// the RFC recursion produces); then the subtree hash is the right fold of these nodes.
pub(crate) fn subtree_nodes(start: u64, end: u64) -> Vec<NodeId> {
    debug_assert!(start < end);
    let mut nodes = Vec::new();
    let mut at = start;
    while at < end {
        let remaining = end - at;
        let level = 63 - remaining.leading_zeros(); // largest power of two <= remaining
        nodes.push(NodeId::new(level as u8, at >> level));
        at += 1 << level;
    }
    nodes
}

/// Right fold with [`node_hash`]: `h0 ∘ (h1 ∘ (… ∘ hk))`. `hashes` must be non-empty.
pub(crate) fn fold_right(hashes: &[Hash]) -> Hash {
    let (last, rest) = hashes.split_last().expect("fold of no hashes");
    rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc))
}

/// The root of the first `size` leaves, from stored hashes (at most `log2 size` reads).
pub fn root_from_reader(size: u64, reader: &impl HashReader) -> Result<Hash, TreeError> {
    if size == 0 {
        return Ok(empty_root());
    }
    Ok(fold_right(&read_checked(reader, &subtree_nodes(0, size))?))
}

/// The right edge of an append-only Merkle tree (a compact range `[0, size)`): enough to
/// compute the root after every append, in O(log n) memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees of the binary decomposition of `size`, largest first.
    peaks: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Frontier::default()
    }

    /// Rebuilds a frontier from its peaks (largest subtree first), e.g. kept in storage.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Result<Self, TreeError> {
        let expected = size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(TreeError::BadFrontier {
                size,
                expected,
                got: peaks.len(),
            });
        }
        Ok(Frontier { size, peaks })
    }

    /// Rebuilds the frontier of the first `size` leaves from stored node hashes.
    pub fn from_reader(size: u64, reader: &impl HashReader) -> Result<Self, TreeError> {
        let peaks = if size == 0 {
            Vec::new()
        } else {
            read_checked(reader, &subtree_nodes(0, size))?
        };
        Frontier::from_peaks(size, peaks)
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peak hashes, largest subtree first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// The nodes the peaks are the hashes of, in the same order as [`Frontier::peaks`].
    pub fn peak_nodes(&self) -> Vec<NodeId> {
        if self.size == 0 {
            Vec::new()
        } else {
            subtree_nodes(0, self.size)
        }
    }

    /// Appends a leaf hash.
    pub fn append(&mut self, leaf: Hash) {
        self.append_with(leaf, |_, _| {});
    }

    /// Appends a leaf hash and calls `stored` for every node that became complete: the
    /// leaf itself, then each parent it completes, bottom-up. These are exactly the
    /// hashes a [`HashReader`] must serve for the new size.
    ///
    /// Panics if the tree already holds `u64::MAX` leaves.
    pub fn append_with(&mut self, leaf: Hash, mut stored: impl FnMut(NodeId, Hash)) {
        let index = self.size;
        self.size = index.checked_add(1).expect("tree size overflows u64");
        let mut node = NodeId::new(0, index);
        let mut hash = leaf;
        stored(node, hash);
        let mut bits = index;
        while bits & 1 == 1 {
            let left = self.peaks.pop().expect("one peak per set bit of the size");
            hash = node_hash(&left, &hash);
            node = NodeId::new(node.level + 1, node.index >> 1);
            stored(node, hash);
            bits >>= 1;
        }
        self.peaks.push(hash);
    }

    /// The Merkle Tree Hash of the leaves appended so far.
    pub fn root(&self) -> Hash {
        if self.peaks.is_empty() {
            empty_root()
        } else {
            fold_right(&self.peaks)
        }
    }
}

/// All perfect node hashes of a tree, in memory: a reference [`HashReader`] for tests,
/// benchmarks and small tools. Grows by [`MemoryHashes::append`].
#[derive(Clone, Debug, Default)]
pub struct MemoryHashes {
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryHashes {
    /// An empty tree.
    pub fn new() -> Self {
        MemoryHashes::default()
    }

    /// Appends a leaf hash, storing every node it completes.
    pub fn append(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.frontier.append_with(leaf, |node, hash| {
            let level = usize::from(node.level);
            if levels.len() <= level {
                levels.push(Vec::new());
            }
            debug_assert_eq!(levels[level].len() as u64, node.index);
            levels[level].push(hash);
        });
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The frontier of the current tree.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The stored hashes of one level (level 0: the leaf hashes).
    pub fn level(&self, level: u8) -> &[Hash] {
        self.levels
            .get(usize::from(level))
            .map_or(&[], Vec::as_slice)
    }
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>, TreeError> {
        nodes
            .iter()
            .map(|n| {
                usize::try_from(n.index)
                    .ok()
                    .and_then(|i| self.level(n.level).get(i))
                    .copied()
                    .ok_or(TreeError::MissingNode {
                        level: n.level,
                        index: n.index,
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    /// RFC 9162 §2.1.1, written as the recursion, for cross-checking.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn frontier_matches_recursive_definition() {
        let mut f = Frontier::new();
        let mut mem = MemoryHashes::new();
        let mut leaves = Vec::new();
        assert_eq!(f.root(), empty_root());
        for i in 0u32..300 {
            let h = leaf_hash(&i.to_be_bytes());
            leaves.push(h);
            f.append(h);
            mem.append(h);
            assert_eq!(f.root(), mth(&leaves), "size {}", i + 1);
            assert_eq!(f.peaks().len(), f.size().count_ones() as usize);
            assert_eq!(root_from_reader(f.size(), &mem).unwrap(), f.root());
            assert_eq!(Frontier::from_reader(f.size(), &mem).unwrap(), f);
        }
    }

    #[test]
    fn split_point_and_decomposition() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
        assert_eq!(
            subtree_nodes(0, 7),
            vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(subtree_nodes(8, 12), vec![NodeId::new(2, 2)]);
    }

    #[test]
    fn bad_frontier_and_missing_nodes() {
        let e = Frontier::from_peaks(3, vec![empty_root()]).unwrap_err();
        assert_eq!(e.code(), "log.bad_frontier");
        let mem = MemoryHashes::new();
        let e = root_from_reader(1, &mem).unwrap_err();
        assert_eq!(e.code(), "log.missing_node");
        assert!(!NodeId::new(64, 0).exists_in(u64::MAX));
        assert!(NodeId::new(63, 0).exists_in(u64::MAX));
    }
}
