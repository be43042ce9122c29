//! What each server frame does to the call.

use std::rc::Rc;

use leptos::prelude::*;
use protocol::{RelayKind, ServerMessage, Welcome};

use super::super::ice::IceSettings;
use super::super::js;
use super::Session;
use crate::state::{ChatLine, Phase};

/// Longest wait in the lobby for a connection to come up before the call view comes anyway (a
/// peer that never offers, such as a plain WebSocket client, or a path that fails).
const CONNECT_WAIT_MS: i32 = 1500;

impl Session {
    /// Handles one server frame; frames are handled strictly in order.
    pub(super) async fn handle(self: &Rc<Self>, message: ServerMessage) {
        if !matches!(
            message,
            ServerMessage::Welcome(_) | ServerMessage::Error { .. } | ServerMessage::IceServers(_)
        ) {
            self.seq.set(self.seq.get().map(|n| n + 1));
        }
        match message {
            ServerMessage::Welcome(welcome) => self.on_welcome(welcome),
            ServerMessage::IceServers(renewal) => {
                let ice = self.ice.borrow().renewed(&renewal.ice_servers);
                self.use_ice(ice);
            }
            ServerMessage::NewPeer { id, name } => {
                // A peer we knew under this id came back as a new session (e.g. after a server
                // restart): its old connection is dead.
                self.remove_peer(id.as_str());
                self.welcome_newcomer(id.as_str(), name);
            }
            ServerMessage::PeerLeft { id } => {
                self.remove_peer(id.as_str());
                self.remove_participant(id.as_str());
            }
            ServerMessage::Relay {
                kind, from, data, ..
            } => {
                let peer = match kind {
                    RelayKind::Offer => self.connect_to(from.as_str()),
                    _ => self.peers.borrow().get(from.as_str()).cloned(),
                };
                let Some(peer) = peer else { return };
                match kind {
                    RelayKind::Ice => peer.on_candidate(data.get()).await,
                    _ => peer.on_description(kind, data.get()).await,
                }
            }
            ServerMessage::Chat { from, message } => {
                let mine = from == self.me;
                if !mine && !self.ui.chat_open.get_untracked() {
                    self.ui.unread.update(|n| *n += 1);
                }
                self.ui.chat.update(|lines| {
                    lines.push(ChatLine {
                        id: message.id,
                        name: message.name,
                        text: message.text,
                        ts: message.ts,
                        mine,
                    })
                });
            }
            ServerMessage::Media { from, state } => {
                if let Some(p) = self.ui.participant(from.as_str()) {
                    p.media.set(state);
                } else if self.peers.borrow().contains_key(from.as_str()) {
                    // A newcomer whose tile waits for our offer (see `welcome_newcomer`).
                    let mut early = self.early_media.borrow_mut();
                    early.retain(|(id, _)| id != from.as_str());
                    early.push((from.to_string(), state));
                }
            }
            ServerMessage::Recording(notice) => {
                crate::call::on_recording_notice(self.ui, Some(notice));
            }
            ServerMessage::Error { code, message } => {
                leptos::logging::warn!("signaling error {code}: {message}");
            }
        }
    }

    fn on_welcome(self: &Rc<Self>, welcome: Welcome) {
        let previous = self.token.replace(Some(welcome.session.clone()));
        self.seq.set(welcome.seq);
        crate::call::on_recording_notice(self.ui, welcome.recording.clone());
        let resumed = previous.as_deref() == Some(welcome.session.as_str());
        if !resumed && previous.is_some() {
            // A fresh session after a server restart: the others will offer again.
            self.peers.borrow_mut().clear();
            self.ui.participants.set(Vec::new());
        }
        self.use_ice(IceSettings::new(
            &welcome.ice_servers,
            welcome.ice_transport_policy,
        ));
        let present: Vec<String> = welcome.peers.iter().map(|p| p.id.to_string()).collect();
        self.peers.borrow_mut().retain(|id, _| present.contains(id));
        self.early_media
            .borrow_mut()
            .retain(|(id, _)| present.contains(id));
        self.ui.participants.update(|ps| {
            ps.retain(|p| p.id.with_value(|id| present.contains(id)));
        });
        for info in &welcome.peers {
            self.upsert_participant(info.id.as_str(), &info.name);
            if let Some(p) = self.ui.participant(info.id.as_str()) {
                p.media.set(info.media);
            }
        }
        if resumed {
            self.signaling.flush_backlog();
        } else {
            self.signaling.drop_backlog();
        }
        let was = self.ui.phase.get_untracked();
        if was == Phase::Joining && !welcome.peers.is_empty() {
            // The others offer now: stay in the lobby until a connection is up (see
            // `connection_up`), so that the call view's first render does not hold up the
            // answer, the candidates or the checks that need the main thread.
            let this = self.clone();
            self.tasks.spawn(async move {
                js::sleep(CONNECT_WAIT_MS).await;
                this.enter_call();
            });
        } else {
            self.enter_call();
        }
        if was == Phase::Reconnecting {
            self.ui.toast.set(Some("Reconnected".into()));
        }
        self.send_media_state();
    }

    /// A connection's media path is up: the call view can come (its first render takes the main
    /// thread while DTLS and the first frames run off it).
    pub(super) fn connection_up(&self) {
        if self.ui.phase.get_untracked() == Phase::Joining {
            self.enter_call();
        }
    }

    /// Shows the call (from Joining or Reconnecting), unless the session already ended.
    fn enter_call(&self) {
        let phase = self.ui.phase.get_untracked();
        if !self.left.get() && matches!(phase, Phase::Joining | Phase::Reconnecting) {
            self.ui.phase.set(Phase::InCall);
        }
    }
}
