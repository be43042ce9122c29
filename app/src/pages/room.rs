//! The room page: `/room/{id}`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use protocol::RoomId;

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

/// The room shell: its name, a copy-link button and the stage where the call appears.
#[component]
fn Room(room: RoomId) -> impl IntoView {
    let title = format!("Room {room}");
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
                <CopyLinkButton/>
            </header>
            <section class="stage" data-testid="stage">
                <div class="stage-placeholder">
                    <p>"Share this room's link; everyone who opens it joins the call."</p>
                </div>
            </section>
        </main>
    }
}

/// Copies the page's URL to the clipboard and says so.
#[component]
pub fn CopyLinkButton() -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(window) = web_sys::window() else {
                return;
            };
            let Ok(href) = window.location().href() else {
                return;
            };
            let promise = window.navigator().clipboard().write_text(&href);
            leptos::task::spawn_local(async move {
                // Clipboard access can be refused (insecure context, no permission): then the
                // button says so instead of pretending.
                let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                copied.set(ok);
                if !ok {
                    leptos::logging::warn!("clipboard write refused; the link is {href}");
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        copied.set(true);
    };
    view! {
        <button
            class="button"
            data-testid="copy-link"
            aria-label="Copy the room link"
            on:click=on_click
        >
            <span class="icon icon-link" aria-hidden="true"></span>
            {move || if copied.get() { "Link copied" } else { "Copy link" }}
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
