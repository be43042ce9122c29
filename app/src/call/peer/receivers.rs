//! What the other side sends on one connection, filed by source into two stable streams: the
//! person (microphone, camera) and their screen share.
//!
//! The streams are created once per connection and only gain or lose tracks, so a `<video>`
//! bound to one keeps playing through renegotiations.

use std::cell::RefCell;

use protocol::{Source, Sources};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpTransceiver};

use super::senders::is_stopped;

/// Which of a participant's two streams changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    /// The person stream gained or lost a track.
    pub person: bool,
    /// The screen stream gained or lost a track.
    pub screen: bool,
}

/// The remote side's streams and its latest source map.
pub struct Receivers {
    person: MediaStream,
    screen: MediaStream,
    sources: RefCell<Sources>,
}

impl Receivers {
    /// Two empty streams.
    ///
    /// # Errors
    /// When the browser cannot make a `MediaStream`.
    pub fn new() -> Result<Self, JsValue> {
        Ok(Receivers {
            person: MediaStream::new()?,
            screen: MediaStream::new()?,
            sources: RefCell::new(Sources::new()),
        })
    }

    /// The person: microphone and camera.
    pub fn person(&self) -> &MediaStream {
        &self.person
    }

    /// Their screen share (empty when they are not sharing).
    pub fn screen(&self) -> &MediaStream {
        &self.screen
    }

    /// Remembers the map of the description about to be applied.
    pub fn set_sources(&self, sources: Sources) {
        *self.sources.borrow_mut() = sources;
    }

    /// Puts every receiving track in the stream its source belongs to and takes out the tracks
    /// whose transceiver no longer sends. Run after each description is applied and on `track`.
    pub fn refile(&self, pc: &RtcPeerConnection) -> Changed {
        let sources = self.sources.borrow();
        let mut person = Vec::new();
        let mut screen = Vec::new();
        let mut first = FirstOfKind::default();
        for transceiver in pc.get_transceivers().iter() {
            let Ok(transceiver) = transceiver.dyn_into::<RtcRtpTransceiver>() else {
                continue;
            };
            if is_stopped(&transceiver) {
                continue;
            }
            let track = transceiver.receiver().track();
            let source = if sources.is_empty() {
                first.source_of(&track.kind())
            } else {
                transceiver.mid().and_then(|mid| sources.get(&mid))
            };
            match source {
                Some(source) if source.is_screen() => screen.push(track),
                Some(_) => person.push(track),
                None => {}
            }
        }
        Changed {
            person: sync(&self.person, &person),
            screen: sync(&self.screen, &screen),
        }
    }
}

/// The fallback for a client that announces no sources: its first audio is the microphone and
/// its first video the camera; anything else is not shown.
#[derive(Default)]
struct FirstOfKind {
    audio: bool,
    video: bool,
}

impl FirstOfKind {
    fn source_of(&mut self, kind: &str) -> Option<Source> {
        let (seen, source) = if kind == "audio" {
            (&mut self.audio, Source::Microphone)
        } else {
            (&mut self.video, Source::Camera)
        };
        if std::mem::replace(seen, true) {
            None
        } else {
            Some(source)
        }
    }
}

/// Makes `stream` hold exactly `wanted`; says whether anything changed.
fn sync(stream: &MediaStream, wanted: &[MediaStreamTrack]) -> bool {
    let mut changed = false;
    for track in stream.get_tracks().iter() {
        let Ok(track) = track.dyn_into::<MediaStreamTrack>() else {
            continue;
        };
        if !wanted.iter().any(|w| w.id() == track.id()) {
            stream.remove_track(&track);
            changed = true;
        }
    }
    for track in wanted {
        if stream.get_track_by_id(&track.id()).is_none() {
            stream.add_track(track);
            changed = true;
        }
    }
    changed
}

/// Whether `stream` has a video track that still delivers (a share in progress).
pub fn has_live_video(stream: &MediaStream) -> bool {
    stream.get_video_tracks().iter().any(|t| {
        t.dyn_into::<MediaStreamTrack>()
            .is_ok_and(|t| t.ready_state() == web_sys::MediaStreamTrackState::Live)
    })
}
