//! Use cases of elicense. The app layer depends on the storage traits, never on a back-end,
//! and on a `Clock`, never on the system time directly.
//!
//! A `Node` is what a running node (or one CLI command) holds: the store, the clock, the
//! issuers' key ring, the catalogue cache and the status-list cache.

pub mod apikeys;
pub mod archive;
pub mod audit;
pub mod cache;
pub mod catalogue;
pub mod clock;
pub mod config;
pub mod error;
pub mod face;
pub mod federation;
pub mod import;
pub mod institutions;
pub mod issue;
pub mod key_certificates;
pub mod keys;
pub mod lifecycle;
pub mod limit;
pub mod log;
pub mod node;
pub mod offline;
pub mod one_code;
pub mod openid4vp;
pub mod openings;
pub mod operator;
pub mod seals;
pub mod seed;
pub mod status;
pub mod stored;
pub mod succession;
pub mod timeutil;
pub mod verify;
pub mod wallet;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::NodeConfig;
pub use error::{AppError, ErrorKind};
pub use node::Node;
