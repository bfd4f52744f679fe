//! Tokenized examples in memory, as an [`ExampleSet`] of [`Tokens`]: a batch is padded to its
//! longest sequence (dynamic padding) with the pad id, and its mask is 1.0 at real tokens.

use burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity_core::{Batch, ExampleSet, Tokens};

pub struct TokenSet {
    pub ids: Vec<Vec<u32>>,
    pub labels: Vec<u8>,
    pub pad: u32,
    pub num_classes: usize,
}

impl TokenSet {
    /// The examples at `indices` of `self`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            ids: indices.iter().map(|&i| self.ids[i].clone()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            pad: self.pad,
            num_classes: self.num_classes,
        }
    }
}

impl ExampleSet<Tokens> for TokenSet {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Batch<Tokens> {
        let longest = indices.iter().map(|&i| self.ids[i].len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(indices.len() * longest);
        let mut mask = Vec::with_capacity(indices.len() * longest);
        for &i in indices {
            let row = &self.ids[i];
            ids.extend(row.iter().map(|&t| t as i64).chain(std::iter::repeat_n(self.pad as i64, longest - row.len())));
            mask.extend(std::iter::repeat_n(1.0f32, row.len()).chain(std::iter::repeat_n(0.0, longest - row.len())));
        }
        let b = indices.len();
        let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        Batch {
            input: Tokens {
                ids: Tensor::<2, Int>::from_data(TensorData::new(ids, [b, longest]), device),
                mask: Tensor::<2>::from_data(TensorData::new(mask, [b, longest]), device),
            },
            targets: Tensor::<1, Int>::from_data(TensorData::new(labels, [b]), device),
        }
    }

    fn label(&self, index: usize) -> usize {
        self.labels[index] as usize
    }

    fn num_classes(&self) -> usize {
        self.num_classes
    }

    fn length(&self, index: usize) -> Option<usize> {
        Some(self.ids[index].len())
    }
}
