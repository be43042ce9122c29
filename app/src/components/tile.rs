//! Video tiles: this tab's self-view, one per remote person, and one per remote screen share.

use leptos::prelude::*;

use super::lobby::initial_of;
use super::video::{StreamSource, StreamVideo};
use crate::state::{CallUi, Participant, TileStats};

/// This tab, mirrored and muted.
#[component]
pub fn SelfTile() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let video_on = move || ui.has_camera.get() && ui.camera_on.get();
    let mic_on = move || ui.has_mic.get() && ui.mic_on.get();
    let name = move || {
        let name = ui.name.get();
        if name.trim().is_empty() {
            "You".to_owned()
        } else {
            format!("{} (you)", name.trim())
        }
    };
    view! {
        <div class="tile self" class:speaking=ui.self_speaking data-testid="self-tile">
            <StreamVideo source=StreamSource::Camera version=ui.local_version.into() class="mirror"/>
            <Show when=move || !video_on()>
                <div class="tile-avatar"><span class="avatar">{move || initial_of(&ui.name.get())}</span></div>
            </Show>
            <TileFooter name=Signal::derive(name) mic_on=Signal::derive(mic_on)/>
        </div>
    }
}

/// A remote person: video, name, indicators, speaking ring and connection info.
#[component]
pub fn RemoteTile(participant: Participant) -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let p = participant;
    let video_on = move || p.media.get().video;
    view! {
        <div
            class="tile remote"
            class:speaking=p.speaking
            data-testid="remote-tile"
            data-peer=p.id()
        >
            <StreamVideo source=StreamSource::Person(p.id()) version=p.stream_version.into()/>
            <Show when=move || !video_on()>
                <div class="tile-avatar" data-testid="camera-off">
                    <span class="avatar">{move || initial_of(&p.name.get())}</span>
                </div>
            </Show>
            <TileFooter name=Signal::derive(move || display_name(&p.name.get())) mic_on=Signal::derive(move || p.media.get().audio)/>
            <Show when=move || ui.show_stats.get()>
                <StatsOverlay stats=p.stats.into()/>
            </Show>
        </div>
    }
}

/// A remote person's shared screen, letterboxed (never cropped).
#[component]
pub fn ScreenTile(participant: Participant) -> impl IntoView {
    let p = participant;
    let label = move || format!("{}'s screen", display_name(&p.name.get()));
    view! {
        <div class="tile screen" data-testid="screen-tile" data-peer=p.id()>
            <StreamVideo source=StreamSource::Screen(p.id()) version=p.screen_version.into() class="contain"/>
            <div class="tile-footer">
                <span class="tile-badge screen-badge" aria-hidden="true">
                    <span class="icon icon-screen"></span>
                </span>
                <span class="tile-name" data-testid="tile-name">{label}</span>
            </div>
        </div>
    }
}

/// "Guest" for a person who gave no name.
fn display_name(name: &str) -> String {
    if name.trim().is_empty() {
        "Guest".to_owned()
    } else {
        name.to_owned()
    }
}

#[component]
fn TileFooter(name: Signal<String>, mic_on: Signal<bool>) -> impl IntoView {
    view! {
        <div class="tile-footer">
            <Show when=move || !mic_on.get()>
                <span class="tile-badge" data-testid="mic-off" title="Microphone off" aria-label="Microphone off">
                    <span class="icon icon-mic-off" aria-hidden="true"></span>
                </span>
            </Show>
            <span class="tile-name" data-testid="tile-name">{name}</span>
        </div>
    }
}

#[component]
fn StatsOverlay(stats: Signal<TileStats>) -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let fmt = |v: Option<f64>, unit: &str| v.map_or("–".to_owned(), |v| format!("{v:.0} {unit}"));
    view! {
        <dl class="stats-overlay" data-testid="stats-overlay">
            <dt>"RTT"</dt><dd>{move || fmt(stats.get().rtt_ms, "ms")}</dd>
            <dt>"Video"</dt><dd>{move || fmt(stats.get().video_kbps, "kbit/s")}</dd>
            <dt>"Size"</dt>
            <dd>{move || stats.get().resolution.map_or("–".to_owned(), |(w, h)| format!("{w}×{h}"))}</dd>
            <dt>"Loss"</dt>
            <dd>{move || stats.get().loss_percent.map_or("–".to_owned(), |l| format!("{l:.1} %"))}</dd>
            <dt>"ICE"</dt><dd>{move || stats.get().ice_state}</dd>
            <dt>"First frame"</dt>
            <dd data-testid="first-frame">{move || fmt(ui.first_frame_ms.get(), "ms")}</dd>
        </dl>
    }
}
