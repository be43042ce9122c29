//! The hydrate entry: the generated JS calls [`hydrate`] once the wasm has loaded.
#![cfg(target_arch = "wasm32")]
// Leptos views are deeply nested types; release builds need more room to lay them out.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Makes the server-rendered page interactive, then marks `<body data-hydrated>` so that tests
/// (and curious people) can tell the wasm is live. Hydration is asynchronous because pages other
/// than the room's are loaded lazily (their own wasm chunks).
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
