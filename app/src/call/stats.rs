//! Reading `RTCPeerConnection.getStats()` into the numbers a tile shows.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

use super::js;
use crate::state::TileStats;

/// Audio level (0..1) above which a participant counts as speaking.
pub const SPEAKING_LEVEL: f64 = 0.04;

/// One reading of a connection.
#[derive(Debug, Default, Clone)]
pub struct Reading {
    /// The overlay numbers (bitrate filled in by [`Reading::with_rate`]).
    pub stats: TileStats,
    /// Video bytes received so far.
    pub video_bytes: f64,
    /// When the reading was taken (the stats' own clock), milliseconds.
    pub at_ms: f64,
    /// Level of the audio received from the peer (0..1).
    pub remote_audio_level: Option<f64>,
    /// Level of this tab's microphone as sent (0..1).
    pub local_audio_level: Option<f64>,
}

impl Reading {
    /// Fills in the bitrate from the previous reading.
    pub fn with_rate(mut self, previous: Option<&Reading>) -> Self {
        if let Some(previous) = previous {
            let seconds = (self.at_ms - previous.at_ms) / 1000.0;
            if seconds > 0.0 && self.video_bytes >= previous.video_bytes {
                self.stats.video_kbps =
                    Some((self.video_bytes - previous.video_bytes) * 8.0 / 1000.0 / seconds);
            }
        }
        self
    }
}

/// Reads one connection's stats.
pub async fn read(pc: &RtcPeerConnection) -> Option<Reading> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    let values = js::call0(&report, "values").ok()?;
    let mut reading = Reading::default();
    let mut packets_lost = 0.0;
    let mut packets_received = 0.0;
    let mut selected_pair: Option<String> = None;
    let mut pairs: Vec<JsValue> = Vec::new();
    let iterator = js_sys::try_iter(&values).ok()??;
    for entry in iterator.flatten() {
        let kind = js::get_string(&entry, "type").unwrap_or_default();
        let media = js::get_string(&entry, "kind").unwrap_or_default();
        match (kind.as_str(), media.as_str()) {
            ("inbound-rtp", "video") => {
                reading.stats.frames_decoded =
                    js::get_f64(&entry, "framesDecoded").unwrap_or(0.0) as u64;
                reading.video_bytes = js::get_f64(&entry, "bytesReceived").unwrap_or(0.0);
                reading.at_ms = js::get_f64(&entry, "timestamp").unwrap_or(0.0);
                if let (Some(w), Some(h)) = (
                    js::get_f64(&entry, "frameWidth"),
                    js::get_f64(&entry, "frameHeight"),
                ) {
                    reading.stats.resolution = Some((w as u32, h as u32));
                }
                packets_lost += js::get_f64(&entry, "packetsLost").unwrap_or(0.0);
                packets_received += js::get_f64(&entry, "packetsReceived").unwrap_or(0.0);
            }
            ("inbound-rtp", "audio") => {
                reading.remote_audio_level = js::get_f64(&entry, "audioLevel");
                packets_lost += js::get_f64(&entry, "packetsLost").unwrap_or(0.0);
                packets_received += js::get_f64(&entry, "packetsReceived").unwrap_or(0.0);
            }
            ("media-source", "audio") => {
                reading.local_audio_level = js::get_f64(&entry, "audioLevel");
            }
            ("transport", _) => {
                selected_pair = js::get_string(&entry, "selectedCandidatePairId");
            }
            ("candidate-pair", _) => pairs.push(entry),
            _ => {}
        }
    }
    let pair = pairs.iter().find(|p| match &selected_pair {
        Some(id) => js::get_string(p, "id").as_deref() == Some(id),
        None => {
            js::get(p, "nominated").as_bool() == Some(true)
                && js::get_string(p, "state").as_deref() == Some("succeeded")
        }
    });
    reading.stats.rtt_ms = pair
        .and_then(|p| js::get_f64(p, "currentRoundTripTime"))
        .map(|s| s * 1000.0);
    let total = packets_lost + packets_received;
    if total > 0.0 {
        reading.stats.loss_percent = Some(packets_lost * 100.0 / total);
    }
    reading.stats.ice_state = format!("{:?}", pc.ice_connection_state()).to_lowercase();
    Some(reading)
}
