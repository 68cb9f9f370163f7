//! C2SP `cosignature/v1`: a vector derived by hand from the spec (the signed message
//! written out byte for byte, signed with plain Ed25519), the spec's example line, and
//! properties: a cosignature verifies, any changed byte of body, time or signature fails.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signer as _, SigningKey};
use elicense_crypto::{Alg, KeyPair};
use elicense_log::cosignature::{Cosignature, CosignatureError, Cosigner, CosignerKey};
use elicense_log::note::SignedNote;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const NAME: &str = "witness.example.com/w1";
const BODY: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const TIME: u64 = 1_679_315_147;

fn seed() -> [u8; 32] {
    std::array::from_fn(|i| i as u8 + 1)
}

fn cosigner() -> Cosigner {
    let sk = SigningKey::from_bytes(&seed());
    let der = sk.to_pkcs8_der().unwrap();
    let pair = KeyPair::from_pkcs8_der(der.as_bytes()).unwrap();
    let key = CosignerKey::new(NAME, sk.verifying_key().to_bytes()).unwrap();
    Cosigner::new(key, Arc::new(pair)).unwrap()
}

#[test]
fn hand_derived_vector() {
    let sk = SigningKey::from_bytes(&seed());
    let public = sk.verifying_key().to_bytes();
    // Key ID: SHA-256(name || "\n" || 0x04 || key)[:4].
    let mut id_input = format!("{NAME}\n").into_bytes();
    id_input.push(0x04);
    id_input.extend_from_slice(&public);
    let id: [u8; 4] = Sha256::digest(&id_input)[..4].try_into().unwrap();
    // Signed message: the header line, the time line, then the checkpoint body.
    let msg = format!("cosignature/v1\ntime 1679315147\n{BODY}");
    let sig = sk.sign(msg.as_bytes()).to_bytes();
    let mut raw = id.to_vec();
    raw.extend_from_slice(&[0, 0, 0, 0, 0x64, 0x18, 0x50, 0xcb]);
    raw.extend_from_slice(&sig);
    let expected = format!("\u{2014} {NAME} {}\n", STANDARD.encode(&raw));

    let c = cosigner().cosign(BODY, TIME).unwrap();
    assert_eq!(c.line(), expected);
    assert_eq!(c.key_id(), u32::from_be_bytes(id));
    let vkey = format!(
        "{NAME}+{}+{}",
        hex::encode(id),
        STANDARD.encode([&[0x04][..], &public].concat())
    );
    let key = CosignerKey::parse(&vkey).unwrap();
    assert_eq!(key.vkey(), vkey);
    key.verify(BODY, &Cosignature::parse_line(&expected).unwrap())
        .unwrap();
}

#[test]
fn the_specs_example_line_parses() {
    // tlog-cosignature's example: key ID 8d66cf3f, time 1679315147 (its signed-message
    // example's time line).
    let line = "\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
    let c = Cosignature::parse_line(line).unwrap();
    assert_eq!(c.name(), NAME);
    assert_eq!(c.key_id(), 0x8d66_cf3f);
    assert_eq!(c.timestamp(), TIME);
    assert_eq!(c.line().trim_end(), line);
}

#[test]
fn keys_and_lines_are_strict() {
    let key = cosigner().key().clone();
    let v = key.vkey();
    // Base64 may hold `+`; the name and the hex key ID never do.
    let parts: Vec<&str> = v.splitn(3, '+').collect();
    let (name_id, b64) = (format!("{}+{}", parts[0], parts[1]), parts[2]);
    // Another type byte (0x01: a plain Ed25519 note key) is not a cosigner key.
    let mut material = STANDARD.decode(b64).unwrap();
    material[0] = 0x01;
    assert_eq!(
        CosignerKey::parse(&format!("{name_id}+{}", STANDARD.encode(&material)))
            .unwrap_err()
            .code(),
        "cosignature.bad_key"
    );
    let wrong_id = format!("{NAME}+00000000+{b64}");
    assert_eq!(
        CosignerKey::parse(&wrong_id).unwrap_err().code(),
        "cosignature.key_id_mismatch"
    );
    assert_eq!(
        CosignerKey::new("a b", [0; 32]).unwrap_err().code(),
        "cosignature.bad_name"
    );
    // A zero timestamp, or a plain (non-timestamped) signature, is not a cosignature.
    let mut raw = key.key_id().to_be_bytes().to_vec();
    raw.extend_from_slice(&[0u8; 72]);
    let zero = format!("\u{2014} {NAME} {}", STANDARD.encode(&raw));
    assert_eq!(
        Cosignature::parse_line(&zero).unwrap_err().code(),
        "cosignature.malformed"
    );
    raw.truncate(4 + 64);
    let short = format!("\u{2014} {NAME} {}", STANDARD.encode(&raw));
    assert!(Cosignature::parse_line(&short).is_err());
    assert!(cosigner().cosign(BODY, 0).is_err());
    assert!(cosigner().cosign(BODY, 1 << 63).is_err());
    assert!(cosigner().cosign("not a checkpoint\n", TIME).is_err());
}

#[test]
fn a_cosigner_holds_the_key_it_names() {
    let other = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    let key = cosigner().key().clone();
    assert_eq!(
        Cosigner::new(key.clone(), Arc::new(other))
            .unwrap_err()
            .code(),
        "cosignature.key_mismatch"
    );
    let sm2 = KeyPair::generate(Alg::Sm2, &mut rand::rngs::OsRng);
    assert_eq!(
        Cosigner::new(key, Arc::new(sm2)).unwrap_err().code(),
        "cosignature.wrong_alg"
    );
}

#[test]
fn verify_note_finds_the_line_among_others() {
    let c = cosigner();
    let cos = c.cosign(BODY, TIME).unwrap();
    let other = "\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let note = format!("{BODY}\n{other}{}", cos.line());
    let parsed = SignedNote::parse(note.as_bytes()).unwrap();
    assert_eq!(c.key().verify_note(&parsed).unwrap(), cos);
    let without = SignedNote::parse(format!("{BODY}\n{other}").as_bytes()).unwrap();
    assert!(matches!(
        c.key().verify_note(&without),
        Err(CosignatureError::WrongKey { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cosignatures_verify_and_any_change_fails(
        size in 0u64..1_000_000,
        root in proptest::array::uniform32(any::<u8>()),
        time in 1u64..=(i64::MAX as u64),
        which in 0usize..3,
        pos in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let body = format!("example.com/log\n{size}\n{}\n", STANDARD.encode(root));
        let c = cosigner();
        let cos = c.cosign(&body, time).unwrap();
        prop_assert!(c.key().verify(&body, &cos).is_ok());
        let line = cos.line();
        let raw = STANDARD.decode(line.trim_end().rsplit_once(' ').unwrap().1).unwrap();
        match which {
            0 => {
                // A changed byte of the checkpoint body.
                let mut b = body.clone().into_bytes();
                let i = pos.index(b.len());
                b[i] ^= flip;
                if let Ok(changed) = String::from_utf8(b) {
                    prop_assert!(c.key().verify(&changed, &cos).is_err());
                }
            }
            _ => {
                // A changed byte of the timestamp (which = 1) or of the signature (2).
                let i = if which == 1 { 4 + pos.index(8) } else { 12 + pos.index(64) };
                let mut r = raw.clone();
                r[i] ^= flip;
                let changed = format!("\u{2014} {NAME} {}", STANDARD.encode(&r));
                match Cosignature::parse_line(&changed) {
                    Ok(bad) => prop_assert!(c.key().verify(&body, &bad).is_err()),
                    Err(e) => prop_assert_eq!(e.code(), "cosignature.malformed"),
                }
            }
        }
    }
}
