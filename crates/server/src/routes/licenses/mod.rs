pub mod actions;
pub mod create;
pub mod get;
pub mod verification;
