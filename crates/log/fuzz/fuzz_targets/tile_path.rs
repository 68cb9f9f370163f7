//! Parse arbitrary text as a tile or entry-bundle path: must never panic, and only
//! canonical paths are accepted.
#![no_main]

use elicense_log::tiles::TilePath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = TilePath::parse(text) {
            assert_eq!(p.path(), text);
        }
    }
});
