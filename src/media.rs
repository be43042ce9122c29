//! What a peer is sending: the state behind the mic-off / camera-off indicators.

use serde::{Deserialize, Serialize};

/// A peer's media state, as sent in `media` frames and listed in `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    /// The microphone is on.
    pub audio: bool,
    /// The camera is on.
    pub video: bool,
    /// The screen is being shared.
    pub screen: bool,
}

impl Default for MediaState {
    /// A peer that has said nothing yet is assumed to send audio and video, the usual way to join.
    fn default() -> Self {
        Self {
            audio: true,
            video: true,
            screen: false,
        }
    }
}
