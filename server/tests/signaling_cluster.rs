//! Rooms shared by several nodes through a real `redis-server`: cross-node delivery, exact
//! capacity under concurrent joins, and failures (a node killed, the pub/sub connection killed,
//! Redis restarted or frozen). These need `redis-server` and fail loudly without it.

#[path = "signaling_support.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use server::config::Config;
use support::parts::{NodeProcess, RedisServer};
use support::*;

/// Three in-process nodes sharing a fresh Redis (no balancer: tests pick nodes).
async fn cluster(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = Config::defaults();
    config.node_lease_ms = 1000;
    tweak(&mut config);
    TestServer::start_nodes(config, 3, Some(RedisServer::start()), false).await
}

/// Reads frames until one of `kind` arrives; returns it and how many numbered frames (all but
/// `error`) came, that one included.
async fn until(ws: &mut Ws, kind: &str) -> (Value, u64) {
    let mut n = 0;
    loop {
        let v = recv(ws).await;
        if v["type"] != "error" {
            n += 1;
        }
        if v["type"] == kind {
            return (v, n);
        }
    }
}

/// Keys of rooms, logs and graces left in Redis.
fn leftover_keys(redis: &RedisServer) -> Vec<String> {
    let mut c = redis.client();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("rm:*").query(&mut c).unwrap();
    keys.retain(|k| k != "rm:nodes");
    keys
}

#[tokio::test]
async fn relays_between_nodes_arrive_complete_once_and_in_order() {
    let server = cluster(|_| {}).await;
    let (mut a, wa) = server.join_node(0, "r", "a", "").await;
    let (mut b, wb) = server.join_node(1, "r", "b", "").await;
    assert_ne!(wa["data"]["node"], wb["data"]["node"], "on different nodes");
    assert_eq!(wb["data"]["peers"][0]["id"], "a");
    assert_eq!(recv(&mut a).await["data"], "b"); // new-peer
    for i in 0..150 {
        send(
            &mut a,
            json!({"type":"ice","to":"b","data":{"i":i}}).to_string(),
        )
        .await;
    }
    for i in 0..150 {
        let got = recv(&mut b).await;
        assert_eq!(got["from"], "a");
        assert_eq!(got["data"]["i"], i, "{got}");
    }
    silent(&mut b).await;
    // And back, interleaved with the other direction.
    for i in 0..50 {
        send(
            &mut b,
            json!({"type":"answer","to":"a","data":{"i":i}}).to_string(),
        )
        .await;
    }
    for i in 0..50 {
        assert_eq!(recv(&mut a).await["data"]["i"], i);
    }
    silent(&mut a).await;
}

#[tokio::test]
async fn chat_media_and_leaving_reach_every_node() {
    let server = cluster(|_| {}).await;
    let (mut a, _) = server.join_node(0, "r", "a", "?name=Ann").await;
    let (mut b, _) = server.join_node(1, "r", "b", "").await;
    let (mut c, _) = server.join_node(2, "r", "c", "").await;
    until(&mut a, "new-peer").await;
    until(&mut a, "new-peer").await;
    until(&mut b, "new-peer").await;
    send(&mut a, r#"{"type":"chat","data":{"text":"one"}}"#).await;
    send(&mut a, r#"{"type":"chat","data":{"text":"two"}}"#).await;
    let mut ids = Vec::new();
    for ws in [&mut a, &mut b, &mut c] {
        let first = recv(ws).await;
        let second = recv(ws).await;
        assert_eq!(
            (
                first["data"]["text"].as_str(),
                second["data"]["text"].as_str()
            ),
            (Some("one"), Some("two"))
        );
        assert_eq!(first["data"]["name"], "Ann");
        ids.push((first["data"]["id"].clone(), second["data"]["id"].clone()));
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "one id per message everywhere: {ids:?}"
    );
    send(
        &mut b,
        r#"{"type":"media","data":{"audio":false,"video":true,"screen":false}}"#,
    )
    .await;
    for ws in [&mut a, &mut c] {
        let got = recv(ws).await;
        assert_eq!(got["type"], "media");
        assert_eq!(got["from"], "b");
    }
    let (_d, wd) = server.join_node(0, "r", "d", "").await;
    let peers = wd["data"]["peers"].as_array().unwrap();
    let b_info = peers.iter().find(|p| p["id"] == "b").unwrap();
    assert_eq!(
        b_info["media"],
        json!({"audio":false,"video":true,"screen":false})
    );
    c.close(None).await.unwrap();
    for ws in [&mut a, &mut b] {
        let (left, _) = until(ws, "peer-left").await;
        assert_eq!(left["data"], "c");
    }
}

#[tokio::test]
async fn a_taken_id_is_refused_on_every_node_and_resume_works_on_any() {
    let server = cluster(|_| {}).await;
    let (mut a, wa) = server.join_node(0, "r", "a", "").await;
    let (mut b, _) = server.join_node(1, "r", "b", "").await;
    until(&mut a, "new-peer").await;
    for node in 0..3 {
        let (status, body) = server
            .refused(&server.node_url(node, "r", "a", ""), None)
            .await;
        assert_eq!(status, 409, "node {node}");
        assert_eq!(body["error"]["code"], "peer-id-taken");
    }
    let token = wa["data"]["session"].as_str().unwrap();
    let (mut a2, wa2) = server
        .join_node(2, "r", "a", &format!("?resume={token}"))
        .await;
    assert_eq!(wa2["data"]["peers"][0]["id"], "b");
    assert_eq!(close_code(&mut a).await, Some(4009));
    silent(&mut b).await;
    send(&mut b, r#"{"type":"offer","to":"a","data":{"n":1}}"#).await;
    assert_eq!(recv(&mut a2).await["data"]["n"], 1);
}

#[tokio::test]
async fn twenty_concurrent_joins_over_three_nodes_admit_exactly_the_capacity() {
    let server = cluster(|c| c.room_capacity = 8).await;
    for round in 0..50 {
        let room = format!("r{round}");
        let attempts = (0..20).map(|i| {
            let url = server.node_url(i % 3, &room, &format!("p{i}"), "");
            async move {
                match tokio_tungstenite::connect_async(url).await {
                    Ok((ws, _)) => Some((format!("p{i}"), ws)),
                    Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                        assert_eq!(r.status().as_u16(), 409);
                        None
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        });
        let admitted: Vec<(String, Ws)> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(admitted.len(), 8, "round {round}");
        let everyone: BTreeSet<String> = admitted.iter().map(|(id, _)| id.clone()).collect();
        for (id, mut ws) in admitted {
            let welcome = recv(&mut ws).await;
            let mut seen: BTreeSet<String> = welcome["data"]["peers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect();
            seen.insert(id.clone());
            while seen.len() < 8 {
                let (np, _) = until(&mut ws, "new-peer").await;
                assert!(
                    seen.insert(np["data"].as_str().unwrap().to_owned()),
                    "twice: {np}"
                );
            }
            assert_eq!(seen, everyone, "round {round}: {id} sees another room");
            ws.close(None).await.unwrap();
        }
        server.wait_stats((0, 0)).await;
    }
}

/// Three server processes sharing `redis`, with a short lease and grace.
fn processes(redis: &RedisServer) -> Vec<NodeProcess> {
    let env = [
        ("RECORD_MEET_REDIS_URL", redis.url()),
        ("RECORD_MEET_NODE_LEASE_MS", "1000".to_owned()),
        ("RECORD_MEET_RESUME_GRACE_SECS", "3".to_owned()),
    ];
    (0..3).map(|_| NodeProcess::start(&env)).collect()
}

async fn join_at(addr: std::net::SocketAddr, room: &str, peer: &str, query: &str) -> (Ws, Value) {
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/{room}/{peer}{query}"))
            .await
            .unwrap_or_else(|e| panic!("{peer} at {addr}: {e}"));
    let welcome = recv(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    (ws, welcome)
}

#[tokio::test]
async fn a_killed_node_costs_its_clients_a_resume_and_nothing_else() {
    let redis = RedisServer::start();
    let mut nodes = processes(&redis);
    let (mut a, wa) = join_at(nodes[0].addr, "r", "a", "").await;
    let (mut b, _) = join_at(nodes[1].addr, "r", "b", "").await;
    let (c, _) = join_at(nodes[0].addr, "r", "c", "").await;
    // `a` counts the numbered frames it got, to resume exactly after them.
    let mut got = wa["data"]["seq"].as_u64().unwrap();
    got += until(&mut a, "new-peer").await.1; // b
    got += until(&mut a, "new-peer").await.1; // c
    until(&mut b, "new-peer").await; // c, which sits on the node that dies
    for i in 0..20 {
        send(
            &mut b,
            json!({"type":"ice","to":"a","data":{"i":i}}).to_string(),
        )
        .await;
    }
    for i in 0..20 {
        assert_eq!(recv(&mut a).await["data"]["i"], i);
        got += 1;
    }
    nodes[0].kill();
    let killed = Instant::now();
    drop((a, c));
    // b keeps sending while a has no socket anywhere.
    for i in 20..40 {
        send(
            &mut b,
            json!({"type":"ice","to":"a","data":{"i":i}}).to_string(),
        )
        .await;
    }
    let token = wa["data"]["session"].as_str().unwrap();
    let (mut a2, wa2) = join_at(
        nodes[2].addr,
        "r",
        "a",
        &format!("?resume={token}&last={got}"),
    )
    .await;
    assert_eq!(wa2["data"]["seq"].as_u64(), Some(got), "{wa2}");
    for i in 20..40 {
        assert_eq!(
            recv(&mut a2).await["data"]["i"],
            i,
            "nothing lost, nothing twice"
        );
    }
    // c never comes back: exactly one peer-left, within lease + grace (+ one renewal period).
    let (left, _) = until(&mut b, "peer-left").await;
    assert_eq!(left["data"], "c");
    assert!(
        killed.elapsed() < Duration::from_millis(1000 + 3000 + 1500),
        "{:?}",
        killed.elapsed()
    );
    let (left, _) = until(&mut a2, "peer-left").await;
    assert_eq!(left["data"], "c");
    match next_event(&mut b, Duration::from_secs(2)).await {
        Event::Timeout => {}
        other => panic!("b expected nothing more (no peer-left for a), got {other:?}"),
    }
    a2.close(None).await.unwrap();
    b.close(None).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !leftover_keys(&redis).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left in Redis: {:?}",
            leftover_keys(&redis)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_killed_pubsub_connection_loses_nothing() {
    let server = cluster(|_| {}).await;
    let (mut a, _) = server.join_node(0, "r", "a", "").await;
    let (mut b, _) = server.join_node(1, "r", "b", "").await;
    until(&mut a, "new-peer").await;
    let redis = server.redis().unwrap();
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query(&mut redis.client())
        .unwrap();
    assert!(
        killed >= 3,
        "every node's inbox connection is killed ({killed})"
    );
    for i in 0..30 {
        send(
            &mut b,
            json!({"type":"offer","to":"a","data":{"i":i}}).to_string(),
        )
        .await;
    }
    for i in 0..30 {
        assert_eq!(recv(&mut a).await["data"]["i"], i);
    }
    silent(&mut a).await;
}

#[tokio::test]
async fn a_restarted_redis_sends_everyone_to_rejoin_and_the_room_comes_back() {
    let mut redis = RedisServer::start();
    let mut config = Config::defaults();
    config.node_lease_ms = 1000;
    config.redis_url = Some(redis.url());
    let server = TestServer::start_nodes(config, 3, None, false).await;
    let (mut a, _) = server.join_node(0, "r", "a", "").await;
    let (mut b, _) = server.join_node(1, "r", "b", "").await;
    until(&mut a, "new-peer").await;
    redis.stop();
    // The nodes cannot renew their lease: they close their sockets rather than act alone.
    assert_eq!(close_code(&mut a).await, Some(1012));
    assert_eq!(close_code(&mut b).await, Some(1012));
    // While Redis is gone, joins are refused at once with 503 `unavailable`.
    let started = Instant::now();
    let (status, body) = server
        .refused(&server.node_url(2, "r", "a", ""), None)
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // An empty Redis comes back on the same port: the room starts over by itself.
    redis.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut a2 = loop {
        match tokio_tungstenite::connect_async(server.node_url(2, "r", "a", "")).await {
            Ok((mut ws, _)) => {
                assert_eq!(recv(&mut ws).await["type"], "welcome");
                break ws;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("no join after Redis came back: {e}"),
        }
    };
    let (mut b2, wb2) = server.join_node(0, "r", "b", "").await;
    assert_eq!(wb2["data"]["peers"][0]["id"], "a");
    assert_eq!(until(&mut a2, "new-peer").await.0["data"], "b");
    send(&mut b2, r#"{"type":"offer","to":"a","data":{"n":1}}"#).await;
    assert_eq!(recv(&mut a2).await["data"]["n"], 1);
}

#[tokio::test]
async fn a_frozen_redis_refuses_joins_fast_and_the_room_resumes_after() {
    let server = cluster(|c| c.resume_grace_secs = 10).await;
    let (mut a, wa) = server.join_node(0, "r", "a", "").await;
    let (mut b, wb) = server.join_node(1, "r", "b", "").await;
    until(&mut a, "new-peer").await;
    let redis = server.redis().unwrap();
    redis.pause();
    let paused = Instant::now();
    // Within a lease the nodes notice and close their sockets rather than act alone.
    assert_eq!(close_code(&mut a).await, Some(1012));
    assert_eq!(close_code(&mut b).await, Some(1012));
    let started = Instant::now();
    let (status, _) = server
        .refused(&server.node_url(2, "r", "c", ""), None)
        .await;
    assert_eq!(status, 503);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(paused.elapsed())).await;
    redis.resume();
    // Both resume (on any node) as the same sessions: nobody is told anyone left.
    let deadline = Instant::now() + Duration::from_secs(5);
    let resume = |w: &Value| format!("?resume={}", w["data"]["session"].as_str().unwrap());
    let (mut a2, _) = loop {
        let url = server.node_url(2, "r", "a", &resume(&wa));
        match tokio_tungstenite::connect_async(url).await {
            Ok((mut ws, _)) => {
                let w = recv(&mut ws).await;
                break (ws, w);
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("no resume after Redis came back: {e}"),
        }
    };
    let (mut b2, wb2) = server.join_node(0, "r", "b", &resume(&wb)).await;
    assert_eq!(wb2["data"]["peers"][0]["id"], "a");
    send(&mut b2, r#"{"type":"chat","data":{"text":"back"}}"#).await;
    assert_eq!(until(&mut a2, "chat").await.0["data"]["text"], "back");
    for ws in [&mut a2, &mut b2] {
        // c's refused join was queued in Redis before the freeze and may still run once Redis
        // answers; the undo queued right behind it takes c out at once. Anything else is wrong.
        let mut ghost = false;
        loop {
            let wait = Duration::from_millis(if ghost { 2000 } else { 300 });
            match next_event(ws, wait).await {
                Event::Timeout if !ghost => break,
                Event::Json(v) if v["type"] == "chat" => {}
                Event::Json(v) if v["type"] == "new-peer" && v["data"] == "c" && !ghost => {
                    ghost = true
                }
                Event::Json(v) if v["type"] == "peer-left" && v["data"] == "c" && ghost => {
                    ghost = false
                }
                other => panic!("unexpected {other:?} (c announced: {ghost})"),
            }
        }
    }
}
