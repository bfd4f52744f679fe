//! Multi-panel line charts.

use std::path::Path;

use super::PlotError;
use super::canvas::Canvas;
use super::panel::{WHITE, draw_panel};

/// One named line of `(x, y)` points. Non-finite points are skipped (and
/// break the line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// One chart panel: a titled pair of axes holding several series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// Renders `panels` side by side into one PNG of size
/// `(width_per_panel * panels.len()) × height` at `path`.
///
/// Each panel gets a title, axes with nice numeric ticks and grid lines, axis
/// labels, 2 px lines with small square markers (omitted when points are too
/// dense) and a legend placed in the emptiest corner. Empty or non-finite
/// data is tolerated; constant data gets a padded range.
pub fn line_chart(path: &Path, panels: &[Panel], width_per_panel: u32, height: u32) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(PlotError::InvalidInput("line_chart needs at least one panel".into()));
    }
    if width_per_panel < 160 || height < 120 {
        return Err(PlotError::InvalidInput(format!(
            "panel size {width_per_panel}x{height} is too small (min 160x120)"
        )));
    }
    let width = width_per_panel
        .checked_mul(panels.len() as u32)
        .filter(|w| *w <= 32_768);
    let width = width.ok_or_else(|| PlotError::InvalidInput("chart is too wide".into()))?;
    let mut canvas = Canvas::new(width, height, WHITE);
    for (i, panel) in panels.iter().enumerate() {
        draw_panel(
            &mut canvas,
            panel,
            i as i32 * width_per_panel as i32,
            width_per_panel,
            height,
        )?;
    }
    canvas.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::super::panel::{INK, PALETTE};
    use super::super::test_util::{count, decode, pixel, scratch_dir};
    use super::*;

    fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points,
        }
    }

    #[test]
    fn renders_two_panels_with_series_colours() {
        let dir = scratch_dir("lines");
        let path = dir.join("chart.png");
        let loss = (1..=10).map(|e| (e as f64, 2.3 / e as f64)).collect();
        let val = (1..=10).map(|e| (e as f64, 2.5 / e as f64 + 0.1)).collect();
        let acc = (1..=10).map(|e| (e as f64, 0.9 + 0.008 * e as f64)).collect();
        let panels = [
            Panel {
                title: "Loss".into(),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                series: vec![series("train", loss), series("valid", val)],
            },
            Panel {
                title: "Accuracy".into(),
                x_label: "epoch".into(),
                y_label: "acc".into(),
                series: vec![series("valid", acc)],
            },
        ];
        line_chart(&path, &panels, 400, 300).expect("render");
        let (w, h, px) = decode(&path);
        assert_eq!((w, h), (800, 300));
        assert_eq!(pixel(&px, w, 0, 0), WHITE);
        assert_eq!(pixel(&px, w, 799, 299), WHITE);
        assert!(count(&px, PALETTE[0]) > 200, "first series colour missing");
        assert!(count(&px, PALETTE[1]) > 200, "second series colour missing");
        assert!(count(&px, INK) > 100, "no text drawn");
        assert!(!dir.join("chart.png.tmp").exists());
    }

    #[test]
    fn degenerate_series_do_not_panic() {
        let dir = scratch_dir("lines-degenerate");
        let panels = [
            Panel {
                title: "one".into(),
                series: vec![series("p", vec![(3.0, 0.5)])],
                ..Default::default()
            },
            Panel {
                title: "const".into(),
                series: vec![series("c", vec![(0.0, 0.95), (1.0, 0.95), (2.0, 0.95)])],
                ..Default::default()
            },
            Panel {
                title: "nan".into(),
                series: vec![series(
                    "n",
                    vec![(0.0, f64::NAN), (1.0, 1.0), (f64::INFINITY, 2.0), (3.0, 0.0)],
                )],
                ..Default::default()
            },
            Panel {
                title: "empty".into(),
                series: vec![series("e", vec![]), series("all-nan", vec![(f64::NAN, f64::NAN)])],
                ..Default::default()
            },
            Panel::default(),
        ];
        let path = dir.join("degenerate.png");
        line_chart(&path, &panels, 200, 160).expect("render");
        let (w, h, px) = decode(&path);
        assert_eq!((w, h), (1000, 160));
        assert!(count(&px, PALETTE[0]) > 0);
    }

    #[test]
    fn invalid_input_is_reported() {
        let dir = scratch_dir("lines-invalid");
        let err = line_chart(&dir.join("x.png"), &[], 400, 300);
        assert!(matches!(err, Err(PlotError::InvalidInput(_))));
        let err = line_chart(&dir.join("x.png"), &[Panel::default()], 10, 10);
        assert!(matches!(err, Err(PlotError::InvalidInput(_))));
        let err = line_chart(&dir.join("missing-dir").join("x.png"), &[Panel::default()], 300, 200);
        assert!(matches!(err, Err(PlotError::Io { .. })));
    }
}
