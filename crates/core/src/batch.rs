//! What a model reads: image batches (`[batch, features]`) or token batches (ids and an
//! attention mask), with class labels. The runner, the step, evaluation and the model trait are
//! generic over the input type, so a token model trains through the same code as an MLP.

use burn::tensor::{Device, Int, Tensor};
use std::sync::Arc;

/// The input half of a batch: what [`PlasticModel::forward_hooked`](crate::PlasticModel) takes.
pub trait Input: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// Number of examples in the batch.
    fn batch_size(&self) -> usize;
    fn device(&self) -> Device;
    /// The same batch with every input value 1: SynFlow's data-free probe. Token batches keep
    /// their ids (an embedding is looked up, not multiplied) and mark every position real.
    fn ones_like(&self) -> Self;
}

/// Images or other fixed-width features: `[batch, features]`.
impl Input for Tensor<2> {
    fn batch_size(&self) -> usize {
        self.dims()[0]
    }
    fn device(&self) -> Device {
        Tensor::device(self)
    }
    fn ones_like(&self) -> Self {
        Tensor::ones_like(self)
    }
}

/// A batch of token sequences, padded to the longest one: `ids: [batch, seq]` (Int) and
/// `mask: [batch, seq]` (1.0 at real tokens, 0.0 at padding, as Hugging Face's
/// `attention_mask`, but as floats so that pooling and statistics can multiply by it).
#[derive(Clone, Debug)]
pub struct Tokens {
    pub ids: Tensor<2, Int>,
    pub mask: Tensor<2>,
}

impl Input for Tokens {
    fn batch_size(&self) -> usize {
        self.ids.dims()[0]
    }
    fn device(&self) -> Device {
        self.ids.device()
    }
    fn ones_like(&self) -> Self {
        Self {
            ids: self.ids.clone(),
            mask: self.mask.ones_like(),
        }
    }
}

/// A labelled batch: `input` and `targets: [batch]` (class ids).
#[derive(Clone, Debug)]
pub struct Batch<I> {
    pub input: I,
    pub targets: Tensor<1, Int>,
}

impl<I: Input> Batch<I> {
    pub fn len(&self) -> usize {
        self.input.batch_size()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An image batch: `input: [batch, rows·cols]`.
pub type ClassBatch = Batch<Tensor<2>>;
/// A token batch: ids, attention mask and labels.
pub type TokenBatch = Batch<Tokens>;

/// A labelled set of examples held in memory: what a task trains, validates and tests on.
/// `batch` gathers the examples at `indices` into one batch on `device` (for token sets this
/// is where padding to the batch's longest sequence happens).
pub trait ExampleSet<I: Input>: Send + Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch of the examples at `indices` (each `< len()`), in that order.
    fn batch(&self, indices: &[usize], device: &Device) -> Batch<I>;
    /// Class of example `index`.
    fn label(&self, index: usize) -> usize;
    /// Number of classes (labels are `< num_classes`).
    fn num_classes(&self) -> usize;
    /// Length of example `index` when examples differ in length (tokens of a text); `None` for
    /// fixed-size examples. The training loader groups examples of similar length into batches.
    fn length(&self, _index: usize) -> Option<usize> {
        None
    }
}

/// A shared example set.
pub type Examples<I> = Arc<dyn ExampleSet<I>>;

/// The data of one task: the training set, a validation hold-out and the test set.
#[derive(Clone)]
pub struct TaskData<I: Input> {
    pub train: Examples<I>,
    pub valid: Examples<I>,
    pub test: Examples<I>,
}
