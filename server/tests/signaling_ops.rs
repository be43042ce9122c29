//! Limits and operations: frame size, slow consumers, rate limits, shutdown, stats, metrics.

#[path = "signaling_support.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

#[tokio::test]
async fn an_oversized_frame_gets_too_large_and_close_1009() {
    let server = TestServer::start(|c| c.max_frame_bytes = 1024).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    recv(&mut a).await; // new-peer
                        // Just under the limit passes.
    let data = "x".repeat(900);
    send(
        &mut a,
        json!({"type":"offer","to":"b","data":data}).to_string(),
    )
    .await;
    assert_eq!(recv(&mut b).await["type"], "offer");
    send(
        &mut a,
        json!({"type":"offer","to":"b","data":"x".repeat(2000)}).to_string(),
    )
    .await;
    expect_error(&mut a, "too-large").await;
    assert_eq!(close_code(&mut a).await, Some(1009));
    assert_eq!(recv(&mut b).await["type"], "peer-left");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_4008_and_others_are_not_delayed() {
    let server = TestServer::start(|c| {
        c.outbound_queue = 16;
        c.rate_per_sec = 100_000;
        c.rate_burst = 100_000;
    })
    .await;
    let (mut sender, _) = server.join("r", "sender").await;
    let (mut stalled, _) = server.join("r", "stalled").await;
    let (mut reader, _) = server.join("r", "reader").await;
    recv(&mut sender).await; // new-peer stalled
    recv(&mut sender).await; // new-peer reader
    recv(&mut stalled).await; // new-peer reader; from now on `stalled` reads nothing
    let big = "x".repeat(48 * 1024);
    let started = Instant::now();
    let mut worst = Duration::ZERO;
    for i in 0..400 {
        send(
            &mut sender,
            json!({"type":"offer","to":"stalled","data":big}).to_string(),
        )
        .await;
        if i % 20 == 0 {
            let t = Instant::now();
            send(
                &mut sender,
                json!({"type":"ice","to":"reader","data":{"i":i}}).to_string(),
            )
            .await;
            let got = recv(&mut reader).await;
            assert_eq!(got["data"]["i"], i, "{got}");
            worst = worst.max(t.elapsed());
        }
    }
    assert!(
        worst < Duration::from_millis(500),
        "reader delayed {worst:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // The stalled client finds its close code after the frames that fit in the buffers.
    assert_eq!(close_code(&mut stalled).await, Some(4008));
    let left = recv(&mut reader).await;
    assert_eq!(left["type"], "peer-left");
    assert_eq!(left["data"], "stalled");
    let metrics = server.get("/metrics").await;
    assert!(
        metrics.contains("signaling_queue_overflow_closes_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_ice_burst_passes_a_flood_is_limited_then_closed_with_4029() {
    let server = TestServer::start(|c| {
        c.rate_per_sec = 10;
        c.rate_burst = 100;
    })
    .await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r", "b").await;
    recv(&mut a).await; // new-peer
    for i in 0..100 {
        send(
            &mut a,
            json!({"type":"ice","to":"b","data":{"i":i}}).to_string(),
        )
        .await;
    }
    for i in 0..100 {
        assert_eq!(recv(&mut b).await["data"]["i"], i);
    }
    send(&mut a, r#"{"type":"ice","to":"b","data":{}}"#).await;
    expect_error(&mut a, "rate-limited").await;
    for _ in 0..200 {
        if futures_util::SinkExt::send(
            &mut a,
            tokio_tungstenite::tungstenite::Message::Text(
                r#"{"type":"ice","to":"b","data":{}}"#.into(),
            ),
        )
        .await
        .is_err()
        {
            break;
        }
    }
    assert_eq!(close_code(&mut a).await, Some(4029));
    // At most the few frames the bucket refilled in the meantime got through.
    let mut extra = 0;
    while let Event::Json(v) = next_event(&mut b, Duration::from_millis(200)).await {
        if v["type"] == "peer-left" {
            break;
        }
        extra += 1;
    }
    assert!(extra <= 10, "{extra} frames of the flood were relayed");
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1012_and_run_returns() {
    let server = TestServer::start(|_| {}).await;
    let (mut a, _) = server.join("r", "a").await;
    let (mut b, _) = server.join("r2", "b").await;
    server.shutdown.cancel();
    assert_eq!(close_code(&mut a).await, Some(1012));
    assert_eq!(close_code(&mut b).await, Some(1012));
    let result = tokio::time::timeout(Duration::from_secs(8), server.task)
        .await
        .expect("run did not return")
        .unwrap();
    assert!(result.is_ok());
}

#[tokio::test]
async fn stats_and_metrics_count_without_naming_rooms() {
    let server = TestServer::start(|_| {}).await;
    assert_eq!(server.stats().await, (0, 0));
    let (mut a, _) = server.join("secret-room", "a").await;
    let (mut b, _) = server.join("secret-room", "b").await;
    recv(&mut a).await;
    send(&mut a, r#"{"type":"offer","to":"b","data":{}}"#).await;
    recv(&mut b).await;
    send(&mut a, "nope").await;
    expect_error(&mut a, "bad-json").await;
    let _ = server.refused(&server.url("x", "bad.id", ""), None).await;
    assert_eq!(server.stats().await, (1, 2));
    let text = server.get("/metrics").await;
    for line in [
        "signaling_connections 2\n",
        "signaling_connections_total 2\n",
        "signaling_rooms 1\n",
        "signaling_peers 2\n",
        "signaling_frames_in_total{type=\"offer\"} 1\n",
        "signaling_frames_out_total{type=\"offer\"} 1\n",
        "signaling_frames_out_total{type=\"welcome\"} 2\n",
        "signaling_errors_total{code=\"bad-json\"} 1\n",
        "signaling_errors_total{code=\"invalid-id\"} 1\n",
        "signaling_relay_latency_seconds_count 1\n",
        "# TYPE signaling_relay_latency_seconds histogram\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("secret-room"));
    a.close(None).await.unwrap();
    b.close(None).await.unwrap();
    server.wait_stats((0, 0)).await;
    assert!(!server.get("/api/stats").await.contains("secret"));
}
