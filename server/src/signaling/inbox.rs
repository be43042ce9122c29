//! Sequenced delivery to one local socket, for engines that deliver over a message bus.
//!
//! Every frame an engine sends to a peer carries a per-recipient sequence number (assigned where
//! the frame is logged). The inbox passes frames to the socket strictly in that order, once:
//! duplicates are dropped, frames that arrive early wait, and a gap asks the engine to fetch
//! the missing frames from its log. A gap the log cannot fill is reported, never skipped.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;

use super::handle::{ConnHandle, Outbound};
use crate::metrics::{Kind, Metrics};

/// Frames that may wait for a gap to be filled before the socket counts as hopelessly behind.
pub const MAX_PENDING: usize = 1024;

/// One numbered frame for this socket.
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Its number among the frames sent to this peer.
    pub seq: u64,
    /// For the counters.
    pub kind: Kind,
    /// The encoded frame.
    pub text: Utf8Bytes,
    /// When the frame it carries reached the sender's node, for the latency histogram.
    pub received: Option<Instant>,
}

/// What the engine must do after an inbox accepted frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing.
    Done,
    /// Fetch frames `from..=to` from the log and [`Inbox::fill`] them.
    Fetch {
        /// First missing number.
        from: u64,
        /// Last missing number.
        to: u64,
    },
    /// The missing frames are gone from the log (or too many wait): the socket must start over
    /// with a fresh `welcome`.
    Resync,
}

/// The sequencing state of one socket.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The number this socket expects next; 0 until its `welcome` is queued.
    next: u64,
    /// Frames that arrived early.
    pending: BTreeMap<u64, Numbered>,
    /// Whether a fetch for a gap is under way (one at a time).
    fetching: bool,
}

impl Inbox {
    /// The number expected next (0 before [`Inbox::start`]).
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Frames known before the `welcome` is queued (a resumed session's replay from the log).
    pub fn preload(&mut self, frames: Vec<Numbered>) {
        for frame in frames {
            self.pending.insert(frame.seq, frame);
        }
    }

    /// The `welcome` (which covers everything up to `base`) is queued: deliver what follows.
    /// Anything older that waited is dropped.
    pub fn start(&mut self, base: u64, conn: &ConnHandle, metrics: &Metrics) -> Next {
        self.next = base + 1;
        self.pending = self.pending.split_off(&self.next);
        self.flush(conn, metrics)
    }

    /// A frame arrived from the bus.
    pub fn offer(&mut self, frame: Numbered, conn: &ConnHandle, metrics: &Metrics) -> Next {
        if self.next != 0 && frame.seq < self.next {
            return Next::Done; // a duplicate
        }
        self.pending.insert(frame.seq, frame);
        if self.next == 0 {
            return self.overflowed();
        }
        self.flush(conn, metrics)
    }

    /// Frames fetched from the log for a gap (or a catch-up after the bus reconnected).
    pub fn fill(&mut self, frames: Vec<Numbered>, conn: &ConnHandle, metrics: &Metrics) -> Next {
        self.fetching = false;
        for frame in frames {
            if frame.seq >= self.next {
                self.pending.insert(frame.seq, frame);
            }
        }
        match self.flush(conn, metrics) {
            // The log did not hold the frame expected next: it is lost to this socket.
            Next::Fetch { .. } => Next::Resync,
            other => other,
        }
    }

    /// Whether too many frames wait.
    fn overflowed(&self) -> Next {
        if self.pending.len() > MAX_PENDING {
            Next::Resync
        } else {
            Next::Done
        }
    }

    /// Sends every frame that is next in line; reports a gap once.
    fn flush(&mut self, conn: &ConnHandle, metrics: &Metrics) -> Next {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let frame = entry.remove();
            conn.send(
                Outbound {
                    text: frame.text,
                    kind: frame.kind,
                    received: frame.received,
                },
                metrics,
            );
            self.next += 1;
        }
        match self.pending.first_key_value() {
            None => Next::Done,
            Some(_) if self.pending.len() > MAX_PENDING => Next::Resync,
            Some(_) if self.fetching => Next::Done,
            Some((&first, _)) => {
                self.fetching = true;
                Next::Fetch {
                    from: self.next,
                    to: first - 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signaling::node::{ConnId, NodeId};

    fn frame(seq: u64) -> Numbered {
        Numbered {
            seq,
            kind: Kind::Offer,
            text: format!("{seq}").into(),
            received: None,
        }
    }

    #[test]
    fn frames_come_out_in_order_once_and_gaps_are_fetched_or_reported() {
        let metrics = Metrics::default();
        let id = ConnId {
            node: NodeId::random(),
            seq: 1,
        };
        let (conn, mut rx) = ConnHandle::new(id, 64);
        let mut inbox = Inbox::default();
        // Before the welcome, frames wait.
        assert_eq!(inbox.offer(frame(1), &conn, &metrics), Next::Done);
        assert!(rx.try_recv().is_err());
        assert_eq!(inbox.start(0, &conn, &metrics), Next::Done);
        assert_eq!(inbox.offer(frame(1), &conn, &metrics), Next::Done); // duplicate
        assert_eq!(inbox.offer(frame(2), &conn, &metrics), Next::Done);
        assert_eq!(
            inbox.offer(frame(5), &conn, &metrics),
            Next::Fetch { from: 3, to: 4 }
        );
        assert_eq!(inbox.offer(frame(6), &conn, &metrics), Next::Done); // fetch under way
        assert_eq!(
            inbox.fill(vec![frame(3), frame(4)], &conn, &metrics),
            Next::Done
        );
        let got: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|f| f.text.to_string())
            .collect();
        assert_eq!(got, ["1", "2", "3", "4", "5", "6"]);
        assert_eq!(
            inbox.offer(frame(9), &conn, &metrics),
            Next::Fetch { from: 7, to: 8 }
        );
        assert_eq!(inbox.fill(vec![frame(8)], &conn, &metrics), Next::Resync);
    }
}
