//! The record-meet server: the Leptos app (server-rendered, then hydrated) and the signaling
//! WebSocket, behind one axum router.
//!
//! [`run`] is the whole server; the binary only parses configuration and calls it, and the tests
//! call it on port 0.

pub mod config;
pub mod random;
mod rooms;
mod routes;
pub mod shutdown;
mod site;
mod state;
pub mod telemetry;

use std::io;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use config::Config;
use state::AppState;

/// Serves on `listener` until `shutdown` is cancelled, then finishes in-flight requests.
///
/// # Errors
/// I/O errors of the listener.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let state = AppState::new(config, addr, shutdown.clone());
    let app = router(state);
    tracing::info!(%addr, "listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    tracing::info!("server stopped");
    Ok(())
}

/// All routes: the API and signaling first, then the Leptos pages and static files.
fn router(state: AppState) -> Router {
    routes::router()
        .merge(rooms::router())
        .merge(site::router(&state))
        .with_state(state)
}
