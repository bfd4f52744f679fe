//! Which entries of Burn's parameters a hidden unit owns, found from the model's insertion
//! points and its parameters' shapes.
//!
//! - Incoming weights: a Linear weight is stored `[in, out]`, so unit `i` owns **column** `i`;
//!   a Conv2d weight is `[out, in, kh, kw]`, so channel `i` owns the slab `[i, :, :, :]`. The
//!   bias entry `i` in both.
//! - Outgoing weights, in the next layer (the next `*.weight` in the model's parameter order):
//!   a Linear `[in', out']` after a Linear layer gives unit `i` **row** `i`; after a
//!   convolution whose map is flattened (the CNN's conv → fc boundary), channel `i` owns the
//!   `p = in' / units` consecutive rows `i·p .. (i+1)·p` (Burn's `flatten(1, 3)` of
//!   `[n, c, h, w]` is channel-major); a Conv2d `[out', in', kh, kw]` gives channel `i` the slab
//!   `[:, i, :, :]`.

use burn::module::ParamId;
use burn::tensor::Tensor;
use plasticity_core::{InsertionPoint, ParamInfo};

/// A unit's incoming weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Linear `[in, out]`: column `i`.
    LinearColumn { fan_in: usize, units: usize },
    /// Conv2d `[out, in, kh, kw]`: the slab `[i, :, :, :]` of `fan_in = in·kh·kw` entries.
    ConvSlab { fan_in: usize },
}

/// A unit's outgoing weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// Linear `[in', out']`: rows `i·per_unit .. (i+1)·per_unit`.
    LinearRows { per_unit: usize, outs: usize },
    /// Conv2d `[out', in', kh, kw]`: the slab `[:, i, :, :]`.
    ConvSlab { outs: usize, units: usize, kernel: usize },
}

/// One hidden layer's parameters, as continual backprop sees them.
#[derive(Clone, Debug)]
pub struct UnitLayout {
    /// The insertion point's module path, and its index among the model's insertion points.
    pub layer: String,
    pub point: usize,
    pub units: usize,
    pub weight: (String, ParamId),
    pub incoming: Incoming,
    pub bias: Option<(String, ParamId)>,
    pub next: (String, ParamId),
    pub outgoing: Outgoing,
}

impl Incoming {
    pub fn fan_in(&self) -> usize {
        match *self {
            Self::LinearColumn { fan_in, .. } | Self::ConvSlab { fan_in } => fan_in,
        }
    }

    /// Flat (row-major) indices of unit `i`'s incoming weights, in order.
    pub fn indices(&self, i: usize) -> Vec<usize> {
        match *self {
            Self::LinearColumn { fan_in, units } => (0..fan_in).map(|r| r * units + i).collect(),
            Self::ConvSlab { fan_in } => (i * fan_in..(i + 1) * fan_in).collect(),
        }
    }

    /// Mean `|w|` of each unit's incoming weights, from the weight flattened: `[units]`.
    pub fn magnitudes(&self, w: Tensor<1>, units: usize) -> Tensor<1> {
        match *self {
            Self::LinearColumn { fan_in, .. } => w.reshape([fan_in, units]).abs().mean_dim(0).reshape([units]),
            Self::ConvSlab { fan_in } => w.reshape([units, fan_in]).abs().mean_dim(1).reshape([units]),
        }
    }
}

impl Outgoing {
    /// Flat indices of unit `i`'s outgoing weights.
    pub fn indices(&self, i: usize) -> Vec<usize> {
        match *self {
            Self::LinearRows { per_unit, outs } => (i * per_unit * outs..(i + 1) * per_unit * outs).collect(),
            Self::ConvSlab { outs, units, kernel } => {
                (0..outs).flat_map(|o| (o * units + i) * kernel..(o * units + i + 1) * kernel).collect()
            }
        }
    }

    /// Mean `|w|` of each unit's outgoing weights: `[units]`.
    pub fn magnitudes(&self, w: Tensor<1>, units: usize) -> Tensor<1> {
        match *self {
            Self::LinearRows { per_unit, outs } => w.reshape([units, per_unit * outs]).abs().mean_dim(1).reshape([units]),
            Self::ConvSlab { outs, units, kernel } => w
                .reshape([outs, units, kernel])
                .abs()
                .swap_dims(0, 1)
                .reshape([units, outs * kernel])
                .mean_dim(1)
                .reshape([units]),
        }
    }
}

/// The layouts of the insertion points `only` names (every one when `None`), from the model's
/// parameters (`params`, in visiting order) and insertion points. Errors name the layer.
pub fn unit_layouts(params: &[ParamInfo], points: &[InsertionPoint], only: Option<&[String]>) -> Result<Vec<UnitLayout>, String> {
    if let Some(unknown) = only.and_then(|o| o.iter().find(|l| !points.iter().any(|p| &p.name == *l))) {
        let names: Vec<&str> = points.iter().map(|p| p.name.as_str()).collect();
        return Err(format!("cbp.layers: `{unknown}` is not a hidden layer of the model; its hidden layers are {names:?}"));
    }
    let base = |p: &&ParamInfo| p.adapter.is_none() && p.method.is_none();
    let mut out = Vec::new();
    for (index, point) in points.iter().enumerate() {
        if only.is_some_and(|o| !o.contains(&point.name)) {
            continue;
        }
        let name = &point.name;
        let units = point.width;
        let weight_path = format!("{name}.weight");
        let pos = params
            .iter()
            .position(|p| p.path == weight_path && p.adapter.is_none())
            .ok_or_else(|| format!("cbp: hidden layer `{name}` has no parameter `{weight_path}`"))?;
        let weight = &params[pos];
        if let Some(r) = &weight.reparameterization {
            return Err(format!("cbp: `{weight_path}` is reparameterized by {r}; continual backprop replaces plain weights only"));
        }
        let incoming = match (weight.owner.as_str(), weight.shape.as_slice()) {
            ("Struct:Linear", &[fan_in, out]) if out == units => Incoming::LinearColumn { fan_in, units },
            ("Struct:Conv2d", &[out, cin, kh, kw]) if out == units => Incoming::ConvSlab { fan_in: cin * kh * kw },
            (owner, shape) => {
                return Err(format!(
                    "cbp: `{weight_path}` ({owner}, shape {shape:?}) is not a Linear [in, {units}] or Conv2d [{units}, in, kh, kw] weight"
                ));
            }
        };
        let bias_path = format!("{name}.bias");
        let bias = params.iter().find(|p| p.path == bias_path && p.adapter.is_none()).map(|p| (p.path.clone(), p.id));
        let next = params[pos + 1..]
            .iter()
            .filter(base)
            .find(|p| p.path.ends_with(".weight") && p.module() != name.as_str())
            .ok_or_else(|| format!("cbp: hidden layer `{name}` has no layer after it (no outgoing weights)"))?;
        if let Some(r) = &next.reparameterization {
            return Err(format!("cbp: `{}` (after `{name}`) is reparameterized by {r}; continual backprop replaces plain weights only", next.path));
        }
        let outgoing = match (next.owner.as_str(), next.shape.as_slice()) {
            ("Struct:Linear", &[d_in, outs]) if d_in % units == 0 => Outgoing::LinearRows { per_unit: d_in / units, outs },
            ("Struct:Conv2d", &[outs, cin, kh, kw]) if cin == units => Outgoing::ConvSlab { outs, units, kernel: kh * kw },
            (owner, shape) => {
                return Err(format!(
                    "cbp: the layer after `{name}`, `{}` ({owner}, shape {shape:?}), does not take its {units} units as input",
                    next.path
                ));
            }
        };
        out.push(UnitLayout {
            layer: name.clone(),
            point: index,
            units,
            weight: (weight.path.clone(), weight.id),
            incoming,
            bias,
            next: (next.path.clone(), next.id),
            outgoing,
        });
    }
    Ok(out)
}
