//! The record-meet server: the Leptos app (server-rendered, then hydrated) and the signaling
//! WebSocket, behind one axum router.
//!
//! [`run`] is the whole server; the binary only parses configuration and calls it, and the tests
//! call it on port 0.
// The Leptos app's view types are deeply nested; laying them out needs more than the default.
#![recursion_limit = "256"]

pub mod config;
pub mod metrics;
pub mod random;
pub mod recording;
mod redirects;
mod refusal;
mod routes;
pub mod shutdown;
pub mod signaling;
mod site;
mod state;
pub mod telemetry;
pub mod turn;

use std::io;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use config::Config;
use state::AppState;

/// How long shutdown waits for WebSocket writers to send their 1001 close frames.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a node sharing rooms through Redis waits for its lease and inbox before serving
/// anyway (joins are refused with 503 until they are up).
const ENGINE_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves on `listener` until `shutdown` is cancelled, then finishes in-flight requests and
/// waits (at most [`DRAIN_TIMEOUT`]) for every WebSocket to be closed with 1001.
///
/// # Errors
/// I/O errors of the listener; `InvalidInput` for settings that contradict each other
/// ([`Config::check`]).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> io::Result<()> {
    config
        .check()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config, addr, shutdown.clone()).await?;
    if !state.signaling.engine.ready(ENGINE_READY_TIMEOUT).await {
        tracing::warn!("shared rooms not reachable yet: joins are refused until they are");
    }
    let tracker = state.signaling.tracker.clone();
    let node = state.signaling.registry.node().clone();
    state.recordings.finalize_stale();
    tokio::spawn(recording::watchdog::run(
        state.recordings.clone(),
        shutdown.clone(),
    ));
    let app = router(state);
    tracing::info!(%addr, %node, "listening on http://{addr}");
    // Without TCP_NODELAY, Nagle's algorithm holds back each small frame written while an
    // earlier one is unacknowledged, and the receiver delays its ACK (40-200 ms on Linux): a
    // relay then waits for a timer instead of a peer. Signaling frames must leave at once.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
    // axum's graceful shutdown does not wait for upgraded sockets: their tasks are tracked
    // separately and see the same token.
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            left = tracker.len(),
            "WebSocket tasks still running after the drain timeout"
        );
    }
    served?;
    tracing::info!("server stopped");
    Ok(())
}

/// All routes: the API and signaling first, then the Leptos pages and static files.
fn router(state: AppState) -> Router {
    routes::router()
        .merge(redirects::router())
        .merge(recording::api::router(&state))
        .merge(site::router(&state))
        .with_state(state)
}
