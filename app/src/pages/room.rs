//! The room page: `/room/{id}`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use protocol::{RecordingPhase, RoomId};

use crate::actions;
use crate::components::Lobby;
use crate::state::{CallUi, Phase};
use crate::status::set_http_status;

/// Shows the room for a valid id, or a clear 400 page for an invalid one.
#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let room = move || {
        let raw = params.with(|p| p.get("id").unwrap_or_default());
        RoomId::parse(&raw).map_err(|e| (raw, e))
    };
    move || match room() {
        Ok(room) => view! { <Room room/> }.into_any(),
        Err((raw, error)) => {
            set_http_status(400);
            view! { <InvalidRoom raw error=error.to_string()/> }.into_any()
        }
    }
}

/// The call view, hidden unless `shown` (see `CallLayer`). In the browser it comes from the
/// `call` wasm chunk, which the lobby fetches ahead of Join; the server never renders it (the
/// chunk is not loaded there).
fn call_layer(shown: Signal<bool>) -> AnyView {
    #[cfg(feature = "hydrate")]
    {
        let view = send_wrapper::SendWrapper::new(crate::components::lazy_call_layer(shown));
        Suspend::new(async move { view.await.ok() }).into_any()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use crate::components::CallLayer;
        view! { <CallLayer shown/> }.into_any()
    }
}

/// The room: its name and copy-link button above the stage, which shows the lobby, the call,
/// or why the call ended.
#[component]
fn Room(room: RoomId) -> impl IntoView {
    let title = format!("Room {room}");
    let ui = CallUi::new(room.as_str());
    provide_context(ui);
    // The call belongs to this page: leaving it by a link or browser back ends the call like
    // Leave; so does a reload or closing the tab (`pagehide`), which never runs the cleanup.
    on_cleanup(move || actions::end(ui, false));
    #[cfg(feature = "hydrate")]
    {
        let unload = window_event_listener_untyped("pagehide", move |_| actions::end(ui, true));
        on_cleanup(move || unload.remove());
    }
    // The stage changes only between these. The call view stays mounted in every one of them
    // (see `CallLayer`), so InCall → Reconnecting → InCall keeps the same tiles and `<video>`s.
    let screen = Memo::new(move |_| Screen::of(&ui.phase.get()));
    view! {
        <Title text=title/>
        <main class="page room" data-room=room.to_string()>
            <header class="room-bar">
                <a class="brand small" href="/" aria-label="record-meet home">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span class="brand-name">"record-meet"</span>
                </a>
                <div class="room-title">
                    <span class="muted">"Room"</span>
                    <h1 class="room-id" data-testid="room-id">{room.to_string()}</h1>
                </div>
                <Show when=move || ui.participants.with(|p| !p.is_empty())>
                    <span class="people-count muted" data-testid="people-count">
                        {move || format!("{} in call", ui.participants.with(|p| p.len()) + 1)}
                    </span>
                </Show>
                <RecordingIndicator/>
                <a class="button" href=format!("/room/{room}/recordings") data-testid="recordings-link">"Recordings"</a>
                <CopyLinkButton/>
            </header>
            <section class="stage" data-testid="stage" data-phase=move || phase_name(&ui.phase.get())>
                {move || match screen.get() {
                    Screen::Lobby => view! { <Lobby/> }.into_any(),
                    Screen::Call => ().into_any(),
                    Screen::Left => view! { <Ended title="You left the meeting" detail=String::new()/> }.into_any(),
                    Screen::Failed(why) => view! { <Ended title="Could not join" detail=why/> }.into_any(),
                }}
                // Rendered, hidden, as soon as its code has loaded (see `CallLayer`).
                <Show when=move || ui.call_loaded.get()>
                    {call_layer(Signal::derive(move || screen.get() == Screen::Call))}
                </Show>
            </section>
        </main>
    }
}

/// What the stage shows: one view per screen, whatever the call's finer phase.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Screen {
    Lobby,
    Call,
    Left,
    Failed(String),
}

impl Screen {
    fn of(phase: &Phase) -> Screen {
        match phase {
            // Joining keeps the lobby (its button says so) until a connection is up: showing the
            // call view still lays it out and paints it, on the main thread the connection needs.
            Phase::Lobby | Phase::Joining => Screen::Lobby,
            Phase::InCall | Phase::Reconnecting => Screen::Call,
            Phase::Left => Screen::Left,
            Phase::Failed(why) => Screen::Failed(why.clone()),
        }
    }
}

/// The stage's phase as a word, for tests and styling.
fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Lobby => "lobby",
        Phase::Joining => "joining",
        Phase::InCall => "in-call",
        Phase::Reconnecting => "reconnecting",
        Phase::Left => "left",
        Phase::Failed(_) => "failed",
    }
}

/// After leaving, or when joining failed: what happened and a way back in.
#[component]
fn Ended(title: &'static str, detail: String) -> impl IntoView {
    let ui = expect_context::<CallUi>();
    view! {
        <div class="card message-card ended" data-testid="ended">
            <h2>{title}</h2>
            <Show when={let empty = detail.is_empty(); move || !empty}>
                <p class="muted" role="alert" data-testid="ended-detail">{detail.clone()}</p>
            </Show>
            <div class="ended-actions">
                <button class="button primary" data-testid="rejoin" on:click=move |_| actions::back_to_lobby(ui)>
                    "Rejoin"
                </button>
                <a class="button" href="/">"Home"</a>
            </div>
            <Show when=move || matches!(ui.phase.get(), Phase::Failed(_))>
                <a
                    class="check-link"
                    data-testid="check-link"
                    href=move || format!("/check?room={}", ui.room.get_value())
                >
                    "Check your connection: camera, microphone, server and relay"
                </a>
            </Show>
        </div>
    }
}

/// "Recording" for everyone in the room while the server says it is being recorded (consent),
/// "Recording paused" while the server's storage is full.
#[component]
fn RecordingIndicator() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let paused = move || {
        ui.recording.with(|r| {
            r.as_ref()
                .is_some_and(|n| n.phase == RecordingPhase::Paused)
        })
    };
    view! {
        <Show when=move || ui.recording.with(|r| r.is_some())>
            <span class="recording-indicator" class:paused=paused role="status" data-testid="recording-indicator">
                <span class="recording-dot" aria-hidden="true"></span>
                {move || if paused() { "Recording paused" } else { "Recording" }}
            </span>
        </Show>
    }
}

/// Copies the page's URL to the clipboard and says so.
#[component]
pub fn CopyLinkButton() -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let on_click = move |_| actions::copy_link(move |ok| copied.set(Some(ok)));
    view! {
        <button
            class="button"
            data-testid="copy-link"
            aria-label="Copy the room link"
            on:click=on_click
        >
            <span class="icon icon-link" aria-hidden="true"></span>
            <span class="label">
                {move || match copied.get() {
                    None => "Copy link",
                    Some(true) => "Link copied",
                    Some(false) => "Copy failed",
                }}
            </span>
        </button>
    }
}

/// A room link that cannot be a room, with the reason.
#[component]
fn InvalidRoom(raw: String, error: String) -> impl IntoView {
    view! {
        <Title text="Invalid room link"/>
        <main class="page page-message">
            <div class="card message-card" data-testid="invalid-room">
                <p class="eyebrow">"400"</p>
                <h1>"That room link is not valid"</h1>
                <p class="muted">
                    "“" <span class="mono">{raw}</span> "” cannot be a room name: it " {error} "."
                </p>
                <a class="button primary" href="/">"Start a new meeting"</a>
            </div>
        </main>
    }
}
