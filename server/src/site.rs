//! The Leptos site: server-rendered pages, the built wasm/JS/CSS and public files, compressed.

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    response::Response,
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, set_header::SetResponseHeaderLayer};

use crate::embedded;
use crate::state::AppState;

/// Pages and files. Responses are compressed (brotli or gzip, as the browser accepts) and the
/// browser revalidates files on each load (`no-cache` still caches; the server answers 304 when
/// nothing changed), so a rebuilt site is never served stale.
///
/// Files come from the site embedded in the executable when it carries one (a release
/// bundle), else from the site root on disk.
pub fn router(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    let pages =
        Router::<AppState>::new().leptos_routes(state, routes, move || app::shell(options.clone()));
    let pages = match &state.embedded {
        Some(site) => {
            let site = site.clone();
            let options = state.leptos_options.clone();
            let not_found = leptos_axum::render_app_to_stream(move || app::shell(options.clone()));
            pages.fallback(move |request: Request| {
                let site = site.clone();
                let not_found = not_found.clone();
                async move { embedded_file(&site, not_found, request).await }
            })
        }
        None => pages.fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        )),
    };
    pages
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(CompressionLayer::new())
}

/// A file of the embedded site, or the app's "not found" page.
async fn embedded_file<F, Fut>(site: &embedded::Site, not_found: F, request: Request) -> Response
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let found = site.respond(request.method(), request.uri().path(), request.headers());
    match found {
        Some(response) => response,
        None => not_found(request).await,
    }
}
