//! The browser side of the recordings page: list and delete through the recording API, and the
//! owner tokens the recorder keeps in `localStorage`. Hydrate-only; on the server each call does
//! nothing (the list is loaded in the browser).

#![cfg_attr(not(feature = "hydrate"), allow(unused_variables))]

use protocol::{RecordingId, RecordingInfo, RoomId};

/// `localStorage` key under which the recorder keeps a recording's owner token: whoever holds
/// it may delete the recording.
pub fn owner_token_key(id: &RecordingId) -> String {
    format!("record-meet:recording-owner:{id}")
}

/// The owner token this browser holds for `id`, if any.
pub fn owner_token(id: &RecordingId) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let storage = web_sys::window()?.local_storage().ok()??;
        storage.get_item(&owner_token_key(id)).ok()?
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Loads the room's recordings and hands the result to `done`.
pub fn list(room: RoomId, done: impl FnOnce(Result<Vec<RecordingInfo>, String>) + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let url = format!("/api/rooms/{room}/recordings");
        let result = browser::request("GET", &url, None)
            .await
            .and_then(|(status, text)| match status {
                200 => serde_json::from_str(&text).map_err(|e| e.to_string()),
                _ => Err(browser::error_message(status, &text)),
            });
        done(result);
    });
}

/// Deletes `id` with this browser's owner token; `done` gets `Ok` or why not.
pub fn delete(room: RoomId, id: RecordingId, done: impl FnOnce(Result<(), String>) + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let Some(token) = owner_token(&id) else {
            done(Err(
                "this browser does not hold the recording's owner token".into(),
            ));
            return;
        };
        let url = format!("/api/rooms/{room}/recordings/{id}");
        let result = browser::request("DELETE", &url, Some(&token))
            .await
            .and_then(|(status, text)| match status {
                204 => Ok(()),
                _ => Err(browser::error_message(status, &text)),
            });
        if result.is_ok() {
            if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
                let _ = storage.remove_item(&owner_token_key(&id));
            }
        }
        done(result);
    });
}

/// Asks the person to confirm; true on the server (never called there).
pub fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    true
}

/// A local date and time for ms since the epoch, in the browser's locale.
pub fn local_time(ms: u64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
        let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
        String::from(date.to_locale_string("default", &options))
    }
    #[cfg(not(feature = "hydrate"))]
    format!("{ms}")
}

/// Requests to the recording API, shared with the in-call recorder.
#[cfg(feature = "hydrate")]
pub(crate) mod browser {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    /// One request; answers the status and the body text.
    pub async fn request(
        method: &str,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<(u16, String), String> {
        request_with_body(method, url, bearer, None).await
    }

    /// One request with a body (JSON text, or bytes as a `Uint8Array`).
    pub async fn request_with_body(
        method: &str,
        url: &str,
        bearer: Option<&str>,
        body: Option<(&wasm_bindgen::JsValue, &str)>,
    ) -> Result<(u16, String), String> {
        let window = web_sys::window().ok_or("no window")?;
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(|_| "no Headers")?;
        if let Some(token) = bearer {
            headers
                .set("authorization", &format!("Bearer {token}"))
                .map_err(|_| "bad token")?;
        }
        if let Some((body, content_type)) = body {
            headers
                .set("content-type", content_type)
                .map_err(|_| "bad content type")?;
            init.set_body(body);
        }
        init.set_headers(&headers);
        let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|_| "the server could not be reached".to_owned())?;
        let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response")?;
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        Ok((response.status(), text))
    }

    /// The message of a JSON error body, or the status.
    pub fn error_message(status: u16, text: &str) -> String {
        serde_json::from_str::<protocol::RecordingErrorBody>(text)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| format!("the server answered {status}"))
    }
}
