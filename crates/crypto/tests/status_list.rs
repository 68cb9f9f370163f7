//! Token Status List: the draft's examples byte for byte, bounds, the compression
//! property at national scale, and signed tokens for every algorithm.

mod common;

use std::io::Write;

use elicense_crypto::status_list::{self, StatusList};
use elicense_crypto::{b64, jws, Alg, KeyPair, Signer};
use rand::Rng;

const ONE_BIT: [u8; 16] = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
const TWO_BIT: [u8; 12] = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];

fn list(bits: u8, values: &[u8]) -> StatusList {
    let mut l = StatusList::new(bits, values.len()).unwrap();
    for (i, v) in values.iter().enumerate() {
        l.set(i, *v).unwrap();
    }
    l
}

#[test]
fn draft_examples_encode_and_decode_exactly() {
    let one = list(1, &ONE_BIT);
    assert_eq!(one.as_bytes(), [0xB9, 0xA3]);
    assert_eq!(one.encode_lst(), "eNrbuRgAAhcBXQ");
    let d = StatusList::decode(1, "eNrbuRgAAhcBXQ").unwrap();
    assert_eq!(d.len(), 16);
    assert_eq!(
        (0..16).map(|i| d.get(i).unwrap()).collect::<Vec<_>>(),
        ONE_BIT
    );

    let two = list(2, &TWO_BIT);
    assert_eq!(two.as_bytes(), [0xC9, 0x44, 0xF9]);
    assert_eq!(two.encode_lst(), "eNo76fITAAPfAgc");
    let d = StatusList::decode(2, "eNo76fITAAPfAgc").unwrap();
    assert_eq!(d.len(), 12);
    assert_eq!(
        (0..12).map(|i| d.get(i).unwrap()).collect::<Vec<_>>(),
        TWO_BIT
    );
    assert_eq!(d.get(12), None);
}

#[test]
fn all_widths_round_trip() {
    let mut rng = common::rng(1100);
    for bits in [1u8, 2, 4, 8] {
        let max = ((1u16 << bits) - 1) as u8;
        let values: Vec<u8> = (0..1000).map(|_| rng.gen_range(0..=max)).collect();
        let l = list(bits, &values);
        assert_eq!(l.bits(), bits);
        let back = StatusList::decode(bits, &l.encode_lst()).unwrap();
        assert!(back.len() >= values.len());
        for (i, v) in values.iter().enumerate() {
            assert_eq!(back.get(i), Some(*v));
        }
        let mut l = l;
        if bits < 8 {
            assert_eq!(
                l.set(0, max + 1).unwrap_err().code(),
                "statuslist.bad_value"
            );
        }
        assert_eq!(
            l.set(1000, 0).unwrap_err().code(),
            "statuslist.out_of_range"
        );
    }
}

#[test]
fn bad_inputs_give_stable_codes() {
    assert_eq!(
        StatusList::new(3, 10).unwrap_err().code(),
        "statuslist.bad_bits"
    );
    assert_eq!(
        StatusList::decode(16, "eNrbuRgAAhcBXQ").unwrap_err().code(),
        "statuslist.bad_bits"
    );
    assert_eq!(
        StatusList::decode(1, "eNrbuRgAAhcBXQ==")
            .unwrap_err()
            .code(),
        "statuslist.malformed"
    );
    assert_eq!(
        StatusList::decode(1, "eNrbuRgAAhcB").unwrap_err().code(),
        "statuslist.malformed"
    );
    assert_eq!(
        StatusList::decode(1, &b64::encode(b"\x01\x02\x03"))
            .unwrap_err()
            .code(),
        "statuslist.malformed"
    );
    assert_eq!(
        StatusList::new(1, usize::MAX).unwrap_err().code(),
        "statuslist.too_large"
    );
}

#[test]
fn inflate_is_bounded() {
    // 65 MiB of zeros compress to ~65 KB: a decompression bomb for the verifier.
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..65 {
        enc.write_all(&chunk).unwrap();
    }
    let bomb = b64::encode(&enc.finish().unwrap());
    assert_eq!(
        StatusList::decode(1, &bomb).unwrap_err().code(),
        "statuslist.too_large"
    );
}

#[test]
fn million_entries_one_percent_revoked_fit_in_20_kb() {
    let mut rng = common::rng(1200);
    let mut l = StatusList::new(1, 1_000_000).unwrap();
    let mut set = 0;
    while set < 10_000 {
        let i = rng.gen_range(0..1_000_000);
        if l.get(i) == Some(0) {
            l.set(i, 1).unwrap();
            set += 1;
        }
    }
    let size = l.compressed_len();
    assert!(size <= 20 * 1024, "compressed to {size} bytes");
    let back = StatusList::decode(1, &l.encode_lst()).unwrap();
    assert_eq!(back.as_bytes(), l.as_bytes());
}

#[test]
fn signed_token_round_trip_all_algs() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let key = KeyPair::generate(alg, &mut common::rng(1300 + i as u64));
        let l = list(2, &TWO_BIT);
        let payload = status_list::token_payload(
            &l,
            "https://dzzz.example.cn/status/1",
            1_767_225_600,
            Some(1_767_312_000),
            Some(43_200),
        );
        assert_eq!(payload["status_list"]["lst"], "eNo76fITAAPfAgc");
        assert_eq!(payload["ttl"], 43_200);
        let token = jws::sign(&key, &status_list::token_header(alg, key.kid()), &payload).unwrap();
        let (parsed, back) = status_list::parse_token(&token).unwrap();
        parsed.verify_with(&*key.verifier()).unwrap();
        assert_eq!(parsed.header.typ.as_deref(), Some("statuslist+jwt"));
        assert_eq!(back.get(3), Some(3));

        let no_opt = status_list::token_payload(&l, "s", 1, None, None);
        assert!(no_opt.get("exp").is_none() && no_opt.get("ttl").is_none());

        let wrong_typ = jws::sign(&key, &jws::Header::new(alg).with_typ("JWT"), &payload).unwrap();
        assert_eq!(
            status_list::parse_token(&wrong_typ).unwrap_err().code(),
            "statuslist.bad_typ"
        );
        let empty = jws::sign(
            &key,
            &status_list::token_header(alg, key.kid()),
            &serde_json::json!({"sub": "s"}),
        )
        .unwrap();
        assert_eq!(
            status_list::parse_token(&empty).unwrap_err().code(),
            "statuslist.malformed"
        );
        assert_eq!(
            status_list::parse_token("x.y").unwrap_err().code(),
            "jws.malformed"
        );
    }
}
