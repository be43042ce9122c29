//! The in-call recorder: the whole meeting composited in this browser ([`compositor`] for the
//! picture, [`mixer`] for the sound) into one `MediaStream` that never changes, recorded by
//! `MediaRecorder` as `video/webm;codecs=vp8,opus` in chunks of about a second, each spooled in
//! the browser ([`spool`]) and uploaded ([`upload`]) until the server acknowledges it.
//!
//! A recorder belongs to the room page's call engine. Stopping (the button, Leave, leaving the
//! page) stops `MediaRecorder`; the upload goes on until every chunk is acknowledged, then the
//! recording is stopped on the server. A tab that dies leaves its spool for the next visit
//! ([`drain_left_behind`]); the server finalizes what arrived meanwhile.

mod compositor;
mod mixer;
mod spool;
mod upload;

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use protocol::{RecordingErrorBody, StartRecording, StartedRecording};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{BlobEvent, MediaRecorder, MediaRecorderOptions, MediaStream, MediaStreamTrack};

use compositor::Compositor;
pub use compositor::Feed;
use mixer::Mixer;
use spool::{Spool, Upload};
use upload::Uploader;

use crate::call::js;
use crate::recordings_client::{browser, owner_token_key};

/// The one format Chromium records in open builds.
const MIME: &str = "video/webm;codecs=vp8,opus";
/// About a second per chunk: a crash loses at most the last one.
const TIMESLICE_MS: i32 = 1000;
/// Bits per second for the composite picture.
const VIDEO_BPS: u32 = 2_500_000;
/// The mix is re-checked every this many frames (tracks come and go rarely).
const MIX_EVERY: u32 = 15;

/// Why a recording could not start, for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError(pub String);

/// A recording in progress, made by this tab.
pub struct Recorder {
    id: String,
    compositor: Rc<Compositor>,
    mixer: Rc<Mixer>,
    media: MediaRecorder,
    uploader: Rc<Uploader>,
    stopped: Cell<bool>,
    _on_data: Closure<dyn FnMut(JsValue)>,
    _on_stop: Closure<dyn FnMut(JsValue)>,
}

impl Recorder {
    /// Asks the server for a recording of `room` by `me` (it tells the whole room before this
    /// returns), then starts recording what `feeds` and `audio` give at every frame.
    /// `ended(why)` is called once the upload is over: `None` when everything was stored.
    pub async fn start(
        room: &str,
        me: &str,
        feeds: impl Fn() -> Vec<Feed> + 'static,
        audio: impl Fn() -> Vec<MediaStreamTrack> + 'static,
        ended: impl FnOnce(Option<String>) + 'static,
    ) -> Result<Rc<Recorder>, StartError> {
        if !MediaRecorder::is_type_supported(MIME) {
            return Err(StartError(
                "This browser cannot record meetings (no WebM recording).".into(),
            ));
        }
        let started = ask_server(room, me).await?;
        js::save(false, &owner_token_key(&started.id), &started.owner_token);
        let upload = Upload {
            room: room.to_owned(),
            id: started.id.to_string(),
            token: started.upload_token.clone(),
        };
        let spool = match Spool::create(&upload).await {
            Ok(spool) => Some(spool),
            Err(e) => {
                leptos::logging::warn!("no spool for the recording: {}", js::describe(&e));
                None
            }
        };
        let fail =
            |e: JsValue| StartError(format!("Recording failed to start: {}", js::describe(&e)));
        let mixer = Rc::new(Mixer::new().map_err(fail)?);
        let ticks = Cell::new(0u32);
        let mix = mixer.clone();
        let compositor = Compositor::start(move || {
            let n = ticks.get();
            ticks.set(n.wrapping_add(1));
            if n.is_multiple_of(MIX_EVERY) {
                mix.sync(&audio());
            }
            feeds()
        })
        .map_err(fail)?;
        let tracks = Array::new();
        tracks.push(compositor.track().map_err(fail)?.as_ref());
        tracks.push(mixer.track().map_err(fail)?.as_ref());
        let stream = MediaStream::new_with_tracks(&tracks).map_err(fail)?;
        let options = MediaRecorderOptions::new();
        options.set_mime_type(MIME);
        options.set_video_bits_per_second(VIDEO_BPS);
        let media =
            MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)
                .map_err(fail)?;

        let (uploader, run) = Uploader::new(upload, spool);
        let next = Rc::new(Cell::new(0u64));
        let up = uploader.clone();
        let on_data = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let Ok(event) = event.dyn_into::<BlobEvent>() else {
                return;
            };
            let Some(blob) = event.data() else { return };
            if blob.size() == 0.0 {
                return;
            }
            let seq = next.get();
            next.set(seq + 1);
            up.expect();
            let up = up.clone();
            spawn_local(async move {
                let bytes = JsFuture::from(blob.array_buffer())
                    .await
                    .ok()
                    .map(|b| Uint8Array::new(&b));
                up.arrive(seq, bytes).await;
            });
        });
        let up = uploader.clone();
        let on_stop = Closure::<dyn FnMut(JsValue)>::new(move |_| up.finish());
        media.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
        media.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
        media.start_with_time_slice(TIMESLICE_MS).map_err(fail)?;

        let recorder = Rc::new(Recorder {
            id: started.id.to_string(),
            compositor,
            mixer,
            media,
            uploader,
            stopped: Cell::new(false),
            _on_data: on_data,
            _on_stop: on_stop,
        });
        // The upload holds the recorder (and its event handlers) until the last chunk is in:
        // `dataavailable` and `stop` fire after `stop()` returns.
        let keep = recorder.clone();
        spawn_local(async move {
            run.await;
            keep.detach();
            let why = keep.uploader.over();
            if why.is_none() {
                stop_on_server(keep.uploader.upload()).await;
                keep.uploader.discard_spool().await;
            }
            ended(why);
        });
        Ok(recorder)
    }

    /// The recording's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether it stopped recording (asked to, or its upload ended).
    pub fn is_stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Stops recording; the chunks already made keep uploading until acknowledged.
    pub fn stop(&self) {
        if self.stopped.replace(true) {
            return;
        }
        // The last chunk arrives with `dataavailable` before `stop`, which ends the upload.
        if self.media.stop().is_err() {
            self.uploader.finish();
        }
        self.compositor.stop();
        self.mixer.stop();
    }

    /// Stops everything and unhooks the event handlers, so none runs after they are freed.
    fn detach(&self) {
        self.media.set_ondataavailable(None);
        self.media.set_onstop(None);
        self.stopped.set(true);
        let _ = self.media.stop();
        self.compositor.stop();
        self.mixer.stop();
    }
}

async fn ask_server(room: &str, me: &str) -> Result<StartedRecording, StartError> {
    let body = serde_json::to_string(&StartRecording {
        peer: protocol::PeerId::parse(me).map_err(|e| StartError(e.to_string()))?,
    })
    .map_err(|e| StartError(e.to_string()))?;
    let url = format!("/api/rooms/{room}/recordings");
    let (status, text) = browser::request_with_body(
        "POST",
        &url,
        None,
        Some((&JsValue::from_str(&body), "application/json")),
    )
    .await
    .map_err(StartError)?;
    match status {
        201 => serde_json::from_str(&text).map_err(|e| StartError(e.to_string())),
        409 if text.contains("already-recording") => Err(StartError(
            "Someone is already recording this meeting.".into(),
        )),
        _ => Err(StartError(
            serde_json::from_str::<RecordingErrorBody>(&text)
                .map(|b| format!("Recording could not start: {}", b.error.message))
                .unwrap_or_else(|_| {
                    format!("Recording could not start (server answered {status}).")
                }),
        )),
    }
}

async fn stop_on_server(upload: &Upload) {
    let url = format!("/api/rooms/{}/recordings/{}/stop", upload.room, upload.id);
    for delay in [0, 500, 2000, 5000] {
        js::sleep(delay).await;
        if let Ok((200, _)) = browser::request("POST", &url, Some(&upload.token)).await {
            return;
        }
    }
}

/// Uploads what recordings of a tab that crashed or was closed left in the spool. The server
/// already finalized them from what arrived; these chunks complete them (it finalizes again).
/// Part of the `call` wasm chunk (see [`crate::call::session::start`]), like the recorder.
#[leptos::wasm_split::wasm_split(call, wasm_split_path = leptos::wasm_split, fallible)]
pub fn drain_left_behind() -> Result<(), leptos::wasm_split::SplitLoaderError> {
    spawn_local(async move {
        for (upload, spool) in spool::left_behind().await {
            let seqs = spool.chunks().await;
            let mut chunks = Vec::new();
            for seq in seqs {
                if let Ok(bytes) = spool.read(seq).await {
                    chunks.push((seq, bytes));
                }
            }
            let (uploader, run) = Uploader::new(upload, Some(spool));
            for (seq, bytes) in chunks {
                uploader.requeue(seq, bytes);
            }
            uploader.finish();
            run.await;
            uploader.discard_spool().await;
        }
    });
    Ok(())
}
