//! The recording API's typed refusals, as HTTP responses.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use protocol::{RecordingError, RecordingErrorBody, RecordingErrorDetail};

/// A refusal: its code (which fixes the status) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecError {
    /// Machine-readable.
    pub code: RecordingError,
    /// For people.
    pub message: String,
}

impl RecError {
    /// A refusal with `code`.
    pub fn new(code: RecordingError, message: impl Into<String>) -> Self {
        RecError {
            code,
            message: message.into(),
        }
    }

    /// Unknown recording, or one of another room (the same answer, so ids cannot be probed).
    pub fn no_such_recording() -> Self {
        Self::new(
            RecordingError::NoSuchRecording,
            "no such recording in this room",
        )
    }

    /// 507: retry later.
    pub fn storage_full(why: &str) -> Self {
        Self::new(
            RecordingError::InsufficientStorage,
            format!("{why}: keep the chunk and retry later"),
        )
    }

    /// 500: details are in the server log only.
    pub fn internal() -> Self {
        Self::new(
            RecordingError::Internal,
            "the server could not store or read the recording",
        )
    }
}

impl IntoResponse for RecError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = RecordingErrorBody {
            error: RecordingErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (status, Json(body)).into_response()
    }
}
