//! The chat panel: messages with name and time, always shown as text.

use leptos::prelude::*;

use crate::actions;
use crate::state::CallUi;

/// Longest message the input takes (the protocol's limit).
const MAX_CHARS: usize = protocol::limits::MAX_CHAT_CHARS;

/// Chat history and an input. Text is rendered as text nodes, so `<script>` stays words.
#[component]
pub fn ChatPanel() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let draft = RwSignal::new(String::new());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            actions::send_chat(ui, &text);
            draft.set(String::new());
        }
    };
    view! {
        <aside class="chat-panel" aria-label="Chat" data-testid="chat-panel">
            <header class="chat-header">
                <h2>"Chat"</h2>
                <button
                    type="button"
                    class="icon-button"
                    aria-label="Close chat"
                    on:click=move |_| ui.chat_open.set(false)
                >
                    <span class="icon icon-close" aria-hidden="true"></span>
                </button>
            </header>
            <ol class="chat-messages" aria-live="polite" data-testid="chat-messages">
                <Show when=move || ui.chat.with(|c| c.is_empty())>
                    <li class="chat-empty muted">"Messages are seen by everyone in the call."</li>
                </Show>
                <For
                    each=move || ui.chat.get()
                    key=|line| line.id
                    children=move |line| {
                        view! {
                            <li class="chat-line" class:mine=line.mine data-testid="chat-line">
                                <div class="chat-meta">
                                    <span class="chat-name" data-testid="chat-name">
                                        {if line.name.is_empty() { "Guest".to_owned() } else { line.name.clone() }}
                                    </span>
                                    <time class="muted">{actions::clock_time(line.ts)}</time>
                                </div>
                                <p class="chat-text" data-testid="chat-text">{line.text.clone()}</p>
                            </li>
                        }
                    }
                />
            </ol>
            <form class="chat-form" on:submit=send>
                <label class="visually-hidden" for="chat-input">"Message"</label>
                <input
                    id="chat-input"
                    type="text"
                    data-testid="chat-input"
                    placeholder="Message everyone"
                    autocomplete="off"
                    maxlength=MAX_CHARS.to_string()
                    prop:value=draft
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <button type="submit" class="button primary" data-testid="chat-send" aria-label="Send message">
                    "Send"
                </button>
            </form>
        </aside>
    }
}
