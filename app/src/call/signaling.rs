//! The signaling WebSocket: one connection attempt at a time, frames handled strictly in order,
//! and frames sent while disconnected kept (bounded) until the session resumes.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::pin;

use futures::channel::mpsc;
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
use protocol::{ErrorCode, Refusal, ServerMessage};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Frames kept while disconnected: enough for an ICE burst, small enough to never matter.
const MAX_BACKLOG: usize = 256;

/// How one connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It opened and later closed with this code (1006 when it dropped without a close frame).
    Closed(u16),
    /// It never opened; the server refused the join for this reason.
    Refused(ErrorCode, String),
    /// It never opened and the server could not be reached.
    Unreachable,
}

/// The sending half of the signaling connection, shared by everything that signals.
#[derive(Default)]
pub struct Signaling {
    outgoing: RefCell<Option<mpsc::UnboundedSender<String>>>,
    /// The browser socket of the current attempt, so that leaving can close it at once with a
    /// clean close frame, even while the connection task is being cancelled.
    socket: RefCell<Option<web_sys::WebSocket>>,
    backlog: RefCell<VecDeque<String>>,
    connected: Cell<bool>,
}

impl Signaling {
    /// Sends a frame now, or keeps it for when the connection is back.
    pub fn send(&self, text: String) {
        let mut text = text;
        if self.connected.get() {
            if let Some(tx) = self.outgoing.borrow().as_ref() {
                match tx.unbounded_send(text) {
                    Ok(()) => return,
                    Err(e) => text = e.into_inner(),
                }
            }
        }
        let mut backlog = self.backlog.borrow_mut();
        if backlog.len() == MAX_BACKLOG {
            backlog.pop_front();
        }
        backlog.push_back(text);
    }

    /// Marks the connection usable and sends what waited (after a resumed session).
    pub fn flush_backlog(&self) {
        self.connected.set(true);
        let pending: Vec<String> = self.backlog.borrow_mut().drain(..).collect();
        for text in pending {
            self.send(text);
        }
    }

    /// Marks the connection usable and drops what waited (after a fresh join, it is stale).
    pub fn drop_backlog(&self) {
        self.backlog.borrow_mut().clear();
        self.connected.set(true);
    }

    /// Closes the current connection cleanly (the server then says `peer-left` at once).
    pub fn close(&self) {
        self.connected.set(false);
        self.outgoing.borrow_mut().take();
        if let Some(socket) = self.socket.borrow_mut().take() {
            let _ = socket.close_with_code_and_reason(1000, "left");
        }
    }

    /// Connects to `url` and feeds every server frame, in order, to `handle` (awaiting each
    /// before reading the next), until the connection ends.
    pub async fn run_once<F, Fut>(&self, url: &str, mut handle: F) -> Ended
    where
        F: FnMut(ServerMessage) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Ok(raw) = web_sys::WebSocket::new(url) else {
            return Ended::Unreachable;
        };
        *self.socket.borrow_mut() = Some(Clone::clone(&raw));
        let socket = match WebSocket::try_from(raw) {
            Ok(socket) => socket,
            Err(_) => return Ended::Unreachable,
        };
        let (tx, mut rx) = mpsc::unbounded::<String>();
        *self.outgoing.borrow_mut() = Some(tx);
        let (mut sink, mut stream) = socket.split();

        // Sending runs beside reading, not between two frames' handling: an answer made while a
        // frame is handled must not wait behind the candidates that arrived meanwhile (it did,
        // for ~150 ms of a join).
        let writer = async {
            while let Some(text) = rx.next().await {
                if sink.send(Message::Text(text)).await.is_err() {
                    return Ended::Closed(1006);
                }
            }
            // `close()` dropped the sender and closed the socket cleanly.
            Ended::Closed(1000)
        };
        let reader = async {
            let mut opened = false;
            loop {
                match stream.next().await {
                    Some(Ok(Message::Text(text))) => {
                        opened = true;
                        match ServerMessage::parse(&text) {
                            Ok(message) => handle(message).await,
                            Err(e) => leptos::logging::warn!("ignored a server frame: {e}"),
                        }
                    }
                    Some(Ok(Message::Bytes(_))) => opened = true,
                    Some(Err(WebSocketError::ConnectionClose(event))) => {
                        return if opened || event.code != 1006 {
                            Ended::Closed(event.code)
                        } else {
                            diagnose(url).await
                        };
                    }
                    Some(Err(_)) => continue,
                    None => return Ended::Closed(1006),
                }
            }
        };
        let ended = match select(pin!(writer), pin!(reader)).await {
            Either::Left((ended, _)) | Either::Right((ended, _)) => ended,
        };
        self.connected.set(false);
        self.outgoing.borrow_mut().take();
        self.socket.borrow_mut().take();
        ended
    }
}

/// A WebSocket that fails to open tells the page nothing about why. The server checks a join
/// before the upgrade, so asking the same URL over plain HTTP gets its JSON refusal, if any.
async fn diagnose(ws_url: &str) -> Ended {
    let http_url = ws_url.replacen("ws", "http", 1);
    let Some(window) = web_sys::window() else {
        return Ended::Unreachable;
    };
    let Ok(response) = JsFuture::from(window.fetch_with_str(&http_url)).await else {
        return Ended::Unreachable;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return Ended::Unreachable;
    };
    let Ok(body) = response.text() else {
        return Ended::Unreachable;
    };
    let Some(text) = JsFuture::from(body).await.ok().and_then(|t| t.as_string()) else {
        return Ended::Unreachable;
    };
    match Refusal::parse(&text) {
        Ok(refusal) => Ended::Refused(refusal.code, refusal.message),
        // Not a refusal: the server is there but said something else; try again later.
        Err(_) => Ended::Closed(1006),
    }
}
