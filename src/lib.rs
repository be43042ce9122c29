//! The record-meet signaling protocol.
//!
//! This crate is the contract of `docs/PROTOCOL.md` in types: the server parses every frame a
//! client sends with [`ClientMessage::parse`] and writes every frame with [`ServerMessage`]; the
//! browser client does the reverse. It depends on serde only, so it compiles for the server and
//! for `wasm32-unknown-unknown` alike.

mod candidate;
mod client;
mod error;
mod ids;
pub mod limits;
mod media;
#[cfg(test)]
mod props;
mod raw;
mod recording;
mod server;
mod sources;

pub use candidate::Candidate;
pub use client::{ClientMessage, ParseError, RelayKind};
pub use error::{CloseCode, ErrorCode, Refusal};
pub use ids::{IdError, PeerId, RoomId, SERVER_SENDER};
pub use media::MediaState;
pub use raw::RawJson;
pub use recording::{
    ChunkAck, RecordingError, RecordingErrorBody, RecordingErrorDetail, RecordingId, RecordingInfo,
    RecordingNotice, RecordingPhase, RecordingState, StartRecording, StartedRecording,
    RECORDING_ID_LEN, RECORDING_TOKEN_LEN,
};
pub use server::{
    ChatMessage, IceServer, IceServers, IceTransportPolicy, PeerInfo, ServerMessage, Welcome,
};
pub use sources::{Description, SdpType, Source, Sources, MAX_MID_LEN, MAX_SOURCES};
