//! "Nice" axis tick computation and compact number formatting.

/// Axis ticks: the (expanded) axis range and the tick positions within it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// Lower end of the axis (the first tick).
    pub lo: f64,
    /// Upper end of the axis (the last tick).
    pub hi: f64,
    /// Distance between ticks.
    pub step: f64,
    /// Tick positions, `lo..=hi` in steps of `step`.
    pub values: Vec<f64>,
}

/// Mantissas of "nice" steps within one decade.
const NICE: [f64; 5] = [1.0, 2.0, 2.5, 5.0, 10.0];

/// Smallest nice step (1, 2, 2.5 or 5 × 10^k) that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    NICE.iter().find(|&&n| n >= f - 1e-9).map_or(10.0 * mag, |n| n * mag)
}

/// `q` rounded down (`up == false`) or up, treating near-integers as exact.
fn snap(q: f64, up: bool) -> f64 {
    if (q - q.round()).abs() < 1e-6 {
        q.round()
    } else if up {
        q.ceil()
    } else {
        q.floor()
    }
}

/// Makes a usable, non-degenerate range out of arbitrary data bounds.
pub fn sanitize_range(min: f64, max: f64) -> (f64, f64) {
    if !min.is_finite() || !max.is_finite() {
        return (0.0, 1.0);
    }
    let (min, max) = if min <= max { (min, max) } else { (max, min) };
    if max - min > max.abs().max(min.abs()) * 1e-12 {
        return (min, max);
    }
    let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
    (min - pad, max + pad)
}

/// Computes roughly `target` intervals of nice ticks covering `min..=max`
/// (at most `target + 2` ticks). The axis is expanded outwards to whole
/// steps; degenerate or non-finite ranges are padded/replaced first.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Ticks {
    let (min, max) = sanitize_range(min, max);
    let target = target.max(2);
    let mut step = nice_step((max - min) / target as f64);
    loop {
        let k0 = snap(min / step, false);
        let k1 = snap(max / step, true);
        let n = (k1 - k0).round() as usize + 1;
        if n <= target + 2 {
            let values = (0..n)
                .map(|i| {
                    let v = (k0 + i as f64) * step;
                    if v.abs() < step * 1e-9 { 0.0 } else { v }
                })
                .collect::<Vec<_>>();
            return Ticks {
                lo: values[0],
                hi: values[n - 1],
                step,
                values,
            };
        }
        step = nice_step(step * 1.0001);
    }
}

/// Smallest number of decimals (≤ 12) that represents `x` exactly enough.
fn decimals(x: f64) -> usize {
    (0..=12)
        .find(|&d| {
            let s = x.abs() * 10f64.powi(d as i32);
            (s - s.round()).abs() < 1e-6 * s.max(1.0)
        })
        .unwrap_or(12)
}

/// Removes trailing zeros (and a dangling '.') from a fixed/sci mantissa.
fn trim(s: String) -> String {
    let (mant, exp) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (&s[..], ""),
    };
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.')
    } else {
        mant
    };
    let mant = if mant.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        mant.trim_start_matches('-')
    } else {
        mant
    };
    format!("{mant}{exp}")
}

/// Formats a tick value `v` on an axis with the given `step` and largest
/// absolute tick `max_abs`: fixed notation normally (`0.95`, `250`),
/// scientific for very small steps or very large values (`1e-3`, `2.5e6`).
pub fn format_tick(v: f64, step: f64, max_abs: f64) -> String {
    if v.abs() < step.abs() * 1e-6 {
        return "0".into();
    }
    if step < 1e-3 || max_abs >= 1e5 {
        let e = v.abs().log10().floor();
        let d = decimals(step / 10f64.powf(e)).min(4);
        return trim(format!("{v:.d$e}"));
    }
    let d = decimals(step);
    trim(format!("{v:.d$}"))
}

/// Formats an arbitrary value with about three significant digits.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        trim(format!("{v:.2e}"))
    } else {
        let d = (2.0 - a.log10().floor()).clamp(0.0, 4.0) as usize;
        trim(format!("{v:.d$}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<String> {
        let m = t.values.iter().fold(0f64, |m, v| m.max(v.abs()));
        t.values.iter().map(|&v| format_tick(v, t.step, m)).collect()
    }

    #[test]
    fn unit_range_gives_tenths_of_two() {
        let t = nice_ticks(0.0, 1.0, 5);
        assert_eq!(labels(&t), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert!((t.step - 0.2).abs() < 1e-12);
        assert_eq!((t.lo, t.hi), (0.0, 1.0));
    }

    #[test]
    fn narrow_accuracy_range_is_nice() {
        let t = nice_ticks(0.9, 0.98, 5);
        assert_eq!(labels(&t), ["0.9", "0.92", "0.94", "0.96", "0.98"]);
        let t = nice_ticks(0.913, 0.977, 5);
        assert!(t.lo <= 0.913 && t.hi >= 0.977);
        assert!((4..=7).contains(&t.values.len()), "{:?}", t.values);
    }

    #[test]
    fn various_ranges_have_4_to_7_ticks_covering_data() {
        for &(a, b) in &[
            (0.0, 250.0),
            (0.05, 2.31),
            (-3.0, 7.0),
            (1e-4, 9e-4),
            (0.0, 1e6),
            (17.0, 17.5),
        ] {
            let t = nice_ticks(a, b, 5);
            assert!(t.lo <= a && t.hi >= b, "{a}..{b}: {:?}", t);
            assert!((4..=7).contains(&t.values.len()), "{a}..{b}: {:?}", t.values);
        }
        assert_eq!(
            labels(&nice_ticks(0.0, 250.0, 5)),
            ["0", "50", "100", "150", "200", "250"]
        );
        assert_eq!(labels(&nice_ticks(0.0, 0.005, 5))[1], "0.001");
        assert_eq!(labels(&nice_ticks(0.0, 5e-4, 5))[1], "1e-4");
        assert_eq!(labels(&nice_ticks(0.0, 2e6, 4))[1], "5e5");
    }

    #[test]
    fn degenerate_ranges_are_padded() {
        let t = nice_ticks(0.95, 0.95, 5);
        assert!(t.lo < 0.95 && t.hi > 0.95);
        let t = nice_ticks(0.0, 0.0, 5);
        assert!(t.lo < 0.0 && t.hi > 0.0);
        let t = nice_ticks(f64::NAN, f64::INFINITY, 5);
        assert_eq!((t.lo, t.hi), (0.0, 1.0));
    }

    #[test]
    fn value_formatting() {
        assert_eq!(format_value(0.953), "0.953");
        assert_eq!(format_value(12.34), "12.3");
        assert_eq!(format_value(250.0), "250");
        assert_eq!(format_value(0.0001234), "1.23e-4");
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_tick(-0.0, 0.1, 1.0), "0");
    }
}
