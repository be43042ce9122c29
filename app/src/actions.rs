//! What the views can ask of the call. In the browser each reaches the call engine; on the server
//! (where nothing is clicked) they do nothing, so components need no `cfg` of their own.

#![cfg_attr(not(feature = "hydrate"), allow(unused_variables))]

use leptos::prelude::*;

use crate::layout::TileKey;
use crate::state::CallUi;

/// Starts the lobby: camera preview, device list, and a rejoin after a reload.
pub fn start_lobby(ui: CallUi) {
    #[cfg(feature = "hydrate")]
    crate::call::start_lobby(ui);
}

/// Joins the call.
pub fn join(ui: CallUi) {
    #[cfg(feature = "hydrate")]
    crate::call::join(ui);
}

/// Leaves the call.
pub fn leave(ui: CallUi) {
    #[cfg(feature = "hydrate")]
    crate::call::leave(ui);
}

/// Goes back to the lobby after leaving or a failure.
pub fn back_to_lobby(ui: CallUi) {
    #[cfg(feature = "hydrate")]
    crate::call::rejoin_lobby(ui);
}

/// Turns the microphone on or off.
pub fn set_mic(ui: CallUi, on: bool) {
    #[cfg(feature = "hydrate")]
    crate::call::set_mic(ui, on);
}

/// Turns the camera on or off.
pub fn set_camera(ui: CallUi, on: bool) {
    #[cfg(feature = "hydrate")]
    crate::call::set_camera(ui, on);
}

/// Switches camera (`video`) or microphone to `device_id`.
pub fn switch_device(ui: CallUi, video: bool, device_id: String) {
    #[cfg(feature = "hydrate")]
    crate::call::switch_device(ui, video, device_id);
}

/// Sends a chat message.
pub fn send_chat(ui: CallUi, text: &str) {
    #[cfg(feature = "hydrate")]
    crate::call::send_chat(ui, text);
}

/// Starts sharing the screen, or stops the share in progress.
pub fn toggle_share(ui: CallUi) {
    #[cfg(feature = "hydrate")]
    crate::call::toggle_share(ui);
}

/// Starts recording the meeting, or stops this tab's recording.
pub fn toggle_recording(ui: CallUi) {
    #[cfg(feature = "hydrate")]
    crate::call::toggle_recording(ui);
}

/// The room page is going away (`unloading`: reload or closed tab; otherwise a link or browser
/// back): the call ends exactly as with Leave.
pub fn end(ui: CallUi, unloading: bool) {
    #[cfg(feature = "hydrate")]
    crate::call::end(ui, unloading);
}

/// Shows the tile with `key` on the stage, or unpins it when it already is pinned.
pub fn toggle_pin(ui: CallUi, key: TileKey) {
    ui.pinned.update(|pinned| {
        *pinned = if pinned.as_ref() == Some(&key) {
            None
        } else {
            Some(key)
        }
    });
}

/// Shows `element` fullscreen, or leaves fullscreen.
#[cfg(feature = "hydrate")]
pub fn toggle_fullscreen(element: &web_sys::Element) {
    let document = web_sys::window().and_then(|w| w.document());
    match document {
        Some(document) if document.fullscreen_element().is_some() => document.exit_fullscreen(),
        _ => {
            // Refused without a user gesture or where fullscreen is unavailable: nothing to do.
            let _ = element.request_fullscreen();
        }
    }
}

/// Copies the page's URL; `done` gets whether it worked.
pub fn copy_link(done: impl Fn(bool) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return done(false);
        };
        let Ok(href) = window.location().href() else {
            return done(false);
        };
        let promise = window.navigator().clipboard().write_text(&href);
        leptos::task::spawn_local(async move {
            // Clipboard access can be refused (insecure context, no permission): say so
            // instead of pretending.
            done(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok());
        });
    }
}

/// Shows a stream of the call in a `<video>`.
#[cfg(feature = "hydrate")]
pub fn bind(
    ui: CallUi,
    source: &crate::components::StreamSource,
    video: &web_sys::HtmlVideoElement,
) {
    use crate::components::StreamSource;
    match source {
        StreamSource::Camera => crate::call::bind_local(ui, video),
        StreamSource::MyScreen => crate::call::bind_local_screen(ui, video),
        StreamSource::Person(peer) => crate::call::bind_remote(ui, peer, video),
        StreamSource::Screen(peer) => crate::call::bind_remote_screen(ui, peer, video),
    }
}

/// A chat time stamp (ms since the epoch) as the person's local `HH:MM`.
pub fn clock_time(ts_ms: u64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts_ms as f64));
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let minutes = ts_ms / 60_000;
        format!("{:02}:{:02}", (minutes / 60) % 24, minutes % 60)
    }
}
