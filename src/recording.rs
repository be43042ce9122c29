//! Recording: the HTTP API's bodies and the `recording` frame, shared by the server and the
//! browser (the recorder uploads with them, the recordings page lists with them).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Length of a recording id: 22 characters of `A-Za-z0-9` (131 bits), unguessable.
pub const RECORDING_ID_LEN: usize = 22;

/// Length of upload and owner tokens: 43 characters of `A-Za-z0-9` (256 bits).
pub const RECORDING_TOKEN_LEN: usize = 43;

/// A recording's id: exactly [`RECORDING_ID_LEN`] characters of `A-Za-z0-9`, so it is safe in
/// paths and URLs once parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RecordingId(String);

impl RecordingId {
    /// Parses an untrusted string.
    ///
    /// # Errors
    /// A message for people when it is not a recording id.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.len() == RECORDING_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(s.to_owned()))
        } else {
            Err("a recording id is 22 characters of A-Z, a-z and 0-9")
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RecordingId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A recording's state as listed: still being made, finished by its recorder, or finalized from
/// what arrived after its uploader went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingState {
    /// Chunks are (or may still be) arriving.
    Recording,
    /// Stopped by its recorder and finalized.
    Complete,
    /// Its uploader left or went silent; finalized from the chunks that arrived.
    Interrupted,
}

/// What the room is told about its recording (the `recording` frame and `welcome.recording`):
/// everyone sees the same indicator, driven by the server's state (consent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingPhase {
    /// Recording: chunks are accepted.
    Recording,
    /// Storage is full (HTTP 507): the recorder keeps its chunks and retries.
    Paused,
    /// The recording ended (stopped, or its uploader went away): the indicator goes off.
    Ended,
}

/// The `data` of a `recording` frame, and `welcome.recording`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingNotice {
    /// Which recording.
    pub id: RecordingId,
    /// What it is doing now.
    pub phase: RecordingPhase,
    /// The peer that records (and uploads).
    pub by: crate::PeerId,
    /// When it started, ms since the Unix epoch.
    pub started_at: u64,
}

/// Body of `POST /api/rooms/{room}/recordings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRecording {
    /// The recorder's peer id; it must be in the room. When it leaves, the recording ends.
    pub peer: crate::PeerId,
}

/// Answer to a start: the id and the two secrets, shown only this once (stored hashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedRecording {
    /// The recording.
    pub id: RecordingId,
    /// `Authorization: Bearer <token>` for chunks and stop.
    pub upload_token: String,
    /// `Authorization: Bearer <token>` for delete; kept in the recorder's browser.
    pub owner_token: String,
    /// Server time of the start, ms since the Unix epoch.
    pub started_at: u64,
}

/// Answer to a stored chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkAck {
    /// The chunk just acknowledged (durable on the server).
    pub seq: u64,
    /// The highest seq such that every chunk from 0 to it is stored; `None` while 0 is missing.
    pub contiguous: Option<u64>,
}

/// One entry of `GET /api/rooms/{room}/recordings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingInfo {
    /// The recording.
    pub id: RecordingId,
    /// Its state.
    pub state: RecordingState,
    /// ms since the Unix epoch.
    pub started_at: u64,
    /// Length: of the finalized file, or so far while recording.
    pub duration_ms: u64,
    /// Size: of the finalized file, or of the chunks so far while recording.
    pub bytes: u64,
    /// Where the file is served (`video/webm`, HTTP Range); 404 until the first finalize.
    pub url: String,
}

/// Why the recording API refused a request: `error.code` of its JSON error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordingError {
    /// A malformed id, body or sequence number (400).
    BadRequest,
    /// The `Authorization` token is missing or wrong (403).
    BadToken,
    /// No such recording in this room (404), including another room's recording.
    NoSuchRecording,
    /// The recorder's peer is not in the room (409).
    NotInRoom,
    /// The room already has a recording in progress (409).
    AlreadyRecording,
    /// A chunk with this seq is stored with different bytes (409).
    ChunkConflict,
    /// The chunk body is larger than allowed (413).
    ChunkTooLarge,
    /// The recording reached its size or duration limit (413).
    RecordingLimit,
    /// Storage is full (quota or free disk); retry later, nothing acknowledged is lost (507).
    InsufficientStorage,
    /// The file is not finalized yet (404).
    NotFinalized,
    /// The server failed to store or read (500).
    Internal,
}

impl RecordingError {
    /// The HTTP status of the refusal.
    pub fn status(self) -> u16 {
        match self {
            RecordingError::BadRequest => 400,
            RecordingError::BadToken => 403,
            RecordingError::NoSuchRecording | RecordingError::NotFinalized => 404,
            RecordingError::NotInRoom
            | RecordingError::AlreadyRecording
            | RecordingError::ChunkConflict => 409,
            RecordingError::ChunkTooLarge | RecordingError::RecordingLimit => 413,
            RecordingError::InsufficientStorage => 507,
            RecordingError::Internal => 500,
        }
    }
}

/// The JSON error body: `{"error":{"code":…,"message":…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingErrorBody {
    /// The error.
    pub error: RecordingErrorDetail,
}

/// The inside of [`RecordingErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingErrorDetail {
    /// Machine-readable.
    pub code: RecordingError,
    /// For people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(RecordingId::parse("abcdefghijABCDEFGHIJ01").is_ok());
        assert!(RecordingId::parse("abc").is_err());
        assert!(RecordingId::parse("abcdefghijABCDEFGHIJ/.").is_err());
        assert!(serde_json::from_str::<RecordingId>("\"../../etc/passwdxxxxxxx\"").is_err());
    }

    #[test]
    fn wire_names() {
        let n = RecordingNotice {
            id: RecordingId::parse("abcdefghijABCDEFGHIJ01").unwrap(),
            phase: RecordingPhase::Paused,
            by: crate::PeerId::parse("p1").unwrap(),
            started_at: 5,
        };
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(v["phase"], "paused");
        assert_eq!(
            serde_json::to_value(RecordingError::InsufficientStorage).unwrap(),
            "insufficient-storage"
        );
        assert_eq!(RecordingError::InsufficientStorage.status(), 507);
        assert_eq!(
            serde_json::to_value(RecordingState::Interrupted).unwrap(),
            "interrupted"
        );
    }
}
