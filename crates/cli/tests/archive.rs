//! `elicense archive export` (BagIt, RFC 8493) by license, holder and issuer, and
//! `elicense archive verify` offline: a fresh bag verifies; a changed credential, an extra
//! payload file or a forged checkpoint is reported with exit 1.

mod common;

use common::*;

/// `elicense archive export --data DIR ARGS...`.
fn export(d: &DataDir, args: &[&str]) -> Out {
    let mut v = vec!["archive", "export", "--data", d.data()];
    v.extend_from_slice(args);
    run(&v)
}

#[test]
fn export_and_verify_bags() {
    let d =
        DataDir::with_base_url("http://127.0.0.1:18080").setup(&[(BEIJING_TRAFFIC_POLICE, "sm2")]);
    let mut ids = Vec::new();
    for n in 0..3 {
        let out = d.issue_driving(&format!("持证人{n}"), &resident_id(n), &["--json"]);
        out.ok();
        ids.push(out.json()["identifier"].as_str().unwrap().to_string());
    }
    d.run(&["suspend", &ids[0], "--reason", "违法记分", "--json"])
        .ok();

    // One license: its issue and suspend events, each with a proof.
    let bag = d.path("bag-license");
    let out = export(&d, &["--license", &ids[0], "--out", bag.to_str().unwrap()]);
    out.ok();
    let s = out.json();
    assert_eq!(
        (
            s["licenses"].as_u64(),
            s["events"].as_u64(),
            s["tree_size"].as_u64()
        ),
        (Some(1), Some(2), Some(4))
    );
    for f in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
        "data/checkpoint.txt",
        "data/log-keys.json",
    ] {
        assert!(bag.join(f).exists(), "{f}");
    }
    for entry in std::fs::read_dir(bag.join("data/licenses")).unwrap() {
        let face =
            std::fs::read(entry.unwrap().path().join("face.pdf")).expect("a face per license");
        assert!(face.starts_with(b"%PDF"), "the face is a PDF");
    }
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Payload-Oxum: "), "{info}");
    let out = run(&["archive", "verify", bag.to_str().unwrap()]);
    out.ok();
    let r = out.json();
    assert_eq!(
        (
            r["licenses"].as_u64(),
            r["proofs"].as_u64(),
            r["credentials_verified"].as_u64()
        ),
        (Some(1), Some(2), Some(1)),
        "{r}"
    );

    // By holder and by issuer.
    let bag_h = d.path("bag-holder");
    export(
        &d,
        &[
            "--holder",
            &resident_id(1),
            "--out",
            bag_h.to_str().unwrap(),
        ],
    )
    .ok();
    let r = run(&["archive", "verify", bag_h.to_str().unwrap()]);
    r.ok();
    assert_eq!(r.json()["licenses"], 1);
    let bag_i = d.path("bag-issuer");
    let out = export(
        &d,
        &[
            "--issuer",
            BEIJING_TRAFFIC_POLICE,
            "--out",
            bag_i.to_str().unwrap(),
        ],
    );
    out.ok();
    assert_eq!(out.json()["licenses"], 3);
    let r = run(&["archive", "verify", bag_i.to_str().unwrap()]);
    r.ok();
    assert_eq!(r.json()["proofs"], 4);

    // Exactly one scope; an existing non-empty output is refused.
    export(&d, &["--out", d.path("x").to_str().unwrap()]).expect_code(2);
    export(&d, &["--license", &ids[0], "--out", bag.to_str().unwrap()]).expect_code(2);

    // Tampering.
    let cred = bag.join(format!("data/licenses/{}/credential.txt", ids[0]));
    let original = std::fs::read_to_string(&cred).unwrap();
    std::fs::write(&cred, original.replace('~', "~~")).unwrap();
    let out = run(&["archive", "verify", bag.to_str().unwrap()]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("SHA-256 does not match"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("credential hash"), "{}", out.stderr);
    std::fs::write(&cred, &original).unwrap();
    run(&["archive", "verify", bag.to_str().unwrap()]).ok();

    std::fs::write(bag.join("data/extra.txt"), "x").unwrap();
    let out = run(&["archive", "verify", bag.to_str().unwrap()]);
    out.expect_code(1);
    assert!(out.stderr.contains("not in the manifest"), "{}", out.stderr);
    std::fs::remove_file(bag.join("data/extra.txt")).unwrap();

    let cp = bag.join("data/checkpoint.txt");
    let text = std::fs::read_to_string(&cp).unwrap();
    std::fs::write(&cp, text.replacen("\n4\n", "\n3\n", 1)).unwrap();
    let out = run(&["archive", "verify", bag.to_str().unwrap()]);
    out.expect_code(1);
    assert!(out.stderr.contains("checkpoint.txt"), "{}", out.stderr);
}
