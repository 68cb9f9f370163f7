//! Fuzzes the parsers of untrusted identifiers: strict and lenient GB/T 36904 identifiers,
//! GB 11643 resident IDs and GB 32100 codes. Run with `scripts/fuzz.sh 60 identifier`
//! (stable toolchain via RUSTC_BOOTSTRAP=1) or `cargo +nightly fuzz run identifier` from
//! crates/core.
#![no_main]

use elicense_core::{HolderCode, Identifier, ResidentId, TypeCode, Uscc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = Identifier::parse(text) {
        assert_eq!(id.as_str(), text);
        assert_eq!(Identifier::parse(&id.to_string()).as_ref(), Ok(&id));
    }
    for candidate in [text.to_owned(), format!("{}.{text}", Identifier::ROOT)] {
        if let Ok(lenient) = Identifier::parse_lenient(&candidate) {
            assert_eq!(lenient.identifier.is_some(), lenient.deviations.is_empty());
            for deviation in &lenient.deviations {
                let _ = deviation.to_string();
            }
        }
    }
    if let Ok(id) = ResidentId::parse(text) {
        assert_eq!(id.as_str(), text);
        let _ = id.birth_date();
    }
    if let Ok(code) = Uscc::parse(text) {
        assert_eq!(code.as_str(), text);
    }
    let _ = TypeCode::parse(text);
    let _ = HolderCode::detect(text);
});
