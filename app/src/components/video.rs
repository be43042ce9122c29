//! `<video>` elements bound to a stream that lives in the call engine.

use leptos::html::Video;
use leptos::prelude::*;

use crate::state::CallUi;

/// Which stream a video shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSource {
    /// This tab's camera (muted: nobody wants to hear themselves).
    Camera,
    /// This tab's own screen share, for the presenter's preview (muted).
    MyScreen,
    /// A remote person's camera and microphone, by peer id.
    Person(String),
    /// A remote person's screen share, by peer id.
    Screen(String),
}

/// A video that (re)binds its stream whenever `version` changes. On the server it renders an
/// empty element; the stream is attached after hydration.
#[component]
pub fn StreamVideo(
    source: StreamSource,
    /// Bumped by the engine when the stream changes.
    version: Signal<u32>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let node = NodeRef::<Video>::new();
    let muted = matches!(source, StreamSource::Camera | StreamSource::MyScreen);
    Effect::new(move |_| {
        version.track();
        #[cfg(feature = "hydrate")]
        if let Some(video) = node.get() {
            crate::actions::bind(ui, &source, &video);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&source, node, ui);
    });
    view! {
        <video node_ref=node class=class autoplay=true playsinline=true muted=muted prop:muted=muted></video>
    }
}
