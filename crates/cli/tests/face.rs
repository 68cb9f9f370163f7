//! `elicense face`: a license's face as PDF (text extractable with pdftotext, sealed by its
//! issuer: `pdfsig` says the signature is valid), PNG and SVG; bad input exits 2 with a stable
//! code and writes nothing.

mod common;

use common::*;

#[test]
fn face_renders_pdf_png_and_svg_and_refuses_bad_input() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    let out = d.issue_driving("张伟", "11010519491231002X", &["--json"]);
    out.ok();
    let id = out.json()["identifier"].as_str().unwrap().to_string();

    let pdf = d.tmp.path().join("face.pdf");
    d.run(&[
        "face",
        &id,
        "--format",
        "pdf",
        "--out",
        pdf.to_str().unwrap(),
    ])
    .ok();
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils, installed by scripts/deps.sh)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("张伟"),
        "holder name is text in the PDF: {text}"
    );
    assert!(text.contains("机动车驾驶证"), "{text}");
    // The face leaves sealed by its issuer (ES256, PAdES): an ordinary PDF tool checks it.
    let pdfsig = std::process::Command::new("pdfsig")
        .arg(&pdf)
        .output()
        .expect("pdfsig (poppler-utils)");
    let report = String::from_utf8_lossy(&pdfsig.stdout);
    assert!(report.contains("Signature is Valid."), "{report}");
    assert!(report.contains("Total document signed"), "{report}");

    let png = d.tmp.path().join("face.png");
    d.run(&[
        "face",
        &id,
        "--format",
        "png",
        "--out",
        png.to_str().unwrap(),
    ])
    .ok();
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let svg = d.run(&["face", &id, "--format", "svg", "--out", "-"]);
    svg.ok();
    assert!(svg.stdout.contains("<svg") && svg.stdout.contains("张伟"));

    let missing = d.tmp.path().join("missing.pdf");
    let unknown = id.replace(".001.", ".002.");
    let out = d.run(&["face", &unknown, "--out", missing.to_str().unwrap()]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("license.not_found") || out.stderr.contains("identifier."),
        "{}",
        out.stderr
    );
    assert!(!missing.exists(), "nothing written on error");
    let out = d.run(&[
        "face",
        &id,
        "--format",
        "gif",
        "--out",
        missing.to_str().unwrap(),
    ]);
    out.expect_code(2);
}
