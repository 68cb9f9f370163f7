//! Helpers shared by the integration tests (elicense-sm2's OpenSSL tests include this file too).
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

/// DER `ECDSA-Sig-Value` from 64-byte r‖s.
pub fn rs_to_der(sig: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let mut v: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
        if v.first().is_none_or(|&x| x & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let body = [int(&sig[..32]), int(&sig[32..])].concat();
    let mut der = vec![0x30, body.len() as u8];
    der.extend(body);
    der
}

/// 64-byte r‖s from a DER `ECDSA-Sig-Value`.
pub fn der_to_rs(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x30);
    let mut pos = 2;
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[pos], 0x02);
        let len = der[pos + 1] as usize;
        let int = &der[pos + 2..pos + 2 + len];
        let int: Vec<u8> = int.iter().copied().skip_while(|&x| x == 0).collect();
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend(int);
        pos += 2 + len;
    }
    out
}

/// Runs `openssl ARGS` in `dir`: whether it succeeded, and its stdout and stderr together.
pub fn run(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(openssl())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
