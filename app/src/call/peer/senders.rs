//! What this side sends on one connection: one transceiver per source, and the `mid → source`
//! map announced with every description.
//!
//! Microphone and camera go through `addTrack`, so the answerer's tracks pair with the offer's
//! first audio and video sections and a join stays one round trip. A screen share gets its own
//! `sendonly` transceivers from `addTransceiver` (which the browser never pairs with a section the
//! other side offered) and they are stopped when the share ends.
//!
//! A new connection sends the camera at half its size until it has been up for a moment: see
//! [`CAMERA_START_SCALE`].

use std::cell::RefCell;

use js_sys::Array;
use protocol::{Source, Sources};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpEncodingParameters, RtcRtpSender,
    RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcRtpTransceiverInit,
};

use super::super::js;

/// Bitrate cap of a shared screen: sharp text at 1080p without starving the cameras.
pub const SCREEN_MAX_BITRATE: u32 = 2_500_000;

/// Frame rate cap of a shared screen: text and slides need detail, not motion.
pub const SCREEN_MAX_FRAMERATE: f64 = 15.0;

/// How much a new connection scales the camera down at first. A connection starts with a low
/// bandwidth estimate; at the camera's full 720p the browser holds back the first frames until it
/// has adapted, and the other side decoded its first frame ~130 ms later than at 360p (measured
/// with the benchmark's floor client: BENCHMARKS.md, "2026-12-02, later", "What the camera size
/// costs").
const CAMERA_START_SCALE: f32 = 2.0;

/// How long after the connection is up the camera goes to full size, once the bandwidth estimate
/// has ramped up from its start.
pub const CAMERA_FULL_SIZE_AFTER_MS: i32 = 1500;

/// The senders of one connection, each with its source.
#[derive(Default)]
pub struct Senders {
    by_source: RefCell<Vec<(RtcRtpSender, Source)>>,
    screen: RefCell<Vec<RtcRtpTransceiver>>,
}

impl Senders {
    /// Sends the camera and microphone of `person`; a kind it lacks is still received.
    pub fn add_person(&self, pc: &RtcPeerConnection, person: Option<&MediaStream>) {
        let mut has_audio = false;
        let mut has_video = false;
        if let Some(stream) = person {
            for track in stream.get_tracks().iter() {
                let Ok(track) = track.dyn_into::<MediaStreamTrack>() else {
                    continue;
                };
                let source = if track.kind() == "audio" {
                    has_audio = true;
                    Source::Microphone
                } else {
                    has_video = true;
                    Source::Camera
                };
                let sender = pc.add_track_0(&track, stream);
                if source == Source::Camera {
                    scale_video(&sender, CAMERA_START_SCALE);
                }
                self.by_source.borrow_mut().push((sender, source));
            }
        }
        for (present, kind) in [(has_audio, "audio"), (has_video, "video")] {
            if !present {
                let init = RtcRtpTransceiverInit::new();
                init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                let _ = pc.add_transceiver_with_str_and_init(kind, &init);
            }
        }
    }

    /// Sends a screen share (its video, and its audio when the browser captured some).
    pub fn add_screen(&self, pc: &RtcPeerConnection, share: &MediaStream) {
        for track in share.get_tracks().iter() {
            let Ok(track) = track.dyn_into::<MediaStreamTrack>() else {
                continue;
            };
            let audio = track.kind() == "audio";
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendonly);
            init.set_streams(&Array::of1(share));
            if !audio {
                let encoding = RtcRtpEncodingParameters::new();
                encoding.set_max_bitrate(SCREEN_MAX_BITRATE);
                js::set(
                    &encoding,
                    "maxFramerate",
                    &JsValue::from_f64(SCREEN_MAX_FRAMERATE),
                );
                init.set_send_encodings(&Array::of1(&encoding));
            }
            let transceiver = pc.add_transceiver_with_media_stream_track_and_init(&track, &init);
            let source = if audio {
                Source::ScreenAudio
            } else {
                Source::Screen
            };
            self.by_source
                .borrow_mut()
                .push((transceiver.sender(), source));
            self.screen.borrow_mut().push(transceiver);
        }
    }

    /// Sends the camera at its full size (see [`CAMERA_START_SCALE`]).
    pub fn camera_full_size(&self) {
        for (sender, source) in self.by_source.borrow().iter() {
            if *source == Source::Camera {
                scale_video(sender, 1.0);
            }
        }
    }

    /// Ends the screen share on this connection; the renegotiation that follows tells the other
    /// side (its section is rejected and gone from the source map).
    pub fn remove_screen(&self) {
        for transceiver in self.screen.borrow_mut().drain(..) {
            transceiver.stop();
        }
        self.by_source
            .borrow_mut()
            .retain(|(_, source)| !source.is_screen());
    }

    /// Sends `track` on the sender of `source` without renegotiating (a device switch).
    ///
    /// # Errors
    /// The browser's refusal of `replaceTrack`.
    pub async fn replace(&self, source: Source, track: &MediaStreamTrack) -> Result<(), JsValue> {
        let sender = self
            .by_source
            .borrow()
            .iter()
            .find(|(_, s)| *s == source)
            .map(|(sender, _)| sender.clone());
        match sender {
            Some(sender) => JsFuture::from(sender.replace_track(Some(track)))
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    }

    /// The `mid → source` map of the transceivers that send now, for the description being
    /// sent (call it after `setLocalDescription`, when every transceiver has its `mid`).
    pub fn announce(&self, pc: &RtcPeerConnection) -> Sources {
        let mut sources = Sources::new();
        let by_source = self.by_source.borrow();
        for transceiver in pc.get_transceivers().iter() {
            let Ok(transceiver) = transceiver.dyn_into::<RtcRtpTransceiver>() else {
                continue;
            };
            let Some(mid) = transceiver.mid() else {
                continue;
            };
            if is_stopped(&transceiver) {
                continue;
            }
            let sender = transceiver.sender();
            if let Some((_, source)) = by_source.iter().find(|(s, _)| *s == sender) {
                sources.insert(&mid, *source);
            }
        }
        sources
    }
}

/// Sets how much `sender` scales its video down. It applies before negotiation too. A refusal
/// (the connection closed meanwhile) leaves nothing to do.
fn scale_video(sender: &RtcRtpSender, factor: f32) {
    let parameters = sender.get_parameters();
    let Some(encodings) = parameters.get_encodings() else {
        return;
    };
    for encoding in encodings.iter() {
        encoding
            .unchecked_into::<RtcRtpEncodingParameters>()
            .set_scale_resolution_down_by(factor);
    }
    let applied = JsFuture::from(sender.set_parameters_with_parameters(&parameters));
    spawn_local(async move {
        let _ = applied.await;
    });
}

/// A transceiver that is stopped, or stopping, carries nothing any more.
pub fn is_stopped(transceiver: &RtcRtpTransceiver) -> bool {
    transceiver.direction() == RtcRtpTransceiverDirection::Stopped
        || transceiver.current_direction() == Some(RtcRtpTransceiverDirection::Stopped)
}
