//! The connectivity check (browser only): runs each check of [`Checks`] and writes its outcome
//! with a plain-language explanation and, where an administrator can fix it, what to tell them.
//!
//! The meeting server is asked exactly as a call asks it: a signaling socket to a throw-away
//! room, whose `welcome` carries the ICE servers (with freshly minted TURN credentials). Each
//! STUN and TURN server is then probed on its own ([`probe`]), TURN relay-only and once per
//! transport, so the page can say which transports work.

mod probe;

use futures::{FutureExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use leptos::prelude::*;
use protocol::{IceServer, ServerMessage};
use wasm_bindgen_futures::spawn_local;

use crate::call::{js, media};
use crate::checks::{Check, Checks, Outcome};
use probe::{gather, Seen};

/// How long the meeting server may take to answer the signaling socket.
const SIGNALING_TIMEOUT_MS: i32 = 8_000;

/// The three ways to reach a TURN server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// The transport of a `turn:`/`turns:` URL (`turns:` is TLS; `?transport=tcp` is TCP).
    fn of(url: &str) -> Option<Transport> {
        let tcp = url.contains("transport=tcp");
        if url.starts_with("turns:") {
            Some(Transport::Tls)
        } else if url.starts_with("turn:") {
            Some(if tcp { Transport::Tcp } else { Transport::Udp })
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

/// Runs every check once; a second call while one runs does nothing.
pub fn run(checks: Checks) {
    if checks.running.get_untracked() {
        return;
    }
    checks.running.set(true);
    for check in checks.all() {
        check.finish(Outcome::Waiting, None);
    }
    spawn_local(async move {
        check_device(checks.camera, true).await;
        check_device(checks.microphone, false).await;
        match check_signaling(checks.signaling).await {
            Some(servers) => {
                futures::join!(
                    check_stun(checks.stun, &servers),
                    check_relay(checks.relay_udp, Transport::Udp, &servers),
                    check_relay(checks.relay_tcp, Transport::Tcp, &servers),
                    check_relay(checks.relay_tls, Transport::Tls, &servers),
                );
            }
            None => {
                let why = "Not checked: the meeting server tells the browser where its STUN and \
                           TURN servers are, and it could not be reached.";
                for check in [
                    checks.stun,
                    checks.relay_udp,
                    checks.relay_tcp,
                    checks.relay_tls,
                ] {
                    check.finish(Outcome::Skipped(why.into()), None);
                }
            }
        }
        checks.running.set(false);
    });
}

async fn check_device(check: Check, video: bool) {
    check.outcome.set(Outcome::Running);
    let (device, opened) = if video {
        ("camera", media::open(false, "", true, "").await)
    } else {
        ("microphone", media::open(true, "", false, "").await)
    };
    match opened {
        Ok(stream) => {
            let track = if video {
                media::video_track(&stream)
            } else {
                media::audio_track(&stream)
            };
            let label = track.as_ref().map(|t| t.label()).unwrap_or_default();
            let size = track.as_ref().and_then(|t| {
                let s = t.get_settings();
                Some((js::get_f64(&s, "width")?, js::get_f64(&s, "height")?))
            });
            let mut text = format!("The {device} works");
            if !label.is_empty() {
                text.push_str(&format!(" ({label})"));
            }
            if let Some((w, h)) = size {
                text.push_str(&format!(", {w:.0}×{h:.0}"));
            }
            text.push('.');
            media::stop_all(&stream);
            check.finish(Outcome::Passed(text), None);
        }
        Err(e) => check.finish(Outcome::Failed(e.explain(device)), None),
    }
}

/// Opens a signaling socket to a throw-away room and returns the `iceServers` of its `welcome`.
async fn check_signaling(check: Check) -> Option<Vec<IceServer>> {
    check.outcome.set(Outcome::Running);
    let admin = "The WebSocket at /ws/ must reach the record-meet server: a reverse proxy must \
                 pass the Upgrade and Connection headers, and allow this site's origin.";
    let Some(url) = signaling_url() else {
        check.finish(
            Outcome::Failed("This page cannot tell its own address.".into()),
            None,
        );
        return None;
    };
    let Ok(mut socket) = WebSocket::open(&url) else {
        check.finish(
            Outcome::Failed(
                "The browser refused to open the meeting server's live connection.".into(),
            ),
            Some(admin.into()),
        );
        return None;
    };
    let started = js::now_ms();
    let timeout = js::sleep(SIGNALING_TIMEOUT_MS).fuse();
    futures::pin_mut!(timeout);
    let welcome = futures::select! {
        frame = socket.next().fuse() => match frame {
            Some(Ok(Message::Text(text))) => match ServerMessage::parse(&text) {
                Ok(ServerMessage::Welcome(w)) => Some(w),
                _ => None,
            },
            _ => None,
        },
        () = timeout => None,
    };
    let _ = socket.close(Some(1000), Some("check done"));
    let Some(welcome) = welcome else {
        check.finish(
            Outcome::Failed(
                "The live connection to the meeting server did not open. You could not join a \
                 call from this network or browser: a firewall, proxy or browser extension may \
                 block WebSockets."
                    .into(),
            ),
            Some(admin.into()),
        );
        return None;
    };
    let ms = js::now_ms() - started;
    check.finish(Outcome::Passed(format!("Connected in {ms:.0} ms.")), None);
    Some(welcome.ice_servers)
}

fn signaling_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().ok()?;
    let id = |prefix: &str| {
        let n = (js_sys::Math::random() * 1e12) as u64;
        format!("{prefix}{n:x}")
    };
    Some(format!(
        "{scheme}://{host}/ws/{}/{}",
        id("check-"),
        id("probe-")
    ))
}

async fn check_stun(check: Check, servers: &[IceServer]) {
    let urls: Vec<String> = servers
        .iter()
        .flat_map(|s| s.urls.iter())
        .filter(|u| u.starts_with("stun:") || u.starts_with("stuns:"))
        .cloned()
        .collect();
    if urls.is_empty() {
        check.finish(
            Outcome::Skipped(
                "This server names no STUN server, so browsers only know their local \
                 addresses: calls work within one network, and across networks only through \
                 the relay."
                    .into(),
            ),
            Some("Add a stun: URL to RECORD_MEET_ICE_URLS (coturn answers STUN too).".into()),
        );
        return;
    }
    check.outcome.set(Outcome::Running);
    let server = IceServer {
        urls,
        username: None,
        credential: None,
    };
    let outcome = match gather(&server, false, "srflx").await {
        Ok(Seen {
            found: Some(addr), ..
        }) => (
            Outcome::Passed(format!(
                "The STUN server answered: your address on the internet is {addr}, so direct \
                 connections can be tried."
            )),
            None,
        ),
        Ok(seen) if seen.errors.is_empty() && seen.complete => (
            Outcome::Warning(
                "The STUN server gave no address other than your local one: either your \
                 network does not translate addresses (then direct connections work), or STUN \
                 is blocked (then calls across networks need the relay)."
                    .into(),
            ),
            None,
        ),
        Ok(_) => (
            Outcome::Failed(
                "The STUN server did not answer. Direct connections to people on other \
                 networks will rarely work; calls then need the relay below."
                    .into(),
            ),
            Some(
                "Check that the STUN server is running and that UDP to its port is allowed.".into(),
            ),
        ),
        Err(e) => (
            Outcome::Failed(format!(
                "The browser refused the check ({}).",
                js::describe(&e)
            )),
            None,
        ),
    };
    check.finish(outcome.0, outcome.1);
}

async fn check_relay(check: Check, transport: Transport, servers: &[IceServer]) {
    let Some((server, url)) = servers.iter().find_map(|s| {
        let url = s
            .urls
            .iter()
            .find(|u| Transport::of(u) == Some(transport))?;
        Some((
            IceServer {
                urls: vec![url.clone()],
                username: s.username.clone(),
                credential: s.credential.clone(),
            },
            url.clone(),
        ))
    }) else {
        let (what, admin) = match transport {
            Transport::Udp => (
                "This server names no TURN relay over UDP. About one call in five cannot connect \
                 directly and needs a relay.",
                "Add turn:HOST:3478 to RECORD_MEET_ICE_URLS (see deploy/coturn/turnserver.conf).",
            ),
            Transport::Tcp => (
                "This server names no TURN relay over TCP: people on networks that block UDP \
                 cannot get through.",
                "Add turn:HOST:3478?transport=tcp to RECORD_MEET_ICE_URLS.",
            ),
            Transport::Tls => (
                "This server names no TURN relay over TLS: people on networks that only allow \
                 web traffic (port 443) cannot get through.",
                "Add turns:HOST:443?transport=tcp to RECORD_MEET_ICE_URLS, with a certificate \
                 in coturn.",
            ),
        };
        check.finish(Outcome::Skipped(what.into()), Some(admin.into()));
        return;
    };
    check.outcome.set(Outcome::Running);
    let host = host_of(&url);
    let name = transport.name();
    let (outcome, admin) = match gather(&server, true, "relay").await {
        Ok(Seen {
            found: Some(addr), ..
        }) => (
            Outcome::Passed(format!(
                "The relay at {host} gave this browser an address ({addr}) over {name}: calls \
                 that cannot connect directly will go through it."
            )),
            None,
        ),
        Ok(seen) if seen.errors.iter().any(|(code, _)| *code == 401) => (
            Outcome::Failed(format!(
                "The relay at {host} refused the credentials the meeting server gave out, so no \
                 call can use it."
            )),
            Some(
                "RECORD_MEET_TURN_SECRET must equal coturn's static-auth-secret (with \
                 use-auth-secret), and both machines' clocks must be right."
                    .into(),
            ),
        ),
        Ok(seen)
            if seen
                .errors
                .iter()
                .any(|(code, _)| (486..=508).contains(code)) =>
        {
            (
                Outcome::Failed(format!(
                    "The relay at {host} is at its limit (error {}) and took no new call.",
                    seen.errors[0].0
                )),
                Some("Raise coturn's user-quota / total-quota, or add relay capacity.".into()),
            )
        }
        Ok(seen) => {
            let detail = seen
                .errors
                .first()
                .map(|(code, text)| format!(" (error {code}: {text})"))
                .unwrap_or_default();
            (
                Outcome::Failed(format!(
                    "No answer from the relay at {host} over {name}{detail}. Your network or a \
                     firewall may block it, or the relay is down; calls that need the relay \
                     will have no picture or sound."
                )),
                Some(format!(
                    "Check that the TURN server runs and that {name} to {host} is allowed; tell \
                     them which transports failed on this page."
                )),
            )
        }
        Err(e) => (
            Outcome::Failed(format!(
                "The browser refused the check ({}).",
                js::describe(&e)
            )),
            None,
        ),
    };
    check.finish(outcome, admin);
}

/// `host:port` of a STUN/TURN URL, for messages (never the credentials: they are not in it).
fn host_of(url: &str) -> String {
    let rest = url.split_once(':').map_or(url, |(_, r)| r);
    rest.split('?').next().unwrap_or(rest).to_owned()
}
