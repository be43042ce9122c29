//! What the connectivity check page shows: one row per thing a call needs, as plain reactive
//! data. The browser-only runner (`crate::connectivity`) writes it; the page only reads it, so
//! the server renders the same rows (all waiting) that hydration then finds.

use leptos::prelude::*;

/// How one check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not started yet.
    Waiting,
    /// Under way.
    Running,
    /// Works; the text says what was seen.
    Passed(String),
    /// Works in part, or could not be decided; the text says what that means.
    Warning(String),
    /// Does not work; the text says what that means for a call.
    Failed(String),
    /// Not applicable (e.g. the server offers no TURN over TLS); the text says so.
    Skipped(String),
}

impl Outcome {
    /// The status as a word, for `data-status` (tests, styling).
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Waiting => "waiting",
            Outcome::Running => "running",
            Outcome::Passed(_) => "passed",
            Outcome::Warning(_) => "warning",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// The explanation for people; empty while waiting or running.
    pub fn text(&self) -> &str {
        match self {
            Outcome::Waiting | Outcome::Running => "",
            Outcome::Passed(t) | Outcome::Warning(t) | Outcome::Failed(t) | Outcome::Skipped(t) => {
                t
            }
        }
    }
}

/// One row of the page.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Stable key for tests (`data-testid="check-<key>"`).
    pub key: &'static str,
    /// What is checked, for people.
    pub title: &'static str,
    /// What a call needs it for.
    pub why: &'static str,
    /// The result.
    pub outcome: RwSignal<Outcome>,
    /// What to tell an administrator, when they can fix it.
    pub admin: RwSignal<Option<String>>,
}

impl Check {
    fn new(key: &'static str, title: &'static str, why: &'static str) -> Self {
        Check {
            key,
            title,
            why,
            outcome: RwSignal::new(Outcome::Waiting),
            admin: RwSignal::new(None),
        }
    }

    /// Sets the result (and clears or sets the advice for administrators).
    pub fn finish(&self, outcome: Outcome, admin: Option<String>) {
        self.outcome.set(outcome);
        self.admin.set(admin);
    }
}

/// Every row, in the order a call needs them.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// `getUserMedia` for video.
    pub camera: Check,
    /// `getUserMedia` for audio.
    pub microphone: Check,
    /// The signaling WebSocket (and the ICE servers its `welcome` carries).
    pub signaling: Check,
    /// A server-reflexive candidate from the STUN servers.
    pub stun: Check,
    /// A relay candidate from TURN over UDP.
    pub relay_udp: Check,
    /// A relay candidate from TURN over TCP.
    pub relay_tcp: Check,
    /// A relay candidate from TURN over TLS.
    pub relay_tls: Check,
    /// A run is under way (the button waits).
    pub running: RwSignal<bool>,
}

impl Checks {
    /// Every row waiting.
    pub fn new() -> Self {
        Checks {
            camera: Check::new("camera", "Camera", "the others to see you"),
            microphone: Check::new("microphone", "Microphone", "the others to hear you"),
            signaling: Check::new(
                "signaling",
                "Meeting server",
                "the live connection that introduces you to the others",
            ),
            stun: Check::new(
                "stun",
                "Public address (STUN)",
                "direct connections to people on other networks",
            ),
            relay_udp: Check::new(
                "relay-udp",
                "Relay over UDP (TURN)",
                "calls when a direct connection is impossible",
            ),
            relay_tcp: Check::new(
                "relay-tcp",
                "Relay over TCP (TURN)",
                "calls from networks that block UDP",
            ),
            relay_tls: Check::new(
                "relay-tls",
                "Relay over TLS (TURNS)",
                "calls from networks that only allow web traffic",
            ),
            running: RwSignal::new(false),
        }
    }

    /// The rows in display order.
    pub fn all(&self) -> [Check; 7] {
        [
            self.camera,
            self.microphone,
            self.signaling,
            self.stun,
            self.relay_udp,
            self.relay_tcp,
            self.relay_tls,
        ]
    }
}

impl Default for Checks {
    fn default() -> Self {
        Self::new()
    }
}
