//! Operational HTTP routes and the signaling endpoint: `/health`, `/ready`, `/api/stats`,
//! `/metrics`, `/ws/{room}/{peer}`.

use std::time::{Duration, SystemTime};

use axum::{
    extract::State,
    http::{header, StatusCode},
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
        .route("/ready", get(ready))
        .route("/api/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/ws/{room}/{peer}", get(upgrade::ws_handler))
        .route("/ws", any(upgrade::bad_path))
        .route("/ws/", any(upgrade::bad_path))
        .route("/ws/{room}", any(upgrade::bad_path))
        .route("/ws/{room}/", any(upgrade::bad_path))
        .route("/ws/{room}/{peer}/{*rest}", any(upgrade::bad_path))
}

/// Liveness for supervisors and people: 200 `{"status":"ok","time":…,"loops":{…}}` while the
/// process's own loops beat (see [`crate::liveness`]), 503 with `"status":"stuck"` when one
/// stopped. Restart the process on 503; draining is not a failure and stays 200.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    let (healthy, loops) = state.liveness.report();
    let (status, word) = if healthy {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "stuck")
    };
    (
        status,
        Json(json!({"status": word, "time": time, "loops": loops})),
    )
}

/// Readiness for load balancers: 200 `{"status":"ready"}`; 503 `{"status":"draining"}` from
/// SIGTERM on, so a balancer sends new joins elsewhere while this process closes its sockets,
/// and 503 `{"status":"unavailable"}` while a node cannot reach the rooms it shares (Redis).
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let word = if state.shutdown.is_cancelled() {
        "draining"
    } else if !state.signaling.engine.ready(Duration::ZERO).await {
        "unavailable"
    } else {
        return (StatusCode::OK, Json(json!({"status": "ready"})));
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": word})),
    )
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
