//! Chains made by another CA (the OpenSSL CLI, SM2 with SM3 and P-256) for one of our keys:
//! `validate_chain` accepts them, refuses them once an `openssl ca -gencrl` CRL revokes the
//! leaf, and refuses an expired leaf, an untrusted CA and a CA without keyCertSign.

mod common;

use std::path::Path;

use common::*;
use elicense_crypto::Alg;
use elicense_seal::ca::{certificate_info, certificate_request, certifies, pem, validate_chain};
use elicense_seal::ses::{sign_data, verify_signature, Seal};
use time::{Duration, OffsetDateTime};

fn der_of(d: &Path, pem_file: &str, kind: &str) -> Vec<u8> {
    let out = format!("{pem_file}.der");
    ok(&[kind, "-in", pem_file, "-outform", "DER", "-out", &out], d);
    std::fs::read(d.join(out)).unwrap()
}

fn curve(alg: Alg) -> &'static str {
    match alg {
        Alg::Sm2 => "SM2",
        _ => "prime256v1",
    }
}

/// An OpenSSL CA in `d` (files `<name>.key`, `<name>.pem`) with the given keyUsage.
fn openssl_ca(d: &Path, alg: Alg, name: &str, key_usage: &str) -> Vec<u8> {
    let key = format!("{name}.key");
    let pem = format!("{name}.pem");
    ok(
        &["ecparam", "-name", curve(alg), "-genkey", "-out", &key],
        d,
    );
    let subj = format!("/O=Third Party Trust/CN={name}");
    let ku = format!("keyUsage=critical,{key_usage}");
    let mut args = vec![
        "req",
        "-x509",
        "-new",
        "-key",
        &key,
        "-subj",
        &subj,
        "-days",
        "3650",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        &ku,
        "-addext",
        "subjectKeyIdentifier=hash",
        "-out",
        &pem,
    ];
    args.extend(sm2_sigopts(alg));
    ok(&args, d);
    der_of(d, &pem, "x509")
}

/// A leaf for the public key in `ours.pub`, issued by the OpenSSL CA `ca` with a throwaway
/// CSR and `-force_pubkey`.
fn openssl_leaf(d: &Path, alg: Alg, ca: &str, out: &str, serial: &str) -> Vec<u8> {
    std::fs::write(
        d.join("leaf.cnf"),
        "[v]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
         subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    ok(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-out",
            "dummy.key",
        ],
        d,
    );
    ok(
        &[
            "req",
            "-new",
            "-key",
            "dummy.key",
            "-subj",
            "/O=某某科技有限公司/CN=合同专用章",
            "-utf8",
            "-out",
            "dummy.csr",
        ],
        d,
    );
    let ca_pem = format!("{ca}.pem");
    let ca_key = format!("{ca}.key");
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        "dummy.csr",
        "-CA",
        &ca_pem,
        "-CAkey",
        &ca_key,
        "-force_pubkey",
        "ours.pub",
        "-set_serial",
        serial,
        "-days",
        "365",
        "-extfile",
        "leaf.cnf",
        "-extensions",
        "v",
        "-out",
        out,
    ];
    args.extend(sm2_sigopts(alg));
    ok(&args, d);
    der_of(d, out, "x509")
}

#[test]
fn third_party_chains_are_validated_and_refused_for_the_right_reasons() {
    // A little ahead: OpenSSL starts its certificates at the second it makes them.
    let now = OffsetDateTime::now_utc() + Duration::minutes(2);
    for alg in [Alg::Sm2, Alg::Es256] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ours = key(alg);
        write(d, "ours.pub", ours.public_spki_pem().as_bytes());
        let ca = openssl_ca(d, alg, "tpca", "keyCertSign,cRLSign");
        let leaf = openssl_leaf(d, alg, "tpca", "leaf.pem", "4660");
        let anchors = vec![ca.clone()];

        let path = validate_chain(&leaf, &[], &anchors, now, &[]).unwrap();
        assert_eq!(path, vec![leaf.clone(), ca.clone()], "{alg}");

        // The certificate really carries our key: a seal signed with it verifies.
        let seal_ca = common::ca(alg);
        let maker = key(alg);
        let maker_cert = seal_ca
            .issue(
                &elicense_seal::ca::Subject {
                    common_name: "maker".into(),
                    organization: None,
                    uscc: None,
                },
                &maker.public_jwk(),
                years(now - Duration::days(1), 1),
                &[1],
            )
            .unwrap();
        let mut info = info(vec![leaf.clone()]);
        info.valid_from = now - Duration::days(1);
        info.valid_to = now + Duration::days(30);
        let seal = Seal::make(&info, &maker, &maker_cert).unwrap();
        let hash = elicense_seal::data_hash(elicense_seal::SigAlg::for_key(alg).unwrap(), b"doc");
        let signed = sign_data(&seal, &ours, &leaf, now, &hash, "doc").unwrap();
        let verdict = verify_signature(&signed.to_der(), &hash, now).unwrap();
        assert!(verdict.is_valid(), "{alg}: {:?}", verdict.problems);

        // Expired: the leaf lasts 365 days, the CA ten years.
        let later = now + Duration::days(400);
        let err = validate_chain(&leaf, &[], &anchors, later, &[]).unwrap_err();
        assert_eq!(err.code(), "chain.expired", "{alg}");

        // Untrusted: only our own CA is an anchor.
        let err =
            validate_chain(&leaf, &[], &[seal_ca.certificate().to_vec()], now, &[]).unwrap_err();
        assert_eq!(err.code(), "chain.untrusted", "{alg}");

        // Revoked by `openssl ca -gencrl` (SM2: signed with the GM/T default ID).
        std::fs::write(
            d.join("ca.cnf"),
            "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\n\
             default_md=default\ndefault_crl_days=30\n",
        )
        .unwrap();
        write(d, "index.txt", b"");
        write(d, "crlnumber", b"01\n");
        let base = [
            "-config", "ca.cnf", "-keyfile", "tpca.key", "-cert", "tpca.pem",
        ];
        let mut args = vec!["ca"];
        args.extend(base);
        args.extend(["-gencrl", "-out", "empty.pem"]);
        args.extend(
            sm2_sigopts(alg)
                .into_iter()
                .filter(|a| *a != "-sm3" && *a != "-sha256"),
        );
        ok(&args, d);
        let empty = der_of(d, "empty.pem", "crl");
        // A CRL that does not list the leaf leaves the chain valid.
        validate_chain(&leaf, &[], &anchors, now, &[empty]).unwrap();

        let mut args = vec!["ca"];
        args.extend(base);
        args.extend(["-revoke", "leaf.pem"]);
        ok(&args, d);
        let mut args = vec!["ca"];
        args.extend(base);
        args.extend(["-gencrl", "-out", "crl.pem"]);
        args.extend(
            sm2_sigopts(alg)
                .into_iter()
                .filter(|a| *a != "-sm3" && *a != "-sha256"),
        );
        ok(&args, d);
        let crl = der_of(d, "crl.pem", "crl");
        let soon = now + Duration::minutes(1);
        let err =
            validate_chain(&leaf, &[], &anchors, soon, std::slice::from_ref(&crl)).unwrap_err();
        assert_eq!(err.code(), "chain.revoked", "{alg}");
        // The CRL is current for 30 days only.
        let err = validate_chain(
            &leaf,
            &[],
            &anchors,
            now + Duration::days(40),
            std::slice::from_ref(&crl),
        )
        .unwrap_err();
        assert_eq!(err.code(), "chain.crl_outdated", "{alg}");
        // A CRL of that name that another key signed is refused.
        let mut tampered = crl.clone();
        let n = tampered.len();
        tampered[n - 5] ^= 1;
        let err = validate_chain(&leaf, &[], &anchors, soon, &[tampered]).unwrap_err();
        assert!(
            ["chain.crl_signature_invalid", "chain.bad_crl"].contains(&err.code()),
            "{alg}: {err:?}"
        );

        // A CA without keyCertSign.
        let weak = openssl_ca(d, alg, "weakca", "digitalSignature,cRLSign");
        let weak_leaf = openssl_leaf(d, alg, "weakca", "weakleaf.pem", "4661");
        let err = validate_chain(&weak_leaf, &[], &[weak], now, &[]).unwrap_err();
        assert_eq!(err.code(), "chain.issuer_key_usage", "{alg}");
    }
}

/// The PKCS#10 request we make for a key of ours passes `openssl req -verify` (SM2 with the
/// GM/T default ID), the OpenSSL CA certifies it as it stands, and the certificate it returns
/// is recognised as for that key (and for no other).
#[test]
fn our_certificate_requests_are_signed_by_an_outside_ca() {
    let now = OffsetDateTime::now_utc() + Duration::minutes(2);
    for alg in [Alg::Sm2, Alg::Es256] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ours = key(alg);
        let subject = elicense_seal::ca::Subject {
            common_name: "北京市公安局公安交通管理局 电子证照签发".into(),
            organization: Some("北京市公安局公安交通管理局".into()),
            uscc: Some("11110000000000012X".into()),
        };
        let csr = certificate_request(&ours, &ours.public_jwk(), &subject).unwrap();
        write(d, "ours.csr", pem("CERTIFICATE REQUEST", &csr).as_bytes());
        let vfy: Vec<&str> = match alg {
            Alg::Sm2 => vec!["-vfyopt", "distid:1234567812345678"],
            _ => vec![],
        };
        let mut args = vec!["req", "-in", "ours.csr", "-verify", "-noout", "-text"];
        args.extend(&vfy);
        let text = ok(&args, d);
        assert!(text.contains("verify OK"), "{alg}: {text}");
        assert!(text.contains("11110000000000012X"), "{alg}: {text}");
        // A request whose signature was tampered with is refused.
        let mut bad = csr.clone();
        let n = bad.len();
        bad[n - 5] ^= 1;
        write(d, "bad.csr", pem("CERTIFICATE REQUEST", &bad).as_bytes());
        let mut args = vec!["req", "-in", "bad.csr", "-verify", "-noout"];
        args.extend(&vfy);
        let (good, text) = run(&args, d);
        assert!(!good || !text.contains("verify OK"), "{alg}: {text}");

        let ca = openssl_ca(d, alg, "tpca", "keyCertSign,cRLSign");
        std::fs::write(
            d.join("leaf.cnf"),
            "[v]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
        )
        .unwrap();
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            "ours.csr",
            "-CA",
            "tpca.pem",
            "-CAkey",
            "tpca.key",
            "-set_serial",
            "77",
            "-days",
            "30",
            "-extfile",
            "leaf.cnf",
            "-extensions",
            "v",
            "-out",
            "ours.pem",
        ];
        args.extend(sm2_sigopts(alg));
        args.extend(&vfy);
        ok(&args, d);
        let cert = der_of(d, "ours.pem", "x509");
        assert!(certifies(&cert, &ours.public_jwk()), "{alg}");
        assert!(!certifies(&cert, &key(alg).public_jwk()), "{alg}");
        validate_chain(&cert, &[], &[ca], now, &[]).unwrap();
        let info = certificate_info(&cert).unwrap();
        assert!(info.subject.contains("11110000000000012X"), "{info:?}");
        assert!(info.issuer.contains("CN=tpca"), "{info:?}");
        assert_eq!(info.serial, "4d");
    }
}
