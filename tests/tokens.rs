//! Token batches train through the same runner as images: a tiny sequence model (embedding, a
//! per-token hidden layer through `Hooks::activate_seq`, masked mean pool, linear) learns
//! whether a marker token occurs in a sequence of varying length (chance: 50 %).

mod common;

use common::{config, temp_dir};
use plasticity::burn::module::Module;
use plasticity::burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use plasticity::burn::tensor::{Device, Int, Tensor, TensorData};
use plasticity::core::{Activation, Batch, ExampleSet, Hook, Hooks, InsertionPoint, PlasticModel, TaskData, Tokens, Units};
use plasticity::data::SplitMix64;
use plasticity::train::{Extensions, RunOptions, train_on};
use std::sync::{Arc, Mutex};

const VOCAB: usize = 20;
const PAD: i64 = 0;
const MARKER: i64 = 1;

/// Sequences of 3 to 12 tokens from `2..VOCAB`; half of them get the marker at a random place.
struct MarkerSet {
    sequences: Vec<Vec<i64>>,
    labels: Vec<usize>,
}

impl MarkerSet {
    fn new(n: usize, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut sequences = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let len = 3 + rng.below(10) as usize;
            let mut seq: Vec<i64> = (0..len).map(|_| 2 + rng.below(VOCAB as u64 - 2) as i64).collect();
            let marked = rng.below(2) == 1;
            if marked {
                let at = rng.below(len as u64) as usize;
                seq[at] = MARKER;
            }
            sequences.push(seq);
            labels.push(usize::from(marked));
        }
        Self { sequences, labels }
    }
}

impl ExampleSet<Tokens> for MarkerSet {
    fn len(&self) -> usize {
        self.sequences.len()
    }
    /// Pads to the longest sequence of the batch (dynamic padding), mask 1 at real tokens.
    fn batch(&self, indices: &[usize], device: &Device) -> Batch<Tokens> {
        let longest = indices.iter().map(|&i| self.sequences[i].len()).max().unwrap_or(1);
        let (mut ids, mut mask) = (Vec::new(), Vec::new());
        for &i in indices {
            let seq = &self.sequences[i];
            ids.extend(seq.iter().copied().chain(std::iter::repeat_n(PAD, longest - seq.len())));
            mask.extend((0..longest).map(|t| if t < seq.len() { 1.0f32 } else { 0.0 }));
        }
        let n = indices.len();
        let targets: Vec<i64> = indices.iter().map(|&i| self.labels[i] as i64).collect();
        Batch {
            input: Tokens {
                ids: Tensor::<2, Int>::from_data(TensorData::new(ids, [n, longest]), device),
                mask: Tensor::<2>::from_data(TensorData::new(mask, [n, longest]), device),
            },
            targets: Tensor::<1, Int>::from_data(TensorData::new(targets, [n]), device),
        }
    }
    fn label(&self, index: usize) -> usize {
        self.labels[index]
    }
    fn num_classes(&self) -> usize {
        2
    }
}

/// `ids [batch, seq] -> embedding [batch, seq, 16] -> relu(linear) per token -> masked mean ->
/// [batch, 2]`.
#[derive(Module, Debug)]
struct MarkerNet {
    embedding: Embedding,
    hidden: Linear,
    output: Linear,
}

impl PlasticModel for MarkerNet {
    type Input = Tokens;

    fn forward_hooked(&self, input: Tokens, hooks: &Hooks) -> Tensor<2> {
        let [batch, seq] = input.ids.dims();
        let x = self.embedding.forward(input.ids);
        let z = hooks.linear(0, &self.hidden, x);
        let h = hooks.activate_seq(0, z, &input.mask, Activation::Relu);
        let mask: Tensor<3> = input.mask.clone().reshape([batch, seq, 1]);
        let count: Tensor<2> = input.mask.sum_dim(1);
        let pooled: Tensor<2> = (h * mask).sum_dim(1).reshape([batch, 16]) / count;
        hooks.linear(1, &self.output, pooled)
    }

    fn insertion_points(&self) -> Vec<InsertionPoint> {
        vec![InsertionPoint {
            name: "hidden".into(),
            width: 16,
        }]
    }

    fn linear_points(&self) -> Vec<String> {
        vec!["hidden".into(), "output".into()]
    }
}

fn net(device: &Device) -> MarkerNet {
    MarkerNet {
        embedding: EmbeddingConfig::new(VOCAB, 16).init(device),
        hidden: LinearConfig::new(16, 16).init(device),
        output: LinearConfig::new(16, 2).init(device),
    }
}

/// Counts the real tokens the observer sees at the insertion point (the padding mask reaches it).
struct TokenCounter(Arc<Mutex<(f64, usize)>>);

impl Hook for TokenCounter {
    fn observe(&self, _point: usize, h: &Units) {
        if let (Some(mask), Ok(mut seen)) = (&h.mask, self.0.lock()) {
            seen.0 += mask.clone().sum().into_scalar::<f64>();
            seen.1 += h.values.dims()[0];
        }
    }
}

struct Observer(Arc<Mutex<(f64, usize)>>);

impl plasticity::core::Method<MarkerNet> for Observer {
    fn name(&self) -> String {
        "token-counter".into()
    }
    fn hooks(
        &self,
        _model: &MarkerNet,
        _modules: &plasticity::core::MethodModules,
        forward: plasticity::core::Forward,
    ) -> Vec<Box<dyn Hook>> {
        match forward.mode {
            plasticity::core::Mode::Train => vec![Box::new(TokenCounter(self.0.clone()))],
            plasticity::core::Mode::Eval => vec![],
        }
    }
}

#[test]
fn token_model_learns_whether_a_marker_occurs() {
    let dir = temp_dir("tokens");
    let text = "seed = 3\n[optimizer]\nkind = \"adam\"\nlr = 1e-2\n[train]\nepochs = 6\nbatch_size = 32\neval_batch_size = 100\n";
    let cfg = config(text, &dir);
    let train = Arc::new(MarkerSet::new(2000, 1));
    let data = TaskData {
        train: train.clone(),
        valid: Arc::new(MarkerSet::new(300, 2)),
        test: Arc::new(MarkerSet::new(1000, 3)),
    };
    let seen = Arc::new(Mutex::new((0.0, 0)));
    let ext = Extensions::methods(vec![Box::new(Observer(seen.clone()))]);
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let summary = train_on(&cfg, &quiet, net, data, ext).unwrap();
    let acc = summary.results.test_accuracy.unwrap();
    assert!(acc >= 0.95, "token test accuracy {acc} (chance 0.5)");
    // The observer saw every real token of every training batch, and the padding on top.
    let tokens: usize = train.sequences.iter().map(Vec::len).sum();
    let (real, rows) = *seen.lock().unwrap();
    assert_eq!(real as usize, 6 * tokens);
    assert!(rows > 6 * tokens, "padded rows {rows} include padding");
    assert_eq!(summary.results.epochs.len(), 6);
}
