//! Federation: a node's place in the network (area, level, parent), its node and witness
//! keys, the document it publishes at `/.well-known/elicense-node`, and HTTP Message
//! Signatures (RFC 9421) for node-to-node requests, and witnessing: every parent co-signs its
//! children's checkpoints (C2SP tlog-witness, `witness`).
//!
//! Also the signed trust list (`trust_list`), talking to other nodes and admitting children
//! (`peer`), upward sync into the directory (`sync`) and lookups through it (`directory`);
//! publishing and refreshing the trust list (`trust`) and mutual recognition
//! (`recognition`); witnessing of children's checkpoints (`witness`, C2SP tlog-witness); one
//! wallet across regions (`wallet`).

pub mod directory;
pub mod document;
pub mod httpsig;
pub mod identity;
pub mod keys;
pub mod peer;
pub mod recognition;
pub mod sync;
pub mod trust;
pub mod trust_list;
pub mod wallet;
pub mod witness;

pub use document::{node_document, NodeDocument};
pub use identity::{Federation, FederationSettings, NodeIdentity, NodeUrl};
