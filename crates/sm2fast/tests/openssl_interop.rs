//! Interop with the OpenSSL 3 command line (`pkeyutl -rawin -digest sm3 -pkeyopt distid:…`):
//! OpenSSL verifies our signatures, and we verify OpenSSL's, with its keys and with ours.
//! The tests fail (never skip) when `openssl` is missing.

#[path = "../../crypto/tests/common/mod.rs"]
mod common;

use std::path::Path;

use common::{der_to_rs, rs_to_der, run};
use elicense_sm2::{SigningKey, VerifyingKey, DEFAULT_ID};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// OID 1.2.156.10197.1.301 (SM2 curve), DER.
const SM2_OID: [u8; 10] = [0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D];

/// SubjectPublicKeyInfo (id-ecPublicKey, curve SM2) in DER.
fn spki_der(point: &[u8; 65]) -> Vec<u8> {
    let mut v = vec![0x30, 0x59, 0x30, 0x13];
    v.extend([0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]);
    v.extend(SM2_OID);
    v.extend([0x03, 0x42, 0x00]);
    v.extend(point);
    v
}

/// SEC 1 `ECPrivateKey` (RFC 5915) with the curve and public key, DER.
fn ec_private_key_der(d: &[u8; 32], point: &[u8; 65]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x01, 0x04, 0x20];
    body.extend(d);
    body.extend([0xA0, 0x0A]);
    body.extend(SM2_OID);
    body.extend([0xA1, 0x44, 0x03, 0x42, 0x00]);
    body.extend(point);
    let mut v = vec![0x30, body.len() as u8];
    v.extend(body);
    v
}

fn digest_args(id: &str) -> Vec<String> {
    vec![
        "-digest".into(),
        "sm3".into(),
        "-pkeyopt".into(),
        format!("distid:{id}"),
    ]
}

#[test]
fn openssl_verifies_our_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(100);
    for (n, id) in ["1234567812345678", "ALICE123@YAHOO.COM", "issuer-7"]
        .into_iter()
        .enumerate()
    {
        let key = SigningKey::random(&mut rng);
        let point = key.verifying_key().to_sec1_uncompressed();
        std::fs::write(dir.path().join("pub.der"), spki_der(&point)).unwrap();
        let msg = format!("电子证照 message {n} signed as {id}");
        std::fs::write(dir.path().join("msg"), &msg).unwrap();
        let sig = key.sign(id.as_bytes(), msg.as_bytes(), &mut rng).unwrap();
        std::fs::write(dir.path().join("sig"), rs_to_der(&sig)).unwrap();
        let mut args: Vec<String> = [
            "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "pub.der", "-rawin",
        ]
        .map(String::from)
        .to_vec();
        args.extend(digest_args(id));
        args.extend(["-in", "msg", "-sigfile", "sig"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = run(&args, dir.path());
        assert!(
            ok && out.contains("Signature Verified Successfully"),
            "{id}: {out}"
        );

        // A tampered message is refused by OpenSSL too.
        std::fs::write(dir.path().join("msg"), format!("{msg}!")).unwrap();
        let (ok, _) = run(&args, dir.path());
        assert!(!ok, "{id}: OpenSSL accepted a tampered message");
    }
}

fn openssl_sign(dir: &Path, key_args: &[&str], id: &str, msg: &str) -> [u8; 64] {
    std::fs::write(dir.join("msg"), msg).unwrap();
    let mut args: Vec<String> = ["pkeyutl", "-sign"].map(String::from).to_vec();
    args.extend(key_args.iter().map(|s| s.to_string()));
    args.push("-rawin".into());
    args.extend(digest_args(id));
    args.extend(["-in", "msg", "-out", "sig"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out) = run(&args, dir);
    assert!(ok, "{out}");
    der_to_rs(&std::fs::read(dir.join("sig")).unwrap())
        .try_into()
        .expect("64 bytes")
}

#[test]
fn we_verify_signatures_by_openssl_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:SM2",
            "-out",
            "key.pem",
        ],
        dir.path(),
    );
    assert!(ok, "{out}");
    let (ok, out) = run(
        &[
            "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
        ],
        dir.path(),
    );
    assert!(ok, "{out}");
    let spki = std::fs::read(dir.path().join("pub.der")).unwrap();
    let point: [u8; 65] = spki[spki.len() - 65..].try_into().unwrap();
    assert_eq!(spki, spki_der(&point), "OpenSSL writes the SPKI we expect");
    let vk = VerifyingKey::from_sec1_uncompressed(&point).unwrap();
    for (n, id) in ["1234567812345678", "ALICE123@YAHOO.COM"]
        .into_iter()
        .enumerate()
    {
        let msg = format!("signed by OpenSSL, {n}");
        let sig = openssl_sign(dir.path(), &["-inkey", "key.pem"], id, &msg);
        assert_eq!(vk.verify(id.as_bytes(), msg.as_bytes(), &sig), Ok(()));
        assert!(vk.verify(id.as_bytes(), b"other", &sig).is_err());
        assert!(vk.verify(b"other id", msg.as_bytes(), &sig).is_err());
    }
}

#[test]
fn openssl_signs_with_our_key_and_derives_our_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(101);
    let key = SigningKey::random(&mut rng);
    let point = key.verifying_key().to_sec1_uncompressed();
    std::fs::write(
        dir.path().join("key.der"),
        ec_private_key_der(&key.to_bytes(), &point),
    )
    .unwrap();
    // OpenSSL reads the secret and computes the same public key.
    let (ok, out) = run(
        &[
            "pkey", "-inform", "DER", "-in", "key.der", "-pubout", "-outform", "DER", "-out",
            "pub.der",
        ],
        dir.path(),
    );
    assert!(ok, "{out}");
    let spki = std::fs::read(dir.path().join("pub.der")).unwrap();
    assert_eq!(spki, spki_der(&point));
    let msg = "许可证 signed by OpenSSL with our key";
    let sig = openssl_sign(
        dir.path(),
        &["-keyform", "DER", "-inkey", "key.der"],
        "1234567812345678",
        msg,
    );
    let prepared = key.verifying_key().with_id(DEFAULT_ID).unwrap();
    assert_eq!(prepared.verify(msg.as_bytes(), &sig), Ok(()));
}
