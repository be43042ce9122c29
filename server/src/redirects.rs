//! Starting and joining rooms without JavaScript: `POST /new` and `GET /join?room=…`.

use axum::{
    extract::Query,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use protocol::{ErrorCode, RoomId};
use serde::Deserialize;

use crate::{random, refusal::refuse, state::AppState};

/// Length of generated room ids: 12 characters of `A-Za-z0-9` (71 bits).
pub const ROOM_ID_LEN: usize = 12;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/new", post(new_room).get(new_room))
        .route("/join", get(join_room))
}

/// Creates an unguessable room id and sends the browser there.
async fn new_room() -> Redirect {
    Redirect::to(&format!("/room/{}", random::token(ROOM_ID_LEN)))
}

#[derive(Deserialize)]
struct JoinQuery {
    room: Option<String>,
}

/// Sends the browser to the named room, or explains why the name cannot be a room.
async fn join_room(Query(query): Query<JoinQuery>) -> Response {
    let raw = query.room.unwrap_or_default();
    match RoomId::parse(raw.trim()) {
        Ok(room) => Redirect::to(&format!("/room/{room}")).into_response(),
        Err(e) => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidId,
            format!("room {e}"),
        ),
    }
}
