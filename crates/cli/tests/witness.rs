//! `elicense witness admit|forks`: admitting a child's log (its origin, note verifier keys and
//! URL) for the node to co-sign, bad input refused with a stable code that changes nothing,
//! and the (empty) list of fork reports.

mod common;

use common::*;

/// A note verifier key from the Go `sumdb/note` documentation (see crates/log/testdata).
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

fn witness(d: &DataDir, args: &[&str]) -> Out {
    let mut v = vec!["witness", args[0], "--data", d.data()];
    v.extend_from_slice(&args[1..]);
    run(&v)
}

fn fails_with(out: &Out, code: &str) {
    out.expect_code(2);
    assert!(out.stderr.contains(code), "expected {code}: {out:?}");
}

#[test]
fn admit_a_log_and_list_forks() {
    let d = DataDir::empty().setup(&[]);
    let origin = "gulou.example.gov.cn/log";
    let admit = |vkeys: &[&str], url: &str| {
        let mut args = vec!["admit", "--origin", origin, "--url", url];
        for k in vkeys {
            args.extend(["--vkey", k]);
        }
        witness(&d, &args)
    };
    fails_with(
        &admit(&["not-a-key"], "https://gulou.example.gov.cn"),
        "witness.bad_key",
    );
    fails_with(
        &admit(&[VKEY], "ftp://gulou.example.gov.cn"),
        "witness.bad_url",
    );
    let out = admit(&[VKEY], "https://gulou.example.gov.cn/");
    out.ok();
    let v = out.json();
    assert_eq!(v["origin"], origin);
    assert_eq!(v["vkeys"][0], VKEY);
    // A --vkey is required.
    witness(
        &d,
        &["admit", "--origin", origin, "--url", "https://x.example"],
    )
    .expect_code(2);
    let forks = witness(&d, &["forks"]);
    forks.ok();
    assert_eq!(forks.json(), serde_json::json!([]));
}
