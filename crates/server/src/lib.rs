//! The HTTP face of an elicense node (axum). Handlers parse, call one use case, and map the
//! result; HTTP status mapping lives in `error.rs`; the OpenAPI document is generated from the
//! same route registrations (utoipa-axum), so it cannot drift from the router.

pub mod auth;
pub mod body;
pub mod client;
pub mod csrf;
pub mod error;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use elicense_app::Node;

pub use state::AppState;

/// Largest request body accepted (a credential, a presentation, an issue request).
pub const MAX_BODY: usize = 256 * 1024;

/// The node's router: API, well-known documents, status lists, OpenAPI.
pub fn router(node: Arc<Node>) -> Router {
    let state = AppState::new(node);
    let (router, api) = routes::api_router().split_for_parts();
    let api = Arc::new(api);
    router
        .merge(pages::router())
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let api = api.clone();
                async move { axum::Json(api.as_ref().clone()) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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

/// Serves `node` on `listener` until `shutdown` resolves; runs the expiry sweeper meanwhile.
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep_expired(node.clone()));
    let sessions = tokio::spawn(sweep_sessions(node.clone()));
    let app = router(node).into_make_service_with_connect_info::<SocketAddr>();
    let out = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    sweeper.abort();
    sessions.abort();
    out
}

/// Failed sign-ins are kept this long for their owner, seconds.
const FAILURES_KEPT_SECS: i64 = 90 * 86_400;

/// Deletes sessions past their lifetime and old failed sign-ins, every ten minutes.
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
    }
}

/// Moves licenses whose validity ended to `expired`, once a second.
async fn sweep_expired(node: Arc<Node>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = elicense_app::lifecycle::expire_due(&node, 1000).await {
            tracing::warn!(code = e.code, error = %e.message, "expiry sweep failed");
        }
    }
}
