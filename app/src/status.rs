//! Setting the HTTP status of a server-rendered page (404, 400) from inside a component.

/// Sets the status of the response being rendered. In the browser there is no response, so this
/// does nothing.
#[cfg_attr(not(feature = "ssr"), allow(unused_variables))]
pub fn set_http_status(code: u16) {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        if let (Some(response), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(code),
        ) {
            response.set_status(status);
        }
    }
}
