//! What the hub holds for one connected socket: its bounded outbound queue and a way to close it.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use protocol::CloseCode;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::node::ConnId;
use crate::metrics::{Kind, Metrics};

/// One frame waiting for a connection's writer.
#[derive(Debug)]
pub struct Outbound {
    /// The encoded frame; a broadcast shares one buffer between all recipients.
    pub text: Utf8Bytes,
    /// For the frames-out counter.
    pub kind: Kind,
    /// When the frame this one relays arrived, for the latency histogram; `None` for frames the
    /// server originates.
    pub received: Option<Instant>,
}

/// How a connection is told to end, shared by its reader, its writer and the hub.
#[derive(Debug, Default)]
pub struct Control {
    /// The close code the writer should send, 0 while none is chosen. The first code wins.
    code: AtomicU16,
    /// Cancelled when the connection must end: the writer sends the close frame (if a code is
    /// set) and stops, the reader stops.
    ended: CancellationToken,
}

impl Control {
    /// Asks the connection to close with `code`, unless another close already started.
    pub fn close(&self, code: CloseCode) {
        self.close_with(code.code());
    }

    /// Like [`Control::close`] with any close code, e.g. 1008 (policy) for a lost join race.
    pub fn close_with(&self, code: u16) {
        let _ = self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
        self.ended.cancel();
    }

    /// The raw close code chosen, if any.
    pub fn raw_code(&self) -> Option<u16> {
        match self.code.load(Ordering::Acquire) {
            0 => None,
            code => Some(code),
        }
    }

    /// Ends the connection without a close frame of ours (the close handshake is done or the
    /// socket is gone).
    pub fn finish(&self) {
        self.ended.cancel();
    }

    /// The close code chosen, if any.
    pub fn code(&self) -> Option<CloseCode> {
        CloseCode::from_code(self.code.load(Ordering::Acquire))
    }

    /// Resolves once the connection must end.
    pub async fn ended(&self) {
        self.ended.cancelled().await;
    }

    /// Whether the connection must end.
    pub fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }
}

/// The hub's handle to one socket. Cloning is cheap (a channel sender and an `Arc`).
#[derive(Debug, Clone)]
pub struct ConnHandle {
    /// Unique across nodes: tells a resumed session's new socket from its old one.
    pub id: ConnId,
    /// The writer's queue, bounded by `outbound_queue`.
    tx: mpsc::Sender<Outbound>,
    /// Closing.
    pub control: Arc<Control>,
}

impl ConnHandle {
    /// A handle and the receiving end of its queue, holding at most `capacity` frames. Ids come
    /// from the [`Registry`](super::registry::Registry), which keeps them unique.
    pub fn new(id: ConnId, capacity: usize) -> (Self, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let handle = ConnHandle {
            id,
            tx,
            control: Arc::new(Control::default()),
        };
        (handle, rx)
    }

    /// Queues a frame without ever waiting: a slow reader must not hold up the sender (or the
    /// hub's lock). A full queue closes this connection with 4008; the frame is lost, which is
    /// fine because the connection is going away.
    pub fn send(&self, frame: Outbound, metrics: &Metrics) {
        let kind = frame.kind;
        match self.tx.try_send(frame) {
            Ok(()) => metrics.frame_out(kind),
            Err(TrySendError::Full(_)) => {
                if !self.control.is_ended() {
                    metrics.overflow_close();
                    tracing::warn!(conn = %self.id, "outbound queue full: closing with 4008");
                }
                self.control.close(CloseCode::SlowConsumer);
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }
}
