//! Buttons and pickers for the local devices, and the in-call control bar.

use leptos::prelude::*;

use crate::actions;
use crate::state::{CallUi, Device};

/// Microphone on/off. Shortcut: M.
#[component]
pub fn MicToggle() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let on = move || ui.mic_on.get() && ui.has_mic.get();
    view! {
        <button
            type="button"
            class="round-button"
            class:off=move || !on()
            data-testid="toggle-mic"
            aria-pressed=move || on().to_string()
            aria-label=move || if on() { "Turn microphone off (M)" } else { "Turn microphone on (M)" }
            title=move || if on() { "Turn microphone off (M)" } else { "Turn microphone on (M)" }
            disabled=move || !ui.has_mic.get()
            on:click=move |_| actions::set_mic(ui, !ui.mic_on.get_untracked())
        >
            <span class="icon" class:icon-mic=on class:icon-mic-off=move || !on() aria-hidden="true"></span>
        </button>
    }
}

/// Camera on/off. Shortcut: V.
#[component]
pub fn CameraToggle() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let on = move || ui.camera_on.get() && ui.has_camera.get();
    view! {
        <button
            type="button"
            class="round-button"
            class:off=move || !on()
            data-testid="toggle-camera"
            aria-pressed=move || on().to_string()
            aria-label=move || if on() { "Turn camera off (V)" } else { "Turn camera on (V)" }
            title=move || if on() { "Turn camera off (V)" } else { "Turn camera on (V)" }
            disabled=move || !ui.has_camera.get()
            on:click=move |_| actions::set_camera(ui, !ui.camera_on.get_untracked())
        >
            <span class="icon" class:icon-video=on class:icon-video-off=move || !on() aria-hidden="true"></span>
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

/// The bar under the call: mic, camera, settings, chat, connection info, leave.
#[component]
pub fn ControlBar() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let settings_open = RwSignal::new(false);
    view! {
        <div class="control-bar" role="toolbar" aria-label="Call controls">
            <div class="control-group">
                <MicToggle/>
                <CameraToggle/>
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
