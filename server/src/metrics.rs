//! Counters for `/metrics`: hand-written atomics rendered as Prometheus text.
//!
//! Labels are low-cardinality by construction (frame types, error codes, fixed histogram
//! buckets): never a room or peer id, so the series count cannot grow with traffic.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use protocol::ErrorCode;

/// The frame types the counters are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// `welcome` (out only).
    Welcome,
    /// `ice-servers`: renewed TURN credentials (out only).
    IceServers,
    /// `new-peer` (out only).
    NewPeer,
    /// `peer-left` (out only).
    PeerLeft,
    /// `offer`.
    Offer,
    /// `answer`.
    Answer,
    /// `ice`.
    Ice,
    /// `chat`.
    Chat,
    /// `media`.
    Media,
    /// `error` (out only).
    Error,
    /// `recording` (out only).
    Recording,
    /// A frame the server refused: bad JSON, bad envelope, unknown type, binary, rate-limited.
    Invalid,
}

impl Kind {
    /// Every kind, in `repr` order.
    const ALL: [Kind; 12] = [
        Kind::Welcome,
        Kind::IceServers,
        Kind::NewPeer,
        Kind::PeerLeft,
        Kind::Offer,
        Kind::Answer,
        Kind::Ice,
        Kind::Chat,
        Kind::Media,
        Kind::Error,
        Kind::Recording,
        Kind::Invalid,
    ];

    /// The label value, which is also the frame's `type` on the wire.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Welcome => "welcome",
            Kind::IceServers => "ice-servers",
            Kind::NewPeer => "new-peer",
            Kind::PeerLeft => "peer-left",
            Kind::Offer => "offer",
            Kind::Answer => "answer",
            Kind::Ice => "ice",
            Kind::Chat => "chat",
            Kind::Media => "media",
            Kind::Error => "error",
            Kind::Invalid => "invalid",
            Kind::Recording => "recording",
        }
    }

    /// The kind for a label, e.g. of a frame that crossed nodes.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }

    /// The kind of a relayed signaling frame.
    pub fn of_relay(kind: protocol::RelayKind) -> Self {
        match kind {
            protocol::RelayKind::Offer => Kind::Offer,
            protocol::RelayKind::Answer => Kind::Answer,
            protocol::RelayKind::Ice => Kind::Ice,
        }
    }
}

/// Upper bounds of the relay latency buckets, in microseconds: fine below the 1 ms target,
/// coarse above it.
const LATENCY_BUCKETS_US: [u64; 12] = [
    25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000,
];

/// Every counter of the server. One instance, shared by `Arc`; all updates are relaxed atomic
/// adds, so counting costs no lock on the relay path.
#[derive(Default)]
pub struct Metrics {
    /// WebSocket connections open now.
    connections_current: AtomicU64,
    /// WebSocket connections accepted since start.
    connections_total: AtomicU64,
    /// Frames received, by [`Kind`].
    frames_in: [AtomicU64; Kind::ALL.len()],
    /// Frames queued for a client, by [`Kind`].
    frames_out: [AtomicU64; Kind::ALL.len()],
    /// Refusals (error frames and HTTP refusals), by [`ErrorCode`].
    errors: [AtomicU64; ErrorCode::ALL.len()],
    /// Connections closed with 4008 because their outbound queue overflowed.
    overflow_closes: AtomicU64,
    /// Connections closed with 4029 for flooding.
    rate_limit_closes: AtomicU64,
    /// Relay latency histogram: non-cumulative counts per bucket, plus one for `+Inf`.
    latency_buckets: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    /// Sum of relay latencies, in microseconds.
    latency_sum_us: AtomicU64,
}

impl Metrics {
    /// A socket was upgraded.
    pub fn connection_opened(&self) {
        self.connections_current.fetch_add(1, Relaxed);
        self.connections_total.fetch_add(1, Relaxed);
    }

    /// A socket ended.
    pub fn connection_closed(&self) {
        self.connections_current.fetch_sub(1, Relaxed);
    }

    /// A frame arrived.
    pub fn frame_in(&self, kind: Kind) {
        self.frames_in[kind as usize].fetch_add(1, Relaxed);
    }

    /// A frame was queued for a client.
    pub fn frame_out(&self, kind: Kind) {
        self.frames_out[kind as usize].fetch_add(1, Relaxed);
    }

    /// A frame or request was refused with `code`.
    pub fn error(&self, code: ErrorCode) {
        self.errors[code.index()].fetch_add(1, Relaxed);
    }

    /// A connection was closed for not reading (4008).
    pub fn overflow_close(&self) {
        self.overflow_closes.fetch_add(1, Relaxed);
    }

    /// A connection was closed for flooding (4029).
    pub fn rate_limit_close(&self) {
        self.rate_limit_closes.fetch_add(1, Relaxed);
    }

    /// A relayed frame was written to its recipient `latency` after it arrived.
    pub fn relay_latency(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BUCKETS_US
            .iter()
            .position(|&le| us <= le)
            .unwrap_or(LATENCY_BUCKETS_US.len());
        self.latency_buckets[bucket].fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(us, Relaxed);
    }

    /// The Prometheus text exposition, with the room and peer gauges read from the hub.
    pub fn render(&self, rooms: usize, peers: usize) -> String {
        let mut out = String::with_capacity(4096);
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
            );
        };
        gauge(
            &mut out,
            "signaling_connections",
            "WebSocket connections open now.",
            self.connections_current.load(Relaxed),
        );
        gauge(&mut out, "signaling_rooms", "Rooms now.", rooms as u64);
        gauge(
            &mut out,
            "signaling_peers",
            "Peers in rooms now.",
            peers as u64,
        );
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        };
        counter(
            &mut out,
            "signaling_connections_total",
            "WebSocket connections accepted.",
            self.connections_total.load(Relaxed),
        );
        counter(
            &mut out,
            "signaling_queue_overflow_closes_total",
            "Connections closed with 4008 (outbound queue overflow).",
            self.overflow_closes.load(Relaxed),
        );
        counter(
            &mut out,
            "signaling_rate_limit_closes_total",
            "Connections closed with 4029 (kept flooding).",
            self.rate_limit_closes.load(Relaxed),
        );
        for (name, help, counts) in [
            (
                "signaling_frames_in_total",
                "Frames received, by type.",
                &self.frames_in,
            ),
            (
                "signaling_frames_out_total",
                "Frames queued for clients, by type.",
                &self.frames_out,
            ),
        ] {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n");
            for kind in Kind::ALL {
                let value = counts[kind as usize].load(Relaxed);
                let _ = writeln!(out, "{name}{{type=\"{}\"}} {value}", kind.label());
            }
        }
        let name = "signaling_errors_total";
        let _ = write!(
            out,
            "# HELP {name} Refused frames and upgrades, by error code.\n# TYPE {name} counter\n"
        );
        for code in ErrorCode::ALL {
            let value = self.errors[code.index()].load(Relaxed);
            let _ = writeln!(out, "{name}{{code=\"{code}\"}} {value}");
        }
        let name = "signaling_relay_latency_seconds";
        let _ = write!(
            out,
            "# HELP {name} Time from a frame's arrival to its write to the recipient.\n\
             # TYPE {name} histogram\n"
        );
        let mut cumulative = 0;
        for (i, le) in LATENCY_BUCKETS_US.iter().enumerate() {
            cumulative += self.latency_buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{}\"}} {cumulative}",
                *le as f64 / 1e6
            );
        }
        cumulative += self.latency_buckets[LATENCY_BUCKETS_US.len()].load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.latency_sum_us.load(Relaxed) as f64 / 1e6;
        let _ = write!(out, "{name}_sum {sum}\n{name}_count {cumulative}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_labels() {
        let m = Metrics::default();
        m.relay_latency(Duration::from_micros(40));
        m.relay_latency(Duration::from_micros(900));
        m.relay_latency(Duration::from_secs(5));
        m.frame_in(Kind::Offer);
        m.error(ErrorCode::NoSuchPeer);
        let text = m.render(2, 3);
        assert!(text.contains("signaling_relay_latency_seconds_bucket{le=\"0.00005\"} 1\n"));
        assert!(text.contains("signaling_relay_latency_seconds_bucket{le=\"0.001\"} 2\n"));
        assert!(text.contains("signaling_relay_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("signaling_relay_latency_seconds_count 3\n"));
        assert!(text.contains("signaling_frames_in_total{type=\"offer\"} 1\n"));
        assert!(text.contains("signaling_errors_total{code=\"no-such-peer\"} 1\n"));
        assert!(
            text.contains("signaling_rooms 2\nsignaling_peers 3\n")
                || text.contains("signaling_peers 3\n")
        );
    }
}
