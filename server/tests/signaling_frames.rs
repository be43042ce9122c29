//! PROTOCOL.md's frame tables over real sockets: relays, chat, media, and every refusal.

#[path = "signaling_support.rs"]
mod support;

use futures_util::SinkExt;
use serde_json::json;
use support::*;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_original_wscat_example_works_verbatim() {
    let server = TestServer::start(|_| {}).await;
    let mut p1 = server.connect("room-1", "peer-1").await;
    let mut p2 = server.connect("room-1", "peer-2").await;
    assert_eq!(recv(&mut p1).await["type"], "welcome");
    let new_peer = recv(&mut p1).await;
    assert_eq!(new_peer["type"], "new-peer");
    assert_eq!(new_peer["data"], "peer-2");
    assert_eq!(recv(&mut p2).await["type"], "welcome");
    send(
        &mut p1,
        r#"{"type":"offer","from":"peer-1","to":"peer-2","data":{"sdp":"test"}}"#,
    )
    .await;
    assert_eq!(
        recv(&mut p2).await,
        json!({"type":"offer","room":"room-1","from":"peer-1","to":"peer-2","data":{"sdp":"test"}})
    );
}

#[tokio::test]
async fn welcome_lists_peers_names_media_session_and_ice_servers() {
    let server = TestServer::start(|c| {
        c.ice_urls = vec!["stun:127.0.0.1:3478".into(), "turn:127.0.0.1:3478".into()];
        c.turn_username = Some("u".into());
        c.turn_credential = Some("p".into());
    })
    .await;
    let (mut a, wa) = server.join_query("r", "a", "?name=Alice").await;
    assert_eq!(wa["from"], "server");
    assert_eq!(wa["room"], "r");
    assert_eq!(wa["data"]["you"], "a");
    assert_eq!(wa["data"]["peers"], json!([]));
    let session = wa["data"]["session"].as_str().unwrap();
    assert!(session.len() >= 16, "{session}");
    assert_eq!(
        wa["data"]["iceServers"],
        json!([{"urls":["stun:127.0.0.1:3478"]},
               {"urls":["turn:127.0.0.1:3478"],"username":"u","credential":"p"}])
    );
    send(
        &mut a,
        r#"{"type":"media","data":{"audio":false,"video":true,"screen":true}}"#,
    )
    .await;
    let (_b, wb) = server.join_query("r", "b", "?name=%20%20Bob%20").await;
    assert_eq!(
        wb["data"]["peers"],
        json!([{"id":"a","name":"Alice","media":{"audio":false,"video":true,"screen":true}}])
    );
    assert_ne!(wb["data"]["session"], wa["data"]["session"]);
    let np = recv(&mut a).await;
    assert_eq!(
        np,
        json!({"type":"new-peer","room":"r","from":"server","name":"Bob","data":"b"})
    );
}

#[tokio::test]
async fn relays_offer_answer_ice_with_from_overwritten() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    recv(&mut a).await; // new-peer
    for kind in ["offer", "answer", "ice"] {
        send(
            &mut a,
            json!({"type": kind, "from": "b", "room": "elsewhere", "to": "b", "data": {"x": [1, "y"]}, "extra": true})
                .to_string(),
        )
        .await;
        let got = recv(&mut b).await;
        assert_eq!(got["type"], kind);
        assert_eq!(got["from"], "a", "a spoofed from must be overwritten");
        assert_eq!(got["room"], "r");
        assert_eq!(got["to"], "b");
        assert_eq!(got["data"], json!({"x": [1, "y"]}));
    }
    silent(&mut a).await;
}

#[tokio::test]
async fn a_peer_in_another_room_is_never_reached() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join("room-1", "a").await;
    let (mut b, _) = server.join("room-2", "b").await;
    send(&mut a, r#"{"type":"offer","to":"b","data":{"sdp":"x"}}"#).await;
    expect_error(&mut a, "no-such-peer").await;
    send(&mut a, r#"{"type":"chat","data":{"text":"hi"}}"#).await;
    assert_eq!(recv(&mut a).await["type"], "chat");
    silent(&mut b).await;
}

#[tokio::test]
async fn chat_goes_to_everyone_with_ts_increasing_id_and_name() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join_query("r", "a", "?name=Ann").await;
    let (mut b, _) = server.join("r", "b").await;
    recv(&mut a).await; // new-peer
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    send(&mut a, r#"{"type":"chat","data":{"text":"<b>hi</b>"}}"#).await;
    send(&mut a, r#"{"type":"chat","data":{"text":"again"}}"#).await;
    let mut ids = Vec::new();
    for ws in [&mut a, &mut b] {
        let first = recv(ws).await;
        let second = recv(ws).await;
        assert_eq!(first["type"], "chat");
        assert_eq!(first["from"], "a");
        assert_eq!(first["data"]["text"], "<b>hi</b>");
        assert_eq!(first["data"]["name"], "Ann");
        assert!(first["data"]["ts"].as_u64().unwrap() >= before);
        assert!(second["data"]["id"].as_u64() > first["data"]["id"].as_u64());
        ids.push(first["data"]["id"].clone());
    }
    assert_eq!(ids[0], ids[1], "one message, one id");
    let too_long = "x".repeat(4001);
    send(
        &mut a,
        json!({"type":"chat","data":{"text": too_long}}).to_string(),
    )
    .await;
    expect_error(&mut a, "bad-envelope").await;
    send(&mut a, r#"{"type":"chat","data":{"text":""}}"#).await;
    expect_error(&mut a, "bad-envelope").await;
    silent(&mut b).await;
}

#[tokio::test]
async fn media_is_broadcast_to_the_others_and_remembered() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    recv(&mut a).await; // new-peer
    send(
        &mut b,
        r#"{"type":"media","data":{"audio":false,"video":false,"screen":false}}"#,
    )
    .await;
    let got = recv(&mut a).await;
    assert_eq!(got["type"], "media");
    assert_eq!(got["from"], "b");
    assert_eq!(
        got["data"],
        json!({"audio":false,"video":false,"screen":false})
    );
    silent(&mut b).await;
    let (_c, wc) = server.join("r", "c").await;
    let peers = wc["data"]["peers"].as_array().unwrap();
    let b_info = peers.iter().find(|p| p["id"] == "b").unwrap();
    assert_eq!(
        b_info["media"],
        json!({"audio":false,"video":false,"screen":false})
    );
    assert_eq!(recv(&mut b).await["type"], "new-peer");
    send(&mut b, r#"{"type":"media","data":{"audio":"yes"}}"#).await;
    expect_error(&mut b, "bad-envelope").await;
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_connection_keeps_working() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    assert_eq!(recv(&mut a).await["type"], "new-peer");
    for (frame, code) in [
        ("{not json", "bad-json"),
        ("", "bad-json"),
        ("[1,2,3]", "bad-envelope"),
        (r#"{"to":"b","data":{}}"#, "bad-envelope"),
        (r#"{"type":7}"#, "bad-envelope"),
        (r#"{"type":"offer","data":{}}"#, "bad-envelope"),
        (r#"{"type":"offer","to":"b"}"#, "bad-envelope"),
        (
            r#"{"type":"offer","to":"not valid!","data":{}}"#,
            "bad-envelope",
        ),
        (r#"{"type":"dance","to":"b","data":{}}"#, "unknown-type"),
        (
            r#"{"type":"offer","to":"nobody","data":{}}"#,
            "no-such-peer",
        ),
    ] {
        send(&mut a, frame).await;
        expect_error(&mut a, code).await;
    }
    a.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    expect_error(&mut a, "bad-envelope").await;
    send(
        &mut a,
        r#"{"type":"offer","to":"b","data":{"sdp":"still here"}}"#,
    )
    .await;
    let got = recv(&mut b).await;
    assert_eq!(got["data"]["sdp"], "still here", "{got}");
}
