//! The server's own view of relay latency: its `signaling_relay_latency_seconds` histogram,
//! scraped from `/metrics` before and after a run, so the report can put the server-side
//! figure (arrival → written to the recipient's socket) next to the end-to-end one.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The histogram's metric name.
const NAME: &str = "signaling_relay_latency_seconds";

/// Cumulative bucket counts of the histogram at one moment.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// (upper bound in seconds, cumulative count), in increasing order; the last is `+Inf`.
    buckets: Vec<(f64, u64)>,
}

impl Histogram {
    /// Fetches `/metrics` from `addr` (plain HTTP/1.1 over loopback) and reads the histogram.
    ///
    /// # Errors
    /// I/O errors, or a response without the histogram.
    pub fn scrape(addr: SocketAddr) -> io::Result<Self> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut body = String::new();
        stream.read_to_string(&mut body)?;
        let prefix = format!("{NAME}_bucket{{le=\"");
        let buckets: Vec<(f64, u64)> = body
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .filter_map(|rest| {
                let (le, count) = rest.split_once("\"} ")?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le, count.trim().parse().ok()?))
            })
            .collect();
        if buckets.is_empty() {
            return Err(io::Error::other("no relay latency histogram in /metrics"));
        }
        Ok(Histogram { buckets })
    }

    /// Both histograms' observations together (several nodes' histograms make the cluster's).
    pub fn plus(&self, other: &Histogram) -> Histogram {
        let buckets = self
            .buckets
            .iter()
            .map(|&(le, n)| {
                let more = other
                    .buckets
                    .iter()
                    .find(|(l, _)| *l == le)
                    .map_or(0, |&(_, c)| c);
                (le, n + more)
            })
            .collect();
        Histogram { buckets }
    }

    /// The observations made between `earlier` and `self`.
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        let buckets = self
            .buckets
            .iter()
            .map(|&(le, n)| {
                let before = earlier
                    .buckets
                    .iter()
                    .find(|(l, _)| *l == le)
                    .map_or(0, |&(_, c)| c);
                (le, n.saturating_sub(before))
            })
            .collect();
        Histogram { buckets }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.buckets.last().map_or(0, |&(_, n)| n)
    }

    /// The `q` quantile, interpolated linearly inside its bucket as Prometheus's
    /// `histogram_quantile` does (so it is only as fine as the buckets: 25, 50, 100, 250,
    /// 500 µs, 1 ms, …). `None` without observations; the last finite bound when the quantile
    /// falls into `+Inf`.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = q * total as f64;
        let mut lower = (0.0, 0u64);
        for &(le, n) in &self.buckets {
            if n as f64 >= rank {
                if le.is_infinite() {
                    return Some(Duration::from_secs_f64(lower.0));
                }
                let in_bucket = (n - lower.1) as f64;
                let frac = if in_bucket > 0.0 {
                    (rank - lower.1 as f64) / in_bucket
                } else {
                    1.0
                };
                return Some(Duration::from_secs_f64(lower.0 + (le - lower.0) * frac));
            }
            lower = (le, n);
        }
        Some(Duration::from_secs_f64(lower.0))
    }

    /// Share of observations at or below `bound` seconds, when `bound` is a bucket edge.
    pub fn share_within(&self, bound: f64) -> Option<f64> {
        let total = self.count();
        let (_, n) = self.buckets.iter().find(|(le, _)| *le == bound)?;
        (total > 0).then(|| *n as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let h = Histogram {
            buckets: vec![(0.0001, 50), (0.001, 100), (f64::INFINITY, 100)],
        };
        let p50 = h.quantile(0.5).unwrap();
        assert_eq!(p50, Duration::from_micros(100));
        let p99 = h.quantile(0.99).unwrap();
        assert!(p99 > Duration::from_micros(950) && p99 <= Duration::from_millis(1));
        assert_eq!(h.share_within(0.001), Some(1.0));
        let before = Histogram {
            buckets: vec![(0.0001, 40), (0.001, 40), (f64::INFINITY, 40)],
        };
        assert_eq!(h.since(&before).count(), 60);
    }
}
