//! The call: the tiles, the presenter notice, the control bar, and the chat panel.

use leptos::prelude::*;

use super::chat::ChatPanel;
use super::controls::ControlBar;
use super::stage::Stage;
use super::video::{StreamSource, StreamVideo};
#[cfg(feature = "hydrate")]
use crate::actions;
use crate::state::{CallUi, Phase};

/// The call layer from the `call` wasm chunk (see `call::session::start`), which the lobby
/// fetches ahead of Join: the room page's first load does not carry it.
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(call, wasm_split_path = leptos::wasm_split, fallible)]
pub fn lazy_call_layer(
    shown: Signal<bool>,
) -> Result<AnyView, leptos::wasm_split::SplitLoaderError> {
    Ok(view! { <CallLayer shown/> }.into_any())
}

/// The call view, rendered hidden behind the lobby as soon as its code has loaded, and shown
/// while the call is. Entering the call then only shows it: building it at that moment took the
/// joiner's main thread for ~100 ms (render and style) just as the connection came up.
#[component]
pub fn CallLayer(shown: Signal<bool>) -> impl IntoView {
    let hidden = move || !shown.get();
    view! {
        <div class="call-layer" class:hidden=hidden inert=hidden data-testid="call-layer">
            <CallView/>
        </div>
    }
}

/// The in-call screen. It is mounted, hidden, from the moment its code has loaded in the lobby
/// until the page goes away, so its tiles and their `<video>` elements survive a dropped
/// signaling socket.
#[component]
pub fn CallView() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    #[cfg(feature = "hydrate")]
    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| shortcut(ui, &ev));
    #[cfg(feature = "hydrate")]
    on_cleanup(move || shortcuts.remove());

    view! {
        <div class="call" data-testid="call">
            <Show when=move || ui.phase.get() == Phase::Reconnecting>
                <div class="banner" role="status" data-testid="reconnecting">
                    "Connection to the server lost. Reconnecting… Your call continues meanwhile."
                </div>
            </Show>
            <Show when=move || ui.sharing.get()>
                <div class="presenting" role="status" data-testid="presenting">
                    <StreamVideo source=StreamSource::MyScreen version=ui.share_version.into() class="presenting-preview"/>
                    <span>"You are presenting"</span>
                </div>
            </Show>
            <div class="call-main">
                <Stage/>
                <Show when=move || ui.chat_open.get()>
                    <ChatPanel/>
                </Show>
            </div>
            <Show when=move || ui.participants.with(|p| p.is_empty())>
                <p class="waiting" data-testid="waiting">
                    "You are the only one here. Share the link to invite others."
                </p>
            </Show>
            <ControlBar/>
        </div>
    }
}

/// In the call, M toggles the microphone, V the camera and S the screen share, unless the person
/// is typing.
#[cfg(feature = "hydrate")]
fn shortcut(ui: CallUi, ev: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let in_call = matches!(
        ui.phase.get_untracked(),
        Phase::InCall | Phase::Reconnecting
    );
    if !in_call || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.repeat() {
        return;
    }
    let typing = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
    if typing {
        return;
    }
    match ev.key().as_str() {
        "m" | "M" => actions::set_mic(ui, !ui.mic_on.get_untracked()),
        "v" | "V" => actions::set_camera(ui, !ui.camera_on.get_untracked()),
        "s" | "S" if ui.can_share.get_untracked() => actions::toggle_share(ui),
        _ => return,
    }
    ev.prevent_default();
}
