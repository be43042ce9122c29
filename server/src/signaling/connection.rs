//! One WebSocket session, already joined before the upgrade: read frames until the socket
//! ends, then leave or hand the slot to the engine's resume grace. The writer runs as its own
//! task; this task is the reader.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use protocol::{ClientMessage, CloseCode, ErrorCode, PeerId, RoomId, ServerMessage};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, timeout};

use super::engine::{Engine, Joined, RelayError};
use super::handle::{ConnHandle, Outbound};
use super::ratelimit::{TokenBucket, Verdict};
use super::{writer, Signaling};
use crate::metrics::Kind;
use crate::turn;

/// How long the reader keeps draining after the connection ended, so the client's close reply
/// (or the rest of an oversized frame) is read and the socket ends with FIN, not RST.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(500);

/// A session admitted by the engine whose socket is not running yet. The join happens before
/// the protocol switch, so a client whose handshake completed is already in the room; if the
/// upgrade then fails, dropping this undoes the join.
pub struct Admitted {
    /// The room.
    pub room: RoomId,
    /// The peer.
    pub peer: PeerId,
    /// Whether it took over an earlier session.
    pub joined: Joined,
    /// The socket's handle, registered with the engine and the registry.
    pub conn: ConnHandle,
    /// The writer's end of the queue (already holding `welcome`); taken by [`serve`].
    rx: Option<mpsc::Receiver<Outbound>>,
    /// To undo the join.
    sig: Arc<Signaling>,
}

impl Admitted {
    /// Wraps a successful join.
    pub fn new(
        room: RoomId,
        peer: PeerId,
        joined: Joined,
        conn: ConnHandle,
        rx: mpsc::Receiver<Outbound>,
        sig: Arc<Signaling>,
    ) -> Self {
        Admitted {
            room,
            peer,
            joined,
            conn,
            rx: Some(rx),
            sig,
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.rx.is_none() {
            return; // `serve` took over, and cleans up itself.
        }
        // The upgrade failed: a new peer leaves at once (so it can retry under its id), a
        // resumed one keeps its slot for the grace, as after any drop.
        self.sig.registry.close(&self.conn.id);
        let (sig, room, peer, id) = (
            self.sig.clone(),
            self.room.clone(),
            self.peer.clone(),
            self.conn.id.clone(),
        );
        let joined = self.joined;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                match joined {
                    Joined::New => sig.engine.leave(&room, &peer, &id).await,
                    Joined::Resumed => sig.engine.dropped(&room, &peer, &id).await,
                };
                tracing::info!(%room, %peer, "upgrade failed after the join: undone");
            });
        }
    }
}

/// How the socket ended, which decides what the others are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The client closed: leave at once.
    Clean,
    /// The socket vanished (EOF or error without a close frame, or silence): keep the slot for
    /// the resume grace.
    Dropped,
    /// The server closed it (too large, slow, flooding, replaced, shutdown).
    Closed,
}

/// Runs one admitted session to its end. Never panics on anything the client sends.
pub async fn serve(socket: WebSocket, mut admitted: Admitted, sig: Arc<Signaling>) {
    let Some(rx) = admitted.rx.take() else {
        return;
    };
    let (room, peer, conn) = (
        admitted.room.clone(),
        admitted.peer.clone(),
        admitted.conn.clone(),
    );
    drop(admitted);
    let metrics = &sig.metrics;
    metrics.connection_opened();
    let (sink, mut stream) = socket.split();
    let mut writer = sig.tracker.spawn(writer::run(
        sink,
        rx,
        conn.control.clone(),
        sig.shutdown.clone(),
        metrics.clone(),
        sig.settings.ping_interval,
    ));
    // Fresh TURN credentials before the old ones expire, for as long as the socket lives. Only
    // minted credentials expire: without them there is nothing to renew, and no task to spawn
    // (a spawn per join is a measurable share of a join's cost).
    if sig.ice.renew_every().is_some() {
        sig.tracker.spawn(turn::renew(
            conn.clone(),
            room.clone(),
            peer.clone(),
            sig.ice.clone(),
            metrics.clone(),
        ));
    }
    // The in-memory engine answers at once; a remote one gets its own ordered queue.
    let (ops, executor) = if sig.engine.is_remote() {
        let (tx, rx) = mpsc::channel(sig.settings.outbound_queue.max(1));
        let task = sig.tracker.spawn(run_ops(
            rx,
            conn.clone(),
            room.clone(),
            peer.clone(),
            sig.clone(),
        ));
        (Some(tx), Some(task))
    } else {
        (None, None)
    };
    let end = read(&mut stream, &conn, &room, &peer, &sig, ops.as_ref()).await;
    drop(ops);
    if let Some(executor) = executor {
        // What the client sent before it went goes out before it leaves.
        let _ = executor.await;
    }
    if end != End::Closed {
        conn.control.finish();
    }
    drain(&mut stream, &mut writer).await;
    metrics.connection_closed();
    sig.registry.close(&conn.id);
    let replaced = conn.control.code() == Some(CloseCode::Replaced);
    match end {
        _ if replaced => tracing::info!(%room, %peer, "socket replaced by a resumed session"),
        // A shutdown, a drain or a 1012 closes sockets so that their clients resume (elsewhere,
        // or here after a restart): nobody is told `peer-left` for that.
        _ if end == End::Dropped
            || sig.shutdown.is_cancelled()
            || conn.control.code() == Some(CloseCode::Reconnect) =>
        {
            if sig.engine.dropped(&room, &peer, &conn.id).await {
                tracing::info!(%room, %peer, ?end, "socket gone: waiting for a resume");
            }
        }
        _ => {
            if sig.engine.leave(&room, &peer, &conn.id).await {
                tracing::info!(%room, %peer, ?end, close = ?conn.control.code(), "peer left");
            }
        }
    }
}

/// Waits (bounded) for the writer to send its close frame, and meanwhile keeps reading so the
/// client's close reply is consumed.
async fn drain(stream: &mut SplitStream<WebSocket>, writer: &mut tokio::task::JoinHandle<()>) {
    let _ = timeout(writer::CLOSE_TIMEOUT + DRAIN_TIMEOUT, writer).await;
    let _ = timeout(DRAIN_TIMEOUT, async {
        while stream.next().await.is_some() {}
    })
    .await;
}

/// Queues an `error` frame for this connection.
fn send_error(conn: &ConnHandle, room: &RoomId, code: ErrorCode, message: &str, sig: &Signaling) {
    let text = ServerMessage::Error {
        code,
        message: message.to_owned(),
    }
    .encode(room);
    conn.send(
        Outbound {
            text: text.into(),
            kind: Kind::Error,
            received: None,
        },
        &sig.metrics,
    );
}

/// Reads and handles frames until the socket ends or must end; with `ops`, the engine calls
/// run there instead of inline.
async fn read(
    stream: &mut SplitStream<WebSocket>,
    conn: &ConnHandle,
    room: &RoomId,
    peer: &PeerId,
    sig: &Signaling,
    ops: Option<&mpsc::Sender<Op>>,
) -> End {
    let settings = &sig.settings;
    let metrics = &sig.metrics;
    let mut bucket = TokenBucket::new(settings.rate_per_sec, settings.rate_burst, Instant::now());
    let mut last_seen = tokio::time::Instant::now();
    let idle = sleep_until(last_seen + settings.idle_timeout);
    tokio::pin!(idle);
    loop {
        let msg = tokio::select! {
            biased;
            () = conn.control.ended() => return End::Closed,
            () = sig.shutdown.cancelled() => {
                conn.control.close(CloseCode::Reconnect);
                return End::Closed;
            }
            () = &mut idle => {
                if last_seen.elapsed() >= settings.idle_timeout {
                    tracing::info!(%room, %peer, "socket silent too long: treated as dropped");
                    return End::Dropped;
                }
                idle.as_mut().reset(last_seen + settings.idle_timeout);
                continue;
            }
            msg = stream.next() => msg,
        };
        last_seen = tokio::time::Instant::now();
        let text = match msg {
            None => return End::Dropped,
            Some(Err(e)) => {
                if is_too_large(e) {
                    metrics.frame_in(Kind::Invalid);
                    metrics.error(ErrorCode::TooLarge);
                    tracing::info!(%room, %peer, "frame too large: closing with 1009");
                    let message =
                        format!("frames are limited to {} bytes", settings.max_frame_bytes);
                    send_error(conn, room, ErrorCode::TooLarge, &message, sig);
                    conn.control.close(CloseCode::TooLarge);
                    return End::Closed;
                }
                return End::Dropped;
            }
            Some(Ok(Message::Close(_))) => return End::Clean,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                metrics.frame_in(Kind::Invalid);
                metrics.error(ErrorCode::BadEnvelope);
                send_error(
                    conn,
                    room,
                    ErrorCode::BadEnvelope,
                    "frames must be text (UTF-8 JSON), not binary",
                    sig,
                );
                continue;
            }
            Some(Ok(Message::Text(text))) => text,
        };
        let received = Instant::now();
        match bucket.check(received) {
            Verdict::Pass => {}
            Verdict::Refuse => {
                metrics.frame_in(Kind::Invalid);
                metrics.error(ErrorCode::RateLimited);
                send_error(
                    conn,
                    room,
                    ErrorCode::RateLimited,
                    "too many frames: this one was dropped",
                    sig,
                );
                continue;
            }
            Verdict::Close => {
                metrics.rate_limit_close();
                tracing::warn!(%room, %peer, "kept flooding: closing with 4029");
                conn.control.close(CloseCode::RateLimited);
                return End::Closed;
            }
        }
        let Some(msg) = parse(text.as_str(), conn, room, peer, sig) else {
            continue;
        };
        match ops {
            // Waits only when the queue is full: backpressure on a flooding client.
            Some(ops) => {
                if ops.send((msg, received)).await.is_err() {
                    return End::Closed;
                }
            }
            None => apply(msg, received, conn, room, peer, sig).await,
        }
    }
}

/// Parses one text frame that passed the rate limit; a bad one is answered with an `error`.
fn parse(
    text: &str,
    conn: &ConnHandle,
    room: &RoomId,
    peer: &PeerId,
    sig: &Signaling,
) -> Option<ClientMessage> {
    match ClientMessage::parse(text) {
        Ok(msg) => Some(msg),
        Err(e) => {
            sig.metrics.frame_in(Kind::Invalid);
            sig.metrics.error(e.code);
            tracing::debug!(%room, %peer, code = %e.code, "frame refused");
            send_error(conn, room, e.code, &e.message, sig);
            None
        }
    }
}

/// A parsed frame waiting for the engine, with the time it arrived.
type Op = (ClientMessage, Instant);

/// Frames whose engine calls may be in flight at once. Below 30, `join_all` polls its futures
/// in order, so the calls leave in the order the frames came.
const MAX_IN_FLIGHT: usize = 24;

/// Runs a remote engine's calls for one connection in the order the frames came, so the reader
/// never waits on a round trip (and a rate limit is applied to frames as they arrive). Calls
/// that are queued together are pipelined: each is sent on its first poll, in order, over the
/// engine's single connection, so they reach the engine in order without waiting for each
/// other's answers.
async fn run_ops(
    mut ops: mpsc::Receiver<Op>,
    conn: ConnHandle,
    room: RoomId,
    peer: PeerId,
    sig: Arc<Signaling>,
) {
    let mut batch = Vec::with_capacity(MAX_IN_FLIGHT);
    while let Some(first) = ops.recv().await {
        batch.push(first);
        while batch.len() < MAX_IN_FLIGHT {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let calls = batch
            .drain(..)
            .map(|(msg, received)| apply(msg, received, &conn, &room, &peer, &sig));
        futures_util::future::join_all(calls).await;
    }
}

/// Hands one frame to the engine.
async fn apply(
    msg: ClientMessage,
    received: Instant,
    conn: &ConnHandle,
    room: &RoomId,
    peer: &PeerId,
    sig: &Signaling,
) {
    let metrics = &sig.metrics;
    match msg {
        ClientMessage::Relay { kind, to, data } => {
            let kind_label = Kind::of_relay(kind);
            metrics.frame_in(kind_label);
            let frame = ServerMessage::Relay {
                kind,
                from: peer.clone(),
                to: to.clone(),
                data,
            }
            .encode(room);
            let out = Outbound {
                text: frame.into(),
                kind: kind_label,
                received: Some(received),
            };
            match sig.engine.relay(room, &to, out).await {
                Ok(()) => {}
                Err(RelayError::NoSuchPeer) => {
                    metrics.error(ErrorCode::NoSuchPeer);
                    let message = format!("no peer {to} in this room");
                    send_error(conn, room, ErrorCode::NoSuchPeer, &message, sig);
                }
                Err(RelayError::Unavailable) => {
                    metrics.error(ErrorCode::Unavailable);
                    let message = format!("not delivered to {to}: rooms are unavailable");
                    send_error(conn, room, ErrorCode::Unavailable, &message, sig);
                }
            }
        }
        ClientMessage::Chat { text } => {
            metrics.frame_in(Kind::Chat);
            sig.engine.chat(room, peer, text, received).await;
        }
        ClientMessage::Media(state) => {
            metrics.frame_in(Kind::Media);
            sig.engine.media(room, peer, state, received).await;
        }
    }
}

/// Whether a read error is tungstenite refusing a frame or message over the size limit.
fn is_too_large(e: axum::Error) -> bool {
    let inner = e.into_inner();
    matches!(
        inner.downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}
