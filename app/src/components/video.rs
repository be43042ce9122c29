//! `<video>` elements bound to a stream that lives in the call engine.

use leptos::html::Video;
use leptos::prelude::*;

/// Which stream a video shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// This tab's camera (muted: nobody wants to hear themselves).
    Local,
    /// A remote peer's stream, by peer id.
    Remote(String),
}

/// A video that (re)binds its stream whenever `version` changes. On the server it renders an
/// empty element; the stream is attached after hydration.
#[component]
pub fn StreamVideo(
    source: Source,
    /// Bumped by the engine when the stream changes.
    version: Signal<u32>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let node = NodeRef::<Video>::new();
    let muted = source == Source::Local;
    Effect::new(move |_| {
        version.track();
        #[cfg(feature = "hydrate")]
        if let Some(video) = node.get() {
            match &source {
                Source::Local => crate::actions::bind_local(&video),
                Source::Remote(peer) => crate::actions::bind_remote(peer, &video),
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&source, node);
    });
    view! {
        <video node_ref=node class=class autoplay=true playsinline=true muted=muted prop:muted=muted></video>
    }
}
