//! Parse and open arbitrary bytes as a signed note, and arbitrary text as a verifier key:
//! must never panic, and a parsed note must print back to the same bytes.
#![no_main]

use elicense_log::note::{open, SignedNote, VerifierKey, Verifiers};
use libfuzzer_sys::fuzz_target;

const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = SignedNote::parse(data) {
        assert_eq!(note.to_text().as_bytes(), data);
    }
    let known = Verifiers::new([VerifierKey::parse(VKEY).unwrap()]).unwrap();
    let _ = open(data, &known);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VerifierKey::parse(text);
    }
});
