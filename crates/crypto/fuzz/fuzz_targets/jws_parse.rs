//! Parse arbitrary text as a compact JWS: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = elicense_crypto::jws::parse(text);
    }
});
