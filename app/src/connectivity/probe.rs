//! One ICE gathering probe: a throw-away `RTCPeerConnection` with a single ICE server, a data
//! channel to have something to gather for, and a watch for the candidate type wanted
//! (`srflx` from STUN, `relay` from TURN) or the errors the browser reports instead.

use std::cell::RefCell;
use std::rc::Rc;

use protocol::{IceServer, IceTransportPolicy};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{RtcIceGatheringState, RtcPeerConnection, RtcPeerConnectionIceEvent};

use crate::call::ice::IceSettings;
use crate::call::js;

/// How long a probe waits for its candidate: a TURN allocation answers in well under a second
/// when the relay is reachable; a blocked one often never answers at all.
pub const PROBE_TIMEOUT_MS: f64 = 10_000.0;

/// How often the probe looks at what it has seen.
const POLL_MS: i32 = 50;

/// What a probe saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// The address of the first candidate of the wanted type (`ip:port`).
    pub found: Option<String>,
    /// `icecandidateerror`s: (STUN/TURN error code, the browser's text).
    pub errors: Vec<(u16, String)>,
    /// Gathering ended without the candidate (as opposed to the time running out).
    pub complete: bool,
}

/// Gathers candidates with only `server`, relay-only when `relay`, until a candidate of type
/// `want` appears, gathering completes, or [`PROBE_TIMEOUT_MS`] passes.
///
/// # Errors
/// When the browser refuses the configuration or the offer.
pub async fn gather(server: &IceServer, relay: bool, want: &'static str) -> Result<Seen, JsValue> {
    let policy = if relay {
        IceTransportPolicy::Relay
    } else {
        IceTransportPolicy::All
    };
    let ice = IceSettings::new(std::slice::from_ref(server), Some(policy));
    let pc = RtcPeerConnection::new_with_configuration(&ice.configuration())?;
    let seen = Rc::new(RefCell::new(Seen::default()));

    let s = seen.clone();
    let on_candidate = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
            return;
        };
        if let Some(candidate) = event.candidate() {
            let mut seen = s.borrow_mut();
            if seen.found.is_none() {
                seen.found = address_of(&candidate.candidate(), want);
            }
        }
    });
    pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));

    let s = seen.clone();
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let code = js::get_f64(&event, "errorCode").unwrap_or(0.0) as u16;
        let text = js::get_string(&event, "errorText").unwrap_or_default();
        s.borrow_mut().errors.push((code, text));
    });
    js_sys::Reflect::set(
        &pc,
        &JsValue::from_str("onicecandidateerror"),
        on_error.as_ref(),
    )?;

    let result = async {
        let _ = pc.create_data_channel("probe");
        js::call_async0(&pc, "setLocalDescription").await?;
        let started = js::now_ms();
        loop {
            {
                let mut s = seen.borrow_mut();
                if s.found.is_some() {
                    break;
                }
                if pc.ice_gathering_state() == RtcIceGatheringState::Complete {
                    s.complete = true;
                    break;
                }
            }
            if js::now_ms() - started > PROBE_TIMEOUT_MS {
                break;
            }
            js::sleep(POLL_MS).await;
        }
        Ok::<(), JsValue>(())
    }
    .await;
    pc.set_onicecandidate(None);
    let _ = js_sys::Reflect::set(
        &pc,
        &JsValue::from_str("onicecandidateerror"),
        &JsValue::NULL,
    );
    pc.close();
    drop((on_candidate, on_error));
    result?;
    let seen = seen.borrow().clone();
    Ok(seen)
}

/// `ip:port` of an SDP candidate line of type `want`
/// (`candidate:1 1 udp 2 203.0.113.7 50000 typ srflx raddr …`).
fn address_of(candidate: &str, want: &str) -> Option<String> {
    let fields: Vec<&str> = candidate.split_whitespace().collect();
    let typ = fields.iter().position(|f| *f == "typ")?;
    if fields.get(typ + 1) != Some(&want) || typ < 2 {
        return None;
    }
    Some(format!("{}:{}", fields[typ - 2], fields[typ - 1]))
}
