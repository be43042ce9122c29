//! Error codes of `error` frames and HTTP refusals, and WebSocket close codes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why the server refused a frame or a join. Sent as `data.code` of an `error` frame, or as
/// `error.code` of an HTTP error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum ErrorCode {
    /// The frame is not valid JSON.
    BadJson,
    /// A field is missing or has the wrong type or value.
    BadEnvelope,
    /// The `type` is not one the server knows.
    UnknownType,
    /// The `to` peer is not in the sender's room.
    NoSuchPeer,
    /// The frame is larger than the server accepts.
    TooLarge,
    /// The sender is over its rate limit; the frame was dropped.
    RateLimited,
    /// A room or peer id in the URL breaks the id rules (HTTP 400).
    InvalidId,
    /// The peer id is already present in the room (HTTP 409).
    PeerIdTaken,
    /// The room is at capacity (HTTP 409).
    RoomFull,
    /// The Origin of the upgrade request is not allowed (HTTP 403).
    ForbiddenOrigin,
    /// The request is malformed in another way, e.g. a bad query parameter (HTTP 400).
    BadRequest,
    /// The server holds as many connections as it is configured for (HTTP 503).
    ServerFull,
    /// The server cannot reach the store it shares rooms through; try again shortly (HTTP 503,
    /// or an `error` frame for a frame that could not be delivered).
    Unavailable,
    /// The server is draining before a restart and takes no new joins (HTTP 503): try again in
    /// a moment — the restarted process, or another node behind the balancer, takes the join.
    Restarting,
}

impl ErrorCode {
    /// Every code, in a fixed order: the metrics keep one counter per entry.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadJson,
        ErrorCode::BadEnvelope,
        ErrorCode::UnknownType,
        ErrorCode::NoSuchPeer,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::InvalidId,
        ErrorCode::PeerIdTaken,
        ErrorCode::RoomFull,
        ErrorCode::ForbiddenOrigin,
        ErrorCode::BadRequest,
        ErrorCode::ServerFull,
        ErrorCode::Unavailable,
        ErrorCode::Restarting,
    ];

    /// The position of this code in [`ErrorCode::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The code for its wire name, e.g. `"room-full"`.
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == name)
    }

    /// The code as on the wire, e.g. `"bad-json"`; also the metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad-json",
            ErrorCode::BadEnvelope => "bad-envelope",
            ErrorCode::UnknownType => "unknown-type",
            ErrorCode::NoSuchPeer => "no-such-peer",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::InvalidId => "invalid-id",
            ErrorCode::PeerIdTaken => "peer-id-taken",
            ErrorCode::RoomFull => "room-full",
            ErrorCode::ForbiddenOrigin => "forbidden-origin",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::ServerFull => "server-full",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Restarting => "restarting",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every HTTP refusal (a join refused before the upgrade, an invalid room
/// name): `{"error":{"code":…,"message":…}}`. The server writes it and the browser client reads
/// it to tell people why they cannot join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

#[derive(Serialize, Deserialize)]
struct RefusalBody<E> {
    error: E,
}

#[derive(Serialize, Deserialize)]
struct RefusalError<M> {
    code: ErrorCode,
    message: M,
}

impl Refusal {
    /// A refusal with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    /// The body's JSON text.
    pub fn to_json(&self) -> String {
        let body = RefusalBody {
            error: RefusalError {
                code: self.code,
                message: self.message.as_str(),
            },
        };
        // A code and a string always serialize.
        serde_json::to_string(&body).unwrap_or_default()
    }

    /// Reads a body.
    ///
    /// # Errors
    /// When `text` is not a refusal with a code this version knows.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let body: RefusalBody<RefusalError<String>> = serde_json::from_str(text)?;
        Ok(Refusal {
            code: body.error.code,
            message: body.error.message,
        })
    }
}

/// WebSocket close codes the server uses, so clients can tell why they were closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseCode {
    /// The server is going away for good. Not sent by this server (a drain before a restart
    /// closes with [`CloseCode::Reconnect`]); kept so clients can name it.
    GoingAway = 1001,
    /// A frame was larger than the limit.
    TooLarge = 1009,
    /// Reconnect and resume (at once, no backoff): the server is restarting (a SIGTERM drain),
    /// this node lost the shared store, or the socket missed frames it can only recover through
    /// a fresh `welcome`.
    Reconnect = 1012,
    /// The connection's outbound queue overflowed: it did not read fast enough.
    SlowConsumer = 4008,
    /// The same peer resumed its session on a new socket.
    Replaced = 4009,
    /// The client kept sending after being rate-limited.
    RateLimited = 4029,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The code for a number, if it is one of ours.
    pub fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1001 => CloseCode::GoingAway,
            1009 => CloseCode::TooLarge,
            1012 => CloseCode::Reconnect,
            4008 => CloseCode::SlowConsumer,
            4009 => CloseCode::Replaced,
            4029 => CloseCode::RateLimited,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order_and_serializes_as_as_str() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.index(), i);
            assert_eq!(
                serde_json::to_string(code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
        let refusal = Refusal::new(ErrorCode::RoomFull, "full \"room\"");
        let text = refusal.to_json();
        assert_eq!(
            text,
            r#"{"error":{"code":"room-full","message":"full \"room\""}}"#
        );
        assert_eq!(Refusal::parse(&text).unwrap(), refusal);
        assert!(Refusal::parse(r#"{"error":{"code":"nope","message":""}}"#).is_err());
        assert!(Refusal::parse("<html>").is_err());
        for code in [1001, 1009, 1012, 4008, 4009, 4029] {
            assert_eq!(CloseCode::from_code(code).map(CloseCode::code), Some(code));
        }
    }

    #[test]
    fn a_restart_is_one_error_code_and_one_close_code() {
        // The two 503 refusals a client retries are distinct codes on the wire.
        assert_eq!(
            ErrorCode::from_wire("restarting"),
            Some(ErrorCode::Restarting)
        );
        assert_ne!(ErrorCode::Restarting, ErrorCode::Unavailable);
        // A drain closes with 1012, the same code as every other "reconnect and resume".
        assert_eq!(CloseCode::from_code(1012), Some(CloseCode::Reconnect));
        assert_eq!(CloseCode::Reconnect.code(), 1012);
    }
}
