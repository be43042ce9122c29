//! The call engine (browser only): local media, the signaling connection, one peer connection
//! per remote peer, and screen sharing. It writes the signals of [`crate::state::CallUi`]; the
//! views never touch a browser object themselves.
//!
//! - `engine`: the room page's engine and what the views' actions reach;
//! - `session`: a joined call (connection loop, message dispatch, participants, stats);
//! - `peer`: one connection, its senders (one transceiver per source) and receivers;
//! - `signaling`: the WebSocket; `media`: camera and microphone; `share`: screen capture;
//! - `ice`, `stats`, `tasks`, `js`: small typed helpers.

mod engine;
pub(crate) mod ice;
pub(crate) mod js;
pub mod media;
mod peer;
mod recorder;
mod recording;
mod restart;
mod session;
mod share;
mod signaling;
mod stats;
mod tasks;

pub use engine::*;
pub use recording::{on_recording_notice, toggle_recording};
