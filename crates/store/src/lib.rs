//! Storage for elicense: one small trait per capability, plain record types, and two back-ends
//! that pass one conformance suite: SQLite (default, embedded) and PostgreSQL (a region's node).
//!
//! Invariants every back-end keeps:
//! - A license version, its lifecycle event, its status-list slot and (for imports) its journal
//!   row are written in one transaction: all of them or none; so is the event's log entry
//!   (see [`log`]). So are an authorization (or its withdrawal) and its event and log entry;
//!   a use of a license is an event and a log entry, the license row unchanged.
//! - A write is acknowledged (its future resolves `Ok`) only after its transaction committed.
//! - Status-list slots are never handed out twice, across processes.
//! - Records are plain data: the store knows nothing of catalogues, signatures or identifiers
//!   beyond their text; the app layer maps records to domain types.

pub mod error;
pub mod federation;
pub mod log;
pub mod oidc;
pub mod postgres;
pub mod records;
pub mod seals;
pub mod sqlite;
pub mod traits;
pub mod trust;
pub mod vci;
pub mod vp;

pub use error::StoreError;
pub use federation::FederationStore;
pub use log::{CheckpointRecord, EventLogStore, LogEntry, LogEntryRecord, OpeningRecord};
pub use oidc::{OidcLinkRecord, OidcLoginRecord, OidcStore};
pub use postgres::PgStore;
pub use records::*;
pub use seals::{KeyCertificateRecord, SealCaRecord, SealRecord, SealStore, SealUseRecord};
pub use sqlite::SqliteStore;
pub use traits::*;
pub use trust::{RecognitionRecord, TrustStore};
pub use vci::{VciOfferRecord, VciStore};
pub use vp::{PresentationRequestStore, VpRequestRecord};
