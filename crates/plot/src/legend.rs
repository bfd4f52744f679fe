//! Line-chart legends.

use super::canvas::{Canvas, Rect};
use super::font::{LINE_H, text_height, text_width};
use super::lines::Panel;
use super::panel::{FRAME, INK, PAD, PALETTE, WHITE};

/// Draws the legend box in whichever inner corner of `area` covers the
/// fewest data points; skipped when there are no series or it does not fit.
pub(super) fn draw_legend(c: &mut Canvas, panel: &Panel, area: Rect, s: u32, pixels: &[(i32, i32)]) {
    let n = panel.series.len() as i32;
    if n == 0 {
        return;
    }
    let line_h = (LINE_H * s) as i32 + 2 * s as i32;
    let swatch = 8 * s as i32;
    let names_w = panel.series.iter().map(|se| text_width(&se.name, s)).max().unwrap_or(0) as i32;
    let bw = PAD + swatch + 2 * s as i32 + 4 + names_w + PAD;
    let bh = 2 * PAD + (n - 1) * line_h + text_height(s) as i32;
    let inset = 6;
    if bw + 2 * inset > area.x1 - area.x0 || bh + 2 * inset > area.y1 - area.y0 {
        return;
    }
    let xs = [area.x1 - inset - bw, area.x0 + inset];
    let ys = [area.y0 + inset, area.y1 - inset - bh];
    let corners = [(xs[0], ys[0]), (xs[1], ys[0]), (xs[0], ys[1]), (xs[1], ys[1])];
    let covered = |&(x, y): &(i32, i32)| {
        pixels
            .iter()
            .filter(|p| p.0 >= x - 4 && p.0 < x + bw + 4 && p.1 >= y - 4 && p.1 < y + bh + 4)
            .count()
    };
    let (bx, by) = corners.iter().copied().min_by_key(covered).unwrap_or(corners[0]);
    c.fill_rect(bx, by, bw as u32, bh as u32, WHITE);
    c.stroke_rect(bx, by, bw as u32, bh as u32, FRAME);
    for (i, series) in panel.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let ty = by + PAD + i as i32 * line_h;
        let mid = ty + (7 * s as i32) / 2;
        c.fill_rect(bx + PAD, mid - 1, swatch as u32, 3, color);
        c.marker(bx + PAD + swatch / 2, mid, 3 + 2 * s, color);
        c.text(bx + PAD + swatch + 2 * s as i32 + 4, ty, &series.name, s, INK);
    }
}
