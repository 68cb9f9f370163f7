//! Domain model of elicense: GB/T 36904 identifiers, GB 11643 / GB 32100 codes, the
//! license-type catalogue, license metadata and the lifecycle state machine.
//!
//! Invariant of the whole crate: it is pure. No I/O, no clock, no randomness; callers pass
//! dates and text in, and get checked values or errors with stable codes ([`ErrorCode`]) out.

pub mod agency;
pub mod area;
pub mod catalogue;
pub mod date;
pub mod error;
pub mod event;
pub mod federation;
pub mod gb11643;
pub mod gb32100;
pub mod holder;
pub mod ident;
pub mod license;
pub mod lifecycle;
mod macros;
pub mod operator;
pub mod reason;
pub mod recognition;
pub mod sample;
pub mod share;

pub use area::{is_province, AreaCode, AreaCodeError};
pub use catalogue::{
    Catalogue, CatalogueError, DataItem, Disclosure, Issuer, ItemType, LicenseType, Validity,
    ValidityRule,
};
pub use error::ErrorCode;
pub use event::{EventKind, UnknownEventKind};
pub use federation::{NodeArea, NodeAreaError, NodeLevel, UnknownNodeLevel};
pub use gb11643::{ResidentId, ResidentIdError};
pub use gb32100::{Uscc, UsccError};
pub use holder::{Holder, HolderCode, HolderCodeType, HolderError};
pub use ident::{mod37_36, Deviation, IdentError, Identifier, Lenient, TypeCode};
pub use license::{LicenseError, LicenseMeta};
pub use lifecycle::{transition, Action, LifecycleState, Status, TransitionError};
pub use operator::{OperatorAction, OperatorActor, UnknownOperatorAction};
pub use reason::{ReasonCategory, UnknownReasonCategory};
pub use recognition::{Coverage, NotListed, RecognitionList};
