//! Node-to-node routes of the federation (docs/FEDERATION.md). `sync` and `holder_key` take
//! only requests signed by a node this node knows (`crate::signed::SignedByNode`); the
//! directory lookup is public (it tells where a license lives and its public status, no
//! personal data).

pub mod directory;
pub mod holder_key;
pub mod sync;
