//! The relay measurement: pairs of peers, one sending timestamped `ice` frames to the other at a
//! fixed total rate (open loop: the schedule does not wait for the server).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Ws};

/// Time allowed after the sending window for frames in flight to arrive.
const SETTLE: Duration = Duration::from_millis(500);
/// The first part of every window is not measured (connections and caches warm up).
const WARMUP: Duration = Duration::from_secs(1);

/// A client shared between the connect phase and the per-rate tasks.
type Shared = Arc<Mutex<Ws>>;

/// Connected sender/receiver pairs, reused across rates.
pub struct Pairs {
    /// (sender `a`, receiver `b`) of each room.
    pairs: Vec<(Shared, Shared)>,
    /// The clock every timestamp is relative to.
    epoch: Instant,
}

/// The outcome of one rate.
pub struct Run {
    /// Frames received in the measured window.
    pub delivered: u64,
    /// Length of the measured window.
    pub elapsed: Duration,
    /// Sorted latencies in microseconds.
    latencies: Vec<u32>,
}

impl Run {
    /// The `q` quantile.
    pub fn p(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        Duration::from_micros(u64::from(self.latencies[i]))
    }
}

impl Pairs {
    /// Opens `rooms` rooms of two.
    pub async fn connect(addr: SocketAddr, rooms: usize) -> Result<Self, String> {
        Self::connect_spread(&[addr], rooms).await
    }

    /// Opens `rooms` rooms of two over several servers: with more than one, the two peers of a
    /// room always sit on different servers.
    pub async fn connect_spread(addrs: &[SocketAddr], rooms: usize) -> Result<Self, String> {
        let mut pairs = Vec::with_capacity(rooms);
        let n = addrs.len().max(1);
        for r in 0..rooms {
            let room = format!("bench-{r}");
            let mut a = client::connect(addrs[r % n], &room, "a", 2 * r)
                .await
                .map_err(|e| e.to_string())?;
            let b = client::connect(addrs[(r + 1) % n], &room, "b", 2 * r + 1)
                .await
                .map_err(|e| e.to_string())?;
            let _ = a.next().await; // new-peer b
            pairs.push((Arc::new(Mutex::new(a)), Arc::new(Mutex::new(b))));
        }
        Ok(Pairs {
            pairs,
            epoch: Instant::now(),
        })
    }

    /// Sends `rate` frames per second in total for `window`, and measures their arrival.
    pub async fn run(&self, rate: u64, window: Duration, payload: usize) -> Run {
        let per_pair = rate as f64 / self.pairs.len() as f64;
        let period = Duration::from_secs_f64(1.0 / per_pair.max(0.001));
        let start = Instant::now() + Duration::from_millis(100);
        let measure_from = start + WARMUP;
        let stop = start + window;
        let epoch = self.epoch;
        let filler = "x".repeat(payload.saturating_sub(60));
        let mut tasks = Vec::new();
        for (i, (a, b)) in self.pairs.iter().enumerate() {
            let a = a.clone();
            let filler = filler.clone();
            // Spread the senders over one period so they do not fire together.
            let offset = period.mul_f64(i as f64 / self.pairs.len() as f64);
            tasks.push(tokio::spawn(async move {
                let mut a = a.lock().await;
                let mut tick = tokio::time::interval_at((start + offset).into(), period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                loop {
                    tick.tick().await;
                    let now = Instant::now();
                    if now >= stop {
                        break;
                    }
                    let t = now.duration_since(epoch).as_nanos();
                    let text =
                        format!(r#"{{"type":"ice","to":"b","data":{{"t":{t},"p":"{filler}"}}}}"#);
                    if a.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Vec::new()
            }));
            let b = b.clone();
            tasks.push(tokio::spawn(async move {
                let mut b = b.lock().await;
                let mut got = Vec::new();
                let end = tokio::time::Instant::from(stop + SETTLE);
                while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(end, b.next()).await {
                    let now = Instant::now();
                    let Message::Text(text) = msg else { continue };
                    let Some(sent) = stamp(text.as_str()) else {
                        continue;
                    };
                    let sent_at = epoch + Duration::from_nanos(sent);
                    if sent_at >= measure_from {
                        let lat = now.saturating_duration_since(sent_at).as_micros();
                        got.push(u32::try_from(lat).unwrap_or(u32::MAX));
                    }
                }
                got
            }));
        }
        let mut latencies = Vec::new();
        for t in tasks {
            if let Ok(mut l) = t.await {
                latencies.append(&mut l);
            }
        }
        latencies.sort_unstable();
        Run {
            delivered: latencies.len() as u64,
            elapsed: stop.saturating_duration_since(measure_from),
            latencies,
        }
    }
}

/// The send timestamp in a relayed frame: the digits after `"t":`.
fn stamp(text: &str) -> Option<u64> {
    let at = text.find("\"t\":")? + 4;
    let digits: &str = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}
