//! [`BertClassifier`]: the encoder with a sequence-classification head, as a [`PlasticModel`]
//! of token batches. Parameter paths are `BertModel`'s (`embeddings.…`, `encoder.layer.N.…`)
//! plus `classifier`, so that an adapter trained here fits Hugging Face's `BertModel`.

use super::model::{BertEmbeddings, BertEncoder, BertModel, LINEARS_PER_LAYER};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use plasticity_core::{Hooks, InsertionPoint, PlasticModel, Tokens};
use serde::{Deserialize, Serialize};

/// What the head reads: the mean of the hidden states over real tokens (sentence-transformers'
/// pooling for all-MiniLM-L6-v2), or the first token's (`[CLS]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    #[default]
    Mean,
    Cls,
}

#[derive(Module, Debug)]
pub struct BertClassifier {
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
    /// `[hidden, classes]`.
    pub classifier: Linear,
    #[module(skip)]
    pub pooling: Pooling,
}

impl BertClassifier {
    /// `encoder` with a fresh head of `classes` outputs.
    pub fn new(encoder: BertModel, classes: usize, pooling: Pooling, device: &Device) -> Self {
        let hidden = encoder.hidden_size();
        Self {
            embeddings: encoder.embeddings,
            encoder: encoder.encoder,
            classifier: LinearConfig::new(hidden, classes).init(device),
            pooling,
        }
    }

    /// The pooled sentence representation `[b, hidden]`.
    pub fn pooled(&self, input: Tokens, hooks: &Hooks) -> Tensor<2> {
        let hidden = self.encoder.forward(self.embeddings.forward(input.ids), &input.mask, hooks);
        match self.pooling {
            Pooling::Mean => BertModel::mean_pool(hidden, &input.mask),
            Pooling::Cls => {
                let [b, _, h] = hidden.dims();
                hidden.slice([0..b, 0..1]).reshape([b, h])
            }
        }
    }
}

impl PlasticModel for BertClassifier {
    type Input = Tokens;

    fn forward_hooked(&self, input: Tokens, hooks: &Hooks) -> Tensor<2> {
        let pooled = self.pooled(input, hooks);
        hooks.linear(self.encoder.layer.len() * LINEARS_PER_LAYER, &self.classifier, pooled)
    }

    /// The pooled encoder output (mean or CLS, as configured): `[b, hidden]`.
    fn features(&self, input: Tokens, hooks: &Hooks) -> Option<Tensor<2>> {
        Some(self.pooled(input, hooks))
    }

    fn linear_points(&self) -> Vec<String> {
        let mut points = self.encoder.linear_points();
        points.push("classifier".into());
        points
    }

    fn insertion_points(&self) -> Vec<InsertionPoint> {
        self.encoder.insertion_points()
    }

    /// Hugging Face's names (`attention.self`, `LayerNorm.weight`/`bias`).
    fn external_name(&self, path: &str) -> String {
        super::hf_name(path)
    }
}
