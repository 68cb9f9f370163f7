//! Sealed PDFs end to end, judged from outside: a joint seal (an SM2 seal of 甲, then an
//! ES256 seal of 乙) on the ten-page fixture. poppler's pdfsig and pyHanko check the PAdES
//! seal with our CA as the trust root; the SM2 `SES_Signature`, taken from /Contents by
//! pyHanko's PDF reader, verifies with the OpenSSL CLI and its data hash is `openssl dgst
//! -sm3` of the signed bytes. Then `verify_pdf` must catch each way a sealed document goes
//! wrong.

mod world;

use std::path::Path;

use der::Reader;
use elicense_crypto::Alg;
use elicense_seal::ca::Revoked;
use elicense_seal::document::{
    seal_pdf, verify_pdf, DocVerdict, SealStatus, Trust, SES_SUB_FILTER,
};
use elicense_seal::ses::{Seal, SealSignature};
use elicense_seal::SigAlg;
use time::Duration;
use world::*;

const TEN: &str = "ten-pages-classic.pdf";

fn joint(w: &World) -> Vec<u8> {
    let pdf = fixture(TEN);
    let jobs = [w.job(&w.sm2, 0, 300.0), w.job(&w.es, 0, 430.0)];
    seal_pdf(&pdf, &jobs, w.now - Duration::minutes(5)).unwrap()
}

fn codes(v: &DocVerdict) -> Vec<Vec<String>> {
    v.signatures.iter().map(|s| s.problems.clone()).collect()
}

#[test]
fn joint_seal_is_valid_for_us_and_for_the_outside_judges() {
    let w = World::new();
    let sealed = joint(&w);
    let path = w.write("joint.pdf", &sealed);

    // Ours.
    let v = verify_pdf(&sealed, &w.trust(), w.now, &active).unwrap();
    assert!(v.valid, "{:#?}", v);
    assert_eq!(v.signatures.len(), 2);
    let (a, b) = (&v.signatures[0], &v.signatures[1]);
    assert_eq!(a.alg, Some(SigAlg::Sm2WithSm3));
    assert_eq!(a.seal_id.as_deref(), Some("3501000000001"));
    assert_eq!(a.seal_name.as_deref(), Some("甲市场监督管理局"));
    assert!(
        a.owner.as_deref().unwrap().contains("11350100MB1111111A"),
        "{:?}",
        a.owner
    );
    assert!(!a.covers_whole_document);
    assert_eq!(a.later_changes, ["pdf.update.signature_added"]);
    assert_eq!(b.alg, Some(SigAlg::EcdsaWithSha256));
    assert_eq!(b.seal_id.as_deref(), Some("3501000000002"));
    assert!(b.owner.as_deref().unwrap().contains("乙科技有限公司"));
    assert!(b.covers_whole_document && b.later_changes.is_empty());
    for s in &v.signatures {
        assert!(
            s.signature_ok && s.seal_ok && s.chain_ok && s.valid,
            "{s:#?}"
        );
        assert_eq!(s.status_now, Some(SealStatus::Active));
        assert_eq!(s.page, Some(0));
        assert_eq!(s.signed_at, Some(w.now - Duration::minutes(5)));
    }

    // poppler: the PAdES seal is valid, the SES one is listed.
    let (_, out) = output(std::process::Command::new("pdfsig").arg(&path));
    if std::env::var_os("SEALDOC_SHOW").is_some() {
        eprintln!("{out}");
    }
    assert!(
        out.contains("Signature #1") && out.contains("Signature #2"),
        "{out}"
    );
    let second = out.split("Signature #2").nth(1).unwrap();
    assert!(
        second.contains("Signature Validation: Signature is Valid."),
        "{out}"
    );
    assert!(
        out.contains(SES_SUB_FILTER) || out.contains("unknown"),
        "{out}"
    );

    // pyHanko: the PAdES seal is sound and trusted with our CA as the only root.
    let (_, out) = output(
        pyhanko()
            .args([
                "sign",
                "validate",
                "--pretty-print",
                "--no-revocation-check",
            ])
            .args(["--trust-replace", "--trust"])
            .arg(w.ca_pem())
            .arg(&path),
    );
    assert!(
        out.contains("The signature is cryptographically sound"),
        "{out}"
    );
    assert!(out.contains("The signer's certificate is trusted"), "{out}");
}

/// /Contents and /ByteRange of field `Seal1` as pyHanko's PDF reader sees them.
fn contents_by_pyhanko(pdf: &Path, out_dir: &Path) -> (Vec<u8>, Vec<usize>) {
    let script = r#"
import sys
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
with open(sys.argv[1], "rb") as f:
    r = PdfFileReader(f)
    for name, value, _ in enumerate_sig_fields(r, filled_status=True):
        if name == "Seal1":
            sig = value.get_object()
            open(sys.argv[2] + "/ses.der", "wb").write(bytes(sig["/Contents"]))
            print(" ".join(str(int(x)) for x in sig["/ByteRange"]))
"#;
    let (ok, out) = output(python().arg("-c").arg(script).arg(pdf).arg(out_dir));
    assert!(ok, "{out}");
    // The last line of numbers (warnings may come on stderr).
    let line = out
        .lines()
        .rfind(|l| !l.trim().is_empty() && l.split_whitespace().all(|x| x.parse::<usize>().is_ok()))
        .unwrap_or_else(|| panic!("{out}"));
    let range = line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (std::fs::read(out_dir.join("ses.der")).unwrap(), range)
}

#[test]
fn the_sm2_record_verifies_with_openssl() {
    let w = World::new();
    let sealed = joint(&w);
    let path = w.write("joint.pdf", &sealed);
    let d = w.dir.path();
    let (contents, range) = contents_by_pyhanko(&path, d);
    // /Contents is zero-padded; the record is the DER element at its start.
    let mut reader = der::SliceReader::new(&contents).unwrap();
    let header: der::Header = der::Decode::decode(&mut reader).unwrap();
    let len = usize::try_from((reader.position() + header.length).unwrap()).unwrap();
    let der_bytes = &contents[..len];
    assert!(contents[der_bytes.len()..].iter().all(|&b| b == 0));
    let record = SealSignature::from_der(der_bytes).unwrap();
    assert_eq!(record.to_der(), der_bytes, "round trip byte for byte");
    assert_eq!(record.alg(), SigAlg::Sm2WithSm3);

    // The signature over TBS_Sign, with the signer's public key from its certificate.
    std::fs::write(d.join("signer.der"), record.signer_cert()).unwrap();
    let (ok, out) = openssl(
        d,
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            "signer.der",
            "-pubkey",
            "-noout",
            "-out",
            "signer.pub",
        ],
    );
    assert!(ok, "{out}");
    std::fs::write(d.join("tbs.der"), record.signed_data()).unwrap();
    std::fs::write(d.join("sig.der"), record.asn1().signature.raw_bytes()).unwrap();
    let verify = |tbs: &str| {
        openssl(
            d,
            &[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                "signer.pub",
                "-rawin",
                "-in",
                tbs,
                "-sigfile",
                "sig.der",
                "-digest",
                "sm3",
                "-pkeyopt",
                "distid:1234567812345678",
            ],
        )
    };
    let (ok, out) = verify("tbs.der");
    assert!(
        ok && out.contains("Signature Verified Successfully"),
        "{out}"
    );
    let mut other = record.signed_data();
    let n = other.len();
    other[n - 1] ^= 1;
    std::fs::write(d.join("tbs2.der"), other).unwrap();
    assert!(
        !verify("tbs2.der").0,
        "OpenSSL must refuse a changed TBS_Sign"
    );

    // dataHash is SM3 of the signed byte ranges.
    let [_, a, b, c] = range[..] else {
        panic!("{range:?}")
    };
    let mut signed = sealed[..a].to_vec();
    signed.extend_from_slice(&sealed[b..b + c]);
    std::fs::write(d.join("signed.bin"), &signed).unwrap();
    let (ok, out) = openssl(d, &["dgst", "-sm3", "-r", "signed.bin"]);
    assert!(ok, "{out}");
    let hex_hash = out.split_whitespace().next().unwrap();
    assert_eq!(hex::encode(record.data_hash()), hex_hash);
    assert_eq!(
        record.property_info(),
        format!("PDF ByteRange [0 {a} {b} {c}] SM3")
    );
    assert_eq!(record.seal().to_der(), w.sm2.seal.to_der());
}

#[test]
fn a_changed_byte_breaks_both_seals() {
    let w = World::new();
    let mut sealed = joint(&w);
    // A byte of the original document, which both seals sign.
    let at = sealed.windows(6).position(|x| x == b"stream").unwrap() + 10;
    sealed[at] ^= 0x20;
    let v = verify_pdf(&sealed, &w.trust(), w.now, &active).unwrap();
    assert!(!v.valid);
    assert_eq!(v.signatures.len(), 2);
    for s in &v.signatures {
        assert!(!s.signature_ok && !s.valid, "{s:#?}");
    }
    assert!(
        v.signatures[0]
            .problems
            .contains(&"seal.data_hash_mismatch".to_string()),
        "{:?}",
        codes(&v)
    );
    assert!(
        v.signatures[1]
            .problems
            .contains(&"cms.digest_mismatch".to_string()),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn a_page_added_later_is_a_modification() {
    let w = World::new();
    let sealed = joint(&w);
    let src = w.write("joint.pdf", &sealed);
    let dst = w.path("joint+page.pdf");
    pyhanko_update("page", &src, &dst);
    let v = verify_pdf(&std::fs::read(&dst).unwrap(), &w.trust(), w.now, &active).unwrap();
    assert!(!v.valid && v.modified_after_last);
    assert_eq!(v.changes_after_last, ["pdf.update.pages_added"]);
    for s in &v.signatures {
        assert!(s.signature_ok, "the seals themselves still verify: {s:#?}");
        assert!(s
            .later_changes
            .contains(&"pdf.update.pages_added".to_string()));
        assert!(s
            .problems
            .contains(&"pdf.modified_after_signing".to_string()));
        assert!(!s.valid);
    }
}

#[test]
fn revoked_or_suspended_seals_are_not_valid() {
    let w = World::new();
    let sealed = joint(&w);
    let trust = w.trust();
    let revoked = |id: &str| {
        Some(if id == "3501000000002" {
            SealStatus::Revoked { since: None }
        } else {
            SealStatus::Active
        })
    };
    let v = verify_pdf(&sealed, &trust, w.now, &revoked).unwrap();
    assert!(!v.valid);
    assert!(v.signatures[0].valid);
    assert_eq!(v.signatures[1].problems, ["seal.revoked"]);
    assert_eq!(
        v.signatures[1].status_now,
        Some(SealStatus::Revoked { since: None })
    );

    // Suspended after it was used: still valid; before: not.
    let later = |_: &str| {
        Some(SealStatus::Suspended {
            since: Some(w.now - Duration::minutes(1)),
        })
    };
    assert!(verify_pdf(&sealed, &trust, w.now, &later).unwrap().valid);
    let earlier = |_: &str| {
        Some(SealStatus::Suspended {
            since: Some(w.now - Duration::hours(1)),
        })
    };
    let v = verify_pdf(&sealed, &trust, w.now, &earlier).unwrap();
    assert!(!v.valid);
    for s in &v.signatures {
        assert_eq!(s.problems, ["seal.not_active_when_used"]);
    }
    // No word from a registry is no problem.
    assert!(verify_pdf(&sealed, &trust, w.now, &|_| None).unwrap().valid);
}

/// A seal the verifier does not file (another node's): its status now comes from a current
/// CRL of its certificate's issuer, and only one that issuer signed.
#[test]
fn a_seal_filed_elsewhere_takes_its_status_from_the_issuers_crl() {
    let w = World::new();
    let sealed = joint(&w);
    let unfiled = |_: &str| Some(SealStatus::Unknown);
    let statuses = |v: &DocVerdict| {
        v.signatures
            .iter()
            .map(|s| s.status_now)
            .collect::<Vec<_>>()
    };
    let with_crl = |crl: Vec<u8>| Trust {
        anchors: w.trust().anchors,
        crls: vec![crl],
    };
    let crl = |ca: &elicense_seal::ca::SealCa<elicense_crypto::KeyPair>, revoked: &[Revoked]| {
        ca.crl(
            revoked,
            w.now - Duration::minutes(1),
            w.now + Duration::days(1),
        )
        .unwrap()
    };

    // No CRL: nothing known, which is no problem by itself.
    let v = verify_pdf(&sealed, &w.trust(), w.now, &unfiled).unwrap();
    assert!(v.valid, "{:?}", codes(&v));
    assert_eq!(statuses(&v), [Some(SealStatus::Unknown); 2]);

    // A current CRL that lists neither: both active.
    let v = verify_pdf(&sealed, &with_crl(crl(&w.ca, &[])), w.now, &unfiled).unwrap();
    assert!(v.valid, "{:?}", codes(&v));
    assert_eq!(statuses(&v), [Some(SealStatus::Active); 2]);

    // 甲's certificate (serial 2) on hold since a minute ago: suspended after its use; 乙's
    // (serial 3) revoked.
    let since = w.now - Duration::minutes(1);
    let listed = crl(
        &w.ca,
        &[
            Revoked {
                serial: vec![2],
                at: since,
                hold: true,
            },
            Revoked {
                serial: vec![3],
                at: since,
                hold: false,
            },
        ],
    );
    let v = verify_pdf(&sealed, &with_crl(listed.clone()), w.now, &unfiled).unwrap();
    assert_eq!(
        statuses(&v),
        [
            Some(SealStatus::Suspended { since: Some(since) }),
            Some(SealStatus::Revoked { since: Some(since) })
        ]
    );
    assert_eq!(
        codes(&v),
        [vec!["chain.revoked"], vec!["chain.revoked", "seal.revoked"]]
    );
    // The registry that files a seal has the last word over the CRL.
    let filed = |_: &str| Some(SealStatus::Active);
    let v = verify_pdf(&sealed, &with_crl(listed.clone()), w.now, &filed).unwrap();
    assert_eq!(statuses(&v), [Some(SealStatus::Active); 2]);
    // A CRL past its nextUpdate says nothing about now.
    let later = w.now + Duration::days(2);
    let v = verify_pdf(&sealed, &with_crl(listed), later, &unfiled).unwrap();
    assert_eq!(statuses(&v), [Some(SealStatus::Unknown); 2]);

    // A list made by a CA whose clock runs a little ahead still counts; far ahead, not.
    let ahead = |by: Duration| {
        w.ca.crl(&[], w.now + by, w.now + Duration::days(1))
            .unwrap()
    };
    let v = verify_pdf(
        &sealed,
        &with_crl(ahead(Duration::minutes(2))),
        w.now,
        &unfiled,
    )
    .unwrap();
    assert!(v.valid, "{:?}", codes(&v));
    assert_eq!(statuses(&v), [Some(SealStatus::Active); 2]);
    let v = verify_pdf(
        &sealed,
        &with_crl(ahead(Duration::minutes(10))),
        w.now,
        &unfiled,
    )
    .unwrap();
    assert_eq!(statuses(&v), [Some(SealStatus::Unknown); 2]);
    assert_eq!(
        codes(&v)[0],
        ["chain.crl_outdated", "maker.chain.crl_outdated"]
    );

    // A CRL of the same name from another CA's key is not believed.
    let other = World::new();
    let forged = crl(&other.ca, &[]);
    let v = verify_pdf(&sealed, &with_crl(forged), w.now, &unfiled).unwrap();
    assert_eq!(statuses(&v), [Some(SealStatus::Unknown); 2]);
    assert!(!v.valid);
    for s in &v.signatures {
        assert_eq!(s.problems[0], "chain.crl_signature_invalid", "{s:#?}");
    }
}

#[test]
fn a_seal_used_after_its_validity_is_not_valid() {
    let w = World::new();
    for o in [&w.sm2, &w.es] {
        let mut info = o.seal.info().clone();
        info.valid_to = w.now - Duration::days(2);
        let expired = Seal::make(&info, &w.maker, &w.maker_cert).unwrap();
        let mut job = w.job(o, 1, 300.0);
        job.seal = &expired;
        let sealed = seal_pdf(&fixture(TEN), &[job], w.now - Duration::days(1)).unwrap();
        let v = verify_pdf(&sealed, &w.trust(), w.now, &active).unwrap();
        let s = &v.signatures[0];
        assert!(
            !v.valid && s.signature_ok && !s.seal_ok && s.chain_ok,
            "{s:#?}"
        );
        assert_eq!(s.problems, ["seal.outside_validity"]);
    }
}

#[test]
fn certificates_from_another_ca_or_revoked_are_not_trusted() {
    let w = World::new();
    let sealed = joint(&w);
    let other = World::new();
    let v = verify_pdf(&sealed, &other.trust(), w.now, &active).unwrap();
    assert!(!v.valid);
    for s in &v.signatures {
        assert!(s.signature_ok && s.seal_ok && !s.chain_ok, "{s:#?}");
        // The other CA has the same name, so its key is tried and fails.
        assert_eq!(
            s.problems,
            ["chain.signature_invalid", "maker.chain.signature_invalid"]
        );
    }

    // The CA revokes 乙's certificate (serial 3).
    let crl =
        w.ca.crl(
            &[Revoked {
                serial: vec![3],
                at: w.now - Duration::minutes(1),
                hold: false,
            }],
            w.now - Duration::minutes(1),
            w.now + Duration::days(7),
        )
        .unwrap();
    let trust = Trust {
        anchors: w.trust().anchors,
        crls: vec![crl],
    };
    let v = verify_pdf(&sealed, &trust, w.now, &active).unwrap();
    assert!(v.signatures[0].valid, "{:?}", codes(&v));
    assert_eq!(v.signatures[1].problems, ["chain.revoked"]);
    assert!(!v.valid);
}

#[test]
fn a_seal_whose_maker_signature_fails_is_reported() {
    let w = World::new();
    for o in [&w.sm2, &w.es] {
        let mut asn1 = o.seal.asn1().clone();
        let mut sig = asn1.signed_value.raw_bytes().to_vec();
        let n = sig.len();
        sig[n - 3] ^= 1;
        asn1.signed_value = der::asn1::BitString::from_bytes(&sig).unwrap();
        let forged = Seal::from_asn1(asn1).unwrap();
        assert!(forged.to_der().len() == o.seal.to_der().len());
        let mut job = w.job(o, 2, 300.0);
        job.seal = &forged;
        let sealed = seal_pdf(&fixture(TEN), &[job], w.now - Duration::minutes(5)).unwrap();
        let v = verify_pdf(&sealed, &w.trust(), w.now, &active).unwrap();
        let s = &v.signatures[0];
        assert!(!v.valid && s.signature_ok && !s.seal_ok, "{s:#?}");
        assert_eq!(s.problems, ["seal.maker_signature_invalid"]);
    }
}

#[test]
fn a_picture_without_a_signature_is_no_seal() {
    let w = World::new();
    let src = w.write("plain.pdf", &fixture(TEN));
    let dst = w.path("stamped.pdf");
    // pyHanko draws a red box on page 1: a picture, no signature.
    pyhanko_update("content", &src, &dst);
    let v = verify_pdf(&std::fs::read(&dst).unwrap(), &w.trust(), w.now, &active).unwrap();
    assert!(v.signatures.is_empty() && !v.valid);
}

#[test]
fn bad_input() {
    let w = World::new();
    let e = verify_pdf(b"not a pdf", &w.trust(), w.now, &active).unwrap_err();
    assert_eq!(e.code(), "pdf.not_a_pdf");
    let e = seal_pdf(&fixture(TEN), &[], w.now).unwrap_err();
    assert_eq!(e.code(), "doc.no_jobs");
    // A seal that does not list the signer.
    let mut job = w.job(&w.sm2, 0, 300.0);
    job.certificate = &w.es.cert;
    job.signer = &w.es.key;
    assert_eq!(
        seal_pdf(&fixture(TEN), &[job], w.now).unwrap_err().code(),
        "seal.signer_not_in_seal"
    );
    let ed = elicense_crypto::KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    let mut job = w.job(&w.sm2, 0, 300.0);
    job.signer = &ed;
    assert_eq!(
        seal_pdf(&fixture(TEN), &[job], w.now).unwrap_err().code(),
        "doc.unsupported_key"
    );
}
