//! The lobby: a camera preview, name, devices, and Join.

use leptos::prelude::*;

use super::controls::{DeviceSelects, DeviceToggle, Toggle};
use super::video::{StreamSource, StreamVideo};
use crate::actions;
use crate::state::{CallUi, Phase};

/// What a person sees before joining.
#[component]
pub fn Lobby() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        actions::start_lobby(ui);
    });
    let camera_visible = move || ui.has_camera.get() && ui.camera_on.get();
    let initial = move || initial_of(&ui.name.get());
    let joining = move || ui.phase.get() == Phase::Joining;
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        actions::join(ui);
    };

    view! {
        <div class="lobby">
            <div class="preview" data-testid="preview">
                <StreamVideo source=StreamSource::Camera version=ui.local_version.into() class="mirror"/>
                <Show when=move || !camera_visible()>
                    <div class="preview-off">
                        <span class="avatar large">{initial}</span>
                        <span class="muted">
                            {move || if ui.media_pending.get() {
                                "Starting camera…"
                            } else if ui.has_camera.get() {
                                "Camera is off"
                            } else {
                                "No camera"
                            }}
                        </span>
                    </div>
                </Show>
                <div class="preview-controls">
                    <DeviceToggle kind=Toggle::Mic/>
                    <DeviceToggle kind=Toggle::Camera/>
                </div>
            </div>
            <form class="lobby-panel" on:submit=join>
                <h2>"Ready to join?"</h2>
                <label class="field">
                    <span>"Your name"</span>
                    <input
                        type="text"
                        name="name"
                        data-testid="name-input"
                        placeholder="How others see you"
                        maxlength="64"
                        autocomplete="name"
                        prop:value=ui.name
                        on:input=move |ev| ui.name.set(event_target_value(&ev))
                    />
                </label>
                <DeviceSelects/>
                <Show when=move || ui.media_problem.get().is_some()>
                    <p class="alert" role="alert" data-testid="media-problem">
                        {move || ui.media_problem.get()}
                        " You can still join and see and hear the others."
                    </p>
                </Show>
                <button
                    type="submit"
                    class="button primary large"
                    data-testid="join"
                    disabled=move || !hydrated.get() || ui.media_pending.get() || joining()
                >
                    {move || if joining() { "Joining…" } else { "Join meeting" }}
                </button>
                <a
                    class="check-link"
                    data-testid="check-link"
                    href=move || format!("/check?room={}", ui.room.get_value())
                >
                    "Trouble connecting? Check your connection"
                </a>
            </form>
        </div>
    }
}

/// The first letter of a name, for avatars.
pub fn initial_of(name: &str) -> String {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".to_owned())
}
