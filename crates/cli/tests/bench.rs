//! `elicense bench issue|http-issue|http-verify|algs`: issuing with the store's own floor, the
//! benchmarks that drive a real node process over loopback with HTTP's own floor, and the raw
//! limits of every algorithm, run with small counts. What is
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
        // HTTP alone: the same requests to a path the node does not serve (every answer a 404,
        // checked by the benchmark), with the ceiling that leaves for any handler.
        assert!(
            v["http_floor_per_s"].as_f64().is_some_and(|x| x > 0.0),
            "{v}"
        );
        // The floor's 40 requests take a few milliseconds: CPU read in whole clock ticks over
        // so short a time says little, only that it was read.
        for key in ["http_floor_server_cpu_share", "http_floor_client_cpu_share"] {
            assert!(share(key) >= 0.0, "{key}: {v}");
        }
        assert!(v["raw_cpu_us"].as_f64().is_some_and(|x| x > 0.0), "{v}");
        assert!(
            v["ceiling_ratio"]
                .as_f64()
                .is_some_and(|x| x > 0.0 && x <= 1.0),
            "{v}"
        );
    }
}

#[test]
fn issue_benchmark_reports_the_store_alone_beside_issuing() {
    let out = run(&[
        "bench",
        "issue",
        "--count",
        "30",
        "--tasks",
        "4",
        "--raw-secs",
        "0.1",
        "--json",
    ]);
    out.ok();
    let v = out.json();
    assert_eq!(
        (v["bench"].as_str(), v["count"].as_u64()),
        (Some("issue"), Some(30))
    );
    for key in [
        "raw_per_s",
        "end_to_end_per_s",
        "with_log_proof_per_s",
        "store_floor_per_s",
        "store_floor_ratio",
        "of_store_floor",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
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
