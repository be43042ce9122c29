//! The `RTCConfiguration` of every connection, built from the servers `welcome` lists.

use js_sys::Array;
use protocol::IceServer;
use wasm_bindgen::JsValue;
use web_sys::{RtcConfiguration, RtcIceServer};

/// The configuration for `servers` (STUN/TURN URLs with optional credentials). No
/// `iceCandidatePoolSize`: with it Chromium sometimes never sent the answerer's candidates.
pub fn configuration(servers: &[IceServer]) -> RtcConfiguration {
    let list = Array::new();
    for server in servers {
        let entry = RtcIceServer::new();
        let urls: Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        list.push(&entry);
    }
    let config = RtcConfiguration::new();
    config.set_ice_servers(&list);
    config
}
