//! The page's one call: what the view's actions reach. Browser objects live here, in a
//! thread-local (the browser has one thread), never in signals.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamTrack};

use super::js;
use super::media;
use super::session::Session;
use crate::state::{CallUi, Phase};

/// localStorage key of the remembered display name.
const NAME_KEY: &str = "record-meet:name";

/// sessionStorage key set while this tab is in the call of a room, so a reload rejoins.
fn joined_key(room: &str) -> String {
    format!("record-meet:joined:{room}")
}

#[derive(Default)]
struct Engine {
    local: Option<MediaStream>,
    session: Option<Rc<Session>>,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

fn local_stream() -> Option<MediaStream> {
    ENGINE.with(|e| e.borrow().local.clone())
}

fn session() -> Option<Rc<Session>> {
    ENGINE.with(|e| e.borrow().session.clone())
}

/// Opens the camera and microphone for the lobby preview, lists devices, and rejoins at once if
/// this tab was in the call before a reload.
pub fn start_lobby(ui: CallUi) {
    if let Some(name) = js::load(false, NAME_KEY) {
        ui.name.set(name);
    }
    spawn_local(async move {
        open_devices(ui).await;
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
    if let Some(old) = ENGINE.with(|e| e.borrow_mut().local.replace(acquired.stream.clone())) {
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
        ui.camera_id.set(device_id(track));
    }
    if let Some(track) = &audio {
        ui.microphone_id.set(device_id(track));
    }
    ui.cameras.set(cameras);
    ui.microphones.set(microphones);
    ui.media_pending.set(false);
    ui.local_version.update(|v| *v += 1);
}

fn device_id(track: &MediaStreamTrack) -> String {
    js::get_string(&track.get_settings(), "deviceId").unwrap_or_default()
}

/// Shows the local stream in the self-view.
pub fn bind_local(video: &HtmlVideoElement) {
    show(video, local_stream());
}

/// Shows `peer`'s stream in its tile.
pub fn bind_remote(peer: &str, video: &HtmlVideoElement) {
    show(video, session().and_then(|s| s.remote_stream(peer)));
}

/// Points `video` at `stream` and plays it. A stream that gains a track needs no re-binding
/// (the element follows its tracks), and re-binding would interrupt playback.
fn show(video: &HtmlVideoElement, stream: Option<MediaStream>) {
    let current = video.src_object();
    let same = match (&current, &stream) {
        (Some(a), Some(b)) => {
            AsRef::<wasm_bindgen::JsValue>::as_ref(a) == AsRef::<wasm_bindgen::JsValue>::as_ref(b)
        }
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
    if session().is_some() {
        return;
    }
    let name = ui.name.get_untracked().trim().to_owned();
    js::save(false, NAME_KEY, &name);
    js::save(true, &joined_key(&ui.room.get_value()), "1");
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return;
    };
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
    let session = Session::start(ui, base, local_stream());
    ENGINE.with(|e| e.borrow_mut().session = Some(session));
    // Connect first, re-render after: the session's task (queued just before this one) opens
    // the socket, then the stage switches to the call view, which takes the main thread for
    // tens of milliseconds.
    spawn_local(async move {
        if ui.phase.get_untracked() == Phase::Lobby {
            ui.phase.set(Phase::Joining);
        }
    });
}

/// Leaves the call: closes every connection and the signaling socket, turns the devices off.
pub fn leave(ui: CallUi) {
    js::forget(true, &joined_key(&ui.room.get_value()));
    let (session, local) = ENGINE.with(|e| {
        let mut e = e.borrow_mut();
        (e.session.take(), e.local.take())
    });
    if let Some(session) = session {
        session.leave();
    }
    if let Some(local) = local {
        media::stop_all(&local);
    }
    ui.has_mic.set(false);
    ui.has_camera.set(false);
    ui.phase.set(Phase::Left);
}

/// Back to the lobby after leaving or failing.
pub fn rejoin_lobby(ui: CallUi) {
    if let Some(session) = ENGINE.with(|e| e.borrow_mut().session.take()) {
        session.leave();
    }
    ui.phase.set(Phase::Lobby);
    spawn_local(open_devices(ui));
}

/// Turns the microphone on or off (the track keeps its place, so no renegotiation).
pub fn set_mic(ui: CallUi, on: bool) {
    ui.mic_on.set(on);
    if let Some(track) = local_stream().as_ref().and_then(media::audio_track) {
        track.set_enabled(on);
    }
    if let Some(session) = session() {
        session.send_media_state();
    }
}

/// Turns the camera on or off.
pub fn set_camera(ui: CallUi, on: bool) {
    ui.camera_on.set(on);
    if let Some(track) = local_stream().as_ref().and_then(media::video_track) {
        track.set_enabled(on);
    }
    if let Some(session) = session() {
        session.send_media_state();
    }
}

/// Switches to another camera (`video`) or microphone: a new track replaces the old one on
/// every connection with `replaceTrack`, so nothing is renegotiated.
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
        let new_track = if video {
            media::video_track(&fresh)
        } else {
            media::audio_track(&fresh)
        };
        let Some(new_track) = new_track else { return };
        new_track.set_enabled(if video {
            ui.camera_on.get_untracked()
        } else {
            ui.mic_on.get_untracked()
        });
        let local = match local_stream() {
            Some(local) => local,
            None => {
                let Ok(stream) = MediaStream::new() else {
                    return;
                };
                ENGINE.with(|e| e.borrow_mut().local = Some(stream.clone()));
                stream
            }
        };
        let old = if video {
            media::video_track(&local)
        } else {
            media::audio_track(&local)
        };
        if let Some(session) = session() {
            session.replace_track(&new_track).await;
        }
        if let Some(old) = old {
            local.remove_track(&old);
            old.stop();
        }
        local.add_track(&new_track);
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

/// Sends a chat message.
pub fn send_chat(text: &str) {
    if let Some(session) = session() {
        session.send_chat(text);
    }
}
