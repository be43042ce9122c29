//! The in-memory engine: all rooms of one process, the default when no Redis is configured.
//!
//! State lives behind a `std::sync::Mutex`, not in an actor task. Every operation is a short,
//! synchronous critical section (a map lookup and a few `try_send`s), and the lock is never held
//! across an `.await` — the `Engine` methods here do all their work before their first (and
//! only) return, and the private helpers are plain `fn`s. A relay thus costs one uncontended
//! lock instead of two channel hops through an actor, which matters for the p99 latency target.
//!
//! Resume graces are deadlines in the same state, expired by one reaper task
//! ([`MemoryEngine::spawn_reaper`]) rather than a sleep in each dropped connection's task.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use protocol::limits::MAX_NAME_CHARS;
use protocol::{ChatMessage, MediaState, PeerId, RoomId, ServerMessage, Welcome};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Counts, Engine, JoinRequest, Joined, Refusal, RelayError};
use crate::metrics::{Kind, Metrics};
use crate::random;
use crate::signaling::handle::{ConnHandle, Outbound};
use crate::signaling::node::{ConnId, NodeId};
use crate::signaling::room::{Room, Slot};

/// Length of resume tokens: 24 characters of `A-Za-z0-9` (142 bits), unguessable.
pub const SESSION_TOKEN_LEN: usize = 24;

/// A dropped socket whose slot is kept until a deadline.
#[derive(Debug)]
struct Grace {
    /// The room.
    room: RoomId,
    /// The peer.
    peer: PeerId,
    /// The socket that dropped: if the slot moved to another socket since, nothing happens.
    conn: ConnId,
}

/// One room as a restart hands it to the next process (see `crate::drain::handoff`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRoom {
    /// The room.
    pub id: RoomId,
    /// Chat ids continue where they were, so clients never see an id twice.
    pub last_chat_id: u64,
    /// Its peers, without their (closed) sockets.
    pub peers: Vec<SavedPeer>,
}

/// One peer's slot as a restart hands it over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPeer {
    /// The peer.
    pub id: PeerId,
    /// Its display name.
    pub name: String,
    /// Its last media state.
    pub media: MediaState,
    /// Its resume token.
    pub session: String,
    /// What was left of its resume grace when it was saved, in ms.
    pub grace_left_ms: u64,
}

/// What the lock guards.
#[derive(Debug, Default)]
struct State {
    /// Rooms by id; a room exists while it has at least one slot.
    rooms: HashMap<RoomId, Room>,
    /// Resume graces by deadline (the counter keeps equal deadlines apart).
    graces: BTreeMap<(Instant, u64), Grace>,
    /// Source of the counter above.
    grace_counter: u64,
}

/// The engine's shared part: the reaper task holds it too.
struct Inner {
    /// Rooms and graces.
    state: Mutex<State>,
    /// Most peers per room.
    capacity: usize,
    /// How long a dropped peer keeps its slot.
    grace: Duration,
    /// Wakes the reaper when a grace starts.
    grace_added: Notify,
    /// Counters.
    metrics: Arc<Metrics>,
}

/// All rooms of this process.
pub struct MemoryEngine {
    /// Shared with the reaper.
    inner: Arc<Inner>,
}

impl MemoryEngine {
    /// An empty engine. Graces expire only once [`MemoryEngine::spawn_reaper`] runs.
    pub fn new(capacity: usize, grace: Duration, metrics: Arc<Metrics>) -> Self {
        MemoryEngine {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                capacity,
                grace,
                grace_added: Notify::new(),
                metrics,
            }),
        }
    }

    /// Starts the task that ends expired resume graces with `peer-left`; it stops with
    /// `shutdown`.
    pub fn spawn_reaper(&self, shutdown: CancellationToken) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            loop {
                let next = inner.reap(Instant::now());
                let wait = async {
                    match next {
                        Some(at) => tokio::time::sleep_until(at.into()).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = inner.grace_added.notified() => {}
                    () = wait => {}
                }
            }
        });
    }

    /// Every room, for the restart handoff: each peer with what is left of its grace (a full
    /// grace for one whose socket is still open). The rooms stay as they are.
    pub fn export(&self) -> Vec<SavedRoom> {
        let now = Instant::now();
        let state = self.inner.lock();
        let deadlines: HashMap<(&RoomId, &PeerId, &ConnId), Instant> = state
            .graces
            .iter()
            .map(|((at, _), g)| ((&g.room, &g.peer, &g.conn), *at))
            .collect();
        state
            .rooms
            .iter()
            .map(|(id, room)| SavedRoom {
                id: id.clone(),
                last_chat_id: room.last_chat_id,
                peers: room
                    .peers
                    .iter()
                    .map(|(peer, slot)| {
                        let left = match (&slot.conn, deadlines.get(&(id, peer, &slot.conn_id))) {
                            (None, Some(at)) => at.saturating_duration_since(now),
                            _ => self.inner.grace,
                        };
                        SavedPeer {
                            id: peer.clone(),
                            name: slot.name.clone(),
                            media: slot.media,
                            session: slot.session.clone(),
                            grace_left_ms: u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// Takes over the rooms a previous process saved, `elapsed` after it saved them: each peer
    /// gets a slot without a socket for what is left of its grace (at most this engine's
    /// grace), so it can resume with its token, and leaves with `peer-left` if it does not.
    /// Rooms that exist already, peers beyond the capacity or `max_peers` in all, expired
    /// graces and malformed tokens are skipped: the saved file is input like any other.
    /// Returns how many peers were taken over.
    pub fn import(&self, rooms: Vec<SavedRoom>, elapsed: Duration, max_peers: usize) -> usize {
        let inner = &self.inner;
        let now = Instant::now();
        // No socket ever has this node: a resume always replaces the placeholder id.
        let previous = NodeId::random();
        let mut seq = 0;
        let mut state = inner.lock();
        for saved in rooms {
            if seq >= max_peers || state.rooms.contains_key(&saved.id) {
                continue;
            }
            let mut room = Room {
                peers: HashMap::new(),
                last_chat_id: saved.last_chat_id,
            };
            let mut graces = Vec::new();
            for peer in saved.peers {
                let left = Duration::from_millis(peer.grace_left_ms)
                    .min(inner.grace)
                    .saturating_sub(elapsed);
                if seq >= max_peers
                    || room.peers.len() >= inner.capacity
                    || left.is_zero()
                    || !valid_token(&peer.session)
                    || room.peers.contains_key(&peer.id)
                {
                    continue;
                }
                seq += 1;
                let conn = ConnId {
                    node: previous.clone(),
                    seq: seq as u64,
                };
                graces.push((
                    now + left,
                    Grace {
                        room: saved.id.clone(),
                        peer: peer.id.clone(),
                        conn: conn.clone(),
                    },
                ));
                room.peers.insert(
                    peer.id,
                    Slot {
                        name: peer.name.trim().chars().take(MAX_NAME_CHARS).collect(),
                        media: peer.media,
                        session: peer.session,
                        conn_id: conn,
                        conn: None,
                    },
                );
            }
            if room.peers.is_empty() {
                continue;
            }
            state.rooms.insert(saved.id, room);
            for (at, grace) in graces {
                state.grace_counter += 1;
                let key = (at, state.grace_counter);
                state.graces.insert(key, grace);
            }
        }
        drop(state);
        inner.grace_added.notify_one();
        seq
    }

    /// Ends the graces due at `now`, for tests without a runtime.
    #[cfg(test)]
    fn reap_now(&self) {
        self.inner.reap(Instant::now());
    }
}

impl Inner {
    /// Locks the state. A panic while holding the lock cannot leave a room half-updated in a
    /// way that matters more than losing the server, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// Ends every grace due at `now` with a leave; returns the next deadline.
    fn reap(&self, now: Instant) -> Option<Instant> {
        let mut state = self.lock();
        while let Some(entry) = state.graces.first_entry() {
            if entry.key().0 > now {
                return Some(entry.key().0);
            }
            let grace = entry.remove();
            let live = state
                .rooms
                .get(&grace.room)
                .and_then(|r| r.peers.get(&grace.peer))
                .is_some_and(|s| s.conn_id == grace.conn && s.conn.is_none());
            if live && self.leave_locked(&mut state, &grace.room, &grace.peer, &grace.conn) {
                tracing::info!(room = %grace.room, peer = %grace.peer, "peer left: resume grace expired");
            }
        }
        None
    }

    /// [`Engine::leave`] with the lock held.
    fn leave_locked(
        &self,
        state: &mut State,
        room_id: &RoomId,
        peer: &PeerId,
        conn: &ConnId,
    ) -> bool {
        let Some(room) = state.rooms.get_mut(room_id) else {
            return false;
        };
        match room.peers.get(peer) {
            Some(slot) if slot.conn_id == *conn => {}
            _ => return false,
        }
        room.peers.remove(peer);
        if room.peers.is_empty() {
            state.rooms.remove(room_id);
            return true;
        }
        let text: Utf8Bytes = ServerMessage::PeerLeft { id: peer.clone() }
            .encode(room_id)
            .into();
        room.broadcast(&text, Kind::PeerLeft, None, None, &self.metrics);
        true
    }
}

impl Engine for MemoryEngine {
    async fn check(
        &self,
        room: &RoomId,
        peer: &PeerId,
        resume: Option<&str>,
    ) -> Result<(), Refusal> {
        let state = self.inner.lock();
        match state.rooms.get(room) {
            Some(r) => self.inner.admit(r, peer, resume).map(|_| ()),
            None => Ok(()),
        }
    }

    async fn join(
        &self,
        join: JoinRequest,
        conn: &ConnHandle,
        mut welcome: Welcome,
    ) -> Result<Joined, Refusal> {
        let inner = &self.inner;
        let JoinRequest {
            room: room_id,
            peer,
            name,
            resume,
            last: _,
        } = join;
        let mut state = inner.lock();
        let room = state.rooms.entry(room_id.clone()).or_default();
        let resumed = match inner.admit(room, &peer, resume.as_deref()) {
            Ok(resumed) => resumed,
            Err(refusal) => {
                if room.peers.is_empty() {
                    state.rooms.remove(&room_id);
                }
                return Err(refusal);
            }
        };
        let session = if resumed {
            let slot = room.peers.get_mut(&peer).ok_or(Refusal::PeerIdTaken)?;
            if let Some(old) = slot.conn.replace(conn.clone()) {
                old.control.close(protocol::CloseCode::Replaced);
            }
            slot.conn_id = conn.id.clone();
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
                    conn_id: conn.id.clone(),
                    conn: Some(conn.clone()),
                },
            );
            session
        };
        welcome.session = session;
        welcome.peers = room.peer_list(&peer);
        conn.send(
            Outbound {
                text: ServerMessage::Welcome(welcome).encode(&room_id).into(),
                kind: Kind::Welcome,
                received: None,
            },
            &inner.metrics,
        );
        if resumed {
            return Ok(Joined::Resumed);
        }
        let text: Utf8Bytes = ServerMessage::NewPeer {
            id: peer.clone(),
            name,
        }
        .encode(&room_id)
        .into();
        room.broadcast(&text, Kind::NewPeer, Some(&peer), None, &inner.metrics);
        Ok(Joined::New)
    }

    /// A peer in its resume grace is present; the frame is then dropped, as it would have been
    /// by the dead socket.
    async fn relay(&self, room: &RoomId, to: &PeerId, frame: Outbound) -> Result<(), RelayError> {
        let state = self.inner.lock();
        let slot = state
            .rooms
            .get(room)
            .and_then(|r| r.peers.get(to))
            .ok_or(RelayError::NoSuchPeer)?;
        if let Some(conn) = &slot.conn {
            conn.send(frame, &self.inner.metrics);
        }
        Ok(())
    }

    async fn chat(&self, room_id: &RoomId, from: &PeerId, text: String, received: Instant) {
        let mut state = self.inner.lock();
        let Some(room) = state.rooms.get_mut(room_id) else {
            return;
        };
        let Some(name) = room.peers.get(from).map(|s| s.name.clone()) else {
            return;
        };
        room.last_chat_id += 1;
        let message = ServerMessage::Chat {
            from: from.clone(),
            message: ChatMessage {
                text,
                ts: now_ms(),
                id: room.last_chat_id,
                name,
            },
        };
        let text: Utf8Bytes = message.encode(room_id).into();
        room.broadcast(&text, Kind::Chat, None, Some(received), &self.inner.metrics);
    }

    async fn media(&self, room_id: &RoomId, from: &PeerId, state: MediaState, received: Instant) {
        let mut guard = self.inner.lock();
        let Some(room) = guard.rooms.get_mut(room_id) else {
            return;
        };
        let Some(slot) = room.peers.get_mut(from) else {
            return;
        };
        slot.media = state;
        let text: Utf8Bytes = ServerMessage::Media {
            from: from.clone(),
            state,
        }
        .encode(room_id)
        .into();
        room.broadcast(
            &text,
            Kind::Media,
            Some(from),
            Some(received),
            &self.inner.metrics,
        );
    }

    async fn announce(&self, room_id: &RoomId, message: &ServerMessage, kind: Kind) {
        let text: Utf8Bytes = message.encode(room_id).into();
        let state = self.inner.lock();
        if let Some(room) = state.rooms.get(room_id) {
            room.broadcast(&text, kind, None, None, &self.inner.metrics);
        }
    }

    async fn dropped(&self, room_id: &RoomId, peer: &PeerId, conn: &ConnId) -> bool {
        let inner = &self.inner;
        let mut state = inner.lock();
        match state
            .rooms
            .get_mut(room_id)
            .and_then(|r| r.peers.get_mut(peer))
        {
            Some(slot) if slot.conn_id == *conn => slot.conn = None,
            _ => return false,
        }
        state.grace_counter += 1;
        let key = (Instant::now() + inner.grace, state.grace_counter);
        state.graces.insert(
            key,
            Grace {
                room: room_id.clone(),
                peer: peer.clone(),
                conn: conn.clone(),
            },
        );
        drop(state);
        inner.grace_added.notify_one();
        true
    }

    async fn leave(&self, room_id: &RoomId, peer: &PeerId, conn: &ConnId) -> bool {
        let mut state = self.inner.lock();
        self.inner.leave_locked(&mut state, room_id, peer, conn)
    }

    async fn counts(&self) -> Counts {
        let state = self.inner.lock();
        Counts {
            rooms: state.rooms.len(),
            peers: state.rooms.values().map(|r| r.peers.len()).sum(),
        }
    }
}

/// Server time in milliseconds since the Unix epoch, for chat timestamps.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A resume token as this engine makes them: alphanumeric, of the usual length.
fn valid_token(token: &str) -> bool {
    token.len() == SESSION_TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric())
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
    use crate::signaling::node::NodeId;
    use crate::signaling::registry::Registry;

    fn engine(capacity: usize) -> MemoryEngine {
        MemoryEngine::new(capacity, Duration::ZERO, Arc::new(Metrics::default()))
    }
    fn ids(room: &str, peer: &str) -> (RoomId, PeerId) {
        (RoomId::parse(room).unwrap(), PeerId::parse(peer).unwrap())
    }
    fn request(room: &RoomId, peer: &PeerId, resume: Option<&str>) -> JoinRequest {
        JoinRequest {
            room: room.clone(),
            peer: peer.clone(),
            name: String::new(),
            resume: resume.map(str::to_owned),
            last: None,
        }
    }
    fn blank(peer: &PeerId) -> Welcome {
        Welcome {
            you: peer.clone(),
            session: String::new(),
            peers: Vec::new(),
            ice_servers: Vec::new(),
            node: String::new(),
            seq: None,
            recording: None,
            ice_transport_policy: None,
        }
    }
    /// Runs a future that never waits (every method of this engine).
    fn now<F: std::future::Future>(f: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the in-memory engine must never wait"),
        }
    }

    #[test]
    fn rooms_appear_on_join_and_vanish_when_empty() {
        let engine = engine(2);
        let registry = Registry::new(NodeId::random());
        let (room, a) = ids("r", "a");
        let (conn, _rx) = registry.open(room.clone(), a.clone(), 8);
        let join = engine.join(request(&room, &a, None), &conn, blank(&a));
        assert_eq!(now(join), Ok(Joined::New));
        assert_eq!(now(engine.counts()), Counts { rooms: 1, peers: 1 });
        let (stale, _) = registry.open(room.clone(), a.clone(), 8);
        assert!(
            !now(engine.leave(&room, &a, &stale.id)),
            "a stale socket must not evict"
        );
        assert!(now(engine.leave(&room, &a, &conn.id)));
        assert_eq!(now(engine.counts()), Counts::default());
    }

    #[test]
    fn capacity_and_taken_ids_are_refused_and_resume_is_admitted() {
        let engine = engine(1);
        let registry = Registry::new(NodeId::random());
        let (room, a) = ids("r", "a");
        let (conn, mut rx) = registry.open(room.clone(), a.clone(), 8);
        now(engine.join(request(&room, &a, None), &conn, blank(&a))).unwrap();
        let welcome = rx.try_recv().unwrap();
        let Ok(ServerMessage::Welcome(w)) = ServerMessage::parse(welcome.text.as_str()) else {
            panic!("first frame must be welcome");
        };
        assert_eq!(
            now(engine.check(&room, &a, None)),
            Err(Refusal::PeerIdTaken)
        );
        assert_eq!(
            now(engine.check(&room, &a, Some("wrong"))),
            Err(Refusal::PeerIdTaken)
        );
        let (_, b) = ids("r", "b");
        assert_eq!(now(engine.check(&room, &b, None)), Err(Refusal::RoomFull));
        assert_eq!(now(engine.check(&room, &a, Some(&w.session))), Ok(()));
    }

    #[test]
    fn a_grace_ends_in_one_leave_unless_the_peer_resumed() {
        let engine = engine(4);
        let registry = Registry::new(NodeId::random());
        let (room, a) = ids("r", "a");
        let (_, b) = ids("r", "b");
        let (ca, mut ra) = registry.open(room.clone(), a.clone(), 8);
        let (cb, mut rb) = registry.open(room.clone(), b.clone(), 8);
        now(engine.join(request(&room, &a, None), &ca, blank(&a))).unwrap();
        now(engine.join(request(&room, &b, None), &cb, blank(&b))).unwrap();
        let w = ServerMessage::parse(rb.try_recv().unwrap().text.as_str()).unwrap();
        let ServerMessage::Welcome(wb) = w else {
            panic!("welcome")
        };
        // b drops and resumes: its old grace must not evict the new socket.
        assert!(now(engine.dropped(&room, &b, &cb.id)));
        let (cb2, _rb2) = registry.open(room.clone(), b.clone(), 8);
        let resumed = engine.join(request(&room, &b, Some(&wb.session)), &cb2, blank(&b));
        assert_eq!(now(resumed), Ok(Joined::Resumed));
        engine.reap_now();
        assert_eq!(now(engine.counts()).peers, 2);
        // Now it drops for good: exactly one peer-left reaches a.
        assert!(now(engine.dropped(&room, &b, &cb2.id)));
        engine.reap_now();
        engine.reap_now();
        let mut left = 0;
        while let Ok(frame) = ra.try_recv() {
            if frame.kind == Kind::PeerLeft {
                left += 1;
            }
        }
        assert_eq!(left, 1);
        assert_eq!(now(engine.counts()), Counts { rooms: 1, peers: 1 });
    }

    #[test]
    fn an_exported_room_resumes_in_the_next_engine_with_its_grace() {
        let old = MemoryEngine::new(4, Duration::from_secs(30), Arc::new(Metrics::default()));
        let registry = Registry::new(NodeId::random());
        let (room, a) = ids("r", "a");
        let (_, b) = ids("r", "b");
        let (ca, mut ra) = registry.open(room.clone(), a.clone(), 8);
        let (cb, _rb) = registry.open(room.clone(), b.clone(), 8);
        now(old.join(request(&room, &a, None), &ca, blank(&a))).unwrap();
        now(old.join(request(&room, &b, None), &cb, blank(&b))).unwrap();
        now(old.chat(&room, &a, "hi".into(), Instant::now()));
        let Ok(ServerMessage::Welcome(wa)) =
            ServerMessage::parse(ra.try_recv().unwrap().text.as_str())
        else {
            panic!("welcome")
        };
        // A drain: a's socket closed (its grace runs), b's still open at export time.
        assert!(now(old.dropped(&room, &a, &ca.id)));
        let saved = old.export();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].last_chat_id, 1);
        let grace_of = |p: &PeerId| {
            let peer = saved[0].peers.iter().find(|s| s.id == *p).unwrap();
            peer.grace_left_ms
        };
        assert!(grace_of(&a) <= 30_000 && grace_of(&a) > 29_000);
        assert_eq!(grace_of(&b), 30_000);

        // The next engine has a shorter grace: it caps what is left.
        let new = MemoryEngine::new(4, Duration::from_secs(5), Arc::new(Metrics::default()));
        assert_eq!(new.import(saved.clone(), Duration::from_millis(10), 100), 2);
        assert_eq!(now(new.counts()), Counts { rooms: 1, peers: 2 });
        assert_eq!(now(new.check(&room, &a, None)), Err(Refusal::PeerIdTaken));
        assert_eq!(now(new.check(&room, &a, Some(&wa.session))), Ok(()));
        let (ca2, _ra2) = registry.open(room.clone(), a.clone(), 8);
        let resumed = new.join(request(&room, &a, Some(&wa.session)), &ca2, blank(&a));
        assert_eq!(now(resumed), Ok(Joined::Resumed));
        // Importing the same rooms again takes nothing: they exist.
        assert_eq!(new.import(saved.clone(), Duration::ZERO, 100), 0);

        // Graces that ran out during the restart are not taken over.
        let late = MemoryEngine::new(4, Duration::from_secs(60), Arc::new(Metrics::default()));
        assert_eq!(late.import(saved, Duration::from_secs(31), 100), 0);
        assert_eq!(now(late.counts()), Counts::default());
    }

    #[test]
    fn an_import_skips_bad_tokens_and_keeps_to_the_limits() {
        let engine = MemoryEngine::new(2, Duration::from_secs(10), Arc::new(Metrics::default()));
        let peer = |i: usize, session: &str| SavedPeer {
            id: PeerId::parse(&format!("p{i}")).unwrap(),
            name: format!("  Name {i}  "),
            media: MediaState::default(),
            session: session.to_owned(),
            grace_left_ms: 5_000,
        };
        let good = "A".repeat(SESSION_TOKEN_LEN);
        let rooms = vec![
            SavedRoom {
                id: RoomId::parse("r").unwrap(),
                last_chat_id: 0,
                peers: (0..4).map(|i| peer(i, &good)).collect(),
            },
            SavedRoom {
                id: RoomId::parse("s").unwrap(),
                last_chat_id: 0,
                peers: vec![peer(9, "not a token!"), peer(8, "short")],
            },
        ];
        assert_eq!(engine.import(rooms, Duration::ZERO, 100), 2, "capacity 2");
        assert_eq!(now(engine.counts()), Counts { rooms: 1, peers: 2 });
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
