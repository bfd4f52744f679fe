//! Dependency-light PNG charts: multi-panel line charts and heatmaps.
//!
//! Everything is rasterised in-process onto an RGB buffer and encoded with the
//! `png` crate; text uses a built-in 5x8 bitmap font (no system fonts), drawn
//! at integer scale factors. Files are written atomically (`<path>.tmp`, then
//! rename).
//!
//! * [`line_chart`] — side-by-side panels (e.g. loss and accuracy) with nice
//!   ticks, grid, axis labels, title and legend.
//! * [`heatmap`] — a viridis-like colour-mapped grid with row/column labels
//!   and a colour bar.

mod canvas;
mod colormap;
mod font;
mod heatmap;
mod heatmap_layout;
mod legend;
mod lines;
mod panel;
mod ticks;

use std::path::PathBuf;

pub use heatmap::heatmap;
pub use lines::{Panel, Series, line_chart};

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Errors produced while rendering or writing a plot.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Creating, writing or renaming the output file failed.
    #[error("plot I/O error on {}: {source}", path.display())]
    Io {
        /// The file being written (the temporary file or the final path).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// PNG encoding failed.
    #[error("PNG encoding failed for {}: {source}", path.display())]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// The underlying encoder error.
        #[source]
        source: png::EncodingError,
    },
    /// The input data cannot be plotted (ragged rows, mismatched labels,
    /// no panels, an image too small for its decorations, ...).
    #[error("invalid plot input: {0}")]
    InvalidInput(String),
}

#[cfg(test)]
pub(crate) mod test_util {
    use std::path::{Path, PathBuf};

    /// A fresh, empty scratch directory unique to this process and `name`.
    pub fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("plot-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    /// Decodes an RGB8 PNG into `(width, height, pixels)`.
    pub fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
        let file = std::fs::File::open(path).expect("open png");
        let mut reader = png::Decoder::new(file).read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// The pixel at `(x, y)` of a decoded RGB8 image of width `w`.
    pub fn pixel(px: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * w as usize + x as usize) * 3;
        [px[i], px[i + 1], px[i + 2]]
    }

    /// Number of pixels exactly equal to `c`.
    pub fn count(px: &[u8], c: [u8; 3]) -> usize {
        px.chunks_exact(3).filter(|p| *p == c).count()
    }
}
