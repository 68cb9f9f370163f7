//! Sealing and verifying the ten-page fixture with two seals (SM2 + ES256, and 2×SM2), with
//! the raw SM2 and ES256 sign/verify rates of the same run printed as the limit to compare
//! against. Targets: sealing ≥ 100/s per core, verifying ≥ 200/s per core.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use elicense_crypto::{Alg, KeyPair, Signer};
use elicense_seal::document::{seal_pdf, verify_pdf, SealStatus};
use elicense_seal::ses::Seal;
use time::Duration;

#[path = "../tests/world/mod.rs"]
mod world;

fn raw_rates() {
    let msg = [7u8; 600];
    for alg in [Alg::Sm2, Alg::Es256] {
        let k = KeyPair::generate(alg, &mut rand::rngs::OsRng);
        let v = k.verifier();
        // Warm up first (tables, lazily built verifier state), then time enough signatures
        // for a stable rate.
        let mut sig = k.sign(&msg).unwrap();
        for _ in 0..200 {
            sig = k.sign(black_box(&msg)).unwrap();
            v.verify(black_box(&msg), &sig).unwrap();
        }
        let n = 5_000;
        let t = Instant::now();
        for _ in 0..n {
            sig = k.sign(black_box(&msg)).unwrap();
        }
        let sign = n as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..n {
            v.verify(black_box(&msg), &sig).unwrap();
        }
        let verify = n as f64 / t.elapsed().as_secs_f64();
        println!("raw {alg}: sign {sign:.0}/s, verify {verify:.0}/s (one core)");
    }
}

fn bench(c: &mut Criterion) {
    raw_rates();
    let w = world::World::new();
    let pdf = world::fixture("ten-pages-classic.pdf");
    let at = w.now - Duration::minutes(5);
    // A second SM2 seal of the same owner for the 2×SM2 case.
    let mut info = w.sm2.seal.info().clone();
    info.seal_id = "3501000000003".into();
    let second = Seal::make(&info, &w.maker, &w.maker_cert).unwrap();
    let mut sm2_b = w.job(&w.sm2, 0, 430.0);
    sm2_b.seal = &second;
    let cases = [
        (
            "sm2+es256",
            [w.job(&w.sm2, 0, 300.0), w.job(&w.es, 0, 430.0)],
        ),
        ("2xsm2", [w.job(&w.sm2, 0, 300.0), sm2_b]),
    ];
    let trust = w.trust();
    let status = |_: &str| Some(SealStatus::Active);
    for (name, jobs) in &cases {
        let sealed = seal_pdf(&pdf, jobs, at).unwrap();
        assert!(verify_pdf(&sealed, &trust, w.now, &status).unwrap().valid);
        c.bench_function(&format!("seal {name} (10 pages)"), |b| {
            b.iter(|| seal_pdf(black_box(&pdf), jobs, at).unwrap())
        });
        c.bench_function(&format!("verify {name} (10 pages)"), |b| {
            b.iter(|| verify_pdf(black_box(&sealed), &trust, w.now, &status).unwrap())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
