//! Liveness of the process's own loops, for `/health`: "the socket answers" is not enough — a
//! server whose room lock is stuck still accepts connections but relays nothing.
//!
//! A ticker task beats once a second for the runtime (it got scheduled), once more after it
//! took the lock of this node's sockets, and — with rooms in memory — once more after it took
//! the rooms' lock (nothing holds either for long). `/health` only reads the beats, so it
//! answers even when the loops are stuck, and says which one is. Redis being unreachable is not
//! this process being stuck: `/ready` reports that.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::signaling::engine::{AnyEngine, Engine};
use crate::signaling::Signaling;

/// How often the ticker beats.
pub const BEAT_EVERY: Duration = Duration::from_secs(1);

/// A loop whose last beat is older than this is reported stuck: five missed beats, far above
/// any scheduling hiccup of a healthy process.
pub const STALE_AFTER: Duration = Duration::from_secs(5);

/// The loops that beat.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub enum Loop {
    /// The async runtime schedules tasks.
    Runtime,
    /// The lock of this node's sockets (the registry) can be taken.
    Sockets,
    /// The in-memory engine's lock can be taken (not watched with Redis).
    Rooms,
}

impl Loop {
    const ALL: [Loop; 3] = [Loop::Runtime, Loop::Sockets, Loop::Rooms];

    fn name(self) -> &'static str {
        match self {
            Loop::Runtime => "runtime",
            Loop::Sockets => "sockets",
            Loop::Rooms => "rooms",
        }
    }
}

/// The last beat of each loop, in ms since the process started.
#[derive(Debug)]
pub struct Liveness {
    started: Instant,
    beats: [AtomicU64; Loop::ALL.len()],
    /// Whether [`Loop::Rooms`] is watched (rooms in memory).
    rooms: bool,
}

impl Liveness {
    /// Fresh beats; `rooms`: whether the in-memory rooms' lock is watched.
    pub fn new(rooms: bool) -> Self {
        Liveness {
            started: Instant::now(),
            beats: Default::default(),
            rooms,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records that `which` is alive now.
    pub fn beat(&self, which: Loop) {
        self.beats[which as usize].store(self.now_ms(), Relaxed);
    }

    /// Whether every loop beat recently, and each loop's age in ms, as `/health` shows them.
    pub fn report(&self) -> (bool, Value) {
        let now = self.now_ms();
        let stale = u64::try_from(STALE_AFTER.as_millis()).unwrap_or(u64::MAX);
        let mut healthy = true;
        let mut loops = serde_json::Map::new();
        for which in Loop::ALL {
            if matches!(which, Loop::Rooms) && !self.rooms {
                continue;
            }
            let age = now.saturating_sub(self.beats[which as usize].load(Relaxed));
            let ok = age <= stale;
            healthy &= ok;
            loops.insert(which.name().into(), json!({"ok": ok, "age_ms": age}));
        }
        (healthy, Value::Object(loops))
    }
}

/// Beats for the runtime, the sockets and the rooms until `stop` is cancelled.
pub async fn ticker(liveness: Arc<Liveness>, sig: Arc<Signaling>, stop: CancellationToken) {
    let mut every = tokio::time::interval(BEAT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        liveness.beat(Loop::Runtime);
        let _ = sig.registry.len();
        liveness.beat(Loop::Sockets);
        if let AnyEngine::Memory(engine) = &sig.engine {
            // Never waits: only takes the rooms' lock.
            let _ = engine.counts().await;
            liveness.beat(Loop::Rooms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_that_stopped_beating_is_reported() {
        let live = Liveness {
            started: Instant::now() - Duration::from_secs(60),
            beats: Default::default(),
            rooms: true,
        };
        live.beat(Loop::Runtime);
        live.beat(Loop::Sockets);
        let (healthy, loops) = live.report();
        assert!(!healthy);
        assert_eq!(loops["runtime"]["ok"], true);
        assert_eq!(loops["rooms"]["ok"], false);
        live.beat(Loop::Rooms);
        assert!(live.report().0);
        // Without rooms in memory, that loop is neither watched nor shown.
        let redis = Liveness {
            rooms: false,
            ..live
        };
        assert!(redis.report().1.get("rooms").is_none());
    }
}
