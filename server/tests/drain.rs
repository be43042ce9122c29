//! Deploys that drop no call: the SIGTERM drain (1012, `restarting`, `/ready`), the session
//! handoff of rooms in memory from one server process to the next through the state directory,
//! and a restart with Redis, which needs no handoff.

#[path = "signaling_support.rs"]
mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use server::config::Config;
use support::*;

/// One process with its rooms in memory, whatever `RECORD_MEET_TEST_BACKEND` says: the handoff
/// is the in-memory engine's.
async fn memory(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = Config::defaults();
    tweak(&mut config);
    TestServer::start_nodes(config, 1, None, false).await
}

/// A state directory of its own for each test.
fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("record-meet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn status(server: &TestServer, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("http://{}{path}", server.addr))
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Waits for `run` to return.
async fn stopped(server: &mut TestServer) {
    tokio::time::timeout(Duration::from_secs(8), &mut server.task)
        .await
        .expect("run did not return")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn health_reports_the_loops_and_ready_turns_503_while_draining() {
    let mut server = memory(|_| {}).await;
    let (code, health) = status(&server, "/health").await;
    assert_eq!(code, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["loops"]["runtime"]["ok"], true, "{health}");
    assert_eq!(health["loops"]["sockets"]["ok"], true, "{health}");
    assert_eq!(health["loops"]["rooms"]["ok"], true, "{health}");
    assert_eq!(
        status(&server, "/ready").await,
        (200, serde_json::json!({"status": "ready"}))
    );

    // A client that does not answer the close keeps the drain going for a moment.
    let (_silent, _) = server.join("r", "quiet").await;
    server.shutdown.cancel();
    assert_eq!(status(&server, "/ready").await.0, 503);
    assert_eq!(
        status(&server, "/health").await.0,
        200,
        "draining is not a failure"
    );
    let (code, body) = server.refused(&server.url("r", "late", ""), None).await;
    assert_eq!(code, 503);
    assert_eq!(body["error"]["code"], "restarting");
    stopped(&mut server).await;
}

#[tokio::test]
async fn a_drain_closes_with_1012_and_nobody_is_told_peer_left() {
    let mut server = memory(|_| {}).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    assert_eq!(recv(&mut a).await["type"], "new-peer");
    server.shutdown.cancel();
    // The close is the next thing each sees: no peer-left queued before it.
    for ws in [&mut a, &mut b] {
        match next_event(ws, WAIT).await {
            Event::Close(code) => assert_eq!(code, Some(1012)),
            other => panic!("expected close 1012 first, got {other:?}"),
        }
    }
    stopped(&mut server).await;
}

#[tokio::test]
async fn sessions_resume_in_the_next_process_and_the_missing_leave_after_the_grace() {
    let dir = state_dir("handoff");
    let mut first = memory(|c| c.state_dir = Some(dir.clone())).await;
    let (mut a, wa) = first.join_query("r", "a", "?name=Ann").await;
    let (mut b, wb) = first.join("r", "b").await;
    let (_c, _) = first.join("r", "c").await;
    recv(&mut a).await; // new-peer b
    first.shutdown.cancel();
    assert_eq!(close_code(&mut a).await, Some(1012));
    assert_eq!(close_code(&mut b).await, Some(1012));
    stopped(&mut first).await;

    let mut second = memory(|c| {
        c.state_dir = Some(dir.clone());
        c.resume_grace_secs = 1;
    })
    .await;
    let token_a = wa["data"]["session"].as_str().unwrap();
    let (mut a, welcome) = second
        .join_query("r", "a", &format!("?resume={token_a}"))
        .await;
    assert_eq!(welcome["data"]["session"], token_a, "the same session");
    let peers: Vec<&str> = welcome["data"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(peers, ["b", "c"], "the others are held for their grace");
    // A stranger cannot take a handed-off id, and a wrong token does not resume it.
    let (code, _) = second
        .refused(&second.url("r", "b", "?resume=wrong"), None)
        .await;
    assert_eq!(code, 409);

    let token_b = wb["data"]["session"].as_str().unwrap();
    let (mut b, welcome) = second
        .join_query("r", "b", &format!("?resume={token_b}"))
        .await;
    assert_eq!(welcome["data"]["session"], token_b);
    // b's return is a resume: a hears nothing of it. c never comes back: after its grace, a
    // and b are told it left.
    let left = recv(&mut a).await;
    assert_eq!(left["type"], "peer-left", "{left}");
    assert_eq!(left["data"], "c");
    assert_eq!(recv(&mut b).await["data"], "c");
    send(&mut a, r#"{"type":"offer","to":"b","data":{"sdp":"x"}}"#).await;
    assert_eq!(recv(&mut b).await["type"], "offer");
    second.shutdown.cancel();
    stopped(&mut second).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_a_state_directory_the_next_process_starts_empty() {
    let mut first = memory(|_| {}).await;
    let (_a, wa) = first.join("r", "a").await;
    first.shutdown.cancel();
    stopped(&mut first).await;
    let mut second = memory(|_| {}).await;
    let token = wa["data"]["session"].as_str().unwrap();
    let (_a, welcome) = second
        .join_query("r", "a", &format!("?resume={token}"))
        .await;
    assert_ne!(welcome["data"]["session"], token, "a fresh session");
    second.shutdown.cancel();
    stopped(&mut second).await;
}

#[tokio::test]
async fn with_redis_a_restarted_node_resumes_the_sessions_without_a_handoff() {
    let mut config = Config::defaults();
    let redis = parts::RedisServer::start();
    config.redis_url = Some(redis.url());
    let mut first = TestServer::start_nodes(config.clone(), 1, None, false).await;
    let (mut a, wa) = first.join("r", "a").await;
    let (mut b, wb) = first.join("r", "b").await;
    assert_eq!(recv(&mut a).await["type"], "new-peer");
    first.shutdown.cancel();
    for ws in [&mut a, &mut b] {
        match next_event(ws, WAIT).await {
            Event::Close(code) => assert_eq!(code, Some(1012)),
            other => panic!("expected close 1012 first, got {other:?}"),
        }
    }
    stopped(&mut first).await;

    // The next process shares nothing with the first but Redis.
    let mut second = TestServer::start_nodes(config, 1, None, false).await;
    let token_a = wa["data"]["session"].as_str().unwrap();
    let (mut a, welcome) = second
        .join_query("r", "a", &format!("?resume={token_a}"))
        .await;
    assert_eq!(welcome["data"]["session"], token_a, "the same session");
    assert_eq!(
        welcome["data"]["peers"][0]["id"], "b",
        "b is held for its grace"
    );
    let token_b = wb["data"]["session"].as_str().unwrap();
    let (mut b, welcome) = second
        .join_query("r", "b", &format!("?resume={token_b}"))
        .await;
    assert_eq!(welcome["data"]["session"], token_b);
    // Both resumed: neither hears new-peer or peer-left, and relays flow.
    send(&mut a, r#"{"type":"offer","to":"b","data":{"sdp":"x"}}"#).await;
    let offer = recv(&mut b).await;
    assert_eq!(offer["type"], "offer", "{offer}");
    silent(&mut a).await;
    second.shutdown.cancel();
    stopped(&mut second).await;
    drop(redis);
}

#[tokio::test]
async fn with_redis_ready_says_unavailable_while_redis_is_frozen() {
    let mut config = Config::defaults();
    config.node_lease_ms = 600;
    let redis = parts::RedisServer::start();
    config.redis_url = Some(redis.url());
    let mut server = TestServer::start_nodes(config, 1, None, false).await;
    assert_eq!(status(&server, "/ready").await.0, 200);
    let (code, health) = status(&server, "/health").await;
    assert_eq!(code, 200);
    assert!(
        health["loops"].get("rooms").is_none(),
        "rooms in Redis are not this process's loop: {health}"
    );
    redis.pause();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (code, body) = status(&server, "/ready").await;
        if code == 503 {
            assert_eq!(body["status"], "unavailable");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/ready stayed {code}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Not reaching Redis is not this process being stuck.
    assert_eq!(status(&server, "/health").await.0, 200);
    redis.resume();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while status(&server, "/ready").await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "/ready did not recover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown.cancel();
    stopped(&mut server).await;
}
