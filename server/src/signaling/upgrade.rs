//! `GET /ws/{room}/{peer}`: every refusal happens here, as an HTTP error with a JSON body, before
//! the protocol switch — a client learns why it cannot join without parsing frames.

use std::sync::Arc;

use axum::{
    extract::{
        rejection::{PathRejection, QueryRejection},
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        Path, Query, State,
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use protocol::{limits::MAX_NAME_CHARS, ErrorCode, PeerId, RoomId};
use serde::Deserialize;

use super::connection::{self, Join};
use super::{origin, Signaling};

/// Read buffer of an upgraded socket. tungstenite's default (128 KiB) would dominate the memory
/// of an idle connection; frames larger than this are read in several steps.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Bytes tungstenite collects before writing to the socket; the writer flushes after each
/// batch anyway, so this only merges the frames of one batch into fewer syscalls.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The optional query of the upgrade.
#[derive(Debug, Deserialize)]
pub struct JoinQuery {
    /// Display name.
    name: Option<String>,
    /// Resume token from an earlier `welcome`.
    resume: Option<String>,
}

use crate::refusal::refuse;

/// Checks everything that can be checked before the upgrade, then hands the socket to
/// [`connection::serve`].
pub async fn ws_handler(
    State(sig): State<Arc<Signaling>>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<JoinQuery>, QueryRejection>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let metrics = sig.hub.metrics();
    let refused = |status, code, message: String| {
        metrics.error(code);
        refuse(status, code, message)
    };
    let Ok(Path((room, peer))) = path else {
        return refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidId,
            "the URL must be /ws/{room}/{peer}".into(),
        );
    };
    let room = match RoomId::parse(&room) {
        Ok(room) => room,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidId,
                format!("room id {e}"),
            )
        }
    };
    let peer = match PeerId::parse(&peer) {
        Ok(peer) => peer,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidId,
                format!("peer id {e}"),
            )
        }
    };
    let Ok(Query(query)) = query else {
        return refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "bad query string".into(),
        );
    };
    let name = query.name.as_deref().unwrap_or("").trim().to_owned();
    if name.chars().count() > MAX_NAME_CHARS {
        return refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("name must be at most {MAX_NAME_CHARS} characters"),
        );
    }
    if !origin::allowed(&headers, &sig.settings.allowed_origins) {
        tracing::info!(%room, %peer, origin = ?headers.get("origin"), "origin refused");
        return refused(
            StatusCode::FORBIDDEN,
            ErrorCode::ForbiddenOrigin,
            "this Origin may not open signaling sockets".into(),
        );
    }
    let Ok(permit) = sig.connections.clone().try_acquire_owned() else {
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerFull,
            "the server is at its connection limit".into(),
        );
    };
    let resume = query.resume.filter(|t| !t.is_empty());
    if let Err(refusal) = sig.hub.check(&room, &peer, resume.as_deref()) {
        return refused(
            StatusCode::CONFLICT,
            refusal.code(),
            refusal.message().into(),
        );
    }
    // Checked after the room, so that a plain GET of a join URL tells a browser (whose failed
    // WebSocket reveals nothing) why it was refused.
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let max = sig.settings.max_frame_bytes;
    let join = Join {
        room,
        peer,
        name,
        resume,
    };
    let tracker = sig.tracker.clone();
    ws.max_frame_size(max)
        .max_message_size(max)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        // A frame of ours is at most an envelope around a client's frame; twice that plus the
        // batch buffer bounds what one stalled socket can hold in user space.
        .max_write_buffer_size(WRITE_BUFFER_BYTES + 2 * max + 4096)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "upgrade failed"))
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                connection::serve(socket, join, sig).await;
                drop(permit);
            })
        })
}

/// Any other `/ws/…` path (a missing or extra segment): not a valid pair of ids.
pub async fn bad_path() -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidId,
        "the URL must be /ws/{room}/{peer} with ids of 1-64 characters of A-Z a-z 0-9 _ -",
    )
}
