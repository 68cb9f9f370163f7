//! The wallet's JSON endpoints, called by the present page's script with the session cookie.

pub mod binding;
pub mod presentations;
