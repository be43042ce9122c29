//! The ICE servers browsers get, and TURN credentials minted per peer.
//!
//! With a shared secret (`RECORD_MEET_TURN_SECRET`, coturn's `static-auth-secret`) every
//! `welcome` carries, for the `turn:`/`turns:` URLs, the TURN REST credentials coturn's
//! `use-auth-secret` verifies: user name `<unix-expiry>:<peer-id>`, password
//! `base64(HMAC-SHA1(secret, user name))`. They expire after the TTL, so a copied credential is
//! worth little; a call that outlives them gets fresh ones in an `ice-servers` frame every half
//! TTL ([`renew`]). The secret itself never leaves this module: [`Secret`] has no `Display` and
//! a redacted `Debug`, and no error message quotes it.
//!
//! Static credentials (`RECORD_MEET_TURN_USERNAME`/`_CREDENTIAL`) stay supported for providers
//! that hand out fixed ones; [`check`] refuses settings that contradict each other.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use protocol::{IceServer, IceServers, IceTransportPolicy, PeerId, RoomId, ServerMessage};
use sha1::Sha1;

use crate::config::Config;
use crate::metrics::{Kind, Metrics};
use crate::signaling::handle::{ConnHandle, Outbound};

/// Default credential lifetime: a long meeting is covered by a few renewals, and a leaked
/// credential is useless by the end of the working day.
pub const DEFAULT_TTL_SECS: u64 = 6 * 3600;

/// Shortest lifetime accepted: renewals every half TTL must stay far apart from each other.
pub const MIN_TTL_SECS: u64 = 10;

/// Longest lifetime accepted: beyond a week a "short-lived" credential is a static one.
pub const MAX_TTL_SECS: u64 = 7 * 24 * 3600;

/// Shortest secret accepted: anything shorter can be guessed offline from one credential.
const MIN_SECRET_CHARS: usize = 16;

/// The shared TURN secret. Kept out of every `Debug`, `Display` and error message.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret (used by tests and the config parser).
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() {
            "Secret(<redacted>)"
        } else {
            "Secret(<unset>)"
        })
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    /// Any text; an empty one counts as unset (an empty line of `.env`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.trim().to_owned()))
    }
}

/// A setting that contradicts another, or cannot work. The message says which variables to fix
/// and never quotes the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// How the TURN URLs are authenticated.
#[derive(Debug, Clone, Default)]
enum TurnAuth {
    /// No credentials (a TURN server without authentication, or none configured).
    #[default]
    None,
    /// The same user name and password for everyone.
    Static {
        username: String,
        credential: String,
    },
    /// Minted per peer, valid for `ttl`.
    Minted { secret: Secret, ttl: Duration },
}

/// The ICE settings of `welcome` and `ice-servers`, built once from the configuration.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    /// `stun:` URLs: no credentials.
    stun: Vec<String>,
    /// `turn:` and `turns:` URLs.
    turn: Vec<String>,
    /// Their credentials.
    auth: TurnAuth,
    /// Forced on every connection, if set.
    policy: Option<IceTransportPolicy>,
}

/// Checks that the ICE and TURN settings agree with each other, so the server refuses to start
/// instead of handing out settings that cannot work.
///
/// # Errors
/// A [`ConfigError`] naming the variables to fix.
pub fn check(config: &Config) -> Result<(), ConfigError> {
    let err = |m: &str| Err(ConfigError(m.to_owned()));
    let (stun, turn) = split_urls(&config.ice_urls);
    let bad: Vec<&String> = config
        .ice_urls
        .iter()
        .filter(|u| !u.trim().is_empty())
        .filter(|u| {
            let u = u.trim();
            !stun.iter().chain(&turn).any(|k| k == u)
        })
        .collect();
    if let Some(url) = bad.first() {
        return Err(ConfigError(format!(
            "RECORD_MEET_ICE_URLS: {url:?} is not a stun:, turn: or turns: URL"
        )));
    }
    let secret = config.turn_secret.as_ref().filter(|s| s.is_set());
    let username = nonempty(&config.turn_username);
    let credential = nonempty(&config.turn_credential);
    if secret.is_some() && (username.is_some() || credential.is_some()) {
        return err(
            "RECORD_MEET_TURN_SECRET mints a fresh TURN user name and password for every peer, \
             while RECORD_MEET_TURN_USERNAME / RECORD_MEET_TURN_CREDENTIAL set fixed ones: \
             set the secret (for coturn's use-auth-secret) or the fixed pair, not both",
        );
    }
    if username.is_some() != credential.is_some() {
        return err(
            "RECORD_MEET_TURN_USERNAME and RECORD_MEET_TURN_CREDENTIAL go together: set both or neither",
        );
    }
    if secret.is_some_and(|s| s.0.chars().count() < MIN_SECRET_CHARS) {
        return Err(ConfigError(format!(
            "RECORD_MEET_TURN_SECRET is too short to be secret: use at least {MIN_SECRET_CHARS} \
             random characters (e.g. the output of `openssl rand -hex 32`)"
        )));
    }
    if (secret.is_some() || username.is_some()) && turn.is_empty() {
        return err(
            "TURN credentials are set but RECORD_MEET_ICE_URLS has no turn: or turns: URL to use \
             them with",
        );
    }
    if config.ice_transport_policy == Some(IceTransportPolicy::Relay) && turn.is_empty() {
        return err(
            "RECORD_MEET_ICE_TRANSPORT_POLICY=relay allows relayed connections only, but \
             RECORD_MEET_ICE_URLS has no turn: or turns: URL: no call could connect",
        );
    }
    Ok(())
}

impl IceConfig {
    /// The ICE settings of a configuration that passed [`check`].
    pub fn new(config: &Config) -> Self {
        let (stun, turn) = split_urls(&config.ice_urls);
        let auth = match (
            config.turn_secret.as_ref().filter(|s| s.is_set()),
            nonempty(&config.turn_username),
            nonempty(&config.turn_credential),
        ) {
            (Some(secret), _, _) => TurnAuth::Minted {
                secret: secret.clone(),
                ttl: Duration::from_secs(config.turn_ttl_secs),
            },
            (None, Some(username), Some(credential)) => TurnAuth::Static {
                username: username.to_owned(),
                credential: credential.to_owned(),
            },
            _ => TurnAuth::None,
        };
        IceConfig {
            stun,
            turn,
            auth,
            policy: config.ice_transport_policy,
        }
    }

    /// The `iceServers` for `peer` at time `now`: STUN URLs on their own, TURN URLs with their
    /// credentials (minted for this peer when a secret is set).
    pub fn servers_for(&self, peer: &PeerId, now: SystemTime) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun.is_empty() {
            servers.push(IceServer {
                urls: self.stun.clone(),
                username: None,
                credential: None,
            });
        }
        if !self.turn.is_empty() {
            let (username, credential) = match &self.auth {
                TurnAuth::None => (None, None),
                TurnAuth::Static {
                    username,
                    credential,
                } => (Some(username.clone()), Some(credential.clone())),
                TurnAuth::Minted { secret, ttl } => {
                    let (u, c) = mint(secret, peer, now + *ttl);
                    (Some(u), Some(c))
                }
            };
            servers.push(IceServer {
                urls: self.turn.clone(),
                username,
                credential,
            });
        }
        servers
    }

    /// The policy `welcome` carries.
    pub fn policy(&self) -> Option<IceTransportPolicy> {
        self.policy
    }

    /// How often a connected peer gets fresh credentials: half their lifetime, so a renewal
    /// lost to a reconnect still leaves time for the next one. `None` without minted ones.
    pub fn renew_every(&self) -> Option<Duration> {
        match &self.auth {
            TurnAuth::Minted { ttl, .. } => Some(*ttl / 2),
            _ => None,
        }
    }
}

/// Sends `conn` an `ice-servers` frame with fresh credentials every [`IceConfig::renew_every`],
/// until the connection ends. Returns at once when nothing is minted.
pub async fn renew(
    conn: ConnHandle,
    room: RoomId,
    peer: PeerId,
    ice: Arc<IceConfig>,
    metrics: Arc<Metrics>,
) {
    let Some(every) = ice.renew_every() else {
        return;
    };
    loop {
        tokio::select! {
            () = conn.control.ended() => return,
            () = tokio::time::sleep(every) => {}
        }
        let frame = ServerMessage::IceServers(IceServers {
            ice_servers: ice.servers_for(&peer, SystemTime::now()),
        });
        conn.send(
            Outbound {
                text: frame.encode(&room).into(),
                kind: Kind::IceServers,
                received: None,
            },
            &metrics,
        );
    }
}

/// TURN REST credentials for `peer`, valid until `expiry`: `(user name, password)`.
fn mint(secret: &Secret, peer: &PeerId, expiry: SystemTime) -> (String, String) {
    let expiry = expiry.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let username = format!("{expiry}:{peer}");
    let credential = credential(secret.0.as_bytes(), &username);
    (username, credential)
}

/// `base64(HMAC-SHA1(secret, username))`: the password coturn derives from a TURN REST user
/// name with `use-auth-secret`.
pub fn credential(secret: &[u8], username: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha1>>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The configured URLs, trimmed, split into STUN and TURN; anything else is left out (and
/// refused by [`check`]).
fn split_urls(urls: &[String]) -> (Vec<String>, Vec<String>) {
    let mut stun = Vec::new();
    let mut turn = Vec::new();
    for url in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        if url.starts_with("stun:") || url.starts_with("stuns:") {
            stun.push(url.to_owned());
        } else if url.starts_with("turn:") || url.starts_with("turns:") {
            turn.push(url.to_owned());
        }
    }
    (stun, turn)
}

fn nonempty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "north-wind-blows-7c1f5e";

    fn config(tweak: impl FnOnce(&mut Config)) -> Config {
        let mut c = Config::defaults();
        tweak(&mut c);
        c
    }

    fn minted() -> Config {
        config(|c| {
            c.ice_urls = vec![
                "stun:127.0.0.1:3478".into(),
                "turn:127.0.0.1:3478".into(),
                "turns:turn.example.org:443?transport=tcp".into(),
            ];
            c.turn_secret = Some(Secret::new(SECRET));
        })
    }

    #[test]
    fn hmac_matches_known_values() {
        // RFC 2202, HMAC-SHA1 test cases 1 and 2, as base64.
        assert_eq!(
            credential(&[0x0b; 20], "Hi There"),
            "thcxhlUFcmTii8C2+zeMjvFGvgA="
        );
        assert_eq!(
            credential(b"Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
        // A TURN REST user name, cross-checked with Python:
        // base64.b64encode(hmac.new(b"north-wind-blows-7c1f5e", b"1700000000:alice", "sha1").digest())
        assert_eq!(
            credential(SECRET.as_bytes(), "1700000000:alice"),
            "4LYHHWR8jD8SOZyXdMbzTBeDdl0="
        );
    }

    #[test]
    fn minted_credentials_name_the_peer_and_expire_after_the_ttl() {
        let ice = IceConfig::new(&minted());
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let peer = PeerId::parse("alice").unwrap();
        let servers = ice.servers_for(&peer, now);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].urls, ["stun:127.0.0.1:3478"]);
        assert_eq!(servers[0].username, None);
        let turn = &servers[1];
        assert_eq!(
            turn.urls,
            [
                "turn:127.0.0.1:3478",
                "turns:turn.example.org:443?transport=tcp"
            ]
        );
        let expiry = 1_700_000_000 + DEFAULT_TTL_SECS;
        assert_eq!(turn.username.as_deref(), Some(&*format!("{expiry}:alice")));
        assert_eq!(
            turn.credential.as_deref(),
            Some(&*credential(SECRET.as_bytes(), &format!("{expiry}:alice")))
        );
        assert_eq!(
            ice.renew_every(),
            Some(Duration::from_secs(DEFAULT_TTL_SECS / 2))
        );
    }

    #[test]
    fn static_credentials_stay_as_configured() {
        let c = config(|c| {
            c.ice_urls = vec!["turn:t:3478".into()];
            c.turn_username = Some("user".into());
            c.turn_credential = Some("pass".into());
        });
        check(&c).unwrap();
        let ice = IceConfig::new(&c);
        let s = ice.servers_for(&PeerId::parse("a").unwrap(), SystemTime::now());
        assert_eq!(s[0].username.as_deref(), Some("user"));
        assert_eq!(s[0].credential.as_deref(), Some("pass"));
        assert_eq!(ice.renew_every(), None);
    }

    #[test]
    fn contradictory_settings_are_refused_without_quoting_the_secret() {
        let both = config(|c| {
            *c = minted();
            c.turn_username = Some("user".into());
            c.turn_credential = Some("pass".into());
        });
        let half = config(|c| {
            c.ice_urls = vec!["turn:t".into()];
            c.turn_username = Some("user".into());
        });
        let no_turn_url = config(|c| {
            c.ice_urls = vec!["stun:s".into()];
            c.turn_secret = Some(Secret::new(SECRET));
        });
        let short = config(|c| {
            c.ice_urls = vec!["turn:t".into()];
            c.turn_secret = Some(Secret::new("short"));
        });
        let relay_without_turn = config(|c| {
            c.ice_transport_policy = Some(IceTransportPolicy::Relay);
        });
        let not_a_url = config(|c| c.ice_urls = vec!["http://t".into()]);
        for (name, c) in [
            ("both", both),
            ("half", half),
            ("no turn url", no_turn_url),
            ("short", short),
            ("relay without turn", relay_without_turn),
            ("not a url", not_a_url),
        ] {
            let e = check(&c).expect_err(name).to_string();
            assert!(e.contains("RECORD_MEET_"), "{name}: {e}");
            assert!(!e.contains(SECRET), "{name} quotes the secret: {e}");
        }
        check(&minted()).unwrap();
        check(&Config::defaults()).unwrap();
    }

    #[test]
    fn an_empty_secret_is_unset_and_debug_never_shows_one() {
        let c = config(|c| c.turn_secret = Some("".parse().unwrap()));
        check(&c).unwrap();
        assert_eq!(IceConfig::new(&c).renew_every(), None);
        let debug = format!("{:?} {:?}", minted(), IceConfig::new(&minted()));
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[tokio::test(start_paused = true)]
    async fn renewals_come_every_half_ttl_until_the_connection_ends() {
        let c = config(|c| {
            *c = minted();
            c.turn_ttl_secs = 600;
        });
        let ice = Arc::new(IceConfig::new(&c));
        let id = crate::signaling::node::ConnId {
            node: crate::signaling::node::NodeId::random(),
            seq: 1,
        };
        let (conn, mut rx) = ConnHandle::new(id, 8);
        let control = conn.control.clone();
        let task = tokio::spawn(renew(
            conn,
            RoomId::parse("r").unwrap(),
            PeerId::parse("alice").unwrap(),
            ice,
            Arc::new(Metrics::default()),
        ));
        tokio::time::sleep(Duration::from_secs(299)).await;
        assert!(rx.try_recv().is_err(), "no renewal before half the TTL");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let frame = rx.try_recv().expect("a renewal at half the TTL");
        let Ok(ServerMessage::IceServers(s)) = ServerMessage::parse(frame.text.as_str()) else {
            panic!("not ice-servers: {}", frame.text.as_str());
        };
        let turn = s.ice_servers.iter().find(|s| s.username.is_some()).unwrap();
        assert!(turn.username.as_deref().unwrap().ends_with(":alice"));
        tokio::time::sleep(Duration::from_secs(300)).await;
        assert!(rx.try_recv().is_ok(), "and again");
        control.finish();
        task.await.unwrap();
    }
}
