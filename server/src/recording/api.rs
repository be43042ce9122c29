//! The recording HTTP API (PROTOCOL.md, "Recording"):
//!
//! - `POST   /api/rooms/{room}/recordings` start (announced to the room before the answer)
//! - `GET    /api/rooms/{room}/recordings` list, newest first
//! - `PUT    /api/rooms/{room}/recordings/{id}/chunks/{seq}` store a chunk (upload token)
//! - `POST   /api/rooms/{room}/recordings/{id}/stop` stop and finalize (upload token)
//! - `GET    /api/rooms/{room}/recordings/{id}/file` the finalized file (Range)
//! - `DELETE /api/rooms/{room}/recordings/{id}` delete (owner token)

use axum::{
    body::Bytes,
    extract::{
        rejection::BytesRejection, rejection::JsonRejection, DefaultBodyLimit, Path, Request, State,
    },
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use protocol::{RecordingError, RecordingId, RoomId, StartRecording};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::error::RecError;
use crate::state::AppState;

/// The routes; chunk bodies are limited to the configured size.
pub fn router(state: &AppState) -> Router<AppState> {
    let chunk_limit = state.recordings.settings().chunk_max_bytes;
    Router::new()
        .route("/api/rooms/{room}/recordings", post(start).get(list))
        .route(
            "/api/rooms/{room}/recordings/{id}/chunks/{seq}",
            put(chunk).layer(DefaultBodyLimit::max(chunk_limit)),
        )
        .route("/api/rooms/{room}/recordings/{id}/stop", post(stop))
        .route("/api/rooms/{room}/recordings/{id}/file", get(file))
        .route(
            "/api/rooms/{room}/recordings/{id}",
            axum::routing::delete(delete),
        )
}

fn room_id(raw: &str) -> Result<RoomId, RecError> {
    RoomId::parse(raw).map_err(|e| RecError::new(RecordingError::BadRequest, format!("room {e}")))
}

fn ids(room: &str, id: &str) -> Result<(RoomId, RecordingId), RecError> {
    let room = room_id(room)?;
    // A well-formed id can still be unknown; a malformed one cannot exist at all.
    let id = RecordingId::parse(id).map_err(|_| RecError::no_such_recording())?;
    Ok((room, id))
}

/// The bearer token of `Authorization`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn start(
    State(state): State<AppState>,
    Path(room): Path<String>,
    body: Result<Json<StartRecording>, JsonRejection>,
) -> Result<Response, RecError> {
    let room = room_id(&room)?;
    let Json(body) = body.map_err(|e| RecError::new(RecordingError::BadRequest, e.body_text()))?;
    let started = state.recordings.start(room, body.peer).await?;
    Ok((StatusCode::CREATED, Json(started)).into_response())
}

async fn list(
    State(state): State<AppState>,
    Path(room): Path<String>,
) -> Result<Response, RecError> {
    let room = room_id(&room)?;
    Ok(Json(state.recordings.list(&room)).into_response())
}

async fn chunk(
    State(state): State<AppState>,
    Path((room, id, seq)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, RecError> {
    let (room, id) = ids(&room, &id)?;
    let seq: u64 = seq
        .parse()
        .map_err(|_| RecError::new(RecordingError::BadRequest, "seq must be a whole number"))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            RecError::new(
                RecordingError::ChunkTooLarge,
                format!(
                    "a chunk may be at most {} bytes",
                    state.recordings.settings().chunk_max_bytes
                ),
            )
        } else {
            RecError::new(RecordingError::BadRequest, e.body_text())
        }
    })?;
    let (ack, new) = state
        .recordings
        .put_chunk(&room, &id, bearer(&headers), seq, body)
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ack)).into_response())
}

async fn stop(
    State(state): State<AppState>,
    Path((room, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, RecError> {
    let (room, id) = ids(&room, &id)?;
    let info = state.recordings.stop(&room, &id, bearer(&headers)).await?;
    Ok(Json(info).into_response())
}

async fn file(
    State(state): State<AppState>,
    Path((room, id)): Path<(String, String)>,
    request: Request,
) -> Result<Response, RecError> {
    let (room, id) = ids(&room, &id)?;
    let path = state.recordings.file(&room, &id)?;
    // ServeFile answers Range requests with 206 and conditional requests with 304.
    let served = ServeFile::new_with_mime(path, &mime_webm())
        .oneshot(request)
        .await
        .map_err(|_| RecError::internal())?;
    let mut response = served.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A late chunk can re-finalize the file: revalidate instead of trusting a cached copy.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"recording-{id}.webm\""))
            .unwrap_or_else(|_| HeaderValue::from_static("inline")),
    );
    Ok(response)
}

fn mime_webm() -> mime::Mime {
    "video/webm"
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM)
}

async fn delete(
    State(state): State<AppState>,
    Path((room, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, RecError> {
    let (room, id) = ids(&room, &id)?;
    state
        .recordings
        .delete(&room, &id, bearer(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
