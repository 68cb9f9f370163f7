//! Helpers shared by the seal crate's integration tests.
#![allow(dead_code)]

use std::path::Path;

use elicense_crypto::{Alg, KeyPair};
use elicense_seal::ca::{SealCa, Subject, Validity};
use elicense_seal::ses::{CertList, Picture, SealInfo, SealKind};
use time::macros::datetime;
use time::OffsetDateTime;

// The OpenSSL runner the crypto crate's interop tests use (as elicense-sm2's do).
#[path = "../../../crypto/tests/common/mod.rs"]
mod crypto_common;
pub use crypto_common::run;

/// Runs `openssl ARGS` and fails the test with its output if it fails.
pub fn ok(args: &[&str], dir: &Path) -> String {
    let (good, text) = run(args, dir);
    assert!(good, "openssl {} failed:\n{text}", args.join(" "));
    text
}

/// The extra `openssl` arguments an SM2 signature needs (digest and signer ID).
pub fn sm2_sigopts(alg: Alg) -> Vec<&'static str> {
    match alg {
        Alg::Sm2 => vec!["-sm3", "-sigopt", "distid:1234567812345678"],
        _ => vec!["-sha256"],
    }
}

pub fn key(alg: Alg) -> KeyPair {
    KeyPair::generate(alg, &mut rand::rngs::OsRng)
}

pub const T0: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);
pub const SIGNED: OffsetDateTime = datetime!(2025-06-01 08:30:00 UTC);
pub const NOW: OffsetDateTime = datetime!(2025-07-01 00:00 UTC);

pub fn years(from: OffsetDateTime, n: i64) -> Validity {
    Validity {
        not_before: from,
        not_after: from + time::Duration::days(365 * n),
    }
}

/// A node CA of `alg` valid ten years from T0.
pub fn ca(alg: Alg) -> SealCa<KeyPair> {
    let k = key(alg);
    let public = k.public_jwk();
    SealCa::new(
        k,
        &public,
        &Subject {
            common_name: "elicense seal CA".into(),
            organization: Some("某市数据局".into()),
            uscc: None,
        },
        years(T0, 10),
    )
    .unwrap()
}

/// A seal key and its leaf certificate from `ca`, valid two years from T0.
pub fn leaf(ca: &SealCa<KeyPair>, alg: Alg, serial: u8) -> (KeyPair, Vec<u8>) {
    let k = key(alg);
    let cert = ca
        .issue(
            &Subject {
                common_name: "某某科技有限公司合同专用章".into(),
                organization: Some("某某科技有限公司".into()),
                uscc: Some("91350100M000100Y43".into()),
            },
            &k.public_jwk(),
            years(T0, 2),
            &[serial],
        )
        .unwrap();
    (k, cert)
}

/// Seal data valid one year from T0, listing `signers`.
pub fn info(signers: Vec<Vec<u8>>) -> SealInfo {
    SealInfo {
        vendor_id: "elicense".into(),
        seal_id: "11350100SEAL0000000001".into(),
        kind: SealKind::Contract,
        name: "某某科技有限公司合同专用章".into(),
        signers: CertList::Certs(signers),
        created: T0,
        valid_from: T0,
        valid_to: T0 + time::Duration::days(365),
        picture: Picture {
            format: "PNG".into(),
            data: b"\x89PNG\r\n\x1a\n not really a picture".to_vec(),
            width_mm: 40,
            height_mm: 40,
        },
        extensions: None,
    }
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}
