//! The ICE part of a connection's configuration: the servers and policy the signaling server
//! sent last (`welcome`, then `ice-servers` renewals), for new connections and existing ones.
//!
//! TURN credentials expire. An existing connection keeps the servers it was created with, so an
//! ICE restart after a network change would authenticate with stale ones; every `welcome` and
//! renewal is therefore applied with `setConfiguration` to the connections already open.

use protocol::{IceServer, IceTransportPolicy};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{RtcConfiguration, RtcPeerConnection};

use super::js;

/// The latest ICE settings from the server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IceSettings {
    /// `iceServers` as JSON (credentials included).
    servers_json: String,
    /// The policy forced by the server, if any.
    policy: Option<IceTransportPolicy>,
}

impl IceSettings {
    /// Settings from a `welcome`.
    pub fn new(servers: &[IceServer], policy: Option<IceTransportPolicy>) -> Self {
        IceSettings {
            servers_json: serde_json::to_string(servers).unwrap_or_else(|_| "[]".into()),
            policy,
        }
    }

    /// The same policy with renewed servers (an `ice-servers` frame).
    pub fn renewed(&self, servers: &[IceServer]) -> Self {
        IceSettings::new(servers, self.policy)
    }

    /// An `RTCConfiguration` for a new connection.
    ///
    /// # Errors
    /// When the JSON cannot be parsed (it always can: it was serialized above).
    pub fn configuration(&self) -> Result<RtcConfiguration, JsValue> {
        let config = js::parse_json(&format!(r#"{{"iceServers":{}}}"#, self.servers()))?;
        self.set_policy(&config)?;
        Ok(config.unchecked_into())
    }

    /// Gives an existing connection these servers (and policy) with `setConfiguration`, keeping
    /// the rest of its configuration: the browser refuses a changed certificate or bundle
    /// policy, so those are copied from `getConfiguration()`.
    ///
    /// # Errors
    /// The browser's refusal (e.g. the connection is closed).
    pub fn apply(&self, pc: &RtcPeerConnection) -> Result<(), JsValue> {
        let config = pc.get_configuration();
        let servers = js::parse_json(self.servers())?;
        js_sys::Reflect::set(&config, &JsValue::from_str("iceServers"), &servers)?;
        self.set_policy(&config)?;
        pc.set_configuration_with_configuration(&config)
    }

    fn servers(&self) -> &str {
        if self.servers_json.is_empty() {
            "[]"
        } else {
            &self.servers_json
        }
    }

    fn set_policy(&self, config: &JsValue) -> Result<(), JsValue> {
        if let Some(policy) = self.policy {
            let value = match policy {
                IceTransportPolicy::All => "all",
                IceTransportPolicy::Relay => "relay",
            };
            js_sys::Reflect::set(
                config,
                &JsValue::from_str("iceTransportPolicy"),
                &JsValue::from_str(value),
            )?;
        }
        Ok(())
    }
}
