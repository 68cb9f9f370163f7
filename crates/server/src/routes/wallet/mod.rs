//! The wallet's JSON endpoints, called by the wallet pages' scripts with the session cookie.

pub mod binding;
pub mod credential_offer;
pub mod presentations;
pub mod shares;
pub mod vp;
