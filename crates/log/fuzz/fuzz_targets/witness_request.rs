//! Parse arbitrary bytes as a tlog-witness `add-checkpoint` body and as a cosignature line:
//! must never panic, and what parses must print back to the same bytes.
#![no_main]

use elicense_log::cosignature::Cosignature;
use elicense_log::witness::AddCheckpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = AddCheckpoint::parse(data) {
        assert_eq!(req.to_bytes(), data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Cosignature::parse_line(text) {
            assert_eq!(c.line().trim_end(), text.strip_suffix('\n').unwrap_or(text));
        }
    }
});
