//! The one task that writes to a socket: frames from the bounded queue, pings, the close frame.
//!
//! Only this task touches the socket's sink, so frames can never interleave, and it is the only
//! place that may wait on a slow client — the hub and other peers never do.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use tokio::sync::mpsc;
use tokio::time::{interval_at, timeout, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::handle::{Control, Outbound};
use crate::metrics::Metrics;
use protocol::CloseCode;

/// How long the close frame may take to reach a client that stopped reading before the socket
/// is dropped without it.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a write already under way may still take once the connection is told to end.
const FINISH_WRITE: Duration = Duration::from_millis(100);

/// Frames written before one flush: batching queued frames saves syscalls under load without
/// delaying anything (a batch only forms when frames are already waiting).
const MAX_BATCH: usize = 32;

/// Writes until the connection ends; then sends the chosen close frame, if any.
pub async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    control: Arc<Control>,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    ping_every: Duration,
) {
    let mut ping = interval_at(Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(0);
    loop {
        tokio::select! {
            biased;
            () = control.ended() => break,
            () = shutdown.cancelled() => {
                control.close(CloseCode::Reconnect);
                break;
            }
            first = rx.recv() => {
                let Some(first) = first else { break };
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(frame) => batch.push(frame),
                        Err(_) => break,
                    }
                }
                let write = async {
                    for frame in &batch {
                        sink.feed(Message::Text(frame.text.clone())).await?;
                    }
                    sink.flush().await
                };
                // A write that is under way when the connection is told to end gets a moment
                // to finish, so a healthy client never loses (or gets twice) a frame of the
                // batch; a stalled one is abandoned and the goodbye below takes over.
                let abandon = async {
                    tokio::select! {
                        () = control.ended() => {}
                        () = shutdown.cancelled() => control.close(CloseCode::Reconnect),
                    }
                    tokio::time::sleep(FINISH_WRITE).await;
                };
                tokio::select! {
                    biased;
                    written = write => {
                        if written.is_err() {
                            control.finish();
                            break;
                        }
                    }
                    () = abandon => break,
                }
                let now = std::time::Instant::now();
                for frame in batch.drain(..) {
                    if let Some(received) = frame.received {
                        metrics.relay_latency(now.saturating_duration_since(received));
                    }
                }
                // A burst grows the batch once; an idle connection should not keep it.
                batch.shrink_to(MAX_BATCH.min(4));
            }
            _ = ping.tick() => {
                let ping = async { sink.send(Message::Ping(Default::default())).await };
                tokio::select! {
                    biased;
                    () = control.ended() => break,
                    () = shutdown.cancelled() => {
                        control.close(CloseCode::Reconnect);
                        break;
                    }
                    sent = ping => if sent.is_err() {
                        control.finish();
                        break;
                    }
                }
            }
        }
    }
    if let Some(code) = control.raw_code() {
        let frame = CloseFrame {
            code,
            reason: CloseCode::from_code(code).map_or("", reason).into(),
        };
        // Frames queued before the close (e.g. the `too-large` error) go first; the whole
        // goodbye is bounded, so a stalled client cannot hold the task.
        let goodbye = async {
            for frame in batch.drain(..) {
                sink.feed(Message::Text(frame.text)).await?;
            }
            while let Ok(frame) = rx.try_recv() {
                sink.feed(Message::Text(frame.text)).await?;
            }
            sink.send(Message::Close(Some(frame))).await
        };
        let _ = timeout(CLOSE_TIMEOUT, goodbye).await;
    }
}

/// The close reason text, for people reading a client log.
fn reason(code: CloseCode) -> &'static str {
    match code {
        CloseCode::GoingAway => "server shutting down",
        CloseCode::TooLarge => "frame too large",
        CloseCode::Reconnect => "reconnect and resume",
        CloseCode::SlowConsumer => "outbound queue overflowed: client too slow",
        CloseCode::Replaced => "replaced by a resumed session",
        CloseCode::RateLimited => "kept sending after being rate-limited",
    }
}
