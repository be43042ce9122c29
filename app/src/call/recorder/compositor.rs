//! The recording's picture: one 1280×720 canvas drawn from every participant's video — cameras
//! in a grid, a screen share on the stage with cameras beside it, names on tiles — with the same
//! geometry as the call view ([`crate::layout`]).
//!
//! The canvas's captured track is the recorder's only video track for the whole recording; who
//! joins, leaves, switches camera or shares only changes what is drawn. Drawing is paced by a
//! worker's timer (one tick at a time), because a hidden tab stops `requestAnimationFrame` and throttles its own
//! timers to about one a second, while messages from a worker keep arriving.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement,
    MediaStream, MediaStreamTrack, Url, Worker,
};

use crate::layout::{arrange, Rect, TileKey};

/// Size of the recording.
pub const WIDTH: u32 = 1280;
/// Size of the recording.
pub const HEIGHT: u32 = 720;
/// Frames per second drawn and captured.
pub const FPS: u32 = 30;

/// One thing to draw: a person's camera or someone's screen.
#[derive(Clone)]
pub struct Feed {
    /// Where it goes in the layout (a screen takes the stage).
    pub key: TileKey,
    /// The name on the tile.
    pub name: String,
    /// Its stream, when there is one and its video is on.
    pub stream: Option<MediaStream>,
}

/// The canvas, its pacing worker, and one hidden `<video>` per feed to draw from.
pub struct Compositor {
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    /// Decoders for the feeds, kept while their feed exists.
    videos: RefCell<HashMap<TileKey, HtmlVideoElement>>,
    ticker: Worker,
    ticker_url: String,
    _on_tick: Closure<dyn FnMut(JsValue)>,
}

impl Compositor {
    /// A canvas drawn `FPS` times a second from `feeds()`.
    ///
    /// # Errors
    /// When the browser has no 2D canvas or cannot start a worker.
    pub fn start(feeds: impl Fn() -> Vec<Feed> + 'static) -> Result<std::rc::Rc<Self>, JsValue> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
        canvas.set_width(WIDTH);
        canvas.set_height(HEIGHT);
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")?
            .ok_or("no 2d context")?
            .dyn_into()?;
        // At most one tick waits at a time: the page answers each tick when it has drawn, so a
        // page that cannot keep up draws less often instead of piling up ticks.
        let source = format!(
            "let busy = false; onmessage = () => {{ busy = false; }}; \
             setInterval(() => {{ if (!busy) {{ busy = true; postMessage(0); }} }}, {});",
            1000 / FPS
        );
        let parts = js_sys::Array::of1(&JsValue::from_str(&source));
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
        let ticker_url = Url::create_object_url_with_blob(&blob)?;
        let ticker = Worker::new(&ticker_url)?;
        let compositor = std::rc::Rc::new_cyclic(|weak: &std::rc::Weak<Compositor>| {
            let weak = weak.clone();
            let on_tick = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                if let Some(c) = weak.upgrade() {
                    c.draw(&feeds());
                    let _ = c.ticker.post_message(&JsValue::from(0));
                }
            });
            Compositor {
                canvas,
                context,
                videos: RefCell::new(HashMap::new()),
                ticker,
                ticker_url,
                _on_tick: on_tick,
            }
        });
        compositor
            .ticker
            .set_onmessage(Some(compositor._on_tick.as_ref().unchecked_ref()));
        Ok(compositor)
    }

    /// The canvas's video track, captured at `FPS`.
    ///
    /// # Errors
    /// When the browser cannot capture a canvas.
    pub fn track(&self) -> Result<MediaStreamTrack, JsValue> {
        let stream = self
            .canvas
            .capture_stream_with_frame_request_rate(f64::from(FPS))?;
        stream
            .get_video_tracks()
            .get(0)
            .dyn_into::<MediaStreamTrack>()
            .map_err(|_| JsValue::from_str("the canvas gave no track"))
    }

    /// Stops drawing and lets go of every decoder.
    pub fn stop(&self) {
        self.ticker.terminate();
        let _ = Url::revoke_object_url(&self.ticker_url);
        for (_, video) in self.videos.borrow_mut().drain() {
            video.set_src_object(None);
        }
    }

    fn draw(&self, feeds: &[Feed]) {
        let ctx = &self.context;
        ctx.set_fill_style_str("#0e1014");
        ctx.fill_rect(0.0, 0.0, f64::from(WIDTH), f64::from(HEIGHT));
        let keys: Vec<TileKey> = feeds.iter().map(|f| f.key.clone()).collect();
        let margin = 8.0;
        let rects = arrange(
            &keys,
            None,
            f64::from(WIDTH) - 2.0 * margin,
            f64::from(HEIGHT) - 2.0 * margin,
        );
        self.sync_videos(feeds);
        let videos = self.videos.borrow();
        for (feed, (rect, _)) in feeds.iter().zip(rects) {
            let rect = Rect {
                x: rect.x + margin,
                y: rect.y + margin,
                ..rect
            };
            let screen = matches!(feed.key, TileKey::Screen(_));
            ctx.set_fill_style_str(if screen { "#000000" } else { "#20232b" });
            ctx.fill_rect(rect.x, rect.y, rect.w, rect.h);
            let video = videos.get(&feed.key).filter(|v| v.video_width() > 0);
            match video {
                Some(video) => draw_video(ctx, video, rect, screen),
                None => draw_initial(ctx, &feed.name, rect),
            }
            let label = if screen {
                format!("{}'s screen", feed.name)
            } else {
                feed.name.clone()
            };
            draw_name(ctx, &label, rect);
        }
    }

    /// One playing, muted `<video>` per feed with a stream; none for the others.
    fn sync_videos(&self, feeds: &[Feed]) {
        let mut videos = self.videos.borrow_mut();
        videos.retain(|key, video| {
            let keep = feeds.iter().any(|f| &f.key == key && f.stream.is_some());
            if !keep {
                video.set_src_object(None);
            }
            keep
        });
        for feed in feeds {
            let Some(stream) = &feed.stream else { continue };
            let video = match videos.get(&feed.key) {
                Some(video) => video.clone(),
                None => {
                    let Some(video) = new_video() else { continue };
                    videos.insert(feed.key.clone(), video.clone());
                    video
                }
            };
            let same = video
                .src_object()
                .is_some_and(|s| AsRef::<JsValue>::as_ref(&s) == AsRef::<JsValue>::as_ref(stream));
            if !same {
                video.set_src_object(Some(stream));
                if let Ok(playing) = video.play() {
                    // Rejected when a newer stream replaces this one first: expected, handled.
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = wasm_bindgen_futures::JsFuture::from(playing).await;
                    });
                }
            }
        }
    }
}

impl Drop for Compositor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn new_video() -> Option<HtmlVideoElement> {
    let document = web_sys::window()?.document()?;
    let video: HtmlVideoElement = document.create_element("video").ok()?.dyn_into().ok()?;
    video.set_muted(true);
    video.set_autoplay(true);
    let _ = video.set_attribute("playsinline", "");
    Some(video)
}

/// A camera fills its tile (cropped to cover); a screen is letterboxed, never cropped.
fn draw_video(ctx: &CanvasRenderingContext2d, video: &HtmlVideoElement, r: Rect, contain: bool) {
    let (vw, vh) = (
        f64::from(video.video_width()),
        f64::from(video.video_height()),
    );
    if vw <= 0.0 || vh <= 0.0 || r.w <= 0.0 || r.h <= 0.0 {
        return;
    }
    let scale = if contain {
        (r.w / vw).min(r.h / vh)
    } else {
        (r.w / vw).max(r.h / vh)
    };
    let (dw, dh) = (vw * scale, vh * scale);
    ctx.save();
    ctx.begin_path();
    ctx.rect(r.x, r.y, r.w, r.h);
    ctx.clip();
    let _ = ctx.draw_image_with_html_video_element_and_dw_and_dh(
        video,
        r.x + (r.w - dw) / 2.0,
        r.y + (r.h - dh) / 2.0,
        dw,
        dh,
    );
    ctx.restore();
}

/// A tile without video: the person's initial in a circle.
fn draw_initial(ctx: &CanvasRenderingContext2d, name: &str, r: Rect) {
    let radius = (r.w.min(r.h) * 0.18).max(8.0);
    ctx.set_fill_style_str("#5b6cff");
    ctx.begin_path();
    let _ = ctx.arc(
        r.x + r.w / 2.0,
        r.y + r.h / 2.0,
        radius,
        0.0,
        std::f64::consts::TAU,
    );
    ctx.fill();
    let initial: String = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into());
    ctx.set_fill_style_str("#ffffff");
    ctx.set_font(&format!("700 {:.0}px sans-serif", radius));
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    let _ = ctx.fill_text(&initial, r.x + r.w / 2.0, r.y + r.h / 2.0);
}

/// The name in the tile's bottom-left corner, on a dark label.
fn draw_name(ctx: &CanvasRenderingContext2d, name: &str, r: Rect) {
    if name.is_empty() || r.h < 40.0 {
        return;
    }
    let size = if r.h < 160.0 { 13.0 } else { 18.0 };
    ctx.set_font(&format!("600 {size:.0}px sans-serif"));
    ctx.set_text_align("left");
    ctx.set_text_baseline("middle");
    let text_w = ctx
        .measure_text(name)
        .map(|m| m.width())
        .unwrap_or(0.0)
        .min(r.w - 24.0);
    let pad = size * 0.5;
    let h = size * 1.7;
    let (x, y) = (r.x + 8.0, r.y + r.h - h - 8.0);
    ctx.set_fill_style_str("rgba(10, 12, 16, 0.7)");
    ctx.fill_rect(x, y, text_w + 2.0 * pad, h);
    ctx.set_fill_style_str("#ffffff");
    let _ = ctx.fill_text_with_max_width(name, x + pad, y + h / 2.0, r.w - 24.0);
}
