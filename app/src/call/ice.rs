//! The ICE part of a connection's configuration: the servers and policy the signaling server
//! sent last (`welcome`, then `ice-servers` renewals), for new connections and existing ones.
//!
//! TURN credentials expire. An existing connection keeps the servers it was created with, so an
//! ICE restart after a network change would authenticate with stale ones; every `welcome` and
//! renewal is therefore applied with `setConfiguration` to the connections already open.

use js_sys::Array;
use protocol::{IceServer, IceTransportPolicy};
use wasm_bindgen::JsValue;
use web_sys::{RtcConfiguration, RtcIceServer, RtcIceTransportPolicy, RtcPeerConnection};

/// The latest ICE settings from the server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IceSettings {
    /// STUN/TURN servers (credentials included).
    servers: Vec<IceServer>,
    /// The policy forced by the server, if any.
    policy: Option<IceTransportPolicy>,
}

impl IceSettings {
    /// Settings from a `welcome`.
    pub fn new(servers: &[IceServer], policy: Option<IceTransportPolicy>) -> Self {
        IceSettings {
            servers: servers.to_vec(),
            policy,
        }
    }

    /// The same policy with renewed servers (an `ice-servers` frame).
    pub fn renewed(&self, servers: &[IceServer]) -> Self {
        IceSettings::new(servers, self.policy)
    }

    /// An `RTCConfiguration` for a new connection. No `iceCandidatePoolSize`: with it Chromium
    /// sometimes never sent the answerer's candidates.
    pub fn configuration(&self) -> RtcConfiguration {
        let config = RtcConfiguration::new();
        self.fill(&config);
        config
    }

    /// Gives an existing connection these servers (and policy) with `setConfiguration`, keeping
    /// the rest of its configuration: the browser refuses a changed certificate or bundle
    /// policy, so those are kept from `getConfiguration()`.
    ///
    /// # Errors
    /// The browser's refusal (e.g. the connection is closed).
    pub fn apply(&self, pc: &RtcPeerConnection) -> Result<(), JsValue> {
        let config = pc.get_configuration();
        self.fill(&config);
        pc.set_configuration_with_configuration(&config)
    }

    fn fill(&self, config: &RtcConfiguration) {
        config.set_ice_servers(&ice_servers(&self.servers));
        if let Some(policy) = self.policy {
            config.set_ice_transport_policy(transport_policy(policy));
        }
    }
}

/// `iceServers` for `servers`.
pub fn ice_servers(servers: &[IceServer]) -> Array {
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
    list
}

/// The browser's name for `policy`.
pub fn transport_policy(policy: IceTransportPolicy) -> RtcIceTransportPolicy {
    match policy {
        IceTransportPolicy::All => RtcIceTransportPolicy::All,
        IceTransportPolicy::Relay => RtcIceTransportPolicy::Relay,
    }
}
