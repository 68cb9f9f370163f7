//! `elicense bench http-issue|http-verify|algs`: the benchmarks that drive a real node process
//! over loopback, and the raw limits of every algorithm, run with small counts. What is
//! checked is that they do the work they report (every answer checked by the benchmark
//! itself) and report it completely, never how fast it went.

mod common;

use common::*;

#[test]
fn http_benchmarks_drive_a_node_process_and_report_both_sides() {
    for (what, alg) in [("http-issue", "sm2"), ("http-verify", "es256")] {
        let out = run(&[
            "bench",
            what,
            "--alg",
            alg,
            "--count",
            "40",
            "--http-clients",
            "4",
            "--raw-secs",
            "0.2",
            "--json",
        ]);
        out.ok();
        let v = out.json();
        assert_eq!(v["bench"], what, "{v}");
        assert_eq!(v["alg"], alg, "{v}");
        assert_eq!(
            (v["count"].as_u64(), v["http_clients"].as_u64()),
            (Some(40), Some(4))
        );
        for key in ["raw_per_s", "end_to_end_per_s", "ratio"] {
            assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
        }
        // Each side's CPU is read from its own /proc: the node did measurable work; the
        // client's share of 40 requests may round to nothing (whole clock ticks).
        let share = |key: &str| v[key].as_f64().unwrap_or_else(|| panic!("{key}: {v}"));
        assert!(share("server_cpu_share") > 0.0, "{v}");
        for key in ["server_cpu_share", "client_cpu_share"] {
            assert!((0.0..=1.05).contains(&share(key)), "{key}: {v}");
        }
        assert!(
            v["implementation"].as_str().is_some_and(|s| !s.is_empty()),
            "{v}"
        );
    }
}

#[test]
fn algs_reports_every_algorithm_on_one_and_all_cores() {
    let out = run(&["bench", "algs", "--raw-secs", "0.1", "--json"]);
    out.ok();
    let v = out.json();
    let algs = v["algs"].as_array().expect("algs");
    let names: Vec<_> = algs.iter().map(|a| a["alg"].as_str().unwrap()).collect();
    assert_eq!(names, ["sm2", "ed25519", "es256"], "{v}");
    for a in algs {
        for key in [
            "sign_per_core_per_s",
            "verify_per_core_per_s",
            "sign_all_cores_per_s",
            "verify_all_cores_per_s",
        ] {
            assert!(a[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {a}");
        }
    }
    assert!(
        v["sm2_to_es256"]["verify"]
            .as_f64()
            .is_some_and(|x| x > 0.0),
        "{v}"
    );
}
