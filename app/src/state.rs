//! What the call views show: plain reactive data, the same on the server and in the browser.
//!
//! The call engine (`crate::call`, browser only) writes these signals; the components read them.
//! Browser objects (streams, peer connections) never live here, so every component renders on the
//! server too and hydration sees the same tree.

use leptos::prelude::*;
use protocol::{MediaState, RecordingNotice};

use crate::layout::TileKey;

/// The room page's call engine. It holds browser objects, so it exists only in the browser
/// build; on the server the slot is empty.
#[cfg(feature = "hydrate")]
pub type EngineHandle = std::rc::Rc<crate::call::Engine>;
/// The room page's call engine (nothing on the server).
#[cfg(not(feature = "hydrate"))]
pub type EngineHandle = NoEngine;

/// The server's empty stand-in for the call engine.
#[cfg(not(feature = "hydrate"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEngine;

/// Where the person is in the life of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Choosing name and devices before joining.
    Lobby,
    /// Connecting to the signaling server for the first time, and then, when others are in the
    /// call, until the first connection to one of them is up; the lobby stays on screen.
    Joining,
    /// In the call.
    InCall,
    /// In the call, but the signaling connection dropped and is being re-established. Media with
    /// the others keeps flowing meanwhile.
    Reconnecting,
    /// Left the call on purpose.
    Left,
    /// Could not join, with the reason for people (room full, server unreachable, …).
    Failed(String),
}

/// Numbers for a tile's connection-info overlay, from `RTCPeerConnection.getStats()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TileStats {
    /// Round-trip time of the selected candidate pair, milliseconds.
    pub rtt_ms: Option<f64>,
    /// Received video bitrate, kilobits per second.
    pub video_kbps: Option<f64>,
    /// Received video resolution.
    pub resolution: Option<(u32, u32)>,
    /// Share of video and audio packets lost, percent.
    pub loss_percent: Option<f64>,
    /// Video frames decoded so far.
    pub frames_decoded: u64,
    /// ICE connection state (`connected`, `failed`, …).
    pub ice_state: String,
}

/// One person in the call as a tile shows them.
#[derive(Debug, Clone, Copy)]
pub struct Participant {
    /// Their peer id (stable for the life of their session).
    pub id: StoredValue<String>,
    /// Their display name.
    pub name: RwSignal<String>,
    /// What they say they send (drives the mic-off / camera-off indicators).
    pub media: RwSignal<MediaState>,
    /// Their audio level is above the speaking threshold.
    pub speaking: RwSignal<bool>,
    /// Connection numbers for the overlay.
    pub stats: RwSignal<TileStats>,
    /// Bumped whenever their media stream gains or loses a track, so the `<video>` re-binds.
    pub stream_version: RwSignal<u32>,
    /// They are sharing a screen (a live screen track arrived), so it gets a tile.
    pub sharing: RwSignal<bool>,
    /// Bumped whenever their screen stream gains or loses a track.
    pub screen_version: RwSignal<u32>,
}

impl Participant {
    /// A participant with default media state.
    pub fn new(id: &str, name: &str) -> Self {
        Participant {
            id: StoredValue::new(id.to_owned()),
            name: RwSignal::new(name.to_owned()),
            media: RwSignal::new(MediaState::default()),
            speaking: RwSignal::new(false),
            stats: RwSignal::new(TileStats::default()),
            stream_version: RwSignal::new(0),
            sharing: RwSignal::new(false),
            screen_version: RwSignal::new(0),
        }
    }

    /// The peer id.
    pub fn id(&self) -> String {
        self.id.get_value()
    }
}

/// A chat line as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatLine {
    /// Unique within the room.
    pub id: u64,
    /// Sender's name at the time.
    pub name: String,
    /// The text, shown as text.
    pub text: String,
    /// Server time, ms since the epoch.
    pub ts: u64,
    /// Sent by this tab.
    pub mine: bool,
}

/// A camera or microphone to pick from.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The browser's device id.
    pub id: String,
    /// Its label (empty before permission is granted).
    pub label: String,
}

/// Everything the call views read, as one copyable handle put in context by the room page.
#[derive(Debug, Clone, Copy)]
pub struct CallUi {
    /// The room's id.
    pub room: StoredValue<String>,
    /// This page's call engine: created with the page and dropped with it, so a call never
    /// outlives its page.
    pub engine: StoredValue<EngineHandle, LocalStorage>,
    /// This tab is sharing its screen.
    pub sharing: RwSignal<bool>,
    /// Bumped when this tab's share starts, so its preview binds.
    pub share_version: RwSignal<u32>,
    /// The browser can share a screen (`getDisplayMedia` exists; most phones lack it).
    pub can_share: RwSignal<bool>,
    /// The tile pinned to the stage, if any.
    pub pinned: RwSignal<Option<TileKey>>,
    /// Lobby, in call, left, failed.
    pub phase: RwSignal<Phase>,
    /// This tab's display name.
    pub name: RwSignal<String>,
    /// The microphone is on (or will be on joining).
    pub mic_on: RwSignal<bool>,
    /// The camera is on (or will be on joining).
    pub camera_on: RwSignal<bool>,
    /// A microphone track exists.
    pub has_mic: RwSignal<bool>,
    /// A camera track exists.
    pub has_camera: RwSignal<bool>,
    /// Why a device is missing or blocked, for people.
    pub media_problem: RwSignal<Option<String>>,
    /// The local preview is being acquired.
    pub media_pending: RwSignal<bool>,
    /// Bumped when the local stream changes, so the self-view re-binds.
    pub local_version: RwSignal<u32>,
    /// Cameras to choose from.
    pub cameras: RwSignal<Vec<Device>>,
    /// Microphones to choose from.
    pub microphones: RwSignal<Vec<Device>>,
    /// The chosen camera's device id.
    pub camera_id: RwSignal<String>,
    /// The chosen microphone's device id.
    pub microphone_id: RwSignal<String>,
    /// The others in the call, in join order.
    pub participants: RwSignal<Vec<Participant>>,
    /// This tab is speaking.
    pub self_speaking: RwSignal<bool>,
    /// Chat history of this session.
    pub chat: RwSignal<Vec<ChatLine>>,
    /// The chat panel is open.
    pub chat_open: RwSignal<bool>,
    /// Chat messages from others that arrived while the panel was closed.
    pub unread: RwSignal<u32>,
    /// The per-tile connection-info overlays are shown.
    pub show_stats: RwSignal<bool>,
    /// Milliseconds from Join to the first decoded remote video frame.
    pub first_frame_ms: RwSignal<Option<f64>>,
    /// A short-lived message ("Link copied", "Reconnected").
    pub toast: RwSignal<Option<String>>,
    /// The room's recording, as the server announced it (everyone sees it: consent).
    pub recording: RwSignal<Option<RecordingNotice>>,
    /// This tab is the recorder.
    pub recording_mine: RwSignal<bool>,
    /// A start or stop is on its way to the server.
    pub recording_busy: RwSignal<bool>,
    /// The call's code (the `call` wasm chunk) is loaded: the call view is rendered, hidden,
    /// behind the lobby, so that entering the call only shows it.
    pub call_loaded: RwSignal<bool>,
}

impl CallUi {
    /// Fresh state for `room`, in the lobby.
    pub fn new(room: &str) -> Self {
        CallUi {
            room: StoredValue::new(room.to_owned()),
            engine: StoredValue::new_local(EngineHandle::default()),
            sharing: RwSignal::new(false),
            share_version: RwSignal::new(0),
            can_share: RwSignal::new(false),
            pinned: RwSignal::new(None),
            phase: RwSignal::new(Phase::Lobby),
            name: RwSignal::new(String::new()),
            mic_on: RwSignal::new(true),
            camera_on: RwSignal::new(true),
            has_mic: RwSignal::new(false),
            has_camera: RwSignal::new(false),
            media_problem: RwSignal::new(None),
            media_pending: RwSignal::new(true),
            local_version: RwSignal::new(0),
            cameras: RwSignal::new(Vec::new()),
            microphones: RwSignal::new(Vec::new()),
            camera_id: RwSignal::new(String::new()),
            microphone_id: RwSignal::new(String::new()),
            participants: RwSignal::new(Vec::new()),
            self_speaking: RwSignal::new(false),
            chat: RwSignal::new(Vec::new()),
            chat_open: RwSignal::new(false),
            unread: RwSignal::new(0),
            show_stats: RwSignal::new(false),
            first_frame_ms: RwSignal::new(None),
            toast: RwSignal::new(None),
            recording: RwSignal::new(None),
            recording_mine: RwSignal::new(false),
            recording_busy: RwSignal::new(false),
            call_loaded: RwSignal::new(false),
        }
    }

    /// The media state this tab announces.
    pub fn media_state(&self) -> MediaState {
        MediaState {
            audio: self.has_mic.get_untracked() && self.mic_on.get_untracked(),
            video: self.has_camera.get_untracked() && self.camera_on.get_untracked(),
            screen: self.sharing.get_untracked(),
        }
    }

    /// The participant with `id`, if present (and `None` once the page is gone).
    pub fn participant(&self, id: &str) -> Option<Participant> {
        self.participants
            .try_with_untracked(|ps| {
                ps.iter()
                    .find(|p| p.id.try_with_value(|pid| pid == id).unwrap_or(false))
                    .copied()
            })
            .flatten()
    }
}
