//! The signaling hub of PROTOCOL.md: `GET /ws/{room}/{peer}` and everything behind it.
//!
//! - [`upgrade`] checks ids, Origin, capacity and the room before switching protocols;
//! - [`connection`] runs a session (the reader), [`writer`] its single writer task;
//! - [`hub`] owns all rooms ([`room`]), [`handle`] is its bounded link to each socket;
//! - [`ratelimit`] and [`origin`] hold the two policies.

pub mod connection;
pub mod handle;
pub mod hub;
pub mod origin;
pub mod ratelimit;
pub mod room;
pub mod upgrade;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::turn::IceConfig;
use hub::Hub;

/// The per-connection limits, copied out of [`Config`] once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest frame a client may send.
    pub max_frame_bytes: usize,
    /// Frames waiting for one client before it is closed with 4008.
    pub outbound_queue: usize,
    /// Token bucket rate.
    pub rate_per_sec: u32,
    /// Token bucket size.
    pub rate_burst: u32,
    /// Time between server pings.
    pub ping_interval: Duration,
    /// Silence after which a socket counts as dropped.
    pub idle_timeout: Duration,
    /// How long a dropped peer keeps its slot.
    pub resume_grace: Duration,
    /// Origins allowed besides the defaults.
    pub allowed_origins: Vec<String>,
}

/// Everything the signaling routes share.
pub struct Signaling {
    /// The rooms.
    pub hub: Hub,
    /// Limits.
    pub settings: Settings,
    /// Bounds the number of open sockets (HTTP 503 beyond).
    pub connections: Arc<Semaphore>,
    /// Every connection task, so shutdown can wait for the writers to send their close frames.
    pub tracker: TaskTracker,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
}

impl Signaling {
    /// Builds the hub from the configuration.
    pub fn new(config: &Config, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Self {
        Signaling {
            hub: Hub::new(
                config.room_capacity,
                Arc::new(IceConfig::new(config)),
                metrics,
            ),
            settings: Settings {
                max_frame_bytes: config.max_frame_bytes,
                outbound_queue: config.outbound_queue,
                rate_per_sec: config.rate_per_sec,
                rate_burst: config.rate_burst,
                ping_interval: Duration::from_millis(config.ping_interval_ms.max(1)),
                idle_timeout: Duration::from_millis(config.idle_timeout_ms.max(1)),
                resume_grace: config.resume_grace(),
                allowed_origins: config.allowed_origins.clone(),
            },
            connections: Arc::new(Semaphore::new(config.max_connections)),
            tracker: TaskTracker::new(),
            shutdown,
        }
    }
}
