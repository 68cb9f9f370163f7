//! Our seal CA judged by the OpenSSL 3 CLI: `openssl verify` accepts our SM2 and ES256
//! chains, `openssl x509 -text` shows the extensions, `openssl crl -verify` accepts our CRLs.

mod common;

use common::*;
use der::{Decode, Encode};
use elicense_crypto::Alg;
use elicense_seal::ca::{pem, validate_chain, Revoked};
use x509_cert::crl::CertificateList;

fn verify_args(alg: Alg) -> Vec<&'static str> {
    // OpenSSL 3 checks SM2 certificate signatures with the default ID when told to.
    match alg {
        Alg::Sm2 => vec!["-vfyopt", "distid:1234567812345678"],
        _ => vec![],
    }
}

#[test]
fn openssl_accepts_our_chains_and_crls() {
    for alg in [Alg::Sm2, Alg::Es256] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = ca(alg);
        let (_, leaf) = leaf(&ca, alg, 7);
        write(d, "ca.pem", pem("CERTIFICATE", ca.certificate()).as_bytes());
        write(d, "leaf.pem", pem("CERTIFICATE", &leaf).as_bytes());

        let mut args = vec!["verify", "-attime", "1740000000", "-CAfile", "ca.pem"];
        args.extend(verify_args(alg));
        args.push("leaf.pem");
        let out = ok(&args, d);
        assert!(out.contains("leaf.pem: OK"), "{alg}: {out}");

        // A leaf signed by another CA of the same name is refused by OpenSSL and by us.
        let other = common::ca(alg);
        let (_, foreign) = common::leaf(&other, alg, 7);
        write(d, "foreign.pem", pem("CERTIFICATE", &foreign).as_bytes());
        let mut args = vec!["verify", "-attime", "1740000000", "-CAfile", "ca.pem"];
        args.extend(verify_args(alg));
        args.push("foreign.pem");
        assert!(!run(&args, d).0, "{alg}: OpenSSL accepted a foreign leaf");

        let text = ok(&["x509", "-in", "ca.pem", "-noout", "-text"], d);
        for want in [
            "CA:TRUE",
            "Certificate Sign, CRL Sign",
            "Subject Key Identifier",
        ] {
            assert!(text.contains(want), "{alg} CA lacks {want}:\n{text}");
        }
        let text = ok(&["x509", "-in", "leaf.pem", "-noout", "-text"], d);
        for want in [
            "CA:FALSE",
            "Digital Signature, Non Repudiation",
            "Authority Key Identifier",
            "Subject Key Identifier",
            "serialNumber = 91350100M000100Y43",
            match alg {
                Alg::Sm2 => "SM2-with-SM3",
                _ => "ecdsa-with-SHA256",
            },
        ] {
            assert!(text.contains(want), "{alg} leaf lacks {want}:\n{text}");
        }

        let crl = ca
            .crl(
                &[
                    Revoked {
                        serial: vec![7],
                        at: SIGNED,
                        hold: false,
                    },
                    Revoked {
                        serial: vec![8],
                        at: SIGNED,
                        hold: true,
                    },
                ],
                SIGNED,
                SIGNED + time::Duration::days(30),
            )
            .unwrap();
        write(d, "crl.pem", pem("X509 CRL", &crl).as_bytes());
        let out = ok(&["crl", "-in", "crl.pem", "-noout", "-text"], d);
        assert!(out.contains("Serial Number: 07"), "{alg}: {out}");
        // A suspended seal's certificate is on hold (reason code 6), the revoked one has none.
        let (revoked, held) = out.split_once("Serial Number: 08").unwrap();
        assert!(!revoked.contains("Certificate Hold"), "{alg}: {out}");
        assert!(held.contains("Certificate Hold"), "{alg}: {out}");
        match alg {
            // `openssl crl -verify` has no option for the SM2 ID and checks with an empty
            // one; GM/T 0015 signs CRLs with the default ID, so the signature is checked over
            // the to-be-signed part with pkeyutl and the ID given.
            Alg::Sm2 => {
                let list = CertificateList::from_der(&crl).unwrap();
                write(d, "tbs.der", &list.tbs_cert_list.to_der().unwrap());
                write(d, "sig.der", list.signature.raw_bytes());
                ok(
                    &[
                        "x509", "-in", "ca.pem", "-pubkey", "-noout", "-out", "ca.pub",
                    ],
                    d,
                );
                let out = ok(
                    &[
                        "pkeyutl",
                        "-verify",
                        "-pubin",
                        "-inkey",
                        "ca.pub",
                        "-rawin",
                        "-in",
                        "tbs.der",
                        "-sigfile",
                        "sig.der",
                        "-digest",
                        "sm3",
                        "-pkeyopt",
                        "distid:1234567812345678",
                    ],
                    d,
                );
                assert!(out.contains("Signature Verified Successfully"), "{out}");
            }
            _ => {
                let out = ok(
                    &[
                        "crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-verify",
                    ],
                    d,
                );
                assert!(out.contains("verify OK"), "{alg}: {out}");
            }
        }

        // And our own validator agrees: good before the revocation, revoked after it.
        let anchors = vec![ca.certificate().to_vec()];
        let path =
            validate_chain(&leaf, &[], &anchors, T0 + time::Duration::days(30), &[]).unwrap();
        assert_eq!(path, vec![leaf.clone(), ca.certificate().to_vec()]);
        let at = SIGNED + time::Duration::days(1);
        let err = validate_chain(&leaf, &[], &anchors, at, std::slice::from_ref(&crl)).unwrap_err();
        assert_eq!(err.code(), "chain.revoked", "{alg}");
        let err = validate_chain(&foreign, &[], &anchors, at, &[]).unwrap_err();
        assert_eq!(err.code(), "chain.signature_invalid", "{alg}");
    }
}

#[test]
fn a_stored_ca_is_restored_only_with_its_own_key() {
    let ca = ca(Alg::Sm2);
    let cert = ca.certificate().to_vec();
    let other = key(Alg::Sm2);
    let err = elicense_seal::ca::SealCa::from_certificate(other, &cert)
        .err()
        .unwrap();
    assert_eq!(err.code(), "ca.bad_ca_certificate");
    // A leaf is no CA, even with its own key.
    let (k, leaf) = leaf(&ca, Alg::Sm2, 3);
    let err = elicense_seal::ca::SealCa::from_certificate(k, &leaf)
        .err()
        .unwrap();
    assert_eq!(err.code(), "ca.bad_ca_certificate");
    // A certificate trusted directly is its own path.
    let path = validate_chain(&leaf, &[], std::slice::from_ref(&leaf), T0, &[]).unwrap();
    assert_eq!(path, vec![leaf]);
}
