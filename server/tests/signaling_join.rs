//! Joining and leaving: refusals before the upgrade, capacity, resume, clean and unclean ends.

#[path = "signaling_support.rs"]
mod support;

use std::time::Duration;

use support::*;

#[tokio::test]
async fn invalid_ids_are_refused_with_400_before_the_upgrade() {
    let server = TestServer::start(|_| {}).await;
    let long = "x".repeat(65);
    for (room, peer) in [
        ("a%20b", "p"),
        ("r", "p.q"),
        ("r", "%3Cscript%3E"),
        (long.as_str(), "p"),
        ("r", long.as_str()),
        ("r", "%C3%A4"),
    ] {
        let (status, body) = server.refused(&server.url(room, peer, ""), None).await;
        assert_eq!(status, 400, "{room}/{peer}");
        assert_eq!(body["error"]["code"], "invalid-id", "{room}/{peer}: {body}");
        assert!(body["error"]["message"].is_string());
    }
    for path in ["/ws/r", "/ws/r/", "/ws/r/p/extra"] {
        let url = format!("ws://{}{path}", server.addr);
        let (status, body) = server.refused(&url, None).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"]["code"], "invalid-id");
    }
    let max = "x".repeat(64);
    server.join(&max, &max).await;
}

#[tokio::test]
async fn a_taken_id_is_refused_with_409() {
    let server = TestServer::start(|_| {}).await;
    let (_a, _) = server.join("r", "a").await;
    let (status, body) = server.refused(&server.url("r", "a", ""), None).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "peer-id-taken");
    let (status, _) = server
        .refused(&server.url("r", "a", "?resume=wrong-token"), None)
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_full_room_is_refused_with_409() {
    let server = TestServer::start(|c| c.room_capacity = 2).await;
    let (_a, _) = server.join("r", "a").await;
    let (_b, _) = server.join("r", "b").await;
    let (status, body) = server.refused(&server.url("r", "c", ""), None).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "room-full");
    server.join("other", "c").await;
}

#[tokio::test]
async fn the_default_capacity_is_eight() {
    let server = TestServer::start(|_| {}).await;
    let mut peers = Vec::new();
    for i in 0..8 {
        peers.push(server.join("r", &format!("p{i}")).await);
    }
    let (status, _) = server.refused(&server.url("r", "p8", ""), None).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_long_name_is_refused_and_html_is_kept_as_text() {
    let server = TestServer::start(|_| {}).await;
    let long = "n".repeat(65);
    let (status, body) = server
        .refused(&server.url("r", "a", &format!("?name={long}")), None)
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "bad-request");
    let padded = format!("?name=%20{}%20", "n".repeat(64));
    let (mut a, _) = server.join_query("r", "a", &padded).await;
    let (_b, wb) = server
        .join_query("r", "b", "?name=%3Cb%3Ex%3C%2Fb%3E")
        .await;
    assert_eq!(wb["data"]["peers"][0]["name"], "n".repeat(64));
    assert_eq!(recv(&mut a).await["name"], "<b>x</b>");
}

#[tokio::test]
async fn origins_other_than_same_host_and_localhost_are_refused_with_403() {
    let server =
        TestServer::start(|c| c.allowed_origins = vec!["https://meet.example.org".into()]).await;
    let url = server.url("r", "a", "");
    let (status, body) = server.refused(&url, Some("https://evil.example")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden-origin");
    for origin in [
        "http://localhost:3000",
        "http://127.0.0.1:1",
        "https://meet.example.org",
        &format!("http://{}", server.addr),
    ] {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(recv(&mut ws).await["type"], "welcome", "{origin}");
        ws.close(None).await.unwrap();
        server.wait_stats((0, 0)).await;
    }
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503() {
    let server = TestServer::start(|c| c.max_connections = 1).await;
    let (mut a, _) = server.join("r", "a").await;
    let (status, body) = server.refused(&server.url("r", "b", ""), None).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "server-full");
    a.close(None).await.unwrap();
    server.wait_stats((0, 0)).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.join("r", "b").await;
}

#[tokio::test]
async fn a_clean_close_leaves_at_once_and_empty_rooms_vanish() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    let (_c, _) = server.join("r2", "c").await;
    recv(&mut a).await; // new-peer
    assert_eq!(server.stats().await, (2, 3));
    b.close(None).await.unwrap();
    let left = recv(&mut a).await;
    assert_eq!(left["type"], "peer-left");
    assert_eq!(left["from"], "server");
    assert_eq!(left["data"], "b");
    a.close(None).await.unwrap();
    server.wait_stats((1, 1)).await;
    let body = server.get("/api/stats").await;
    assert!(!body.contains("r2") && !body.contains("\"r\""), "{body}");
}

#[tokio::test]
async fn resume_takes_over_an_open_socket_with_4009_and_no_leave_join_pair() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, wa) = server.join_query("r", "a", "?name=Ann").await;
    let (mut b, _) = server.join("r", "b").await;
    recv(&mut a).await; // new-peer b
    let token = wa["data"]["session"].as_str().unwrap().to_owned();
    let (mut a2, wa2) = server
        .join_query("r", "a", &format!("?resume={token}"))
        .await;
    assert_eq!(wa2["data"]["you"], "a");
    assert_eq!(wa2["data"]["peers"][0]["id"], "b");
    assert_eq!(close_code(&mut a).await, Some(4009));
    silent(&mut b).await;
    // The session goes on: relays reach the new socket, the name is kept.
    send(&mut b, r#"{"type":"offer","to":"a","data":{"n":1}}"#).await;
    assert_eq!(recv(&mut a2).await["data"]["n"], 1);
    send(&mut a2, r#"{"type":"chat","data":{"text":"back"}}"#).await;
    assert_eq!(recv(&mut b).await["data"]["name"], "Ann");
    assert_eq!(server.stats().await, (1, 2));
}

#[tokio::test]
async fn resume_after_an_unclean_drop_keeps_the_slot() {
    let server = TestServer::start(|c| c.resume_grace_secs = 10).await;
    let (a, wa) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    let token = wa["data"]["session"].as_str().unwrap().to_owned();
    drop(a); // TCP closes without a close frame
    silent(&mut b).await;
    assert_eq!(server.stats().await, (1, 2));
    let (_a2, _) = server
        .join_query("r", "a", &format!("?resume={token}"))
        .await;
    silent(&mut b).await;
}

#[tokio::test]
async fn after_the_grace_a_dropped_peer_leaves() {
    let server = TestServer::start(|c| c.resume_grace_secs = 1).await;
    let (a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    drop(a);
    silent(&mut b).await;
    let left = recv(&mut b).await;
    assert_eq!(left["type"], "peer-left");
    assert_eq!(left["data"], "a");
    // The id is free again.
    server.join("r", "a").await;
}

#[tokio::test]
async fn a_silent_socket_is_treated_as_dropped() {
    let server = TestServer::start(|c| {
        c.ping_interval_ms = 50;
        c.idle_timeout_ms = 300;
        c.resume_grace_secs = 0;
    })
    .await;
    // `a` never reads, so it never answers the server's pings.
    let (_a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    // `b` reads (and so answers pings) and stays.
    let left = recv(&mut b).await;
    assert_eq!(left["type"], "peer-left");
    assert_eq!(left["data"], "a");
    silent(&mut b).await;
    assert_eq!(server.stats().await, (1, 1));
}

#[tokio::test]
async fn the_server_pings() {
    let server = TestServer::start(|c| c.ping_interval_ms = 50).await;
    let (mut a, _) = server.join("r", "a").await;
    let ping = tokio::time::timeout(WAIT, async {
        use futures_util::StreamExt;
        loop {
            if let Some(Ok(tokio_tungstenite::tungstenite::Message::Ping(_))) = a.next().await {
                return;
            }
        }
    })
    .await;
    assert!(ping.is_ok(), "no ping within {WAIT:?}");
}
