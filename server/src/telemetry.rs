//! Logging: structured `tracing` events to standard output, filtered by `RUST_LOG`, as text for people or
//! as JSON lines for log shippers.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`, `span`): for journald
    /// exporters, Loki, Elasticsearch and the like.
    Json,
}

/// Installs the global subscriber. Without `RUST_LOG`, the server logs `info` and above of its
/// own events and warnings from its dependencies.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,server=info"));
    // Colours only for a person at a terminal: the journal and log files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
