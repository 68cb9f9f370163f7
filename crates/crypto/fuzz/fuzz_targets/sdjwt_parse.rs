//! Parse and verify arbitrary text as an SD-JWT(+KB): must never panic.
#![no_main]

use elicense_crypto::sdjwt::{self, KbPolicy};
use elicense_crypto::{Alg, KeyPair};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        use rand::SeedableRng;
        KeyPair::generate(Alg::EdDSA, &mut rand::rngs::StdRng::seed_from_u64(0))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = sdjwt::parse(text) {
            let _ = parsed.verify(&*key().verifier(), &KbPolicy::required("aud", "nonce", 0));
        }
        let _ = sdjwt::present(text, &["name"]);
    }
});
