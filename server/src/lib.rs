//! The record-meet server: the Leptos app (server-rendered, then hydrated) and the signaling
//! WebSocket, behind one axum router.
//!
//! [`run`] is the whole server; the binary only parses configuration and calls it, and the tests
//! call it on port 0.
// The Leptos app's view types are deeply nested; laying them out needs more than the default.
#![recursion_limit = "256"]

pub mod config;
pub mod drain;
pub mod embedded;
pub mod forwarded;
pub mod liveness;
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
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use config::Config;
use drain::DrainSettings;
use state::AppState;

/// How long a node sharing rooms through Redis waits for its lease and inbox before serving
/// anyway (joins are refused with 503 until they are up).
const ENGINE_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves on `listener` until `shutdown` is cancelled, then drains ([`drain`]): joins are
/// refused, every WebSocket is closed with 1012, the rooms in memory are handed off to the state
/// directory (if any), in-flight requests finish, and it returns.
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
    let drain_settings = DrainSettings {
        timeout: Duration::from_secs(config.drain_timeout_secs),
        state_dir: config.state_dir.clone(),
    };
    let max_peers = config.max_connections;
    let state = AppState::new(config, addr, shutdown.clone()).await?;
    if !state.signaling.engine.ready(ENGINE_READY_TIMEOUT).await {
        tracing::warn!("shared rooms not reachable yet: joins are refused until they are");
    }
    let sig = state.signaling.clone();
    drain::restore(&sig, &drain_settings, max_peers);
    // Stops the HTTP side and the liveness ticker once the drain is over: until then `/ready`
    // says draining and joins are refused with `restarting`.
    let stop = CancellationToken::new();
    tokio::spawn(liveness::ticker(
        state.liveness.clone(),
        sig.clone(),
        stop.clone(),
    ));
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
    let served = async {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .await;
        // Only a failed listener ends serving before the drain: drain anyway.
        shutdown.cancel();
        served
    };
    // axum's graceful shutdown does not wait for upgraded sockets: the drain waits for their
    // tasks, which see the shutdown token.
    let drained = async {
        drain::run(sig, shutdown.clone(), drain_settings).await;
        stop.cancel();
    };
    let (served, ()) = tokio::join!(served, drained);
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
