//! Image transforms on single `[rows, cols]` row-major `f32` images.

/// Rotates an image by `degrees` about its centre `((cols-1)/2, (rows-1)/2)` (pixel-centre
/// coordinates), with bilinear interpolation and zero fill outside the source image.
///
/// Direction: positive angles rotate **counter-clockwise as seen when the image is displayed
/// with row 0 at the top** — the convention of `torchvision.transforms.functional.rotate` and
/// PIL's `Image.rotate`. For a square image, +90° maps `src[r][c]` to `dst[rows-1-c][r]`,
/// i.e. `dst = flip_rows(transpose(src))` (NumPy's `np.rot90(src)`).
///
/// Each output pixel samples the source at its inverse-rotated position (so there are no holes).
/// Near the border, neighbours outside the image count as 0, so edges fade smoothly (like
/// torchvision's tensor `rotate`, i.e. `grid_sample` with zero padding; PIL instead replicates
/// the edge within half a pixel, so only border pixels differ from PIL).
/// `src.len()` must be `rows * cols`; otherwise an all-zero image of that size is returned.
pub fn rotate_image(src: &[f32], rows: usize, cols: usize, degrees: f32) -> Vec<f32> {
    let mut dst = vec![0.0f32; rows * cols];
    if src.len() != rows * cols {
        return dst;
    }
    let (sin, cos) = sin_cos_degrees(f64::from(degrees));
    let cx = (cols as f64 - 1.0) / 2.0;
    let cy = (rows as f64 - 1.0) / 2.0;
    for r in 0..rows {
        let dy = r as f64 - cy;
        for c in 0..cols {
            let dx = c as f64 - cx;
            // Inverse of the displayed-CCW rotation (y points down): rotate (dx, dy) by -θ.
            let sx = cx + dx * cos - dy * sin;
            let sy = cy + dx * sin + dy * cos;
            dst[r * cols + c] = bilinear(src, rows, cols, sy, sx);
        }
    }
    dst
}

/// `(sin, cos)` of an angle in degrees, exact for multiples of 90° so that quarter turns are
/// exact pixel permutations (plain `f64` gives cos(90°) ≈ 6e-17, which would blend neighbours).
fn sin_cos_degrees(degrees: f64) -> (f64, f64) {
    let reduced = degrees.rem_euclid(360.0);
    if reduced == 0.0 {
        (0.0, 1.0)
    } else if reduced == 90.0 {
        (1.0, 0.0)
    } else if reduced == 180.0 {
        (0.0, -1.0)
    } else if reduced == 270.0 {
        (-1.0, 0.0)
    } else {
        reduced.to_radians().sin_cos()
    }
}

/// Bilinear sample at fractional `(y, x)`; pixels outside the image contribute 0.
fn bilinear(src: &[f32], rows: usize, cols: usize, y: f64, x: f64) -> f32 {
    if !(y > -1.0 && x > -1.0 && y < rows as f64 && x < cols as f64) {
        return 0.0; // also rejects NaN
    }
    let (y0, x0) = (y.floor(), x.floor());
    let (fy, fx) = (y - y0, x - x0);
    let (y0, x0) = (y0 as isize, x0 as isize);
    let at = |r: isize, c: isize| -> f64 {
        if r < 0 || c < 0 || r as usize >= rows || c as usize >= cols {
            0.0
        } else {
            f64::from(src[r as usize * cols + c as usize])
        }
    };
    let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
    let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
    (top * (1.0 - fy) + bottom * fy) as f32
}

/// Applies one fixed pixel permutation: `dst[j] = src[perm[j]]` (the "permuted MNIST" task).
/// `perm` must be a permutation of `0..src.len()`; indices out of range read as 0.
pub fn permute_image(src: &[f32], perm: &[usize]) -> Vec<f32> {
    perm.iter().map(|&p| src.get(p).copied().unwrap_or(0.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4x4 image with distinct values 1..=16 (no symmetry, so any wrong mapping shows).
    fn ramp() -> Vec<f32> {
        (1..=16).map(|v| v as f32).collect()
    }

    #[test]
    fn zero_degrees_is_identity() {
        let img = ramp();
        assert_eq!(rotate_image(&img, 4, 4, 0.0), img);
        assert_eq!(rotate_image(&img, 4, 4, 360.0), img);
    }

    #[test]
    fn ninety_degrees_is_counter_clockwise_transpose_then_row_flip() {
        let img = ramp();
        let n = 4;
        // np.rot90: dst[r][c] = src[c][n-1-r]. The top row of the result is the old right column.
        let expected: Vec<f32> = (0..n)
            .flat_map(|r| (0..n).map(move |c| (r, c)))
            .map(|(r, c)| img[c * n + (n - 1 - r)])
            .collect();
        let got = rotate_image(&img, n, n, 90.0);
        assert_eq!(got, expected);
        assert_eq!(&got[0..4], &[4.0, 8.0, 12.0, 16.0]);
        // -90 (clockwise) is the other direction: the top row becomes the old left column reversed.
        assert_eq!(&rotate_image(&img, n, n, -90.0)[0..4], &[13.0, 9.0, 5.0, 1.0]);
    }

    #[test]
    fn four_quarter_turns_are_identity() {
        let img = ramp();
        let mut x = img.clone();
        for _ in 0..4 {
            x = rotate_image(&x, 4, 4, 90.0);
        }
        assert_eq!(x, img);
        assert_eq!(rotate_image(&rotate_image(&img, 4, 4, 180.0), 4, 4, 180.0), img);
    }

    #[test]
    fn forty_five_degrees_keeps_centre_of_constant_image() {
        let img = vec![0.7f32; 9 * 9];
        let out = rotate_image(&img, 9, 9, 45.0);
        assert!((out[4 * 9 + 4] - 0.7).abs() < 1e-6);
        // Interior pixels whose whole neighbourhood lies inside stay 0.7 as well.
        assert!((out[3 * 9 + 4] - 0.7).abs() < 1e-6);
        // The corners rotate in from outside the image and become 0.
        assert_eq!(out[0], 0.0);
    }

    #[test]
    fn forty_five_degrees_matches_hand_computed_bilinear() {
        // 3x3 image s[r][c] = 3r + c + 1, centre (1, 1), θ = 45°, s = sin θ = cos θ = √2/2.
        let img: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let out = rotate_image(&img, 3, 3, 45.0);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        // dst(0,1): offset (dx,dy) = (0,-1) -> source x = 1 + h, y = 1 - h: inside, and bilinear of
        // a linear function is exact: 3(1-h) + (1+h) + 1 = 5 - 2h = 5 - √2.
        assert!((out[1] - (5.0 - 2.0 * h)).abs() < 1e-5, "{}", out[1]);
        // dst(0,0): offset (-1,-1) -> source x = 1 - h + h = 1, y = 1 - h - h = 1 - √2 ≈ -0.414:
        // between row -1 (zero fill) and row 0 with weight 1 - 0.414 on row 0: 2 · (2 - √2).
        let expected = 2.0 * (2.0 - 2.0 * h);
        assert!((out[0] - expected).abs() < 1e-5, "{} vs {expected}", out[0]);
        // PIL's Image.rotate(45, BILINEAR) on this 'F' image gives the same 3.5857863 at (0,1).
        // The centre is fixed.
        assert!((out[4] - 5.0).abs() < 1e-6);
    }

    #[test]
    fn non_square_rotation_keeps_size_and_centre() {
        let img: Vec<f32> = (0..6).map(|v| v as f32).collect(); // 2 rows x 3 cols
        let out = rotate_image(&img, 2, 3, 180.0);
        assert_eq!(out, vec![5.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
        assert_eq!(rotate_image(&img, 3, 3, 10.0), vec![0.0; 9]); // wrong length
    }

    #[test]
    fn permute_image_gathers() {
        assert_eq!(permute_image(&[1.0, 2.0, 3.0], &[2, 0, 1]), vec![3.0, 1.0, 2.0]);
    }
}
