//! The recording's sound: one `MediaStreamAudioDestinationNode` whose track never changes, fed
//! by a source node per audio track in the call (the recorder's microphone, every remote
//! microphone, shared tab audio). Tracks come and go; only the graph changes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    AudioContext, MediaStream, MediaStreamAudioDestinationNode, MediaStreamAudioSourceNode,
    MediaStreamTrack,
};

/// The mixing graph.
pub struct Mixer {
    context: AudioContext,
    output: MediaStreamAudioDestinationNode,
    /// One source per mixed track, by track id.
    inputs: RefCell<HashMap<String, MediaStreamAudioSourceNode>>,
    stopped: Cell<bool>,
}

impl Mixer {
    /// An empty mix (silence until tracks are added).
    ///
    /// # Errors
    /// When the browser has no Web Audio.
    pub fn new() -> Result<Self, JsValue> {
        let context = AudioContext::new()?;
        let output = context.create_media_stream_destination()?;
        Ok(Mixer {
            context,
            output,
            inputs: RefCell::new(HashMap::new()),
            stopped: Cell::new(false),
        })
    }

    /// The mix's one audio track.
    ///
    /// # Errors
    /// When the destination has no track (never in a browser that made one).
    pub fn track(&self) -> Result<MediaStreamTrack, JsValue> {
        self.output
            .stream()
            .get_audio_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
            .map_err(|_| JsValue::from_str("the mixer gave no track"))
    }

    /// Mixes exactly `tracks` (live audio tracks): new ones are connected, gone ones removed.
    pub fn sync(&self, tracks: &[MediaStreamTrack]) {
        let mut inputs = self.inputs.borrow_mut();
        inputs.retain(|id, node| {
            let keep = tracks.iter().any(|t| &t.id() == id);
            if !keep {
                let _ = node.disconnect();
            }
            keep
        });
        for track in tracks {
            if inputs.contains_key(&track.id()) {
                continue;
            }
            let Ok(stream) = MediaStream::new_with_tracks(&js_sys::Array::of1(track)) else {
                continue;
            };
            let Ok(node) = self.context.create_media_stream_source(&stream) else {
                continue;
            };
            if node.connect_with_audio_node(&self.output).is_ok() {
                inputs.insert(track.id(), node);
            }
        }
    }

    /// Ends the graph.
    pub fn stop(&self) {
        if self.stopped.replace(true) {
            return;
        }
        for (_, node) in self.inputs.borrow_mut().drain() {
            let _ = node.disconnect();
        }
        if let Ok(closing) = self.context.close() {
            // Closing cannot fail on an open context; the promise is only awaited to be handled.
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(closing).await;
            });
        }
    }
}

impl Drop for Mixer {
    fn drop(&mut self) {
        self.stop();
    }
}
