//! The recording limits, copied out of the configuration once.

use std::path::PathBuf;
use std::time::Duration;

/// What the recording service may store and how long it waits for a silent recorder.
#[derive(Debug, Clone)]
pub struct RecordingSettings {
    /// Where recordings are stored.
    pub dir: PathBuf,
    /// Largest chunk body (HTTP 413 above).
    pub chunk_max_bytes: usize,
    /// Largest recording, chunks counted (HTTP 413 for chunks beyond).
    pub max_bytes: u64,
    /// Longest recording, from its start (HTTP 413 for chunks after).
    pub max_duration: Duration,
    /// All recordings together, chunks and final files (HTTP 507 beyond).
    pub quota_bytes: u64,
    /// Free disk space kept (HTTP 507 below).
    pub min_free_bytes: u64,
    /// A recording with no chunk for this long is finalized as interrupted.
    pub idle_timeout: Duration,
    /// A recording whose recorder has left the room for this long is finalized as interrupted.
    pub left_grace: Duration,
}

impl RecordingSettings {
    /// How often the watchdog looks: often enough that the timeouts are met within a quarter.
    pub fn watchdog_tick(&self) -> Duration {
        (self.idle_timeout.min(self.left_grace) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1))
    }
}
