//! One room: its peers, their names, media state and sockets, and the chat counter.
//!
//! A `Room` is plain data owned by the in-memory engine's lock; every method here runs
//! with that lock held, so none of them awaits — they only queue frames with `try_send`.

use std::collections::HashMap;

use axum::extract::ws::Utf8Bytes;
use protocol::{MediaState, PeerId, PeerInfo};

use super::handle::{ConnHandle, Outbound};
use super::node::ConnId;
use crate::metrics::{Kind, Metrics};

/// A peer's place in a room, which outlives a dropped socket during the resume grace.
#[derive(Debug)]
pub struct Slot {
    /// Display name, trimmed, at most 64 characters; empty when none was given.
    pub name: String,
    /// Last media state the peer announced.
    pub media: MediaState,
    /// The resume token given in `welcome`: proof of ownership of this slot.
    pub session: String,
    /// The id of the socket that holds (or last held) the slot: a stale socket's cleanup must
    /// not evict a resumed session.
    pub conn_id: ConnId,
    /// The live socket; `None` while the peer is in its resume grace.
    pub conn: Option<ConnHandle>,
}

/// The peers of one room.
#[derive(Debug, Default)]
pub struct Room {
    /// Peers by id; at most the configured capacity.
    pub peers: HashMap<PeerId, Slot>,
    /// The id of the last chat message: ids are unique and increasing per room.
    pub last_chat_id: u64,
}

impl Room {
    /// The `welcome` peer list: everyone but `me`, in id order so it is stable.
    pub fn peer_list(&self, me: &PeerId) -> Vec<PeerInfo> {
        let mut list: Vec<PeerInfo> = self
            .peers
            .iter()
            .filter(|(id, _)| *id != me)
            .map(|(id, slot)| PeerInfo {
                id: id.clone(),
                name: slot.name.clone(),
                media: slot.media,
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// Queues one encoded frame for every connected peer except `except`.
    pub fn broadcast(
        &self,
        text: &Utf8Bytes,
        kind: Kind,
        except: Option<&PeerId>,
        received: Option<std::time::Instant>,
        metrics: &Metrics,
    ) {
        for (id, slot) in &self.peers {
            if Some(id) == except {
                continue;
            }
            if let Some(conn) = &slot.conn {
                conn.send(
                    Outbound {
                        text: text.clone(),
                        kind,
                        received,
                    },
                    metrics,
                );
            }
        }
    }
}
