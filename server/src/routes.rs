//! Operational HTTP routes and the signaling endpoint: `/health`, `/api/stats`, `/metrics`,
//! `/ws/{room}/{peer}`.

use std::time::SystemTime;

use axum::{
    extract::State,
    http::header,
    response::IntoResponse,
    routing::{any, get},
    Json, Router,
};
use serde_json::{json, Value};

use crate::signaling::engine::{Counts, Engine};
use crate::signaling::upgrade;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/api/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/ws/{room}/{peer}", get(upgrade::ws_handler))
        .route("/ws", any(upgrade::bad_path))
        .route("/ws/", any(upgrade::bad_path))
        .route("/ws/{room}", any(upgrade::bad_path))
        .route("/ws/{room}/", any(upgrade::bad_path))
        .route("/ws/{room}/{peer}/{*rest}", any(upgrade::bad_path))
}

/// Liveness for load balancers and people: `{"status":"ok","time":"<RFC 3339>"}`.
async fn health() -> Json<Value> {
    let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    Json(json!({"status": "ok", "time": time}))
}

/// `{"rooms":N,"peers":M}`: counts only, so room names never leak.
async fn stats(State(state): State<AppState>) -> Json<Value> {
    let Counts { rooms, peers } = state.signaling.engine.counts().await;
    Json(json!({"rooms": rooms, "peers": peers}))
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let Counts { rooms, peers } = state.signaling.engine.counts().await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(rooms, peers),
    )
}
