//! Small typed helpers over browser APIs that web-sys does not bind the way we need: the one
//! place that reads and writes raw JS properties and calls methods by name.

use js_sys::{Function, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds since the page started, for measuring.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// `JSON.stringify(value)`; uses the value's `toJSON` (RTCSessionDescription, RTCIceCandidate).
pub fn to_json(value: &JsValue) -> Option<String> {
    JSON::stringify(value).ok().and_then(|s| s.as_string())
}

/// Sets a property web-sys has no setter for (`contentHint`, `maxFramerate`); a frozen or
/// foreign object refusing it only loses a hint.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// Whether `target` has `key` (feature detection, e.g. `getDisplayMedia`).
pub fn has(target: &JsValue, key: &str) -> bool {
    Reflect::has(target, &JsValue::from_str(key)).unwrap_or(false)
}

/// Reads a property; `undefined` when it is missing.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Reads a numeric property.
pub fn get_f64(target: &JsValue, key: &str) -> Option<f64> {
    get(target, key).as_f64()
}

/// Reads a string property.
pub fn get_string(target: &JsValue, key: &str) -> Option<String> {
    get(target, key).as_string()
}

/// Calls `target.method()` and awaits the promise it returns.
///
/// # Errors
/// The exception or rejection, as thrown.
pub async fn call_async0(target: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    let function: Function = get(target, method).dyn_into()?;
    let promise: Promise = function.call0(target)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// Calls `target.method()` for its effect.
///
/// # Errors
/// The exception, as thrown.
pub fn call0(target: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    let function: Function = get(target, method).dyn_into()?;
    function.call0(target)
}

/// A readable message for a JS error value.
pub fn describe(error: &JsValue) -> String {
    if let Some(name) = get_string(error, "name") {
        let message = get_string(error, "message").unwrap_or_default();
        format!("{name}: {message}")
    } else {
        error.as_string().unwrap_or_else(|| format!("{error:?}"))
    }
}

/// The page's `localStorage` or `sessionStorage`.
fn storage(session: bool) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    if session {
        window.session_storage().ok().flatten()
    } else {
        window.local_storage().ok().flatten()
    }
}

/// Reads a stored string.
pub fn load(session: bool, key: &str) -> Option<String> {
    storage(session)?.get_item(key).ok().flatten()
}

/// Stores a string (silently ignored where storage is unavailable, e.g. private modes).
pub fn save(session: bool, key: &str, value: &str) {
    if let Some(storage) = storage(session) {
        let _ = storage.set_item(key, value);
    }
}

/// Removes a stored string.
pub fn forget(session: bool, key: &str) {
    if let Some(storage) = storage(session) {
        let _ = storage.remove_item(key);
    }
}
