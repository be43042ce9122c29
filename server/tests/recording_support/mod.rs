//! Helpers of the recording tests: a server over a temporary recordings directory, plain HTTP
//! calls, and the real Chrome chunks of the fixture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use server::config::Config;

use crate::signaling_support::TestServer;

/// The fixture: 6 s of Chrome 156 MediaRecorder output (vp8+opus, 1 s timeslice), as uploaded.
pub const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/chrome-vp8-opus"
);

/// The fixture's chunks, in order.
pub fn chunks() -> Vec<Vec<u8>> {
    (0..)
        .map(|i| Path::new(FIXTURE).join(format!("chunk-{i:03}.webm")))
        .take_while(|p| p.exists())
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, empty directory.
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "record-meet-recordings-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server storing recordings in `dir`, with other settings changed by `tweak`.
pub async fn start_server(dir: &TempDir, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = dir.0.clone();
    TestServer::start(move |c| {
        c.recordings_dir = dir;
        // Tests must not depend on how full the machine's disk is.
        c.recordings_min_free_bytes = 0;
        tweak(c);
    })
    .await
}

/// An HTTP answer.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// One request to `server`.
pub async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client
        .request(
            method.parse().unwrap(),
            format!("http://{}{path}", server.addr),
        )
        .body(body);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// The recording API of one room.
pub struct RoomApi<'a> {
    pub server: &'a TestServer,
    pub room: String,
}

impl RoomApi<'_> {
    /// `POST …/recordings` for `peer`.
    pub async fn start(&self, peer: &str) -> Answer {
        let body = serde_json::to_vec(&json!({ "peer": peer })).unwrap();
        let path = format!("/api/rooms/{}/recordings", self.room);
        call(
            self.server,
            "POST",
            &path,
            None,
            body,
            &[("content-type", "application/json")],
        )
        .await
    }

    /// `PUT …/chunks/{seq}`.
    pub async fn put(&self, id: &str, token: &str, seq: u64, body: &[u8]) -> Answer {
        let path = format!("/api/rooms/{}/recordings/{id}/chunks/{seq}", self.room);
        call(self.server, "PUT", &path, Some(token), body.to_vec(), &[]).await
    }

    /// `POST …/stop`.
    pub async fn stop(&self, id: &str, token: &str) -> Answer {
        let path = format!("/api/rooms/{}/recordings/{id}/stop", self.room);
        call(self.server, "POST", &path, Some(token), Vec::new(), &[]).await
    }

    /// `GET …/recordings` as JSON.
    pub async fn list(&self) -> Vec<Value> {
        let path = format!("/api/rooms/{}/recordings", self.room);
        let answer = call(self.server, "GET", &path, None, Vec::new(), &[]).await;
        assert_eq!(answer.status, 200);
        answer.json().as_array().unwrap().clone()
    }

    /// `DELETE …/{id}`.
    pub async fn delete(&self, id: &str, token: Option<&str>) -> Answer {
        let path = format!("/api/rooms/{}/recordings/{id}", self.room);
        call(self.server, "DELETE", &path, token, Vec::new(), &[]).await
    }

    /// Polls the listing until `pred` holds for recording `id`; returns that entry.
    pub async fn wait_for(&self, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let list = self.list().await;
            if let Some(entry) = list.iter().find(|e| e["id"] == id) {
                if pred(entry) {
                    return entry.clone();
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never {what}: {list:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Started recording: `(id, upload token, owner token)`.
pub fn started(answer: &Answer) -> (String, String, String) {
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let v = answer.json();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["upload_token"].as_str().unwrap().to_owned(),
        v["owner_token"].as_str().unwrap().to_owned(),
    )
}

/// Whether ffprobe is installed (CI installs ffmpeg; without it the ffprobe checks are skipped).
pub fn have_ffprobe() -> bool {
    std::process::Command::new("ffprobe")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// ffprobe's view of a file: (duration in seconds, packets per stream).
pub fn ffprobe(path: &Path) -> (Option<f64>, Vec<u64>) {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_packets", "-show_entries"])
        .args(["format=duration:stream=nb_read_packets", "-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let duration = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok());
    let packets = v["streams"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|s| s["nb_read_packets"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    (duration, packets)
}

/// Whether ffmpeg can seek to `secs` in `path` and decode a video frame there.
pub fn ffmpeg_seeks(path: &Path, secs: f64) -> bool {
    std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-ss", &secs.to_string(), "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "null", "-"])
        .status()
        .is_ok_and(|s| s.success())
}
