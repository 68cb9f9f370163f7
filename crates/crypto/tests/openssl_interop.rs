//! Interop with the OpenSSL 3 command line: our signatures verify in OpenSSL, OpenSSL's
//! verify with us, and OpenSSL reads our encrypted PKCS#8 files (and we read its).
//! The tests fail (never skip) when `openssl` is missing.

mod common;

use common::{der_to_rs, rs_to_der, run};
use elicense_crypto::{Alg, KeyPair, Signer, SM2_DEFAULT_SIGNER_ID};

const PASSWORD: &str = "s3cret-口令";

fn digest_args(alg: Alg) -> Vec<&'static str> {
    match alg {
        Alg::Sm2 => vec!["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"],
        Alg::Es256 => vec!["-digest", "sha256"],
        Alg::EdDSA => vec![],
    }
}

fn to_openssl_sig(alg: Alg, sig: &[u8]) -> Vec<u8> {
    match alg {
        Alg::EdDSA => sig.to_vec(),
        _ => rs_to_der(sig),
    }
}

fn from_openssl_sig(alg: Alg, sig: &[u8]) -> Vec<u8> {
    match alg {
        Alg::EdDSA => sig.to_vec(),
        _ => der_to_rs(sig),
    }
}

#[test]
fn openssl_verifies_our_signatures() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate(alg, &mut common::rng(200 + i as u64));
        std::fs::write(dir.path().join("pub.pem"), key.public_spki_pem()).unwrap();
        for n in 0..4 {
            let msg = format!("电子证照 message {n} for {alg:?}");
            std::fs::write(dir.path().join("msg"), &msg).unwrap();
            let sig = key.sign(msg.as_bytes()).unwrap();
            std::fs::write(dir.path().join("sig"), to_openssl_sig(alg, &sig)).unwrap();
            let mut args = vec![
                "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
            ];
            args.extend(digest_args(alg));
            args.extend(["-in", "msg", "-sigfile", "sig"]);
            let (ok, out) = run(&args, dir.path());
            assert!(
                ok && out.contains("Signature Verified Successfully"),
                "{alg:?}: {out}"
            );

            // And a tampered message is rejected by OpenSSL too.
            std::fs::write(dir.path().join("msg"), format!("{msg}!")).unwrap();
            let (ok, _) = run(&args, dir.path());
            assert!(!ok, "{alg:?}: OpenSSL accepted a tampered message");
        }
    }
}

#[test]
fn openssl_reads_our_encrypted_keys_and_signs_for_us() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = common::rng(300 + i as u64);
        let key = KeyPair::generate(alg, &mut rng);
        std::fs::write(
            dir.path().join("key.pem"),
            key.to_encrypted_pem(PASSWORD.as_bytes(), &mut rng).unwrap(),
        )
        .unwrap();
        let pass = format!("pass:{PASSWORD}");

        // OpenSSL decrypts it and derives the same public key.
        let (ok, out) = run(
            &["pkey", "-in", "key.pem", "-passin", &pass, "-pubout"],
            dir.path(),
        );
        assert!(ok, "{alg:?}: {out}");
        assert_eq!(out, key.public_spki_pem(), "{alg:?}");
        let (ok, _) = run(
            &["pkey", "-in", "key.pem", "-passin", "pass:wrong", "-pubout"],
            dir.path(),
        );
        assert!(!ok);

        // OpenSSL signs with it; we verify.
        let msg = format!("signed by OpenSSL with {alg:?}");
        std::fs::write(dir.path().join("msg"), &msg).unwrap();
        let mut args = vec![
            "pkeyutl", "-sign", "-inkey", "key.pem", "-passin", &pass, "-rawin",
        ];
        args.extend(digest_args(alg));
        args.extend(["-in", "msg", "-out", "sig"]);
        let (ok, out) = run(&args, dir.path());
        assert!(ok, "{alg:?}: {out}");
        let sig = from_openssl_sig(alg, &std::fs::read(dir.path().join("sig")).unwrap());
        key.verifier().verify(msg.as_bytes(), &sig).unwrap();
    }
}

#[test]
fn we_read_keys_generated_by_openssl() {
    for (alg, genargs) in [
        (
            Alg::Sm2,
            vec!["genpkey", "-algorithm", "SM2", "-out", "plain.pem"],
        ),
        (
            Alg::Es256,
            vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "plain.pem",
            ],
        ),
        (
            Alg::EdDSA,
            vec!["genpkey", "-algorithm", "ED25519", "-out", "plain.pem"],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (ok, out) = run(&genargs, dir.path());
        assert!(ok, "{out}");
        let pass = format!("pass:{PASSWORD}");
        let (ok, out) = run(
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-in",
                "plain.pem",
                "-out",
                "enc.pem",
                "-passout",
                &pass,
            ],
            dir.path(),
        );
        assert!(ok, "{out}");
        let pem = std::fs::read_to_string(dir.path().join("enc.pem")).unwrap();
        let key = KeyPair::from_encrypted_pem(&pem, PASSWORD.as_bytes()).unwrap();
        assert_eq!(key.alg(), alg);
        assert_eq!(key.sm2_signer_id(), SM2_DEFAULT_SIGNER_ID);

        // Same public key as OpenSSL derives; OpenSSL verifies our signature with it.
        let (ok, spki) = run(&["pkey", "-in", "plain.pem", "-pubout"], dir.path());
        assert!(ok);
        assert_eq!(spki, key.public_spki_pem(), "{alg:?}");
        std::fs::write(dir.path().join("pub.pem"), spki).unwrap();
        std::fs::write(dir.path().join("msg"), b"hello").unwrap();
        std::fs::write(
            dir.path().join("sig"),
            to_openssl_sig(alg, &key.sign(b"hello").unwrap()),
        )
        .unwrap();
        let mut args = vec![
            "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
        ];
        args.extend(digest_args(alg));
        args.extend(["-in", "msg", "-sigfile", "sig"]);
        let (ok, out) = run(&args, dir.path());
        assert!(
            ok && out.contains("Signature Verified Successfully"),
            "{alg:?}: {out}"
        );
    }
}
