//! Plots in PNG and SVG, with the DejaVu Sans font shipped in `assets/` (no system font
//! library is needed).

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

pub(crate) fn font() {
    REGISTER.call_once(|| {
        // The font is compiled in, so registering it cannot fail for want of a file.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

type PlotResult = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Something that draws itself on any backend.
trait Plot {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> PlotResult;
}

/// Draws `p` into `stem.png` and `stem.svg` inside `dir`, each through a temporary file and a
/// rename, so that a kill never leaves a partial picture.
fn both<P: Plot>(dir: &Path, stem: &str, size: (u32, u32), p: &P) -> PlotResult {
    font();
    let png = dir.join(format!("{stem}.png"));
    let tmp = dir.join(format!(".{stem}.tmp{}.png", std::process::id()));
    let drawn = p.draw(BitMapBackend::new(&tmp, size).into_drawing_area());
    let moved = drawn.and_then(|()| std::fs::rename(&tmp, &png).map_err(err));
    if moved.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    moved?;
    let mut svg = String::new();
    p.draw(SVGBackend::with_string(&mut svg, size).into_drawing_area())?;
    steepest::fsutil::write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes()).map_err(err)
}

/// A palette of distinguishable colours.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// A tick label: at most 4 significant digits, scientific notation far from 1.
fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let s = format!("{:.*}", (3 - a.log10().floor() as i32).max(0) as usize, v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Curves y(x) with names on one chart; log scales where asked.
pub struct Curves<'a> {
    /// Chart title.
    pub title: &'a str,
    /// X axis label.
    pub x_label: &'a str,
    /// Y axis label.
    pub y_label: &'a str,
    /// (name, points).
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Marker at this x (e.g. a suggested learning rate).
    pub mark_x: Option<f64>,
}

fn draw_curves<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &Curves) -> PlotResult {
    root.fill(&WHITE).map_err(err)?;
    let pts: Vec<(f64, f64)> = c
        .series
        .iter()
        .flat_map(|(_, p)| p.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.is_empty() {
        return Ok(());
    }
    let (mut x0, mut x1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (mut y0, mut y1) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let log_y = y0 > 0.0 && y1 / y0 > 30.0;
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    if log_y {
        y0 /= 1.25;
        y1 *= 1.25;
    } else {
        let pad = 0.05 * (y1 - y0);
        y0 -= pad;
        y1 += pad;
    }
    if c.log_x {
        x0 = x0.max(1e-300);
    }
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(c.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    macro_rules! finish {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(c.x_label)
                .y_desc(c.y_label)
                .x_label_formatter(&|v| fmt_num(*v))
                .y_label_formatter(&|v| fmt_num(*v))
                .label_style(("sans-serif", 13))
                .draw()
                .map_err(err)?;
            for (i, (name, p)) in c.series.iter().enumerate() {
                let col = PALETTE[i % PALETTE.len()];
                chart
                    .draw_series(LineSeries::new(
                        p.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()),
                        col.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
            }
            if let Some(m) = c.mark_x {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(m, y0), (m, y1)],
                        BLACK.stroke_width(1),
                    )))
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 13))
                .draw()
                .map_err(err)?;
        }};
    }
    match (c.log_x, log_y) {
        (false, false) => finish!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?),
        (true, false) => finish!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1).map_err(err)?),
        (false, true) => finish!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale()).map_err(err)?),
        (true, true) => finish!(builder
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(err)?),
    }
    root.present().map_err(err)
}

impl Plot for Curves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> PlotResult {
        draw_curves(root, self)
    }
}

/// Writes `stem.png` and `stem.svg` with the curves.
pub fn curves(dir: &Path, stem: &str, c: &Curves) -> PlotResult {
    both(dir, stem, (900, 560), c)
}

fn draw_confusion<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, m: &[Vec<usize>], names: &[String]) -> PlotResult {
    root.fill(&WHITE).map_err(err)?;
    let k = m.len().max(1);
    let (w, h) = root.dim_in_pixel();
    let (left, top) = (110i32, 60i32);
    let cell = ((w as i32 - left - 20).min(h as i32 - top - 30) / k as i32).max(4);
    root.draw(&Text::new(
        "Confusion matrix (rows: true class, columns: predicted)",
        (20, 15),
        ("sans-serif", 18),
    ))
    .map_err(err)?;
    for (i, row) in m.iter().enumerate() {
        let total: usize = row.iter().sum::<usize>().max(1);
        for (j, &c) in row.iter().enumerate() {
            let f = c as f64 / total as f64;
            let shade = (255.0 * (1.0 - 0.85 * f)) as u8;
            let color = if i == j {
                RGBColor(shade, shade, 255)
            } else {
                RGBColor(255, shade, shade)
            };
            let (x, y) = (left + j as i32 * cell, top + i as i32 * cell);
            root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], color.filled()))
                .map_err(err)?;
            root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], BLACK.mix(0.2)))
                .map_err(err)?;
            if cell >= 18 {
                root.draw(&Text::new(
                    c.to_string(),
                    (x + cell / 3, y + cell / 3),
                    ("sans-serif", (cell / 3).clamp(9, 16)),
                ))
                .map_err(err)?;
            }
        }
        let name = names.get(i).cloned().unwrap_or_default();
        root.draw(&Text::new(
            name.clone(),
            (10, top + i as i32 * cell + cell / 3),
            ("sans-serif", 13),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            name,
            (left + i as i32 * cell + cell / 4, top - 20),
            ("sans-serif", 13),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)
}

struct Confusion<'a>(&'a [Vec<usize>], &'a [String]);

impl Plot for Confusion<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> PlotResult {
        draw_confusion(root, self.0, self.1)
    }
}

/// Writes `confusion.png` (and `.svg`).
pub fn confusion(dir: &Path, m: &[Vec<usize>], names: &[String]) -> PlotResult {
    both(dir, "confusion", (700, 700), &Confusion(m, names))
}

/// One optimizer path on a landscape.
pub struct Path2 {
    /// Legend name.
    pub name: String,
    /// Colour index.
    pub color: usize,
    /// The iterates.
    pub points: Vec<(f64, f64)>,
}

/// A 2-D surface with paths drawn on it.
pub struct Landscape<'a> {
    /// Title.
    pub title: &'a str,
    /// Plot box.
    pub x: (f64, f64),
    /// Plot box.
    pub y: (f64, f64),
    /// f on the grid, row-major over y then x, with the grid size.
    pub grid: (usize, Vec<f64>),
    /// Known minimizers.
    pub minimizers: Vec<(f64, f64)>,
    /// The paths.
    pub paths: Vec<Path2>,
}

fn shade(t: f64) -> RGBColor {
    // Dark blue (low) through teal and green to pale yellow (high).
    let stops = [
        (0.0, (20.0, 30.0, 90.0)),
        (0.35, (30.0, 120.0, 150.0)),
        (0.7, (120.0, 190.0, 110.0)),
        (1.0, (250.0, 240.0, 170.0)),
    ];
    let t = t.clamp(0.0, 1.0);
    for w in stops.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if t <= b {
            let u = (t - a) / (b - a);
            let mix = |p: f64, q: f64| (p + u * (q - p)) as u8;
            return RGBColor(mix(ca.0, cb.0), mix(ca.1, cb.1), mix(ca.2, cb.2));
        }
    }
    RGBColor(250, 240, 170)
}

fn draw_landscape<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, l: &Landscape) -> PlotResult {
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(l.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(l.x.0..l.x.1, l.y.0..l.y.1)
        .map_err(err)?;
    let (n, vals) = (&l.grid.0, &l.grid.1);
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (dx, dy) = ((l.x.1 - l.x.0) / *n as f64, (l.y.1 - l.y.0) / *n as f64);
    chart
        .draw_series((0..*n).flat_map(|r| (0..*n).map(move |c| (r, c))).map(|(r, c)| {
            let t = (vals[r * n + c] - lo) / (hi - lo).max(1e-300);
            let (x, y) = (l.x.0 + c as f64 * dx, l.y.0 + r as f64 * dy);
            Rectangle::new([(x, y), (x + dx, y + dy)], shade(t).filled())
        }))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(("sans-serif", 13))
        .x_desc("x")
        .y_desc("y")
        .draw()
        .map_err(err)?;
    let mut legend_done = std::collections::HashSet::new();
    for p in &l.paths {
        let col = PALETTE[p.color % PALETTE.len()];
        // Only the parts of the path inside the plotted region (a path that leaves it is cut
        // at the border, and goes on where it comes back).
        let mut pieces = clip_polyline(&p.points, l.x, l.y);
        let mut labelled = !legend_done.insert(p.name.clone());
        if pieces.is_empty() && !labelled {
            pieces.push(Vec::new()); // nothing visible: an empty series still carries the legend
        }
        for piece in &pieces {
            // Segment by segment: a polyline's joins turn an optimizer's back-and-forth steps
            // (nearly 180-degree turns) into long miter spikes that leave the plot.
            let segments = piece
                .windows(2)
                .map(|w| PathElement::new(vec![w[0], w[1]], col.stroke_width(2)));
            let series = chart.draw_series(segments).map_err(err)?;
            if !labelled {
                series
                    .label(p.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(3)));
                labelled = true;
            }
        }
        let inside = |&(x, y): &(f64, f64)| (l.x.0..=l.x.1).contains(&x) && (l.y.0..=l.y.1).contains(&y);
        if let Some(&s) = p.points.first().filter(|q| inside(q)) {
            chart
                .draw_series(std::iter::once(Circle::new(s, 5, col.filled())))
                .map_err(err)?;
        }
        if let Some(&e) = p.points.last().filter(|q| inside(q)) {
            chart
                .draw_series(std::iter::once(Cross::new(e, 6, WHITE.stroke_width(2))))
                .map_err(err)?;
        }
    }
    chart
        .draw_series(l.minimizers.iter().map(|&m| TriangleMarker::new(m, 8, RED.filled())))
        .map_err(err)?
        .label("global minimum")
        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, RED.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

impl Plot for Landscape<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> PlotResult {
        draw_landscape(root, self)
    }
}

/// Writes `landscape.png` and `landscape.svg`.
pub fn landscape(dir: &Path, l: &Landscape) -> PlotResult {
    both(dir, "landscape", (860, 760), l)
}

/// The parts of a polyline inside the box `x.0..x.1` by `y.0..y.1`: each segment clipped by
/// Liang and Barsky's method, consecutive visible pieces joined into runs (non-finite points
/// break the line).
pub fn clip_polyline(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for w in points.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        if !(x1.is_finite() && y1.is_finite() && x2.is_finite() && y2.is_finite()) {
            open = false;
            continue;
        }
        let (dx, dy) = (x2 - x1, y2 - y1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (p, q) in [(-dx, x1 - x.0), (dx, x.1 - x1), (-dy, y1 - y.0), (dy, y.1 - y1)] {
            if p == 0.0 {
                if q < 0.0 {
                    visible = false;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if !visible || t0 > t1 {
            open = false;
            continue;
        }
        let a = (x1 + t0 * dx, y1 + t0 * dy);
        let b = (x1 + t1 * dx, y1 + t1 * dy);
        match runs.last_mut() {
            Some(run) if open && t0 == 0.0 => run.push(b),
            _ => runs.push(vec![a, b]),
        }
        open = t1 == 1.0;
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::clip_polyline;

    #[test]
    fn paths_are_cut_at_the_border_and_resume_inside() {
        let unit = ((0.0, 1.0), (0.0, 1.0));
        // Crossing the box left to right: the inside part only.
        assert_eq!(
            clip_polyline(&[(-1.0, 0.5), (2.0, 0.5)], unit.0, unit.1),
            vec![vec![(0.0, 0.5), (1.0, 0.5)]]
        );
        // In, out through the top, back in: two runs.
        let path = [(0.5, 0.5), (0.5, 1.5), (0.25, 1.5), (0.25, 0.25), (0.75, 0.25)];
        assert_eq!(
            clip_polyline(&path, unit.0, unit.1),
            vec![
                vec![(0.5, 0.5), (0.5, 1.0)],
                vec![(0.25, 1.0), (0.25, 0.25), (0.75, 0.25)]
            ]
        );
        // Entirely outside, and non-finite points: nothing.
        assert!(clip_polyline(&[(2.0, 2.0), (3.0, 5.0), (f64::NAN, 0.5)], unit.0, unit.1).is_empty());
    }
}
