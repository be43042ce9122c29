//! Where each tile goes: a grid that fills the space at a video-friendly aspect ratio with the
//! last row centred, or a presenter layout (a stage and a strip). Pure geometry, the same on the
//! server and in the browser, so it is unit-tested here and the views only apply the rectangles.

/// What a tile shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TileKey {
    /// This tab's camera.
    Me,
    /// A remote person's camera, by peer id.
    Person(String),
    /// A remote person's screen share, by peer id.
    Screen(String),
}

impl TileKey {
    /// A word for tests and styling.
    pub fn kind(&self) -> &'static str {
        match self {
            TileKey::Me => "me",
            TileKey::Person(_) => "person",
            TileKey::Screen(_) => "screen",
        }
    }
}

/// A rectangle in CSS pixels, relative to the tile area.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// The inline style that puts an absolutely positioned element here.
    pub fn style(&self) -> String {
        format!(
            "transform:translate({:.0}px,{:.0}px);width:{:.0}px;height:{:.0}px",
            self.x, self.y, self.w, self.h
        )
    }
}

/// Space between tiles, CSS pixels.
pub const GAP: f64 = 8.0;

/// Tile shapes tried on a wide area: camera-like, widest first.
const WIDE_ASPECTS: [f64; 2] = [16.0 / 9.0, 4.0 / 3.0];

/// Tile shapes tried on a tall area (phones): down to portrait, so few tiles fill the screen.
const TALL_ASPECTS: [f64; 4] = [16.0 / 9.0, 4.0 / 3.0, 1.0, 3.0 / 4.0];

/// The best grid for `n` tiles in a `w`×`h` area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Columns.
    pub cols: usize,
    /// Rows.
    pub rows: usize,
    /// Tile width.
    pub tile_w: f64,
    /// Tile height.
    pub tile_h: f64,
}

/// Chooses columns and a tile shape so that `n` equal tiles are as large as possible.
pub fn fit_grid(n: usize, w: f64, h: f64) -> Grid {
    let n = n.max(1);
    let aspects: &[f64] = if w >= h { &WIDE_ASPECTS } else { &TALL_ASPECTS };
    let mut best = Grid {
        cols: 1,
        rows: n,
        tile_w: 0.0,
        tile_h: 0.0,
    };
    for cols in 1..=n {
        let rows = n.div_ceil(cols);
        let cell_w = ((w - GAP * (cols - 1) as f64) / cols as f64).max(0.0);
        let cell_h = ((h - GAP * (rows - 1) as f64) / rows as f64).max(0.0);
        for &aspect in aspects {
            let (tile_w, tile_h) = if cell_w / aspect <= cell_h {
                (cell_w, cell_w / aspect)
            } else {
                (cell_h * aspect, cell_h)
            };
            // Strictly larger wins, so ties keep fewer columns and the wider shape.
            if tile_w * tile_h > best.tile_w * best.tile_h + 0.5 {
                best = Grid {
                    cols,
                    rows,
                    tile_w,
                    tile_h,
                };
            }
        }
    }
    best
}

/// Rectangles of `n` grid tiles, row by row, the whole grid centred and the last row centred.
pub fn grid(n: usize, w: f64, h: f64) -> Vec<Rect> {
    if n == 0 {
        return Vec::new();
    }
    let g = fit_grid(n, w, h);
    let total_h = g.rows as f64 * g.tile_h + (g.rows - 1) as f64 * GAP;
    let top = ((h - total_h) / 2.0).max(0.0);
    (0..n)
        .map(|i| {
            let row = i / g.cols;
            let in_row = if row == g.rows - 1 {
                n - row * g.cols
            } else {
                g.cols
            };
            let row_w = in_row as f64 * g.tile_w + (in_row - 1) as f64 * GAP;
            let left = ((w - row_w) / 2.0).max(0.0);
            Rect {
                x: left + (i % g.cols) as f64 * (g.tile_w + GAP),
                y: top + row as f64 * (g.tile_h + GAP),
                w: g.tile_w,
                h: g.tile_h,
            }
        })
        .collect()
}

/// The presenter layout: a stage, and `strip` small tiles beside it (wide areas) or under it
/// (tall areas), always fitting the area, never scrolled or cut.
pub fn presenter(strip: usize, w: f64, h: f64) -> (Rect, Vec<Rect>) {
    if strip == 0 {
        return (
            Rect {
                x: 0.0,
                y: 0.0,
                w,
                h,
            },
            Vec::new(),
        );
    }
    let gaps = (strip - 1) as f64 * GAP;
    if w >= h {
        // A column on the right, 16:9 tiles, shrunk when there are many.
        let mut tile_w = (w * 0.18).clamp(120.0, 260.0).min(w / 3.0);
        let mut tile_h = tile_w * 9.0 / 16.0;
        if strip as f64 * tile_h + gaps > h {
            tile_h = ((h - gaps) / strip as f64).max(0.0);
            tile_w = tile_h * 16.0 / 9.0;
        }
        let column_w = tile_w;
        let stage = Rect {
            x: 0.0,
            y: 0.0,
            w: (w - column_w - GAP).max(0.0),
            h,
        };
        let total = strip as f64 * tile_h + gaps;
        let top = ((h - total) / 2.0).max(0.0);
        let tiles = (0..strip)
            .map(|i| Rect {
                x: w - column_w,
                y: top + i as f64 * (tile_h + GAP),
                w: tile_w,
                h: tile_h,
            })
            .collect();
        (stage, tiles)
    } else {
        // Rows underneath (a phone): a small grid in at most 45% of the height, tiles at most
        // 140 px tall, so a crowded call still shows faces rather than slivers.
        let g = fit_grid(strip, w, h * 0.45);
        let scale = (140.0 / g.tile_h.max(1.0)).min(1.0);
        let (tile_w, tile_h) = (g.tile_w * scale, g.tile_h * scale);
        let strip_h = g.rows as f64 * tile_h + (g.rows - 1) as f64 * GAP;
        let stage = Rect {
            x: 0.0,
            y: 0.0,
            w,
            h: (h - strip_h - GAP).max(0.0),
        };
        let tiles = (0..strip)
            .map(|i| {
                let row = i / g.cols;
                let in_row = if row == g.rows - 1 {
                    strip - row * g.cols
                } else {
                    g.cols
                };
                let row_w = in_row as f64 * tile_w + (in_row - 1) as f64 * GAP;
                let left = ((w - row_w) / 2.0).max(0.0);
                Rect {
                    x: left + (i % g.cols) as f64 * (tile_w + GAP),
                    y: stage.h + GAP + row as f64 * (tile_h + GAP),
                    w: tile_w,
                    h: tile_h,
                }
            })
            .collect();
        (stage, tiles)
    }
}

/// The tile on the stage: the pinned one if it is still there, else the newest screen share.
pub fn stage_tile<'a>(tiles: &'a [TileKey], pinned: Option<&TileKey>) -> Option<&'a TileKey> {
    pinned
        .and_then(|p| tiles.iter().find(|t| *t == p))
        .or_else(|| tiles.iter().rev().find(|t| matches!(t, TileKey::Screen(_))))
}

/// Every tile's rectangle, in the order of `tiles`, and whether it is on the stage.
pub fn arrange(tiles: &[TileKey], pinned: Option<&TileKey>, w: f64, h: f64) -> Vec<(Rect, bool)> {
    match stage_tile(tiles, pinned) {
        None => grid(tiles.len(), w, h)
            .into_iter()
            .map(|r| (r, false))
            .collect(),
        Some(on_stage) => {
            let (stage, strip) = presenter(tiles.len() - 1, w, h);
            let mut strip = strip.into_iter();
            tiles
                .iter()
                .map(|t| {
                    if t == on_stage {
                        (stage, true)
                    } else {
                        (strip.next().unwrap_or_default(), false)
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESKTOP: (f64, f64) = (1240.0, 640.0);
    const PHONE: (f64, f64) = (374.0, 640.0);

    fn inside(r: &Rect, w: f64, h: f64) -> bool {
        r.x >= -0.01 && r.y >= -0.01 && r.x + r.w <= w + 0.01 && r.y + r.h <= h + 0.01
    }

    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.x + a.w > b.x + 0.01
            && b.x + b.w > a.x + 0.01
            && a.y + a.h > b.y + 0.01
            && b.y + b.h > a.y + 0.01
    }

    fn check(rects: &[Rect], w: f64, h: f64) {
        for (i, r) in rects.iter().enumerate() {
            assert!(inside(r, w, h), "{r:?} outside {w}x{h}");
            assert!(r.w > 20.0 && r.h > 15.0, "{r:?} too small");
            for s in &rects[i + 1..] {
                assert!(!overlap(r, s), "{r:?} overlaps {s:?}");
            }
        }
    }

    #[test]
    fn grids_fit_without_overlap_at_every_count() {
        for (w, h) in [DESKTOP, PHONE, (800.0, 450.0), (1920.0, 960.0)] {
            for n in 1..=9 {
                check(&grid(n, w, h), w, h);
            }
        }
    }

    #[test]
    fn two_on_a_desktop_sit_side_by_side_and_on_a_phone_stack() {
        assert_eq!(fit_grid(2, DESKTOP.0, DESKTOP.1).cols, 2);
        assert_eq!(fit_grid(2, PHONE.0, PHONE.1).cols, 1);
        let eight = fit_grid(8, DESKTOP.0, DESKTOP.1);
        assert!(eight.cols * eight.rows >= 8 && eight.cols >= 3, "{eight:?}");
    }

    #[test]
    fn tiles_fill_most_of_the_area() {
        for n in [1, 2, 4, 6, 9] {
            let g = fit_grid(n, DESKTOP.0, DESKTOP.1);
            let used = n as f64 * g.tile_w * g.tile_h / (DESKTOP.0 * DESKTOP.1);
            assert!(used > 0.45, "{n} tiles use {used}");
        }
    }

    #[test]
    fn the_last_row_is_centred() {
        let rects = grid(5, DESKTOP.0, DESKTOP.1);
        let g = fit_grid(5, DESKTOP.0, DESKTOP.1);
        assert_eq!(g.cols, 3);
        let last = &rects[3..];
        let left = last[0].x;
        let right = DESKTOP.0 - (last[1].x + last[1].w);
        assert!((left - right).abs() < 0.5, "{left} vs {right}");
    }

    #[test]
    fn presenter_strips_fit_at_every_count_on_desktop_and_phone() {
        for (w, h) in [DESKTOP, PHONE, (390.0, 500.0)] {
            for strip in 0..=9 {
                let (stage, tiles) = presenter(strip, w, h);
                let mut all = tiles.clone();
                all.push(stage);
                check(&all, w, h);
                assert!(
                    stage.w * stage.h > 0.4 * w * h,
                    "stage too small at {strip}"
                );
                // Faces, not slivers: even nine strip tiles stay 80 px wide.
                assert!(
                    tiles.iter().all(|t| t.w >= 80.0),
                    "{strip} tiles: {tiles:?}"
                );
            }
        }
    }

    #[test]
    fn the_stage_is_the_pin_else_the_newest_screen() {
        let tiles = vec![
            TileKey::Me,
            TileKey::Person("a".into()),
            TileKey::Screen("a".into()),
            TileKey::Person("b".into()),
            TileKey::Screen("b".into()),
        ];
        assert_eq!(stage_tile(&tiles, None), Some(&TileKey::Screen("b".into())));
        let pin = TileKey::Person("a".into());
        assert_eq!(stage_tile(&tiles, Some(&pin)), Some(&pin));
        let gone = TileKey::Person("z".into());
        assert_eq!(
            stage_tile(&tiles, Some(&gone)),
            Some(&TileKey::Screen("b".into()))
        );
        assert_eq!(stage_tile(&tiles[..2], None), None);
        let placed = arrange(&tiles, None, DESKTOP.0, DESKTOP.1);
        assert_eq!(placed.iter().filter(|(_, s)| *s).count(), 1);
        assert!(placed[4].1);
        check(
            &placed.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
            DESKTOP.0,
            DESKTOP.1,
        );
    }
}
