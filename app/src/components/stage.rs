//! The tile area: every tile in one keyed list, each absolutely placed where [`crate::layout`]
//! says — a grid, or a stage with a strip when a screen is shared or a tile is pinned. Tiles
//! keep their elements when the layout changes; only their rectangles move.

use leptos::html::Div;
use leptos::prelude::*;

use super::tile::{RemoteTile, ScreenTile, SelfTile};
use crate::actions;
use crate::layout::{arrange, Rect, TileKey};
use crate::state::CallUi;

/// Each tile's key, rectangle and whether it is on the stage.
type Placed = Vec<(TileKey, Rect, bool)>;

/// The tiles of the call, laid out to fill the space they are given.
#[component]
pub fn Stage() -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let node = NodeRef::<Div>::new();
    let area = RwSignal::new((0.0_f64, 0.0_f64));
    #[cfg(feature = "hydrate")]
    observe_size(node, area);

    let tiles = Memo::new(move |_| {
        let people = ui.participants.get();
        let mut keys = vec![TileKey::Me];
        keys.extend(people.iter().map(|p| TileKey::Person(p.id())));
        keys.extend(
            people
                .iter()
                .filter(|p| p.sharing.get())
                .map(|p| TileKey::Screen(p.id())),
        );
        keys
    });
    let placed = Memo::new(move |_| {
        let keys = tiles.get();
        let pinned = ui.pinned.get();
        let (w, h) = area.get();
        let rects = arrange(&keys, pinned.as_ref(), w, h);
        keys.into_iter()
            .zip(rects)
            .map(|(key, (rect, on_stage))| (key, rect, on_stage))
            .collect::<Placed>()
    });
    let presenting = move || placed.with(|p| p.iter().any(|(_, _, on_stage)| *on_stage));
    view! {
        <div
            class="tiles"
            class:has-stage=presenting
            node_ref=node
            data-testid="tiles"
            data-layout=move || if presenting() { "presenter" } else { "grid" }
        >
            <For
                each=move || tiles.get()
                key=|key| key.clone()
                children=move |tile| view! { <Slot tile placed/> }
            />
        </div>
    }
}

/// One tile in its place, with pin and fullscreen buttons.
#[component]
fn Slot(tile: TileKey, placed: Memo<Placed>) -> impl IntoView {
    let ui = expect_context::<CallUi>();
    let key = tile;
    let node = NodeRef::<Div>::new();
    let spot = {
        let key = key.clone();
        Memo::new(move |_| {
            placed.with(|p| {
                p.iter()
                    .find(|(k, _, _)| *k == key)
                    .map(|(_, rect, on_stage)| (*rect, *on_stage))
                    .unwrap_or_default()
            })
        })
    };
    let on_stage = move || spot.get().1;
    let pinned = {
        let key = key.clone();
        move || ui.pinned.with(|p| p.as_ref() == Some(&key))
    };
    let content = match &key {
        TileKey::Me => view! { <SelfTile/> }.into_any(),
        TileKey::Person(id) => match ui.participant(id) {
            Some(p) => view! { <RemoteTile participant=p/> }.into_any(),
            None => ().into_any(),
        },
        TileKey::Screen(id) => match ui.participant(id) {
            Some(p) => view! { <ScreenTile participant=p/> }.into_any(),
            None => ().into_any(),
        },
    };
    let pin_key = key.clone();
    let pressed = pinned.clone();
    let active = pinned.clone();
    let pin_label = move || if pinned() { "Unpin" } else { "Pin to stage" };
    view! {
        <div
            class="slot"
            class:on-stage=on_stage
            node_ref=node
            style=move || spot.get().0.style()
            data-tile=key.kind()
            data-on-stage=move || on_stage().to_string()
        >
            {content}
            <div class="tile-actions">
                <button
                    type="button"
                    class="icon-button tile-action"
                    class:active=active
                    data-testid="pin"
                    aria-label=pin_label.clone()
                    title=pin_label
                    aria-pressed=move || pressed().to_string()
                    on:click=move |_| actions::toggle_pin(ui, pin_key.clone())
                >
                    <span class="icon icon-pin" aria-hidden="true"></span>
                </button>
                <Show when=on_stage>
                    <button
                        type="button"
                        class="icon-button tile-action"
                        data-testid="fullscreen"
                        aria-label="Fullscreen"
                        title="Fullscreen"
                        on:click=move |_| {
                            #[cfg(feature = "hydrate")]
                            if let Some(el) = node.get() {
                                actions::toggle_fullscreen(&el);
                            }
                        }
                    >
                        <span class="icon icon-fullscreen" aria-hidden="true"></span>
                    </button>
                </Show>
            </div>
        </div>
    }
}

/// Keeps `area` at the element's content size, through window resizes, the chat panel opening
/// and phone rotation alike.
#[cfg(feature = "hydrate")]
fn observe_size(node: NodeRef<Div>, area: RwSignal<(f64, f64)>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{ResizeObserver, ResizeObserverEntry};

    Effect::new(move |_| {
        let Some(element) = node.get() else { return };
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            for entry in entries.iter() {
                let Ok(entry) = entry.dyn_into::<ResizeObserverEntry>() else {
                    continue;
                };
                let rect = entry.content_rect();
                let size = (rect.width(), rect.height());
                if area.get_untracked() != size {
                    area.set(size);
                }
            }
        });
        let Ok(observer) = ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
            return;
        };
        observer.observe(&element);
        // Both live as long as this effect's owner; the observer is disconnected before the
        // callback is dropped, so it is never called after.
        let keep = StoredValue::new_local((observer, callback));
        on_cleanup(move || {
            keep.try_with_value(|(observer, _)| observer.disconnect());
        });
    });
}
