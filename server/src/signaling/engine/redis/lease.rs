//! This node's lease in Redis, renewed every third of its length by one script that also reaps
//! dead nodes and expired graces. A node that cannot renew for a whole lease closes its sockets
//! (1012: reconnect elsewhere) rather than keep rooms going on its own.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use protocol::CloseCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{millis, Inner};

/// Renews until `shutdown`; then hands this node's peers to their grace.
pub(super) async fn run(inner: Arc<Inner>, shutdown: CancellationToken) {
    let lease = inner.settings.lease;
    let every = lease / 3;
    let node = inner.registry.node().to_string();
    let lease_ms = millis(lease).to_string();
    let grace_ms = millis(inner.settings.grace).to_string();
    let log_ttl = inner.log_ttl_ms().to_string();
    let mut last_ok: Option<Instant> = None;
    let mut holding = false;
    loop {
        let args: [&str; 4] = [node.as_str(), &lease_ms, &grace_ms, &log_ttl];
        let renewed =
            tokio::time::timeout(every, inner.run::<Vec<String>>(&inner.scripts.tick, &args)).await;
        match renewed {
            Ok(Ok(reply)) => {
                if reply.first().map(String::as_str) == Some("lost") && holding {
                    // Reaped (or Redis lost its data): this node's peers are in their grace
                    // already; their sockets must resume through a node the room knows.
                    let closed = inner.registry.close_all(CloseCode::Reconnect.code());
                    tracing::warn!(closed, "node lease was lost: sockets closed");
                }
                if !holding {
                    // Loaded ahead, so no frame pays for a script's first use (and Redis
                    // may have restarted without them).
                    for script in inner.scripts.all() {
                        let _ = script.load_async(&mut inner.conn.clone()).await;
                    }
                }
                holding = true;
                last_ok = Some(Instant::now());
                inner.admitting.store(true, Ordering::Release);
            }
            _ => {
                // One slow renewal is not a lost lease; a whole lease without one is.
                let expired = last_ok.is_none_or(|t| t.elapsed() >= lease);
                if holding && expired {
                    holding = false;
                    inner.admitting.store(false, Ordering::Release);
                    let closed = inner.registry.close_all(CloseCode::Reconnect.code());
                    tracing::warn!(
                        closed,
                        "Redis unreachable for a whole lease: sockets closed"
                    );
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
    }
    inner.admitting.store(false, Ordering::Release);
    let args: [&str; 2] = [node.as_str(), grace_ms.as_str()];
    let stopped = tokio::time::timeout(every, inner.run::<i64>(&inner.scripts.stop, &args)).await;
    if !matches!(stopped, Ok(Ok(_))) {
        tracing::warn!("could not hand this node's peers over: they are reaped with its lease");
    }
}
