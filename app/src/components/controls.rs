//! Buttons and pickers for the local devices, and the in-call control bar.

use leptos::prelude::*;

use crate::actions;
use crate::state::{CallUi, Device};

/// The local device a toggle switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// The microphone (shortcut M).
    Mic,
    /// The camera (shortcut V).
    Camera,
}

/// Turns the microphone or the camera on and off; disabled when there is no such device.
#[component]
pub fn DeviceToggle(kind: Toggle) -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let (wanted, present, noun, key, testid, icon_on, icon_off) = match kind {
        Toggle::Mic => (
            ui.mic_on,
            ui.has_mic,
            "microphone",
            "M",
            "toggle-mic",
            "icon-mic",
            "icon-mic-off",
        ),
        Toggle::Camera => (
            ui.camera_on,
            ui.has_camera,
            "camera",
            "V",
            "toggle-camera",
            "icon-video",
            "icon-video-off",
        ),
    };
    let on = move || wanted.get() && present.get();
    let label = move || format!("Turn {noun} {} ({key})", if on() { "off" } else { "on" });
    let toggle = move |_| {
        let next = !wanted.get_untracked();
        match kind {
            Toggle::Mic => actions::set_mic(ui, next),
            Toggle::Camera => actions::set_camera(ui, next),
        }
    };
    view! {
        <button
            type="button"
            class="round-button"
            class:off=move || !on()
            data-testid=testid
            aria-pressed=move || on().to_string()
            aria-label=label
            title=label
            disabled=move || !present.get()
            on:click=toggle
        >
            <span class=move || format!("icon {}", if on() { icon_on } else { icon_off }) aria-hidden="true"></span>
        </button>
    }
}

/// Camera and microphone pickers.
#[component]
pub fn DeviceSelects() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    view! {
        <div class="device-selects">
            <DeviceSelect
                label="Camera"
                testid="camera-select"
                devices=ui.cameras.into()
                selected=ui.camera_id.into()
                on_pick=Callback::new(move |id| actions::switch_device(ui, true, id))
            />
            <DeviceSelect
                label="Microphone"
                testid="microphone-select"
                devices=ui.microphones.into()
                selected=ui.microphone_id.into()
                on_pick=Callback::new(move |id| actions::switch_device(ui, false, id))
            />
        </div>
    }
}

#[component]
fn DeviceSelect(
    label: &'static str,
    testid: &'static str,
    devices: Signal<Vec<Device>>,
    selected: Signal<String>,
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <select
                data-testid=testid
                disabled=move || devices.with(|d| d.is_empty())
                on:change=move |ev| on_pick.run(event_target_value(&ev))
            >
                <Show when=move || devices.with(|d| d.is_empty())>
                    <option value="">"None available"</option>
                </Show>
                <For
                    each=move || devices.get().into_iter().enumerate()
                    key=|(_, d)| d.id.clone()
                    children=move |(i, device)| {
                        let id = device.id.clone();
                        let text = if device.label.is_empty() {
                            format!("{label} {}", i + 1)
                        } else {
                            device.label.clone()
                        };
                        view! {
                            <option value=device.id.clone() selected=move || selected.get() == id>
                                {text}
                            </option>
                        }
                    }
                />
            </select>
        </label>
    }
}

/// Starts and stops sharing the screen (shortcut S). Hidden where the browser cannot share
/// (`getDisplayMedia` is missing on most phones).
#[component]
fn ShareButton() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let label = move || {
        if ui.sharing.get() {
            "Stop sharing"
        } else {
            "Share screen"
        }
    };
    view! {
        <Show when=move || ui.can_share.get()>
            <button
                type="button"
                class="round-button"
                class:active=ui.sharing
                data-testid="toggle-share"
                aria-label=label
                aria-pressed=move || ui.sharing.get().to_string()
                aria-keyshortcuts="S"
                title=move || format!("{} (S)", label())
                on:click=move |_| actions::toggle_share(ui)
            >
                <span class=move || format!("icon {}", if ui.sharing.get() { "icon-screen-off" } else { "icon-screen" }) aria-hidden="true"></span>
            </button>
        </Show>
    }
}

/// Starts and stops recording the meeting (no shortcut: a recording needs a deliberate click). Someone else's recording shows as an
/// indicator only: one recording at a time per room.
#[component]
fn RecordButton() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let label = move || {
        if ui.recording_mine.get() {
            "Stop recording"
        } else if ui.recording_busy.get() {
            "Saving the recording…"
        } else {
            "Start recording"
        }
    };
    let others = move || ui.recording.with(|r| r.is_some()) && !ui.recording_mine.get();
    view! {
        <button
            type="button"
            class="round-button record-button"
            class:active=ui.recording_mine
            data-testid="toggle-recording"
            aria-label=label
            aria-pressed=move || ui.recording_mine.get().to_string()
            title=move || if others() { "Someone is recording this meeting" } else { label() }
            disabled=move || ui.recording_busy.get() || others()
            on:click=move |_| actions::toggle_recording(ui)
        >
            <span class="icon icon-record" aria-hidden="true"></span>
        </button>
    }
}

/// The bar under the call: mic, camera, share, settings, chat, connection info, leave.
#[component]
pub fn ControlBar() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let settings_open = RwSignal::new(false);
    view! {
        <div class="control-bar" role="toolbar" aria-label="Call controls">
            <div class="control-group">
                <DeviceToggle kind=Toggle::Mic/>
                <DeviceToggle kind=Toggle::Camera/>
                <ShareButton/>
                <RecordButton/>
                <button
                    type="button"
                    class="round-button"
                    class:active=settings_open
                    data-testid="toggle-settings"
                    aria-label="Device settings"
                    aria-expanded=move || settings_open.get().to_string()
                    title="Device settings"
                    on:click=move |_| settings_open.update(|o| *o = !*o)
                >
                    <span class="icon icon-settings" aria-hidden="true"></span>
                </button>
            </div>
            <div class="control-group">
                <button
                    type="button"
                    class="round-button"
                    class:active=ui.chat_open
                    data-testid="toggle-chat"
                    aria-label=move || format!("Chat ({} unread)", ui.unread.get())
                    aria-expanded=move || ui.chat_open.get().to_string()
                    title="Chat"
                    on:click=move |_| {
                        ui.chat_open.update(|o| *o = !*o);
                        ui.unread.set(0);
                    }
                >
                    <span class="icon icon-chat" aria-hidden="true"></span>
                    <Show when=move || { ui.unread.get() > 0 }>
                        <span class="badge" data-testid="unread">{move || ui.unread.get()}</span>
                    </Show>
                </button>
                <button
                    type="button"
                    class="round-button"
                    class:active=ui.show_stats
                    data-testid="toggle-stats"
                    aria-label="Connection info"
                    aria-pressed=move || ui.show_stats.get().to_string()
                    title="Connection info"
                    on:click=move |_| ui.show_stats.update(|s| *s = !*s)
                >
                    <span class="icon icon-info" aria-hidden="true"></span>
                </button>
                <button
                    type="button"
                    class="button danger leave-button"
                    data-testid="leave"
                    aria-label="Leave the call"
                    on:click=move |_| actions::leave(ui)
                >
                    <span class="icon icon-leave" aria-hidden="true"></span>
                    <span class="label">"Leave"</span>
                </button>
            </div>
            <Show when=move || settings_open.get()>
                <div class="settings-popover card" role="dialog" aria-label="Device settings">
                    <DeviceSelects/>
                </div>
            </Show>
        </div>
    }
}
