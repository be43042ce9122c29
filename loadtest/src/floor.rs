//! The floor for the churn benchmark: the smallest tokio-tungstenite relay that speaks enough of
//! docs/PROTOCOL.md for joins and leaves (`welcome` with the peer list, `new-peer`,
//! `peer-left`, relays by `to`). No limits, no resume, no metrics: what any hub must do at
//! least, so `loadtest churn` can say how close the real server comes to it.
//!
//! A peer is registered inside the handshake callback, before the `101` goes out, so a client
//! whose handshake completed is always in the room. A client's close is answered with a close,
//! as the protocol requires of any server (it once was not: the floor then saved itself a
//! write per connection the real server must do).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// Rooms: room id → peer id → that peer's outbound queue.
type Rooms = Arc<Mutex<HashMap<String, HashMap<String, mpsc::UnboundedSender<String>>>>>;

/// Serves the floor relay on `addr` until the process is killed.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let rooms: Rooms = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, rooms.clone()));
    }
}

/// One client: registered during the handshake, then a writer task and a reader loop.
async fn connection(stream: TcpStream, rooms: Rooms) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let mut joined: Option<(String, String)> = None;
    // The error type is tungstenite's `Callback` contract, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        let parts: Vec<&str> = request.uri().path().split('/').collect();
        if let ["", "ws", room, peer] = parts[..] {
            let mut rooms = rooms.lock().expect("floor rooms lock");
            let members = rooms.entry(room.to_owned()).or_default();
            if !members.contains_key(peer) {
                let others: Vec<String> = members
                    .keys()
                    .map(|p| format!("{{\"id\":\"{p}\"}}"))
                    .collect();
                let _ = tx.send(format!(
                    r#"{{"type":"welcome","room":"{room}","from":"server","data":{{"you":"{peer}","peers":[{}]}}}}"#,
                    others.join(",")
                ));
                let hello = format!(
                    r#"{{"type":"new-peer","room":"{room}","from":"server","data":"{peer}"}}"#
                );
                for other in members.values() {
                    let _ = other.send(hello.clone());
                }
                members.insert(peer.to_owned(), tx.clone());
                joined = Some((room.to_owned(), peer.to_owned()));
            }
        }
        Ok(response)
    };
    let ws = tokio_tungstenite::accept_hdr_async(stream, callback).await;
    let Some((room, peer)) = joined else { return };
    if let Ok(ws) = ws {
        let (mut sink, mut source) = ws.split();
        let writer = tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        while let Some(Ok(message)) = source.next().await {
            let Message::Text(text) = message else {
                if matches!(message, Message::Close(_)) {
                    // RFC 6455 §5.5.1: a close is answered with a close. tungstenite has queued
                    // the reply; the next read sends it (and then ends the stream).
                    let _ = source.next().await;
                    break;
                }
                continue;
            };
            relay(&rooms, &room, &peer, &text);
        }
        writer.abort();
    }
    let mut rooms = rooms.lock().expect("floor rooms lock");
    if let Some(members) = rooms.get_mut(&room) {
        members.remove(&peer);
        let bye =
            format!(r#"{{"type":"peer-left","room":"{room}","from":"server","data":"{peer}"}}"#);
        for other in members.values() {
            let _ = other.send(bye.clone());
        }
        if members.is_empty() {
            rooms.remove(&room);
        }
    }
}

/// Delivers a client frame to its `to` peer, with `from` set.
fn relay(rooms: &Rooms, room: &str, from: &str, text: &str) {
    let Ok(serde_json::Value::Object(mut frame)) = serde_json::from_str(text) else {
        return;
    };
    let Some(to) = frame.get("to").and_then(|t| t.as_str()).map(str::to_owned) else {
        return;
    };
    frame.insert("from".into(), from.into());
    frame.insert("room".into(), room.into());
    let text = serde_json::Value::Object(frame).to_string();
    if let Some(target) = rooms
        .lock()
        .expect("floor rooms lock")
        .get(room)
        .and_then(|m| m.get(&to))
    {
        let _ = target.send(text);
    }
}
