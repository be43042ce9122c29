//! One WebSocket session: join, read frames until the socket ends, leave (or wait out the
//! resume grace). The writer runs as its own task; this task is the reader.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use protocol::{ClientMessage, CloseCode, ErrorCode, PeerId, RoomId, ServerMessage};
use tokio::time::{sleep_until, timeout};

use super::handle::{ConnHandle, Outbound};
use super::hub::NoSuchPeer;
use super::ratelimit::{TokenBucket, Verdict};
use super::{writer, Signaling};
use crate::metrics::Kind;
use crate::turn;

/// How long the reader keeps draining after the connection ended, so the client's close reply
/// (or the rest of an oversized frame) is read and the socket ends with FIN, not RST.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(500);

/// Close code 1008 (policy violation): the join lost a race after the pre-upgrade check.
const POLICY_VIOLATION: u16 = 1008;

/// Who joins: the validated parts of the upgrade request.
pub struct Join {
    /// The room.
    pub room: RoomId,
    /// The peer.
    pub peer: PeerId,
    /// Display name, trimmed.
    pub name: String,
    /// The resume token, if the client sent one.
    pub resume: Option<String>,
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

/// Runs one session to its end. Never panics on anything the client sends.
pub async fn serve(socket: WebSocket, join: Join, sig: Arc<Signaling>) {
    let metrics = sig.hub.metrics();
    metrics.connection_opened();
    let (sink, mut stream) = socket.split();
    let (conn, rx) = ConnHandle::new(sig.settings.outbound_queue);
    let mut writer = sig.tracker.spawn(writer::run(
        sink,
        rx,
        conn.control.clone(),
        sig.shutdown.clone(),
        sig.hub.metrics().clone(),
        sig.settings.ping_interval,
    ));
    let Join {
        room,
        peer,
        name,
        resume,
    } = join;
    let end = match sig
        .hub
        .join(&room, &peer, name.clone(), resume.as_deref(), conn.clone())
    {
        Ok(joined) => {
            tracing::info!(%room, %peer, ?joined, "peer joined");
            let renew = turn::renew(
                conn.clone(),
                room.clone(),
                peer.clone(),
                sig.hub.ice().clone(),
                metrics.clone(),
            );
            sig.tracker.spawn(renew);
            read(&mut stream, &conn, &room, &peer, &sig).await
        }
        Err(refusal) => {
            // Lost a race with another join after the pre-upgrade check.
            tracing::info!(%room, %peer, ?refusal, "join refused after upgrade");
            metrics.error(refusal.code());
            send_error(&conn, &room, refusal.code(), refusal.message(), &sig);
            conn.control.close_with(POLICY_VIOLATION);
            drain(&mut stream, &mut writer).await;
            metrics.connection_closed();
            return;
        }
    };
    if end != End::Closed {
        conn.control.finish();
    }
    drain(&mut stream, &mut writer).await;
    metrics.connection_closed();
    let replaced = conn.control.code() == Some(CloseCode::Replaced);
    match end {
        _ if replaced => tracing::info!(%room, %peer, "socket replaced by a resumed session"),
        End::Dropped if !sig.shutdown.is_cancelled() => {
            if sig.hub.drop_conn(&room, &peer, conn.id) {
                tracing::info!(%room, %peer, "socket dropped: waiting for a resume");
                tokio::select! {
                    () = tokio::time::sleep(sig.settings.resume_grace) => {}
                    () = sig.shutdown.cancelled() => {}
                }
                if sig.hub.leave(&room, &peer, conn.id) {
                    tracing::info!(%room, %peer, "peer left: resume grace expired");
                }
            }
        }
        _ => {
            if sig.hub.leave(&room, &peer, conn.id) {
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
        sig.hub.metrics(),
    );
}

/// Reads and handles frames until the socket ends or must end.
async fn read(
    stream: &mut SplitStream<WebSocket>,
    conn: &ConnHandle,
    room: &RoomId,
    peer: &PeerId,
    sig: &Signaling,
) -> End {
    let settings = &sig.settings;
    let metrics = sig.hub.metrics();
    let mut bucket = TokenBucket::new(settings.rate_per_sec, settings.rate_burst, Instant::now());
    let mut last_seen = tokio::time::Instant::now();
    let idle = sleep_until(last_seen + settings.idle_timeout);
    tokio::pin!(idle);
    loop {
        let msg = tokio::select! {
            biased;
            () = conn.control.ended() => return End::Closed,
            () = sig.shutdown.cancelled() => {
                conn.control.close(CloseCode::GoingAway);
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
        handle(text.as_str(), received, conn, room, peer, sig);
    }
}

/// Handles one text frame that passed the rate limit.
fn handle(
    text: &str,
    received: Instant,
    conn: &ConnHandle,
    room: &RoomId,
    peer: &PeerId,
    sig: &Signaling,
) {
    let metrics = sig.hub.metrics();
    let msg = match ClientMessage::parse(text) {
        Ok(msg) => msg,
        Err(e) => {
            metrics.frame_in(Kind::Invalid);
            metrics.error(e.code);
            tracing::debug!(%room, %peer, code = %e.code, "frame refused");
            send_error(conn, room, e.code, &e.message, sig);
            return;
        }
    };
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
            if let Err(NoSuchPeer) = sig.hub.relay(room, &to, out) {
                metrics.error(ErrorCode::NoSuchPeer);
                let message = format!("no peer {to} in this room");
                send_error(conn, room, ErrorCode::NoSuchPeer, &message, sig);
            }
        }
        ClientMessage::Chat { text } => {
            metrics.frame_in(Kind::Chat);
            sig.hub.chat(room, peer, text, received);
        }
        ClientMessage::Media(state) => {
            metrics.frame_in(Kind::Media);
            sig.hub.media(room, peer, state, received);
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
