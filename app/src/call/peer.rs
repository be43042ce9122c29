//! One `RTCPeerConnection` to one remote peer, negotiated with the perfect negotiation pattern.
//!
//! Either side may renegotiate at any time (tracks added or removed, ICE restarts). On glare the
//! polite side (the smaller peer id) rolls back its own offer and takes the other's; the impolite
//! side ignores the colliding offer. Candidates that arrive before the remote description wait.
//! Dropping a [`Peer`] removes its handlers and closes the connection: browsers do not close it
//! when the JS handle goes away.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use protocol::RelayKind;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceConnectionState, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcRtpSender, RtcSignalingState, RtcTrackEvent,
};

use super::js;

/// What a peer tells its owner.
pub trait PeerEvents {
    /// Send a signaling frame of `kind` with `data` to this peer.
    fn signal(&self, to: &str, kind: RelayKind, data: String);
    /// The remote stream gained or lost a track.
    fn remote_stream_changed(&self, peer: &str);
    /// Something failed that only a log can help with.
    fn warn(&self, peer: &str, what: &str, error: &JsValue);
}

/// The state the event handlers share.
struct Inner {
    remote_id: String,
    pc: RtcPeerConnection,
    polite: bool,
    making_offer: Cell<bool>,
    ignore_offer: Cell<bool>,
    pending_candidates: RefCell<Vec<String>>,
    remote_stream: MediaStream,
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
    /// Creates the connection and adds the local tracks; if there are any, the browser then
    /// asks for negotiation and this side offers.
    ///
    /// # Errors
    /// When the browser refuses the configuration.
    pub fn new(
        my_id: &str,
        remote_id: &str,
        config: &RtcConfiguration,
        local: Option<&MediaStream>,
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
            remote_stream: MediaStream::new()?,
            events,
        });
        let mut handlers = Vec::new();

        let weak = Rc::downgrade(&inner);
        let on_negotiation = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(inner) = weak.upgrade() {
                spawn_local(async move { inner.negotiate().await });
            }
        });
        inner
            .pc
            .set_onnegotiationneeded(Some(on_negotiation.as_ref().unchecked_ref()));
        handlers.push(on_negotiation);

        let weak = Rc::downgrade(&inner);
        let on_candidate = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Some(inner) = weak.upgrade() else { return };
            let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                return;
            };
            // `null` marks the end of gathering; the other side needs nothing for it.
            if let Some(candidate) = event.candidate() {
                if let Some(json) = js::to_json(&candidate) {
                    inner.events.signal(&inner.remote_id, RelayKind::Ice, json);
                }
            }
        });
        inner
            .pc
            .set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        handlers.push(on_candidate);

        let weak = Rc::downgrade(&inner);
        let on_track = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Some(inner) = weak.upgrade() else { return };
            let Ok(event) = event.dyn_into::<RtcTrackEvent>() else {
                return;
            };
            inner.remote_stream.add_track(&event.track());
            inner.events.remote_stream_changed(&inner.remote_id);
        });
        inner
            .pc
            .set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        handlers.push(on_track);

        let weak = Rc::downgrade(&inner);
        let on_ice_state = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let Some(inner) = weak.upgrade() else { return };
            // A failed path (network change, NAT rebinding) gets new candidates instead of a
            // dead tile; the renegotiation this triggers goes through `negotiate`.
            if inner.pc.ice_connection_state() == RtcIceConnectionState::Failed {
                if let Err(e) = js::call0(&inner.pc, "restartIce") {
                    inner.events.warn(&inner.remote_id, "restartIce", &e);
                }
            }
        });
        inner
            .pc
            .set_oniceconnectionstatechange(Some(on_ice_state.as_ref().unchecked_ref()));
        handlers.push(on_ice_state);

        let peer = Peer {
            inner,
            _handlers: handlers,
        };
        match local {
            Some(stream) => {
                for track in stream.get_tracks().iter() {
                    if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                        peer.inner.pc.add_track_0(&track, stream);
                    }
                }
                // A side with no camera or no microphone still receives that kind.
                if stream.get_audio_tracks().length() == 0 {
                    peer.add_receive_only("audio");
                }
                if stream.get_video_tracks().length() == 0 {
                    peer.add_receive_only("video");
                }
            }
            None => {
                peer.add_receive_only("audio");
                peer.add_receive_only("video");
            }
        }
        Ok(peer)
    }

    fn add_receive_only(&self, kind: &str) {
        if let Ok(init) = js::parse_json(r#"{"direction":"recvonly"}"#) {
            let _ = self
                .inner
                .pc
                .add_transceiver_with_str_and_init(kind, init.unchecked_ref());
        }
    }

    /// The remote peer's id.
    pub fn remote_id(&self) -> &str {
        &self.inner.remote_id
    }

    /// What the remote peer sends, for its tile.
    pub fn remote_stream(&self) -> &MediaStream {
        &self.inner.remote_stream
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

    /// Sends `track` instead of the current track of its kind, without renegotiating (device
    /// switch).
    pub async fn replace_track(&self, track: &MediaStreamTrack) {
        let kind = track.kind();
        for sender in self.inner.pc.get_senders().iter() {
            let Ok(sender) = sender.dyn_into::<RtcRtpSender>() else {
                continue;
            };
            if sender.track().is_some_and(|t| t.kind() == kind) {
                if let Err(e) = JsFuture::from(sender.replace_track(Some(track))).await {
                    self.inner
                        .events
                        .warn(&self.inner.remote_id, "replaceTrack", &e);
                }
            }
        }
    }
}

impl Inner {
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
        let Some(description) = self.pc.local_description() else {
            return;
        };
        let kind = match js::get_string(&description, "type").as_deref() {
            Some("offer") => RelayKind::Offer,
            Some("answer") => RelayKind::Answer,
            _ => return,
        };
        if let Some(json) = js::to_json(&description) {
            self.events.signal(&self.remote_id, kind, json);
        }
    }

    async fn on_description(&self, kind: RelayKind, data: &str) {
        let Ok(description) = js::parse_json(data) else {
            self.events
                .warn(&self.remote_id, "bad description", &JsValue::from_str(data));
            return;
        };
        let is_offer = kind == RelayKind::Offer;
        let collision = is_offer
            && (self.making_offer.get() || self.pc.signaling_state() != RtcSignalingState::Stable);
        self.ignore_offer.set(!self.polite && collision);
        if self.ignore_offer.get() {
            return;
        }
        // On glare the polite side's setRemoteDescription rolls its own offer back implicitly.
        let set = self.pc.set_remote_description(description.unchecked_ref());
        if let Err(e) = JsFuture::from(set).await {
            self.events
                .warn(&self.remote_id, "setRemoteDescription", &e);
            return;
        }
        self.flush_candidates().await;
        if is_offer {
            match js::call_async0(&self.pc, "setLocalDescription").await {
                Ok(_) => self.send_local_description(),
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
        let Ok(init) = js::parse_json(data) else {
            return;
        };
        let promise = self
            .pc
            .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(init.unchecked_ref()));
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
