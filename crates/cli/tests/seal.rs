//! `elicense seal create|cert|sign|verify|list|revoke` on a data dir, judged by outside tools:
//! the OpenSSL CLI verifies the certificate chain `seal cert` prints, poppler's `pdfsig` the
//! ES256 seal of a jointly sealed PDF; `seal verify` answers the same locally and through a
//! running node (`--node`). Bad input exits 2 with a stable code and writes nothing.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn seal(d: &DataDir, sub: &str, rest: &[&str]) -> Out {
    let mut args = vec!["seal", sub, "--data", d.data()];
    args.extend_from_slice(rest);
    run(&args)
}

fn classic() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pdfsign/testdata/ten-pages-classic.pdf")
        .display()
        .to_string()
}

#[test]
fn seals_are_filed_sign_pdfs_and_verify_here_and_through_a_node() {
    let port = free_port();
    let d = DataDir::with_base_url(&format!("http://127.0.0.1:{port}")).setup(&[]);
    let created = seal(
        &d,
        "create",
        &[
            "--owner",
            BEIJING_SAMR,
            "--kind",
            "official",
            "--name",
            "北京市市场监督管理局",
            "--alg",
            "es256",
            "--json",
        ],
    );
    created.ok();
    let es = created.json();
    let es_id = es["seal_id"].as_str().unwrap().to_owned();
    assert!(es["certificate"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    let sm = seal(
        &d,
        "create",
        &[
            "--owner",
            BEIJING_TRAFFIC_POLICE,
            "--kind",
            "contract",
            "--name",
            "北京市公安局公安交通管理局合同专用章",
        ],
    );
    sm.ok();
    let sm_id = sm.json()["seal_id"].as_str().unwrap().to_owned();
    assert_eq!(sm.json()["alg"], "sm2", "SM2 by default");

    // Bad input: another kind of seal, a malformed owner code.
    seal(
        &d,
        "create",
        &["--owner", BEIJING_SAMR, "--kind", "stamp", "--name", "x"],
    )
    .expect_code(2);
    let bad = seal(
        &d,
        "create",
        &["--owner", "91110000X", "--kind", "official", "--name", "x"],
    );
    bad.expect_code(2);
    assert!(bad.stderr.contains("uscc."), "{}", bad.stderr);

    // The chain verifies with OpenSSL.
    let chain = seal(&d, "cert", &["--seal", &es_id]);
    chain.ok();
    let pems: Vec<&str> = chain
        .stdout
        .split_inclusive("-----END CERTIFICATE-----\n")
        .collect();
    assert_eq!(pems.len(), 2, "{}", chain.stdout);
    let (leaf, ca) = (d.path("leaf.pem"), d.path("ca.pem"));
    std::fs::write(&leaf, pems[0]).unwrap();
    std::fs::write(&ca, pems[1]).unwrap();
    let v = std::process::Command::new("openssl")
        .args([
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            leaf.to_str().unwrap(),
        ])
        .output()
        .expect("openssl");
    assert!(
        String::from_utf8_lossy(&v.stdout).contains(": OK"),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );

    // A joint seal: the SM2 contract seal on page 1, the ES256 official seal on page 2.
    let sealed = d.path("sealed.pdf");
    seal(
        &d,
        "sign",
        &[
            "--seal",
            &sm_id,
            "--seal",
            &es_id,
            "--page",
            "1",
            "--page",
            "2",
            "--in",
            &classic(),
            "--out",
            sealed.to_str().unwrap(),
            "--purpose",
            "联合发文",
        ],
    )
    .ok();
    let pdfsig = std::process::Command::new("pdfsig")
        .arg(&sealed)
        .output()
        .expect("pdfsig (poppler-utils, installed by scripts/deps.sh)");
    let report = String::from_utf8_lossy(&pdfsig.stdout);
    assert!(report.contains("Signature #2"), "{report}");
    assert!(
        report.contains("Signature is Valid."),
        "the ES256 seal: {report}"
    );
    let verdict = seal(&d, "verify", &[sealed.to_str().unwrap()]);
    verdict.expect_code(0);
    let v = verdict.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["seal_id"], sm_id.as_str());
    assert_eq!(v["signatures"][1]["seal_id"], es_id.as_str());

    // Not a PDF: exit 2, nothing written.
    let notes = d.path("notes.txt");
    std::fs::write(&notes, "not a pdf").unwrap();
    let out_path = d.path("never.pdf");
    let out = seal(
        &d,
        "sign",
        &[
            "--seal",
            &es_id,
            "--in",
            notes.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
        ],
    );
    out.expect_code(2);
    assert!(out.stderr.contains("pdf.not_a_pdf"), "{}", out.stderr);
    assert!(!out_path.exists());

    // A changed byte: exit 1.
    let mut bytes = std::fs::read(&sealed).unwrap();
    let i = bytes.len() / 3;
    bytes[i] ^= 1;
    let changed = d.path("changed.pdf");
    std::fs::write(&changed, bytes).unwrap();
    seal(&d, "verify", &[changed.to_str().unwrap()]).expect_code(1);

    // Through a running node, the same verdict.
    let mut node = Running::spawn(
        command(&[
            "serve",
            "--data",
            d.data(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ]),
        d.tmp.path(),
        "serve",
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    while !http_ok(port, "/healthz") {
        if let Some(code) = node.exited() {
            panic!("serve exited with {code}:\n{}", node.stderr());
        }
        assert!(Instant::now() < deadline, "not ready:\n{}", node.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
    let remote = run(&["seal", "verify", "--node", &url, sealed.to_str().unwrap()]);
    remote.expect_code(0);
    assert_eq!(remote.json()["signatures"].as_array().unwrap().len(), 2);
    node.kill9();

    // Revoked: the register says so and the document no longer verifies.
    seal(&d, "revoke", &["--seal", &sm_id]).ok();
    let listed = seal(&d, "list", &["--owner", BEIJING_TRAFFIC_POLICE]);
    listed.ok();
    assert_eq!(listed.json()[0]["status"], "revoked");
    let after = seal(&d, "verify", &[sealed.to_str().unwrap()]);
    after.expect_code(1);
    assert!(after.json()["signatures"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "seal.revoked"));
}
