//! A viridis-like perceptual colour map (linear interpolation between anchors).

use super::Rgb;

/// Viridis sampled at t = 0, 0.25, 0.5, 0.75, 1.
pub const VIRIDIS: [Rgb; 5] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
];

/// Colour for `t` in `0..=1` (clamped; NaN maps to the low end).
pub fn viridis(t: f64) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (VIRIDIS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(VIRIDIS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    std::array::from_fn(|k| (a[k] as f64 + (b[k] as f64 - a[k] as f64) * f).round() as u8)
}

/// Perceived brightness of `c` in `0..=1` (Rec. 601 weights).
pub fn luminance(c: Rgb) -> f64 {
    (0.299 * c[0] as f64 + 0.587 * c[1] as f64 + 0.114 * c[2] as f64) / 255.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_midpoint_hit_anchors() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        assert_eq!(viridis(0.5), VIRIDIS[2]);
        assert_eq!(viridis(1.0), VIRIDIS[4]);
        assert_eq!(viridis(7.0), VIRIDIS[4]);
        assert_eq!(viridis(f64::NAN), VIRIDIS[0]);
        assert!(luminance(viridis(0.9)) > luminance(viridis(0.1)));
    }
}
