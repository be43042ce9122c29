//! Server restarts in the reconnect decision: a socket closed with 1012 (the server drains
//! before a restart) is reopened at once, and while the server still drains (joins refused
//! with `restarting`) or is not listening yet, the next try comes within a few hundred
//! milliseconds instead of the ordinary backoff, so the session resumes as soon as the new
//! process listens. The peer connections are not touched: media keeps flowing meanwhile.

use std::cell::Cell;

use protocol::{CloseCode, ErrorCode};

use super::js;
use super::signaling::Ended;

/// How long after a 1012 the quick retries go on before the ordinary backoff takes over: a
/// restart that takes longer is an outage.
const WINDOW_MS: f64 = 30_000.0;

/// Delay between quick retries; the jitter on top spreads a whole room's reconnects.
const RETRY_MS: i32 = 200;

/// Random spread added to every quick retry.
const JITTER_MS: f64 = 100.0;

/// Whether a server restart is under way, as far as this tab can tell.
#[derive(Default)]
pub struct Restart {
    /// Until when (performance time, ms) failures count as part of a restart; 0 when none.
    until: Cell<f64>,
}

impl Restart {
    /// How long to wait before reconnecting after `ended`, if it is part of a server restart;
    /// `None` leaves the decision to the ordinary backoff.
    pub fn retry_delay(&self, ended: &Ended) -> Option<i32> {
        let now = js::now_ms();
        let jitter = (js_sys::Math::random() * JITTER_MS) as i32;
        match ended {
            Ended::Closed(code) if *code == CloseCode::Reconnect.code() => {
                self.until.set(now + WINDOW_MS);
                Some(jitter)
            }
            // Draining, or (several nodes) the shared store is away for a moment: quick retries
            // for one window, then the ordinary backoff.
            Ended::Refused(ErrorCode::Restarting | ErrorCode::Unavailable, _) => {
                if self.until.get() == 0.0 {
                    self.until.set(now + WINDOW_MS);
                }
                (now < self.until.get()).then_some(RETRY_MS + jitter)
            }
            // Not listening yet, or the balancer has no ready node yet.
            Ended::Unreachable | Ended::Closed(1006) if now < self.until.get() => {
                Some(RETRY_MS + jitter)
            }
            _ => {
                self.until.set(0.0);
                None
            }
        }
    }
}
