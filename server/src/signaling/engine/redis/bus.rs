//! This node's inbox: one pub/sub channel (`rm:inbox:<node>`) on its own self-reconnecting
//! RESP3 connection. Frames go through each socket's [`Inbox`](crate::signaling::inbox::Inbox);
//! after any reconnect of the subscription (messages published meanwhile are lost by pub/sub)
//! every local socket catches up from its log.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::CloseCode;
use redis::aio::ConnectionManager;
use redis::{PushInfo, PushKind, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{manager_config, wall_us, Inner};
use crate::metrics::Kind;
use crate::signaling::inbox::Numbered;

/// Pause between attempts to (re)subscribe.
const RETRY: Duration = Duration::from_millis(100);

/// Listens to this node's inbox until `shutdown`.
pub(super) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    let channel = format!("rm:inbox:{}", inner.registry.node());
    let (tx, mut pushes) = mpsc::unbounded_channel::<PushInfo>();
    let config = manager_config(&inner.settings)
        .set_push_sender(tx)
        .set_automatic_resubscription();
    let mut sub = loop {
        match ConnectionManager::new_with_config(inner.client.clone(), config.clone()).await {
            Ok(sub) => break sub,
            Err(e) => tracing::debug!(error = %e, "inbox connection failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RETRY) => {}
        }
    };
    let mut resubscribe = true;
    loop {
        if resubscribe {
            match sub.subscribe(&channel).await {
                Ok(()) => {
                    resubscribe = false;
                    inner.subscribed.store(true, Ordering::Release);
                    tracing::info!(%channel, "inbox subscribed");
                    catch_up(&inner).await;
                }
                Err(e) => tracing::debug!(error = %e, "subscribe failed"),
            }
        }
        let wait = async {
            if resubscribe {
                tokio::time::sleep(RETRY).await;
                None
            } else {
                pushes.recv().await
            }
        };
        let push = tokio::select! {
            () = shutdown.cancelled() => return,
            push = wait => push,
        };
        let Some(push) = push else { continue };
        match push.kind {
            PushKind::Message => {
                if let Some(Value::BulkString(payload)) = push.data.get(1) {
                    deliver(&inner, payload);
                }
            }
            PushKind::Disconnection => {
                // Whatever was published from now until the subscription is back is lost to
                // pub/sub; the catch-up after resubscribing recovers it from the logs.
                inner.subscribed.store(false, Ordering::Release);
                tracing::warn!(%channel, "inbox connection lost");
                resubscribe = true;
            }
            _ => {}
        }
    }
}

/// One published frame: `<local conn>\n<seq>\n<kind>\n<sent us>\n<frame>` (seq 0: control).
fn deliver(inner: &Arc<Inner>, payload: &[u8]) {
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    let mut parts = payload.splitn(5, '\n');
    let (Some(conn), Some(seq), Some(kind), Some(sent), Some(frame)) = (
        parts.next().and_then(|s| s.parse::<u64>().ok()),
        parts.next().and_then(|s| s.parse::<u64>().ok()),
        parts.next(),
        parts.next().and_then(|s| s.parse::<u64>().ok()),
        parts.next(),
    ) else {
        tracing::warn!("malformed inbox message");
        return;
    };
    if seq == 0 {
        if kind == "replaced" {
            inner
                .registry
                .with(conn, |c| c.handle.control.close(CloseCode::Replaced));
        }
        return;
    }
    let frame = Numbered {
        seq,
        kind: Kind::from_label(kind).unwrap_or(Kind::Invalid),
        text: frame.to_owned().into(),
        received: received_at(sent),
    };
    let next = inner
        .registry
        .with(conn, |c| c.inbox.offer(frame, &c.handle, &inner.metrics));
    if let Some(next) = next {
        inner.follow(conn, next);
    }
}

/// The local instant a frame reached its sender's node, from wall-clock microseconds.
fn received_at(sent_us: u64) -> Option<Instant> {
    if sent_us == 0 {
        return None;
    }
    let ago = Duration::from_micros(wall_us().saturating_sub(sent_us));
    Instant::now().checked_sub(ago)
}

/// Every local socket fetches what its log holds beyond what it got.
async fn catch_up(inner: &Arc<Inner>) {
    for (conn, room, peer, next) in inner.registry.snapshot() {
        if next == 0 {
            continue; // its join is still under way and will start it
        }
        let Ok(frames) = inner.fetch(&room, &peer, next, None).await else {
            continue;
        };
        let next = inner
            .registry
            .with(conn, |c| c.inbox.fill(frames, &c.handle, &inner.metrics));
        if let Some(next) = next {
            inner.follow(conn, next);
        }
    }
}

/// The frames of an `XRANGE` reply on a log: ids `<seq>-0`, fields `k` (kind) and `f` (frame).
pub(super) fn entries(value: Value) -> Vec<Numbered> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            let Value::Array(mut pair) = item else {
                return None;
            };
            let fields = pair.pop()?;
            let id = text(pair.pop()?)?;
            let seq = id.split('-').next()?.parse().ok()?;
            let fields: Vec<Value> = match fields {
                Value::Array(f) => f,
                Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
                _ => return None,
            };
            let mut kind = Kind::Invalid;
            let mut frame = None;
            let mut it = fields.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                match text(k)?.as_str() {
                    "k" => kind = Kind::from_label(&text(v)?).unwrap_or(Kind::Invalid),
                    "f" => frame = Some(text(v)?),
                    _ => {}
                }
            }
            Some(Numbered {
                seq,
                kind,
                text: frame?.into(),
                received: None,
            })
        })
        .collect()
}

/// A string reply.
fn text(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(s) => Some(s),
        _ => None,
    }
}
