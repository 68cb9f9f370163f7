//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::SeedableRng;

/// A deterministic RNG, so failures reproduce.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// The `openssl` binary, or a test failure with a clear message: CI installs it, so its
/// absence is a broken environment, not a reason to skip.
pub fn openssl() -> &'static str {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the `openssl` command-line tool (OpenSSL 3) is required by the interop tests; install it (apt-get install openssl)"
    );
    "openssl"
}
