//! Deploys that drop no call: what the server does between SIGTERM and exit.
//!
//! 1. The shutdown token is cancelled: `/ready` answers 503, new joins are refused with 503
//!    `restarting`, and every socket is closed with 1012 ([`CloseCode::Reconnect`]). A socket
//!    closed this way keeps its peer's slot for the resume grace (the engine's `dropped`), so
//!    nobody is told `peer-left`.
//! 2. The connection tasks are awaited, at most for the drain timeout.
//! 3. With rooms in memory and a state directory, the engine's rooms are written there
//!    ([`handoff`]) for the next process, and only then does the HTTP side stop. With Redis the
//!    sessions already live in Redis: nothing is handed over.
//!
//! The browser reconnects at once on 1012 (and retries quickly while it is refused with
//! `restarting`), so a restart costs a few hundred milliseconds of signaling; the media between
//! browsers does not go through the server and never stops.
//!
//! [`CloseCode::Reconnect`]: protocol::CloseCode::Reconnect

pub mod handoff;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::signaling::engine::AnyEngine;
use crate::signaling::Signaling;

/// What a drain needs to know.
#[derive(Debug, Clone)]
pub struct DrainSettings {
    /// Longest wait for the connection tasks after the 1012 closes went out.
    pub timeout: Duration,
    /// Where the handoff is written; `None`: sessions in memory do not survive a restart.
    pub state_dir: Option<PathBuf>,
}

/// Takes over the sessions a previous process handed off in `settings.state_dir`, if the rooms
/// live in memory here. Logs instead of failing: a bad handoff must not keep the server from
/// starting.
pub fn restore(sig: &Signaling, settings: &DrainSettings, max_peers: usize) {
    let (Some(dir), AnyEngine::Memory(engine)) = (&settings.state_dir, &sig.engine) else {
        return;
    };
    match handoff::load(dir) {
        Ok(Some((rooms, elapsed))) => {
            let peers = engine.import(rooms, elapsed, max_peers);
            tracing::info!(
                peers,
                gap_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                "sessions taken over from the previous process"
            );
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, dir = %dir.display(), "cannot read the handoff"),
    }
}

/// Waits until `shutdown` is cancelled, then drains (see the module docs) and returns when the
/// HTTP side may stop.
pub async fn run(sig: Arc<Signaling>, shutdown: CancellationToken, settings: DrainSettings) {
    shutdown.cancelled().await;
    let started = Instant::now();
    let tracker = &sig.tracker;
    tracing::info!(
        sockets = sig.registry.len(),
        "draining: joins refused, sockets closed with 1012"
    );
    tracker.close();
    if tokio::time::timeout(settings.timeout, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            left = tracker.len(),
            "connection tasks still running after the drain timeout"
        );
    }
    match (&sig.engine, &settings.state_dir) {
        (AnyEngine::Memory(engine), Some(dir)) => match handoff::save(dir, engine.export()) {
            Ok(peers) => tracing::info!(peers, dir = %dir.display(), "sessions handed off"),
            Err(e) => tracing::error!(error = %e, dir = %dir.display(), "cannot save the handoff"),
        },
        (AnyEngine::Memory(_), None) => {
            tracing::info!("no state directory: sessions start afresh after a restart");
        }
        (AnyEngine::Redis(_), _) => {
            tracing::info!("sessions live in Redis: nothing to hand off");
        }
    }
    tracing::info!(
        took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "drained"
    );
}
