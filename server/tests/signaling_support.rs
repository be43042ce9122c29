//! Helpers shared by the signaling tests: a server on port 0 and a small JSON WebSocket client.
#![allow(dead_code)]

use std::net::SocketAddr;
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

/// A running server on a random loopback port; it stops with the test's runtime. Every server
/// test file (`mod signaling_support;`) starts its servers with this one helper.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Starts a server with the defaults changed by `tweak`.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::defaults();
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::run(listener, config, shutdown.clone()));
        TestServer {
            addr,
            shutdown,
            task,
        }
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

    /// `GET path` over plain HTTP.
    pub async fn get(&self, path: &str) -> String {
        reqwest::get(format!("http://{}{path}", self.addr))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
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
