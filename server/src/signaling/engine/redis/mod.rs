//! The Redis engine: rooms shared by every server node that points at the same Redis.
//!
//! - **Decisions** (capacity, taken ids, resume-token takeover, graces, `new-peer` /
//!   `peer-left`) are Lua [`scripts`], atomic across nodes, on Redis's clock; a join is refused
//!   (`fenced`) unless the caller's node holds a live lease.
//! - **Delivery**: each script that sends a frame numbers it per recipient, appends it to the
//!   recipient's capped log (a stream) and publishes it to the inbox channel of the node that
//!   holds the recipient's socket. The [`bus`] task of that node puts frames in order through
//!   the socket's [`Inbox`](crate::signaling::inbox::Inbox), fills gaps from the log, and asks
//!   a socket it cannot catch up to reconnect (1012) for a fresh `welcome`.
//! - **Liveness**: the [`lease`] task renews this node's lease and reaps nodes whose lease ran
//!   out (their peers enter the resume grace, so they can resume on any node) and expired
//!   graces (one `peer-left`). A node that cannot renew closes its sockets instead of acting
//!   alone, and refuses joins (503) until it can.

mod bus;
mod lease;
mod scripts;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use protocol::{CloseCode, MediaState, PeerId, PeerInfo, RoomId, ServerMessage, Welcome};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo, ProtocolVersion, RedisResult, Value};
use tokio_util::sync::CancellationToken;

use super::memory::SESSION_TOKEN_LEN;
use super::{Counts, Engine, JoinRequest, Joined, Refusal, RelayError};
use crate::metrics::{Kind, Metrics};
use crate::random;
use crate::signaling::handle::{ConnHandle, Outbound};
use crate::signaling::inbox::{Next, Numbered};
use crate::signaling::node::ConnId;
use crate::signaling::registry::Registry;
use scripts::Scripts;

/// How long a join waits for Redis before it is refused (503): a frozen Redis must not hold
/// a joiner for the command timeout when every healthy join takes a millisecond or two.
const JOIN_WAIT: Duration = Duration::from_millis(400);

/// What the engine needs to know besides the URL.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// Most peers per room.
    pub capacity: usize,
    /// How long a dropped peer keeps its slot.
    pub grace: Duration,
    /// How long a node's lease lasts without renewal.
    pub lease: Duration,
}

/// Rooms in Redis, shared with every other node using the same Redis.
pub struct RedisEngine {
    /// Shared with the bus and lease tasks.
    inner: Arc<Inner>,
}

/// The engine's state, shared by its tasks.
struct Inner {
    /// Commands and scripts (one multiplexed, self-reconnecting connection).
    conn: ConnectionManager,
    /// For the bus's own connection.
    client: Client,
    /// This node's sockets: where frames from the bus go.
    registry: Arc<Registry>,
    /// Counters.
    metrics: Arc<Metrics>,
    /// The scripts.
    scripts: Scripts,
    /// Limits and durations.
    settings: RedisSettings,
    /// Whether the last lease renewal worked: joins are refused (503) otherwise.
    admitting: AtomicBool,
    /// Whether this node's inbox subscription is live.
    subscribed: AtomicBool,
}

impl RedisEngine {
    /// Connects lazily to `url` (RESP3 is forced, for pushes and resubscription) and starts the
    /// bus and lease tasks, which end with `shutdown`. Joins are refused until both are up; see
    /// [`RedisEngine::ready`].
    ///
    /// # Errors
    /// A malformed URL.
    pub fn start(
        url: &str,
        settings: RedisSettings,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> RedisResult<Self> {
        let info = url.into_connection_info()?;
        let resp3 = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(resp3))?;
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), manager_config(&settings))?;
        let inner = Arc::new(Inner {
            conn,
            client,
            registry,
            metrics,
            scripts: Scripts::new(),
            settings,
            admitting: AtomicBool::new(false),
            subscribed: AtomicBool::new(false),
        });
        tokio::spawn(bus::run(inner.clone(), shutdown.clone()));
        tokio::spawn(lease::run(inner.clone(), shutdown));
        Ok(RedisEngine { inner })
    }

    /// Waits (at most `wait`) until this node holds its lease and listens to its inbox;
    /// returns whether it does.
    pub async fn ready(&self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.inner.healthy() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

/// Timeouts and reconnects of a manager: connecting to an unreachable Redis fails within a
/// third of the lease, a command to a frozen one within a second (or that third, if longer),
/// so nothing waits on Redis for long and renewals are retried in time.
fn manager_config(settings: &RedisSettings) -> ConnectionManagerConfig {
    let step = settings.lease / 3;
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(step))
        .set_response_timeout(Some(step.max(Duration::from_secs(1))))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200))
}

impl Inner {
    /// Joins are admitted only while the lease renews and the inbox is subscribed.
    fn healthy(&self) -> bool {
        self.admitting.load(Ordering::Acquire) && self.subscribed.load(Ordering::Acquire)
    }

    /// How long a log outlives its last frame: long enough for a resume after a node death.
    fn log_ttl_ms(&self) -> u64 {
        millis(self.settings.grace + self.settings.lease) + 60_000
    }

    /// Runs a script with string arguments.
    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        args: &[&str],
    ) -> RedisResult<T> {
        let mut invocation = script.prepare_invoke();
        for arg in args {
            invocation.arg(*arg);
        }
        invocation.invoke_async(&mut self.conn.clone()).await
    }

    /// Frames `from..=to` (to the end when `None`) of a peer's log.
    async fn fetch(
        &self,
        room: &RoomId,
        peer: &PeerId,
        from: u64,
        to: Option<u64>,
    ) -> RedisResult<Vec<Numbered>> {
        let end = to.map_or_else(|| "+".to_owned(), |t| format!("{t}-0"));
        let value: Value = redis::cmd("XRANGE")
            .arg(log_key(room, peer))
            .arg(format!("{from}-0"))
            .arg(end)
            .arg("COUNT")
            .arg(crate::signaling::inbox::MAX_PENDING)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(bus::entries(value))
    }

    /// Does what an inbox asked for after taking frames: fetch a gap, or make the socket
    /// reconnect when it cannot be caught up.
    fn follow(self: &Arc<Self>, seq: u64, next: Next) {
        match next {
            Next::Done => {}
            Next::Resync => {
                self.registry.with(seq, |c| {
                    tracing::warn!(room = %c.room, peer = %c.peer, "frames lost to this socket: resync");
                    c.handle.control.close(CloseCode::Reconnect);
                });
            }
            Next::Fetch { from, to } => {
                let Some((room, peer)) = self
                    .registry
                    .with(seq, |c| (c.room.clone(), c.peer.clone()))
                else {
                    return;
                };
                let inner = self.clone();
                tokio::spawn(async move {
                    let frames = inner
                        .fetch(&room, &peer, from, Some(to))
                        .await
                        .unwrap_or_default();
                    let next = inner
                        .registry
                        .with(seq, |c| c.inbox.fill(frames, &c.handle, &inner.metrics));
                    if let Some(next) = next {
                        inner.follow(seq, next);
                    }
                });
            }
        }
    }

    /// Retries a leave or grace start that failed (Redis briefly unreachable) for about one
    /// lease; after that the node has lost its lease and its peers are reaped anyway.
    fn retry(self: &Arc<Self>, which: fn(&Scripts) -> &redis::Script, args: Vec<String>) {
        let inner = self.clone();
        tokio::spawn(async move {
            let step = inner.settings.lease / 6;
            for _ in 0..6 {
                tokio::time::sleep(step).await;
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                if inner.run::<i64>(which(&inner.scripts), &refs).await.is_ok() {
                    return;
                }
            }
        });
    }
}

/// A peer's log key; all keys of a room share the hash tag `{room}`.
fn log_key(room: &RoomId, peer: &PeerId) -> String {
    format!("rm:log:{{{room}}}:{peer}")
}

/// Whole milliseconds.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Wall-clock microseconds now.
fn wall_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// When a frame arrived, in wall-clock microseconds, so the receiving node can measure the
/// latency across nodes (meaningful when the nodes' clocks are synchronised); 0 for none.
fn sent_us(received: Option<Instant>) -> String {
    received
        .map(|r| wall_us().saturating_sub(u64::try_from(r.elapsed().as_micros()).unwrap_or(0)))
        .unwrap_or(0)
        .to_string()
}

impl Engine for RedisEngine {
    async fn check(
        &self,
        room: &RoomId,
        peer: &PeerId,
        resume: Option<&str>,
    ) -> Result<(), Refusal> {
        let inner = &self.inner;
        if !inner.healthy() {
            return Err(Refusal::Unavailable);
        }
        let capacity = inner.settings.capacity.to_string();
        let args: [&str; 4] = [
            room.as_str(),
            peer.as_str(),
            resume.unwrap_or(""),
            &capacity,
        ];
        match inner
            .run::<String>(&inner.scripts.check, &args)
            .await
            .as_deref()
        {
            Ok("ok") => Ok(()),
            Ok("taken") => Err(Refusal::PeerIdTaken),
            Ok("full") => Err(Refusal::RoomFull),
            _ => Err(Refusal::Unavailable),
        }
    }

    async fn join(
        &self,
        join: JoinRequest,
        conn: &ConnHandle,
        mut welcome: Welcome,
    ) -> Result<Joined, Refusal> {
        let inner = &self.inner;
        if !inner.healthy() {
            return Err(Refusal::Unavailable);
        }
        let JoinRequest {
            room,
            peer,
            name,
            resume,
            last,
        } = join;
        let token = random::token(SESSION_TOKEN_LEN);
        let info = serde_json::to_string(&PeerInfo {
            id: peer.clone(),
            name: name.clone(),
            media: MediaState::default(),
        })
        .map_err(|_| Refusal::Unavailable)?;
        let new_peer = ServerMessage::NewPeer {
            id: peer.clone(),
            name: name.clone(),
        }
        .encode(&room);
        let conn_id = conn.id.to_string();
        let capacity = inner.settings.capacity.to_string();
        let log_ttl = inner.log_ttl_ms().to_string();
        // `new-peer` is the server's own frame: no relay latency to measure.
        let sent = "0";
        let args: [&str; 12] = [
            room.as_str(),
            peer.as_str(),
            inner.registry.node().as_str(),
            &conn_id,
            &name,
            resume.as_deref().unwrap_or(""),
            &token,
            &capacity,
            &new_peer,
            &info,
            &log_ttl,
            sent,
        ];
        let reply = tokio::time::timeout(JOIN_WAIT, inner.run(&inner.scripts.join, &args)).await;
        let reply: Vec<String> = match reply {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "join script failed");
                return Err(Refusal::Unavailable);
            }
            Err(_) => {
                // Redis may still run the join once it answers again: undo it then.
                tracing::warn!(%room, %peer, "join script timed out: refused");
                let undo = vec![room.to_string(), peer.to_string(), conn_id, log_ttl];
                inner.retry(|s| &s.leave, undo);
                return Err(Refusal::Unavailable);
            }
        };
        let status = reply.first().map(String::as_str).unwrap_or("");
        let joined = match status {
            "new" => Joined::New,
            "resumed" => Joined::Resumed,
            "taken" => return Err(Refusal::PeerIdTaken),
            "full" => return Err(Refusal::RoomFull),
            _ => return Err(Refusal::Unavailable),
        };
        let seq: u64 = reply.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let dropped_at: Option<u64> = reply.get(2).and_then(|s| s.parse().ok());
        let mut peers: Vec<PeerInfo> = reply
            .iter()
            .skip(3)
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect();
        peers.sort_by(|a, b| a.id.cmp(&b.id));
        // What a resumed session missed: from what the client says it got, or else from when
        // its socket was last known gone; replayed only if the log still holds all of it.
        let mut base = seq;
        let mut replay = Vec::new();
        if joined == Joined::Resumed {
            let from = last.filter(|l| *l <= seq).or(dropped_at).unwrap_or(seq);
            if from < seq {
                if let Ok(frames) = inner.fetch(&room, &peer, from + 1, Some(seq)).await {
                    let complete = frames.len() as u64 == seq - from
                        && frames.first().is_some_and(|f| f.seq == from + 1);
                    if complete {
                        base = from;
                        replay = frames;
                    }
                }
            }
        }
        welcome.session = if joined == Joined::New {
            token
        } else {
            resume.unwrap_or_default()
        };
        welcome.peers = peers;
        welcome.seq = Some(base);
        let text: Utf8Bytes = ServerMessage::Welcome(welcome).encode(&room).into();
        let next = inner.registry.with(conn.id.seq, |c| {
            c.handle.send(
                Outbound {
                    text,
                    kind: Kind::Welcome,
                    received: None,
                },
                &inner.metrics,
            );
            c.inbox.preload(replay);
            c.inbox.start(base, &c.handle, &inner.metrics)
        });
        if let Some(next) = next {
            inner.follow(conn.id.seq, next);
        }
        Ok(joined)
    }

    async fn relay(&self, room: &RoomId, to: &PeerId, frame: Outbound) -> Result<(), RelayError> {
        let inner = &self.inner;
        let sent = sent_us(frame.received);
        let log_ttl = inner.log_ttl_ms().to_string();
        let args: [&str; 6] = [
            room.as_str(),
            to.as_str(),
            frame.kind.label(),
            &sent,
            frame.text.as_str(),
            &log_ttl,
        ];
        match inner.run::<i64>(&inner.scripts.relay, &args).await {
            Ok(0) => Err(RelayError::NoSuchPeer),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "relay script failed");
                Err(RelayError::Unavailable)
            }
        }
    }

    async fn chat(&self, room: &RoomId, from: &PeerId, text: String, received: Instant) {
        let inner = &self.inner;
        let sent = sent_us(Some(received));
        let log_ttl = inner.log_ttl_ms().to_string();
        let args: [&str; 5] = [room.as_str(), from.as_str(), &text, &sent, &log_ttl];
        if let Err(e) = inner.run::<i64>(&inner.scripts.chat, &args).await {
            tracing::warn!(error = %e, "chat script failed");
        }
    }

    async fn media(&self, room: &RoomId, from: &PeerId, state: MediaState, received: Instant) {
        let inner = &self.inner;
        let frame = ServerMessage::Media {
            from: from.clone(),
            state,
        }
        .encode(room);
        let flag = |b: bool| if b { "1" } else { "0" };
        let sent = sent_us(Some(received));
        let log_ttl = inner.log_ttl_ms().to_string();
        let args: [&str; 8] = [
            room.as_str(),
            from.as_str(),
            flag(state.audio),
            flag(state.video),
            flag(state.screen),
            &sent,
            &frame,
            &log_ttl,
        ];
        if let Err(e) = inner.run::<i64>(&inner.scripts.media, &args).await {
            tracing::warn!(error = %e, "media script failed");
        }
    }

    async fn announce(&self, room: &RoomId, message: &ServerMessage, kind: Kind) {
        let inner = &self.inner;
        let frame = message.encode(room);
        let log_ttl = inner.log_ttl_ms().to_string();
        let args: [&str; 4] = [room.as_str(), kind.label(), &frame, &log_ttl];
        if let Err(e) = inner.run::<i64>(&inner.scripts.announce, &args).await {
            tracing::warn!(error = %e, "announce script failed");
        }
    }

    async fn dropped(&self, room: &RoomId, peer: &PeerId, conn: &ConnId) -> bool {
        let inner = &self.inner;
        let args = vec![
            room.to_string(),
            peer.to_string(),
            conn.to_string(),
            millis(inner.settings.grace).to_string(),
        ];
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        match inner.run::<i64>(&inner.scripts.dropped, &refs).await {
            Ok(n) => n == 1,
            Err(_) => {
                inner.retry(|s| &s.dropped, args);
                false
            }
        }
    }

    async fn leave(&self, room: &RoomId, peer: &PeerId, conn: &ConnId) -> bool {
        let inner = &self.inner;
        let args = vec![
            room.to_string(),
            peer.to_string(),
            conn.to_string(),
            inner.log_ttl_ms().to_string(),
        ];
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        match inner.run::<i64>(&inner.scripts.leave, &refs).await {
            Ok(n) => n == 1,
            Err(_) => {
                inner.retry(|s| &s.leave, args);
                false
            }
        }
    }

    /// Over the whole cluster (kept by the scripts in one hash).
    async fn counts(&self) -> Counts {
        let counts: RedisResult<(Option<usize>, Option<usize>)> = redis::cmd("HMGET")
            .arg("rm:count")
            .arg("rooms")
            .arg("peers")
            .query_async(&mut self.inner.conn.clone())
            .await;
        let (rooms, peers) = counts.unwrap_or_default();
        Counts {
            rooms: rooms.unwrap_or(0),
            peers: peers.unwrap_or(0),
        }
    }
}
