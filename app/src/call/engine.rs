//! The room page's call engine: local media, the joined [`Session`] and a screen share.
//!
//! One [`Engine`] belongs to one room page (it is stored in that page's reactive owner through
//! [`CallUi::engine`]); nothing is global. When the page goes away by any route — an in-app link,
//! browser back, a reload or closing the tab — [`end`] hangs up exactly like Leave: every
//! captured track stopped, every connection closed, the socket closed cleanly so the others see
//! `peer-left` at once. Browser objects live here, never in signals.
//!
//! Every `MediaStream` handle is copied with `Clone::clone`: web-sys binds the JS method
//! `MediaStream.clone()` as an inherent method, and a copied stream has copied tracks that a
//! later `stop()` of the original would not turn off.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use protocol::Source;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamTrack};

use super::recorder::{self, Recorder};
use super::session::{self, Session};
use super::{js, media, share};
use crate::state::{CallUi, Phase};

/// localStorage key of the remembered display name.
const NAME_KEY: &str = "record-meet:name";

/// sessionStorage key set while this tab is in the call of a room, so a reload rejoins.
fn joined_key(room: &str) -> String {
    format!("record-meet:joined:{room}")
}

/// The call of one room page.
#[derive(Default)]
pub struct Engine {
    /// The page is gone: anything that arrives late (a camera that opens after the person left
    /// the page) is stopped at once instead of kept.
    closed: Cell<bool>,
    /// Camera and microphone.
    local: RefCell<Option<MediaStream>>,
    /// Join was clicked and the session's code is still loading.
    joining: Cell<bool>,
    /// The joined call, from Join to Leave.
    session: RefCell<Option<Rc<Session>>>,
    /// The screen share in progress.
    share: RefCell<Option<ActiveShare>>,
    /// The recording this tab makes, if any.
    pub(super) recorder: RefCell<Option<Rc<Recorder>>>,
}

/// A screen share and the handler of its track's `ended` (the browser's "Stop sharing" bar).
struct ActiveShare {
    stream: MediaStream,
    track: Option<MediaStreamTrack>,
    _on_ended: Closure<dyn FnMut(JsValue)>,
}

impl Drop for ActiveShare {
    fn drop(&mut self) {
        if let Some(track) = &self.track {
            track.set_onended(None);
        }
        media::stop_all(&self.stream);
    }
}

impl Engine {
    pub(super) fn local(&self) -> Option<MediaStream> {
        self.local.borrow().as_ref().map(Clone::clone)
    }

    pub(super) fn session(&self) -> Option<Rc<Session>> {
        self.session.borrow().clone()
    }

    pub(super) fn share_stream(&self) -> Option<MediaStream> {
        self.share
            .borrow()
            .as_ref()
            .map(|s| Clone::clone(&s.stream))
    }

    /// Stops everything this engine holds.
    fn hang_up(&self) {
        self.joining.set(false);
        // The recording stops with the call; its chunks keep uploading.
        if let Some(recorder) = self.recorder.borrow_mut().take() {
            recorder.stop();
        }
        if let Some(session) = self.session.borrow_mut().take() {
            session.leave();
        }
        self.share.borrow_mut().take();
        if let Some(local) = self.local.borrow_mut().take() {
            media::stop_all(&local);
        }
    }
}

/// The engine of `ui`'s page, unless the page is gone.
pub(super) fn engine(ui: CallUi) -> Option<Rc<Engine>> {
    ui.engine.try_get_value().filter(|e| !e.closed.get())
}

/// Opens the camera and microphone for the lobby preview, lists devices, and rejoins at once if
/// this tab was in the call before a reload.
pub fn start_lobby(ui: CallUi) {
    if let Some(name) = js::load(false, NAME_KEY) {
        ui.name.set(name);
    }
    ui.can_share.set(share::supported());
    // The call's code comes while the person chooses devices, so Join does not wait for it,
    // and the call view is rendered behind the lobby; then it uploads what a crashed tab's
    // recording left behind.
    spawn_local(async move {
        if session::preload_call().await.is_ok() && engine(ui).is_some() {
            ui.call_loaded.set(true);
            let _ = recorder::drain_left_behind().await;
        }
    });
    spawn_local(async move {
        open_devices(ui).await;
        if engine(ui).is_none() {
            return;
        }
        let rejoin = js::load(true, &joined_key(&ui.room.get_value())).is_some();
        if rejoin && ui.phase.get_untracked() == Phase::Lobby {
            join(ui);
        }
    });
}

async fn open_devices(ui: CallUi) {
    ui.media_pending.set(true);
    let acquired = media::acquire(
        &ui.microphone_id.get_untracked(),
        &ui.camera_id.get_untracked(),
    )
    .await;
    let Some(engine) = engine(ui) else {
        // The page went away while the browser was opening the devices.
        media::stop_all(&acquired.stream);
        return;
    };
    let fresh = Clone::clone(&acquired.stream);
    if let Some(old) = engine.local.borrow_mut().replace(fresh) {
        media::stop_all(&old);
    }
    let audio = media::audio_track(&acquired.stream);
    let video = media::video_track(&acquired.stream);
    if let Some(track) = &audio {
        track.set_enabled(ui.mic_on.get_untracked());
    }
    if let Some(track) = &video {
        track.set_enabled(ui.camera_on.get_untracked());
    }
    ui.has_mic.set(audio.is_some());
    ui.has_camera.set(video.is_some());
    let problems: Vec<String> = [
        acquired.video_error.map(|e| e.explain("camera")),
        acquired.audio_error.map(|e| e.explain("microphone")),
    ]
    .into_iter()
    .flatten()
    .collect();
    ui.media_problem.set(if problems.is_empty() {
        None
    } else {
        Some(problems.join(" "))
    });
    let (cameras, microphones) = media::list_devices().await;
    if let Some(track) = &video {
        ui.camera_id.set(media::device_id(track));
    }
    if let Some(track) = &audio {
        ui.microphone_id.set(media::device_id(track));
    }
    ui.cameras.set(cameras);
    ui.microphones.set(microphones);
    ui.media_pending.set(false);
    ui.local_version.update(|v| *v += 1);
}

/// Shows the local camera in the self-view.
pub fn bind_local(ui: CallUi, video: &HtmlVideoElement) {
    show(video, engine(ui).and_then(|e| e.local()));
}

/// Shows this tab's own screen share in the presenter's small preview.
pub fn bind_local_screen(ui: CallUi, video: &HtmlVideoElement) {
    show(video, engine(ui).and_then(|e| e.share_stream()));
}

/// Shows `peer`'s camera and microphone in its tile.
pub fn bind_remote(ui: CallUi, peer: &str, video: &HtmlVideoElement) {
    let session = engine(ui).and_then(|e| e.session());
    show(video, session.and_then(|s| s.person_stream(peer)));
}

/// Shows `peer`'s screen share.
pub fn bind_remote_screen(ui: CallUi, peer: &str, video: &HtmlVideoElement) {
    let session = engine(ui).and_then(|e| e.session());
    show(video, session.and_then(|s| s.screen_stream(peer)));
}

/// Points `video` at `stream` and plays it. A stream that gains a track needs no re-binding
/// (the element follows its tracks), and re-binding would interrupt playback.
fn show(video: &HtmlVideoElement, stream: Option<MediaStream>) {
    let current = video.src_object();
    let same = match (&current, &stream) {
        (Some(a), Some(b)) => AsRef::<JsValue>::as_ref(a) == AsRef::<JsValue>::as_ref(b),
        (None, None) => true,
        _ => false,
    };
    if !same {
        video.set_src_object(stream.as_ref());
    }
    if stream.is_some() {
        if let Ok(promise) = video.play() {
            // play() rejects when a newer load interrupts it or autoplay is refused; the element
            // still plays once it can, so the rejection is expected and handled here.
            spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            });
        }
    }
}

/// Joins the call with the current devices and name.
pub fn join(ui: CallUi) {
    let Some(this) = engine(ui) else { return };
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return;
    };
    if this.session.borrow().is_some() || this.joining.replace(true) {
        return;
    }
    let name = ui.name.get_untracked().trim().to_owned();
    js::save(false, NAME_KEY, &name);
    js::save(true, &joined_key(&ui.room.get_value()), "1");
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let base = format!("{scheme}://{host}/ws/{}", ui.room.get_value());
    ui.chat.set(Vec::new());
    ui.unread.set(0);
    ui.first_frame_ms.set(None);
    let (local, screen) = (this.local(), this.share_stream());
    spawn_local(async move {
        let started = session::start(ui, base, local, screen).await;
        // Leave, or the page went away, while the code was loading.
        let engine = engine(ui).filter(|e| e.joining.replace(false));
        match (engine, started) {
            (Some(engine), Ok(session)) => {
                *engine.session.borrow_mut() = Some(session);
                // Normally set by the lobby's preload already.
                ui.call_loaded.set(true);
                // Connect first, re-render after: the session's task (queued just before this
                // one) opens the socket, then the lobby's button says "Joining…".
                spawn_local(async move {
                    if ui.phase.try_get_untracked() == Some(Phase::Lobby) {
                        ui.phase.set(Phase::Joining);
                    }
                });
            }
            (None, Ok(session)) => session.leave(),
            (Some(_), Err(_)) => ui.phase.set(Phase::Failed(
                "The call could not be loaded. Check your connection and reload the page.".into(),
            )),
            (None, Err(_)) => {}
        }
    });
}

/// Leaves the call: closes every connection and the signaling socket, turns the devices off.
pub fn leave(ui: CallUi) {
    js::forget(true, &joined_key(&ui.room.get_value()));
    if let Some(engine) = engine(ui) {
        engine.hang_up();
    }
    ui.participants.set(Vec::new());
    ui.sharing.set(false);
    ui.has_mic.set(false);
    ui.has_camera.set(false);
    ui.phase.set(Phase::Left);
}

/// The page is going away (`unloading`: reload or tab close; otherwise in-app navigation):
/// hangs up like Leave, without touching the page's signals. A reload keeps the "joined" mark
/// so the reloaded page rejoins; leaving by a link forgets it.
pub fn end(ui: CallUi, unloading: bool) {
    let Some(engine) = ui.engine.try_get_value() else {
        return;
    };
    if engine.closed.replace(true) {
        return;
    }
    if !unloading {
        js::forget(true, &joined_key(&ui.room.get_value()));
    }
    engine.hang_up();
}

/// Back to the lobby after leaving or failing.
pub fn rejoin_lobby(ui: CallUi) {
    let Some(engine) = engine(ui) else { return };
    engine.joining.set(false);
    if let Some(session) = engine.session.borrow_mut().take() {
        session.leave();
    }
    ui.participants.set(Vec::new());
    ui.phase.set(Phase::Lobby);
    spawn_local(open_devices(ui));
}

/// Turns the microphone on or off (the track keeps its place, so no renegotiation).
pub fn set_mic(ui: CallUi, on: bool) {
    ui.mic_on.set(on);
    set_enabled(ui, false, on);
}

/// Turns the camera on or off.
pub fn set_camera(ui: CallUi, on: bool) {
    ui.camera_on.set(on);
    set_enabled(ui, true, on);
}

fn set_enabled(ui: CallUi, video: bool, on: bool) {
    let Some(engine) = engine(ui) else { return };
    let local = engine.local();
    let track = if video {
        local.as_ref().and_then(media::video_track)
    } else {
        local.as_ref().and_then(media::audio_track)
    };
    if let Some(track) = track {
        track.set_enabled(on);
    }
    if let Some(session) = engine.session() {
        session.send_media_state();
    }
}

/// Switches to another camera (`video`) or microphone: a new track replaces the old one on
/// that source's sender of every connection with `replaceTrack`, so nothing is renegotiated.
pub fn switch_device(ui: CallUi, video: bool, device_id: String) {
    spawn_local(async move {
        let opened = if video {
            media::open(false, "", true, &device_id).await
        } else {
            media::open(true, &device_id, false, "").await
        };
        let fresh = match opened {
            Ok(stream) => stream,
            Err(e) => {
                ui.media_problem
                    .set(Some(e.explain(if video { "camera" } else { "microphone" })));
                return;
            }
        };
        let Some(engine) = engine(ui) else {
            media::stop_all(&fresh);
            return;
        };
        let (new_track, source) = if video {
            (media::video_track(&fresh), Source::Camera)
        } else {
            (media::audio_track(&fresh), Source::Microphone)
        };
        let Some(new_track) = new_track else { return };
        new_track.set_enabled(if video {
            ui.camera_on.get_untracked()
        } else {
            ui.mic_on.get_untracked()
        });
        let local = match engine.local() {
            Some(local) => local,
            None => {
                let Ok(stream) = MediaStream::new() else {
                    return;
                };
                *engine.local.borrow_mut() = Some(Clone::clone(&stream));
                stream
            }
        };
        let old = if video {
            media::video_track(&local)
        } else {
            media::audio_track(&local)
        };
        if let Some(session) = engine.session() {
            session.replace_track(source, &new_track).await;
        }
        if let Some(old) = old {
            local.remove_track(&old);
            old.stop();
        }
        local.add_track(&new_track);
        if engine.closed.get() {
            // Left the page while the track was being swapped in.
            media::stop_all(&local);
            return;
        }
        if video {
            ui.camera_id.set(device_id);
            ui.has_camera.set(true);
        } else {
            ui.microphone_id.set(device_id);
            ui.has_mic.set(true);
        }
        ui.local_version.update(|v| *v += 1);
    });
}

/// Starts sharing a screen (the browser asks what), or stops the share in progress.
pub fn toggle_share(ui: CallUi) {
    if ui.sharing.get_untracked() {
        stop_share(ui);
        return;
    }
    spawn_local(async move {
        let stream = match share::capture().await {
            Ok(stream) => stream,
            Err(e) => {
                if let Some(why) = e.explain() {
                    ui.toast.set(Some(why));
                }
                return;
            }
        };
        let Some(engine) = engine(ui) else {
            media::stop_all(&stream);
            return;
        };
        if engine.share.borrow().is_some() {
            // A second click while the picker was open: keep the first share.
            media::stop_all(&stream);
            return;
        }
        let track = share::video_track(&stream);
        let on_ended = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| stop_share(ui));
        if let Some(track) = &track {
            track.set_onended(Some(on_ended.as_ref().unchecked_ref()));
        }
        *engine.share.borrow_mut() = Some(ActiveShare {
            stream: Clone::clone(&stream),
            track,
            _on_ended: on_ended,
        });
        ui.sharing.set(true);
        ui.share_version.update(|v| *v += 1);
        if let Some(session) = engine.session() {
            session.start_screen(&stream);
        }
    });
}

/// Stops the screen share for everyone (the button, the shortcut, or the browser's own bar).
pub fn stop_share(ui: CallUi) {
    let Some(engine) = engine(ui) else { return };
    let Some(active) = engine.share.borrow_mut().take() else {
        return;
    };
    ui.sharing.set(false);
    if let Some(session) = engine.session() {
        session.stop_screen();
    }
    drop(active);
}

/// Sends a chat message.
pub fn send_chat(ui: CallUi, text: &str) {
    if let Some(session) = engine(ui).and_then(|e| e.session()) {
        session.send_chat(text);
    }
}
