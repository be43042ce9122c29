//! The page for routes that do not exist.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::status::set_http_status;

/// Answers 404 with a way back home.
#[component]
pub fn NotFound() -> impl IntoView {
    set_http_status(404);
    view! {
        <Title text="Page not found"/>
        <main class="page page-message">
            <div class="card message-card">
                <p class="eyebrow">"404"</p>
                <h1>"This page does not exist"</h1>
                <p class="muted">"Check the link, or start a new meeting."</p>
                <a class="button primary" href="/">"Go to the home page"</a>
            </div>
        </main>
    }
}
