//! The HTTP face of an elicense node (axum). Handlers parse, call one use case, and map the
//! result; HTTP status mapping lives in `error.rs`; the OpenAPI document is generated from the
//! same route registrations (utoipa-axum), so it cannot drift from the router.

pub mod auth;
pub mod body;
pub mod client;
pub mod csrf;
pub mod error;
pub mod ident;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod serve;
pub mod signed;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use elicense_app::Node;

pub use serve::Limits;
pub use state::AppState;

/// Largest request body accepted (a credential, a presentation, an issue request).
pub const MAX_BODY: usize = 256 * 1024;

/// The node's router: API, well-known documents, status lists, OpenAPI, pages, `/metrics`.
pub fn router(node: Arc<Node>) -> Router {
    app_router(AppState::new(node), true)
}

/// The router on `state`; without `/metrics` (a JSON 404 like any unknown path) when
/// `with_metrics` is false, i.e. when the metrics have a listener of their own.
fn app_router(state: AppState, with_metrics: bool) -> Router {
    let (router, api) = routes::api_router().split_for_parts();
    let api = Arc::new(openapi::finish(api));
    router
        .merge(pages::router())
        .route(
            OPENAPI_PATH,
            axum::routing::get(move || {
                let api = api.clone();
                async move { axum::Json(api.as_ref().clone()) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| hide_metrics(with_metrics, req, next),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::layer,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(state::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

/// Where the OpenAPI document is served (the one route outside the API and the pages).
const OPENAPI_PATH: &str = "/api/openapi.json";

/// Every (method, path template) this node serves: the API's operations as its OpenAPI
/// document names them (`{param}` templates), the page routes, and the OpenAPI document
/// itself. Read from the same registrations the router is built from.
pub fn route_list() -> Vec<(axum::http::Method, String)> {
    let doc = serde_json::to_value(openapi_document()).expect("the document serializes");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            let method = axum::http::Method::from_bytes(method.to_uppercase().as_bytes())
                .expect("an HTTP method");
            out.push((method, path.clone()));
        }
    }
    out.extend(
        pages::route_list()
            .into_iter()
            .map(|(m, p)| (m, p.to_owned())),
    );
    out.push((axum::http::Method::GET, OPENAPI_PATH.to_owned()));
    out
}

/// The OpenAPI document `/api/openapi.json` serves.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(routes::api_router().split_for_parts().1)
}

/// The router of a separate metrics listener: `/metrics` only.
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            METRICS_PATH,
            axum::routing::get(routes::metrics::get::handler),
        )
        .fallback(not_found)
        .with_state(state)
}

const METRICS_PATH: &str = "/metrics";

/// `/metrics` answers as an unknown path unless this listener serves the metrics.
async fn hide_metrics(with_metrics: bool, req: Request, next: Next) -> Response {
    if !with_metrics && req.uri().path() == METRICS_PATH {
        return not_found().await.into_response();
    }
    next.run(req).await
}

/// Unknown paths: a JSON error like every other.
async fn not_found() -> error::ApiError {
    error::ApiError::new(
        elicense_app::ErrorKind::NotFound,
        "route.not_found",
        "no such route",
    )
}

/// Known path, wrong method.
async fn method_not_allowed() -> error::ApiError {
    error::ApiError::new(
        elicense_app::ErrorKind::Invalid,
        "route.method_not_allowed",
        "this route does not take that method",
    )
}

/// How a node is served (see `serve.rs` for the limits' invariants).
#[derive(Debug, Default)]
pub struct ServeOptions {
    pub limits: Limits,
    /// A listener of its own for `/metrics`; the main listener then answers 404 there.
    pub metrics: Option<tokio::net::TcpListener>,
}

/// Serves `node` on `listener` with the default options until `shutdown` resolves.
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(node, listener, ServeOptions::default(), shutdown).await
}

/// Serves `node` on `listener` (and its metrics on `options.metrics`) until `shutdown`
/// resolves and every connection has closed; runs the expiry sweeper meanwhile, and on a member
/// node with a parent the witness submitter (its checkpoints co-signed by the parent).
pub async fn serve_with(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep_expired(node.clone()));
    let sessions = tokio::spawn(sweep_sessions(node.clone()));
    // Presentation results are posted to the institutions' webhooks, retried.
    let webhooks = tokio::spawn(elicense_app::institutions::presentations::run_webhooks(
        node.clone(),
    ));
    // A member node with a parent pushes its log and its children's entries upward.
    let upward = node
        .config
        .federation
        .identity()
        .and_then(|i| i.parent())
        .is_some()
        .then(|| {
            tokio::spawn(elicense_app::federation::sync::run(
                node.clone(),
                elicense_app::federation::sync::IDLE,
            ))
        });
    // A member node has its checkpoints co-signed (C2SP tlog-witness): by its parent, or,
    // on the hub, by its children.
    let submitter = node.config.federation.identity().is_some().then(|| {
        tokio::spawn(elicense_app::federation::witness::run_submitter(
            node.clone(),
            WITNESS_SUBMIT_EVERY,
        ))
    });
    // A member node publishes (the hub) or refreshes (the others) the trust list.
    let trust = node
        .config
        .federation
        .identity()
        .is_some()
        .then(|| tokio::spawn(elicense_app::federation::trust::run(node.clone())));
    let state = AppState::new(node);
    // The fork counter is on /metrics from the start (at 0), not only after the first fork.
    metrics::counter!(elicense_app::federation::witness::FORKS_METRIC).increment(0);
    let shutdown = serve::Shutdown::on(shutdown);
    let limits = options.limits;
    let main = serve::accept_loop(
        listener,
        app_router(state.clone(), options.metrics.is_none()),
        limits,
        shutdown.clone(),
    );
    let out = match options.metrics {
        Some(metrics) => {
            let metrics = serve::accept_loop(metrics, metrics_router(state), limits, shutdown);
            let (a, b) = tokio::join!(main, metrics);
            a.and(b)
        }
        None => main.await,
    };
    sweeper.abort();
    sessions.abort();
    webhooks.abort();
    if let Some(u) = upward {
        u.abort();
    }
    if let Some(s) = submitter {
        s.abort();
    }
    if let Some(t) = trust {
        t.abort();
    }
    out
}

/// How often a member node offers its checkpoint to its parent's witness (when the log grew).
const WITNESS_SUBMIT_EVERY: Duration = Duration::from_secs(2);

/// Failed sign-ins are kept this long for their owner, seconds.
const FAILURES_KEPT_SECS: i64 = 90 * 86_400;

/// Deletes sessions past their lifetime, old failed sign-ins, OpenID Connect sign-ins never
/// finished and expired OpenID4VCI offers and nonces, every ten minutes.
async fn sweep_sessions(node: Arc<Node>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = node.now();
        let session_life = elicense_app::wallet::session::SESSION_SECS;
        if let Err(e) = node.store.purge_sessions(now - session_life).await {
            tracing::warn!(code = e.code(), error = %e, "session sweep failed");
        }
        if let Err(e) = node
            .store
            .purge_sign_in_failures(now - FAILURES_KEPT_SECS)
            .await
        {
            tracing::warn!(code = e.code(), error = %e, "sign-in failure sweep failed");
        }
        if let Err(e) = elicense_app::wallet::oidc::Oidc::purge(&node).await {
            tracing::warn!(code = e.code, error = %e.message, "OIDC pre-login purge failed");
        }
        if let Err(e) = elicense_app::wallet::vci::purge(&node).await {
            tracing::warn!(code = e.code, error = %e.message, "OpenID4VCI offer purge failed");
        }
    }
}

/// Once a second: moves licenses whose validity ended to `expired` and deletes presentations
/// that expired a while ago (they hold disclosed personal data).
async fn sweep_expired(node: Arc<Node>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = elicense_app::lifecycle::expire_due(&node, 1000).await {
            tracing::warn!(code = e.code, error = %e.message, "expiry sweep failed");
        }
        if let Err(e) = elicense_app::wallet::present::purge_expired(&node).await {
            tracing::warn!(code = e.code, error = %e.message, "presentation purge failed");
        }
        if let Err(e) = elicense_app::institutions::presentations::purge(&node).await {
            tracing::warn!(code = e.code, error = %e.message, "presentation request purge failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, Request};
    use tower::ServiceExt;

    /// The error code of `method path` on `router`, if it answers with a route error.
    async fn route_error(router: &axum::Router, method: &Method, path: &str) -> Option<String> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        ["route.not_found", "route.method_not_allowed"]
            .into_iter()
            .find(|code| text.contains(code))
            .map(str::to_owned)
    }

    /// A path of `template` with every `{param}` filled in.
    fn filled(template: &str) -> String {
        template
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x1" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[tokio::test]
    async fn the_route_list_is_what_the_router_serves() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            elicense_store::SqliteStore::open(dir.path().join("db"), Default::default()).unwrap();
        let node = elicense_app::Node::new(
            Arc::new(store),
            Arc::new(elicense_app::SystemClock),
            elicense_app::NodeConfig::ephemeral("http://127.0.0.1:8080"),
        );
        let router = super::router(node);
        let list = super::route_list();
        let unique: BTreeSet<_> = list.iter().map(|(m, p)| (m.as_str(), p)).collect();
        assert_eq!(unique.len(), list.len(), "a route listed twice");
        for (method, template) in &list {
            let path = filled(template);
            assert_eq!(
                route_error(&router, method, &path).await,
                None,
                "{method} {template} is listed but not served"
            );
            // The other methods of a listed path are not served.
            for other in [
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ] {
                if !unique.contains(&(other.as_str(), template)) {
                    assert_eq!(
                        route_error(&router, &other, &path).await.as_deref(),
                        Some("route.method_not_allowed"),
                        "{other} {template} is served but not listed"
                    );
                }
            }
        }
        for unlisted in ["/nothing", "/api/v1/nothing", "/wallet/nothing/x1/y"] {
            assert_eq!(
                route_error(&router, &Method::GET, unlisted)
                    .await
                    .as_deref(),
                Some("route.not_found"),
                "{unlisted}"
            );
        }
    }
}
