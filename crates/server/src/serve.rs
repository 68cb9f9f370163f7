//! Serving a router on a TCP listener: the accept loop, with the limits a public node needs.
//!
//! Invariants:
//! - a connection must deliver a request's line and headers within `header_read_timeout`
//!   (also the idle limit between keep-alive requests), else it is closed;
//! - at most `max_connections` connections are served at once per listener; a connection
//!   over the cap gets `503 server.busy` with `Retry-After` (or, when even the few refusals
//!   in flight are used up, is closed at once) — it never queues unboundedly;
//! - on shutdown the listeners stop accepting, every connection finishes its request in
//!   flight and closes, and only then does `serve` return (graceful shutdown);
//! - handlers see the peer address as `ConnectInfo<SocketAddr>`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::error::ApiError;

/// Limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a client has to send a request's line and headers (and to start the next one).
    pub header_read_timeout: Duration,
    /// Connections served at once, per listener.
    pub max_connections: usize,
}

/// Connections over the cap that are answered `503` at once; beyond, they are just closed.
const MAX_REFUSALS: usize = 64;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(
                elicense_app::config::DEFAULT_HEADER_READ_TIMEOUT_SECS,
            ),
            max_connections: elicense_app::config::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Tells connections to finish (`stop`) and learns when they all did (`closed`).
#[derive(Clone)]
pub(crate) struct Shutdown {
    stop: watch::Receiver<bool>,
}

impl Shutdown {
    /// A shutdown that starts when `signal` resolves.
    pub(crate) fn on(signal: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            signal.await;
            let _ = tx.send(true);
        });
        Shutdown { stop: rx }
    }

    async fn started(&mut self) {
        // An error means the sender is gone: the signal can no longer come; wait forever.
        if self.stop.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Accepts connections on `listener` and serves `router` on each, within `limits`, until
/// `shutdown` starts; returns when every connection has closed.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: Shutdown,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    // Every connection task holds a clone of `alive`; `closed()` resolves when all are gone.
    let (alive_tx, alive) = watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.started() => break,
        };
        let _ = stream.set_nodelay(true);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let router = router.clone();
                let (alive, shutdown) = (alive.clone(), shutdown.clone());
                tokio::spawn(async move {
                    serve_connection(stream, peer, router, limits, shutdown).await;
                    drop((permit, alive));
                });
            }
            Err(_) => match refusals.clone().try_acquire_owned() {
                Ok(permit) => {
                    let alive = alive.clone();
                    tokio::spawn(async move {
                        refuse(stream, limits).await;
                        drop((permit, alive));
                    });
                }
                Err(_) => drop(stream),
            },
        }
    }
    drop(listener);
    drop(alive);
    alive_tx.closed().await;
    Ok(())
}

/// A hyper HTTP/1 connection builder with the header-read timeout.
fn http1(limits: Limits) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    b
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut shutdown: Shutdown,
) {
    let service = router.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let conn = http1(limits)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            return;
        }
        _ = shutdown.started() => conn.as_mut().graceful_shutdown(),
    }
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, %peer, "connection ended during shutdown");
    }
}

/// Answers every request of a connection over the cap with `503 server.busy` and closes it.
async fn refuse(stream: TcpStream, limits: Limits) {
    let busy = tower::service_fn(|_req: axum::http::Request<Incoming>| async {
        let mut resp = ApiError::new(
            elicense_app::ErrorKind::Unavailable,
            "server.busy",
            "too many connections; retry shortly",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        Ok::<_, std::convert::Infallible>(resp)
    });
    let mut b = http1(Limits {
        header_read_timeout: limits.header_read_timeout.min(Duration::from_secs(2)),
        ..limits
    });
    b.keep_alive(false);
    let _ = b
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(busy))
        .await;
}
