//! Colour-mapped grids with row/column labels and a colour bar.

use std::path::Path;

use super::PlotError;
use super::canvas::Canvas;
use super::colormap::{luminance, viridis};
use super::font::{text_height, text_width};
use super::heatmap_layout::{BAR_W, INK, NAN_CELL, PAD, S, TS, WHITE, layout, mid};
use super::ticks::{format_value, sanitize_range};

/// Labels given by the caller, or `0..n` when `given` is empty.
fn labels_or_indices(given: &[String], n: usize, what: &str) -> Result<Vec<String>, PlotError> {
    match given.len() {
        0 => Ok((0..n).map(|i| i.to_string()).collect()),
        len if len == n => Ok(given.to_vec()),
        len => Err(PlotError::InvalidInput(format!("{len} {what} labels for {n} {what}s"))),
    }
}

/// Renders `values` (`[rows][cols]`) as a colour-mapped grid PNG at `path`.
///
/// Row labels go on the left, column labels on top (rotated or thinned out
/// to every k-th label when columns are narrow), and a colour bar with the
/// min/mid/max values and `value_label` on the right. Cells are 2..=48 px
/// so up to ~512 columns stay legible; small grids also print each value.
/// Empty `row_labels`/`col_labels` mean "use indices". Non-finite cells are
/// drawn grey. Errors on empty or ragged `values` or mismatched labels.
pub fn heatmap(
    path: &Path,
    title: &str,
    row_labels: &[String],
    col_labels: &[String],
    values: &[Vec<f64>],
    value_label: &str,
) -> Result<(), PlotError> {
    let cols = values.first().map_or(0, Vec::len);
    if values.is_empty() || cols == 0 {
        return Err(PlotError::InvalidInput(
            "heatmap needs at least one row and one column".into(),
        ));
    }
    if let Some(i) = values.iter().position(|r| r.len() != cols) {
        return Err(PlotError::InvalidInput(format!(
            "heatmap row {i} has {} values, row 0 has {cols}",
            values[i].len()
        )));
    }
    if values.len() > 4096 || cols > 8192 {
        return Err(PlotError::InvalidInput(format!(
            "heatmap {}x{cols} is too large",
            values.len()
        )));
    }
    let rows = labels_or_indices(row_labels, values.len(), "row")?;
    let cols_l = labels_or_indices(col_labels, cols, "column")?;
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo.is_finite() {
        sanitize_range(lo, hi)
    } else {
        (0.0, 1.0)
    };
    let l = layout(title, &rows, &cols_l, value_label, lo, hi);
    let mut c = Canvas::new(l.width, l.height, WHITE);
    let th = text_height(S) as i32;
    let (cw, ch) = (l.cell_w as i32, l.cell_h as i32);
    let show_values = l.cell_h >= 12
        && values
            .iter()
            .flatten()
            .all(|v| text_width(&format_value(*v), 1) + 4 <= l.cell_w);

    c.text(PAD, PAD, title, TS, INK);
    for (i, row) in values.iter().enumerate() {
        let y = l.y0 + i as i32 * ch;
        for (j, &v) in row.iter().enumerate() {
            let x = l.x0 + j as i32 * cw;
            let color = if v.is_finite() {
                viridis((v - lo) / (hi - lo))
            } else {
                NAN_CELL
            };
            c.fill_rect(x, y, l.cell_w, l.cell_h, color);
            if show_values {
                let ink = if luminance(color) > 0.5 { [0; 3] } else { WHITE };
                c.text_centered(x + cw / 2, y + (ch - 8) / 2, &format_value(v), 1, ink);
            }
        }
        if i % l.row_step == 0 {
            // Tick marks only when labels are thinned out.
            let gap = if l.row_step > 1 { 10 } else { 6 };
            c.text_right(l.x0 - gap, y + ch / 2 - th / 2, &rows[i], S, INK);
            if l.row_step > 1 {
                c.fill_rect(l.x0 - 5, y + ch / 2, 4, 1, INK);
            }
        }
    }
    for (j, label) in cols_l.iter().enumerate().step_by(l.col_step) {
        let cx = l.x0 + j as i32 * cw + cw / 2;
        if l.col_step > 1 {
            c.fill_rect(cx, l.y0 - 5, 1, 4, INK);
        }
        if l.col_vertical {
            c.text_vertical(cx - th / 2, l.y0 - 7, label, S, INK);
        } else {
            c.text_centered(cx, l.y0 - 7 - th, label, S, INK);
        }
    }

    // Colour bar with min / mid / max labels and the value label.
    for y in 0..l.bar_h {
        let t = 1.0 - y as f64 / (l.bar_h - 1).max(1) as f64;
        c.fill_rect(l.bar_x, l.y0 + y, BAR_W as u32, 1, viridis(t));
    }
    c.stroke_rect(l.bar_x - 1, l.y0 - 1, BAR_W as u32 + 2, l.bar_h as u32 + 2, INK);
    let lx = l.bar_x + BAR_W + 6;
    c.text(lx, l.y0, &format_value(hi), S, INK);
    c.text(lx, l.y0 + l.bar_h / 2 - th / 2, &format_value(mid(lo, hi)), S, INK);
    c.text(lx, l.y0 + l.bar_h - th, &format_value(lo), S, INK);
    let lw = [lo, hi, mid(lo, hi)]
        .iter()
        .map(|v| text_width(&format_value(*v), S))
        .max()
        .unwrap_or(0);
    let vx = lx + lw as i32 + PAD;
    let vy = l.y0 + l.bar_h / 2 + text_width(value_label, S) as i32 / 2;
    c.text_vertical(vx, vy, value_label, S, INK);
    c.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::super::colormap::VIRIDIS;
    use super::super::test_util::{decode, pixel, scratch_dir};
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn small_heatmap_cells_have_colormap_extremes() {
        let dir = scratch_dir("heatmap");
        let path = dir.join("h.png");
        let values = vec![
            vec![0.0, 0.2, 0.4, 0.5],
            vec![0.1, 0.3, 1.0, 0.6],
            vec![0.7, 0.8, 0.9, f64::NAN],
        ];
        let (rows, cols) = (names("class ", 3), names("u", 4));
        heatmap(&path, "Firing", &rows, &cols, &values, "rate").expect("render");
        let l = layout("Firing", &rows, &cols, "rate", 0.0, 1.0);
        let (w, h, px) = decode(&path);
        assert_eq!((w, h), (l.width, l.height));
        assert_eq!(pixel(&px, w, 0, 0), WHITE);
        let cell = |r: u32, c: u32| pixel(&px, w, l.x0 as u32 + c * l.cell_w + 1, l.y0 as u32 + r * l.cell_h + 1);
        assert_eq!(cell(1, 2), VIRIDIS[4], "max cell");
        assert_eq!(cell(0, 0), VIRIDIS[0], "min cell");
        assert_eq!(cell(0, 3), VIRIDIS[2], "mid cell");
        assert_eq!(cell(2, 3), NAN_CELL, "nan cell");
    }

    #[test]
    fn wide_heatmap_has_cells_at_least_two_pixels_wide() {
        let dir = scratch_dir("heatmap-wide");
        let path = dir.join("wide.png");
        let values: Vec<Vec<f64>> = (0..10)
            .map(|r| (0..256).map(|c| ((r * 31 + c) % 17) as f64).collect())
            .collect();
        heatmap(
            &path,
            "Units per class",
            &names("", 10),
            &[],
            &values,
            "mean activation",
        )
        .expect("render");
        let (w, h, _) = decode(&path);
        let l = layout(
            "Units per class",
            &names("", 10),
            &names("", 256),
            "mean activation",
            0.0,
            16.0,
        );
        assert!(l.cell_w >= 2 && l.col_step > 1 && !l.col_vertical);
        assert!(w >= 256 * 2 && (w, h) == (l.width, l.height));
    }

    #[test]
    fn invalid_heatmaps_are_rejected() {
        let dir = scratch_dir("heatmap-invalid");
        let p = dir.join("bad.png");
        let ragged = vec![vec![1.0, 2.0], vec![3.0]];
        assert!(matches!(
            heatmap(&p, "t", &[], &[], &ragged, ""),
            Err(PlotError::InvalidInput(_))
        ));
        assert!(matches!(
            heatmap(&p, "t", &[], &[], &[], ""),
            Err(PlotError::InvalidInput(_))
        ));
        let ok = vec![vec![1.0, 2.0]];
        assert!(matches!(
            heatmap(&p, "t", &names("r", 2), &[], &ok, ""),
            Err(PlotError::InvalidInput(_))
        ));
        // Constant and all-NaN data still render.
        heatmap(&p, "t", &[], &[], &[vec![0.5; 3]], "").expect("constant");
        heatmap(&p, "t", &[], &[], &[vec![f64::NAN; 3]], "").expect("all nan");
        assert!(!p.with_extension("png.tmp").exists());
    }
}
