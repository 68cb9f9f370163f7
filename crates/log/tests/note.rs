//! Signed notes: the Go sumdb/note example as a vector, Ed25519 + SM2 signatures on one
//! note, unknown signers, tampering and malformed input.

use elicense_crypto::{Alg, KeyPair};
use elicense_log::note::{
    open, sign, NoteError, NotePublicKey, NoteSigner, SignedNote, VerifierKey, Verifiers,
    MAX_SIGNATURES, SM2_KEY_TYPE,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";

fn example(key: &str) -> String {
    include_str!("../testdata/go_note_example.txt")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap()
        .to_owned()
}

fn go_msg() -> String {
    format!("{TEXT}\n{}\n", example("sig"))
}

fn go_verifiers() -> Verifiers {
    Verifiers::new([VerifierKey::parse(&example("vkey")).unwrap()]).unwrap()
}

#[test]
fn go_example_verifier_key() {
    let vkey = example("vkey");
    let k = VerifierKey::parse(&vkey).unwrap();
    assert_eq!(k.name(), "PeterNeumann");
    assert_eq!(k.key_id(), 0xc74f20a3);
    assert!(matches!(k.public(), NotePublicKey::Ed25519(_)));
    assert_eq!(k.to_string(), vkey);
}

#[test]
fn go_example_note_opens() {
    let n = open(go_msg().as_bytes(), &go_verifiers()).unwrap();
    assert_eq!(n.text(), TEXT);
    let v: Vec<_> = n.verified().collect();
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].name(), v[0].key_id()), ("PeterNeumann", 0xc74f20a3));
    assert_eq!(n.unknown().count(), 0);
}

#[test]
fn go_example_signer_reproduces_the_signature() {
    let signer = NoteSigner::from_private_key_string(&example("skey")).unwrap();
    assert_eq!(signer.verifier_key().to_string(), example("vkey"));
    assert_eq!(sign(TEXT, &[&signer]).unwrap(), go_msg());
    assert!(
        !format!("{signer:?}").contains("AYEKF"),
        "no key material in Debug"
    );
}

#[test]
fn go_example_cosigned_note_reports_the_unknown_signer() {
    let msg = format!("{TEXT}\n{}\n{}\n", example("sig"), example("cosig"));
    let n = open(msg.as_bytes(), &go_verifiers()).unwrap();
    assert_eq!(n.verified().count(), 1);
    let unknown: Vec<_> = n.unknown().map(|s| s.name().to_owned()).collect();
    assert_eq!(unknown, ["EnochRoot"]);
    let e = open(msg.as_bytes(), &Verifiers::default()).unwrap_err();
    assert_eq!(e.code(), "note.unverified");
    let NoteError::Unverified { unknown } = e else {
        panic!()
    };
    assert_eq!(unknown.len(), 2);
}

#[test]
fn tampered_text_or_signature_is_rejected() {
    let msg = go_msg().replace("cryptography", "cryptograph ");
    let e = open(msg.as_bytes(), &go_verifiers()).unwrap_err();
    assert_eq!(e.code(), "note.bad_signature");
    // A key that shares the name but not the ID is an unknown key, not a failure.
    let other = NoteSigner::from_keypair("PeterNeumann", ed25519(9)).unwrap();
    let msg = sign(TEXT, &[&other]).unwrap();
    assert_eq!(
        open(msg.as_bytes(), &go_verifiers()).unwrap_err().code(),
        "note.unverified"
    );
}

fn ed25519(seed: u64) -> KeyPair {
    KeyPair::generate(Alg::EdDSA, &mut StdRng::seed_from_u64(seed))
}

fn sm2(seed: u64) -> KeyPair {
    KeyPair::generate(Alg::Sm2, &mut StdRng::seed_from_u64(seed))
}

#[test]
fn ed25519_and_sm2_sign_one_note() {
    let ed = NoteSigner::from_keypair("log.example.cn/44", ed25519(1)).unwrap();
    let sm = NoteSigner::from_keypair("log.example.cn/44", sm2(2)).unwrap();
    let msg = sign("hello\n", &[&ed, &sm]).unwrap();
    let both = Verifiers::new([ed.verifier_key(), sm.verifier_key()]).unwrap();
    assert_eq!(open(msg.as_bytes(), &both).unwrap().verified().count(), 2);
    for only in [ed.verifier_key(), sm.verifier_key()] {
        let v = Verifiers::new([only]).unwrap();
        let n = open(msg.as_bytes(), &v).unwrap();
        assert_eq!((n.verified().count(), n.unknown().count()), (1, 1));
    }
    // The SM2 verifier key string: private-use type prefix, 65-byte point, checked ID.
    let s = sm.verifier_key().to_string();
    let parsed = VerifierKey::parse(&s).unwrap();
    let NotePublicKey::Sm2(point) = parsed.public() else {
        panic!("not SM2")
    };
    assert_eq!(point[0], 0x04);
    let mut h = Sha256::new();
    h.update(b"log.example.cn/44\n");
    h.update(SM2_KEY_TYPE);
    h.update(point);
    assert_eq!(parsed.key_id().to_be_bytes(), h.finalize()[..4]);
    // A bad SM2 signature by a known key rejects the whole note.
    let forged = msg.replace("hello", "hallo");
    assert_eq!(
        open(forged.as_bytes(), &both).unwrap_err().code(),
        "note.bad_signature"
    );
}

#[test]
fn cosigning_appends_a_line() {
    let child = NoteSigner::from_keypair("city.example.cn", ed25519(3)).unwrap();
    let parent = NoteSigner::from_keypair("province.example.cn", sm2(4)).unwrap();
    let msg = sign("checkpoint\n", &[&child]).unwrap();
    let n = open(
        msg.as_bytes(),
        &Verifiers::new([child.verifier_key()]).unwrap(),
    )
    .unwrap();
    let cosigned = n.cosign(&parent).unwrap();
    assert!(cosigned.starts_with(&msg));
    let both = Verifiers::new([child.verifier_key(), parent.verifier_key()]).unwrap();
    assert_eq!(
        open(cosigned.as_bytes(), &both).unwrap().verified().count(),
        2
    );
    assert_eq!(n.cosign(&child).unwrap_err().code(), "note.malformed");
}

#[test]
fn keys_are_checked() {
    let vkey = example("vkey");
    let cases = [
        ("", "note.bad_key"),
        ("PeterNeumann", "note.bad_key"),
        ("PeterNeumann+c74f20a3", "note.bad_key"),
        (
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "note.bad_name",
        ),
        (
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "note.key_id_mismatch",
        ),
        (
            "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "note.bad_key",
        ),
        (
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
            "note.bad_key",
        ),
        (
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "note.bad_name",
        ),
        (
            "PeterNeumann+c74f20a3+ApRcnZBxQ8OExB6DDFvOEqqIF+xWSaqr8sMTiLNbLXRM",
            "note.unsupported_key_type",
        ),
    ];
    for (s, code) in cases {
        assert_eq!(VerifierKey::parse(s).unwrap_err().code(), code, "{s:?}");
    }
    let k = || VerifierKey::parse(&vkey).unwrap();
    assert_eq!(
        Verifiers::new([k(), k()]).unwrap_err().code(),
        "note.duplicate_key"
    );
}

#[test]
fn malformed_notes_are_rejected() {
    let sig = example("sig");
    let cases: Vec<String> = vec![
        String::new(),
        TEXT.to_owned(),
        format!("{TEXT}{sig}\n"),
        format!("{TEXT}\n{sig}"),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{sig}\n\n"),
        format!("{TEXT}\n{}\n", sig.replacen('—', "-", 1)),
        format!("{TEXT}\n{}\n", sig.replacen(' ', "  ", 1)),
        format!("{TEXT}\n{}\n", sig.trim_end_matches('=')),
        format!("{TEXT}\n— PeterNeumann AAAAAA==\n"),
        format!("{TEXT}\n{sig}\n{sig}\n"),
        format!("{TEXT}\r\n{sig}\n"),
        format!("tab\there\n\n{sig}\n"),
    ];
    for msg in &cases {
        let e = SignedNote::parse(msg.as_bytes()).unwrap_err();
        assert_eq!(e.code(), "note.malformed", "{msg:?}");
    }
    assert!(SignedNote::parse(b"a\n\n\xff\n").is_err());
    let many: String = (0..=MAX_SIGNATURES)
        .map(|i| format!("— k{i} AAAAAAA=\n"))
        .collect();
    let e = SignedNote::parse(format!("t\n\n{many}").as_bytes()).unwrap_err();
    assert_eq!(e.code(), "note.too_many_signatures");
    let sixteen: String = (0..16).map(|i| format!("— k{i} AAAAAAA=\n")).collect();
    assert_eq!(
        SignedNote::parse(format!("t\n\n{sixteen}").as_bytes())
            .unwrap()
            .signatures()
            .len(),
        16
    );
    // Text with blank lines: the last blank line separates the signatures.
    let ed = NoteSigner::from_keypair("k", ed25519(5)).unwrap();
    let msg = sign("a\n\nb\n", &[&ed]).unwrap();
    let v = Verifiers::new([ed.verifier_key()]).unwrap();
    assert_eq!(open(msg.as_bytes(), &v).unwrap().text(), "a\n\nb\n");
    assert_eq!(
        sign("no newline", &[&ed]).unwrap_err().code(),
        "note.malformed"
    );
    assert_eq!(sign("x\n", &[]).unwrap_err().code(), "note.malformed");
}

proptest! {
    #[test]
    fn note_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = SignedNote::parse(&bytes);
        let _ = open(&bytes, &go_verifiers());
    }

    #[test]
    fn mutated_go_note_never_panics(pos in any::<usize>(), byte in any::<u8>()) {
        let mut msg = go_msg().into_bytes();
        let at = pos % msg.len();
        msg[at] = byte;
        let _ = open(&msg, &go_verifiers());
        msg.truncate(at);
        prop_assert!(open(&msg, &go_verifiers()).is_err());
    }

    #[test]
    fn key_parsing_never_panics(s in any::<String>()) {
        let _ = VerifierKey::parse(&s);
        let _ = NoteSigner::from_private_key_string(&s);
    }

    #[test]
    fn parsed_notes_print_back(text in "[a-z \n]{0,40}\n", names in prop::collection::btree_set("[a-z.]{1,8}", 1..4)) {
        let signers: Vec<_> = names.iter().enumerate()
            .map(|(i, n)| NoteSigner::from_keypair(n, ed25519(i as u64)).unwrap()).collect();
        let refs: Vec<_> = signers.iter().collect();
        let msg = sign(&text, &refs).unwrap();
        prop_assert_eq!(SignedNote::parse(msg.as_bytes()).unwrap().to_text(), msg.clone());
        let v = Verifiers::new(signers.iter().map(NoteSigner::verifier_key)).unwrap();
        let opened = open(msg.as_bytes(), &v).unwrap();
        prop_assert_eq!(opened.text(), text);
    }
}
