//! The connectivity check: `/check` (optionally `?room=<id>` for a way back to that room).
//!
//! A person opens it before a call, or from a failure message, and sees what works from their
//! browser and network: camera, microphone, the meeting server, STUN, and the relay per
//! transport — each with what it means and what to tell an administrator.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use protocol::RoomId;

use crate::checks::{Check, Checks, Outcome};

/// The check page; the checks start as soon as the page is live.
#[component]
pub fn CheckPage() -> impl IntoView {
    let checks = Checks::new();
    let query = use_query_map();
    let room = move || {
        query
            .with(|q| q.get("room"))
            .and_then(|r| RoomId::parse(&r).ok())
    };
    Effect::new(move |_| run(checks));
    let summary = move || {
        let all = checks.all();
        if checks.running.get() {
            return ("running", "Checking…".to_owned());
        }
        let failed = all
            .iter()
            .filter(|c| matches!(c.outcome.get(), Outcome::Failed(_)))
            .count();
        match failed {
            0 if all.iter().any(|c| c.outcome.get() == Outcome::Waiting) => {
                ("waiting", "Starting…".to_owned())
            }
            0 => (
                "passed",
                "Everything a call needs works from here.".to_owned(),
            ),
            1 => (
                "failed",
                "One check failed: see below what it means.".to_owned(),
            ),
            n => (
                "failed",
                format!("{n} checks failed: see below what they mean."),
            ),
        }
    };

    view! {
        <Title text="Connectivity check"/>
        <main class="page check-page">
            <header class="check-head">
                <a class="brand small" href="/" aria-label="record-meet home">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span class="brand-name">"record-meet"</span>
                </a>
            </header>
            <section class="card check-card">
                <h1>"Connectivity check"</h1>
                <p class="muted">
                    "Tests what a call needs from this browser and network. Nothing is recorded \
                     or sent to anyone."
                </p>
                <p class="check-summary" data-testid="check-summary" data-status=move || summary().0>
                    {move || summary().1}
                </p>
                <ul class="checks">
                    {checks.all().into_iter().map(|check| view! { <CheckRow check/> }).collect_view()}
                </ul>
                <div class="check-actions">
                    <button
                        class="button primary"
                        data-testid="check-again"
                        disabled=move || checks.running.get()
                        on:click=move |_| run(checks)
                    >
                        "Check again"
                    </button>
                    {move || match room() {
                        Some(room) => view! {
                            <a class="button" data-testid="check-back" href=format!("/room/{room}")>
                                "Back to the meeting"
                            </a>
                        }.into_any(),
                        None => view! { <a class="button" href="/">"Home"</a> }.into_any(),
                    }}
                </div>
            </section>
        </main>
    }
}

/// One check: its status, what it is for, and the explanation.
#[component]
fn CheckRow(check: Check) -> impl IntoView {
    let outcome = check.outcome;
    view! {
        <li class="check" data-testid=format!("check-{}", check.key) data-status=move || outcome.get().word()>
            <span class="check-mark" aria-hidden="true"></span>
            <div class="check-body">
                <div class="check-title">
                    <strong>{check.title}</strong>
                    <span class="check-state" data-testid="check-state">
                        {move || match outcome.get() {
                            Outcome::Waiting => "Waiting",
                            Outcome::Running => "Checking…",
                            Outcome::Passed(_) => "Works",
                            Outcome::Warning(_) => "Unclear",
                            Outcome::Failed(_) => "Failed",
                            Outcome::Skipped(_) => "Not offered",
                        }}
                    </span>
                </div>
                <p class="muted check-why">"Needed for " {check.why} "."</p>
                <Show when=move || !outcome.with(|o| o.text().is_empty())>
                    <p class="check-text" data-testid="check-text">{move || outcome.with(|o| o.text().to_owned())}</p>
                </Show>
                <Show when=move || check.admin.with(Option::is_some)>
                    <p class="check-admin" data-testid="check-admin">
                        <span class="muted">"For the administrator: "</span>
                        {move || check.admin.get().unwrap_or_default()}
                    </p>
                </Show>
            </div>
        </li>
    }
}

fn run(checks: Checks) {
    #[cfg(feature = "hydrate")]
    crate::connectivity::run(checks);
    #[cfg(not(feature = "hydrate"))]
    let _ = checks;
}
