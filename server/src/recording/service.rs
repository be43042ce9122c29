//! The recording service: the one owner of every recording's state.
//!
//! State sits behind a `std::sync::Mutex` that is never held across an `.await`; storage calls
//! run on the blocking pool with the lock released. What the room is told goes through
//! [`Signaling::announce_recording`](crate::signaling::Signaling::announce_recording), always after the
//! state changed, so a joiner sees either the old state and the announcement or the new state.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use protocol::{
    ChunkAck, PeerId, RecordingError, RecordingId, RecordingInfo, RecordingNotice, RecordingPhase,
    RecordingState, RoomId, StartedRecording, RECORDING_ID_LEN,
};

use super::error::RecError;
use super::finalizer;
use super::meta::{Loaded, Meta};
use super::settings::RecordingSettings;
use super::store::{Key, PutOutcome, Storage};
use super::token;
use crate::random;
use crate::signaling::Signaling;

/// Highest chunk number accepted: a day of one-second chunks, far past any duration limit.
pub const MAX_SEQ: u64 = 86_400;

/// One recording as the service tracks it.
struct Entry {
    /// The stored description.
    meta: Meta,
    /// Chunk numbers stored.
    chunks: BTreeSet<u64>,
    /// Bytes of the stored chunks.
    chunk_bytes: u64,
    /// Chunks 0..contiguous are all stored.
    contiguous: u64,
    /// Storage was full at the last attempt: the room was told "paused".
    paused: bool,
    /// The last chunk attempt (or the start): the watchdog's idle clock.
    last_activity: Instant,
    /// Since when the recorder has been missing from the room.
    absent_since: Option<Instant>,
    /// ms since the epoch of the last stored chunk, for the duration while recording.
    last_chunk_at: u64,
    /// One finalize at a time per recording.
    finalizing: Arc<tokio::sync::Mutex<()>>,
}

impl Entry {
    fn new(meta: Meta) -> Self {
        Entry {
            last_chunk_at: meta.started_at,
            meta,
            chunks: BTreeSet::new(),
            chunk_bytes: 0,
            contiguous: 0,
            paused: false,
            last_activity: Instant::now(),
            absent_since: None,
            finalizing: Arc::default(),
        }
    }

    fn key(&self) -> Key {
        Key {
            room: self.meta.room.clone(),
            id: self.meta.id.clone(),
        }
    }

    fn stored_bytes(&self) -> u64 {
        self.chunk_bytes + self.meta.final_bytes
    }

    fn notice(&self, phase: RecordingPhase) -> RecordingNotice {
        RecordingNotice {
            id: self.meta.id.clone(),
            phase,
            by: self.meta.uploader.clone(),
            started_at: self.meta.started_at,
        }
    }

    fn info(&self) -> RecordingInfo {
        let finalized = self.meta.final_bytes > 0;
        RecordingInfo {
            id: self.meta.id.clone(),
            state: self.meta.state,
            started_at: self.meta.started_at,
            duration_ms: if finalized {
                self.meta.duration_ms
            } else {
                self.last_chunk_at.saturating_sub(self.meta.started_at)
            },
            bytes: if finalized {
                self.meta.final_bytes
            } else {
                self.chunk_bytes
            },
            url: format!(
                "/api/rooms/{}/recordings/{}/file",
                self.meta.room, self.meta.id
            ),
        }
    }
}

/// Every recording, by id.
#[derive(Default)]
struct Index {
    entries: HashMap<RecordingId, Entry>,
    /// The recording in progress of each room: at most one.
    active: HashMap<RoomId, RecordingId>,
    /// Bytes of all recordings plus chunk bodies being written: the quota's measure.
    total_bytes: u64,
}

/// The recording service.
pub struct Recordings {
    /// Where chunks, metadata and files are kept.
    storage: Arc<dyn Storage>,
    /// Limits and timeouts.
    settings: RecordingSettings,
    /// The hub: who is in the room, and where announcements go.
    signaling: Arc<Signaling>,
    /// Every recording; never locked across an `.await`.
    index: Mutex<Index>,
}

/// ms since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs blocking storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, RecError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "recording storage failed");
            Err(RecError::internal())
        }
        Err(e) => {
            tracing::error!(error = %e, "recording storage task failed");
            Err(RecError::internal())
        }
    }
}

impl Recordings {
    /// The service over `storage`, with what it already holds (from before a restart).
    pub fn new(
        storage: Arc<dyn Storage>,
        settings: RecordingSettings,
        signaling: Arc<Signaling>,
        loaded: Vec<Loaded>,
    ) -> Arc<Self> {
        let mut index = Index::default();
        for Loaded { meta, chunks } in loaded {
            let mut entry = Entry::new(meta);
            for (seq, size) in chunks {
                entry.chunks.insert(seq);
                entry.chunk_bytes += size;
            }
            while entry.chunks.contains(&entry.contiguous) {
                entry.contiguous += 1;
            }
            index.total_bytes += entry.stored_bytes();
            if entry.meta.state == RecordingState::Recording {
                // A recorder may come back after the restart; the watchdog ends it otherwise.
                if index.active.contains_key(&entry.meta.room) {
                    entry.meta.state = RecordingState::Interrupted;
                } else {
                    // Its recorder needs time to reconnect after the restart: it is not "gone"
                    // before it could have been silent for the idle timeout.
                    entry.absent_since = Some(Instant::now() + settings.idle_timeout);
                    index
                        .active
                        .insert(entry.meta.room.clone(), entry.meta.id.clone());
                    // Nobody is connected yet: only later welcomes need to know.
                    signaling.remember_recording(
                        &entry.meta.room,
                        &entry.notice(RecordingPhase::Recording),
                    );
                }
            }
            index.entries.insert(entry.meta.id.clone(), entry);
        }
        Arc::new(Recordings {
            storage,
            settings,
            signaling,
            index: Mutex::new(index),
        })
    }

    /// The limits in force.
    pub fn settings(&self) -> &RecordingSettings {
        &self.settings
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finalizes, in the background, every ended recording whose file is missing or older than
    /// its chunks (the server stopped during a finalize, or late chunks arrived).
    pub fn finalize_stale(self: &Arc<Self>) {
        let stale: Vec<RecordingId> = self
            .lock()
            .entries
            .values()
            .filter(|e| e.meta.state != RecordingState::Recording)
            .filter(|e| e.meta.finalized_chunks != e.contiguous || e.meta.final_bytes == 0)
            .filter(|e| e.contiguous > 0)
            .map(|e| e.meta.id.clone())
            .collect();
        for id in stale {
            let this = self.clone();
            tokio::spawn(async move { this.finalize(&id).await });
        }
    }

    /// Starts a recording of `room` by `peer`, tells the room, then answers.
    ///
    /// # Errors
    /// `not-in-room`, `already-recording`, `insufficient-storage`, `internal`.
    pub async fn start(&self, room: RoomId, peer: PeerId) -> Result<StartedRecording, RecError> {
        if !self.signaling.has_peer(&room, &peer).await {
            return Err(RecError::new(
                RecordingError::NotInRoom,
                "the recorder must be in the room",
            ));
        }
        self.check_space(0).await?;
        let upload_token = token::new_token();
        let owner_token = token::new_token();
        let meta = Meta {
            id: RecordingId::parse(&random::token(RECORDING_ID_LEN))
                .map_err(|_| RecError::internal())?,
            room: room.clone(),
            uploader: peer,
            started_at: now_ms(),
            state: RecordingState::Recording,
            upload_token_sha256: token::digest(&upload_token),
            owner_token_sha256: token::digest(&owner_token),
            duration_ms: 0,
            final_bytes: 0,
            finalized_chunks: 0,
        };
        {
            let mut index = self.lock();
            if let Some(active) = index.active.get(&room) {
                return Err(RecError::new(
                    RecordingError::AlreadyRecording,
                    format!("this room is already being recorded ({active})"),
                ));
            }
            index.active.insert(room.clone(), meta.id.clone());
            index
                .entries
                .insert(meta.id.clone(), Entry::new(meta.clone()));
        }
        let key = Key {
            room: room.clone(),
            id: meta.id.clone(),
        };
        let storage = self.storage.clone();
        let stored = meta.clone();
        if let Err(e) = blocking(move || storage.create(&key, &stored)).await {
            let mut index = self.lock();
            index.active.remove(&room);
            index.entries.remove(&meta.id);
            return Err(e);
        }
        let notice = self
            .lock()
            .entries
            .get(&meta.id)
            .map(|e| e.notice(RecordingPhase::Recording));
        if let Some(notice) = notice {
            self.signaling.announce_recording(&room, notice).await;
        }
        tracing::info!(room = %room, id = %meta.id, "recording started");
        Ok(StartedRecording {
            id: meta.id,
            upload_token,
            owner_token,
            started_at: meta.started_at,
        })
    }

    /// Looks up `id` in `room` and checks the presented upload (or, with `owner`, owner) token.
    fn authorize<'a>(
        index: &'a mut Index,
        room: &RoomId,
        id: &RecordingId,
        presented: Option<&str>,
        owner: bool,
    ) -> Result<&'a mut Entry, RecError> {
        let entry = index
            .entries
            .get_mut(id)
            .filter(|e| &e.meta.room == room)
            .ok_or_else(RecError::no_such_recording)?;
        let stored = if owner {
            &entry.meta.owner_token_sha256
        } else {
            &entry.meta.upload_token_sha256
        };
        let valid = presented.is_some_and(|t| token::matches(t, stored));
        match valid {
            true => Ok(entry),
            false => Err(RecError::new(
                RecordingError::BadToken,
                if owner {
                    "the owner token is missing or wrong"
                } else {
                    "the upload token is missing or wrong"
                },
            )),
        }
    }

    /// Refuses with 507 when `more` bytes would break the quota or the free-space floor.
    async fn check_space(&self, more: u64) -> Result<(), RecError> {
        let total = self.lock().total_bytes;
        if total.saturating_add(more) > self.settings.quota_bytes {
            return Err(RecError::storage_full("the recordings quota is used up"));
        }
        let storage = self.storage.clone();
        let free = blocking(move || storage.free_bytes()).await?;
        if free.saturating_sub(more) < self.settings.min_free_bytes {
            return Err(RecError::storage_full("the disk is nearly full"));
        }
        Ok(())
    }

    /// Stores chunk `seq` durably, then acknowledges it with the contiguous prefix.
    /// Returns whether it was new (201) or a replay (200).
    ///
    /// # Errors
    /// `no-such-recording`, `bad-token`, `bad-request`, `chunk-conflict`, `recording-limit`,
    /// `insufficient-storage` (the room is told "paused"), `internal`.
    pub async fn put_chunk(
        self: &Arc<Self>,
        room: &RoomId,
        id: &RecordingId,
        presented: Option<&str>,
        seq: u64,
        body: axum::body::Bytes,
    ) -> Result<(ChunkAck, bool), RecError> {
        if seq > MAX_SEQ {
            return Err(RecError::new(
                RecordingError::BadRequest,
                "sequence number too large",
            ));
        }
        let len = body.len() as u64;
        let (key, known) = {
            let mut index = self.lock();
            let entry = Self::authorize(&mut index, room, id, presented, false)?;
            entry.last_activity = Instant::now();
            let known = entry.chunks.contains(&seq);
            if !known {
                if entry.chunk_bytes + len > self.settings.max_bytes {
                    return Err(RecError::new(
                        RecordingError::RecordingLimit,
                        "the recording reached its size limit",
                    ));
                }
                let age = now_ms().saturating_sub(entry.meta.started_at);
                if u128::from(age) > self.settings.max_duration.as_millis() {
                    return Err(RecError::new(
                        RecordingError::RecordingLimit,
                        "the recording reached its duration limit",
                    ));
                }
            }
            (entry.key(), known)
        };
        if !known {
            if let Err(e) = self.check_space(len).await {
                self.set_paused(id, true).await;
                return Err(e);
            }
            self.lock().total_bytes += len;
        }
        let storage = self.storage.clone();
        let write_key = key.clone();
        let outcome =
            tokio::task::spawn_blocking(move || storage.put_chunk(&write_key, seq, &body)).await;
        if !known {
            self.lock().total_bytes -= len;
        }
        let outcome = match outcome {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e))
                if e.kind() == std::io::ErrorKind::StorageFull
                    || e.kind() == std::io::ErrorKind::QuotaExceeded =>
            {
                self.set_paused(id, true).await;
                return Err(RecError::storage_full("the disk is full"));
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot store a chunk");
                return Err(RecError::internal());
            }
            Err(e) => {
                tracing::error!(error = %e, "chunk task failed");
                return Err(RecError::internal());
            }
        };
        // The index lock is held only in this block, never across an `.await`.
        let (ack, ended, paused) = {
            let mut index = self.lock();
            let Some(entry) = index.entries.get_mut(id) else {
                return Err(RecError::no_such_recording());
            };
            let mut added = false;
            match outcome {
                PutOutcome::Conflict => {
                    return Err(RecError::new(
                        RecordingError::ChunkConflict,
                        "a different chunk is stored under this number",
                    ))
                }
                PutOutcome::Identical => {}
                PutOutcome::Stored => {
                    if entry.chunks.insert(seq) {
                        entry.chunk_bytes += len;
                        entry.last_chunk_at = now_ms();
                        while entry.chunks.contains(&entry.contiguous) {
                            entry.contiguous += 1;
                        }
                        added = true;
                    }
                }
            }
            if added {
                index.total_bytes += len;
            }
            let Some(entry) = index.entries.get(id) else {
                return Err(RecError::no_such_recording());
            };
            let ack = ChunkAck {
                seq,
                contiguous: entry.contiguous.checked_sub(1),
            };
            (
                ack,
                entry.meta.state != RecordingState::Recording,
                entry.paused,
            )
        };
        if paused {
            self.set_paused(id, false).await;
        }
        if ended && outcome == PutOutcome::Stored {
            // A late chunk of an ended recording: make the file include it.
            let this = self.clone();
            let id = id.clone();
            tokio::spawn(async move { this.finalize(&id).await });
        }
        Ok((ack, outcome == PutOutcome::Stored))
    }

    /// Marks a recording in progress paused (storage full) or recording again, telling the room
    /// when that changes.
    async fn set_paused(&self, id: &RecordingId, paused: bool) {
        let notice = {
            let mut index = self.lock();
            let Some(entry) = index.entries.get_mut(id) else {
                return;
            };
            if entry.paused == paused || entry.meta.state != RecordingState::Recording {
                entry.paused = paused;
                return;
            }
            entry.paused = paused;
            let phase = if paused {
                RecordingPhase::Paused
            } else {
                RecordingPhase::Recording
            };
            (entry.meta.room.clone(), entry.notice(phase))
        };
        tracing::info!(id = %id, paused, "recording storage state changed");
        self.signaling.announce_recording(&notice.0, notice.1).await;
    }

    /// Stops a recording on its recorder's request, finalizes it and answers its listing.
    ///
    /// # Errors
    /// `no-such-recording`, `bad-token`, `internal`.
    pub async fn stop(
        self: &Arc<Self>,
        room: &RoomId,
        id: &RecordingId,
        presented: Option<&str>,
    ) -> Result<RecordingInfo, RecError> {
        {
            let mut index = self.lock();
            Self::authorize(&mut index, room, id, presented, false)?;
        }
        self.end(id, RecordingState::Complete).await?;
        self.finalize(id).await;
        self.lock()
            .entries
            .get(id)
            .map(Entry::info)
            .ok_or_else(RecError::no_such_recording)
    }

    /// Ends a recording in progress with `state`: stored, then announced. Does nothing to one
    /// that already ended.
    pub(super) async fn end(
        &self,
        id: &RecordingId,
        state: RecordingState,
    ) -> Result<(), RecError> {
        let (key, meta, notice) = {
            let mut index = self.lock();
            let Some(entry) = index.entries.get_mut(id) else {
                return Err(RecError::no_such_recording());
            };
            if entry.meta.state != RecordingState::Recording {
                return Ok(());
            }
            entry.meta.state = state;
            let out = (
                entry.key(),
                entry.meta.clone(),
                entry.notice(RecordingPhase::Ended),
            );
            if index.active.get(&out.0.room) == Some(id) {
                index.active.remove(&out.0.room);
            }
            out
        };
        tracing::info!(id = %id, ?state, "recording ended");
        self.signaling.announce_recording(&key.room, notice).await;
        let storage = self.storage.clone();
        blocking(move || storage.save_meta(&key, &meta)).await
    }

    /// Makes (or remakes) the recording's file from its contiguous chunks and records the
    /// result. Failures are logged: the chunks stay, so it can run again.
    pub async fn finalize(self: &Arc<Self>, id: &RecordingId) {
        let Some(lock) = self.lock().entries.get(id).map(|e| e.finalizing.clone()) else {
            return;
        };
        let _one_at_a_time = lock.lock().await;
        let Some((key, count, done)) = self.lock().entries.get(id).map(|e| {
            (
                e.key(),
                e.contiguous,
                e.meta.finalized_chunks == e.contiguous && e.meta.final_bytes > 0,
            )
        }) else {
            return;
        };
        if done || count == 0 {
            return;
        }
        let storage = self.storage.clone();
        let fin_key = key.clone();
        let started = Instant::now();
        let made =
            tokio::task::spawn_blocking(move || finalizer::run(&*storage, &fin_key, count)).await;
        let summary = match made {
            Ok(Ok(summary)) => summary,
            Ok(Err(e)) => {
                tracing::warn!(id = %id, error = %e, "cannot finalize the recording");
                return;
            }
            Err(e) => {
                tracing::error!(id = %id, error = %e, "finalize task failed");
                return;
            }
        };
        tracing::info!(id = %id, chunks = count, ms = started.elapsed().as_millis() as u64, duration_ms = summary.duration_ms, "recording finalized");
        let meta = {
            let mut index = self.lock();
            let Some(entry) = index.entries.get_mut(id) else {
                return;
            };
            let old = entry.meta.final_bytes;
            entry.meta.duration_ms = summary.duration_ms;
            entry.meta.final_bytes = summary.bytes;
            entry.meta.finalized_chunks = count;
            let meta = entry.meta.clone();
            index.total_bytes = index.total_bytes - old + summary.bytes;
            meta
        };
        let storage = self.storage.clone();
        let _ = blocking(move || storage.save_meta(&key, &meta)).await;
    }

    /// The room's recordings, newest first.
    pub fn list(&self, room: &RoomId) -> Vec<RecordingInfo> {
        let index = self.lock();
        let mut list: Vec<RecordingInfo> = index
            .entries
            .values()
            .filter(|e| &e.meta.room == room)
            .map(Entry::info)
            .collect();
        list.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        list
    }

    /// Where the finalized file of `id` is.
    ///
    /// # Errors
    /// `no-such-recording`, `not-finalized`.
    pub fn file(&self, room: &RoomId, id: &RecordingId) -> Result<std::path::PathBuf, RecError> {
        let key = {
            let index = self.lock();
            index
                .entries
                .get(id)
                .filter(|e| &e.meta.room == room)
                .map(Entry::key)
                .ok_or_else(RecError::no_such_recording)?
        };
        self.storage.final_path(&key).ok_or_else(|| {
            RecError::new(
                RecordingError::NotFinalized,
                "the recording is not finalized yet",
            )
        })
    }

    /// Deletes a recording with its owner token; one in progress ends first.
    ///
    /// # Errors
    /// `no-such-recording`, `bad-token`, `internal`.
    pub async fn delete(
        &self,
        room: &RoomId,
        id: &RecordingId,
        presented: Option<&str>,
    ) -> Result<(), RecError> {
        let (entry, notice) = {
            let mut index = self.lock();
            Self::authorize(&mut index, room, id, presented, true)?;
            let Some(entry) = index.entries.remove(id) else {
                return Err(RecError::no_such_recording());
            };
            index.total_bytes = index.total_bytes.saturating_sub(entry.stored_bytes());
            let active = index.active.get(room) == Some(id);
            if active {
                index.active.remove(room);
            }
            let notice = active.then(|| entry.notice(RecordingPhase::Ended));
            (entry, notice)
        };
        if let Some(notice) = notice {
            self.signaling.announce_recording(room, notice).await;
        }
        let key = entry.key();
        let _wait_for_finalize = entry.finalizing.lock().await;
        let storage = self.storage.clone();
        blocking(move || storage.delete(&key)).await?;
        tracing::info!(id = %id, "recording deleted");
        Ok(())
    }

    /// For the watchdog: recordings in progress whose recorder left or went silent. Asks the
    /// signaling engine who is present without holding the index lock.
    pub(super) async fn overdue(&self) -> Vec<RecordingId> {
        let recorders: Vec<(RecordingId, RoomId, PeerId)> = {
            let index = self.lock();
            index
                .active
                .values()
                .filter_map(|id| index.entries.get(id))
                .map(|e| {
                    (
                        e.meta.id.clone(),
                        e.meta.room.clone(),
                        e.meta.uploader.clone(),
                    )
                })
                .collect()
        };
        let mut present = Vec::with_capacity(recorders.len());
        for (id, room, uploader) in recorders {
            let here = self.signaling.has_peer(&room, &uploader).await;
            present.push((id, here));
        }
        let now = Instant::now();
        let mut index = self.lock();
        let mut overdue = Vec::new();
        for (id, here) in present {
            let Some(entry) = index.entries.get_mut(&id) else {
                continue;
            };
            if here {
                entry.absent_since = None;
            } else {
                entry.absent_since.get_or_insert(now);
            }
            let left = entry
                .absent_since
                .is_some_and(|t| now.duration_since(t) >= self.settings.left_grace);
            let silent = now.duration_since(entry.last_activity) >= self.settings.idle_timeout;
            if left || silent {
                overdue.push(id);
            }
        }
        overdue
    }
}
