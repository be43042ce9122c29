//! Where recordings live: one trait, so object storage can follow the filesystem.
//!
//! Every method is blocking (callers use `spawn_blocking`) and every write that is acknowledged
//! to a client is durable when the method returns.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use protocol::{RecordingId, RoomId};

use super::meta::{Loaded, Meta};

/// A recording's address in storage.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Its room.
    pub room: RoomId,
    /// The recording.
    pub id: RecordingId,
}

/// How a chunk write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// Newly stored, durably.
    Stored,
    /// Already stored with exactly these bytes (a replay).
    Identical,
    /// Already stored with different bytes: refused, the stored chunk is kept.
    Conflict,
}

/// Storage of recordings: chunks (create-only), metadata, the finalized file.
pub trait Storage: Send + Sync + 'static {
    /// Creates a recording with its metadata.
    ///
    /// # Errors
    /// I/O errors; nothing is acknowledged then.
    fn create(&self, key: &Key, meta: &Meta) -> io::Result<()>;
    /// Replaces a recording's metadata atomically.
    ///
    /// # Errors
    /// I/O errors.
    fn save_meta(&self, key: &Key, meta: &Meta) -> io::Result<()>;
    /// Every recording stored, for start-up.
    ///
    /// # Errors
    /// I/O errors reading the root; unreadable recordings are skipped and logged.
    fn load_all(&self) -> io::Result<Vec<Loaded>>;
    /// Stores chunk `seq` if absent; durable before it returns `Stored`.
    ///
    /// # Errors
    /// I/O errors; nothing is published then.
    fn put_chunk(&self, key: &Key, seq: u64, bytes: &[u8]) -> io::Result<PutOutcome>;
    /// Chunks `0..count` as one stream.
    ///
    /// # Errors
    /// I/O errors opening them.
    fn read_chunks(&self, key: &Key, count: u64) -> io::Result<Box<dyn Read + Send>>;
    /// A fresh local file for the finalizer's output.
    ///
    /// # Errors
    /// I/O errors.
    fn scratch(&self, key: &Key) -> io::Result<(File, PathBuf)>;
    /// Makes a verified scratch file the recording's file, durably, replacing an older one.
    ///
    /// # Errors
    /// I/O errors.
    fn publish_final(&self, key: &Key, scratch: &Path) -> io::Result<()>;
    /// A local path to serve the finalized file from, if there is one.
    fn final_path(&self, key: &Key) -> Option<PathBuf>;
    /// Removes a recording entirely.
    ///
    /// # Errors
    /// I/O errors.
    fn delete(&self, key: &Key) -> io::Result<()>;
    /// Bytes free for new data.
    ///
    /// # Errors
    /// I/O errors asking the system.
    fn free_bytes(&self) -> io::Result<u64>;
}

/// Recordings in a directory: `ROOT/<room>/<id>/{meta.json, chunks/<seq>, recording.webm}`.
/// Ids are validated types, so no path component can escape the root.
pub struct FsStorage {
    /// The root directory.
    root: PathBuf,
}

const META: &str = "meta.json";
const FINAL: &str = "recording.webm";
const CHUNKS: &str = "chunks";

impl FsStorage {
    /// Storage under `root`, created if missing.
    ///
    /// # Errors
    /// I/O errors creating the root.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(FsStorage { root })
    }

    fn dir(&self, key: &Key) -> PathBuf {
        self.root.join(key.room.as_str()).join(key.id.as_str())
    }

    fn chunk_path(&self, key: &Key, seq: u64) -> PathBuf {
        self.dir(key).join(CHUNKS).join(format!("{seq:010}"))
    }

    /// Writes `bytes` to a unique temporary file in `dir` and fsyncs it.
    fn write_temp(dir: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
        let tmp = dir.join(format!(".tmp-{}", crate::random::token(16)));
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let written = f.write_all(bytes).and_then(|()| f.sync_all());
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(tmp)
    }

    fn write_meta(&self, key: &Key, meta: &Meta) -> io::Result<()> {
        let dir = self.dir(key);
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        let tmp = Self::write_temp(&dir, &json)?;
        fs::rename(&tmp, dir.join(META))?;
        sync_dir(&dir)
    }
}

/// Makes a directory's entries durable (a new or renamed file is lost on power failure without).
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Storage for FsStorage {
    fn create(&self, key: &Key, meta: &Meta) -> io::Result<()> {
        let room_dir = self.root.join(key.room.as_str());
        let dir = self.dir(key);
        fs::create_dir_all(dir.join(CHUNKS))?;
        self.write_meta(key, meta)?;
        sync_dir(&dir.join(CHUNKS))?;
        sync_dir(&room_dir)?;
        sync_dir(&self.root)
    }

    fn save_meta(&self, key: &Key, meta: &Meta) -> io::Result<()> {
        self.write_meta(key, meta)
    }

    fn load_all(&self) -> io::Result<Vec<Loaded>> {
        let mut out = Vec::new();
        for room in fs::read_dir(&self.root)? {
            let room = room?;
            if !room.file_type()?.is_dir() {
                continue;
            }
            for rec in fs::read_dir(room.path())? {
                let path = rec?.path();
                match load_one(&path) {
                    Ok(Some(loaded)) => out.push(loaded),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "skipping an unreadable recording")
                    }
                }
            }
        }
        Ok(out)
    }

    fn put_chunk(&self, key: &Key, seq: u64, bytes: &[u8]) -> io::Result<PutOutcome> {
        let path = self.chunk_path(key, seq);
        let chunks = self.dir(key).join(CHUNKS);
        if path.exists() {
            return same_bytes(&path, bytes);
        }
        let tmp = Self::write_temp(&chunks, bytes)?;
        // A hard link publishes the file only if the name is free: create-only, atomic.
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(&chunks)?;
                Ok(PutOutcome::Stored)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Another request stored it meanwhile; make sure that one is durable too.
                sync_dir(&chunks)?;
                same_bytes(&path, bytes)
            }
            Err(e) => Err(e),
        }
    }

    fn read_chunks(&self, key: &Key, count: u64) -> io::Result<Box<dyn Read + Send>> {
        let mut reader: Box<dyn Read + Send> = Box::new(io::empty());
        for seq in 0..count {
            let f = File::open(self.chunk_path(key, seq))?;
            reader = Box::new(reader.chain(f));
        }
        Ok(Box::new(BufReader::with_capacity(256 * 1024, reader)))
    }

    fn scratch(&self, key: &Key) -> io::Result<(File, PathBuf)> {
        let path = self
            .dir(key)
            .join(format!(".final-{}", crate::random::token(16)));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok((f, path))
    }

    fn publish_final(&self, key: &Key, scratch: &Path) -> io::Result<()> {
        File::open(scratch)?.sync_all()?;
        let dir = self.dir(key);
        fs::rename(scratch, dir.join(FINAL))?;
        sync_dir(&dir)
    }

    fn final_path(&self, key: &Key) -> Option<PathBuf> {
        let path = self.dir(key).join(FINAL);
        path.is_file().then_some(path)
    }

    fn delete(&self, key: &Key) -> io::Result<()> {
        // Remove the metadata first: a crash midway leaves no half-listed recording.
        let dir = self.dir(key);
        fs::remove_file(dir.join(META))?;
        sync_dir(&dir)?;
        fs::remove_dir_all(&dir)?;
        sync_dir(&self.root.join(key.room.as_str()))
    }

    fn free_bytes(&self) -> io::Result<u64> {
        free_bytes(&self.root)
    }
}

/// Compares a stored chunk with a replayed body.
fn same_bytes(path: &Path, bytes: &[u8]) -> io::Result<PutOutcome> {
    let stored = fs::read(path)?;
    Ok(if stored == bytes {
        PutOutcome::Identical
    } else {
        PutOutcome::Conflict
    })
}

/// Reads one recording directory; `None` when it has no metadata (deleted midway).
fn load_one(dir: &Path) -> io::Result<Option<Loaded>> {
    let meta = match fs::read(dir.join(META)) {
        Ok(json) => serde_json::from_slice::<Meta>(&json).map_err(io::Error::other)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut chunks = Vec::new();
    for entry in fs::read_dir(dir.join(CHUNKS))? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(seq) = name.to_str().and_then(|n| n.parse::<u64>().ok()) else {
            // Leftover temporary files of an interrupted write: never acknowledged.
            let _ = fs::remove_file(entry.path());
            continue;
        };
        chunks.push((seq, entry.metadata()?.len()));
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.'))
        {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(Some(Loaded { meta, chunks }))
}

/// Free bytes for unprivileged users on the filesystem holding `path`.
#[allow(clippy::unnecessary_cast)] // the statvfs field types differ between platforms
fn free_bytes(path: &Path) -> io::Result<u64> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path and `stat` is a plain struct statvfs fills.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the pointers are valid for the call.
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}
