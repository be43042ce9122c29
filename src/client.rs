//! Frames a client sends to the server, and the parser that turns untrusted text into them.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::raw::RawJson;

use crate::error::ErrorCode;
use crate::ids::PeerId;
use crate::limits::MAX_CHAT_CHARS;
use crate::media::MediaState;

/// The three signaling types the server relays to one peer without looking inside `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayKind {
    /// An SDP offer.
    Offer,
    /// An SDP answer.
    Answer,
    /// An ICE candidate.
    Ice,
}

impl RelayKind {
    /// The `type` on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayKind::Offer => "offer",
            RelayKind::Answer => "answer",
            RelayKind::Ice => "ice",
        }
    }
}

/// A frame from a client, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `offer` / `answer` / `ice`: deliver `data` to peer `to` of the same room.
    Relay {
        /// Which of the three.
        kind: RelayKind,
        /// The receiving peer.
        to: PeerId,
        /// The payload, kept as the client wrote it so relaying never re-encodes it.
        data: RawJson,
    },
    /// `chat`: broadcast a text to the room, the sender included.
    Chat {
        /// 1–4000 characters.
        text: String,
    },
    /// `media`: the sender's new media state.
    Media(MediaState),
}

/// Why a frame was refused: the code for the `error` frame and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The `data.code` of the `error` frame.
    pub code: ErrorCode,
    /// A short explanation.
    pub message: String,
}

impl ParseError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The envelope with every field optional and untyped, so that a missing or mistyped field is
/// reported as `bad-envelope` rather than as a JSON syntax error. Unknown fields are ignored.
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    to: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChatData {
    text: String,
}

impl ClientMessage {
    /// Parses one text frame from a client.
    ///
    /// `from` and `room` are ignored: the server knows who sent the frame and where.
    ///
    /// # Errors
    /// A [`ParseError`] whose code is `bad-json`, `bad-envelope` or `unknown-type`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        // serde's derived struct visitor also accepts a JSON array (fields by position), so a
        // frame that is not an object is told apart before the envelope is read.
        if !text
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('{')
        {
            return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => ParseError::new(ErrorCode::BadEnvelope, "a frame must be a JSON object"),
                Err(e) => ParseError::new(ErrorCode::BadJson, format!("invalid JSON: {e}")),
            });
        }
        let raw: RawEnvelope<'_> = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                ParseError::new(ErrorCode::BadEnvelope, format!("bad envelope: {e}"))
            } else {
                ParseError::new(ErrorCode::BadJson, format!("invalid JSON: {e}"))
            }
        })?;
        let kind: String = match raw.kind {
            Some(kind) => serde_json::from_str(kind.get())
                .map_err(|_| ParseError::new(ErrorCode::BadEnvelope, "`type` must be a string"))?,
            None => return Err(ParseError::new(ErrorCode::BadEnvelope, "`type` is missing")),
        };
        let relay = match kind.as_str() {
            "offer" => Some(RelayKind::Offer),
            "answer" => Some(RelayKind::Answer),
            "ice" => Some(RelayKind::Ice),
            _ => None,
        };
        if let Some(kind) = relay {
            let to = raw
                .to
                .ok_or_else(|| ParseError::new(ErrorCode::BadEnvelope, "`to` is missing"))?;
            let to: PeerId = serde_json::from_str(to.get()).map_err(|_| {
                ParseError::new(ErrorCode::BadEnvelope, "`to` must be a valid peer id")
            })?;
            let data = match raw.data {
                Some(data) if data.get() != "null" => RawJson::from(data.to_owned()),
                _ => return Err(ParseError::new(ErrorCode::BadEnvelope, "`data` is missing")),
            };
            return Ok(ClientMessage::Relay { kind, to, data });
        }
        match kind.as_str() {
            "chat" => {
                let data = raw
                    .data
                    .ok_or_else(|| ParseError::new(ErrorCode::BadEnvelope, "`data` is missing"))?;
                let chat: ChatData = serde_json::from_str(data.get()).map_err(|_| {
                    ParseError::new(ErrorCode::BadEnvelope, "`data.text` must be a string")
                })?;
                let chars = chat.text.chars().count();
                // PROTOCOL.md counts characters, not bytes, and says 1–4000: a lone space is
                // a (pointless but valid) message, so no trimming here.
                if chars == 0 || chars > MAX_CHAT_CHARS {
                    return Err(ParseError::new(
                        ErrorCode::BadEnvelope,
                        format!("`data.text` must have 1 to {MAX_CHAT_CHARS} characters"),
                    ));
                }
                Ok(ClientMessage::Chat { text: chat.text })
            }
            "media" => {
                let data = raw
                    .data
                    .ok_or_else(|| ParseError::new(ErrorCode::BadEnvelope, "`data` is missing"))?;
                let state: MediaState = serde_json::from_str(data.get()).map_err(|_| {
                    ParseError::new(
                        ErrorCode::BadEnvelope,
                        "`data` must be {\"audio\":bool,\"video\":bool,\"screen\":bool}",
                    )
                })?;
                Ok(ClientMessage::Media(state))
            }
            _ => Err(ParseError::new(
                ErrorCode::UnknownType,
                "`type` must be one of offer, answer, ice, chat, media",
            )),
        }
    }

    /// The `type` on the wire; also the metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Relay { kind, .. } => kind.as_str(),
            ClientMessage::Chat { .. } => "chat",
            ClientMessage::Media(_) => "media",
        }
    }

    /// Builds the text of a relay frame, as the browser client sends it. `data_json` must be
    /// valid JSON (the browser's `JSON.stringify` of a description or candidate); it is written
    /// as it is, so no JSON value is built.
    pub fn relay_text(kind: RelayKind, to: &PeerId, data_json: &str) -> String {
        // Ids only hold `A-Z a-z 0-9 _ -`, so they need no escaping.
        format!(
            r#"{{"type":"{}","to":"{to}","data":{data_json}}}"#,
            kind.as_str()
        )
    }

    /// Builds the text of a chat frame.
    pub fn chat_text(text: &str) -> String {
        #[derive(Serialize)]
        struct Text<'a> {
            text: &'a str,
        }
        outgoing("chat", Text { text })
    }

    /// Builds the text of a media frame.
    pub fn media_text(state: MediaState) -> String {
        outgoing("media", state)
    }
}

/// A client frame with only `type` and `data`.
fn outgoing<D: Serialize>(kind: &str, data: D) -> String {
    #[derive(Serialize)]
    struct Frame<'a, D> {
        #[serde(rename = "type")]
        kind: &'a str,
        data: D,
    }
    // Plain structs of strings and bools always serialize.
    serde_json::to_string(&Frame { kind, data }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ErrorCode {
        ClientMessage::parse(text).unwrap_err().code
    }

    #[test]
    fn parses_the_original_designs_offer() {
        let msg = ClientMessage::parse(
            r#"{"type":"offer","from":"peer-1","to":"peer-2","data":{"sdp":"test"}}"#,
        )
        .unwrap();
        match msg {
            ClientMessage::Relay { kind, to, data } => {
                assert_eq!(kind, RelayKind::Offer);
                assert_eq!(to.as_str(), "peer-2");
                assert_eq!(data.get(), r#"{"sdp":"test"}"#);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_chat_and_media_and_ignores_unknown_fields() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"chat","data":{"text":"hi"},"x":1}"#).unwrap(),
            ClientMessage::Chat { text: "hi".into() }
        );
        assert_eq!(
            ClientMessage::parse(
                r#"{"type":"media","data":{"audio":false,"video":true,"screen":false}}"#
            )
            .unwrap(),
            ClientMessage::Media(MediaState {
                audio: false,
                video: true,
                screen: false
            })
        );
    }

    #[test]
    fn round_trips_the_builders() {
        let to = PeerId::parse("b").unwrap();
        let text = ClientMessage::relay_text(RelayKind::Ice, &to, r#"{"c":1}"#);
        assert!(matches!(
            ClientMessage::parse(&text).unwrap(),
            ClientMessage::Relay {
                kind: RelayKind::Ice,
                ..
            }
        ));
        let text = ClientMessage::chat_text("<b>x</b>");
        assert_eq!(
            ClientMessage::parse(&text).unwrap(),
            ClientMessage::Chat {
                text: "<b>x</b>".into()
            }
        );
        let state = MediaState::default();
        assert_eq!(
            ClientMessage::parse(&ClientMessage::media_text(state)).unwrap(),
            ClientMessage::Media(state)
        );
    }

    #[test]
    fn classifies_errors() {
        assert_eq!(code("{"), ErrorCode::BadJson);
        assert_eq!(code("not json"), ErrorCode::BadJson);
        assert_eq!(code("[1,2]"), ErrorCode::BadEnvelope);
        assert_eq!(code("\"offer\""), ErrorCode::BadEnvelope);
        assert_eq!(code("{}"), ErrorCode::BadEnvelope);
        assert_eq!(code(r#"{"type":5}"#), ErrorCode::BadEnvelope);
        assert_eq!(
            code(r#"{"type":"offer","data":{}}"#),
            ErrorCode::BadEnvelope
        );
        assert_eq!(
            code(r#"{"type":"offer","to":"a b","data":{}}"#),
            ErrorCode::BadEnvelope
        );
        assert_eq!(code(r#"{"type":"offer","to":"a"}"#), ErrorCode::BadEnvelope);
        assert_eq!(
            code(r#"{"type":"chat","data":{"text":""}}"#),
            ErrorCode::BadEnvelope
        );
        assert_eq!(
            code(r#"{"type":"chat","data":{"text":7}}"#),
            ErrorCode::BadEnvelope
        );
        let long = "x".repeat(MAX_CHAT_CHARS + 1);
        assert_eq!(
            code(&format!(r#"{{"type":"chat","data":{{"text":"{long}"}}}}"#)),
            ErrorCode::BadEnvelope
        );
        assert_eq!(
            code(r#"{"type":"media","data":{"audio":1}}"#),
            ErrorCode::BadEnvelope
        );
        assert_eq!(code(r#"{"type":"dance"}"#), ErrorCode::UnknownType);
    }

    #[test]
    fn an_array_is_not_an_envelope() {
        // The derived struct visitor would read this as type/to/data by position.
        assert_eq!(
            code(r#"["offer","peer-2",{"sdp":"x"}]"#),
            ErrorCode::BadEnvelope
        );
        assert_eq!(code(" [1"), ErrorCode::BadJson);
        assert_eq!(code("  "), ErrorCode::BadJson);
        assert_eq!(code("null"), ErrorCode::BadEnvelope);
    }

    #[test]
    fn chat_limit_counts_characters_not_bytes() {
        let text = "é".repeat(MAX_CHAT_CHARS);
        let frame = ClientMessage::chat_text(&text);
        assert!(ClientMessage::parse(&frame).is_ok());
    }
}
