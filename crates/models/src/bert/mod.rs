//! A BERT encoder (Devlin et al. 2019) in Burn, laid out as Hugging Face's `BertModel` so that a
//! pretrained checkpoint such as all-MiniLM-L6-v2 loads through burn-store ([`load`]):
//! embeddings (word, position, token type, LayerNorm), `N` layers of multi-head self-attention
//! with the padding mask, exact (erf) GELU and post-LayerNorm with the checkpoint's epsilon, and
//! mean pooling over real tokens.
//!
//! Module paths follow Hugging Face's names with two renamings (Rust cannot name a field
//! `self`, and Burn's fields are snake case): `attention.self` is `attention.self_attn`, and
//! `LayerNorm` is `layer_norm` (its `weight`/`bias` are Burn's `gamma`/`beta`). Every dense layer
//! is a `burn::nn::Linear` (`[d_in, d_out]`; the loader transposes PyTorch's `[out, in]`).

mod classifier;
mod config;
mod load;
mod model;

pub use classifier::{BertClassifier, Pooling};
pub use config::{BertConfig, BertError};
pub use load::{hf_name, load_pretrained};
pub use model::{BertAttention, BertDenseNorm, BertEmbeddings, BertEncoder, BertIntermediate, BertLayer, BertModel, BertSelfAttention, LINEARS_PER_LAYER};
