//! TURN credentials over real sockets: what `welcome` and `ice-servers` carry, that real coturn
//! accepts them, that the secret never shows, and that contradictory settings stop the binary.

#[path = "signaling_support.rs"]
mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use server::turn::{self, Secret};
use support::*;

const SECRET: &str = "test-only-secret-5d2a9c41e7";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn minting_server(ttl: u64, turn_port: u16) -> TestServer {
    TestServer::start(move |c| {
        c.ice_urls = vec![
            "stun:127.0.0.1:3478".into(),
            format!("turn:127.0.0.1:{turn_port}"),
            format!("turn:127.0.0.1:{turn_port}?transport=tcp"),
        ];
        c.turn_secret = Some(Secret::new(SECRET));
        c.turn_ttl_secs = ttl;
    })
    .await
}

/// The TURN entry of an `iceServers` list: (user name, credential, expiry).
fn turn_entry(servers: &Value) -> (String, String, u64) {
    let entry = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["urls"][0].as_str().unwrap().starts_with("turn:"))
        .unwrap_or_else(|| panic!("no TURN entry in {servers}"));
    let username = entry["username"].as_str().unwrap().to_owned();
    let credential = entry["credential"].as_str().unwrap().to_owned();
    let expiry = username.split(':').next().unwrap().parse().unwrap();
    (username, credential, expiry)
}

#[tokio::test]
async fn welcome_carries_minted_credentials_that_verify_and_expire_within_the_ttl() {
    let server = minting_server(3600, 3478).await;
    let before = now_secs();
    let (_ws, welcome) = server.join("r", "alice").await;
    let after = now_secs();
    let servers = &welcome["data"]["iceServers"];
    assert_eq!(servers[0]["urls"][0], "stun:127.0.0.1:3478");
    assert!(
        servers[0].get("username").is_none(),
        "STUN needs no credentials"
    );
    let (username, credential, expiry) = turn_entry(servers);
    assert!(username.ends_with(":alice"), "{username}");
    assert!(
        (before + 3600..=after + 3600).contains(&expiry),
        "expiry {expiry} not now + TTL"
    );
    assert!(expiry > now_secs(), "already expired");
    assert_eq!(
        credential,
        turn::credential(SECRET.as_bytes(), &username),
        "the credential is the HMAC of the user name"
    );
    assert!(welcome["data"].get("iceTransportPolicy").is_none());
}

#[tokio::test]
async fn long_calls_get_renewals_and_a_resumed_session_gets_fresh_credentials() {
    // The shortest TTL allowed: a renewal every 5 s.
    let server = minting_server(turn::MIN_TTL_SECS, 3478).await;
    let (mut ws, welcome) = server.join("r", "alice").await;
    let (_, _, first_expiry) = turn_entry(&welcome["data"]["iceServers"]);
    let token = welcome["data"]["session"].as_str().unwrap().to_owned();

    let renewal = match next_event(&mut ws, Duration::from_secs(turn::MIN_TTL_SECS)).await {
        Event::Json(v) => v,
        other => panic!("expected ice-servers, got {other:?}"),
    };
    assert_eq!(renewal["type"], "ice-servers", "{renewal}");
    assert_eq!(renewal["from"], "server");
    let (username, credential, renewed_expiry) = turn_entry(&renewal["data"]["iceServers"]);
    assert!(
        renewed_expiry > first_expiry,
        "{renewed_expiry} <= {first_expiry}"
    );
    assert!(renewed_expiry >= now_secs() + turn::MIN_TTL_SECS - 1);
    assert_eq!(credential, turn::credential(SECRET.as_bytes(), &username));

    // The network drops; the tab comes back with its resume token.
    drop(ws);
    let (_ws, resumed) = server
        .join_query("r", "alice", &format!("?resume={token}"))
        .await;
    let (_, _, resumed_expiry) = turn_entry(&resumed["data"]["iceServers"]);
    assert!(
        resumed_expiry >= renewed_expiry,
        "the resumed welcome is minted anew"
    );
}

#[tokio::test]
async fn static_credentials_and_a_relay_policy_pass_through() {
    let server = TestServer::start(|c| {
        c.ice_urls = vec!["turn:127.0.0.1:3478".into()];
        c.turn_username = Some("fixed-user".into());
        c.turn_credential = Some("fixed-pass".into());
        c.ice_transport_policy = Some(protocol::IceTransportPolicy::Relay);
    })
    .await;
    let (mut ws, welcome) = server.join("r", "a").await;
    let servers = &welcome["data"]["iceServers"];
    assert_eq!(servers[0]["username"], "fixed-user");
    assert_eq!(servers[0]["credential"], "fixed-pass");
    assert_eq!(welcome["data"]["iceTransportPolicy"], "relay");
    silent(&mut ws).await;
}

#[tokio::test]
async fn the_secret_appears_in_no_page_frame_or_metric() {
    let server = minting_server(3600, 3478).await;
    let (mut a, welcome_a) = server.join("r", "alice").await;
    let (_b, welcome_b) = server.join("r", "bob").await;
    let new_peer = recv(&mut a).await;
    let mut captured = vec![
        welcome_a.to_string(),
        welcome_b.to_string(),
        new_peer.to_string(),
    ];
    for path in ["/", "/room/r", "/health", "/api/stats", "/metrics", "/nope"] {
        captured.push(server.get(path).await);
    }
    for text in &captured {
        assert!(!text.contains(SECRET), "the secret leaked: {text}");
    }
    assert!(server.get("/metrics").await.contains("ice-servers"));
}

/// coturn on loopback with `use-auth-secret`, stopped when dropped.
struct Coturn {
    child: Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Coturn {
    /// Starts coturn, or returns `None` when it is not installed (`scripts/setup.sh` installs it).
    fn start(secret: &str) -> Option<Coturn> {
        Command::new("turnserver").arg("--version").output().ok()?;
        // A free port for both UDP and TCP: bound once here, released just before coturn binds.
        let port = loop {
            let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = tcp.local_addr().unwrap().port();
            if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
                break port;
            }
        };
        let dir = std::env::temp_dir().join(format!("record-meet-coturn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("turnserver")
            .args([
                "-n",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                &format!("--listening-port={port}"),
                "--min-port=49152",
                "--max-port=65535",
                "--use-auth-secret",
                &format!("--static-auth-secret={secret}"),
                "--realm=record-meet",
                "--no-tls",
                "--no-dtls",
                "--allow-loopback-peers",
                "--no-cli",
                "--simple-log",
                &format!("--log-file={}", dir.join("turn.log").display()),
                &format!("--pidfile={}", dir.join("turn.pid").display()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start turnserver");
        Some(Coturn {
            child,
            port,
            _dir: TempDir(dir),
        })
    }

    /// Whether an allocation with these credentials succeeds, tried with coturn's own client.
    fn allocates_once(&self, username: &str, credential: &str) -> bool {
        Command::new("turnutils_uclient")
            .args(["-u", username, "-w", credential])
            .args(["-p", &self.port.to_string(), "-n", "1", "-m", "1"])
            .args(["-e", "127.0.0.1", "-y", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Like [`Coturn::allocates_once`], retried for a few seconds while coturn starts.
    fn allocates(&self, username: &str, credential: &str) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if self.allocates_once(username, credential) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn coturn_accepts_minted_credentials_and_refuses_a_wrong_secret() {
    let Some(coturn) = Coturn::start(SECRET) else {
        panic!("coturn (turnserver) is not installed: run scripts/setup.sh");
    };
    let server = minting_server(3600, coturn.port).await;
    let (_ws, welcome) = server.join("r", "alice").await;
    let (username, credential, _) = turn_entry(&welcome["data"]["iceServers"]);
    let port = coturn.port;
    let (ok, wrong) = tokio::task::spawn_blocking(move || {
        let ok = coturn.allocates(&username, &credential);
        let wrong_credential = turn::credential(b"some-other-secret-0000", &username);
        // Not retried: the first run proved coturn is up.
        let wrong = coturn.allocates_once(&username, &wrong_credential);
        (ok, wrong)
    })
    .await
    .unwrap();
    assert!(ok, "coturn on port {port} refused the minted credentials");
    assert!(!wrong, "coturn accepted credentials of another secret");
}

#[test]
fn the_binary_refuses_contradictory_settings_without_printing_the_secret() {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RECORD_MEET_ICE_URLS", "turn:127.0.0.1:3478")
        .env("RECORD_MEET_TURN_SECRET", SECRET)
        .env("RECORD_MEET_TURN_USERNAME", "user")
        .env("RECORD_MEET_TURN_CREDENTIAL", "pass")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stderr.contains("RECORD_MEET_TURN_SECRET"), "{stderr}");
    assert!(stderr.contains("not both"), "{stderr}");
    assert!(!stderr.contains(SECRET) && !stdout.contains(SECRET));

    let help = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--help")
        .env("RECORD_MEET_TURN_SECRET", SECRET)
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--turn-secret") && help.contains("--turn-ttl-secs"));
    assert!(!help.contains(SECRET), "--help shows the secret");
}
