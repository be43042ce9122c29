//! The engine: who is in which room, and delivery of frames to them — behind one trait, so a
//! single process keeps its rooms in memory and several processes can share them.
//!
//! Every decision (capacity, taken ids, resume, grace, `new-peer` / `peer-left`) is made by the
//! engine atomically: a join is one operation that admits or refuses and, when it admits, queues
//! the `welcome` before anything else can reach the new socket. The caller supplies the
//! node-specific parts of `welcome` (ICE servers, the node id, any later additions) and the
//! engine fills in the room state (`peers`, `session`).

pub mod memory;
pub mod redis;

use std::future::Future;
use std::time::Instant;

use protocol::{ErrorCode, MediaState, PeerId, RoomId, ServerMessage, Welcome};

use super::handle::{ConnHandle, Outbound};
use super::node::ConnId;
use crate::metrics::Kind;
pub use memory::MemoryEngine;
pub use redis::{RedisEngine, RedisSettings};

/// Why a join is refused (an HTTP status before the upgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The id is in use and no matching resume token was given (409).
    PeerIdTaken,
    /// The room is at capacity (409).
    RoomFull,
    /// The engine cannot decide now (its store is unreachable): try again shortly (503).
    Unavailable,
}

impl Refusal {
    /// The HTTP status of the refusal.
    pub fn status(self) -> u16 {
        match self {
            Refusal::PeerIdTaken | Refusal::RoomFull => 409,
            Refusal::Unavailable => 503,
        }
    }

    /// The code of the HTTP error body.
    pub fn code(self) -> ErrorCode {
        match self {
            Refusal::PeerIdTaken => ErrorCode::PeerIdTaken,
            Refusal::RoomFull => ErrorCode::RoomFull,
            Refusal::Unavailable => ErrorCode::Unavailable,
        }
    }

    /// For people.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::PeerIdTaken => "this peer id is already in the room",
            Refusal::RoomFull => "the room is full",
            Refusal::Unavailable => "rooms are unavailable for a moment: try again shortly",
        }
    }
}

/// Why a relay was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayError {
    /// The recipient is not in the sender's room.
    NoSuchPeer,
    /// The engine's store is unreachable: the frame was dropped (the sender is told).
    Unavailable,
}

/// How a join went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    /// A new peer: the others got `new-peer`.
    New,
    /// An existing session taken over with its resume token: nobody was told.
    Resumed,
}

/// Who asks to join, validated.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The room.
    pub room: RoomId,
    /// The peer id.
    pub peer: PeerId,
    /// Display name, trimmed; empty for none (on resume: keep the old one).
    pub name: String,
    /// The resume token the client presented, if any.
    pub resume: Option<String>,
    /// On resume: how many numbered frames the client got (see `Welcome::seq`), so an engine
    /// with a log replays exactly what it missed.
    pub last: Option<u64>,
}

/// Rooms and peers, for `/api/stats` and `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Rooms with at least one peer.
    pub rooms: usize,
    /// Peers in all rooms, including those in their resume grace.
    pub peers: usize,
}

/// Room state and delivery. Implementations never hold a lock across an `.await` and never
/// wait on a client: frames are queued with [`ConnHandle::send`].
pub trait Engine: Send + Sync {
    /// What [`Engine::join`] would decide now, without joining: lets a plain `GET` of a join
    /// URL learn why it would be refused.
    fn check(
        &self,
        room: &RoomId,
        peer: &PeerId,
        resume: Option<&str>,
    ) -> impl Future<Output = Result<(), Refusal>> + Send;

    /// Admits `conn` atomically (capacity, taken id, resume token), queues `welcome` (with
    /// `peers` and `session` filled in) as its first frame, then tells the others `new-peer`
    /// unless it resumed — in which case the socket it replaces is closed with 4009.
    fn join(
        &self,
        join: JoinRequest,
        conn: &ConnHandle,
        welcome: Welcome,
    ) -> impl Future<Output = Result<Joined, Refusal>> + Send;

    /// Delivers an encoded relay frame to `to` in `room`, in order per sender.
    fn relay(
        &self,
        room: &RoomId,
        to: &PeerId,
        frame: Outbound,
    ) -> impl Future<Output = Result<(), RelayError>> + Send;

    /// Broadcasts a chat message to the whole room, the sender included, stamped with server
    /// time, the room's next chat id and the sender's name.
    fn chat(
        &self,
        room: &RoomId,
        from: &PeerId,
        text: String,
        received: Instant,
    ) -> impl Future<Output = ()> + Send;

    /// Remembers a peer's media state and tells the others.
    fn media(
        &self,
        room: &RoomId,
        from: &PeerId,
        state: MediaState,
        received: Instant,
    ) -> impl Future<Output = ()> + Send;

    /// A frame from the server itself to every peer of `room` (e.g. a room-wide announcement).
    fn announce(
        &self,
        room: &RoomId,
        message: &ServerMessage,
        kind: Kind,
    ) -> impl Future<Output = ()> + Send;

    /// Socket `conn` of `peer` is gone without leaving (dropped, or closed by a drain): the
    /// slot stays for the resume grace, after which the others get `peer-left`. Returns whether
    /// the slot was still this socket's.
    fn dropped(
        &self,
        room: &RoomId,
        peer: &PeerId,
        conn: &ConnId,
    ) -> impl Future<Output = bool> + Send;

    /// `peer` leaves now if its slot still belongs to `conn`: the others get `peer-left`, an
    /// empty room vanishes. Returns whether it left.
    fn leave(
        &self,
        room: &RoomId,
        peer: &PeerId,
        conn: &ConnId,
    ) -> impl Future<Output = bool> + Send;

    /// Rooms and peers now, over everything this engine covers.
    fn counts(&self) -> impl Future<Output = Counts> + Send;
}

/// The engine this server runs, chosen at start: a closed set, so calls dispatch statically
/// and the in-memory path costs no boxing.
pub enum AnyEngine {
    /// One process, rooms in memory (the default).
    Memory(MemoryEngine),
    /// Rooms shared through Redis with every node using the same Redis.
    Redis(RedisEngine),
}

impl AnyEngine {
    /// Whether calls cross the network (and are worth queueing rather than awaiting inline).
    pub fn is_remote(&self) -> bool {
        matches!(self, AnyEngine::Redis(_))
    }

    /// Waits (at most `wait`) until the engine can admit joins; returns whether it can.
    pub async fn ready(&self, wait: std::time::Duration) -> bool {
        match self {
            AnyEngine::Memory(_) => true,
            AnyEngine::Redis(e) => e.ready(wait).await,
        }
    }
}

/// Forwards one [`Engine`] method to the chosen engine.
///
/// The Redis engine's futures are boxed: each holds a Redis round trip's state (hundreds of
/// bytes), and without the box every caller's future would be that large too — including each
/// idle connection's task on the in-memory engine, whose futures are a few bytes and complete
/// at once. A Redis call costs a network round trip, so its allocation does not matter.
macro_rules! dispatch {
    ($self:ident, $engine:ident => $call:expr) => {
        match $self {
            AnyEngine::Memory($engine) => $call.await,
            AnyEngine::Redis($engine) => Box::pin($call).await,
        }
    };
}

impl Engine for AnyEngine {
    async fn check(
        &self,
        room: &RoomId,
        peer: &PeerId,
        resume: Option<&str>,
    ) -> Result<(), Refusal> {
        dispatch!(self, e => e.check(room, peer, resume))
    }

    async fn join(
        &self,
        join: JoinRequest,
        conn: &ConnHandle,
        welcome: Welcome,
    ) -> Result<Joined, Refusal> {
        dispatch!(self, e => e.join(join, conn, welcome))
    }

    async fn relay(&self, room: &RoomId, to: &PeerId, frame: Outbound) -> Result<(), RelayError> {
        dispatch!(self, e => e.relay(room, to, frame))
    }

    async fn chat(&self, room: &RoomId, from: &PeerId, text: String, received: Instant) {
        dispatch!(self, e => e.chat(room, from, text, received))
    }

    async fn media(&self, room: &RoomId, from: &PeerId, state: MediaState, received: Instant) {
        dispatch!(self, e => e.media(room, from, state, received))
    }

    async fn announce(&self, room: &RoomId, message: &ServerMessage, kind: Kind) {
        dispatch!(self, e => e.announce(room, message, kind))
    }

    async fn dropped(&self, room: &RoomId, peer: &PeerId, conn: &ConnId) -> bool {
        dispatch!(self, e => e.dropped(room, peer, conn))
    }

    async fn leave(&self, room: &RoomId, peer: &PeerId, conn: &ConnId) -> bool {
        dispatch!(self, e => e.leave(room, peer, conn))
    }

    async fn counts(&self) -> Counts {
        dispatch!(self, e => e.counts())
    }
}
