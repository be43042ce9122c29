//! A plain HTTP GET of a join URL (no WebSocket upgrade) learns why a join would be refused.
//!
//! A browser's failed WebSocket reveals neither status nor body, so the client explains a
//! refused join by fetching the same URL: the room check runs before the upgrade extractor, so
//! a full room answers 409 `room-full` even without upgrade headers, and a free room still
//! answers with a rejection (no socket, no 2xx) rather than pretending to join.

#[path = "signaling_support.rs"]
mod support;

use serde_json::Value;
use support::*;

/// `GET /ws/{room}/{peer}` over plain HTTP/1.1: status and body as JSON (`Null` if not JSON).
async fn plain_get(server: &TestServer, room: &str, peer: &str) -> (u16, Value) {
    let response = reqwest::get(format!("http://{}/ws/{room}/{peer}", server.addr))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_plain_get_is_answered_409_room_full_for_a_full_room_and_rejected_for_a_free_one() {
    let server = TestServer::start(|c| c.room_capacity = 2).await;
    let (_a, _) = server.join("r", "a").await;
    let (_b, _) = server.join("r", "b").await;

    let (status, body) = plain_get(&server, "r", "c").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "room-full", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");

    let (status, body) = plain_get(&server, "free", "c").await;
    assert!(
        (400..500).contains(&status),
        "a GET without upgrade headers must be rejected, got {status}: {body}"
    );
    assert_ne!(body["error"]["code"], "room-full", "{body}");

    // Neither request joined anything: the full room still has its two peers, the free room
    // was not created, and its id can still be taken by a real WebSocket.
    server.wait_stats((1, 2)).await;
    let (_c, welcome) = server.join("free", "c").await;
    assert_eq!(welcome["data"]["you"], "c", "{welcome}");
}
