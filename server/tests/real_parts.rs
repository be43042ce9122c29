//! Real parts the signaling tests start and stop themselves, on loopback ports chosen here:
//! `redis-server`, `haproxy` (round-robin WebSocket balancer) and server processes.
//!
//! A missing binary fails the test loudly: `scripts/setup.sh` installs them, so in CI their
//! absence is a broken setup, never a reason to skip.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a part may take to start.
const START_WAIT: Duration = Duration::from_secs(10);

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path of an installed binary; panics with the fix when it is missing.
pub fn need(binary: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs = path
        .split(':')
        .map(PathBuf::from)
        .chain(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(binary);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{binary}` is not installed: run scripts/setup.sh (apt-get install redis-server haproxy)"
    );
}

/// A fresh scratch directory for one part.
fn scratch(what: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "record-meet-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits until something accepts TCP connections on `port`, or `child` exits.
fn wait_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Sends a signal to a child by pid (`kill -STOP`, `-CONT`).
fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} failed");
}

/// A `redis-server` with no persistence, on 127.0.0.1.
pub struct RedisServer {
    child: Child,
    /// Its port (kept across restarts).
    pub port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one on a free port.
    pub fn start() -> Self {
        let dir = scratch("redis");
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = Self::spawn(port, &dir) {
                return RedisServer { child, port, dir };
            }
        }
        panic!("redis-server did not start");
    }

    fn spawn(port: u16, dir: &PathBuf) -> Option<Child> {
        let mut child = Command::new(need("redis-server"))
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        if wait_listening(&mut child, port) {
            Some(child)
        } else {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A plain connection for the test's own commands.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// Kills it (its data is gone: nothing is persisted).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a new, empty one on the same port.
    pub fn start_again(&mut self) {
        self.child = Self::spawn(self.port, &self.dir).expect("redis-server did not restart");
    }

    /// Freezes it (SIGSTOP): connections stay open but nothing answers.
    pub fn pause(&self) {
        signal(&self.child, "-STOP");
    }

    /// Thaws it (SIGCONT).
    pub fn resume(&self) {
        signal(&self.child, "-CONT");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `haproxy` balancing WebSocket upgrades round-robin over some nodes.
pub struct Balancer {
    child: Child,
    /// Where clients connect.
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Balancer {
    /// The configuration the README documents for several instances (ports filled in).
    pub fn config(port: u16, nodes: &[SocketAddr]) -> String {
        let mut cfg = format!(
            "global\n    maxconn 4096\n\
             defaults\n    mode http\n    option redispatch\n    retries 2\n\
             \x20   timeout connect 1s\n    timeout client 60s\n    timeout server 60s\n\
             \x20   timeout tunnel 1h\n\
             frontend meet\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
             backend nodes\n    balance roundrobin\n    option httpchk GET /health\n"
        );
        for (i, node) in nodes.iter().enumerate() {
            cfg.push_str(&format!(
                "    server n{i} {node} check inter 300ms fall 1 rise 1\n"
            ));
        }
        cfg
    }

    /// Starts haproxy in front of `nodes`.
    pub fn start(nodes: &[SocketAddr]) -> Self {
        let dir = scratch("haproxy");
        for _ in 0..5 {
            let port = free_port();
            let cfg = dir.join("haproxy.cfg");
            std::fs::write(&cfg, Self::config(port, nodes)).unwrap();
            let mut child = Command::new(need("haproxy"))
                .arg("-db")
                .arg("-f")
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start haproxy");
            if wait_listening(&mut child, port) {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                return Balancer { child, addr, dir };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("haproxy did not start");
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server process (the real binary), so a test can SIGKILL it.
pub struct NodeProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl NodeProcess {
    /// Starts the server binary with `env` (e.g. `RECORD_MEET_REDIS_URL`) and waits until it
    /// answers `/health`.
    pub fn start(env: &[(&str, String)]) -> Self {
        for _ in 0..5 {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
            command
                .env("LEPTOS_SITE_ADDR", addr.to_string())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            for (k, v) in env {
                command.env(k, v);
            }
            let mut child = command.spawn().expect("start the server binary");
            if wait_listening(&mut child, addr.port()) && health(addr) {
                return NodeProcess { child, addr };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the server binary did not start");
    }

    /// SIGKILL: no goodbye of any kind.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `GET /health` answers 200 (a tiny blocking HTTP/1.0 client).
fn health(addr: SocketAddr) -> bool {
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        if let Ok(mut tcp) = TcpStream::connect(addr) {
            let _ = tcp.write_all(b"GET /health HTTP/1.0\r\n\r\n");
            let mut reply = String::new();
            let _ = tcp.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
