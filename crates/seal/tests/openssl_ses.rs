//! Seal signatures judged by the OpenSSL 3 CLI: the signer's signature over the DER of
//! `TBS_Sign` and the maker's over the DER of `SES_SealInfo` verify with `openssl pkeyutl`
//! (SM2: SM3 and the default signer ID), and a signature OpenSSL makes over our `TBS_Sign`
//! verifies in our verifier.

mod common;

use common::*;
use der::asn1::BitString;
use der::Encode;
use elicense_crypto::Alg;
use elicense_seal::ses::{sign_data, verify_signature, Seal};
use elicense_seal::{data_hash, SigAlg};

fn digest_args(alg: Alg) -> Vec<&'static str> {
    match alg {
        Alg::Sm2 => vec!["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"],
        _ => vec!["-digest", "sha256"],
    }
}

fn pkeyutl_verifies(d: &std::path::Path, alg: Alg, pubkey: &str, msg: &[u8], sig: &[u8]) -> bool {
    write(d, "msg.der", msg);
    write(d, "sig.der", sig);
    let mut args = vec![
        "pkeyutl", "-verify", "-pubin", "-inkey", pubkey, "-rawin", "-in", "msg.der", "-sigfile",
        "sig.der",
    ];
    args.extend(digest_args(alg));
    let (good, out) = run(&args, d);
    assert_eq!(
        good,
        out.contains("Signature Verified Successfully"),
        "{out}"
    );
    good
}

#[test]
fn openssl_verifies_seal_and_signing_signatures_and_signs_for_us() {
    for alg in [Alg::Sm2, Alg::Es256] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = ca(alg);
        let (maker, maker_cert) = leaf(&ca, alg, 1);
        let (signer, signer_cert) = leaf(&ca, alg, 2);
        write(d, "maker.pub", maker.public_spki_pem().as_bytes());
        write(d, "signer.pub", signer.public_spki_pem().as_bytes());
        let seal = Seal::make(&info(vec![signer_cert.clone()]), &maker, &maker_cert).unwrap();
        let sigalg = SigAlg::for_key(alg).unwrap();
        let h = data_hash(sigalg, b"a document");
        let s = sign_data(&seal, &signer, &signer_cert, SIGNED, &h, "doc").unwrap();

        // The maker's signature over SES_SealInfo.
        let sealed = seal.signed_data();
        let maker_sig = seal.asn1().signed_value.raw_bytes();
        assert!(
            pkeyutl_verifies(d, alg, "maker.pub", &sealed, maker_sig),
            "{alg}"
        );
        let mut other = sealed.clone();
        let n = other.len();
        other[n - 1] ^= 1;
        assert!(
            !pkeyutl_verifies(d, alg, "maker.pub", &other, maker_sig),
            "{alg}"
        );
        // The signer's over TBS_Sign, which is exactly the record's first element.
        let tbs = s.signed_data();
        let der = s.to_der();
        assert!(der.windows(tbs.len()).any(|w| w == tbs.as_slice()));
        let sig = s.asn1().signature.raw_bytes();
        assert!(pkeyutl_verifies(d, alg, "signer.pub", &tbs, sig), "{alg}");
        assert!(!pkeyutl_verifies(d, alg, "maker.pub", &tbs, sig), "{alg}");

        // OpenSSL signs our TBS_Sign with the signer's key; our verifier accepts it.
        let pem = signer
            .to_encrypted_pem(b"pw", &mut rand::rngs::OsRng)
            .unwrap();
        write(d, "signer.key", pem.as_bytes());
        write(d, "tbs.der", &tbs);
        let mut args = vec![
            "pkeyutl",
            "-sign",
            "-inkey",
            "signer.key",
            "-passin",
            "pass:pw",
            "-rawin",
            "-in",
            "tbs.der",
            "-out",
            "ossl.sig",
        ];
        args.extend(digest_args(alg));
        ok(&args, d);
        let ossl = std::fs::read(d.join("ossl.sig")).unwrap();
        let mut asn1 = s.asn1().clone();
        asn1.signature = BitString::from_bytes(&ossl).unwrap();
        let theirs = asn1.to_der().unwrap();
        assert_ne!(theirs, der, "random nonces: another signature");
        let v = verify_signature(&theirs, &h, NOW).unwrap();
        assert!(v.is_valid(), "{alg}: {:?}", v.problems);
        // And over another message it does not verify.
        asn1.to_sign.property_info = der::asn1::Ia5String::new("other").unwrap();
        let v = verify_signature(&asn1.to_der().unwrap(), &h, NOW).unwrap();
        assert_eq!(v.problems[0].code(), "seal.signature_invalid", "{alg}");
    }
}
