//! Limits of the protocol, with the defaults PROTOCOL.md documents.
//!
//! The server may be configured with other values; these are the defaults and the hard bounds
//! that the types themselves enforce.

/// Longest room or peer id: long enough for UUIDs and readable names, short enough to log.
pub const MAX_ID_LEN: usize = 64;

/// Longest display name, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest chat text, in characters: a long paragraph, never a file.
pub const MAX_CHAT_CHARS: usize = 4000;

/// Default largest frame a client may send, in bytes. An SDP offer with many tracks is ~10 KiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// Default peers per room: a browser mesh sends every stream to every peer, and degrades beyond 8.
pub const DEFAULT_ROOM_CAPACITY: usize = 8;

/// Default seconds a dropped peer keeps its slot so that it can resume its session.
pub const DEFAULT_RESUME_GRACE_SECS: u64 = 10;

/// Seconds between server pings.
pub const PING_INTERVAL_SECS: u64 = 20;

/// Seconds of silence after which the server treats a socket as dropped.
pub const DEAD_PEER_TIMEOUT_SECS: u64 = 45;
