//! A joined call: the signaling connection (with reconnects), one [`Peer`] per remote peer, and
//! the signals the views read. Its loops run in its own [`Tasks`], cancelled by
//! [`Session::leave`], so nothing of a call outlives it.
//!
//! - `connect`: the connection loop (backoff, refusals, reconnects);
//! - `dispatch`: what each server frame does;
//! - `participants`: the people list the tiles are made from;
//! - `watch`: the stats loop (overlay, speaking, first frame).

mod connect;
mod dispatch;
mod participants;
mod watch;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use leptos::wasm_split::SplitLoaderError;
use protocol::{ClientMessage, MediaState, PeerId, Source};
use web_sys::{MediaStream, MediaStreamTrack};

use super::ice::IceSettings;
use super::js;
use super::peer::Peer;
use super::restart::Restart;
use super::signaling::Signaling;
use super::tasks::Tasks;
use crate::state::CallUi;

/// Starts joining (see [`Session::start`]). This is the door into the `call` wasm chunk: the
/// session's code (the signaling loop, what each frame does, the connections) and the call view
/// are loaded separately from the room page, so its first load stays small. The lobby fetches
/// the chunk while the person chooses devices ([`preload_call`]); a failed fetch is an error here.
#[leptos::wasm_split::wasm_split(
    call,
    wasm_split_path = leptos::wasm_split,
    preload(preload_call),
    fallible
)]
pub fn start(
    ui: CallUi,
    ws_base: String,
    person: Option<MediaStream>,
    screen: Option<MediaStream>,
) -> Result<Rc<Session>, SplitLoaderError> {
    Ok(Session::start(ui, ws_base, person, screen))
}

/// One call in one room, from Join to Leave.
pub struct Session {
    ui: CallUi,
    me: PeerId,
    ws_base: String,
    /// Camera and microphone, sent to every new connection.
    person: Option<MediaStream>,
    /// The screen share in progress, sent to every new connection too.
    screen: RefCell<Option<MediaStream>>,
    /// The resume token of the current server session.
    token: RefCell<Option<String>>,
    /// With several server nodes: the number of the last frame received in this session
    /// (`welcome.seq`, plus one per frame after it), sent as `last` on resume so that exactly
    /// the missed frames are replayed.
    seq: Cell<Option<u64>>,
    /// The ICE servers and policy of the latest `welcome` or `ice-servers`.
    ice: RefCell<IceSettings>,
    peers: RefCell<HashMap<String, Rc<Peer>>>,
    /// Media states of newcomers that arrived before their tile (see `welcome_newcomer`). A
    /// `Vec`: it holds one entry per person joining at that moment (and a `HashMap` of this type
    /// made wasm-split move 37 KB of the call's code into the room page's first load).
    early_media: RefCell<Vec<(String, MediaState)>>,
    signaling: Signaling,
    /// Quick reconnects while the server restarts (close 1012, 503 `restarting`).
    restart: Restart,
    tasks: Tasks,
    left: Cell<bool>,
    joined_at_ms: f64,
    /// When the first connection to another peer was created: for the first person in a room,
    /// "join to first frame" starts when someone arrives, not when they joined alone.
    first_peer_at_ms: Cell<Option<f64>>,
}

impl Session {
    /// Starts joining: connects, and keeps reconnecting until [`Session::leave`].
    pub fn start(
        ui: CallUi,
        ws_base: String,
        person: Option<MediaStream>,
        screen: Option<MediaStream>,
    ) -> Rc<Session> {
        let session = Rc::new(Session {
            ui,
            me: participants::random_peer_id(),
            ws_base,
            person,
            screen: RefCell::new(screen),
            token: RefCell::new(None),
            seq: Cell::new(None),
            ice: RefCell::new(IceSettings::default()),
            peers: RefCell::new(HashMap::new()),
            early_media: RefCell::new(Vec::new()),
            signaling: Signaling::default(),
            restart: Restart::default(),
            tasks: Tasks::default(),
            left: Cell::new(false),
            joined_at_ms: js::now_ms(),
            first_peer_at_ms: Cell::new(None),
        });
        session.tasks.spawn(session.clone().connect_loop());
        session.tasks.spawn(session.clone().stats_loop());
        session
    }

    /// The remote person stream of `peer`, for its tile.
    pub fn person_stream(&self, peer: &str) -> Option<MediaStream> {
        let peers = self.peers.borrow();
        peers.get(peer).map(|p| Clone::clone(p.person_stream()))
    }

    /// The remote screen stream of `peer`, for the stage.
    pub fn screen_stream(&self, peer: &str) -> Option<MediaStream> {
        let peers = self.peers.borrow();
        peers.get(peer).map(|p| Clone::clone(p.screen_stream()))
    }

    /// This tab's peer id in the room.
    pub fn me(&self) -> &PeerId {
        &self.me
    }

    /// Every connection, for stats.
    pub fn peers(&self) -> Vec<Rc<Peer>> {
        self.peers.borrow().values().cloned().collect()
    }

    /// Leaves: closes the socket cleanly (the others hear `peer-left` at once), cancels the loops
    /// and closes every connection.
    pub fn leave(&self) {
        self.left.set(true);
        self.signaling.close();
        self.tasks.cancel_all();
        self.peers.borrow_mut().clear();
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

    /// Sends `track` as `source` instead of the current one on every connection.
    pub async fn replace_track(&self, source: Source, track: &MediaStreamTrack) {
        for peer in self.peers() {
            peer.replace_track(source, track).await;
        }
    }

    /// Starts sending `share` on every connection, and to everyone who joins later.
    pub fn start_screen(&self, share: &MediaStream) {
        *self.screen.borrow_mut() = Some(Clone::clone(share));
        for peer in self.peers() {
            peer.add_screen(share);
        }
        self.send_media_state();
    }

    /// Stops sending the screen share everywhere.
    pub fn stop_screen(&self) {
        self.screen.borrow_mut().take();
        for peer in self.peers() {
            peer.remove_screen();
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
}
