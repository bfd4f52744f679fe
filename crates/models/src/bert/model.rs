//! The encoder's modules and forward pass. Shapes: `ids`, `mask`: `[batch, seq]`; hidden states
//! `[batch, seq, hidden]`.

use super::config::BertConfig;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor};
use plasticity_core::{Activation, Hooks};

/// Added to the attention scores of padding keys (Hugging Face adds the dtype's minimum).
const MASKED: f64 = -1e9;

#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    pub layer_norm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct BertSelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    #[module(skip)]
    pub heads: usize,
}

/// `attention.output` and `output`: a dense layer, the residual, LayerNorm.
#[derive(Module, Debug)]
pub struct BertDenseNorm {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct BertAttention {
    pub self_attn: BertSelfAttention,
    pub output: BertDenseNorm,
}

#[derive(Module, Debug)]
pub struct BertIntermediate {
    pub dense: Linear,
}

#[derive(Module, Debug)]
pub struct BertLayer {
    pub attention: BertAttention,
    pub intermediate: BertIntermediate,
    pub output: BertDenseNorm,
}

#[derive(Module, Debug)]
pub struct BertEncoder {
    pub layer: Vec<BertLayer>,
}

/// Hugging Face's `BertModel` without its pooler.
#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
}

/// Linear points per layer, in forward order: query, key, value, attention output, intermediate,
/// output.
pub const LINEARS_PER_LAYER: usize = 6;

impl BertConfig {
    /// A freshly initialized encoder (Burn's default initializers; load weights with
    /// [`super::load_pretrained`]).
    pub fn init(&self, device: &Device) -> BertModel {
        let h = self.hidden_size;
        let norm = || LayerNormConfig::new(h).with_epsilon(self.layer_norm_eps).init(device);
        let linear = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        BertModel {
            embeddings: BertEmbeddings {
                word_embeddings: EmbeddingConfig::new(self.vocab_size, h).init(device),
                position_embeddings: EmbeddingConfig::new(self.max_position_embeddings, h).init(device),
                token_type_embeddings: EmbeddingConfig::new(self.type_vocab_size, h).init(device),
                layer_norm: norm(),
            },
            encoder: BertEncoder {
                layer: (0..self.num_hidden_layers)
                    .map(|_| BertLayer {
                        attention: BertAttention {
                            self_attn: BertSelfAttention {
                                query: linear(h, h),
                                key: linear(h, h),
                                value: linear(h, h),
                                heads: self.num_attention_heads,
                            },
                            output: BertDenseNorm { dense: linear(h, h), layer_norm: norm() },
                        },
                        intermediate: BertIntermediate { dense: linear(h, self.intermediate_size) },
                        output: BertDenseNorm { dense: linear(self.intermediate_size, h), layer_norm: norm() },
                    })
                    .collect(),
            },
        }
    }
}

impl BertEmbeddings {
    /// `ids: [b, s]` → `[b, s, h]`: word + position (0..s) + token type (all 0), LayerNorm.
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [b, s] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..s as i64, &device).reshape([1, s]).expand([b, s]);
        let types = Tensor::<2, Int>::zeros([b, s], &device);
        let x = self.word_embeddings.forward(ids) + self.position_embeddings.forward(positions) + self.token_type_embeddings.forward(types);
        self.layer_norm.forward(x)
    }
}

impl BertSelfAttention {
    /// `[b, s, h]` → `[b, h_heads, s, d]` for one of query, key, value.
    fn heads_of(&self, x: Tensor<3>) -> Tensor<4> {
        let [b, s, h] = x.dims();
        x.reshape([b, s, self.heads, h / self.heads]).swap_dims(1, 2)
    }
}

impl BertLayer {
    /// One layer; `base` is the index of its first linear point, `bias: [b, 1, 1, s]` the
    /// attention mask's additive term, `mask: [b, s]` for activation hooks.
    pub fn forward(&self, x: Tensor<3>, bias: &Tensor<4>, mask: &Tensor<2>, layer: usize, hooks: &Hooks) -> Tensor<3> {
        let base = layer * LINEARS_PER_LAYER;
        let a = &self.attention.self_attn;
        let [b, s, h] = x.dims();
        let q = a.heads_of(hooks.linear(base, &a.query, x.clone()));
        let k = a.heads_of(hooks.linear(base + 1, &a.key, x.clone()));
        let v = a.heads_of(hooks.linear(base + 2, &a.value, x.clone()));
        let d = (h / a.heads) as f64;
        let scores = q.matmul(k.swap_dims(2, 3)).div_scalar(d.sqrt()) + bias.clone();
        let context = softmax(scores, 3).matmul(v).swap_dims(1, 2).reshape([b, s, h]);
        let out = &self.attention.output;
        let attended = out.layer_norm.forward(hooks.linear(base + 3, &out.dense, context) + x);
        let z = hooks.linear(base + 4, &self.intermediate.dense, attended.clone());
        let inner = hooks.activate_seq(layer, z, mask, Activation::Gelu);
        let out = &self.output;
        out.layer_norm.forward(hooks.linear(base + 5, &out.dense, inner) + attended)
    }
}

impl BertEncoder {
    /// The last hidden state `[b, s, h]` of the embedded `x` with `mask: [b, s]` (1 real, 0 pad).
    pub fn forward(&self, mut x: Tensor<3>, mask: &Tensor<2>, hooks: &Hooks) -> Tensor<3> {
        let [b, s] = mask.dims();
        let bias = (mask.clone().neg() + 1.0).mul_scalar(MASKED).reshape([b, 1, 1, s]);
        for (i, layer) in self.layer.iter().enumerate() {
            x = layer.forward(x, &bias, mask, i, hooks);
        }
        x
    }

    /// Module paths of the linear points, in call order ([`LINEARS_PER_LAYER`] per layer).
    pub fn linear_points(&self) -> Vec<String> {
        (0..self.layer.len())
            .flat_map(|i| {
                let p = format!("encoder.layer.{i}");
                [
                    format!("{p}.attention.self_attn.query"),
                    format!("{p}.attention.self_attn.key"),
                    format!("{p}.attention.self_attn.value"),
                    format!("{p}.attention.output.dense"),
                    format!("{p}.intermediate.dense"),
                    format!("{p}.output.dense"),
                ]
            })
            .collect()
    }

    /// One insertion point per layer: the FFN's intermediate neurons (after GELU).
    pub fn insertion_points(&self) -> Vec<plasticity_core::InsertionPoint> {
        self.layer
            .iter()
            .enumerate()
            .map(|(i, l)| plasticity_core::InsertionPoint {
                name: format!("encoder.layer.{i}.intermediate.dense"),
                width: l.intermediate.dense.weight.dims()[1],
            })
            .collect()
    }
}

impl BertModel {
    /// The last hidden state `[b, s, h]` of `ids: [b, s]` with `mask: [b, s]` (1 real, 0 pad).
    pub fn encode(&self, ids: Tensor<2, Int>, mask: &Tensor<2>, hooks: &Hooks) -> Tensor<3> {
        self.encoder.forward(self.embeddings.forward(ids), mask, hooks)
    }

    /// Mean of the hidden states over real tokens: `[b, h]`.
    pub fn mean_pool(hidden: Tensor<3>, mask: &Tensor<2>) -> Tensor<2> {
        let [b, s, h] = hidden.dims();
        let m = mask.clone().reshape([b, s, 1]);
        let sum = (hidden * m.clone()).sum_dim(1).reshape([b, h]);
        let count = m.sum_dim(1).reshape([b, 1]).clamp_min(1e-9);
        sum / count
    }

    /// Hidden width.
    pub fn hidden_size(&self) -> usize {
        self.embeddings.layer_norm.gamma.dims()[0]
    }
}
