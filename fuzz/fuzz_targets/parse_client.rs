//! Fuzzes the server's parser of client frames (and the client's parser of server frames) with
//! arbitrary bytes: neither may panic, and an accepted client frame must re-encode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{ClientMessage, ServerMessage};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ClientMessage::Chat { text }) = ClientMessage::parse(text) {
            assert!(ClientMessage::parse(&ClientMessage::chat_text(&text)).is_ok());
        }
        let _ = ServerMessage::parse(text);
    }
});
