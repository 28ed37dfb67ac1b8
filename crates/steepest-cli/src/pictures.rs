//! Pictures of what an image classifier learned and got wrong: `misclassified.png` (the test
//! images it was most confident about and wrong, each with its true and predicted class and
//! the confidence) and `filters.png` (the first layer's kernels, or the first fully connected
//! layer's weights seen as images). PNG only (an SVG of every pixel would be large), written
//! through a temporary file and a rename.

use plotters::prelude::*;
use std::path::Path;

/// One image to draw: values `[channels, height, width]` (1 or 3 channels; others shown by
/// their mean), scaled for display by the tile's own range, and its caption.
pub struct Tile {
    /// The values, channel planes in order.
    pub values: Vec<f64>,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Text under the image.
    pub caption: String,
    /// Show signed values on a blue-white-red scale around 0 (weights) instead of grey levels.
    pub signed: bool,
}

fn colour(t: &Tile, y: usize, x: usize, lo: f64, hi: f64) -> RGBColor {
    let [c, h, w] = t.shape;
    let at = |ch: usize| t.values[ch * h * w + y * w + x];
    if t.signed {
        let m = lo.abs().max(hi.abs()).max(1e-12);
        let v = (if c == 3 { (at(0) + at(1) + at(2)) / 3.0 } else { at(0) } / m).clamp(-1.0, 1.0);
        let k = (255.0 * (1.0 - v.abs())) as u8;
        return if v >= 0.0 {
            RGBColor(255, k, k)
        } else {
            RGBColor(k, k, 255)
        };
    }
    let span = (hi - lo).max(1e-12);
    let g = |v: f64| (255.0 * ((v - lo) / span).clamp(0.0, 1.0)) as u8;
    if c == 3 {
        RGBColor(g(at(0)), g(at(1)), g(at(2)))
    } else {
        let v = (0..c).map(at).sum::<f64>() / c as f64;
        let k = g(v);
        RGBColor(k, k, k)
    }
}

/// Draws `tiles` in a grid with `title` into `dir/stem.png` (the title alone when there are
/// none).
pub fn grid(dir: &Path, stem: &str, title: &str, tiles: &[Tile]) -> Result<(), String> {
    crate::plots::font();
    let cols = ((tiles.len() as f64).sqrt().ceil() as usize).max(1);
    let rows = tiles.len().div_ceil(cols);
    let (cell_w, cell_h, top) = (150u32, 170u32, 40u32);
    let size = ((cols as u32 * cell_w).max(600), rows as u32 * cell_h + top);
    let png = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".{stem}.tmp{}.png", std::process::id()));
    let drawn = (|| -> Result<(), String> {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
        root.draw(&Text::new(
            title.to_string(),
            (10, 10),
            ("sans-serif", 18).into_font().color(&BLACK),
        ))
        .map_err(|e| format!("{e:?}"))?;
        for (i, t) in tiles.iter().enumerate() {
            let (gx, gy) = (
                (i % cols) as i32 * cell_w as i32,
                (i / cols) as i32 * cell_h as i32 + top as i32,
            );
            let [_, h, w] = t.shape;
            let side = 130.0 / h.max(w).max(1) as f64;
            let (lo, hi) = t
                .values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            let x0 = gx + (cell_w as i32 - (side * w as f64) as i32) / 2;
            for y in 0..h {
                for x in 0..w {
                    let (ax, ay) = (x0 + (x as f64 * side) as i32, gy + 5 + (y as f64 * side) as i32);
                    let (bx, by) = (
                        x0 + ((x + 1) as f64 * side) as i32,
                        gy + 5 + ((y + 1) as f64 * side) as i32,
                    );
                    root.draw(&Rectangle::new([(ax, ay), (bx, by)], colour(t, y, x, lo, hi).filled()))
                        .map_err(|e| format!("{e:?}"))?;
                }
            }
            root.draw(&Text::new(
                t.caption.clone(),
                (gx + 6, gy + 142),
                ("sans-serif", 13).into_font().color(&BLACK),
            ))
            .map_err(|e| format!("{e:?}"))?;
        }
        root.present().map_err(|e| format!("{e:?}"))
    })();
    let moved = drawn.and_then(|()| std::fs::rename(&tmp, &png).map_err(|e| e.to_string()));
    if moved.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    moved
}
