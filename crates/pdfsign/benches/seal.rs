//! Sealing a 10-page PDF with two ES256 seals and verifying it, beside the raw ES256 sign
//! and verify rates measured in the same run (the targets: sealing ≥ 100/s and
//! verifying ≥ 200/s per core). One thread throughout, so every figure is per core.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use elicense_crypto::{Signer, Verifier};
use elicense_pdf::{seal_es256, verify};

const RECT_A: [f64; 4] = [380.0, 80.0, 500.0, 200.0];
const RECT_B: [f64; 4] = [72.0, 300.0, 192.0, 420.0];

fn seal_twice(pdf: &[u8]) -> Vec<u8> {
    let p = common::pki();
    let chain = [p.ca_der.clone()];
    let once = seal_es256(
        pdf,
        &common::placement(0, RECT_A, "Seal1"),
        &p.key,
        &p.leaf_der,
        &chain,
    )
    .unwrap();
    seal_es256(
        &once,
        &common::placement(9, RECT_B, "Seal2"),
        &p.key,
        &p.leaf_der,
        &chain,
    )
    .unwrap()
}

fn check(pdf: &[u8]) {
    let r = verify(pdf).unwrap();
    assert!(r.signatures.iter().all(|s| s.is_valid()));
}

fn benches(c: &mut Criterion) {
    let pdf = common::fixture("ten-pages-classic.pdf");
    let sealed = seal_twice(&pdf);
    let key = &common::pki().key;
    let msg = [7u8; 200];
    let sig = key.sign(&msg).unwrap();
    let verifier = key.verifier();
    let mut g = c.benchmark_group("pdf");
    g.bench_function("seal 10 pages with two ES256 seals", |b| {
        b.iter(|| seal_twice(black_box(&pdf)))
    });
    g.bench_function("verify both seals", |b| {
        b.iter(|| check(black_box(&sealed)))
    });
    g.bench_function("raw ES256 sign", |b| {
        b.iter(|| key.sign(black_box(&msg)).unwrap())
    });
    g.bench_function("raw ES256 verify", |b| {
        b.iter(|| verifier.verify(black_box(&msg), &sig).unwrap())
    });
    g.finish();
}

/// Operations per second of `f` over about a second.
fn rate(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        n += 1;
    }
    f64::from(n) / start.elapsed().as_secs_f64()
}

fn summary() {
    let pdf = common::fixture("ten-pages-classic.pdf");
    let sealed = seal_twice(&pdf);
    let key = &common::pki().key;
    let msg = [7u8; 200];
    let sig = key.sign(&msg).unwrap();
    let verifier = key.verifier();
    let seal = rate(|| drop(black_box(seal_twice(&pdf))));
    let ver = rate(|| check(black_box(&sealed)));
    let sign = rate(|| drop(key.sign(black_box(&msg)).unwrap()));
    let raw_verify = rate(|| verifier.verify(black_box(&msg), &sig).unwrap());
    println!("\nsummary (one core, same run):");
    println!("  sealed documents (two seals each): {seal:>9.0}/s  = {:>5.0} seals/s (target ≥ 100 documents/s)", seal * 2.0);
    println!("  verified documents (two seals):    {ver:>9.0}/s  (target ≥ 200/s)");
    println!(
        "  raw ES256 sign:                    {sign:>9.0}/s  (two per document: limit {:.0}/s)",
        sign / 2.0
    );
    println!("  raw ES256 verify:                  {raw_verify:>9.0}/s  (two per document: limit {:.0}/s)", raw_verify / 2.0);
    println!(
        "  sealing at {:.0}% of the two-signature limit, verifying at {:.0}%",
        100.0 * seal * 2.0 / sign,
        100.0 * ver * 2.0 / raw_verify
    );
}

criterion_group!(group, benches);

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
