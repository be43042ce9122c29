//! What is stored about a recording besides its media: the one record that survives a restart.

use protocol::{PeerId, RecordingId, RecordingState, RoomId};
use serde::{Deserialize, Serialize};

/// A recording's stored description (`meta.json` next to its chunks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The recording.
    pub id: RecordingId,
    /// Its room: requests naming another room never see it.
    pub room: RoomId,
    /// The peer recording it: when it leaves the room, the recording ends.
    pub uploader: PeerId,
    /// ms since the Unix epoch.
    pub started_at: u64,
    /// `recording` until stopped or interrupted.
    pub state: RecordingState,
    /// SHA-256 of the upload token, hex: the token itself is never stored.
    pub upload_token_sha256: String,
    /// SHA-256 of the owner token, hex.
    pub owner_token_sha256: String,
    /// Duration of the last finalized file (0 before).
    #[serde(default)]
    pub duration_ms: u64,
    /// Size of the last finalized file (0 before).
    #[serde(default)]
    pub final_bytes: u64,
    /// How many chunks (0..n) the last finalized file was made from.
    #[serde(default)]
    pub finalized_chunks: u64,
}

/// A recording found on storage at start-up.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Its description.
    pub meta: Meta,
    /// The stored chunks: sequence number and size.
    pub chunks: Vec<(u64, u64)>,
}
