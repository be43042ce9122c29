//! Logging: structured `tracing` events to stderr, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Without `RUST_LOG`, the server logs `info` and above of its
/// own events and warnings from its dependencies.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,server=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
