//! A joined call: the signaling connection (with reconnects), one [`Peer`] per remote peer, and
//! the signals the views read.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use protocol::{ClientMessage, ErrorCode, PeerId, RelayKind, ServerMessage, Welcome};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;

use super::ice::IceSettings;
use super::peer::{Peer, PeerEvents};
use super::signaling::{Ended, Signaling};
use super::{js, stats};
use crate::state::{CallUi, ChatLine, Participant, Phase};

/// Reconnect delays: quick at first (a blip), then backing off to spare a restarting server.
const BACKOFF_MS: [i32; 6] = [250, 500, 1000, 2000, 4000, 8000];

/// How often connection stats (overlay, speaking) are read.
const STATS_EVERY_MS: i32 = 500;

/// How often they are read until the first remote frame, so its time is measured to ~50 ms.
const FIRST_FRAME_POLL_MS: i32 = 50;

/// One call in one room, from Join to Leave.
pub struct Session {
    ui: CallUi,
    me: PeerId,
    ws_base: String,
    local: Option<MediaStream>,
    /// The resume token of the current server session.
    token: RefCell<Option<String>>,
    /// With several server nodes: the number of the last frame received in this session
    /// (`welcome.seq`, plus one per frame after it), sent as `last` on resume so that exactly
    /// the missed frames are replayed.
    seq: Cell<Option<u64>>,
    /// The ICE servers and policy of the latest `welcome` or `ice-servers`.
    ice: RefCell<IceSettings>,
    peers: RefCell<HashMap<String, Rc<Peer>>>,
    signaling: Signaling,
    left: Cell<bool>,
    joined_at_ms: f64,
    /// When the first connection to another peer was created: for the first person in a room,
    /// "join to first frame" starts when someone arrives, not when they joined alone.
    first_peer_at_ms: Cell<Option<f64>>,
}

impl Session {
    /// Starts joining: connects, and keeps reconnecting until [`Session::leave`].
    pub fn start(ui: CallUi, ws_base: String, local: Option<MediaStream>) -> Rc<Session> {
        let session = Rc::new(Session {
            ui,
            me: random_peer_id(),
            ws_base,
            local,
            token: RefCell::new(None),
            seq: Cell::new(None),
            ice: RefCell::new(IceSettings::default()),
            peers: RefCell::new(HashMap::new()),
            signaling: Signaling::default(),
            left: Cell::new(false),
            joined_at_ms: js::now_ms(),
            first_peer_at_ms: Cell::new(None),
        });
        spawn_local(session.clone().connect_loop());
        spawn_local(session.clone().stats_loop());
        session
    }

    /// The remote stream of `peer`, for its tile.
    pub fn remote_stream(&self, peer: &str) -> Option<MediaStream> {
        self.peers
            .borrow()
            .get(peer)
            .map(|p| p.remote_stream().clone())
    }

    /// Every connection, for tests and diagnostics.
    pub fn peers(&self) -> Vec<Rc<Peer>> {
        self.peers.borrow().values().cloned().collect()
    }

    /// Leaves: closes the socket cleanly and every connection.
    pub fn leave(&self) {
        self.left.set(true);
        self.signaling.close();
        self.peers.borrow_mut().clear();
        self.ui.participants.set(Vec::new());
    }

    /// Sends a chat message.
    pub fn send_chat(&self, text: &str) {
        self.signaling.send(ClientMessage::chat_text(text));
    }

    /// Announces this tab's media state.
    pub fn send_media_state(&self) {
        self.signaling
            .send(ClientMessage::media_text(self.ui.media_state()));
    }

    /// Sends `track` instead of the current one of its kind on every connection.
    pub async fn replace_track(&self, track: &web_sys::MediaStreamTrack) {
        for peer in self.peers() {
            peer.replace_track(track).await;
        }
    }

    fn url(&self) -> String {
        let name = js_sys::encode_uri_component(&self.ui.name.get_untracked());
        let mut url = format!("{}/{}?name={}", self.ws_base, self.me, String::from(name));
        if let Some(token) = self.token.borrow().as_ref() {
            url.push_str("&resume=");
            url.push_str(token);
            if let Some(seq) = self.seq.get() {
                url.push_str(&format!("&last={seq}"));
            }
        }
        url
    }

    async fn connect_loop(self: Rc<Self>) {
        let mut attempt = 0usize;
        while !self.left.get() {
            let this = self.clone();
            let ended = self
                .signaling
                .run_once(&self.url(), move |message| {
                    let this = this.clone();
                    async move { this.handle(message).await }
                })
                .await;
            if self.left.get() {
                return;
            }
            match ended {
                Ended::Refused(code, message) => {
                    self.fail(refusal_text(code, &message));
                    return;
                }
                // Our own session was taken over by a newer socket of this tab.
                Ended::Closed(4009) => return,
                Ended::Closed(_) => attempt = 0,
                Ended::Unreachable => {}
            }
            if self.ui.phase.get_untracked() == Phase::Joining && attempt >= 3 {
                self.fail(
                    "The meeting server cannot be reached. Check your connection and try again."
                        .into(),
                );
                return;
            }
            if self.ui.phase.get_untracked() == Phase::InCall {
                self.ui.phase.set(Phase::Reconnecting);
            }
            let delay = BACKOFF_MS[attempt.min(BACKOFF_MS.len() - 1)];
            // Jitter spreads the reconnects of a whole room after a server restart.
            let jitter = (js_sys::Math::random() * f64::from(delay) * 0.3) as i32;
            js::sleep(delay + jitter).await;
            attempt += 1;
        }
    }

    fn fail(&self, why: String) {
        self.left.set(true);
        self.signaling.close();
        self.peers.borrow_mut().clear();
        self.ui.participants.set(Vec::new());
        self.ui.phase.set(Phase::Failed(why));
    }

    async fn handle(self: &Rc<Self>, message: ServerMessage) {
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
                self.upsert_participant(id.as_str(), &name);
                self.connect_to(id.as_str());
            }
            ServerMessage::PeerLeft { id } => {
                self.remove_peer(id.as_str());
                self.ui
                    .participants
                    .update(|ps| ps.retain(|p| p.id.with_value(|pid| pid != id.as_str())));
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
                }
            }
            // The in-call recording indicator arrives with the recorder (issue 8, phase 2).
            ServerMessage::Recording(_) => {}
            ServerMessage::Error { code, message } => {
                leptos::logging::warn!("signaling error {code}: {message}");
            }
        }
    }

    fn on_welcome(self: &Rc<Self>, welcome: Welcome) {
        let previous = self.token.replace(Some(welcome.session.clone()));
        self.seq.set(welcome.seq);
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
        self.ui.phase.set(Phase::InCall);
        if was == Phase::Reconnecting {
            self.ui.toast.set(Some("Reconnected".into()));
        }
        self.send_media_state();
    }

    /// Keeps `ice` for new connections and gives it to the open ones, so an ICE restart uses
    /// credentials that are still valid.
    fn use_ice(&self, ice: IceSettings) {
        for peer in self.peers() {
            if let Err(e) = ice.apply(peer.connection()) {
                leptos::logging::warn!("setConfiguration failed: {}", js::describe(&e));
            }
        }
        *self.ice.borrow_mut() = ice;
    }

    fn upsert_participant(&self, id: &str, name: &str) {
        match self.ui.participant(id) {
            Some(p) => p.name.set(name.to_owned()),
            None => self
                .ui
                .participants
                .update(|ps| ps.push(Participant::new(id, name))),
        }
    }

    /// The connection to `id`, created if needed.
    fn connect_to(self: &Rc<Self>, id: &str) -> Option<Rc<Peer>> {
        if let Some(peer) = self.peers.borrow().get(id) {
            return Some(peer.clone());
        }
        if self.ui.participant(id).is_none() {
            self.upsert_participant(id, "");
        }
        let events: Rc<dyn PeerEvents> = Rc::new(Events(Rc::downgrade(self)));
        let config = match self.ice.borrow().configuration() {
            Ok(config) => config,
            Err(e) => {
                leptos::logging::error!("bad ICE configuration: {}", js::describe(&e));
                return None;
            }
        };
        match Peer::new(self.me.as_str(), id, &config, self.local.as_ref(), events) {
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

    fn remove_peer(&self, id: &str) {
        // Dropping the last handle closes the connection.
        self.peers.borrow_mut().remove(id);
    }

    async fn stats_loop(self: Rc<Self>) {
        let mut previous: HashMap<String, stats::Reading> = HashMap::new();
        let mut first_frame_seen = false;
        while !self.left.get() {
            js::sleep(if first_frame_seen {
                STATS_EVERY_MS
            } else {
                FIRST_FRAME_POLL_MS
            })
            .await;
            let mut local_level: Option<f64> = None;
            for peer in self.peers() {
                let id = peer.remote_id().to_owned();
                let Some(reading) = stats::read(peer.connection()).await else {
                    continue;
                };
                let reading = reading.with_rate(previous.get(&id));
                if !first_frame_seen && reading.stats.frames_decoded > 0 {
                    first_frame_seen = true;
                    let start = self
                        .joined_at_ms
                        .max(self.first_peer_at_ms.get().unwrap_or(0.0));
                    let ms = js::now_ms() - start;
                    leptos::logging::log!("record-meet: join to first remote frame {ms:.0} ms");
                    self.ui.first_frame_ms.set(Some(ms));
                }
                if let Some(p) = self.ui.participant(&id) {
                    let speaking = reading
                        .remote_audio_level
                        .is_some_and(|l| l > stats::SPEAKING_LEVEL);
                    if p.speaking.get_untracked() != speaking {
                        p.speaking.set(speaking);
                    }
                    p.stats.set(reading.stats.clone());
                }
                local_level = local_level.or(reading.local_audio_level);
                previous.insert(id, reading);
            }
            let speaking = self.ui.mic_on.get_untracked()
                && local_level.is_some_and(|l| l > stats::SPEAKING_LEVEL);
            if self.ui.self_speaking.get_untracked() != speaking {
                self.ui.self_speaking.set(speaking);
            }
            previous.retain(|id, _| self.peers.borrow().contains_key(id));
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
            .send(ClientMessage::relay_text(kind, &to, &data));
    }

    fn remote_stream_changed(&self, peer: &str) {
        if let Some(session) = self.0.upgrade() {
            if let Some(p) = session.ui.participant(peer) {
                p.stream_version.update(|v| *v += 1);
            }
        }
    }

    fn warn(&self, peer: &str, what: &str, error: &JsValue) {
        leptos::logging::warn!("peer {peer}: {what} failed: {}", js::describe(error));
    }
}

/// What to tell a person whose join the server refused.
fn refusal_text(code: ErrorCode, message: &str) -> String {
    match code {
        ErrorCode::RoomFull => "This meeting is full. Try again when someone leaves.".into(),
        ErrorCode::PeerIdTaken => "This tab is already in the meeting in another window.".into(),
        ErrorCode::InvalidId => format!("This meeting link is not valid ({message})."),
        ErrorCode::ForbiddenOrigin => "This server does not accept meetings from this page.".into(),
        _ => format!("The server refused to let you join ({code}: {message})."),
    }
}

/// A fresh peer id for this page: unique enough within a room, and never reused after a reload,
/// so a reloaded tab is a new peer and the others start clean connections to it.
fn random_peer_id() -> PeerId {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = (0..12)
        .map(|_| {
            let i = (js_sys::Math::random() * ALPHABET.len() as f64) as usize;
            ALPHABET[i.min(ALPHABET.len() - 1)] as char
        })
        .collect();
    PeerId::parse(&id).unwrap_or_else(|_| PeerId::parse("peer").expect("a valid literal id"))
}
