//! Stable machine codes for errors.
//!
//! Invariant: every error type of this crate implements [`ErrorCode`], and a code, once
//! published, never changes meaning. Codes are dotted, lowercase, `area.reason`
//! (`identifier.bad_check`); the API, the CLI and the logs all show them.

/// An error (or finding) that carries a stable, machine-readable code.
pub trait ErrorCode {
    /// The stable dotted code, such as `"identifier.bad_check"`.
    fn code(&self) -> &'static str;
}
