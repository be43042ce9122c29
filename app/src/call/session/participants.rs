//! The people of the call: their connections and the participant list the tiles are made from.

use std::rc::Rc;

use leptos::prelude::*;
use protocol::{PeerId, RelayKind};
use wasm_bindgen::JsValue;

use super::super::js;
use super::super::peer::{has_live_video, Changed, Outgoing, Peer, PeerEvents};
use super::Session;
use crate::state::Participant;

impl Session {
    /// Adds a participant, or renames a known one.
    pub(super) fn upsert_participant(&self, id: &str, name: &str) {
        match self.ui.participant(id) {
            Some(p) => p.name.set(name.to_owned()),
            None => self
                .ui
                .participants
                .update(|ps| ps.push(Participant::new(id, name))),
        }
    }

    /// The media state `id` announced before their tile existed, if any.
    fn take_early_media(&self, id: &str) -> Option<protocol::MediaState> {
        let mut early = self.early_media.borrow_mut();
        let at = early.iter().position(|(early_id, _)| early_id == id)?;
        Some(early.swap_remove(at).1)
    }

    /// Removes a participant's tile (and anything pinned of theirs).
    pub(super) fn remove_participant(&self, id: &str) {
        self.ui
            .participants
            .update(|ps| ps.retain(|p| p.id.with_value(|pid| pid != id)));
    }

    /// The connection to `id` that its offer arrived for, created if needed, with its tile.
    pub(super) fn connect_to(self: &Rc<Self>, id: &str) -> Option<Rc<Peer>> {
        if let Some(peer) = self.peers.borrow().get(id) {
            return Some(peer.clone());
        }
        let peer = self.create_peer(id);
        if self.ui.participant(id).is_none() {
            self.upsert_participant(id, "");
        }
        peer
    }

    /// Someone new arrived: this side offers at once, and their tile comes once the offer is on
    /// its way. Rendering the tile first held the offer's `setLocalDescription` back by ~20 ms
    /// of main thread.
    pub(super) fn welcome_newcomer(self: &Rc<Self>, id: &str, name: String) {
        let Some(peer) = self.create_peer(id) else {
            self.upsert_participant(id, &name);
            return;
        };
        let this = self.clone();
        let id = id.to_owned();
        self.tasks.spawn(async move {
            peer.offer().await;
            // Unless they left (or came back as a new session) meanwhile.
            let current = this
                .peers
                .borrow()
                .get(&id)
                .is_some_and(|p| Rc::ptr_eq(p, &peer));
            if current {
                this.upsert_participant(&id, &name);
                let early = this.take_early_media(&id);
                if let (Some(p), Some(media)) = (this.ui.participant(&id), early) {
                    p.media.set(media);
                }
            }
        });
    }

    fn create_peer(self: &Rc<Self>, id: &str) -> Option<Rc<Peer>> {
        let events: Rc<dyn PeerEvents> = Rc::new(Events(Rc::downgrade(self)));
        let screen = self.screen.borrow().clone();
        let outgoing = Outgoing {
            person: self.person.as_ref(),
            screen: screen.as_ref(),
        };
        let config = self.ice.borrow().configuration();
        match Peer::new(self.me.as_str(), id, &config, outgoing, events) {
            Ok(peer) => {
                if self.first_peer_at_ms.get().is_none() {
                    self.first_peer_at_ms.set(Some(js::now_ms()));
                }
                let peer = Rc::new(peer);
                self.peers.borrow_mut().insert(id.to_owned(), peer.clone());
                Some(peer)
            }
            Err(e) => {
                leptos::logging::error!("cannot create a connection to {id}: {}", js::describe(&e));
                None
            }
        }
    }

    /// Closes the connection to `id` (dropping the last handle closes it).
    pub(super) fn remove_peer(&self, id: &str) {
        self.peers.borrow_mut().remove(id);
        self.take_early_media(id);
        if let Some(p) = self.ui.participant(id) {
            p.sharing.set(false);
        }
    }
}

/// Connects peers' events to the session without a reference cycle.
struct Events(std::rc::Weak<Session>);

impl PeerEvents for Events {
    fn signal(&self, to: &str, kind: RelayKind, data: String) {
        let (Some(session), Ok(to)) = (self.0.upgrade(), PeerId::parse(to)) else {
            return;
        };
        session
            .signaling
            .send(protocol::ClientMessage::relay_text(kind, &to, &data));
    }

    fn connected(&self, _peer: &str) {
        if let Some(session) = self.0.upgrade() {
            session.connection_up();
        }
    }

    fn remote_streams_changed(&self, peer: &str, changed: Changed) {
        let Some(session) = self.0.upgrade() else {
            return;
        };
        let Some(p) = session.ui.participant(peer) else {
            return;
        };
        if changed.person {
            p.stream_version.update(|v| *v += 1);
        }
        if changed.screen {
            let sharing = session
                .screen_stream(peer)
                .is_some_and(|s| has_live_video(&s));
            p.sharing.set(sharing);
            p.screen_version.update(|v| *v += 1);
        }
    }

    fn warn(&self, peer: &str, what: &str, error: &JsValue) {
        leptos::logging::warn!("peer {peer}: {what} failed: {}", js::describe(error));
    }
}

/// A fresh peer id for this page: unique enough within a room, and never reused after a reload,
/// so a reloaded tab is a new peer and the others start clean connections to it.
pub(super) fn random_peer_id() -> PeerId {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = (0..12)
        .map(|_| {
            let i = (js_sys::Math::random() * ALPHABET.len() as f64) as usize;
            ALPHABET[i.min(ALPHABET.len() - 1)] as char
        })
        .collect();
    PeerId::parse(&id).unwrap_or_else(|_| PeerId::parse("peer").expect("a valid literal id"))
}
