//! The stats loop: connection numbers for the overlay, who is speaking, and the time to the
//! first remote frame.

use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use web_sys::{RtcIceConnectionState, RtcPeerConnection};

use super::super::{js, stats};
use super::Session;

/// How often connection stats (overlay, speaking) are read.
const STATS_EVERY_MS: i32 = 500;

/// How often they are read until the first remote frame, so its time is measured to ~50 ms.
const FIRST_FRAME_POLL_MS: i32 = 50;

impl Session {
    /// Reads every connection's stats until the session ends.
    pub(super) async fn stats_loop(self: Rc<Self>) {
        let mut previous: HashMap<String, stats::Reading> = HashMap::new();
        let mut first_frame_seen = false;
        while !self.left.get() {
            js::sleep(if first_frame_seen {
                STATS_EVERY_MS
            } else {
                FIRST_FRAME_POLL_MS
            })
            .await;
            let mut local_level: Option<f64> = None;
            for peer in self.peers() {
                // Before the first frame, a connection that is not up yet has nothing to read:
                // `getStats` would only take the main thread while the call is being set up.
                if !first_frame_seen && !is_up(peer.connection()) {
                    continue;
                }
                let id = peer.remote_id().to_owned();
                let Some(reading) = stats::read(peer.connection()).await else {
                    continue;
                };
                let reading = reading.with_rate(previous.get(&id));
                if !first_frame_seen && reading.stats.frames_decoded > 0 {
                    first_frame_seen = true;
                    let start = self
                        .joined_at_ms
                        .max(self.first_peer_at_ms.get().unwrap_or(0.0));
                    let ms = js::now_ms() - start;
                    leptos::logging::log!("record-meet: join to first remote frame {ms:.0} ms");
                    self.ui.first_frame_ms.set(Some(ms));
                }
                if let Some(p) = self.ui.participant(&id) {
                    let speaking = reading
                        .remote_audio_level
                        .is_some_and(|l| l > stats::SPEAKING_LEVEL);
                    if p.speaking.get_untracked() != speaking {
                        p.speaking.set(speaking);
                    }
                    p.stats.set(reading.stats.clone());
                }
                local_level = local_level.or(reading.local_audio_level);
                previous.insert(id, reading);
            }
            let speaking = self.ui.mic_on.get_untracked()
                && local_level.is_some_and(|l| l > stats::SPEAKING_LEVEL);
            if self.ui.self_speaking.get_untracked() != speaking {
                self.ui.self_speaking.set(speaking);
            }
            previous.retain(|id, _| self.peers.borrow().contains_key(id));
        }
    }
}

/// Whether `pc`'s media path is up (ICE connected), so frames can have arrived.
fn is_up(pc: &RtcPeerConnection) -> bool {
    matches!(
        pc.ice_connection_state(),
        RtcIceConnectionState::Connected | RtcIceConnectionState::Completed
    )
}
