//! Sends a recording's chunks as they are made: in order of their numbers, at most two in
//! flight, each retried with backoff until the server acknowledges it (durably stored), then
//! forgotten from the spool. A full disk on the server (507) pauses, never drops.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;

use super::spool::{Spool, Upload};
use crate::call::js;
use crate::recordings_client::browser;

/// At most this many chunks are on the wire at once.
const IN_FLIGHT: usize = 2;
/// Retry delays after a failed round, ms.
const BACKOFF_MS: [i32; 6] = [250, 500, 1000, 2000, 4000, 8000];

/// What the server said about one chunk.
enum Outcome {
    /// Stored (or stored before: a replay).
    Stored,
    /// Try again later (network, 5xx, 507 storage full).
    Retry,
    /// This chunk can never be stored (refused as invalid): dropped, the rest go on.
    Refused(String),
    /// The recording can take no more chunks (deleted, ended, over its limit).
    Over(String),
}

/// The upload queue of one recording.
pub struct Uploader {
    upload: Upload,
    spool: Option<Spool>,
    /// Chunks not yet acknowledged, by number.
    queue: RefCell<BTreeMap<u64, Uint8Array>>,
    /// Chunks handed over by the recorder but not yet queued (still being read from the blob).
    arriving: Cell<u32>,
    /// No chunk will be added after those arriving: finish once the queue is empty.
    finishing: Cell<bool>,
    wake: mpsc::UnboundedSender<()>,
    /// Why the recording can take no more, once it cannot.
    over: RefCell<Option<String>>,
}

impl Uploader {
    /// A queue for `upload`, spooling to `spool` when there is one; returns it and its loop,
    /// which ends when [`Uploader::finish`] was called and everything is acknowledged.
    pub fn new(
        upload: Upload,
        spool: Option<Spool>,
    ) -> (Rc<Uploader>, impl std::future::Future<Output = ()>) {
        let (wake, woken) = mpsc::unbounded();
        let uploader = Rc::new(Uploader {
            upload,
            spool,
            queue: RefCell::new(BTreeMap::new()),
            arriving: Cell::new(0),
            finishing: Cell::new(false),
            wake,
            over: RefCell::new(None),
        });
        let run = uploader.clone().run(woken);
        (uploader, run)
    }

    /// A chunk is on its way (called synchronously when the recorder hands it over, so that
    /// finishing waits for it).
    pub fn expect(&self) {
        self.arriving.set(self.arriving.get() + 1);
    }

    /// Queues chunk `seq`, spooling it first; `read` is `None` when reading the blob failed.
    pub async fn arrive(&self, seq: u64, bytes: Option<Uint8Array>) {
        if let Some(bytes) = bytes {
            if let Some(spool) = &self.spool {
                if let Err(e) = spool.put(seq, &bytes).await {
                    leptos::logging::warn!("chunk {seq} not spooled: {}", js::describe(&e));
                }
            }
            self.queue.borrow_mut().insert(seq, bytes);
        }
        self.arriving.set(self.arriving.get().saturating_sub(1));
        let _ = self.wake.unbounded_send(());
    }

    /// Queues a chunk read back from the spool (a recording left behind by a crashed tab).
    pub fn requeue(&self, seq: u64, bytes: Uint8Array) {
        self.queue.borrow_mut().insert(seq, bytes);
        let _ = self.wake.unbounded_send(());
    }

    /// No more chunks will come: the loop ends once every one is acknowledged.
    pub fn finish(&self) {
        self.finishing.set(true);
        let _ = self.wake.unbounded_send(());
    }

    /// Why the recording cannot go on, if it cannot.
    pub fn over(&self) -> Option<String> {
        self.over.borrow().clone()
    }

    /// The upload's details.
    pub fn upload(&self) -> &Upload {
        &self.upload
    }

    /// Forgets the spool (everything acknowledged).
    pub async fn discard_spool(&self) {
        if let Some(spool) = &self.spool {
            spool.discard().await;
        }
    }

    async fn run(self: Rc<Self>, mut woken: mpsc::UnboundedReceiver<()>) {
        let mut failures = 0usize;
        loop {
            let batch: Vec<(u64, Uint8Array)> = self
                .queue
                .borrow()
                .iter()
                .take(IN_FLIGHT)
                .map(|(seq, bytes)| (*seq, bytes.clone()))
                .collect();
            if batch.is_empty() {
                if self.finishing.get() && self.arriving.get() == 0 {
                    return;
                }
                if woken.next().await.is_none() {
                    return;
                }
                continue;
            }
            let outcomes =
                futures::future::join_all(batch.iter().map(|(seq, bytes)| self.put(*seq, bytes)))
                    .await;
            let mut retry = false;
            for ((seq, _), outcome) in batch.iter().zip(outcomes) {
                match outcome {
                    Outcome::Stored => self.forget(*seq).await,
                    Outcome::Refused(why) => {
                        leptos::logging::warn!("chunk {seq} refused: {why}");
                        self.forget(*seq).await;
                    }
                    Outcome::Retry => retry = true,
                    Outcome::Over(why) => {
                        *self.over.borrow_mut() = Some(why);
                        // Nothing more can be stored: keep the spool for nobody, stop.
                        self.queue.borrow_mut().clear();
                        self.discard_spool().await;
                        return;
                    }
                }
            }
            if retry {
                js::sleep(BACKOFF_MS[failures.min(BACKOFF_MS.len() - 1)]).await;
                failures += 1;
            } else {
                failures = 0;
            }
        }
    }

    async fn forget(&self, seq: u64) {
        self.queue.borrow_mut().remove(&seq);
        if let Some(spool) = &self.spool {
            spool.remove(seq).await;
        }
    }

    async fn put(&self, seq: u64, bytes: &Uint8Array) -> Outcome {
        let Upload { room, id, token } = &self.upload;
        let url = format!("/api/rooms/{room}/recordings/{id}/chunks/{seq}");
        let body: &JsValue = bytes.as_ref();
        let sent = browser::request_with_body(
            "PUT",
            &url,
            Some(token),
            Some((body, "application/octet-stream")),
        )
        .await;
        match sent {
            Ok((200 | 201, _)) => Outcome::Stored,
            Ok((403 | 404, text)) => Outcome::Over(browser::error_message(403, &text)),
            Ok((413, text)) => {
                let message = browser::error_message(413, &text);
                if text.contains("recording-limit") {
                    Outcome::Over(message)
                } else {
                    Outcome::Refused(message)
                }
            }
            Ok((400 | 409, text)) => Outcome::Refused(browser::error_message(409, &text)),
            Ok(_) | Err(_) => Outcome::Retry,
        }
    }
}
