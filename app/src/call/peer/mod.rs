//! One `RTCPeerConnection` to one remote peer, negotiated with the perfect negotiation pattern.
//!
//! Either side may renegotiate at any time (a share starting or stopping, ICE restarts). On glare
//! the polite side (the smaller peer id) rolls back its own offer and takes the other's; the
//! impolite side ignores the colliding offer. Candidates that arrive before the remote
//! description wait. Every description carries this side's `mid → source` map
//! ([`protocol::Description`]). Dropping a [`Peer`] removes its handlers and closes the
//! connection: browsers do not close it when the JS handle goes away.

mod receivers;
mod senders;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use protocol::{Candidate, Description, RelayKind, SdpType, Source};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceConnectionState,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcSdpType, RtcSessionDescriptionInit,
    RtcSignalingState,
};

use receivers::Receivers;
pub use receivers::{has_live_video, Changed};
pub use senders::SCREEN_MAX_FRAMERATE;
use senders::{Senders, CAMERA_FULL_SIZE_AFTER_MS};

use super::js;

/// What a peer tells its owner.
pub trait PeerEvents {
    /// Send a signaling frame of `kind` with `data` to this peer.
    fn signal(&self, to: &str, kind: RelayKind, data: String);
    /// The media path to this peer is up (ICE connected).
    fn connected(&self, peer: &str);
    /// The remote person or screen stream gained or lost a track.
    fn remote_streams_changed(&self, peer: &str, changed: Changed);
    /// Something failed that only a log can help with.
    fn warn(&self, peer: &str, what: &str, error: &JsValue);
}

/// What this side sends when a connection starts.
pub struct Outgoing<'a> {
    /// Camera and microphone.
    pub person: Option<&'a MediaStream>,
    /// A screen share in progress.
    pub screen: Option<&'a MediaStream>,
}

/// The state the event handlers share.
struct Inner {
    remote_id: String,
    pc: RtcPeerConnection,
    polite: bool,
    making_offer: Cell<bool>,
    ignore_offer: Cell<bool>,
    pending_candidates: RefCell<Vec<String>>,
    senders: Senders,
    /// The camera's step to full size is scheduled (on the first ICE connection).
    full_size_scheduled: Cell<bool>,
    receivers: Receivers,
    events: Rc<dyn PeerEvents>,
}

/// A connection to one remote peer.
pub struct Peer {
    inner: Rc<Inner>,
    // Kept alive as long as the connection; dropped after the handlers are removed.
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

/// Whether this side yields on glare: the smaller id is polite, so exactly one side is.
pub fn is_polite(my_id: &str, remote_id: &str) -> bool {
    my_id < remote_id
}

impl Peer {
    /// Creates the connection and adds what this side sends. The browser then asks for
    /// negotiation when it needs one; the side that starts a connection (someone new arrived)
    /// calls [`Peer::offer`] instead of waiting for that.
    ///
    /// # Errors
    /// When the browser refuses the configuration.
    pub fn new(
        my_id: &str,
        remote_id: &str,
        config: &RtcConfiguration,
        outgoing: Outgoing<'_>,
        events: Rc<dyn PeerEvents>,
    ) -> Result<Peer, JsValue> {
        let pc = RtcPeerConnection::new_with_configuration(config)?;
        let inner = Rc::new(Inner {
            remote_id: remote_id.to_owned(),
            pc,
            polite: is_polite(my_id, remote_id),
            making_offer: Cell::new(false),
            ignore_offer: Cell::new(false),
            pending_candidates: RefCell::new(Vec::new()),
            senders: Senders::default(),
            full_size_scheduled: Cell::new(false),
            receivers: Receivers::new()?,
            events,
        });
        let handlers = vec![
            inner.on_event(|inner, _| {
                spawn_local(async move { inner.negotiate().await });
            }),
            inner.on_event(|inner, event| {
                let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                    return;
                };
                // `null` marks the end of gathering; the other side needs nothing for it.
                if let Some(json) = event.candidate().and_then(|c| js::to_json(&c)) {
                    inner.events.signal(&inner.remote_id, RelayKind::Ice, json);
                }
            }),
            inner.on_event(|inner, _| inner.refile()),
            inner.on_event(|inner, _| {
                let state = inner.pc.ice_connection_state();
                if matches!(
                    state,
                    RtcIceConnectionState::Connected | RtcIceConnectionState::Completed
                ) {
                    inner.events.connected(&inner.remote_id);
                    if !inner.full_size_scheduled.replace(true) {
                        let weak = Rc::downgrade(&inner);
                        spawn_local(async move {
                            js::sleep(CAMERA_FULL_SIZE_AFTER_MS).await;
                            if let Some(inner) = weak.upgrade() {
                                inner.senders.camera_full_size();
                            }
                        });
                    }
                }
                // A failed path (network change, NAT rebinding) gets new candidates instead of a
                // dead tile; the renegotiation this triggers goes through `negotiate`.
                if state == RtcIceConnectionState::Failed {
                    if let Err(e) = js::call0(&inner.pc, "restartIce") {
                        inner.events.warn(&inner.remote_id, "restartIce", &e);
                    }
                }
            }),
        ];
        let pc = &inner.pc;
        pc.set_onnegotiationneeded(Some(handlers[0].as_ref().unchecked_ref()));
        pc.set_onicecandidate(Some(handlers[1].as_ref().unchecked_ref()));
        pc.set_ontrack(Some(handlers[2].as_ref().unchecked_ref()));
        pc.set_oniceconnectionstatechange(Some(handlers[3].as_ref().unchecked_ref()));

        inner.senders.add_person(&inner.pc, outgoing.person);
        if let Some(screen) = outgoing.screen {
            inner.senders.add_screen(&inner.pc, screen);
        }
        Ok(Peer {
            inner,
            _handlers: handlers,
        })
    }

    /// Makes the offer and sends it. The browser does not ask for negotiation again meanwhile:
    /// `negotiationneeded` waits for the operation in progress, after which the connection is no
    /// longer `stable`, and the answer leaves nothing to negotiate.
    pub async fn offer(&self) {
        self.inner.negotiate().await;
    }

    /// The remote peer's id.
    pub fn remote_id(&self) -> &str {
        &self.inner.remote_id
    }

    /// The remote person (microphone and camera), for their tile.
    pub fn person_stream(&self) -> &MediaStream {
        self.inner.receivers.person()
    }

    /// The remote screen share, for the stage.
    pub fn screen_stream(&self) -> &MediaStream {
        self.inner.receivers.screen()
    }

    /// The connection, for `getStats()`.
    pub fn connection(&self) -> &RtcPeerConnection {
        &self.inner.pc
    }

    /// Handles an `offer` or `answer` from the remote peer.
    pub async fn on_description(&self, kind: RelayKind, data: &str) {
        self.inner.on_description(kind, data).await;
    }

    /// Handles an `ice` candidate from the remote peer.
    pub async fn on_candidate(&self, data: &str) {
        self.inner.on_candidate(data).await;
    }

    /// Starts sending a screen share (renegotiates).
    pub fn add_screen(&self, share: &MediaStream) {
        self.inner.senders.add_screen(&self.inner.pc, share);
    }

    /// Stops sending the screen share (renegotiates).
    pub fn remove_screen(&self) {
        self.inner.senders.remove_screen();
    }

    /// Sends `track` as `source` instead of the current one, without renegotiating.
    pub async fn replace_track(&self, source: Source, track: &MediaStreamTrack) {
        if let Err(e) = self.inner.senders.replace(source, track).await {
            self.inner
                .events
                .warn(&self.inner.remote_id, "replaceTrack", &e);
        }
    }
}

impl Inner {
    /// A handler for one of the connection's events that holds no strong reference to it.
    fn on_event(
        self: &Rc<Self>,
        run: impl Fn(Rc<Inner>, JsValue) + 'static,
    ) -> Closure<dyn FnMut(JsValue)> {
        let weak = Rc::downgrade(self);
        Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(inner) = weak.upgrade() {
                run(inner, event);
            }
        })
    }

    /// `negotiationneeded`: make and send an offer, unless one is already in flight.
    async fn negotiate(&self) {
        self.making_offer.set(true);
        let result = js::call_async0(&self.pc, "setLocalDescription").await;
        self.making_offer.set(false);
        match result {
            Ok(_) => self.send_local_description(),
            Err(e) => self.events.warn(&self.remote_id, "setLocalDescription", &e),
        }
    }

    fn send_local_description(&self) {
        let Some(local) = self.pc.local_description() else {
            return;
        };
        let kind = match local.type_() {
            RtcSdpType::Offer => SdpType::Offer,
            RtcSdpType::Answer => SdpType::Answer,
            _ => return,
        };
        let description = Description {
            kind,
            sdp: local.sdp(),
            sources: self.senders.announce(&self.pc),
        };
        self.events.signal(
            &self.remote_id,
            description.relay_kind(),
            description.to_json(),
        );
    }

    fn refile(&self) {
        let changed = self.receivers.refile(&self.pc);
        if changed.person || changed.screen {
            self.events.remote_streams_changed(&self.remote_id, changed);
        }
    }

    async fn on_description(&self, kind: RelayKind, data: &str) {
        let description = match Description::parse(data, kind) {
            Ok(description) => description,
            Err(e) => {
                let why = JsValue::from_str(&e.to_string());
                self.events.warn(&self.remote_id, "bad description", &why);
                return;
            }
        };
        let is_offer = description.kind == SdpType::Offer;
        let collision = is_offer
            && (self.making_offer.get() || self.pc.signaling_state() != RtcSignalingState::Stable);
        self.ignore_offer.set(!self.polite && collision);
        if self.ignore_offer.get() {
            return;
        }
        let init = RtcSessionDescriptionInit::new(if is_offer {
            RtcSdpType::Offer
        } else {
            RtcSdpType::Answer
        });
        init.set_sdp(&description.sdp);
        self.receivers.set_sources(description.sources);
        // On glare the polite side's setRemoteDescription rolls its own offer back implicitly.
        if let Err(e) = JsFuture::from(self.pc.set_remote_description(&init)).await {
            self.events
                .warn(&self.remote_id, "setRemoteDescription", &e);
            return;
        }
        self.refile();
        self.flush_candidates().await;
        if is_offer {
            match js::call_async0(&self.pc, "setLocalDescription").await {
                Ok(_) => {
                    self.send_local_description();
                    self.refile();
                }
                Err(e) => self
                    .events
                    .warn(&self.remote_id, "setLocalDescription(answer)", &e),
            }
        }
    }

    async fn on_candidate(&self, data: &str) {
        if self.pc.remote_description().is_none() {
            self.pending_candidates.borrow_mut().push(data.to_owned());
            return;
        }
        self.add_candidate(data).await;
    }

    async fn flush_candidates(&self) {
        let pending = std::mem::take(&mut *self.pending_candidates.borrow_mut());
        for candidate in pending {
            self.add_candidate(&candidate).await;
        }
    }

    async fn add_candidate(&self, data: &str) {
        let Ok(candidate) = Candidate::parse(data) else {
            self.events
                .warn(&self.remote_id, "bad candidate", &JsValue::from_str(data));
            return;
        };
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index);
        if let Some(ufrag) = &candidate.username_fragment {
            js::set(&init, "usernameFragment", &JsValue::from_str(ufrag));
        }
        let promise = self
            .pc
            .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
        if let Err(e) = JsFuture::from(promise).await {
            // Candidates for an offer we ignored are expected to fail.
            if !self.ignore_offer.get() {
                self.events.warn(&self.remote_id, "addIceCandidate", &e);
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let pc = &self.inner.pc;
        pc.set_onnegotiationneeded(None);
        pc.set_onicecandidate(None);
        pc.set_ontrack(None);
        pc.set_oniceconnectionstatechange(None);
        pc.close();
    }
}
