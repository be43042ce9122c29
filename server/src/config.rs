//! Configuration: command-line flags, each with an environment variable (a `.env` file works too).
//!
//! `--help` lists every setting; `.env.example` at the repository root does the same for the
//! environment. The `LEPTOS_*` names are the ones cargo-leptos sets, so `cargo leptos serve`
//! and the release binary read the same variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use leptos::config::LeptosOptions;
use protocol::{limits, IceTransportPolicy};

use crate::turn::{self, Secret};

/// Every setting of the server.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "record-meet",
    version,
    about = "Self-hosted video meetings: the web app and its signaling server."
)]
pub struct Config {
    /// Address to listen on, e.g. 127.0.0.1:3000 or 0.0.0.0:8080.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Folder with the built site (the wasm, JS, CSS and public files), as cargo-leptos writes it.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Sub-folder of the site root holding the wasm, JS and CSS.
    #[arg(long, env = "LEPTOS_SITE_PKG_DIR", default_value = "pkg")]
    pub site_pkg_dir: String,

    /// Base name of the generated wasm, JS and CSS files.
    #[arg(long, env = "LEPTOS_OUTPUT_NAME", default_value = "record-meet")]
    pub output_name: String,

    /// Most peers in one room. A browser mesh sends every stream to every peer, so more than 8
    /// strains ordinary laptops.
    #[arg(long, env = "RECORD_MEET_ROOM_CAPACITY", default_value_t = limits::DEFAULT_ROOM_CAPACITY,
          value_parser = in_range::<1, 64>)]
    pub room_capacity: usize,

    /// Largest WebSocket frame a client may send, in bytes (1 KiB to 1 MiB).
    #[arg(long, env = "RECORD_MEET_MAX_FRAME_BYTES", default_value_t = limits::DEFAULT_MAX_FRAME_BYTES,
          value_parser = in_range::<1024, 1_048_576>)]
    pub max_frame_bytes: usize,

    /// Seconds a peer whose connection dropped keeps its place, so that it can resume.
    #[arg(long, env = "RECORD_MEET_RESUME_GRACE_SECS", default_value_t = limits::DEFAULT_RESUME_GRACE_SECS)]
    pub resume_grace_secs: u64,

    /// STUN/TURN server URLs given to browsers, comma-separated (e.g.
    /// `stun:stun.example.org:3478,turn:turn.example.org:3478`). Empty: host candidates only,
    /// which is enough on one network.
    #[arg(long, env = "RECORD_MEET_ICE_URLS", value_delimiter = ',')]
    pub ice_urls: Vec<String>,

    /// Fixed user name for the TURN URLs, for providers that hand out fixed credentials.
    /// Anyone who opens the page can read it: prefer --turn-secret.
    #[arg(long, env = "RECORD_MEET_TURN_USERNAME")]
    pub turn_username: Option<String>,

    /// Fixed password for the TURN URLs (goes with --turn-username).
    #[arg(long, env = "RECORD_MEET_TURN_CREDENTIAL", hide_env_values = true)]
    pub turn_credential: Option<String>,

    /// Shared secret of the TURN server (coturn: `use-auth-secret` with this as
    /// `static-auth-secret`). Every peer then gets its own TURN user name and password, valid
    /// for --turn-ttl-secs and renewed during long calls; the secret never leaves the server.
    /// At least 16 characters; not together with --turn-username/--turn-credential.
    #[arg(long, env = "RECORD_MEET_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<Secret>,

    /// Seconds a minted TURN credential stays valid (10 to 604800). Peers in a call get fresh
    /// ones every half of this.
    #[arg(long, env = "RECORD_MEET_TURN_TTL_SECS", default_value_t = turn::DEFAULT_TTL_SECS,
          value_parser = clap::value_parser!(u64).range(turn::MIN_TTL_SECS..=turn::MAX_TTL_SECS))]
    pub turn_ttl_secs: u64,

    /// Force an ICE transport policy on every browser connection: `relay` sends all media
    /// through the TURN server (hides addresses; also proves the relay works), `all` is the
    /// browsers' default. Unset: the browsers' default.
    #[arg(long, env = "RECORD_MEET_ICE_TRANSPORT_POLICY", value_parser = parse_policy)]
    pub ice_transport_policy: Option<IceTransportPolicy>,

    /// Origins allowed to open the signaling WebSocket, comma-separated (e.g.
    /// `https://meet.example.org`). Always allowed: the server's own host, localhost and
    /// clients that send no Origin (non-browser tools such as wscat).
    #[arg(long, env = "RECORD_MEET_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Frames per second a client may send on average. ICE bursts are absorbed by the burst.
    #[arg(long, env = "RECORD_MEET_RATE_PER_SEC", default_value_t = 50)]
    pub rate_per_sec: u32,

    /// Frames a client may send at once before the rate applies.
    #[arg(long, env = "RECORD_MEET_RATE_BURST", default_value_t = 200)]
    pub rate_burst: u32,

    /// Frames that may wait for one slow client before it is disconnected (close 4008).
    #[arg(long, env = "RECORD_MEET_OUTBOUND_QUEUE", default_value_t = 256)]
    pub outbound_queue: usize,

    /// Most WebSocket connections at once; further upgrades get HTTP 503.
    #[arg(long, env = "RECORD_MEET_MAX_CONNECTIONS", default_value_t = 50_000)]
    pub max_connections: usize,

    /// Milliseconds between the server's WebSocket pings.
    #[arg(long, env = "RECORD_MEET_PING_INTERVAL_MS", default_value_t = limits::PING_INTERVAL_SECS * 1000)]
    pub ping_interval_ms: u64,

    /// Milliseconds of silence (not even a pong) after which a socket counts as dropped.
    #[arg(long, env = "RECORD_MEET_IDLE_TIMEOUT_MS", default_value_t = limits::DEAD_PEER_TIMEOUT_SECS * 1000)]
    pub idle_timeout_ms: u64,

    /// Redis URL (e.g. `redis://127.0.0.1:6379`) shared by several instances of this server:
    /// rooms then span every instance behind a load balancer. Unset: rooms live in this
    /// process only, and no Redis is needed.
    #[arg(long, env = "RECORD_MEET_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Milliseconds a node's lease in Redis lasts without renewal (renewed every third of it).
    /// A node that cannot renew closes its sockets; others then treat its peers as dropped.
    #[arg(long, env = "RECORD_MEET_NODE_LEASE_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(300..=60_000))]
    pub node_lease_ms: u64,
    /// Directory where recordings are stored (chunks, metadata and finalized files).
    #[arg(
        long,
        env = "RECORD_MEET_RECORDINGS_DIR",
        default_value = "./recordings"
    )]
    pub recordings_dir: PathBuf,

    /// Largest recording chunk body, in bytes (HTTP 413 above). A 1-second chunk of a 720p
    /// composite is about 300 KB.
    #[arg(long, env = "RECORD_MEET_RECORDING_CHUNK_MAX_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub recording_chunk_max_bytes: usize,

    /// Largest recording, in bytes of chunks (further chunks get HTTP 413). Default 4 GiB.
    #[arg(long, env = "RECORD_MEET_RECORDING_MAX_BYTES", default_value_t = 4 << 30)]
    pub recording_max_bytes: u64,

    /// Longest recording, in seconds from its start (later chunks get HTTP 413). Default 4 h.
    #[arg(long, env = "RECORD_MEET_RECORDING_MAX_SECS", default_value_t = 4 * 3600)]
    pub recording_max_secs: u64,

    /// Bytes all recordings together may use (chunks and files); beyond, chunks get HTTP 507
    /// and the room sees "paused" until space is freed. Default 50 GiB.
    #[arg(long, env = "RECORD_MEET_RECORDINGS_QUOTA_BYTES", default_value_t = 50 << 30)]
    pub recordings_quota_bytes: u64,

    /// Free disk space to keep, in bytes; below it chunks get HTTP 507. Default 1 GiB.
    #[arg(long, env = "RECORD_MEET_RECORDINGS_MIN_FREE_BYTES", default_value_t = 1 << 30)]
    pub recordings_min_free_bytes: u64,

    /// Milliseconds without a chunk after which a recording is finalized as interrupted.
    #[arg(long, env = "RECORD_MEET_RECORDING_IDLE_MS", default_value_t = 30_000)]
    pub recording_idle_ms: u64,

    /// Milliseconds a recording survives its recorder leaving the room (a peer in its resume
    /// grace still counts as present).
    #[arg(
        long,
        env = "RECORD_MEET_RECORDING_LEFT_GRACE_MS",
        default_value_t = 2_000
    )]
    pub recording_left_grace_ms: u64,

    /// The address people open, e.g. `https://meet.example.org`, when the server is behind a
    /// reverse proxy: the signaling Origin check accepts it whatever Host the proxy sends.
    #[arg(long, env = "RECORD_MEET_PUBLIC_ORIGIN")]
    pub public_origin: Option<String>,

    /// Reverse proxies whose X-Forwarded-For / -Host headers are believed, as IP addresses or
    /// CIDR ranges, comma-separated (e.g. `127.0.0.1,::1`). From anyone else those headers are
    /// ignored.
    #[arg(long, env = "RECORD_MEET_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::forwarded::parse_net)]
    pub trusted_proxies: Vec<crate::forwarded::IpNet>,

    /// Seconds a SIGTERM waits for the signaling sockets to close (after telling them to
    /// reconnect with 1012) before the process exits anyway.
    #[arg(long, env = "RECORD_MEET_DRAIN_TIMEOUT_SECS", default_value_t = 10)]
    pub drain_timeout_secs: u64,

    /// Folder for state that outlives the process: the session handoff of a restart (rooms in
    /// memory only; with --redis-url the sessions live in Redis). Without it (and without
    /// systemd's `STATE_DIRECTORY`), sessions start afresh after a restart.
    #[arg(long, env = "RECORD_MEET_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Log format: `text` for people, `json` (one object per line) for log shippers.
    #[arg(long, env = "RECORD_MEET_LOG_FORMAT", value_enum, default_value_t = crate::telemetry::LogFormat::Text)]
    pub log_format: crate::telemetry::LogFormat,

    /// Asks the server at `--addr` for `/health` and exits 0 if it is healthy, 1 if not: the
    /// container HEALTHCHECK (the image has no curl).
    #[arg(long)]
    pub check_health: bool,

    /// Release packaging: append the site in this folder to a copy of this executable (see
    /// `--embed-into`), which then serves it from memory.
    #[arg(long, hide = true, requires = "embed_into")]
    pub embed_site: Option<PathBuf>,

    /// Release packaging: where the executable with the embedded site is written.
    #[arg(long, hide = true)]
    pub embed_into: Option<PathBuf>,
}

/// Parses a whole number between `MIN` and `MAX`, inclusive.
fn in_range<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (MIN..=MAX).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {MIN} to {MAX}")),
    }
}

/// Parses `all` or `relay`.
fn parse_policy(s: &str) -> Result<IceTransportPolicy, String> {
    match s.trim() {
        "all" => Ok(IceTransportPolicy::All),
        "relay" => Ok(IceTransportPolicy::Relay),
        _ => Err("expected `all` or `relay`".into()),
    }
}

impl Config {
    /// Refuses settings that contradict each other (e.g. a TURN secret and fixed TURN
    /// credentials), so a misconfigured server stops at startup with a clear message instead of
    /// serving calls that cannot connect.
    ///
    /// # Errors
    /// What to fix, naming the variables.
    pub fn check(&self) -> Result<(), turn::ConfigError> {
        turn::check(self)
    }

    /// The defaults, as if started with no flags and no environment: for tests.
    pub fn defaults() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            site_root: "target/site".into(),
            site_pkg_dir: "pkg".into(),
            output_name: "record-meet".into(),
            room_capacity: limits::DEFAULT_ROOM_CAPACITY,
            max_frame_bytes: limits::DEFAULT_MAX_FRAME_BYTES,
            resume_grace_secs: limits::DEFAULT_RESUME_GRACE_SECS,
            ice_urls: Vec::new(),
            turn_username: None,
            turn_credential: None,
            turn_secret: None,
            turn_ttl_secs: turn::DEFAULT_TTL_SECS,
            ice_transport_policy: None,
            allowed_origins: Vec::new(),
            rate_per_sec: 50,
            rate_burst: 200,
            outbound_queue: 256,
            max_connections: 50_000,
            ping_interval_ms: limits::PING_INTERVAL_SECS * 1000,
            idle_timeout_ms: limits::DEAD_PEER_TIMEOUT_SECS * 1000,
            redis_url: None,
            node_lease_ms: 3000,
            recordings_dir: PathBuf::from("./recordings"),
            recording_chunk_max_bytes: 8 * 1024 * 1024,
            recording_max_bytes: 4 << 30,
            recording_max_secs: 4 * 3600,
            recordings_quota_bytes: 50 << 30,
            recordings_min_free_bytes: 1 << 30,
            recording_idle_ms: 30_000,
            recording_left_grace_ms: 2_000,
            public_origin: None,
            trusted_proxies: Vec::new(),
            drain_timeout_secs: 10,
            state_dir: None,
            log_format: crate::telemetry::LogFormat::Text,
            check_health: false,
            embed_site: None,
            embed_into: None,
        }
    }

    /// The recording limits.
    pub fn recording_settings(&self) -> crate::recording::RecordingSettings {
        crate::recording::RecordingSettings {
            dir: self.recordings_dir.clone(),
            chunk_max_bytes: self.recording_chunk_max_bytes,
            max_bytes: self.recording_max_bytes,
            max_duration: Duration::from_secs(self.recording_max_secs),
            quota_bytes: self.recordings_quota_bytes,
            min_free_bytes: self.recordings_min_free_bytes,
            idle_timeout: Duration::from_millis(self.recording_idle_ms.max(1)),
            left_grace: Duration::from_millis(self.recording_left_grace_ms),
        }
    }

    /// The resume grace as a duration.
    pub fn resume_grace(&self) -> Duration {
        Duration::from_secs(self.resume_grace_secs)
    }

    /// The options Leptos renders with; `addr` is the address actually bound (port 0 resolved).
    pub fn leptos_options(&self, addr: SocketAddr) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name(self.output_name.as_str())
            .site_root(self.site_root.as_str())
            .site_pkg_dir(self.site_pkg_dir.as_str())
            .site_addr(addr)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_an_empty_command_line() {
        let parsed = Config::try_parse_from(["record-meet", "--addr", "127.0.0.1:0"]).unwrap();
        let defaults = Config::defaults();
        assert_eq!(parsed.room_capacity, defaults.room_capacity);
        assert_eq!(parsed.max_frame_bytes, defaults.max_frame_bytes);
        assert_eq!(parsed.rate_burst, defaults.rate_burst);
        assert_eq!(parsed.recordings_dir, defaults.recordings_dir);
        assert_eq!(
            parsed.recordings_quota_bytes,
            defaults.recordings_quota_bytes
        );
        assert_eq!(parsed.recording_idle_ms, defaults.recording_idle_ms);
    }

    #[test]
    fn lists_split_on_commas() {
        let c = Config::try_parse_from(["record-meet", "--ice-urls", "stun:a:3478,turn:b:3478"])
            .unwrap();
        assert_eq!(c.ice_urls, ["stun:a:3478", "turn:b:3478"]);
    }

    #[test]
    fn refuses_out_of_range_limits() {
        assert!(Config::try_parse_from(["record-meet", "--room-capacity", "0"]).is_err());
        assert!(Config::try_parse_from(["record-meet", "--max-frame-bytes", "10"]).is_err());
        assert!(Config::try_parse_from(["record-meet", "--turn-ttl-secs", "5"]).is_err());
        assert!(Config::try_parse_from(["record-meet", "--ice-transport-policy", "x"]).is_err());
    }

    #[test]
    fn turn_settings_parse() {
        let c = Config::try_parse_from([
            "record-meet",
            "--ice-urls",
            "turn:t:3478",
            "--turn-secret",
            "0123456789abcdef0123",
            "--turn-ttl-secs",
            "3600",
            "--ice-transport-policy",
            "relay",
        ])
        .unwrap();
        assert_eq!(c.turn_ttl_secs, 3600);
        assert_eq!(c.ice_transport_policy, Some(IceTransportPolicy::Relay));
        assert_eq!(c.turn_secret, Some(Secret::new("0123456789abcdef0123")));
        c.check().unwrap();
        assert_eq!(
            Config::try_parse_from(["record-meet"])
                .unwrap()
                .turn_ttl_secs,
            turn::DEFAULT_TTL_SECS
        );
    }
}
