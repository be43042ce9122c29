//! Property tests: nothing a client can send makes the parser panic.
//!
//! The parser is the first code that touches untrusted bytes, so it is fed arbitrary strings,
//! arbitrary JSON values and near-miss envelopes; every input must end in `Ok` or a
//! [`ParseError`](crate::ParseError) with one of the frame error codes.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::{ClientMessage, ErrorCode};

/// Arbitrary JSON values, nested a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::String),
        prop_oneof![
            Just("offer"),
            Just("answer"),
            Just("ice"),
            Just("chat"),
            Just("media"),
            Just("peer-2")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("to".to_owned()),
                    Just("data".to_owned()),
                    Just("text".to_owned()),
                    Just("audio".to_owned()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The only codes a frame may be refused with.
fn is_frame_code(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::BadJson | ErrorCode::BadEnvelope | ErrorCode::UnknownType
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = ClientMessage::parse(&text) {
            prop_assert!(is_frame_code(e.code));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in ".{0,256}") {
        if let Err(e) = ClientMessage::parse(&text) {
            prop_assert!(is_frame_code(e.code));
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json()) {
        let text = value.to_string();
        match ClientMessage::parse(&text) {
            // Only objects can be frames.
            Ok(_) => prop_assert!(value.is_object()),
            Err(e) => prop_assert!(e.code != ErrorCode::BadJson && is_frame_code(e.code), "{e}"),
        }
    }

    #[test]
    fn envelopes_with_arbitrary_fields_never_panic(
        kind in any_json(), to in any_json(), data in any_json()
    ) {
        let text = json!({"type": kind, "to": to, "data": data, "from": "x"}).to_string();
        if let Err(e) = ClientMessage::parse(&text) {
            prop_assert!(e.code != ErrorCode::BadJson, "{e}");
        }
    }
}
