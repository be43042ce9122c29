//! The signaling hub of PROTOCOL.md: `GET /ws/{room}/{peer}` and everything behind it.
//!
//! - [`upgrade`] checks ids and Origin, then joins atomically before switching protocols;
//! - [`connection`] runs a session (the reader), [`writer`] its single writer task;
//! - [`engine`] owns room state and delivery (in memory: [`room`]); [`registry`] holds this
//!   node's sockets ([`node`] names them), [`handle`] is the bounded link to each one;
//! - [`ratelimit`] and [`origin`] hold the two policies.

pub mod connection;
pub mod engine;
pub mod handle;
pub mod inbox;
pub mod node;
pub mod origin;
pub mod ratelimit;
pub mod registry;
pub mod room;
pub mod upgrade;
pub mod writer;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use protocol::{PeerId, RecordingNotice, RecordingPhase, RoomId, ServerMessage};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::metrics::{Kind, Metrics};
use crate::turn::IceConfig;
use engine::{AnyEngine, Engine, MemoryEngine, RedisEngine, RedisSettings};
use node::NodeId;
use registry::Registry;

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
    /// Origins allowed besides the defaults (the public origin among them).
    pub allowed_origins: Vec<String>,
    /// Proxies whose forwarded headers are believed.
    pub trusted_proxies: Vec<crate::forwarded::IpNet>,
}

/// Everything the signaling routes share.
pub struct Signaling {
    /// Room state and delivery.
    pub engine: AnyEngine,
    /// This node's sockets.
    pub registry: Arc<Registry>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The ICE servers of every `welcome`, with TURN credentials minted per peer, and their
    /// renewals.
    pub ice: Arc<IceConfig>,
    /// Limits.
    pub settings: Settings,
    /// Bounds the number of open sockets (HTTP 503 beyond).
    pub connections: Arc<Semaphore>,
    /// Every connection task, so shutdown can wait for the writers to send their close frames.
    pub tracker: TaskTracker,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
    /// Each room's recording in progress, as last announced from this node, for the `welcome`
    /// of later joiners. Never locked across an `.await`.
    pub recordings: std::sync::Mutex<HashMap<RoomId, RecordingNotice>>,
}

impl Signaling {
    /// Builds the engine the configuration asks for — in memory, or shared through Redis —
    /// and starts its background tasks (so it must run inside a Tokio runtime).
    ///
    /// # Errors
    /// A malformed Redis URL.
    pub fn new(
        config: &Config,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Result<Self, String> {
        let registry = Arc::new(Registry::new(NodeId::random()));
        let engine = match &config.redis_url {
            None => {
                let memory =
                    MemoryEngine::new(config.room_capacity, config.resume_grace(), metrics.clone());
                memory.spawn_reaper(shutdown.clone());
                AnyEngine::Memory(memory)
            }
            Some(url) => {
                let settings = RedisSettings {
                    capacity: config.room_capacity,
                    grace: config.resume_grace(),
                    lease: Duration::from_millis(config.node_lease_ms),
                };
                let redis = RedisEngine::start(
                    url,
                    settings,
                    registry.clone(),
                    metrics.clone(),
                    shutdown.clone(),
                )
                .map_err(|e| format!("--redis-url: {e}"))?;
                AnyEngine::Redis(redis)
            }
        };
        Ok(Signaling {
            engine,
            registry,
            metrics,
            ice: Arc::new(IceConfig::new(config)),
            settings: Settings {
                max_frame_bytes: config.max_frame_bytes,
                outbound_queue: config.outbound_queue,
                rate_per_sec: config.rate_per_sec,
                rate_burst: config.rate_burst,
                ping_interval: Duration::from_millis(config.ping_interval_ms.max(1)),
                idle_timeout: Duration::from_millis(config.idle_timeout_ms.max(1)),
                resume_grace: config.resume_grace(),
                allowed_origins: config
                    .allowed_origins
                    .iter()
                    .chain(&config.public_origin)
                    .cloned()
                    .collect(),
                trusted_proxies: config.trusted_proxies.clone(),
            },
            connections: Arc::new(Semaphore::new(config.max_connections)),
            tracker: TaskTracker::new(),
            shutdown,
            recordings: std::sync::Mutex::default(),
        })
    }

    /// Tells everyone in `room` about its recording (the `recording` frame) and remembers it
    /// for the `welcome` of later joiners on this node until it ends: the recording module's one
    /// entry point into signaling.
    pub async fn announce_recording(&self, room: &RoomId, notice: RecordingNotice) {
        self.remember_recording(room, &notice);
        self.engine
            .announce(room, &ServerMessage::Recording(notice), Kind::Recording)
            .await;
    }

    /// Remembers `room`'s recording for the `welcome` of later joiners (forgets it once ended)
    /// without telling anyone now: for recordings reloaded at start-up.
    pub fn remember_recording(&self, room: &RoomId, notice: &RecordingNotice) {
        let mut notices = self
            .recordings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if notice.phase == RecordingPhase::Ended {
            notices.remove(room);
        } else {
            notices.insert(room.clone(), notice.clone());
        }
    }

    /// The recording notice for a joiner of `room`, if it is being recorded.
    pub fn recording_notice(&self, room: &RoomId) -> Option<RecordingNotice> {
        self.recordings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(room)
            .cloned()
    }

    /// Whether `peer` holds a slot in `room` (a peer in its resume grace does): a recording
    /// lives only while its recorder is in the room. Asks the engine the question a join would,
    /// so it holds on every node.
    pub async fn has_peer(&self, room: &RoomId, peer: &PeerId) -> bool {
        matches!(
            self.engine.check(room, peer, None).await,
            Err(engine::Refusal::PeerIdTaken)
        )
    }
}
