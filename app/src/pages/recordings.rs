//! The recordings page: `/room/{id}/recordings`, every recording of the room with a player,
//! its length, size and state, a download link, and delete for the browser that recorded it.
//!
//! The list is loaded in the browser from `GET /api/rooms/{room}/recordings`: anyone with the
//! room link may list and play (the unguessable room id is the capability).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use protocol::{RecordingInfo, RecordingState, RoomId};

use crate::recordings_client as client;
use crate::status::set_http_status;

/// The page for a valid room id; a 400 page otherwise.
#[component]
pub fn RecordingsPage() -> impl IntoView {
    let params = use_params_map();
    let raw = params.with_untracked(|p| p.get("id").unwrap_or_default());
    match RoomId::parse(&raw) {
        Ok(room) => view! { <Recordings room/> }.into_any(),
        Err(e) => {
            set_http_status(400);
            view! {
                <Title text="Invalid room link"/>
                <main class="page page-message">
                    <div class="card message-card">
                        <p class="eyebrow">"400"</p>
                        <h1>"That room link is not valid"</h1>
                        <p class="muted">"A room name " {e.to_string()} "."</p>
                        <a class="button primary" href="/">"Start a new meeting"</a>
                    </div>
                </main>
            }
            .into_any()
        }
    }
}

/// `None` while loading.
type Listing = Option<Result<Vec<RecordingInfo>, String>>;

#[component]
fn Recordings(room: RoomId) -> impl IntoView {
    let listing = RwSignal::new(None::<Result<Vec<RecordingInfo>, String>>);
    let load = {
        let room = room.clone();
        move || client::list(room.clone(), move |result| listing.set(Some(result)))
    };
    // Effects run only in the browser: the server renders the loading state.
    Effect::new({
        let load = load.clone();
        move |_| load()
    });
    let back = format!("/room/{room}");
    let list_room = room.clone();
    view! {
        <Title text=format!("Recordings · Room {room}")/>
        <main class="page recordings-page" data-room=room.to_string()>
            <header class="room-bar">
                <a class="brand small" href="/" aria-label="record-meet home">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span class="brand-name">"record-meet"</span>
                </a>
                <div class="room-title">
                    <h1 class="page-title">"Recordings"</h1>
                    <span class="room-id muted">{room.to_string()}</span>
                </div>
                <a class="button" href=back data-testid="back-to-room">"Back to the room"</a>
            </header>
            <section class="recordings" aria-live="polite" data-testid="recordings">
                {move || listing_view(listing.get(), &list_room, load.clone())}
            </section>
        </main>
    }
}

fn listing_view(
    listing: Listing,
    room: &RoomId,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> AnyView {
    match listing {
        None => view! { <p class="recordings-note muted" data-testid="recordings-loading">"Loading recordings…"</p> }.into_any(),
        Some(Err(why)) => view! {
            <p class="alert" role="alert">"Could not load the recordings: " {why}</p>
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <div class="card recordings-empty" data-testid="recordings-empty">
                <h2>"No recordings yet"</h2>
                <p class="muted">"Recordings of this room appear here as soon as they start."</p>
            </div>
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <ul class="recording-list">
                {list
                    .into_iter()
                    .map(|info| view! { <RecordingCard info room=room.clone() reload=reload.clone()/> })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    }
}

/// One recording: player (once finalized), facts, download and delete.
#[component]
fn RecordingCard(
    info: RecordingInfo,
    room: RoomId,
    reload: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let (state_class, state_label) = match info.state {
        RecordingState::Recording => ("recording", "Recording"),
        RecordingState::Complete => ("complete", "Complete"),
        RecordingState::Interrupted => ("interrupted", "Interrupted"),
    };
    let playable = info.state != RecordingState::Recording && info.bytes > 0;
    let owner = client::owner_token(&info.id).is_some();
    let problem = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(false);
    let title = client::local_time(info.started_at);
    let facts = format!("{} · {}", duration(info.duration_ms), size(info.bytes));
    let filename = format!("recording-{}.webm", info.id);
    let id = info.id.clone();
    let on_delete = move |_| {
        if !client::confirm("Delete this recording for everyone? This cannot be undone.") {
            return;
        }
        deleting.set(true);
        let reload = reload.clone();
        client::delete(room.clone(), id.clone(), move |result| {
            deleting.set(false);
            match result {
                Ok(()) => reload(),
                Err(why) => problem.set(Some(why)),
            }
        });
    };
    view! {
        <li class="card recording-card" data-testid="recording" data-id=info.id.to_string() data-state=state_class>
            {if playable {
                view! {
                    <video class="recording-video" controls=true preload="metadata" src=info.url.clone()
                        aria-label=format!("Recording of {title}")></video>
                }
                .into_any()
            } else {
                view! {
                    <div class="recording-video recording-live">
                        <span class="live-dot" aria-hidden="true"></span>
                        "Recording in progress"
                    </div>
                }
                .into_any()
            }}
            <div class="recording-body">
                <div class="recording-heading">
                    <h2 class="recording-title">{title.clone()}</h2>
                    <span class=format!("state-pill state-{state_class}") data-testid="recording-state">{state_label}</span>
                </div>
                <p class="muted recording-facts" data-testid="recording-facts">{facts}</p>
                <Show when=move || problem.get().is_some()>
                    <p class="field-problem" role="alert">{move || problem.get().unwrap_or_default()}</p>
                </Show>
                <div class="recording-actions">
                    <Show when=move || playable>
                        <a class="button" href=info.url.clone() download=filename.clone() data-testid="download">"Download"</a>
                    </Show>
                    <Show when=move || owner>
                        <button class="button danger" data-testid="delete" disabled=move || deleting.get()
                            on:click=on_delete.clone()>
                            {move || if deleting.get() { "Deleting…" } else { "Delete" }}
                        </button>
                    </Show>
                </div>
            </div>
        </li>
    }
}

/// `1:02:03` or `4:05`.
fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `812 KB`, `12.3 MB`, `1.20 GB`.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1e6 {
        format!("{:.0} KB", (b / 1e3).max(1.0))
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(duration(6_000), "0:06");
        assert_eq!(duration(3_723_000), "1:02:03");
        assert_eq!(size(93_680), "94 KB");
        assert_eq!(size(12_300_000), "12.3 MB");
    }
}
