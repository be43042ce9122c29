//! Recording from the call: the "Record" control's start and stop, what the compositor draws
//! and the mixer hears (every tile of the call, read from the engine at each frame), and the
//! indicator driven by the server's `recording` frames.

use std::rc::Rc;

use leptos::prelude::*;
use protocol::{RecordingNotice, RecordingPhase};
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStreamTrack;

use super::engine::{engine, Engine};
use super::media;
use super::recorder::{Feed, Recorder};
use crate::layout::TileKey;
use crate::state::CallUi;

/// Starts recording the meeting, or stops this tab's recording.
pub fn toggle_recording(ui: CallUi) {
    let Some(engine) = engine(ui) else { return };
    if ui.recording_busy.get_untracked() {
        return;
    }
    if let Some(recorder) = engine.recorder.borrow_mut().take() {
        // Busy until the last chunk is acknowledged and the server stopped the recording.
        ui.recording_mine.set(false);
        ui.recording_busy.set(true);
        recorder.stop();
        return;
    }
    let Some(session) = engine.session() else {
        return;
    };
    ui.recording_busy.set(true);
    let weak = Rc::downgrade(&engine);
    let (feeds_of, audio_of) = (weak.clone(), weak);
    let room = ui.room.get_value();
    let me = session.me().to_string();
    spawn_local(async move {
        let started = Recorder::start(
            &room,
            &me,
            move || {
                feeds_of
                    .upgrade()
                    .map(|e| feeds(ui, &e))
                    .unwrap_or_default()
            },
            move || audio_of.upgrade().map(|e| audio(&e)).unwrap_or_default(),
            move |why| {
                // An upload the server ended (deleted, over a limit) leaves its recorder in the
                // engine: clear it, so the next click starts a new recording.
                if let Some(engine) = super::engine::engine(ui) {
                    let mut slot = engine.recorder.borrow_mut();
                    if slot.as_ref().is_some_and(|r| r.is_stopped()) {
                        slot.take();
                    }
                }
                let _ = ui.recording_busy.try_set(false);
                let _ = ui.recording_mine.try_set(false);
                if let Some(why) = why {
                    let _ = ui.toast.try_set(Some(why));
                }
            },
        )
        .await;
        let _ = ui.recording_busy.try_set(false);
        match started {
            Ok(recorder) => match super::engine::engine(ui) {
                Some(engine) if engine.session().is_some() => {
                    *engine.recorder.borrow_mut() = Some(recorder);
                    ui.recording_mine.set(true);
                }
                // The call ended while the server was asked.
                _ => recorder.stop(),
            },
            Err(e) => {
                let _ = ui.toast.try_set(Some(e.0));
            }
        }
    });
}

/// The server's word on the room's recording (a `recording` frame or `welcome.recording`).
pub fn on_recording_notice(ui: CallUi, notice: Option<RecordingNotice>) {
    if let Some(ended) = notice.as_ref().filter(|n| n.phase == RecordingPhase::Ended) {
        // Ended by the server (a limit, deleted): this tab's recorder of it stops too.
        if let Some(engine) = engine(ui) {
            let mut slot = engine.recorder.borrow_mut();
            if slot.as_ref().is_some_and(|r| r.id() == ended.id.as_str()) {
                if let Some(recorder) = slot.take() {
                    recorder.stop();
                }
                ui.recording_mine.set(false);
            }
        }
    }
    let notice = notice.filter(|n| n.phase != RecordingPhase::Ended);
    let _ = ui.recording.try_set(notice);
}

/// Every tile of the call: this tab's camera, its screen share, and each remote person's camera
/// and screen, with the stream to draw when its video is on.
fn feeds(ui: CallUi, engine: &Engine) -> Vec<Feed> {
    let name = ui
        .name
        .try_get_untracked()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "Me".into());
    let session = engine.session();
    let me = session
        .as_ref()
        .map(|s| s.me().to_string())
        .unwrap_or_default();
    let camera_on = ui.camera_on.try_get_untracked().unwrap_or(false);
    let mut feeds = vec![Feed {
        key: TileKey::Me,
        name: name.clone(),
        stream: engine.local().filter(|_| camera_on),
    }];
    if let Some(share) = engine.share_stream() {
        feeds.push(Feed {
            key: TileKey::Screen(me),
            name,
            stream: Some(share),
        });
    }
    let people = ui.participants.try_get_untracked().unwrap_or_default();
    for p in &people {
        let Some(id) = p.id.try_get_value() else {
            continue;
        };
        let name = p.name.try_get_untracked().unwrap_or_default();
        let video_on = p.media.try_get_untracked().is_some_and(|m| m.video);
        feeds.push(Feed {
            key: TileKey::Person(id.clone()),
            name: name.clone(),
            stream: session
                .as_ref()
                .and_then(|s| s.person_stream(&id))
                .filter(|_| video_on),
        });
        if p.sharing.try_get_untracked().unwrap_or(false) {
            feeds.push(Feed {
                key: TileKey::Screen(id.clone()),
                name,
                stream: session.as_ref().and_then(|s| s.screen_stream(&id)),
            });
        }
    }
    feeds
}

/// Every live audio track of the call: this tab's microphone and screen audio, and the others'.
fn audio(engine: &Engine) -> Vec<MediaStreamTrack> {
    let mut streams = vec![engine.local(), engine.share_stream()];
    if let Some(session) = engine.session() {
        for peer in session.peers() {
            streams.push(Some(Clone::clone(peer.person_stream())));
            streams.push(Some(Clone::clone(peer.screen_stream())));
        }
    }
    streams
        .into_iter()
        .flatten()
        .flat_map(|s| media::audio_tracks(&s))
        .filter(|t| t.ready_state() == web_sys::MediaStreamTrackState::Live)
        .collect()
}
