//! The connection loop: connect, resume after drops with backoff, give up on a refusal.

use std::rc::Rc;

use leptos::prelude::*;
use protocol::ErrorCode;

use super::super::js;
use super::super::signaling::Ended;
use super::Session;
use crate::state::Phase;

/// Reconnect delays: quick at first (a blip), then backing off to spare a restarting server.
const BACKOFF_MS: [i32; 6] = [250, 500, 1000, 2000, 4000, 8000];

impl Session {
    /// The WebSocket URL of this session, with its resume token once it has one.
    fn url(&self) -> String {
        let name = js_sys::encode_uri_component(&self.ui.name.get_untracked());
        let mut url = format!("{}/{}?name={}", self.ws_base, self.me, String::from(name));
        if let Some(token) = self.token.borrow().as_ref() {
            url.push_str("&resume=");
            url.push_str(token);
            if let Some(seq) = self.seq.get() {
                url.push_str(&format!("&last={seq}"));
            }
        }
        url
    }

    /// Connects and reconnects until the session is left or refused.
    pub(super) async fn connect_loop(self: Rc<Self>) {
        let mut attempt = 0usize;
        while !self.left.get() {
            let this = self.clone();
            let ended = self
                .signaling
                .run_once(&self.url(), move |message| {
                    let this = this.clone();
                    async move { this.handle(message).await }
                })
                .await;
            if self.left.get() {
                return;
            }
            // A server restart: reconnect at once and resume; the peer connections stay.
            if let Some(delay) = self.restart.retry_delay(&ended) {
                if self.ui.phase.get_untracked() == Phase::InCall {
                    self.ui.phase.set(Phase::Reconnecting);
                }
                js::sleep(delay).await;
                continue;
            }
            match ended {
                // Still restarting (or the store still away) after the quick window: keep
                // trying with the backoff rather than give up on the call.
                Ended::Refused(ErrorCode::Restarting | ErrorCode::Unavailable, _) => {}
                Ended::Refused(code, message) => {
                    self.fail(refusal_text(code, &message));
                    return;
                }
                // Our own session was taken over by a newer socket of this tab.
                Ended::Closed(4009) => return,
                Ended::Closed(_) => attempt = 0,
                Ended::Unreachable => {}
            }
            if self.ui.phase.get_untracked() == Phase::Joining && attempt >= 3 {
                self.fail(
                    "The meeting server cannot be reached. Check your connection and try again."
                        .into(),
                );
                return;
            }
            if self.ui.phase.get_untracked() == Phase::InCall {
                self.ui.phase.set(Phase::Reconnecting);
            }
            let delay = BACKOFF_MS[attempt.min(BACKOFF_MS.len() - 1)];
            // Jitter spreads the reconnects of a whole room after a server restart.
            let jitter = (js_sys::Math::random() * f64::from(delay) * 0.3) as i32;
            js::sleep(delay + jitter).await;
            attempt += 1;
        }
    }

    /// Ends the session for a reason the person must see.
    fn fail(&self, why: String) {
        self.left.set(true);
        self.signaling.close();
        self.peers.borrow_mut().clear();
        self.ui.participants.set(Vec::new());
        self.ui.phase.set(Phase::Failed(why));
    }
}

/// What to tell a person whose join the server refused.
fn refusal_text(code: ErrorCode, message: &str) -> String {
    match code {
        ErrorCode::RoomFull => "This meeting is full. Try again when someone leaves.".into(),
        ErrorCode::PeerIdTaken => "This tab is already in the meeting in another window.".into(),
        ErrorCode::InvalidId => format!("This meeting link is not valid ({message})."),
        ErrorCode::ForbiddenOrigin => "This server does not accept meetings from this page.".into(),
        _ => format!("The server refused to let you join ({code}: {message})."),
    }
}
