//! The home page: start a new meeting, or join one by name.

use leptos::prelude::*;
use leptos_meta::Title;
use protocol::RoomId;

/// Two ways in. "New meeting" posts to the server, which picks an unguessable room id and
/// redirects; "Join" goes to `/room/<name>`. Both work before the wasm loads (plain forms);
/// once hydrated, the join field checks the name as you type.
#[component]
pub fn HomePage() -> impl IntoView {
    let room_name = RwSignal::new(String::new());
    let problem = Memo::new(move |_| {
        let name = room_name.get();
        let name = name.trim();
        if name.is_empty() {
            None
        } else {
            RoomId::parse(name)
                .err()
                .map(|e| format!("A room name {e}."))
        }
    });
    let join_disabled = move || room_name.with(|n| n.trim().is_empty()) || problem.get().is_some();

    view! {
        <Title text=""/>
        <main class="page home">
            <section class="hero">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span class="brand-name">"record-meet"</span>
                </div>
                <h1>"Video meetings that just open."</h1>
                <p class="lead">
                    "Start a meeting, send the link, talk. Peer to peer in your browser, "
                    "through one small server you run yourself. No account, no install."
                </p>
                <div class="home-actions">
                    <form method="post" action="/new" class="new-form">
                        <button type="submit" class="button primary large" data-testid="new-meeting">
                            <span class="icon icon-video" aria-hidden="true"></span>
                            "New meeting"
                        </button>
                    </form>
                    <form
                        method="get"
                        action="/join"
                        class="join-form"
                        on:submit=move |ev| {
                            ev.prevent_default();
                            if !join_disabled() {
                                let name = room_name.get_untracked();
                                let navigate = leptos_router::hooks::use_navigate();
                                navigate(&format!("/room/{}", name.trim()), Default::default());
                            }
                        }
                    >
                        <label class="visually-hidden" for="room-name">"Room name"</label>
                        <input
                            id="room-name"
                            name="room"
                            type="text"
                            placeholder="Enter a room name"
                            autocomplete="off"
                            spellcheck="false"
                            maxlength="64"
                            aria-describedby="room-name-problem"
                            aria-invalid=move || problem.get().is_some().to_string()
                            prop:value=room_name
                            on:input=move |ev| room_name.set(event_target_value(&ev))
                        />
                        <button type="submit" class="button" disabled=join_disabled>"Join"</button>
                    </form>
                </div>
                <p id="room-name-problem" class="field-problem" role="alert">
                    {move || problem.get()}
                </p>
            </section>
            <section class="features" aria-label="Why record-meet">
                <div class="feature">
                    <h2>"Peer to peer"</h2>
                    <p>"Audio and video go straight between browsers; the server only introduces them."</p>
                </div>
                <div class="feature">
                    <h2>"Yours to run"</h2>
                    <p>"One small Rust binary. No external services, no tracking, no fonts from elsewhere."</p>
                </div>
                <div class="feature">
                    <h2>"Open a link"</h2>
                    <p>"Anyone with the room link can join from a modern browser."</p>
                </div>
            </section>
        </main>
    }
}
