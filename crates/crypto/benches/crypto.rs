//! Sign/verify per algorithm, and SD-JWT VC issue/verify of the 12-claim driving-licence
//! workload (testdata/bench_driving_license_claims.json), per algorithm.

use criterion::{criterion_group, criterion_main, Criterion};
use elicense_crypto::sdjwt::{self, Issuance, KbPolicy};
use elicense_crypto::{Alg, KeyPair, Signer};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

fn workload() -> Issuance {
    let text = include_str!("../testdata/bench_driving_license_claims.json");
    let v: Value = serde_json::from_str(text).unwrap();
    Issuance {
        plain: v["plain"].as_object().unwrap().clone(),
        selective: v["sd"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        holder_jwk: None,
        decoys: 0,
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let msg = vec![0x5a_u8; 700]; // about the size of a credential's signing input
    let issuance = workload();
    for alg in Alg::ALL {
        let key = KeyPair::generate(alg, &mut rng);
        let verifier = key.verifier();
        let sig = key.sign(&msg).unwrap();
        c.bench_function(&format!("sign/{}", alg.cli_name()), |b| {
            b.iter(|| key.sign(&msg).unwrap())
        });
        c.bench_function(&format!("verify/{}", alg.cli_name()), |b| {
            b.iter(|| verifier.verify(&msg, &sig).unwrap())
        });

        c.bench_function(&format!("sdjwt_issue_12/{}", alg.cli_name()), |b| {
            b.iter(|| sdjwt::issue(&key, &issuance, &mut rng).unwrap())
        });
        let cred = sdjwt::issue(&key, &issuance, &mut rng).unwrap();
        let policy = KbPolicy::none(1_767_225_700);
        c.bench_function(&format!("sdjwt_verify_12/{}", alg.cli_name()), |b| {
            b.iter(|| {
                let v = sdjwt::parse(&cred)
                    .unwrap()
                    .verify(&*verifier, &policy)
                    .unwrap();
                assert!(v.is_valid());
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
