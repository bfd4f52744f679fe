//! A minimal RGB raster with clipping, thick lines, markers and bitmap text.

use std::path::Path;

use super::font::{self, ADVANCE, GLYPH_W};
use super::{PlotError, Rgb};

/// Axis-aligned clip rectangle, `x0..x1` × `y0..y1` (exclusive ends).
#[derive(Clone, Copy, Debug)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

/// An RGB8 image, row-major, origin at the top-left.
pub struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    clip: Option<Rect>,
}

impl Canvas {
    /// A canvas of the given size filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb) -> Self {
        let n = width as usize * height as usize;
        let mut pixels = Vec::with_capacity(n * 3);
        for _ in 0..n {
            pixels.extend_from_slice(&background);
        }
        Canvas {
            width,
            height,
            pixels,
            clip: None,
        }
    }

    /// Restricts subsequent drawing to `clip` (or removes the restriction).
    pub fn set_clip(&mut self, clip: Option<Rect>) {
        self.clip = clip;
    }

    /// The colour at `(x, y)`, or `None` outside the image.
    #[cfg(test)]
    pub fn get(&self, x: u32, y: u32) -> Option<Rgb> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some([self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]])
    }

    /// Sets one pixel; silently ignores pixels outside the image or clip.
    pub fn put(&mut self, x: i32, y: i32, c: Rgb) {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 {
            return;
        }
        if self
            .clip
            .is_some_and(|r| x < r.x0 || x >= r.x1 || y < r.y0 || y >= r.y1)
        {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.pixels[i..i + 3].copy_from_slice(&c);
    }

    /// Fills the rectangle with top-left `(x, y)` and size `w`×`h`.
    pub fn fill_rect(&mut self, x: i32, y: i32, w: u32, h: u32, c: Rgb) {
        for yy in y..y + h as i32 {
            for xx in x..x + w as i32 {
                self.put(xx, yy, c);
            }
        }
    }

    /// Draws a 1 px rectangle outline.
    pub fn stroke_rect(&mut self, x: i32, y: i32, w: u32, h: u32, c: Rgb) {
        if w == 0 || h == 0 {
            return;
        }
        self.fill_rect(x, y, w, 1, c);
        self.fill_rect(x, y + h as i32 - 1, w, 1, c);
        self.fill_rect(x, y, 1, h, c);
        self.fill_rect(x + w as i32 - 1, y, 1, h, c);
    }

    /// Draws a line of `thickness` px (square brush) with Bresenham stepping.
    pub fn line(&mut self, from: (i32, i32), to: (i32, i32), thickness: u32, c: Rgb) {
        let (mut x, mut y) = from;
        let (dx, dy) = ((to.0 - x).abs(), -(to.1 - y).abs());
        let (sx, sy) = (if x < to.0 { 1 } else { -1 }, if y < to.1 { 1 } else { -1 });
        let off = (thickness as i32 - 1) / 2;
        let mut err = dx + dy;
        loop {
            self.fill_rect(x - off, y - off, thickness.max(1), thickness.max(1), c);
            if (x, y) == to {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Draws a filled square marker of side `size` centred on `(x, y)`.
    pub fn marker(&mut self, x: i32, y: i32, size: u32, c: Rgb) {
        let h = size as i32 / 2;
        self.fill_rect(x - h, y - h, size, size, c);
    }

    /// Draws `text` with its top-left corner at `(x, y)`.
    pub fn text(&mut self, x: i32, y: i32, text: &str, scale: u32, c: Rgb) {
        self.glyphs(text, scale, c, |gx, gy| (x + gx, y + gy));
    }

    /// Draws `text` rotated 90° counter-clockwise (reading bottom-to-top);
    /// `(x, y)` is the bottom-left corner of the rotated text block.
    pub fn text_vertical(&mut self, x: i32, y: i32, text: &str, scale: u32, c: Rgb) {
        self.glyphs(text, scale, c, |gx, gy| (x + gy, y - 1 - gx));
    }

    /// Draws `text` horizontally centred on `cx`, top at `y`.
    pub fn text_centered(&mut self, cx: i32, y: i32, text: &str, scale: u32, c: Rgb) {
        let w = font::text_width(text, scale) as i32;
        self.text(cx - w / 2, y, text, scale, c);
    }

    /// Draws `text` right-aligned so that it ends at `right`, top at `y`.
    pub fn text_right(&mut self, right: i32, y: i32, text: &str, scale: u32, c: Rgb) {
        let w = font::text_width(text, scale) as i32;
        self.text(right - w, y, text, scale, c);
    }

    /// Renders glyph pixels, mapping unrotated text-space pixel offsets to
    /// canvas coordinates with `map`.
    fn glyphs(&mut self, text: &str, scale: u32, c: Rgb, map: impl Fn(i32, i32) -> (i32, i32)) {
        let s = scale.max(1) as i32;
        for (i, ch) in text.chars().enumerate() {
            let base_x = i as i32 * (ADVANCE as i32) * s;
            for (row, bits) in font::glyph(ch).iter().enumerate() {
                for col in 0..GLYPH_W as i32 {
                    if bits & (1 << (GLYPH_W as i32 - 1 - col)) == 0 {
                        continue;
                    }
                    for dy in 0..s {
                        for dx in 0..s {
                            let (px, py) = map(base_x + col * s + dx, row as i32 * s + dy);
                            self.put(px, py, c);
                        }
                    }
                }
            }
        }
    }

    /// Encodes the canvas as an RGB8 PNG, writing `<path>.tmp` first and then
    /// renaming it over `path`.
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let result = self.write_png(&tmp).and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|source| PlotError::Io {
                path: path.to_path_buf(),
                source,
            })
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn write_png(&self, tmp: &Path) -> Result<(), PlotError> {
        let io_err = |source| PlotError::Io {
            path: tmp.to_path_buf(),
            source,
        };
        let enc_err = |source| PlotError::Encode {
            path: tmp.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(tmp).map_err(io_err)?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(enc_err)?;
        writer.write_image_data(&self.pixels).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_and_bounds_are_respected() {
        let mut c = Canvas::new(10, 10, [255; 3]);
        c.put(-1, 3, [0; 3]);
        c.put(10, 3, [0; 3]);
        c.set_clip(Some(Rect {
            x0: 2,
            y0: 2,
            x1: 5,
            y1: 5,
        }));
        c.line((0, 0), (9, 9), 2, [0, 0, 0]);
        assert_eq!(c.get(1, 1), Some([255; 3]));
        assert_eq!(c.get(3, 3), Some([0; 3]));
        assert_eq!(c.get(6, 6), Some([255; 3]));
        assert_eq!(c.get(10, 0), None);
    }

    #[test]
    fn text_draws_ink_inside_its_box() {
        let mut c = Canvas::new(40, 20, [255; 3]);
        c.text(1, 1, "H", 2, [0; 3]);
        // 'H' has ink at its top-left pixel, scaled 2x.
        assert_eq!(c.get(1, 1), Some([0; 3]));
        assert_eq!(c.get(2, 2), Some([0; 3]));
        assert_eq!(c.get(3, 1), Some([255; 3]));
    }
}
