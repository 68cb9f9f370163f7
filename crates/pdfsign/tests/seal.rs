//! Sealing fixtures from other producers once and twice; poppler's pdfsig, pyHanko and
//! pdftoppm judge the results, and our own `verify` must agree with them.

mod common;

use common::*;
use elicense_pdf::{seal_es256, verify, Change, XrefKind};

const RECT_A: [f64; 4] = [380.0, 80.0, 500.0, 200.0];
const RECT_B: [f64; 4] = [72.0, 300.0, 192.0, 420.0];

fn seal_once(pdf: &[u8], page: usize, rect: [f64; 4], field: &str) -> Vec<u8> {
    let p = pki();
    seal_es256(
        pdf,
        &placement(page, rect, field),
        &p.key,
        &p.leaf_der,
        std::slice::from_ref(&p.ca_der),
    )
    .unwrap()
}

fn judge(name: &str, sealed: &[u8], fields: &[&str]) {
    outside_judges(name, sealed, fields);
    judge_ours(sealed, fields);
}

/// pdfsig and pyHanko: every field valid, trusted, the last covering the whole file.
fn outside_judges(name: &str, sealed: &[u8], fields: &[&str]) {
    let path = write_temp(sealed, name);
    // PDF_DUMP=DIR keeps the sealed files and the CA for looking at them by hand.
    if let Ok(d) = std::env::var("PDF_DUMP") {
        std::fs::write(format!("{d}/{name}"), sealed).unwrap();
        std::fs::copy(&pki().ca_pem, format!("{d}/ca.pem")).unwrap();
    }
    let out = pdfsig(&path);
    let valid = out
        .matches("Signature Validation: Signature is Valid.")
        .count();
    assert_eq!(valid, fields.len(), "pdfsig on {name}:\n{out}");
    for f in fields {
        assert!(
            out.contains(&format!("Signature Field Name: {f}")),
            "pdfsig on {name}:\n{out}"
        );
    }
    assert!(
        out.contains("Total document signed"),
        "pdfsig on {name}:\n{out}"
    );
    let (ok, out) = pyhanko_validate(&path);
    assert!(ok, "pyHanko on {name}:\n{out}");
    for (i, f) in fields.iter().enumerate() {
        assert!(
            out.contains(&format!("Field {}: {f}", i + 1)),
            "pyHanko on {name}:\n{out}"
        );
    }
    assert_eq!(
        out.matches("The signature is judged VALID.").count(),
        fields.len(),
        "pyHanko on {name}:\n{out}"
    );
    // Every earlier signature sees only signing and form filling after it.
    assert_eq!(
        out.matches("All modifications relate to signing and form filling")
            .count(),
        fields.len() - 1,
        "pyHanko on {name}:\n{out}"
    );
    assert_eq!(
        out.matches("The signature is cryptographically sound")
            .count(),
        fields.len(),
        "pyHanko on {name}:\n{out}"
    );
    assert_eq!(
        out.matches("The signer's certificate is trusted").count(),
        fields.len(),
        "pyHanko on {name}:\n{out}"
    );
}

/// The outside judges and our verify, for files whose first signatures are not ours.
fn judge_fields(name: &str, sealed: &[u8], fields: &[&str]) {
    outside_judges(name, sealed, fields);
    let report = verify(sealed).unwrap();
    assert!(
        report.signatures.iter().all(|s| s.is_valid()),
        "{:?}",
        report.signatures
    );
    let names: Vec<&str> = report.signatures.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(names, fields);
}

fn judge_ours(sealed: &[u8], fields: &[&str]) {
    let report = verify(sealed).unwrap();
    assert_eq!(report.signatures.len(), fields.len());
    for (s, f) in report.signatures.iter().zip(fields) {
        assert_eq!(s.field, *f);
        assert!(s.is_valid(), "{f}: {:?}", s.problems);
        assert_eq!(s.sub_filter, "ETSI.CAdES.detached");
        assert_eq!(s.signer_certificate.as_deref(), Some(&pki().leaf_der[..]));
        assert_eq!(s.signing_time.as_deref(), Some("D:20250301093000+08'00'"));
        assert_eq!(s.name.as_deref(), Some("北京市测试局"));
    }
    assert!(report.signatures.last().unwrap().covers_whole_file);
}

#[test]
fn seals_a_classic_xref_pdf_once_and_twice() {
    let pdf = fixture("ten-pages-classic.pdf");
    let once = seal_once(&pdf, 0, RECT_A, "Seal1");
    assert_eq!(
        &once[..pdf.len()],
        &pdf[..],
        "an incremental update keeps the original bytes"
    );
    assert_eq!(xref_kind_of_last_update(&once), XrefKind::Table);
    judge("classic-once.pdf", &once, &["Seal1"]);
    let twice = seal_once(&once, 9, RECT_B, "Seal2");
    judge("classic-twice.pdf", &twice, &["Seal1", "Seal2"]);

    let report = verify(&twice).unwrap();
    let first = &report.signatures[0];
    assert!(!first.covers_whole_file);
    assert_eq!(first.page, Some(0));
    assert_eq!(first.rect, Some(RECT_A));
    assert_eq!(report.signatures[1].page, Some(9));
    assert_eq!(first.later_revisions.len(), 1);
    let later = &report.revisions[first.later_revisions[0]];
    assert_eq!(
        later.changes,
        vec![Change::SignatureAdded {
            field: "Seal2".into()
        }]
    );

    let path = write_temp(&twice, "classic-twice-render.pdf");
    let (inside, outside) = red_pixels(&render(&path, 0), RECT_A);
    assert!(
        inside > 1000 && outside == 0,
        "page 1: {inside} red pixels inside, {outside} outside"
    );
    let (inside, outside) = red_pixels(&render(&path, 9), RECT_B);
    assert!(
        inside > 1000 && outside == 0,
        "page 10: {inside} red pixels inside, {outside} outside"
    );
}

#[test]
fn seals_an_xref_stream_pdf_with_object_streams() {
    let pdf = fixture("three-pages-objstm.pdf");
    let once = seal_once(&pdf, 1, RECT_A, "Seal1");
    assert_eq!(xref_kind_of_last_update(&once), XrefKind::Stream);
    judge("objstm-once.pdf", &once, &["Seal1"]);
    let twice = seal_once(&once, 2, RECT_B, "Seal2");
    judge("objstm-twice.pdf", &twice, &["Seal1", "Seal2"]);
}

fn xref_kind_of_last_update(pdf: &[u8]) -> XrefKind {
    // The last section of our update: an xref stream ends with `endobj` before startxref.
    let tail = String::from_utf8_lossy(&pdf[pdf.len() - 80..]).into_owned();
    if tail.contains("endobj") {
        XrefKind::Stream
    } else {
        XrefKind::Table
    }
}

#[test]
fn seals_an_svg2pdf_document() {
    let pdf = fixture("svg2pdf.pdf");
    let once = seal_once(&pdf, 0, RECT_A, "Seal1");
    judge("svg2pdf-once.pdf", &once, &["Seal1"]);
    let twice = seal_once(&once, 0, RECT_B, "Seal2");
    judge("svg2pdf-twice.pdf", &twice, &["Seal1", "Seal2"]);
    let path = write_temp(&twice, "svg2pdf-render.pdf");
    let img = render(&path, 0);
    let (a, _) = red_pixels(&img, RECT_A);
    let (b, _) = red_pixels(&img, RECT_B);
    let (all, _) = red_pixels(&img, [0.0, 0.0, 1e4, 1e4]);
    assert!(
        a > 1000 && b > 1000 && a + b == all,
        "red pixels: {a} in A, {b} in B, {all} in all"
    );
}

#[test]
fn seals_after_a_pyhanko_signature_and_reads_it() {
    // pyHanko signs first (its own CMS, its AcroForm as an indirect object), we seal after.
    let p = pki();
    let src = write_temp(&fixture("ten-pages-classic.pdf"), "for-pyhanko.pdf");
    let dst = src.with_file_name("by-pyhanko.pdf");
    let d = p.dir.path();
    let bin =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/pyhanko/bin/pyhanko");
    let out = std::process::Command::new(bin)
        .args([
            "sign",
            "addsig",
            "--field",
            "PyHanko",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(d.join("leaf.key"))
        .arg("--cert")
        .arg(d.join("leaf.pem"))
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = std::fs::read(&dst).unwrap();
    let report = verify(&theirs).unwrap();
    assert_eq!(report.signatures.len(), 1);
    assert!(
        report.signatures[0].is_valid(),
        "{:?}",
        report.signatures[0].problems
    );
    assert_eq!(
        report.signatures[0].signer_certificate.as_deref(),
        Some(&p.leaf_der[..])
    );

    let ours = seal_once(&theirs, 3, RECT_A, "Seal1");
    judge_fields("after-pyhanko.pdf", &ours, &["PyHanko", "Seal1"]);
}
