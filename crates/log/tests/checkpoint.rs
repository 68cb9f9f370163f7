//! Checkpoints: the published examples, canonical parsing, signing and opening.

use elicense_crypto::{Alg, KeyPair};
use elicense_log::checkpoint::{Checkpoint, VerifiedCheckpoint};
use elicense_log::hash::{leaf_hash, Hash};
use elicense_log::note::{NoteSigner, Verifiers};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// golang.org/x/mod/sumdb/tlog note_test.go: root = RecordHash("hello world").
const GO_TREE: &str =
    "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n";
/// c2sp.org/tlog-checkpoint example body.
const C2SP: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

#[test]
fn published_examples() {
    let cp = Checkpoint::new(
        "go.sum database tree",
        123_456_789_012,
        leaf_hash(b"hello world"),
    )
    .unwrap();
    assert_eq!(cp.to_text(), GO_TREE);
    assert_eq!(Checkpoint::parse(GO_TREE).unwrap(), cp);
    let c = Checkpoint::parse(C2SP).unwrap();
    assert_eq!(
        (c.origin(), c.size()),
        ("example.com/behind-the-sofa", 20_852_163)
    );
    assert_eq!(c.to_text(), C2SP);
}

#[test]
fn extensions_round_trip() {
    let cp = Checkpoint::new("log.example.cn/4401", 0, Hash::default())
        .unwrap()
        .with_extension("area 440100")
        .unwrap();
    assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    assert!(cp.clone().with_extension("").is_err());
    assert!(cp.with_extension("two\nlines").is_err());
    assert!(Checkpoint::new("", 1, Hash::default()).is_err());
}

#[test]
fn malformed_checkpoints() {
    let root = "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=";
    for bad in [
        String::new(),
        "\n".into(),
        format!("o\n1\n{root}"),
        format!("\n1\n{root}\n"),
        format!("o\n\n{root}\n"),
        format!("o\n01\n{root}\n"),
        format!("o\n+1\n{root}\n"),
        format!("o\n0x1\n{root}\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("o\n1 \n{root}\n"),
        "o\n1\n\n".into(),
        "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n".into(),
        "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0\n".into(),
        "o\n1\nTszzRgjTG6xce-z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n".into(),
        "o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb1=\n".into(),
        "o\n1\nAAAA\n".into(),
        format!("o\n1\n{root}\n\n"),
        format!("o\n1\n{root}\next\n\n"),
        format!("o\r\n1\n{root}\n"),
        format!("not-{GO_TREE}x"),
    ] {
        let e = Checkpoint::parse(&bad).unwrap_err();
        assert_eq!(e.code(), "checkpoint.malformed", "{bad:?}");
    }
    assert_eq!(
        Checkpoint::parse(&format!("o\n0\n{root}\n"))
            .unwrap()
            .size(),
        0
    );
    assert_eq!(
        Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\n"))
            .unwrap()
            .size(),
        u64::MAX
    );
}

#[test]
fn signed_checkpoint_opens_only_for_its_origin_and_keys() {
    let mut rng = StdRng::seed_from_u64(11);
    let origin = "log.example.cn/4401";
    let ed = NoteSigner::from_keypair(origin, KeyPair::generate(Alg::EdDSA, &mut rng)).unwrap();
    let sm = NoteSigner::from_keypair(origin, KeyPair::generate(Alg::Sm2, &mut rng)).unwrap();
    let cp = Checkpoint::new(origin, 42, leaf_hash(b"root")).unwrap();
    let msg = cp.sign(&[&ed, &sm]).unwrap();
    let known = Verifiers::new([ed.verifier_key()]).unwrap();
    let v = VerifiedCheckpoint::open(msg.as_bytes(), origin, &known).unwrap();
    assert_eq!(v.checkpoint(), &cp);
    assert_eq!(v.note().unknown().count(), 1);
    let e = VerifiedCheckpoint::open(msg.as_bytes(), "other.example.cn", &known).unwrap_err();
    assert_eq!(e.code(), "checkpoint.wrong_origin");
    let e = VerifiedCheckpoint::open(msg.as_bytes(), origin, &Verifiers::default()).unwrap_err();
    assert_eq!(e.code(), "note.unverified");
    // A signed note whose text is not a checkpoint.
    let msg = elicense_log::note::sign("just text\n", &[&ed]).unwrap();
    let e = VerifiedCheckpoint::open(msg.as_bytes(), origin, &known).unwrap_err();
    assert_eq!(e.code(), "checkpoint.malformed");
}

proptest! {
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        if let Ok(cp) = Checkpoint::parse(&s) {
            prop_assert_eq!(cp.to_text(), s);
        }
    }

    #[test]
    fn line_shaped_input_never_panics(s in "[a-z]{0,3}\n[0-9]{0,21}\n[A-Za-z0-9+/=]{0,46}\n([a-z ]{0,3}\n){0,2}") {
        if let Ok(cp) = Checkpoint::parse(&s) {
            prop_assert_eq!(cp.to_text(), s);
        }
    }

    #[test]
    fn round_trip(origin in "[a-z./0-9]{1,30}", size in any::<u64>(), root in any::<[u8; 32]>()) {
        let cp = Checkpoint::new(&origin, size, Hash(root)).unwrap();
        prop_assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    }
}
