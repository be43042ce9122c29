//! This node's sockets: who is connected here, whatever engine holds the rooms.
//!
//! The engine decides who is in a room (possibly for many nodes); the registry only knows the
//! sockets of this process. It gives them cluster-unique ids, lets a drain close them all with
//! one code, and lets an engine that delivers through a message bus find the local recipient.
//! It is touched when a socket opens or ends, never per relayed frame, and its lock is never
//! held across an `.await` (every method is a plain `fn`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use protocol::{PeerId, RoomId};
use tokio::sync::mpsc;

use super::handle::{ConnHandle, Outbound};
use super::inbox::Inbox;
use super::node::{ConnId, NodeId};

/// A socket of this node and where it belongs.
#[derive(Debug)]
pub struct LocalConn {
    /// Its room.
    pub room: RoomId,
    /// Its peer id.
    pub peer: PeerId,
    /// Its queue and close control.
    pub handle: ConnHandle,
    /// Ordering of what a bus delivers to it (unused by the in-memory engine).
    pub inbox: Inbox,
}

/// The sockets of this node, by [`ConnId::seq`].
#[derive(Debug)]
pub struct Registry {
    /// This node.
    node: NodeId,
    /// The next [`ConnId::seq`].
    next: AtomicU64,
    /// Open sockets (including those whose upgrade is still under way).
    conns: Mutex<HashMap<u64, LocalConn>>,
}

impl Registry {
    /// An empty registry for `node`.
    pub fn new(node: NodeId) -> Self {
        Registry {
            node,
            next: AtomicU64::new(1),
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// This node.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Nothing here leaves the map half-updated, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, LocalConn>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new socket of `peer` in `room`: its handle (holding at most `capacity`
    /// queued frames) and the receiving end for its writer.
    pub fn open(
        &self,
        room: RoomId,
        peer: PeerId,
        capacity: usize,
    ) -> (ConnHandle, mpsc::Receiver<Outbound>) {
        let id = ConnId {
            node: self.node.clone(),
            seq: self.next.fetch_add(1, Ordering::Relaxed),
        };
        let (handle, rx) = ConnHandle::new(id, capacity);
        let seq = handle.id.seq;
        self.lock().insert(
            seq,
            LocalConn {
                room,
                peer,
                handle: handle.clone(),
                inbox: Inbox::default(),
            },
        );
        (handle, rx)
    }

    /// Forgets a socket that ended.
    pub fn close(&self, id: &ConnId) {
        if id.node == self.node {
            self.lock().remove(&id.seq);
        }
    }

    /// Runs `f` on local socket number `seq` (a [`ConnId::seq`] of this node), if still open.
    pub fn with<R>(&self, seq: u64, f: impl FnOnce(&mut LocalConn) -> R) -> Option<R> {
        self.lock().get_mut(&seq).map(f)
    }

    /// Number, room, peer and expected sequence number of every local socket.
    pub fn snapshot(&self) -> Vec<(u64, RoomId, PeerId, u64)> {
        self.lock()
            .iter()
            .map(|(seq, c)| (*seq, c.room.clone(), c.peer.clone(), c.inbox.next()))
            .collect()
    }

    /// Closes every socket of this node with `code` (e.g. 1012 for a drain before a restart,
    /// or 1011 when the node lost its engine); returns how many.
    pub fn close_all(&self, code: u16) -> usize {
        let conns = self.lock();
        for conn in conns.values() {
            conn.handle.control.close_with(code);
        }
        conns.len()
    }

    /// Sockets open on this node now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no socket is open on this node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_close_all_reaches_every_socket() {
        let registry = Registry::new(NodeId::random());
        let room = RoomId::parse("r").unwrap();
        let (a, _ra) = registry.open(room.clone(), PeerId::parse("a").unwrap(), 4);
        let (b, _rb) = registry.open(room, PeerId::parse("b").unwrap(), 4);
        assert_ne!(a.id, b.id);
        assert_eq!(registry.len(), 2);
        assert_eq!(registry.close_all(1012), 2);
        assert_eq!(a.control.raw_code(), Some(1012));
        registry.close(&a.id);
        assert!(registry.with(a.id.seq, |_| ()).is_none());
        assert!(registry.with(b.id.seq, |_| ()).is_some());
    }
}
