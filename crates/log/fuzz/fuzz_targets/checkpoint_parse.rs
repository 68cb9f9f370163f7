//! Parse arbitrary text as a checkpoint: must never panic, and must be canonical.
#![no_main]

use elicense_log::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.to_text(), text);
        }
    }
});
