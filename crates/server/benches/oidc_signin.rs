//! What OpenID Connect sign-in costs the node: `cargo bench -p elicense-server --bench
//! oidc_signin [-- COUNT]`.
//!
//! A node on 127.0.0.1 (SQLite in a temp dir) signs a person in COUNT times (default 200)
//! through the real `oidc-provider` of `tests/idp/` (installed by `scripts/deps.sh`). For each
//! callback the node reports in `Server-Timing` its whole time (`app`) and the time it waited
//! for the provider (`idp`: the token endpoint's answer; discovery and the JWKS come from the
//! cache after the first sign-in). The figure is the node's own time, `app - idp`: taking the
//! pre-login record, verifying the ID token, finding the account and opening the session.
//! The target is ≤ 5 ms over the provider's own answers.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/idp/mod.rs"]
mod idp;

use std::sync::Arc;

fn timing(h: &str, name: &str) -> f64 {
    h.split(',')
        .map(str::trim)
        .find_map(|e| e.strip_prefix(&format!("{name};dur=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {h:?}"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let srv = idp::node(Arc::new(elicense_app::SystemClock), "RS256").await;
    // One sign-in first: it fetches discovery and the JWKS and creates the account.
    idp::sign_in(&srv, "li-na").await;
    let (mut own, mut provider, mut whole) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..count {
        let at = idp::authorize(&srv, "li-na", "/wallet").await;
        let resp = idp::callback(&at.callback, Some(&at.cookie)).await;
        assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);
        let h = resp.headers()["server-timing"].to_str().unwrap().to_owned();
        let (app, idp) = (timing(&h, "app"), timing(&h, "idp"));
        own.push(app - idp);
        provider.push(idp);
        whole.push(app);
    }
    for v in [&mut own, &mut provider, &mut whole] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    let line = |name: &str, v: &[f64]| {
        println!(
            "{name:<34} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
            percentile(v, 0.5),
            percentile(v, 0.99),
            v[v.len() - 1]
        )
    };
    println!("OIDC sign-in callback, {count} sign-ins (RS256 ID tokens, SQLite)");
    line("node's own time (app - idp)", &own);
    line("waiting for the provider (idp)", &provider);
    line("whole callback (app)", &whole);
    println!(
        "target: node's own time <= 5 ms: {}",
        if percentile(&own, 0.5) <= 5.0 {
            "met (p50)"
        } else {
            "NOT met"
        }
    );
}
