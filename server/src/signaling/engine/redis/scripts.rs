//! The Lua scripts of the Redis engine: every decision about a room runs inside Redis as one
//! script, so it is atomic across all nodes and uses Redis's clock.

use redis::Script;

/// Builds a script from the shared prelude and its own body.
macro_rules! script {
    ($file:literal) => {
        Script::new(concat!(include_str!("prelude.lua"), include_str!($file)))
    };
}

/// Every script, loaded once per process (`EVALSHA`, falling back to `EVAL` after a Redis
/// restart forgot them).
pub struct Scripts {
    /// Admit or refuse a join; resume; `new-peer`.
    pub join: Script,
    /// What a join would be told, without joining.
    pub check: Script,
    /// One relay frame to one peer.
    pub relay: Script,
    /// A chat message to the room.
    pub chat: Script,
    /// A media state: remembered and told to the others.
    pub media: Script,
    /// A frame from the server to the room.
    pub announce: Script,
    /// A socket gone without leaving: start the grace.
    pub dropped: Script,
    /// A peer leaving now.
    pub leave: Script,
    /// Lease renewal and reaping of dead nodes and expired graces.
    pub tick: Script,
    /// A node stopping: its peers enter their grace.
    pub stop: Script,
}

impl Scripts {
    /// Every script, to load them all ahead of the first use.
    pub fn all(&self) -> [&Script; 10] {
        [
            &self.join,
            &self.check,
            &self.relay,
            &self.chat,
            &self.media,
            &self.announce,
            &self.dropped,
            &self.leave,
            &self.tick,
            &self.stop,
        ]
    }

    /// All scripts.
    pub fn new() -> Self {
        Scripts {
            join: script!("join.lua"),
            check: script!("check.lua"),
            relay: script!("relay.lua"),
            chat: script!("chat.lua"),
            media: script!("media.lua"),
            announce: script!("announce.lua"),
            dropped: script!("dropped.lua"),
            leave: script!("leave.lua"),
            tick: script!("tick.lua"),
            stop: script!("stop.lua"),
        }
    }
}
