//! The Leptos site: server-rendered pages, the built wasm/JS/CSS and public files, compressed.

use axum::{
    http::{header, HeaderValue},
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, set_header::SetResponseHeaderLayer};

use crate::state::AppState;

/// Pages and files. Responses are compressed (brotli or gzip, as the browser accepts) and the
/// browser revalidates files on each load (`no-cache` still caches; the server answers 304 when
/// nothing changed), so a rebuilt site is never served stale.
pub fn router(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    Router::<AppState>::new()
        .leptos_routes(state, routes, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(CompressionLayer::new())
}
