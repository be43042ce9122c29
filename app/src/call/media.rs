//! The local camera and microphone: acquiring them, mapping failures to what a person can act on,
//! listing devices, and stopping tracks on leave.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ConstrainDomStringParameters, ConstrainLongRange, MediaDeviceInfo, MediaDeviceKind,
    MediaStream, MediaStreamConstraints, MediaStreamTrack, MediaTrackConstraints,
};

use super::js;
use crate::state::Device;

/// Why a device could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaError {
    /// There is no such device.
    NoDevice,
    /// The person or the browser refused access.
    PermissionDenied,
    /// The device exists but another program holds it, or it failed to start.
    InUse,
    /// No `navigator.mediaDevices` (an insecure `http://` page other than localhost).
    Unsupported,
    /// Anything else, with the browser's words.
    Other(String),
}

impl MediaError {
    fn from_js(error: &JsValue) -> Self {
        match js::get_string(error, "name").as_deref() {
            Some("NotFoundError" | "OverconstrainedError") => MediaError::NoDevice,
            Some("NotAllowedError" | "SecurityError") => MediaError::PermissionDenied,
            Some("NotReadableError" | "AbortError") => MediaError::InUse,
            _ => MediaError::Other(js::describe(error)),
        }
    }

    /// What to tell the person about `device` ("camera" or "microphone").
    pub fn explain(&self, device: &str) -> String {
        match self {
            MediaError::NoDevice => format!("No {device} was found."),
            MediaError::PermissionDenied => format!(
                "Access to the {device} is blocked. Allow it in the browser's site settings and reload."
            ),
            MediaError::InUse => format!("The {device} is in use by another program or failed to start."),
            MediaError::Unsupported => {
                "This page cannot use a camera or microphone: open it over https.".to_owned()
            }
            MediaError::Other(message) => format!("The {device} could not be opened ({message})."),
        }
    }
}

fn media_devices() -> Result<web_sys::MediaDevices, MediaError> {
    web_sys::window()
        .ok_or(MediaError::Unsupported)?
        .navigator()
        .media_devices()
        .map_err(|_| MediaError::Unsupported)
}

/// The `getUserMedia` constraint for one kind: `false`, or constraints with the chosen device
/// (and, for video, the 720p the tiles are made for).
fn constraint(wanted: bool, device_id: &str, video: bool) -> JsValue {
    if !wanted {
        return JsValue::FALSE;
    }
    let constraints = MediaTrackConstraints::new();
    if video {
        let width = ConstrainLongRange::new();
        width.set_ideal(1280);
        let height = ConstrainLongRange::new();
        height.set_ideal(720);
        constraints.set_width(&width);
        constraints.set_height(&height);
    }
    if !device_id.is_empty() {
        let device = ConstrainDomStringParameters::new();
        device.set_exact_str(device_id);
        constraints.set_device_id(&device);
    }
    constraints.into()
}

/// Opens the camera and/or microphone.
///
/// # Errors
/// A [`MediaError`] saying why.
pub async fn open(
    audio: bool,
    microphone_id: &str,
    video: bool,
    camera_id: &str,
) -> Result<MediaStream, MediaError> {
    let devices = media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&constraint(audio, microphone_id, false));
    constraints.set_video(&constraint(video, camera_id, true));
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| MediaError::from_js(&e))?;
    let stream = JsFuture::from(promise)
        .await
        .map_err(|e| MediaError::from_js(&e))?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| MediaError::Other("not a MediaStream".into()))
}

/// What opening both devices gave: the stream (possibly empty) and a problem for each kind.
pub struct Acquired {
    /// The tracks that could be opened.
    pub stream: MediaStream,
    /// Why the microphone is missing.
    pub audio_error: Option<MediaError>,
    /// Why the camera is missing.
    pub video_error: Option<MediaError>,
}

/// Opens both devices, and when that fails, each on its own, so one broken device never costs
/// the other: a person without a camera still joins with their microphone.
pub async fn acquire(microphone_id: &str, camera_id: &str) -> Acquired {
    if let Ok(stream) = open(true, microphone_id, true, camera_id).await {
        return Acquired {
            stream,
            audio_error: None,
            video_error: None,
        };
    }
    let stream = MediaStream::new().unwrap_or_else(|_| JsValue::NULL.unchecked_into());
    let audio_error = match open(true, microphone_id, false, "").await {
        Ok(s) => {
            add_all(&stream, &s);
            None
        }
        Err(e) => Some(e),
    };
    let video_error = match open(false, "", true, camera_id).await {
        Ok(s) => {
            add_all(&stream, &s);
            None
        }
        Err(e) => Some(e),
    };
    Acquired {
        stream,
        audio_error,
        video_error,
    }
}

fn add_all(into: &MediaStream, from: &MediaStream) {
    for track in from.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            into.add_track(&track);
        }
    }
}

/// The first audio track of `stream`.
pub fn audio_track(stream: &MediaStream) -> Option<MediaStreamTrack> {
    stream.get_audio_tracks().get(0).dyn_into().ok()
}

/// Every audio track of `stream`.
pub fn audio_tracks(stream: &MediaStream) -> Vec<MediaStreamTrack> {
    stream
        .get_audio_tracks()
        .iter()
        .filter_map(|t| t.dyn_into().ok())
        .collect()
}

/// The first video track of `stream`.
pub fn video_track(stream: &MediaStream) -> Option<MediaStreamTrack> {
    stream.get_video_tracks().get(0).dyn_into().ok()
}

/// The browser's id of the device behind `track`, to preselect it in the pickers.
pub fn device_id(track: &MediaStreamTrack) -> String {
    track.get_settings().get_device_id().unwrap_or_default()
}

/// Stops every track, which turns the camera light off.
pub fn stop_all(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Lists cameras and microphones.
pub async fn list_devices() -> (Vec<Device>, Vec<Device>) {
    let mut cameras = Vec::new();
    let mut microphones = Vec::new();
    let Ok(devices) = media_devices() else {
        return (cameras, microphones);
    };
    let Ok(promise) = devices.enumerate_devices() else {
        return (cameras, microphones);
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return (cameras, microphones);
    };
    for info in js_sys::Array::from(&list).iter() {
        let Ok(info) = info.dyn_into::<MediaDeviceInfo>() else {
            continue;
        };
        let device = Device {
            id: info.device_id(),
            label: info.label(),
        };
        match info.kind() {
            MediaDeviceKind::Videoinput => cameras.push(device),
            MediaDeviceKind::Audioinput => microphones.push(device),
            _ => {}
        }
    }
    (cameras, microphones)
}
