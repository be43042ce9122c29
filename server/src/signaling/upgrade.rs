//! `GET /ws/{room}/{peer}`: every refusal happens here, as an HTTP error with a JSON body, before
//! the protocol switch — a client learns why it cannot join without parsing frames.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{
    extract::{
        rejection::{PathRejection, QueryRejection},
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        ConnectInfo, Path, Query, State,
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use protocol::{limits::MAX_NAME_CHARS, ErrorCode, PeerId, RoomId, Welcome};
use serde::Deserialize;

use super::connection::{self, Admitted};
use super::engine::{Engine, JoinRequest, Refusal};
use super::node::ConnId;
use super::{origin, Signaling};

/// Read buffer of an upgraded socket, allocated for every connection up front. tungstenite's
/// default (128 KiB) would dominate the memory of an idle connection, and so did 4 KiB (a third
/// of it). The cost is syscalls, not correctness: tungstenite grows the buffer to hold a larger
/// frame whole, but reads at most this many bytes per call, so a 5 KB offer takes five reads
/// instead of two — nothing at signaling rates.
const READ_BUFFER_BYTES: usize = 1024;

/// Bytes tungstenite collects before writing to the socket; the writer flushes after each
/// batch anyway, so this only merges the frames of one batch into fewer syscalls.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The optional query of the upgrade.
#[derive(Debug, Deserialize)]
pub struct JoinQuery {
    /// Display name.
    name: Option<String>,
    /// Resume token from an earlier `welcome`.
    resume: Option<String>,
    /// With `resume`: how many numbered frames the client got in its session.
    last: Option<u64>,
}

use crate::refusal::refuse;

/// Checks everything that can be checked before the upgrade, joins, then hands the socket to
/// [`connection::serve`].
pub async fn ws_handler(
    State(sig): State<Arc<Signaling>>,
    ConnectInfo(peer_addr): ConnectInfo<SocketAddr>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<JoinQuery>, QueryRejection>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let metrics = &sig.metrics;
    let refused = |status, code, message: String| {
        metrics.error(code);
        refuse(status, code, message)
    };
    let Ok(Path((room, peer))) = path else {
        return refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidId,
            "the URL must be /ws/{room}/{peer}".into(),
        );
    };
    let room = match RoomId::parse(&room) {
        Ok(room) => room,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidId,
                format!("room id {e}"),
            )
        }
    };
    let peer = match PeerId::parse(&peer) {
        Ok(peer) => peer,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidId,
                format!("peer id {e}"),
            )
        }
    };
    let Ok(Query(query)) = query else {
        return refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "bad query string".into(),
        );
    };
    let name = query.name.as_deref().unwrap_or("").trim().to_owned();
    if name.chars().count() > MAX_NAME_CHARS {
        return refused(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!("name must be at most {MAX_NAME_CHARS} characters"),
        );
    }
    let client = crate::forwarded::client(peer_addr, &headers, &sig.settings.trusted_proxies);
    if !origin::allowed_for_host(
        &headers,
        client.host.as_deref(),
        &sig.settings.allowed_origins,
    ) {
        tracing::info!(%room, %peer, ip = %client.ip, origin = ?headers.get("origin"), "origin refused");
        return refused(
            StatusCode::FORBIDDEN,
            ErrorCode::ForbiddenOrigin,
            "this Origin may not open signaling sockets".into(),
        );
    }
    // Draining before a restart: the restarted process (or another node) takes the join.
    if sig.shutdown.is_cancelled() {
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Restarting,
            "the server is restarting: try again in a moment".into(),
        );
    }
    let Ok(permit) = sig.connections.clone().try_acquire_owned() else {
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerFull,
            "the server is at its connection limit".into(),
        );
    };
    let resume = query.resume.filter(|t| !t.is_empty());
    // A plain GET (no upgrade headers) joins nothing, but learns why a join would be refused:
    // a browser's failed WebSocket reveals neither status nor body.
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            if let Err(refusal) = sig.engine.check(&room, &peer, resume.as_deref()).await {
                return refused(status(refusal), refusal.code(), refusal.message().into());
            }
            return rejection.into_response();
        }
    };
    // The join itself happens here, before the 101 response: once a client's handshake has
    // completed it is in the room, and hears about everyone who joins after it.
    let (conn, rx) = sig
        .registry
        .open(room.clone(), peer.clone(), sig.settings.outbound_queue);
    let welcome = Welcome {
        you: peer.clone(),
        session: String::new(),
        peers: Vec::new(),
        // Minted per welcome, resumes included: fresh credentials on every join.
        ice_servers: sig.ice.servers_for(&peer, std::time::SystemTime::now()),
        ice_transport_policy: sig.ice.policy(),
        node: sig.registry.node().to_string(),
        seq: None,
        recording: sig.recording_notice(&room),
    };
    let request = JoinRequest {
        room: room.clone(),
        peer: peer.clone(),
        name,
        resume,
        last: query.last,
    };
    let mut guard = JoinGuard {
        sig: sig.clone(),
        room: room.clone(),
        peer: peer.clone(),
        conn: conn.id.clone(),
        armed: true,
    };
    let joined = sig.engine.join(request, &conn, welcome).await;
    guard.armed = false;
    let joined = match joined {
        Ok(joined) => joined,
        Err(refusal) => {
            sig.registry.close(&conn.id);
            return refused(status(refusal), refusal.code(), refusal.message().into());
        }
    };
    tracing::info!(%room, %peer, ?joined, conn = %conn.id, ip = %client.ip, "peer joined");
    let max = sig.settings.max_frame_bytes;
    let admitted = Admitted::new(room, peer, joined, conn, rx, sig.clone());
    let tracker = sig.tracker.clone();
    ws.max_frame_size(max)
        .max_message_size(max)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        // A frame of ours is at most an envelope around a client's frame; twice that plus the
        // batch buffer bounds what one stalled socket can hold in user space.
        .max_write_buffer_size(WRITE_BUFFER_BYTES + 2 * max + 4096)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "upgrade failed"))
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                connection::serve(socket, admitted, sig).await;
                drop(permit);
            })
        })
}

/// Undoes a join whose request was abandoned while the engine decided (the client went away
/// mid-request): the engine may have admitted it, and nothing else would ever remove it.
struct JoinGuard {
    sig: Arc<Signaling>,
    room: RoomId,
    peer: PeerId,
    conn: ConnId,
    /// Until the join's outcome is in hand.
    armed: bool,
}

impl Drop for JoinGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.sig.registry.close(&self.conn);
        let (sig, room, peer, conn) = (
            self.sig.clone(),
            self.room.clone(),
            self.peer.clone(),
            self.conn.clone(),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { sig.engine.leave(&room, &peer, &conn).await });
        }
    }
}

/// The HTTP status of a refused join.
fn status(refusal: Refusal) -> StatusCode {
    StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::CONFLICT)
}

/// Any other `/ws/…` path (a missing or extra segment): not a valid pair of ids.
pub async fn bad_path() -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        ErrorCode::InvalidId,
        "the URL must be /ws/{room}/{peer} with ids of 1-64 characters of A-Z a-z 0-9 _ -",
    )
}
