//! Capturing a screen, window or tab with `getDisplayMedia`, tuned for text.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ConstrainDoubleRange, DisplayMediaStreamConstraints, MediaStream, MediaStreamTrack,
    MediaTrackConstraints,
};

use super::js;
use super::peer::SCREEN_MAX_FRAMERATE;

/// Why a share did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareError {
    /// The person closed the picker or the browser refused: nothing to tell them.
    Cancelled,
    /// This browser cannot share a screen (most mobile browsers).
    Unsupported,
    /// Anything else, with the browser's words.
    Other(String),
}

impl ShareError {
    fn from_js(error: &JsValue) -> Self {
        match js::get_string(error, "name").as_deref() {
            Some("NotAllowedError" | "AbortError") => ShareError::Cancelled,
            Some("NotSupportedError") => ShareError::Unsupported,
            _ => ShareError::Other(js::describe(error)),
        }
    }

    /// What to tell the person, if anything.
    pub fn explain(&self) -> Option<String> {
        match self {
            ShareError::Cancelled => None,
            ShareError::Unsupported => Some("This browser cannot share a screen.".to_owned()),
            ShareError::Other(why) => Some(format!("The screen could not be shared ({why}).")),
        }
    }
}

/// Whether this browser has `getDisplayMedia` (desktop browsers; not most phones).
pub fn supported() -> bool {
    web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .is_some_and(|devices| js::has(&devices, "getDisplayMedia"))
}

/// Asks the person what to share. Video at most [`SCREEN_MAX_FRAMERATE`] frames per second,
/// with the tab's or system's audio when the browser offers it; the video is marked `detail` so
/// the encoder keeps text sharp rather than motion smooth.
///
/// # Errors
/// A [`ShareError`] saying why nothing is shared.
pub async fn capture() -> Result<MediaStream, ShareError> {
    let devices = web_sys::window()
        .ok_or(ShareError::Unsupported)?
        .navigator()
        .media_devices()
        .map_err(|_| ShareError::Unsupported)?;
    let frame_rate = ConstrainDoubleRange::new();
    frame_rate.set_max(SCREEN_MAX_FRAMERATE);
    let video = MediaTrackConstraints::new();
    video.set_frame_rate(&frame_rate);
    let constraints = DisplayMediaStreamConstraints::new();
    constraints.set_video(&video);
    constraints.set_audio_bool(true);
    let promise = devices
        .get_display_media_with_constraints(&constraints)
        .map_err(|e| ShareError::from_js(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| ShareError::from_js(&e))?
        .dyn_into()
        .map_err(|_| ShareError::Other("not a MediaStream".into()))?;
    for track in stream.get_video_tracks().iter() {
        js::set(&track, "contentHint", &JsValue::from_str("detail"));
    }
    Ok(stream)
}

/// The share's video track, whose `ended` (the browser's own "Stop sharing") ends the share.
pub fn video_track(stream: &MediaStream) -> Option<MediaStreamTrack> {
    stream.get_video_tracks().get(0).dyn_into().ok()
}
