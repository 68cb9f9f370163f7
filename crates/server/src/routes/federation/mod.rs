//! Node-to-node routes of the federation (docs/FEDERATION.md). `sync` and `holder_key` take
//! only requests signed by a node this node knows (`crate::signed::SignedByNode`); the
//! directory lookup is public (it tells where a license lives and its public status, no
//! personal data). `wallet` takes requests signed by any node of the trust list
//! (`crate::signed::SignedByMember`).

pub mod directory;
pub mod holder_key;
pub mod sync;
pub mod wallet;
