//! The state every handler can reach.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::liveness::Liveness;
use crate::metrics::Metrics;
use crate::recording::{self, Recordings};
use crate::signaling::Signaling;

/// Shared, cheaply cloned handles. Each piece has one owner; this only holds handles to them.
#[derive(Clone)]
pub struct AppState {
    /// The server's settings.
    pub config: Arc<Config>,
    /// What Leptos needs to render pages and find the site files.
    pub leptos_options: LeptosOptions,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
    /// Signaling: the engine, this node's sockets, the connection limit and tasks.
    pub signaling: Arc<Signaling>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Recordings: their state, storage and limits.
    pub recordings: Arc<Recordings>,
    /// The beats of the process's own loops, for `/health`.
    pub liveness: Arc<Liveness>,
    /// The site carried inside the executable (a release bundle), if any.
    pub embedded: Option<Arc<crate::embedded::Site>>,
}

impl AppState {
    /// Builds the state for a server bound to `addr`, loading the stored recordings.
    ///
    /// # Errors
    /// A configuration the signaling engine cannot start with (a malformed Redis URL), or I/O
    /// errors opening the recordings directory.
    pub async fn new(
        config: Config,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        let leptos_options = config.leptos_options(addr);
        let metrics = Arc::new(Metrics::default());
        let signaling = Arc::new(
            Signaling::new(&config, metrics.clone(), shutdown.clone())
                .map_err(std::io::Error::other)?,
        );
        let recordings = recording::open(config.recording_settings(), signaling.clone()).await?;
        let rooms_in_memory = matches!(
            signaling.engine,
            crate::signaling::engine::AnyEngine::Memory(_)
        );
        Ok(AppState {
            liveness: Arc::new(Liveness::new(rooms_in_memory)),
            embedded: load_embedded(),
            config: Arc::new(config),
            leptos_options,
            shutdown,
            signaling,
            metrics,
            recordings,
        })
    }
}

/// The site appended to this executable, if it carries one.
fn load_embedded() -> Option<Arc<crate::embedded::Site>> {
    match crate::embedded::Site::from_current_exe() {
        Ok(Some(site)) => {
            tracing::info!(
                files = site.len(),
                "serving the site embedded in the executable"
            );
            Some(Arc::new(site))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "the embedded site cannot be read: serving from disk");
            None
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<Signaling> {
    fn from_ref(state: &AppState) -> Self {
        state.signaling.clone()
    }
}
