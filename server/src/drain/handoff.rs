//! The restart handoff file: a draining process writes its in-memory rooms (peers, names, media,
//! resume tokens, what is left of each grace) to `handoff.json` in the state directory; the next
//! process reads it once at start and gives them to its engine
//! ([`MemoryEngine::import`](crate::signaling::engine::MemoryEngine::import)).
//!
//! The file holds resume tokens, so it is written with mode 0600 and deleted once read. It is
//! still read as untrusted input: its size is bounded, ids are validated by their types, and the
//! engine re-checks tokens, names and limits.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::signaling::engine::memory::SavedRoom;

/// The file's name inside the state directory.
pub const FILE_NAME: &str = "handoff.json";

/// A handoff older than this is stale (the server was stopped, not restarted): ignored.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Largest handoff read: far above 50 000 peers' worth, far below harm.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// What one process hands to the next.
#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    /// When it was written, in ms since the Unix epoch.
    saved_at_ms: u64,
    /// Every room with at least one peer.
    rooms: Vec<SavedRoom>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Writes `rooms` to `dir/handoff.json` (atomically, mode 0600); returns the number of peers.
///
/// # Errors
/// I/O errors creating or writing the file.
pub fn save(dir: &Path, rooms: Vec<SavedRoom>) -> io::Result<usize> {
    let peers = rooms.iter().map(|r| r.peers.len()).sum();
    let snapshot = Snapshot {
        saved_at_ms: now_ms(),
        rooms,
    };
    let json = serde_json::to_vec(&snapshot).map_err(io::Error::other)?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(&json)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(FILE_NAME))?;
    Ok(peers)
}

/// Reads and deletes `dir/handoff.json`: its rooms and how long ago they were saved, or `None`
/// without a file or with a stale one.
///
/// # Errors
/// I/O errors other than a missing file, and a file that is not a handoff.
pub fn load(dir: &Path) -> io::Result<Option<(Vec<SavedRoom>, Duration)>> {
    let path = dir.join(FILE_NAME);
    let mut file = match fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut json = Vec::new();
    Read::take(&mut file, MAX_FILE_BYTES).read_to_end(&mut json)?;
    drop(file);
    // Read once only: a crash loop must not restore the same sessions again and again.
    fs::remove_file(&path)?;
    let snapshot: Snapshot =
        serde_json::from_slice(&json).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let age = Duration::from_millis(now_ms().saturating_sub(snapshot.saved_at_ms));
    if age > MAX_AGE {
        tracing::info!(age_s = age.as_secs(), "handoff too old: ignored");
        return Ok(None);
    }
    Ok(Some((snapshot.rooms, age)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signaling::engine::memory::SavedPeer;
    use protocol::{MediaState, PeerId, RoomId};

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("handoff-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_handoff_is_private_and_read_once() {
        let dir = dir("once");
        let rooms = vec![SavedRoom {
            id: RoomId::parse("r").unwrap(),
            last_chat_id: 3,
            peers: vec![SavedPeer {
                id: PeerId::parse("a").unwrap(),
                name: "Ann".into(),
                media: MediaState::default(),
                session: "t".repeat(24),
                grace_left_ms: 9000,
            }],
        }];
        assert_eq!(save(&dir, rooms.clone()).unwrap(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (loaded, age) = load(&dir).unwrap().unwrap();
        assert_eq!(loaded, rooms);
        assert!(age < MAX_AGE);
        assert!(load(&dir).unwrap().is_none(), "a handoff is read once");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn stale_or_malformed_handoffs_are_not_taken() {
        let dir = dir("bad");
        fs::create_dir_all(&dir).unwrap();
        let old = now_ms() - 120_000;
        fs::write(
            dir.join(FILE_NAME),
            format!(r#"{{"saved_at_ms":{old},"rooms":[]}}"#),
        )
        .unwrap();
        assert!(load(&dir).unwrap().is_none(), "too old");
        let bad_id = format!(
            r#"{{"saved_at_ms":{},"rooms":[{{"id":"no spaces","last_chat_id":0,"peers":[]}}]}}"#,
            now_ms()
        );
        fs::write(dir.join(FILE_NAME), bad_id).unwrap();
        assert_eq!(
            load(&dir).unwrap_err().kind(),
            io::ErrorKind::InvalidData,
            "ids are validated"
        );
        assert!(
            !dir.join(FILE_NAME).exists(),
            "even a bad file is read once"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
