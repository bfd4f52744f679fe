//! Drawing of one line-chart panel: axes, ticks, grid, labels and series.

use super::canvas::{Canvas, Rect};
use super::font::{text_height, text_width};
use super::legend::draw_legend;
use super::lines::Panel;
use super::ticks::{Ticks, format_tick, nice_ticks};
use super::{PlotError, Rgb};

/// Series colours (Tableau 10), cycled when a panel has more series.
pub const PALETTE: [Rgb; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

pub(super) const WHITE: Rgb = [255, 255, 255];
pub(super) const INK: Rgb = [40, 40, 40];
pub(super) const FRAME: Rgb = [110, 110, 110];
pub(super) const GRID: Rgb = [228, 228, 228];
pub(super) const PAD: i32 = 8;
pub(super) const TICK: i32 = 5;

/// Finite points of a panel, flattened.
fn finite_points(panel: &Panel) -> impl Iterator<Item = (f64, f64)> + '_ {
    let pts = panel.series.iter().flat_map(|s| s.points.iter().copied());
    pts.filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Tick labels for `t`.
fn tick_labels(t: &Ticks) -> Vec<String> {
    let max_abs = t.values.iter().fold(0f64, |m, v| m.max(v.abs()));
    t.values.iter().map(|&v| format_tick(v, t.step, max_abs)).collect()
}

/// Ticks for `min..=max` with at most `target` intervals, reduced until the
/// labels (of width `fits(labels, ticks)`) no longer collide; integer data
/// never gets fractional ticks.
fn axis_ticks(min: f64, max: f64, integer: bool, target: usize, fits: impl Fn(&[String], &Ticks) -> bool) -> Ticks {
    let mut target = target.max(2);
    loop {
        let mut t = nice_ticks(min, max, target);
        if integer && t.step < 1.0 {
            let (lo, hi) = (t.lo.floor(), t.hi.ceil());
            t = Ticks {
                lo,
                hi,
                step: 1.0,
                values: (0..=(hi - lo) as i64).map(|k| lo + k as f64).collect(),
            };
        }
        if target == 2 || fits(&tick_labels(&t), &t) {
            return t;
        }
        target -= 1;
    }
}

/// Draws `panel` into the `w`×`h` column of `c` starting at x = `ox`.
pub(super) fn draw_panel(c: &mut Canvas, panel: &Panel, ox: i32, w: u32, h: u32) -> Result<(), PlotError> {
    let s = if w.min(h) >= 360 { 2 } else { 1 };
    let ts = if w >= 240 { 2 } else { 1 };
    let th = text_height(s) as i32;
    let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    let mut integer_x = true;
    for (x, y) in finite_points(panel) {
        (xmin, xmax, ymin, ymax) = (xmin.min(x), xmax.max(x), ymin.min(y), ymax.max(y));
        integer_x &= x.fract() == 0.0;
    }
    let has_data = xmin.is_finite();

    // Vertical layout first: it fixes the plot height used for y ticks.
    let top = PAD + text_height(ts) as i32 + PAD;
    let bottom = TICK + 4 + th + PAD + if panel.x_label.is_empty() { 0 } else { th + PAD };
    let plot_h = h as i32 - top - bottom;
    let y_target = (plot_h / (th * 3)).clamp(2, 5) as usize;
    let yt = axis_ticks(ymin, ymax, false, y_target, |_, _| true);
    let y_labels = tick_labels(&yt);
    let ylw = y_labels.iter().map(|l| text_width(l, s)).max().unwrap_or(0) as i32;
    let ylab_w = if panel.y_label.is_empty() { 0 } else { th + PAD };
    let left = PAD + ylab_w + ylw + 4 + TICK;
    let right = PAD + 3 * s as i32 * 6;
    let plot_w = w as i32 - left - right;
    if plot_w < 40 || plot_h < 40 {
        return Err(PlotError::InvalidInput(format!(
            "panel {:?} leaves no room to plot",
            panel.title
        )));
    }
    let area = Rect {
        x0: ox + left,
        y0: top,
        x1: ox + left + plot_w,
        y1: top + plot_h,
    };
    let x_target = (plot_w / (th * 4)).clamp(2, 5) as usize;
    let xt = axis_ticks(xmin, xmax, integer_x, x_target, |labels, t| {
        let widest = labels.iter().map(|l| text_width(l, s)).max().unwrap_or(0) as i32;
        (widest + 3 * th) * (t.values.len() as i32 - 1) <= plot_w
    });
    let map_x = |x: f64| area.x0 + ((x - xt.lo) / (xt.hi - xt.lo) * (plot_w - 1) as f64).round() as i32;
    let map_y = |y: f64| area.y1 - 1 - ((y - yt.lo) / (yt.hi - yt.lo) * (plot_h - 1) as f64).round() as i32;

    // Grid, frame, ticks and tick labels.
    for (&v, label) in yt.values.iter().zip(&y_labels) {
        let py = map_y(v);
        c.fill_rect(area.x0, py, plot_w as u32, 1, GRID);
        c.fill_rect(area.x0 - TICK, py, TICK as u32, 1, FRAME);
        c.text_right(area.x0 - TICK - 4, py - th / 2, label, s, INK);
    }
    for (&v, label) in xt.values.iter().zip(tick_labels(&xt).iter()) {
        let px = map_x(v);
        c.fill_rect(px, area.y0, 1, plot_h as u32, GRID);
        c.fill_rect(px, area.y1, 1, TICK as u32, FRAME);
        c.text_centered(px, area.y1 + TICK + 4, label, s, INK);
    }
    c.stroke_rect(area.x0 - 1, area.y0 - 1, plot_w as u32 + 2, plot_h as u32 + 2, FRAME);

    // Title and axis labels.
    let cx = area.x0 + plot_w / 2;
    c.text_centered(cx, PAD, &panel.title, ts, INK);
    c.text_centered(cx, h as i32 - PAD - th, &panel.x_label, s, INK);
    let yl_len = text_width(&panel.y_label, s) as i32;
    c.text_vertical(ox + PAD, area.y0 + plot_h / 2 + yl_len / 2, &panel.y_label, s, INK);

    // Series, clipped to the plot area (plus room for edge markers).
    let marker = if s >= 2 { 7 } else { 5 };
    c.set_clip(Some(Rect {
        x0: area.x0 - 4,
        y0: area.y0 - 4,
        x1: area.x1 + 4,
        y1: area.y1 + 4,
    }));
    let mut pixels = Vec::new();
    for (i, series) in panel.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut prev = None;
        let finite = series
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .count();
        let markers = finite as i32 * marker as i32 * 2 <= plot_w;
        for &(x, y) in &series.points {
            if !(x.is_finite() && y.is_finite()) {
                prev = None;
                continue;
            }
            let p = (map_x(x), map_y(y));
            if let Some(q) = prev {
                c.line(q, p, 2, color);
            } else if !markers {
                c.fill_rect(p.0, p.1, 2, 2, color);
            }
            if markers {
                c.marker(p.0, p.1, marker, color);
            }
            pixels.push(p);
            prev = Some(p);
        }
    }
    c.set_clip(None);
    if !has_data {
        c.text_centered(cx, area.y0 + plot_h / 2 - th / 2, "no data", s, FRAME);
    }
    draw_legend(c, panel, area, s, &pixels);
    Ok(())
}
