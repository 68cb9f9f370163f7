//! Parse arbitrary bytes as an entry bundle: must never panic, and must round-trip.
#![no_main]

use elicense_log::tiles::EntryBundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = EntryBundle::parse(data) {
        assert_eq!(b.to_bytes(), data);
    }
});
