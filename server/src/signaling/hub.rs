//! The rooms registry: the one owner of all room state.
//!
//! State lives behind a `std::sync::Mutex`, not in an actor task. Every operation is a short,
//! synchronous critical section (a map lookup and a few `try_send`s), and the lock is never held
//! across an `.await` — all methods here are plain `fn`s, which the compiler enforces. A relay
//! thus costs one uncontended lock instead of two channel hops through an actor, which matters
//! for the p99 latency target, and there is no actor queue that could itself become a bottleneck.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use protocol::{ChatMessage, ErrorCode, MediaState, PeerId, RoomId, ServerMessage, Welcome};

use super::handle::{ConnHandle, Outbound};
use super::room::{Room, Slot};
use crate::metrics::{Kind, Metrics};
use crate::random;
use crate::turn::IceConfig;

/// Length of resume tokens: 24 characters of `A-Za-z0-9` (142 bits), unguessable.
const SESSION_TOKEN_LEN: usize = 24;

/// Why a join is refused (HTTP 409 before the upgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The id is in use and no matching resume token was given.
    PeerIdTaken,
    /// The room is at capacity.
    RoomFull,
}

impl Refusal {
    /// The code of the HTTP error body.
    pub fn code(self) -> ErrorCode {
        match self {
            Refusal::PeerIdTaken => ErrorCode::PeerIdTaken,
            Refusal::RoomFull => ErrorCode::RoomFull,
        }
    }

    /// For people.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::PeerIdTaken => "this peer id is already in the room",
            Refusal::RoomFull => "the room is full",
        }
    }
}

/// A relay's recipient is not in the sender's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSuchPeer;

/// How a join went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    /// A new peer: the others got `new-peer`.
    New,
    /// An existing session taken over with its resume token: nobody was told.
    Resumed,
}

/// All rooms, and what every join needs to know.
pub struct Hub {
    /// Rooms by id; a room exists while it has at least one slot.
    rooms: Mutex<HashMap<RoomId, Room>>,
    /// Most peers per room.
    capacity: usize,
    /// The ICE servers of every `welcome`, with TURN credentials minted per peer.
    ice: Arc<IceConfig>,
    /// Counters.
    metrics: Arc<Metrics>,
}

impl Hub {
    /// An empty hub.
    pub fn new(capacity: usize, ice: Arc<IceConfig>, metrics: Arc<Metrics>) -> Self {
        Hub {
            rooms: Mutex::new(HashMap::new()),
            capacity,
            ice,
            metrics,
        }
    }

    /// The ICE settings, for the credential renewals of each connection.
    pub fn ice(&self) -> &Arc<IceConfig> {
        &self.ice
    }

    /// The counters this hub updates.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Locks the rooms. A panic while holding the lock cannot leave a room half-updated in a
    /// way that matters more than losing the server, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, HashMap<RoomId, Room>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The decision of [`Hub::join`] without joining: lets the upgrade refuse with an HTTP
    /// status before switching protocols.
    ///
    /// # Errors
    /// The [`Refusal`] a join would get now.
    pub fn check(&self, room: &RoomId, peer: &PeerId, resume: Option<&str>) -> Result<(), Refusal> {
        let rooms = self.lock();
        match rooms.get(room) {
            Some(r) => self.admit(r, peer, resume).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Whether `peer` may enter `room`; `Ok(true)` when it resumes its slot.
    fn admit(&self, room: &Room, peer: &PeerId, resume: Option<&str>) -> Result<bool, Refusal> {
        match room.peers.get(peer) {
            Some(slot) if resume.is_some_and(|t| constant_time_eq(t, &slot.session)) => Ok(true),
            Some(_) => Err(Refusal::PeerIdTaken),
            None if room.peers.len() >= self.capacity => Err(Refusal::RoomFull),
            None => Ok(false),
        }
    }

    /// Puts `conn` into `room` as `peer`, queues its `welcome` first, and tells the others
    /// (unless it resumes, in which case the socket it replaces is closed with 4009).
    ///
    /// # Errors
    /// A [`Refusal`] when the room changed since [`Hub::check`].
    pub fn join(
        &self,
        room_id: &RoomId,
        peer: &PeerId,
        name: String,
        resume: Option<&str>,
        conn: ConnHandle,
    ) -> Result<Joined, Refusal> {
        // Minted outside the lock: fresh credentials on every welcome, resumes included.
        let ice_servers = self.ice.servers_for(peer, SystemTime::now());
        let mut rooms = self.lock();
        let room = rooms.entry(room_id.clone()).or_default();
        let resumed = match self.admit(room, peer, resume) {
            Ok(resumed) => resumed,
            Err(refusal) => {
                if room.peers.is_empty() {
                    rooms.remove(room_id);
                }
                return Err(refusal);
            }
        };
        let session = if resumed {
            let slot = room.peers.get_mut(peer).ok_or(Refusal::PeerIdTaken)?;
            if let Some(old) = slot.conn.replace(conn.clone()) {
                old.control.close(protocol::CloseCode::Replaced);
            }
            slot.conn_id = conn.id;
            if !name.is_empty() {
                slot.name = name.clone();
            }
            slot.session.clone()
        } else {
            let session = random::token(SESSION_TOKEN_LEN);
            room.peers.insert(
                peer.clone(),
                Slot {
                    name: name.clone(),
                    media: MediaState::default(),
                    session: session.clone(),
                    conn_id: conn.id,
                    conn: Some(conn.clone()),
                },
            );
            session
        };
        let welcome = ServerMessage::Welcome(Welcome {
            you: peer.clone(),
            session,
            peers: room.peer_list(peer),
            ice_servers,
            ice_transport_policy: self.ice.policy(),
        });
        conn.send(
            Outbound {
                text: welcome.encode(room_id).into(),
                kind: Kind::Welcome,
                received: None,
            },
            &self.metrics,
        );
        if resumed {
            return Ok(Joined::Resumed);
        }
        let new_peer = ServerMessage::NewPeer {
            id: peer.clone(),
            name,
        };
        let text: Utf8Bytes = new_peer.encode(room_id).into();
        room.broadcast(&text, Kind::NewPeer, Some(peer), None, &self.metrics);
        Ok(Joined::New)
    }

    /// Delivers an encoded relay frame to `to` in `room`.
    ///
    /// # Errors
    /// [`NoSuchPeer`] when `to` is not in the room. A peer in its resume grace is present; the
    /// frame is then dropped, as it would have been by the dead socket.
    pub fn relay(&self, room: &RoomId, to: &PeerId, frame: Outbound) -> Result<(), NoSuchPeer> {
        let rooms = self.lock();
        let slot = rooms
            .get(room)
            .and_then(|r| r.peers.get(to))
            .ok_or(NoSuchPeer)?;
        if let Some(conn) = &slot.conn {
            conn.send(frame, &self.metrics);
        }
        Ok(())
    }

    /// Broadcasts a chat message to the whole room, the sender included, stamped with server
    /// time, the next id of the room and the sender's name.
    pub fn chat(&self, room_id: &RoomId, from: &PeerId, text: String, received: Instant) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(room_id) else {
            return;
        };
        let Some(name) = room.peers.get(from).map(|s| s.name.clone()) else {
            return;
        };
        room.last_chat_id += 1;
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let message = ServerMessage::Chat {
            from: from.clone(),
            message: ChatMessage {
                text,
                ts,
                id: room.last_chat_id,
                name,
            },
        };
        let text: Utf8Bytes = message.encode(room_id).into();
        room.broadcast(&text, Kind::Chat, None, Some(received), &self.metrics);
    }

    /// Remembers a peer's media state and tells the others.
    pub fn media(&self, room_id: &RoomId, from: &PeerId, state: MediaState, received: Instant) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(room_id) else {
            return;
        };
        let Some(slot) = room.peers.get_mut(from) else {
            return;
        };
        slot.media = state;
        let message = ServerMessage::Media {
            from: from.clone(),
            state,
        };
        let text: Utf8Bytes = message.encode(room_id).into();
        room.broadcast(
            &text,
            Kind::Media,
            Some(from),
            Some(received),
            &self.metrics,
        );
    }

    /// The socket `conn_id` dropped without a close: the slot stays for the resume grace.
    /// Returns whether the slot is still this socket's (false when it was resumed meanwhile).
    pub fn drop_conn(&self, room_id: &RoomId, peer: &PeerId, conn_id: u64) -> bool {
        let mut rooms = self.lock();
        match rooms.get_mut(room_id).and_then(|r| r.peers.get_mut(peer)) {
            Some(slot) if slot.conn_id == conn_id => {
                slot.conn = None;
                true
            }
            _ => false,
        }
    }

    /// Removes `peer` if its slot still belongs to socket `conn_id`, tells the others with
    /// `peer-left`, and removes the room when it is empty. Returns whether it left.
    pub fn leave(&self, room_id: &RoomId, peer: &PeerId, conn_id: u64) -> bool {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(room_id) else {
            return false;
        };
        match room.peers.get(peer) {
            Some(slot) if slot.conn_id == conn_id => {}
            _ => return false,
        }
        room.peers.remove(peer);
        if room.peers.is_empty() {
            rooms.remove(room_id);
            return true;
        }
        let text: Utf8Bytes = ServerMessage::PeerLeft { id: peer.clone() }
            .encode(room_id)
            .into();
        room.broadcast(&text, Kind::PeerLeft, None, None, &self.metrics);
        true
    }

    /// Rooms and peers now, for `/api/stats` and `/metrics`.
    pub fn counts(&self) -> (usize, usize) {
        let rooms = self.lock();
        (rooms.len(), rooms.values().map(|r| r.peers.len()).sum())
    }
}

/// Compares a presented token with the real one in time independent of where they differ, so a
/// resume token cannot be guessed byte by byte from response timing.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(capacity: usize) -> Hub {
        Hub::new(
            capacity,
            Arc::new(IceConfig::default()),
            Arc::new(Metrics::default()),
        )
    }
    fn ids(room: &str, peer: &str) -> (RoomId, PeerId) {
        (RoomId::parse(room).unwrap(), PeerId::parse(peer).unwrap())
    }

    #[test]
    fn rooms_appear_on_join_and_vanish_when_empty() {
        let hub = hub(2);
        let (room, a) = ids("r", "a");
        let (conn, _rx) = ConnHandle::new(8);
        let id = conn.id;
        assert_eq!(
            hub.join(&room, &a, String::new(), None, conn),
            Ok(Joined::New)
        );
        assert_eq!(hub.counts(), (1, 1));
        assert!(
            !hub.leave(&room, &a, id + 1000),
            "a stale socket must not evict"
        );
        assert!(hub.leave(&room, &a, id));
        assert_eq!(hub.counts(), (0, 0));
    }

    #[test]
    fn capacity_and_taken_ids_are_refused_and_resume_is_admitted() {
        let hub = hub(1);
        let (room, a) = ids("r", "a");
        let (conn, mut rx) = ConnHandle::new(8);
        hub.join(&room, &a, String::new(), None, conn).unwrap();
        let welcome = rx.try_recv().unwrap();
        let Ok(ServerMessage::Welcome(w)) = ServerMessage::parse(welcome.text.as_str()) else {
            panic!("first frame must be welcome");
        };
        assert_eq!(hub.check(&room, &a, None), Err(Refusal::PeerIdTaken));
        assert_eq!(
            hub.check(&room, &a, Some("wrong")),
            Err(Refusal::PeerIdTaken)
        );
        let (_, b) = ids("r", "b");
        assert_eq!(hub.check(&room, &b, None), Err(Refusal::RoomFull));
        assert_eq!(hub.check(&room, &a, Some(&w.session)), Ok(()));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
