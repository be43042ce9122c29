//! What the views can ask of the call. In the browser each reaches the call engine; on the server
//! (where nothing is clicked) they do nothing, so components need no `cfg` of their own.

#![cfg_attr(not(feature = "hydrate"), allow(unused_variables))]

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
pub fn send_chat(text: &str) {
    #[cfg(feature = "hydrate")]
    crate::call::send_chat(text);
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

/// Shows the local stream in a `<video>`.
#[cfg(feature = "hydrate")]
pub fn bind_local(video: &web_sys::HtmlVideoElement) {
    crate::call::bind_local(video);
}

/// Shows a remote peer's stream in a `<video>`.
#[cfg(feature = "hydrate")]
pub fn bind_remote(peer: &str, video: &web_sys::HtmlVideoElement) {
    crate::call::bind_remote(peer, video);
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
