//! A relying institution's sharing requests and annotated copies (加注件), authenticated with
//! the institution's API key (`eli_…`). See `elicense_app::institutions`.

pub mod create;
pub mod face;
pub mod get;
pub mod list;
