//! HTTP refusals: one body shape ([`protocol::Refusal`]) for every route that says no.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use protocol::{ErrorCode, Refusal};

/// An HTTP refusal: `status` with the JSON body `{"error":{"code":…,"message":…}}`.
pub fn refuse(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Refusal::new(code, message).to_json(),
    )
        .into_response()
}
