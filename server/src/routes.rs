//! Operational HTTP routes: `/health`.

use std::time::SystemTime;

use axum::{routing::get, Json, Router};
use serde_json::{json, Value};

use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// Liveness for load balancers and people: `{"status":"ok","time":"<RFC 3339>"}`.
async fn health() -> Json<Value> {
    let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    Json(json!({"status": "ok", "time": time}))
}
