//! The call engine (browser only): local media, the signaling connection and one peer
//! connection per remote peer. It writes the signals of [`crate::state::CallUi`]; the views never
//! touch a browser object themselves.

mod engine;
mod ice;
pub(crate) mod js;
pub mod media;
mod peer;
mod session;
mod signaling;
mod stats;

pub use engine::*;
