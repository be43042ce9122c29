//! record-meet's web app: the page shell, the routes and their pages.
//!
//! Everything here renders on the server (`ssr`) and hydrates in the browser (`hydrate`).
//! Browser-only code lives behind `#[cfg(feature = "hydrate")]` and runs from effects and event
//! handlers only, so the server-rendered HTML always makes sense before the wasm loads.
// Release builds of the nested view types of the pages overflow the default query depth.
#![recursion_limit = "256"]

pub mod actions;
#[cfg(feature = "hydrate")]
pub mod call;
pub mod checks;
mod components;
#[cfg(feature = "hydrate")]
mod connectivity;
pub mod layout;
pub mod pages;
pub mod recordings_client;
pub mod state;
mod status;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute,
};

use pages::{CheckPage, HomePage, NotFound, RecordingsPage, RoomPage};

/// The whole HTML document: the server renders it around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark light"/>
                <meta name="description" content="Self-hosted video meetings: open a link, talk."/>
                // Plain tags of the server-rendered head: the browser needs no code for them.
                // The id is the one cargo-leptos' live reload swaps.
                <link rel="stylesheet" id="leptos" href="/pkg/record-meet.css"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app's root: the page title and the routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "record-meet".to_owned() } else { format!("{page} · record-meet") }
        }/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view={Lazy::<Home>::new()}/>
                <Route path=path!("/room/:id") view=RoomPage/>
                <Route path=path!("/room/:id/recordings") view={Lazy::<Recordings>::new()}/>
                <Route path=path!("/check") view={Lazy::<Check>::new()}/>
            </Routes>
        </Router>
    }
}

// Every page but the room's comes in a wasm chunk of its own (`cargo leptos build --split`), so the
// room page, the one people open most, loads only its own code.

/// The home page's lazily loaded route.
struct Home;

#[lazy_route]
impl LazyRoute for Home {
    fn data() -> Self {
        Home
    }

    fn view(_this: Self) -> AnyView {
        view! { <HomePage/> }.into_any()
    }
}

/// The recordings page's lazily loaded route.
struct Recordings;

#[lazy_route]
impl LazyRoute for Recordings {
    fn data() -> Self {
        Recordings
    }

    fn view(_this: Self) -> AnyView {
        view! { <RecordingsPage/> }.into_any()
    }
}

/// The connectivity check's lazily loaded route.
struct Check;

#[lazy_route]
impl LazyRoute for Check {
    fn data() -> Self {
        Check
    }

    fn view(_this: Self) -> AnyView {
        view! { <CheckPage/> }.into_any()
    }
}
