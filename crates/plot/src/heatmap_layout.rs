//! Heatmap geometry: cell sizes, label thinning and overall image size.

use super::font::{text_height, text_width};
use super::ticks::format_value;

pub(super) const WHITE: [u8; 3] = [255, 255, 255];
pub(super) const INK: [u8; 3] = [40, 40, 40];
pub(super) const NAN_CELL: [u8; 3] = [200, 200, 200];
pub(super) const PAD: i32 = 10;
/// Label scale and title scale.
pub(super) const S: u32 = 2;
pub(super) const TS: u32 = 2;
/// Target grid size in pixels (cells are 2..=48 px).
const GRID_W: u32 = 1024;
const GRID_H: u32 = 480;
pub(super) const BAR_W: i32 = 18;

/// Geometry of a rendered heatmap.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub width: u32,
    pub height: u32,
    /// Top-left corner of the grid.
    pub x0: i32,
    pub y0: i32,
    pub cell_w: u32,
    pub cell_h: u32,
    /// Label every `row_step`-th row / `col_step`-th column.
    pub row_step: usize,
    pub col_step: usize,
    /// Column labels are drawn rotated (reading upwards).
    pub col_vertical: bool,
    pub bar_x: i32,
    pub bar_h: i32,
}

/// Smallest "round" stride ≥ `k` (1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, ...).
fn stride(k: u32) -> usize {
    const STEPS: [u32; 12] = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64];
    let mut mag = 1;
    loop {
        if let Some(s) = STEPS.iter().map(|s| s * mag).find(|&s| s >= k) {
            return s as usize;
        }
        mag *= 100;
    }
}

fn widest(labels: &[String], scale: u32) -> u32 {
    labels.iter().map(|l| text_width(l, scale)).max().unwrap_or(0)
}

/// Computes the geometry for the given labels and value range.
pub(super) fn layout(title: &str, rows: &[String], cols: &[String], value_label: &str, lo: f64, hi: f64) -> Layout {
    let th = text_height(S);
    let (r, c) = (rows.len() as u32, cols.len() as u32);
    let col_w = widest(cols, S) + 8;
    let mut cell_w = (GRID_W / c).clamp(2, 48);
    if col_w > cell_w && col_w * c <= GRID_W {
        cell_w = col_w.min(160);
    }
    let cell_h = (GRID_H / r).clamp(2, 48);
    let col_vertical = col_w > cell_w && cell_w >= th + 4;
    let col_step = if col_w <= cell_w || col_vertical {
        1
    } else {
        stride(col_w.div_ceil(cell_w))
    };
    let row_step = stride((th + 4).div_ceil(cell_h));
    let col_h = if col_vertical { widest(cols, S) } else { th } as i32;
    let x0 = PAD + widest(rows, S) as i32 + 8;
    let y0 = PAD + text_height(TS) as i32 + 2 * PAD + col_h + 6;
    let (gw, gh) = ((c * cell_w) as i32, (r * cell_h) as i32);
    let bar_x = x0 + gw + 2 * PAD;
    let bar_h = gh.max(6 * th as i32);
    let bar_labels = [format_value(lo), format_value(hi), format_value(mid(lo, hi))];
    let bar_label_w = bar_labels.iter().map(|l| text_width(l, S)).max().unwrap_or(0) as i32;
    let vl = if value_label.is_empty() { 0 } else { PAD + th as i32 };
    let width = (bar_x + BAR_W + 6 + bar_label_w + vl + PAD).max(2 * PAD + text_width(title, TS) as i32);
    Layout {
        width: width as u32,
        height: (y0 + bar_h.max(text_width(value_label, S) as i32) + PAD) as u32,
        x0,
        y0,
        cell_w,
        cell_h,
        row_step,
        col_step,
        col_vertical,
        bar_x,
        bar_h,
    }
}

/// Midpoint of `lo..hi`, with rounding noise near zero snapped to 0.
pub(super) fn mid(lo: f64, hi: f64) -> f64 {
    let m = (lo + hi) / 2.0;
    if m.abs() < (hi - lo).abs() * 1e-4 { 0.0 } else { m }
}
