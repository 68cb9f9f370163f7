//! Frontier appends and proof generation at n = 10^6, next to the limit they are
//! measured against in the same run: appending n leaves costs about n node hashes
//! (amortised one per leaf), so `frontier/append_1e6` should be close to 10^6 ×
//! `hash/node`; a proof at n = 10^6 reads ~20 stored hashes, so `proof/*` should be
//! microseconds and grow with log n, not n.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use elicense_log::hash::{leaf_hash, node_hash};
use elicense_log::proof::{consistency_proof, inclusion_proof, verify_inclusion};
use elicense_log::tiles::{extend_tiles, MemoryTiles, TileHashReader};
use elicense_log::tree::{Frontier, MemoryHashes};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: u64 = 1_000_000;

fn bench(c: &mut Criterion) {
    let leaves: Vec<_> = (0..N).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let (a, b) = (leaves[0], leaves[1]);
    c.bench_function("hash/node", |bch| {
        bch.iter(|| node_hash(black_box(&a), black_box(&b)))
    });

    let mut group = c.benchmark_group("frontier");
    group.sample_size(10);
    group.bench_function("append_1e6", |bch| {
        bch.iter(|| {
            let mut f = Frontier::new();
            for h in &leaves {
                f.append(*h);
            }
            f.root()
        })
    });
    group.finish();

    let mut mem = MemoryHashes::new();
    for h in &leaves {
        mem.append(*h);
    }
    let root = mem.root();
    let mut rng = StdRng::seed_from_u64(7);
    c.bench_function("proof/inclusion_1e6_memory", |bch| {
        bch.iter_batched(
            || rng.gen_range(0..N),
            |i| inclusion_proof(i, N, &mem).unwrap(),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("proof/consistency_1e6_memory", |bch| {
        bch.iter_batched(
            || rng.gen_range(1..N),
            |m| consistency_proof(m, N, &mem).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let proof = inclusion_proof(123_457, N, &mem).unwrap();
    c.bench_function("proof/verify_inclusion_1e6", |bch| {
        bch.iter(|| verify_inclusion(&leaves[123_457], 123_457, N, &proof, &root).unwrap())
    });

    let mut tiles = MemoryTiles::new();
    for t in extend_tiles(0, &leaves, &tiles).unwrap() {
        tiles.insert(&t);
    }
    let reader = TileHashReader::new(N, &tiles);
    c.bench_function("proof/inclusion_1e6_tiles", |bch| {
        bch.iter_batched(
            || rng.gen_range(0..N),
            |i| inclusion_proof(i, N, &reader).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
