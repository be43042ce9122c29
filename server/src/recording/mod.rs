//! Recording, server side: the HTTP API through which a recorder's browser uploads a meeting
//! chunk by chunk, durable storage behind one trait, the watchdog for vanished recorders, and
//! the finalizer that turns live WebM into a seekable file.
//!
//! - [`api`]: the routes; [`error`]: their typed refusals;
//! - [`service`]: the one owner of recording state; [`watchdog`]: ends abandoned recordings;
//! - [`store`]: the [`Storage`](store::Storage) trait and its filesystem implementation;
//! - [`finalizer`] and [`webm`]: chunks → verified seekable WebM;
//! - [`meta`], [`token`], [`settings`]: what is stored, the secrets, the limits.

pub mod api;
pub mod error;
pub mod finalizer;
pub mod meta;
pub mod service;
pub mod settings;
pub mod store;
pub mod token;
pub mod watchdog;
pub mod webm;

use std::io;
use std::sync::Arc;

pub use service::Recordings;
pub use settings::RecordingSettings;

use crate::signaling::Signaling;
use store::{FsStorage, Storage};

/// Opens the recordings directory and loads what it holds (after a restart: every acknowledged
/// chunk, and each recording's state).
///
/// # Errors
/// I/O errors creating or reading the directory.
pub async fn open(
    settings: RecordingSettings,
    signaling: Arc<Signaling>,
) -> io::Result<Arc<Recordings>> {
    let dir = settings.dir.clone();
    let (storage, loaded) = tokio::task::spawn_blocking(move || {
        let storage = FsStorage::new(dir)?;
        let loaded = storage.load_all()?;
        Ok::<_, io::Error>((storage, loaded))
    })
    .await
    .map_err(io::Error::other)??;
    let storage: Arc<dyn Storage> = Arc::new(storage);
    Ok(Recordings::new(storage, settings, signaling, loaded))
}
