//! Sign and verify: this crate, RustCrypto `sm2` 0.13 and RustCrypto `p256` (ES256) for
//! comparison. `cargo bench -p elicense-sm2`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::SeedableRng;

const MSG: &[u8] =
    b"{\"iss\":\"https://node.example\",\"vct\":\"urn:license:example\",\"iat\":1700000000}";

fn ours(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    elicense_sm2::precompute();
    let key = elicense_sm2::SigningKey::random(&mut rng);
    let signer = key.with_id(elicense_sm2::DEFAULT_ID).unwrap();
    let verifier = key
        .verifying_key()
        .with_id(elicense_sm2::DEFAULT_ID)
        .unwrap();
    let sig = signer.sign(MSG, &mut rng);
    c.bench_function("elicense-sm2 sign", |b| {
        b.iter(|| signer.sign(black_box(MSG), &mut rng))
    });
    c.bench_function("elicense-sm2 verify (prepared key)", |b| {
        b.iter(|| verifier.verify(black_box(MSG), black_box(&sig)).unwrap())
    });
    let public = key.verifying_key().to_sec1_uncompressed();
    c.bench_function("elicense-sm2 verify (fresh key each time)", |b| {
        b.iter(|| {
            let vk =
                elicense_sm2::VerifyingKey::from_sec1_uncompressed(black_box(&public)).unwrap();
            vk.verify(elicense_sm2::DEFAULT_ID, black_box(MSG), black_box(&sig))
                .unwrap()
        })
    });
}

fn rustcrypto_sm2(c: &mut Criterion) {
    use sm2::dsa::signature::{Signer, Verifier};
    let mut rng = StdRng::seed_from_u64(2);
    let secret = sm2::SecretKey::random(&mut rng);
    let key = sm2::dsa::SigningKey::new("1234567812345678", &secret).unwrap();
    let vk = key.verifying_key().clone();
    let sig: sm2::dsa::Signature = key.sign(MSG);
    c.bench_function("sm2 0.13 sign", |b| {
        b.iter(|| -> sm2::dsa::Signature { key.sign(black_box(MSG)) })
    });
    c.bench_function("sm2 0.13 verify", |b| {
        b.iter(|| vk.verify(black_box(MSG), black_box(&sig)).unwrap())
    });
}

fn rustcrypto_p256(c: &mut Criterion) {
    use p256::ecdsa::signature::{Signer, Verifier};
    let mut rng = StdRng::seed_from_u64(3);
    let key = p256::ecdsa::SigningKey::random(&mut rng);
    let vk = *key.verifying_key();
    let sig: p256::ecdsa::Signature = key.sign(MSG);
    c.bench_function("p256 0.13 ES256 sign", |b| {
        b.iter(|| -> p256::ecdsa::Signature { key.sign(black_box(MSG)) })
    });
    c.bench_function("p256 0.13 ES256 verify", |b| {
        b.iter(|| vk.verify(black_box(MSG), black_box(&sig)).unwrap())
    });
}

criterion_group!(benches, ours, rustcrypto_sm2, rustcrypto_p256);
criterion_main!(benches);
