//! Helpers shared by the signaling tests: a server on port 0 and a small JSON WebSocket client.
//!
//! `RECORD_MEET_TEST_BACKEND` picks what "a server" is, so the same tests check every setup:
//! `memory` (default: one process, rooms in memory), `redis` (one node with a real
//! `redis-server`), `cluster` (three nodes sharing a `redis-server`, behind a real haproxy
//! balancing round-robin).
#![allow(dead_code)]

#[path = "real_parts.rs"]
pub mod parts;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use server::config::Config;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// A client socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a frame that must come.
pub const WAIT: Duration = Duration::from_secs(5);

/// Which setup the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One process, rooms in memory.
    Memory,
    /// One node, rooms in a real Redis.
    Redis,
    /// Three nodes sharing a real Redis behind a real balancer.
    Cluster,
}

impl Backend {
    /// From `RECORD_MEET_TEST_BACKEND`; an unknown value fails loudly.
    pub fn from_env() -> Self {
        match std::env::var("RECORD_MEET_TEST_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("memory") => Backend::Memory,
            Ok("redis") => Backend::Redis,
            Ok("cluster") => Backend::Cluster,
            Ok(other) => panic!("RECORD_MEET_TEST_BACKEND={other}: use memory, redis or cluster"),
        }
    }
}

/// Real processes a server needs, stopped when the last handle goes.
pub struct Parts {
    pub redis: Option<parts::RedisServer>,
    pub balancer: Option<parts::Balancer>,
}

/// A running server (one node, or several behind a balancer).
pub struct TestServer {
    /// Where clients connect (the balancer, with several nodes).
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    /// Ends when every node has stopped.
    pub task: JoinHandle<std::io::Result<()>>,
    /// Each node's own address.
    pub nodes: Vec<SocketAddr>,
    /// Kept alive with the server.
    pub parts: Arc<Parts>,
}

impl TestServer {
    /// Starts a server with the defaults changed by `tweak`, as `RECORD_MEET_TEST_BACKEND` says.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::defaults();
        tweak(&mut config);
        match Backend::from_env() {
            Backend::Memory => Self::start_nodes(config, 1, None, false).await,
            Backend::Redis => {
                let redis = parts::RedisServer::start();
                Self::start_nodes(config, 1, Some(redis), false).await
            }
            Backend::Cluster => {
                let redis = parts::RedisServer::start();
                Self::start_nodes(config, 3, Some(redis), true).await
            }
        }
    }

    /// `count` in-process nodes with `config` (sharing `redis` if given), behind a balancer if
    /// asked.
    pub async fn start_nodes(
        mut config: Config,
        count: usize,
        redis: Option<parts::RedisServer>,
        balanced: bool,
    ) -> Self {
        if let Some(redis) = &redis {
            config.redis_url = Some(redis.url());
        }
        let shutdown = CancellationToken::new();
        let mut nodes = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..count {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            nodes.push(listener.local_addr().unwrap());
            tasks.push(tokio::spawn(server::run(
                listener,
                config.clone(),
                shutdown.clone(),
            )));
        }
        let balancer = balanced.then(|| parts::Balancer::start(&nodes));
        let addr = balancer.as_ref().map_or(nodes[0], |b| b.addr);
        let task = tokio::spawn(async move {
            for task in tasks {
                task.await.unwrap()?;
            }
            Ok(())
        });
        let server = TestServer {
            addr,
            shutdown,
            task,
            nodes,
            parts: Arc::new(Parts { redis, balancer }),
        };
        for node in &server.nodes {
            wait_serving(*node).await;
        }
        server
    }

    /// The Redis behind this server, if any.
    pub fn redis(&self) -> Option<&parts::RedisServer> {
        self.parts.redis.as_ref()
    }

    /// `ws://<node>/ws/{room}/{peer}{query}` for one node, bypassing the balancer.
    pub fn node_url(&self, node: usize, room: &str, peer: &str, query: &str) -> String {
        format!("ws://{}/ws/{room}/{peer}{query}", self.nodes[node])
    }

    /// Connects to one node directly and reads the `welcome`.
    pub async fn join_node(&self, node: usize, room: &str, peer: &str, query: &str) -> (Ws, Value) {
        let url = self.node_url(node, room, peer, query);
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect {room}/{peer} on node {node}: {e}"));
        let welcome = recv(&mut ws).await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        (ws, welcome)
    }

    /// `http://…{path}`.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `ws://…/ws/{room}/{peer}{query}`.
    pub fn url(&self, room: &str, peer: &str, query: &str) -> String {
        format!("ws://{}/ws/{room}/{peer}{query}", self.addr)
    }

    /// Connects and returns the socket; panics when the upgrade is refused.
    pub async fn connect(&self, room: &str, peer: &str) -> Ws {
        self.connect_query(room, peer, "").await
    }

    /// Connects with a query string (starting with `?`).
    pub async fn connect_query(&self, room: &str, peer: &str, query: &str) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(self.url(room, peer, query))
            .await
            .unwrap_or_else(|e| panic!("connect {room}/{peer}: {e}"));
        ws
    }

    /// Connects and reads the `welcome`.
    pub async fn join(&self, room: &str, peer: &str) -> (Ws, Value) {
        self.join_query(room, peer, "").await
    }

    /// Connects with a query and reads the `welcome`.
    pub async fn join_query(&self, room: &str, peer: &str, query: &str) -> (Ws, Value) {
        let mut ws = self.connect_query(room, peer, query).await;
        let welcome = recv(&mut ws).await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        (ws, welcome)
    }

    /// Expects the upgrade to be refused; returns the status and the JSON body.
    pub async fn refused(&self, url: &str, origin: Option<&str>) -> (u16, Value) {
        let mut request = url.into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok(_) => panic!("{url} was accepted"),
            Err(tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().clone().unwrap_or_default();
                let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                (status, json)
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }

    /// `GET path` over plain HTTP. With several nodes, `/metrics` is every node's, added up
    /// (each node counts its own sockets and frames), except the room and peer gauges, which
    /// every node reports for the whole cluster.
    pub async fn get(&self, path: &str) -> String {
        if path != "/metrics" || self.nodes.len() == 1 {
            return get_text(self.addr, path).await;
        }
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        let mut comments = Vec::new();
        for node in &self.nodes {
            for line in get_text(*node, path).await.lines() {
                if line.starts_with('#') {
                    if !comments.iter().any(|c| c == line) {
                        comments.push(line.to_owned());
                    }
                    continue;
                }
                let Some((series, value)) = line.rsplit_once(' ') else {
                    continue;
                };
                let value: f64 = value.parse().unwrap_or(0.0);
                let entry = sums.entry(series.to_owned()).or_insert(0.0);
                if series == "signaling_rooms" || series == "signaling_peers" {
                    *entry = entry.max(value);
                } else {
                    *entry += value;
                }
            }
        }
        let mut text = comments.join("\n");
        text.push('\n');
        for (series, value) in sums {
            text.push_str(&format!("{series} {value}\n"));
        }
        text
    }

    /// `/api/stats` as (rooms, peers).
    pub async fn stats(&self) -> (u64, u64) {
        let v: Value = serde_json::from_str(&self.get("/api/stats").await).unwrap();
        (v["rooms"].as_u64().unwrap(), v["peers"].as_u64().unwrap())
    }

    /// Polls `/api/stats` until it shows `want`.
    pub async fn wait_stats(&self, want: (u64, u64)) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let got = self.stats().await;
            if got == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "stats {got:?}, want {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// `GET path` from one address.
pub async fn get_text(addr: SocketAddr, path: &str) -> String {
    reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until a node answers `/health`, i.e. its engine is up and it serves.
pub async fn wait_serving(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = reqwest::get(format!("http://{addr}/health")).await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{addr} never served"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next text frame as JSON (pings and pongs skipped); panics on close or timeout.
pub async fn recv(ws: &mut Ws) -> Value {
    match next_event(ws, WAIT).await {
        Event::Json(v) => v,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// What the client saw next.
#[derive(Debug)]
pub enum Event {
    Json(Value),
    Close(Option<u16>),
    Ended,
    Timeout,
}

/// The next event within `wait`.
pub async fn next_event(ws: &mut Ws, wait: Duration) -> Event {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Event::Timeout,
            Ok(None) => return Event::Ended,
            Ok(Some(Err(_))) => return Event::Ended,
            Ok(Some(Ok(Message::Text(t)))) => {
                return Event::Json(serde_json::from_str(t.as_str()).unwrap())
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Event::Close(frame.map(|f| u16::from(f.code)))
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Reads until the server closes; returns the close code. Text frames before it are skipped.
pub async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match next_event(ws, WAIT).await {
            Event::Json(_) => continue,
            Event::Close(code) => return code,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// Asserts nothing arrives for a short while.
pub async fn silent(ws: &mut Ws) {
    match next_event(ws, Duration::from_millis(150)).await {
        Event::Timeout => {}
        other => panic!("expected silence, got {other:?}"),
    }
}

/// Sends a text frame.
pub async fn send(ws: &mut Ws, text: impl Into<String>) {
    ws.send(Message::Text(text.into().into())).await.unwrap();
}

/// Expects an `error` frame with `code`.
pub async fn expect_error(ws: &mut Ws, code: &str) {
    let v = recv(ws).await;
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["data"]["code"], code, "{v}");
    assert!(v["data"]["message"].is_string(), "{v}");
}
