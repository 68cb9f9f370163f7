//! Decode arbitrary `lst` values and tokens: must never panic nor inflate past the bound.
#![no_main]

use elicense_crypto::status_list::{self, StatusList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&bits, rest)) = data.split_first() else { return };
    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(list) = StatusList::decode(bits, text) {
            assert!(list.as_bytes().len() <= status_list::MAX_DECOMPRESSED);
            let _ = list.get(list.len().saturating_sub(1));
        }
        let _ = status_list::parse_token(text);
    }
    // Also feed the raw bytes as a compressed stream.
    let _ = StatusList::decode(1, &elicense_crypto::b64::encode(rest));
});
