//! Join/leave churn: many rooms at once, in each a pair of peers joining one after the other and
//! leaving again, as fast as the server takes them.
//!
//! Each round in a room: `a` connects; as soon as its handshake has completed, `b` connects.
//! `a` must then learn of `b` by `new-peer` (its `welcome` must not already list `b`), and
//! `b`'s `welcome` must list `a`. Anything else is an *inverted join*: a client whose
//! handshake completed first was registered after one that connected later (the original
//! design's `wscat` flow — connect, wait for `new-peer`, offer — then waits forever). Both then
//! close cleanly and the round starts again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Longest wait for any one frame before a round counts as failed.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// What a churn run did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Joins completed (a peer connected and saw what it should), both peers counted.
    pub joins: u64,
    /// Rounds in which the earlier peer was registered after the later one.
    pub inverted: u64,
    /// Rounds that failed otherwise (refused, timed out, closed early).
    pub failed: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Counters shared by the room loops.
#[derive(Default)]
struct Counters {
    joins: AtomicU64,
    inverted: AtomicU64,
    failed: AtomicU64,
}

/// Runs `rooms` room loops against `server` for `secs`.
pub async fn run(server: SocketAddr, rooms: usize, secs: Duration, tag: &str) -> Outcome {
    let counters = Arc::new(Counters::default());
    let deadline = Instant::now() + secs;
    let start = Instant::now();
    let mut loops = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let counters = counters.clone();
        let room = format!("churn-{tag}-{r}");
        loops.push(tokio::spawn(async move {
            let mut round = 0u64;
            while Instant::now() < deadline {
                match tokio::time::timeout(FRAME_TIMEOUT * 3, pair(server, &room, round, r)).await {
                    Ok(Ok(Round::Ok)) => {
                        counters.joins.fetch_add(2, Ordering::Relaxed);
                    }
                    Ok(Ok(Round::Inverted)) => {
                        counters.inverted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Err(_)) | Err(_) => {
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                        // Let a refused id's old session go before reusing the room.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                round += 1;
            }
        }));
    }
    for l in loops {
        let _ = l.await;
    }
    Outcome {
        joins: counters.joins.load(Ordering::Relaxed),
        inverted: counters.inverted.load(Ordering::Relaxed),
        failed: counters.failed.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    }
}

/// How one round ended.
enum Round {
    Ok,
    Inverted,
}

type Ws = WebSocketStream<TcpStream>;

/// Opens `/ws/{room}/{peer}` and returns once the handshake has completed, before any frame.
async fn open(server: SocketAddr, room: &str, peer: &str, n: usize) -> Result<Ws, String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    // Spread over 127.0.0.1..8 like the other scenarios, so ports in TIME_WAIT never run out.
    let src: SocketAddr = ([127, 0, 0, 1 + (n % 8) as u8], 0).into();
    socket.bind(src).map_err(|e| e.to_string())?;
    let stream = socket.connect(server).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let url = format!("ws://{server}/ws/{room}/{peer}");
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// The next text frame as JSON.
async fn next_frame(ws: &mut Ws) -> Result<serde_json::Value, String> {
    loop {
        let message = tokio::time::timeout(FRAME_TIMEOUT, ws.next())
            .await
            .map_err(|_| "timed out")?
            .ok_or("closed")?
            .map_err(|e| e.to_string())?;
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).map_err(|e| e.to_string());
        }
    }
}

/// Whether a `welcome` frame lists `peer`.
fn lists(welcome: &serde_json::Value, peer: &str) -> bool {
    welcome["data"]["peers"]
        .as_array()
        .is_some_and(|peers| peers.iter().any(|p| p["id"] == peer))
}

/// One round: `a` joins, then `b`; both check what they were told; both leave.
async fn pair(server: SocketAddr, room: &str, round: u64, n: usize) -> Result<Round, String> {
    let (a_id, b_id) = (format!("a{round}"), format!("b{round}"));
    let mut a = open(server, room, &a_id, n).await?;
    let mut b = open(server, room, &b_id, n + 1).await?;
    let a_welcome = next_frame(&mut a).await?;
    let b_welcome = next_frame(&mut b).await?;
    if a_welcome["type"] != "welcome" || b_welcome["type"] != "welcome" {
        return Err("no welcome".into());
    }
    let mut inverted = lists(&a_welcome, &b_id) || !lists(&b_welcome, &a_id);
    if !inverted {
        // The previous round's peers may still be leaving: a server may send its close frame
        // before it takes the peer out of the room, so their `peer-left` can come first.
        let told = loop {
            let frame = next_frame(&mut a).await?;
            if frame["type"] != "peer-left" {
                break frame;
            }
        };
        inverted = !(told["type"] == "new-peer" && told["data"] == b_id.as_str());
    }
    let _ = a.send(Message::Close(None)).await;
    let _ = b.send(Message::Close(None)).await;
    // Wait for the server's close so the ids are free for the next round.
    while let Ok(Some(Ok(m))) = tokio::time::timeout(FRAME_TIMEOUT, a.next()).await {
        if matches!(m, Message::Close(_)) {
            break;
        }
    }
    while let Ok(Some(Ok(m))) = tokio::time::timeout(FRAME_TIMEOUT, b.next()).await {
        if matches!(m, Message::Close(_)) {
            break;
        }
    }
    Ok(if inverted { Round::Inverted } else { Round::Ok })
}
