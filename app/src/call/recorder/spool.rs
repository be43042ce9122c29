//! Chunks kept in the browser from the moment `MediaRecorder` hands them over until the server
//! acknowledged them, in the origin private file system: one folder per recording holding its
//! upload details and one file per unacknowledged chunk. A tab that crashes leaves its folder
//! behind; the next visit to the site uploads what is in it ([`left_behind`]).
//!
//! `createWritable()` writes to a swap file that replaces the target only on `close()`, so a
//! crash mid-write leaves no half chunk.

use js_sys::{Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    File, FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions,
    FileSystemGetFileOptions, FileSystemRemoveOptions, FileSystemWritableFileStream,
};

/// The folder of all spooled recordings.
const ROOT: &str = "record-meet-recordings";
/// The file in a recording's folder that says where its chunks go.
const META: &str = "upload.json";

/// Where a spooled recording's chunks go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    /// The room.
    pub room: String,
    /// The recording.
    pub id: String,
    /// Its upload token.
    pub token: String,
}

/// One recording's folder.
pub struct Spool {
    root: FileSystemDirectoryHandle,
    dir: FileSystemDirectoryHandle,
    name: String,
}

async fn root() -> Result<FileSystemDirectoryHandle, JsValue> {
    let navigator = web_sys::window().ok_or("no window")?.navigator();
    let top: FileSystemDirectoryHandle = JsFuture::from(navigator.storage().get_directory())
        .await?
        .dyn_into()?;
    let create = FileSystemGetDirectoryOptions::new();
    create.set_create(true);
    JsFuture::from(top.get_directory_handle_with_options(ROOT, &create))
        .await?
        .dyn_into()
}

impl Spool {
    /// Creates the folder of `upload` and writes its details.
    ///
    /// # Errors
    /// When the browser has no origin private file system (or refuses it, e.g. private mode).
    pub async fn create(upload: &Upload) -> Result<Spool, JsValue> {
        let root = root().await?;
        let create = FileSystemGetDirectoryOptions::new();
        create.set_create(true);
        let dir = JsFuture::from(root.get_directory_handle_with_options(&upload.id, &create))
            .await?
            .dyn_into()?;
        let spool = Spool {
            root,
            dir,
            name: upload.id.clone(),
        };
        let meta = serde_json::to_vec(upload).map_err(|e| JsValue::from_str(&e.to_string()))?;
        spool
            .write(META, &Uint8Array::from(meta.as_slice()))
            .await?;
        Ok(spool)
    }

    /// Keeps chunk `seq`.
    ///
    /// # Errors
    /// When the write fails (quota).
    pub async fn put(&self, seq: u64, bytes: &Uint8Array) -> Result<(), JsValue> {
        self.write(&chunk_name(seq), bytes).await
    }

    /// Forgets chunk `seq` (acknowledged).
    pub async fn remove(&self, seq: u64) {
        let _ = JsFuture::from(self.dir.remove_entry(&chunk_name(seq))).await;
    }

    /// The chunks kept, in order.
    pub async fn chunks(&self) -> Vec<u64> {
        let mut seqs = Vec::new();
        let names = self.dir.keys();
        while let Ok(promise) = names.next() {
            let Ok(step) = JsFuture::from(promise).await else {
                break;
            };
            let done = Reflect::get(&step, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            let name = Reflect::get(&step, &"value".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            if let Some(seq) = name.strip_suffix(".webm").and_then(|s| s.parse().ok()) {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        seqs
    }

    /// Reads chunk `seq`.
    ///
    /// # Errors
    /// When it is not there.
    pub async fn read(&self, seq: u64) -> Result<Uint8Array, JsValue> {
        read_file(&self.dir, &chunk_name(seq)).await
    }

    /// Removes the whole folder: everything in it was acknowledged.
    pub async fn discard(&self) {
        let options = FileSystemRemoveOptions::new();
        options.set_recursive(true);
        let _ = JsFuture::from(self.root.remove_entry_with_options(&self.name, &options)).await;
    }

    async fn write(&self, name: &str, bytes: &Uint8Array) -> Result<(), JsValue> {
        let create = FileSystemGetFileOptions::new();
        create.set_create(true);
        let file: FileSystemFileHandle =
            JsFuture::from(self.dir.get_file_handle_with_options(name, &create))
                .await?
                .dyn_into()?;
        let writable: FileSystemWritableFileStream =
            JsFuture::from(file.create_writable()).await?.dyn_into()?;
        JsFuture::from(writable.write_with_js_u8_array(bytes)?).await?;
        JsFuture::from(writable.close()).await?;
        Ok(())
    }
}

/// The recordings a crashed or closed tab left behind, with where their chunks go.
pub async fn left_behind() -> Vec<(Upload, Spool)> {
    let Ok(root) = root().await else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let entries = root.values();
    while let Ok(promise) = entries.next() {
        let Ok(step) = JsFuture::from(promise).await else {
            break;
        };
        if Reflect::get(&step, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true)
        {
            break;
        }
        let Ok(dir) = Reflect::get(&step, &"value".into())
            .and_then(|v| v.dyn_into::<FileSystemDirectoryHandle>())
        else {
            continue;
        };
        let Ok(meta) = read_file(&dir, META).await else {
            continue;
        };
        let Ok(upload) = serde_json::from_slice::<Upload>(&meta.to_vec()) else {
            continue;
        };
        let name = dir.name();
        found.push((
            upload,
            Spool {
                root: root.clone(),
                dir,
                name,
            },
        ));
    }
    found
}

async fn read_file(dir: &FileSystemDirectoryHandle, name: &str) -> Result<Uint8Array, JsValue> {
    let handle: FileSystemFileHandle = JsFuture::from(dir.get_file_handle(name))
        .await?
        .dyn_into()?;
    let file: File = JsFuture::from(handle.get_file()).await?.dyn_into()?;
    let buffer = JsFuture::from(file.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer))
}

fn chunk_name(seq: u64) -> String {
    format!("{seq:06}.webm")
}
