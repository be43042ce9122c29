//! Frames the server sends to clients: built by the server, parsed by the browser client.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::raw::RawJson;

use crate::client::{ParseError, RelayKind};
use crate::error::ErrorCode;
use crate::ids::{PeerId, RoomId, SERVER_SENDER};
use crate::media::MediaState;
use crate::recording::RecordingNotice;

/// One entry of a `welcome`'s peer list: who is already in the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer's id.
    pub id: PeerId,
    /// Its display name; empty when it gave none.
    #[serde(default)]
    pub name: String,
    /// What it is sending.
    #[serde(default)]
    pub media: MediaState,
}

/// An `RTCIceServer` as the browser's `RTCPeerConnection` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` / `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Which ICE candidates a browser may use (`RTCConfiguration.iceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IceTransportPolicy {
    /// Any candidate: direct paths first, the relay when nothing else works.
    All,
    /// Relayed candidates only: every connection goes through TURN. For networks that must hide
    /// the peers' addresses from each other, and for tests that prove the relay path.
    Relay,
}

/// The `data` of `ice-servers`: fresh TURN credentials for a long call, sent before the ones of
/// `welcome` expire. The client applies them to its existing connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServers {
    /// Replaces the `iceServers` of `welcome` (or of the previous `ice-servers`).
    #[serde(rename = "iceServers")]
    pub ice_servers: Vec<IceServer>,
}

/// The `data` of `welcome`: everything a joiner needs to start its calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The joiner's own id.
    pub you: PeerId,
    /// The resume token: reconnecting with `?resume=<token>` takes over this session.
    pub session: String,
    /// The peers already in the room.
    pub peers: Vec<PeerInfo>,
    /// ICE servers for `RTCPeerConnection`.
    #[serde(rename = "iceServers")]
    pub ice_servers: Vec<IceServer>,
    /// The server node that serves this session: with several instances behind a balancer,
    /// tells a test or a person reading logs where the socket landed. Opaque; empty from a
    /// server that does not say.
    #[serde(default)]
    pub node: String,
    /// With several nodes: the number of the last frame this `welcome` accounts for. Every later
    /// frame to this session (all but `welcome` and `error`) counts one up from here; a client
    /// that resumes with `last=<count>` gets what it missed replayed. Absent from a single node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The room's recording in progress, if any, so a late joiner sees the indicator at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<RecordingNotice>,
    /// Set when the server forces a policy on every connection (absent: the browser default).
    #[serde(
        rename = "iceTransportPolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ice_transport_policy: Option<IceTransportPolicy>,
}

/// The `data` of a broadcast `chat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The text exactly as sent: clients must show it as text, never as HTML.
    pub text: String,
    /// Server time, milliseconds since the Unix epoch.
    pub ts: u64,
    /// Unique within the room, increasing.
    pub id: u64,
    /// The sender's display name at the time.
    #[serde(default)]
    pub name: String,
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// The first frame to a joiner.
    Welcome(Welcome),
    /// Fresh ICE servers (renewed TURN credentials) for the addressee's connections.
    IceServers(IceServers),
    /// A peer joined (sent to the others).
    NewPeer {
        /// The joiner.
        id: PeerId,
        /// Its display name.
        name: String,
    },
    /// A peer left (sent to the others).
    PeerLeft {
        /// The leaver.
        id: PeerId,
    },
    /// `offer` / `answer` / `ice` relayed from `from` to `to`.
    Relay {
        /// Which of the three.
        kind: RelayKind,
        /// The sender, as the server knows it.
        from: PeerId,
        /// The receiver.
        to: PeerId,
        /// The sender's payload, verbatim.
        data: RawJson,
    },
    /// A chat message (sent to everyone, the sender included).
    Chat {
        /// The sender.
        from: PeerId,
        /// Text, time, id and name.
        message: ChatMessage,
    },
    /// A peer's new media state (sent to the others).
    Media {
        /// The peer.
        from: PeerId,
        /// Its state.
        state: MediaState,
    },
    /// The room's recording started, paused, resumed or ended (sent to everyone).
    Recording(RecordingNotice),
    /// A frame was refused.
    Error {
        /// Why.
        code: ErrorCode,
        /// For people.
        message: String,
    },
}

/// The envelope as written on the wire.
#[derive(Serialize)]
struct OutEnvelope<'a, D: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    room: &'a str,
    from: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    data: D,
}

/// The envelope as read by a client.
#[derive(Deserialize)]
struct InEnvelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    data: Option<Box<RawValue>>,
}

#[derive(Serialize, Deserialize)]
struct ErrorData {
    code: ErrorCode,
    message: String,
}

impl ServerMessage {
    /// The `type` on the wire; also the metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMessage::Welcome(_) => "welcome",
            ServerMessage::IceServers(_) => "ice-servers",
            ServerMessage::NewPeer { .. } => "new-peer",
            ServerMessage::PeerLeft { .. } => "peer-left",
            ServerMessage::Relay { kind, .. } => kind.as_str(),
            ServerMessage::Chat { .. } => "chat",
            ServerMessage::Media { .. } => "media",
            ServerMessage::Recording(_) => "recording",
            ServerMessage::Error { .. } => "error",
        }
    }

    /// Writes the frame's JSON text for a peer of `room`.
    pub fn encode(&self, room: &RoomId) -> String {
        fn out<D: Serialize>(
            kind: &str,
            room: &RoomId,
            from: &str,
            to: Option<&str>,
            name: Option<&str>,
            data: D,
        ) -> String {
            let envelope = OutEnvelope {
                kind,
                room: room.as_str(),
                from,
                to,
                name,
                data,
            };
            // Serializing these plain structs into a String cannot fail.
            serde_json::to_string(&envelope).unwrap_or_default()
        }
        let kind = self.kind();
        match self {
            ServerMessage::Welcome(w) => {
                out(kind, room, SERVER_SENDER, Some(w.you.as_str()), None, w)
            }
            ServerMessage::IceServers(servers) => {
                out(kind, room, SERVER_SENDER, None, None, servers)
            }
            ServerMessage::NewPeer { id, name } => {
                out(kind, room, SERVER_SENDER, None, Some(name), id)
            }
            ServerMessage::PeerLeft { id } => out(kind, room, SERVER_SENDER, None, None, id),
            ServerMessage::Relay { from, to, data, .. } => {
                out(kind, room, from.as_str(), Some(to.as_str()), None, data)
            }
            ServerMessage::Chat { from, message } => {
                out(kind, room, from.as_str(), None, None, message)
            }
            ServerMessage::Media { from, state } => {
                out(kind, room, from.as_str(), None, None, state)
            }
            ServerMessage::Recording(notice) => out(kind, room, SERVER_SENDER, None, None, notice),
            ServerMessage::Error { code, message } => out(
                kind,
                room,
                SERVER_SENDER,
                None,
                None,
                ErrorData {
                    code: *code,
                    message: message.clone(),
                },
            ),
        }
    }

    /// Parses a frame from the server (the browser client's side).
    ///
    /// # Errors
    /// A [`ParseError`] when the frame is not one this version of the protocol knows.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let bad = |what: &str| ParseError {
            code: ErrorCode::BadEnvelope,
            message: what.to_owned(),
        };
        let env: InEnvelope = serde_json::from_str(text).map_err(|e| ParseError {
            code: ErrorCode::BadJson,
            message: e.to_string(),
        })?;
        let data = env.data.ok_or_else(|| bad("`data` is missing"))?;
        let data_as = |what: &str| -> Result<_, ParseError> { Ok((data.get(), bad(what))) };
        let from = || -> Result<PeerId, ParseError> {
            env.from
                .as_deref()
                .and_then(|f| PeerId::parse(f).ok())
                .ok_or_else(|| bad("`from` must be a peer id"))
        };
        let relay = |kind| -> Result<Self, ParseError> {
            let to = env
                .to
                .as_deref()
                .and_then(|t| PeerId::parse(t).ok())
                .ok_or_else(|| bad("`to` must be a peer id"))?;
            Ok(ServerMessage::Relay {
                kind,
                from: from()?,
                to,
                data: RawJson::from(data.clone()),
            })
        };
        fn typed<T: for<'de> Deserialize<'de>>(
            (text, err): (&str, ParseError),
        ) -> Result<T, ParseError> {
            serde_json::from_str(text).map_err(|_| err)
        }
        match env.kind.as_str() {
            "welcome" => Ok(ServerMessage::Welcome(typed(data_as("bad welcome")?)?)),
            "ice-servers" => Ok(ServerMessage::IceServers(typed(data_as(
                "bad ice-servers",
            )?)?)),
            "new-peer" => Ok(ServerMessage::NewPeer {
                id: typed(data_as("bad new-peer")?)?,
                name: env.name.clone().unwrap_or_default(),
            }),
            "peer-left" => Ok(ServerMessage::PeerLeft {
                id: typed(data_as("bad peer-left")?)?,
            }),
            "offer" => relay(RelayKind::Offer),
            "answer" => relay(RelayKind::Answer),
            "ice" => relay(RelayKind::Ice),
            "chat" => Ok(ServerMessage::Chat {
                from: from()?,
                message: typed(data_as("bad chat")?)?,
            }),
            "media" => Ok(ServerMessage::Media {
                from: from()?,
                state: typed(data_as("bad media")?)?,
            }),
            "recording" => Ok(ServerMessage::Recording(typed(data_as("bad recording")?)?)),
            "error" => {
                let e: ErrorData = typed(data_as("bad error")?)?;
                Ok(ServerMessage::Error {
                    code: e.code,
                    message: e.message,
                })
            }
            _ => Err(ParseError {
                code: ErrorCode::UnknownType,
                message: format!("unknown type {:?}", env.kind),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn room() -> RoomId {
        RoomId::parse("room-1").unwrap()
    }
    fn peer(id: &str) -> PeerId {
        PeerId::parse(id).unwrap()
    }

    fn round_trip(msg: ServerMessage) -> Value {
        let text = msg.encode(&room());
        assert_eq!(ServerMessage::parse(&text).unwrap(), msg, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn new_peer_and_peer_left_keep_the_original_string_data() {
        let v = round_trip(ServerMessage::NewPeer {
            id: peer("peer-2"),
            name: "Bob".into(),
        });
        assert_eq!(
            v,
            json!({"type":"new-peer","room":"room-1","from":"server","name":"Bob","data":"peer-2"})
        );
        let v = round_trip(ServerMessage::PeerLeft { id: peer("peer-2") });
        assert_eq!(
            v,
            json!({"type":"peer-left","room":"room-1","from":"server","data":"peer-2"})
        );
    }

    #[test]
    fn relay_keeps_data_verbatim() {
        let data = RawJson::from_text(r#"{"sdp":"test"}"#.into()).unwrap();
        let v = round_trip(ServerMessage::Relay {
            kind: RelayKind::Offer,
            from: peer("peer-1"),
            to: peer("peer-2"),
            data,
        });
        assert_eq!(
            v,
            json!({"type":"offer","room":"room-1","from":"peer-1","to":"peer-2","data":{"sdp":"test"}})
        );
    }

    #[test]
    fn welcome_chat_media_error_round_trip() {
        let v = round_trip(ServerMessage::Welcome(Welcome {
            you: peer("a"),
            session: "tok".into(),
            peers: vec![PeerInfo {
                id: peer("b"),
                name: "B".into(),
                media: MediaState::default(),
            }],
            ice_servers: vec![IceServer {
                urls: vec!["stun:127.0.0.1:3478".into()],
                username: None,
                credential: None,
            }],
            node: "n1".into(),
            seq: None,
            recording: None,
            ice_transport_policy: None,
        }));
        assert!(
            v["data"].get("recording").is_none(),
            "absent when not recording"
        );
        let rec = round_trip(ServerMessage::Recording(RecordingNotice {
            id: crate::RecordingId::parse("abcdefghijABCDEFGHIJ01").unwrap(),
            phase: crate::RecordingPhase::Recording,
            by: peer("a"),
            started_at: 7,
        }));
        assert_eq!(rec["type"], "recording");
        assert_eq!(rec["data"]["phase"], "recording");
        assert_eq!(v["data"]["iceServers"][0]["urls"][0], "stun:127.0.0.1:3478");
        assert_eq!(v["data"]["node"], "n1");
        assert!(v["data"].get("iceTransportPolicy").is_none(), "{v}");
        let v = round_trip(ServerMessage::Chat {
            from: peer("a"),
            message: ChatMessage {
                text: "<script>".into(),
                ts: 1,
                id: 2,
                name: "A".into(),
            },
        });
        assert_eq!(v["data"]["text"], "<script>");
        round_trip(ServerMessage::Media {
            from: peer("a"),
            state: MediaState::default(),
        });
        let v = round_trip(ServerMessage::Error {
            code: ErrorCode::NoSuchPeer,
            message: "gone".into(),
        });
        assert_eq!(v["data"]["code"], "no-such-peer");
    }

    #[test]
    fn ice_servers_and_a_relay_policy_round_trip() {
        let turn = IceServer {
            urls: vec!["turn:127.0.0.1:3478".into()],
            username: Some("1700000000:a".into()),
            credential: Some("c2VjcmV0".into()),
        };
        let v = round_trip(ServerMessage::IceServers(IceServers {
            ice_servers: vec![turn.clone()],
        }));
        assert_eq!(
            v,
            json!({"type":"ice-servers","room":"room-1","from":"server","data":{"iceServers":[
                {"urls":["turn:127.0.0.1:3478"],"username":"1700000000:a","credential":"c2VjcmV0"}
            ]}})
        );
        let v = round_trip(ServerMessage::Welcome(Welcome {
            you: peer("a"),
            session: "tok".into(),
            peers: Vec::new(),
            ice_servers: vec![turn],
            node: "n1".into(),
            seq: None,
            recording: None,
            ice_transport_policy: Some(IceTransportPolicy::Relay),
        }));
        assert_eq!(v["data"]["iceTransportPolicy"], "relay");
    }
}
