//! Shared state of the handlers and the request-metrics middleware.
//!
//! Invariant: every label of the request metrics comes from a bounded set (the router's
//! route templates or `unmatched`, `method_label`'s eight labels, HTTP status codes), so no
//! request can add series at will.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use elicense_app::wallet::oidc::Oidc;
use elicense_app::wallet::{IdentityProvider, LocalAccounts};
use elicense_app::Node;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub node: Arc<Node>,
    pub metrics: PrometheusHandle,
    /// Identity proofing of wallet holders (the node's own accounts unless another is plugged in).
    pub identity: Arc<dyn IdentityProvider>,
    /// The OpenID Connect provider holders may sign in with (`NodeConfig::oidc`), if any.
    pub oidc: Option<Arc<Oidc>>,
}

impl AppState {
    pub fn new(node: Arc<Node>) -> Self {
        let identity = Arc::new(LocalAccounts::new(&node));
        Self::with_identity(node, identity)
    }

    /// A state whose wallet signs holders in through `identity` (e.g. an OIDC provider).
    pub fn with_identity(node: Arc<Node>, identity: Arc<dyn IdentityProvider>) -> Self {
        let oidc = node.config.oidc.clone().map(|s| Arc::new(Oidc::new(s)));
        AppState {
            node,
            metrics: metrics_handle(),
            identity,
            oidc,
        }
    }
}

/// The process-wide Prometheus recorder (installed once, shared by every router).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed already (tests); ours then stays unused.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts requests and their duration per route and status.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("elicense_http_requests_total", "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("elicense_http_request_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// The metrics label of a request method: one of seven methods, or `other`.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
