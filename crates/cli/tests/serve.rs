//! `elicense serve` as a process: `/metrics` on a listen address of its own (flag, environment
//! or `elicense.toml`), and the main listener then answers 404 there; SIGTERM and SIGINT stop
//! it gracefully.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// Spawns `cmd` and waits until both ports answer.
fn start(cmd: std::process::Command, d: &DataDir, main: u16, metrics: u16) -> Running {
    let mut proc = Running::spawn(cmd, d.tmp.path(), "serve");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !(http_ok(main, "/healthz") && http_ok(metrics, "/metrics")) {
        if let Some(code) = proc.exited() {
            panic!("serve exited with {code}:\n{}", proc.stderr());
        }
        assert!(Instant::now() < deadline, "not ready:\n{}", proc.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    proc
}

fn assert_split(main: u16, metrics: u16) {
    let (status, body) = http_get(main, "/metrics").expect("main answers");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("route.not_found"), "{body}");
    let (status, body) = http_get(metrics, "/metrics").expect("metrics answer");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("elicense_http_requests_total"), "{body}");
    let (status, _) = http_get(metrics, "/api/v1/catalogue").expect("metrics answer");
    assert_eq!(status, 404, "the metrics listener serves only /metrics");
    let (status, _) = http_get(main, "/api/v1/catalogue").expect("main answers");
    assert_eq!(status, 200);
}

#[test]
fn metrics_listen_flag_moves_metrics_to_their_own_port() {
    let (main, metrics) = (free_port(), free_port());
    let d = DataDir::with_base_url(&format!("http://127.0.0.1:{main}")).setup(&[]);
    let (listen, metrics_listen) = (format!("127.0.0.1:{main}"), format!("127.0.0.1:{metrics}"));
    let _p = start(
        command(&[
            "serve",
            "--data",
            d.data(),
            "--listen",
            &listen,
            "--metrics-listen",
            &metrics_listen,
        ]),
        &d,
        main,
        metrics,
    );
    assert_split(main, metrics);
}

#[test]
fn metrics_listen_comes_from_the_environment_or_the_config_file() {
    let (main, metrics) = (free_port(), free_port());
    let d = DataDir::with_base_url(&format!("http://127.0.0.1:{main}")).setup(&[]);
    let listen = format!("127.0.0.1:{main}");
    let mut cmd = command(&["serve", "--data", d.data(), "--listen", &listen]);
    cmd.env("ELICENSE_METRICS_LISTEN", format!("127.0.0.1:{metrics}"));
    let p = start(cmd, &d, main, metrics);
    assert_split(main, metrics);
    drop(p);

    let (main, metrics) = (free_port(), free_port());
    std::fs::write(
        d.dir.join("elicense.toml"),
        format!(
            "base_url = \"http://127.0.0.1:{main}\"\nmetrics_listen = \"127.0.0.1:{metrics}\"\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{main}");
    let _p = start(
        command(&["serve", "--data", d.data(), "--listen", &listen]),
        &d,
        main,
        metrics,
    );
    assert_split(main, metrics);
}

#[test]
fn federation_flags_are_checked_and_published() {
    let main = free_port();
    let d = DataDir::with_base_url(&format!("http://127.0.0.1:{main}")).setup(&[]);
    let listen = format!("127.0.0.1:{main}");
    // A county node without a parent does not start.
    let out = run_command(
        command(&[
            "serve",
            "--data",
            d.data(),
            "--listen",
            &listen,
            "--area",
            "320102",
            "--level",
            "county",
        ]),
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("config.invalid"), "{}", out.stderr);

    let parent = format!("http://127.0.0.1:{}", free_port());
    let county = [
        "serve",
        "--data",
        d.data(),
        "--listen",
        &listen,
        "--area",
        "320102",
        "--level",
        "county",
        "--parent",
        &parent,
    ];
    // Nor one whose hub keys are not pinned.
    let out = run_command(command(&county), None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("config.invalid") && out.stderr.contains("hub_keys"),
        "{}",
        out.stderr
    );
    // `node keys` writes a node's public JWKS (here a stand-in hub's).
    let hub = DataDir::empty();
    let pinned = d.tmp.path().join("hub-keys.json");
    run(&[
        "node",
        "keys",
        "--data",
        hub.data(),
        "--out",
        pinned.to_str().unwrap(),
    ])
    .ok();
    let jwks: serde_json::Value = serde_json::from_slice(&std::fs::read(&pinned).unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert!(jwks["keys"][0]["kid"].is_string());
    let mut with_keys = county.to_vec();
    with_keys.extend(["--hub-keys", pinned.to_str().unwrap()]);
    let mut p = Running::spawn(command(&with_keys), d.tmp.path(), "serve");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !http_ok(main, "/healthz") {
        if let Some(code) = p.exited() {
            panic!("serve exited with {code}:\n{}", p.stderr());
        }
        assert!(Instant::now() < deadline, "not ready:\n{}", p.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = http_get(main, "/.well-known/elicense-node").expect("node answers");
    assert_eq!(status, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["area"], "320102");
    assert_eq!(doc["level"], "county");
    assert_eq!(doc["parent"], parent.as_str());
    assert!(d.dir.join("node-key.pem").exists() && d.dir.join("witness-key.pem").exists());
}

/// SIGTERM (systemd's, `docker stop`'s and Kubernetes' way to stop a service) and SIGINT
/// (Ctrl-C) both stop the node through its graceful shutdown: it says so and exits 0, and the
/// port is free afterwards. Before, SIGTERM killed it at once, in-flight requests and all.
#[test]
fn sigterm_and_sigint_stop_the_node_gracefully() {
    for signal in ["TERM", "INT"] {
        let port = free_port();
        let d = DataDir::with_base_url(&format!("http://127.0.0.1:{port}")).setup(&[]);
        let mut node = Server::serve(&d, port, "serve");
        node.proc.signal(signal);
        let code = node.proc.wait(Duration::from_secs(30));
        assert_eq!(code, 0, "SIG{signal}: {}", node.proc.stderr());
        assert!(
            node.proc.stderr().contains("shutting down"),
            "SIG{signal}: {}",
            node.proc.stderr()
        );
        assert!(!http_ok(port, "/healthz"), "SIG{signal}: still answering");
    }
}
