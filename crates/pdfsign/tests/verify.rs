//! What `verify` detects, each with its stable code: a changed byte, pages and content
//! added after signing by another tool (pyHanko), truncation, a too small /Contents,
//! garbage; and the SES hook (opaque contents, SM3 checked by the OpenSSL CLI).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use elicense_pdf::{prepare, seal_es256, verify, Change, Problem, SubFilter};

const RECT: [f64; 4] = [380.0, 80.0, 500.0, 200.0];

fn sealed_twice() -> Vec<u8> {
    let p = pki();
    let pdf = fixture("ten-pages-classic.pdf");
    let once = seal_es256(&pdf, &placement(0, RECT, "Seal1"), &p.key, &p.leaf_der, &[]).unwrap();
    seal_es256(
        &once,
        &placement(1, RECT, "Seal2"),
        &p.key,
        &p.leaf_der,
        &[],
    )
    .unwrap()
}

fn codes(problems: &[Problem]) -> Vec<&'static str> {
    problems.iter().map(Problem::code).collect()
}

#[test]
fn a_changed_byte_in_a_signed_range_breaks_every_signature_over_it() {
    let mut pdf = sealed_twice();
    let at = pdf.windows(9).position(|w| w == b"ReportLab").unwrap();
    pdf[at] = b'X';
    let report = verify(&pdf).unwrap();
    for s in &report.signatures {
        assert_eq!(codes(&s.problems), ["cms.digest_mismatch"], "{}", s.field);
    }
    let out = pdfsig(&write_temp(&pdf, "changed-byte.pdf"));
    assert_eq!(out.matches("Signature is Valid.").count(), 0, "{out}");
}

fn update_with_pyhanko(mode: &str, pdf: &[u8]) -> Vec<u8> {
    let src = write_temp(pdf, &format!("before-{mode}.pdf"));
    let dst = src.with_file_name(format!("after-{mode}.pdf"));
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/update.py"),
    )
    .unwrap();
    let out = pyhanko_python(&script, &[Path::new(mode), &src, &dst]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read(dst).unwrap();
    assert_eq!(
        &after[..pdf.len()],
        pdf,
        "pyHanko appended an incremental update"
    );
    after
}

#[test]
fn a_page_added_after_the_last_signature_is_reported() {
    let signed = sealed_twice();
    let pdf = update_with_pyhanko("page", &signed);
    let report = verify(&pdf).unwrap();
    assert_eq!(report.revisions.len(), 4);
    assert_eq!(
        report.revisions[3].changes,
        vec![Change::PagesAdded { count: 1 }]
    );
    for s in &report.signatures {
        assert!(!s.covers_whole_file);
        assert_eq!(
            codes(&s.problems),
            ["pdf.modified_after_signing"],
            "{}",
            s.field
        );
        assert!(
            matches!(&s.problems[0], Problem::ModifiedAfterSigning(c) if c.contains(&Change::PagesAdded { count: 1 }))
        );
    }
    // The signatures themselves still verify: pdfsig agrees, and says nothing covers the end.
    let out = pdfsig(&write_temp(&pdf, "page-added.pdf"));
    assert_eq!(out.matches("Signature is Valid.").count(), 2, "{out}");
    assert!(!out.contains("Total document signed"), "{out}");
}

#[test]
fn changed_page_content_and_a_new_signature_are_told_apart() {
    let signed = sealed_twice();
    let report = verify(&signed).unwrap();
    assert_eq!(
        report.revisions[2].changes,
        vec![Change::SignatureAdded {
            field: "Seal2".into()
        }]
    );
    let pdf = update_with_pyhanko("content", &signed);
    let report = verify(&pdf).unwrap();
    assert_eq!(
        report.revisions[3].changes,
        vec![Change::PageContentChanged { page: 0 }]
    );
    assert_eq!(
        codes(&report.signatures[1].problems),
        ["pdf.modified_after_signing"]
    );
}

#[test]
fn truncated_files_garbage_and_small_contents_have_codes() {
    let pdf = sealed_twice();
    for cut in [pdf.len() / 2, pdf.len() - 7, 100] {
        let err = verify(&pdf[..cut]).unwrap_err();
        assert_eq!(err.code(), "pdf.truncated", "cut at {cut}: {err}");
    }
    for junk in [&b""[..], b"hello", &[0xff; 4096]] {
        assert_eq!(verify(junk).unwrap_err().code(), "pdf.not_a_pdf");
    }
    let mut spec = placement(0, RECT, "Small");
    spec.contents_capacity = 64;
    let prepared = prepare(&fixture("ten-pages-classic.pdf"), &spec).unwrap();
    let p = pki();
    let cms = elicense_pdf::cms::build(
        &prepared.digests().sha256,
        &p.leaf_der,
        &[],
        &|m: &[u8]| elicense_crypto::Signer::sign(&p.key, m),
    )
    .unwrap();
    let err = prepared.complete(&cms).unwrap_err();
    assert_eq!(err.code(), "pdf.contents_too_large");
}

#[test]
fn bad_placements_are_refused_with_codes() {
    let pdf = fixture("ten-pages-classic.pdf");
    let once = seal_es256(
        &pdf,
        &placement(0, RECT, "Seal1"),
        &pki().key,
        &pki().leaf_der,
        &[],
    )
    .unwrap();
    let cases: Vec<(elicense_pdf::SealPlacement, &str)> = vec![
        (placement(10, RECT, "X"), "pdf.no_such_page"),
        (
            placement(0, [10.0, 10.0, 5.0, 20.0], "X"),
            "pdf.bad_placement",
        ),
        (placement(0, RECT, "a.b"), "pdf.bad_placement"),
        (placement(0, RECT, "Seal1"), "pdf.field_exists"),
        (
            elicense_pdf::SealPlacement {
                picture: b"not a png".to_vec(),
                ..placement(0, RECT, "X")
            },
            "pdf.bad_picture",
        ),
    ];
    for (spec, code) in cases {
        assert_eq!(prepare(&once, &spec).unwrap_err().code(), code, "{spec:?}");
    }
}

#[test]
fn mutated_files_never_panic() {
    let pdf = sealed_twice();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in 0..600 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut m = pdf.clone();
        let at = (state as usize) % m.len();
        m[at] = (state >> 32) as u8;
        if i % 3 == 0 {
            m.truncate(at.max(1));
        }
        let _ = verify(&m);
        if i % 10 == 0 {
            let _ = prepare(&m, &placement(1, RECT, "Fuzz"));
        }
    }
}

#[test]
fn ses_contents_are_carried_opaquely_with_the_digests_of_the_signed_bytes() {
    let mut spec = placement(2, RECT, "SES1");
    spec.sub_filter = SubFilter::Other("GB.SES.sm2".into());
    spec.contents_capacity = 512;
    let prepared = prepare(&fixture("ten-pages-classic.pdf"), &spec).unwrap();
    let mut signed = Vec::new();
    std::io::Read::read_to_end(&mut prepared.signed_ranges(), &mut signed).unwrap();
    let digests = prepared.digests();
    // An opaque DER value standing in for a SES_Signature.
    let contents = [&[0x30, 0x05, 0x04, 0x03][..], b"SES"].concat();
    let pdf = prepared.complete(&contents).unwrap();
    let report = verify(&pdf).unwrap();
    let s = &report.signatures[0];
    assert_eq!(s.sub_filter, "GB.SES.sm2");
    assert_eq!(s.contents, contents);
    assert_eq!(s.page, Some(2));
    assert!(s.covers_whole_file && s.is_valid(), "{:?}", s.problems);
    assert_eq!(s.digests, Some(digests));
    // The OpenSSL CLI computes the same SM3 over the signed ranges.
    let path = write_temp(&signed, "ses-signed-ranges.bin");
    let out = Command::new("openssl")
        .args(["dgst", "-sm3", "-binary"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, digests.sm3);
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.stdout, digests.sha256);
    assert_eq!(
        signed.len(),
        pdf.len() - (s.byte_range[2] - s.byte_range[1]) as usize
    );
}

/// Rewrites the last /ByteRange in place with the same length.
fn rewrite_byte_range(pdf: &mut [u8], f: impl Fn([usize; 4]) -> String) {
    let at = pdf.windows(10).rposition(|w| w == b"/ByteRange").unwrap() + 10;
    let end = at + pdf[at..].iter().position(|b| *b == b']').unwrap() + 1;
    let text = String::from_utf8_lossy(&pdf[at + 1..end - 1]).into_owned();
    let v: Vec<usize> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let mut new = f([v[0], v[1], v[2], v[3]]).into_bytes();
    assert!(new.len() <= end - at, "{}", String::from_utf8_lossy(&new));
    new.resize(end - at, b' ');
    pdf[at..end].copy_from_slice(&new);
}

#[test]
fn byte_ranges_that_leave_out_more_than_the_contents_or_run_off_the_file_are_named() {
    let pdf = sealed_twice();
    let mut wider = pdf.clone();
    rewrite_byte_range(&mut wider, |[_, a, b, c]| {
        format!("[0 {} {} {}]", a - 1, b, c)
    });
    let s = &verify(&wider).unwrap().signatures[1];
    assert!(
        codes(&s.problems).contains(&"pdf.byte_range_gap"),
        "{:?}",
        s.problems
    );

    let mut beyond = pdf.clone();
    rewrite_byte_range(&mut beyond, |[_, a, b, c]| format!("[0 {a} {b} {}]", c + 1));
    let s = &verify(&beyond).unwrap().signatures[1];
    assert_eq!(codes(&s.problems), ["pdf.byte_range_malformed"]);

    let mut short = pdf.clone();
    rewrite_byte_range(&mut short, |[_, a, b, c]| format!("[0 {a} {b} {}]", c - 40));
    let s = &verify(&short).unwrap().signatures[1];
    assert!(
        codes(&s.problems).contains(&"pdf.byte_range_not_revision"),
        "{:?}",
        s.problems
    );
}
