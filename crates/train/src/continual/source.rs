//! The tasks' data. With the accuracy matrix every task's test set is evaluated after every
//! task, so all tasks are built up front; otherwise (`evaluate = "none"`, long online streams)
//! a task's images are built when it starts and dropped after it, so a stream of hundreds of
//! permuted tasks holds one task's images at a time.

use super::stream::StreamTask;
use crate::datasets::{STREAM_SUBSET, prepare};
use crate::error::{Result, TrainError};
use burn::tensor::Tensor;
use plasticity_core::TaskData;
use plasticity_data::{Mnist, mix};
use std::sync::Arc;

pub struct TaskSource<'a> {
    raw: Mnist,
    tasks: &'a [StreamTask],
    seed: u64,
    input: usize,
    all: Option<Vec<TaskData<Tensor<2>>>>,
}

impl<'a> TaskSource<'a> {
    /// `keep_all`: build every task now (and check each); otherwise only on [`get`](Self::get).
    pub fn new(raw: Mnist, tasks: &'a [StreamTask], seed: u64, input: usize, keep_all: bool) -> Result<Self> {
        let mut source = Self {
            raw,
            tasks,
            seed,
            input,
            all: None,
        };
        if keep_all {
            source.all = Some((0..tasks.len()).map(|k| source.build(k)).collect::<Result<_>>()?);
        }
        Ok(source)
    }

    /// Every task's data, when built up front.
    pub fn all(&self) -> Option<&[TaskData<Tensor<2>>]> {
        self.all.as_deref()
    }

    /// Task `k`'s splits.
    pub fn get(&self, k: usize) -> Result<TaskData<Tensor<2>>> {
        match &self.all {
            Some(all) => Ok(all[k].clone()),
            None => self.build(k),
        }
    }

    /// Training examples of task `k` (without building it when it is not built yet).
    pub fn train_len(&self, k: usize) -> usize {
        if let Some(all) = &self.all {
            return all[k].train.len();
        }
        let data = &self.tasks[k].data;
        let labels = &self.raw.train.labels;
        let kept = match &data.classes {
            Some(c) => labels.iter().filter(|l| c.contains(l)).count(),
            None => labels.len(),
        };
        let train = kept.saturating_sub(data.valid_size);
        data.train_subset.map_or(train, |n| n.min(train))
    }

    /// Task `k`'s splits, relabelled for the domain-incremental scenario; with `train_subset`,
    /// each task draws its own subset (the run's seed mixed with the task index).
    fn build(&self, k: usize) -> Result<TaskData<Tensor<2>>> {
        let task = &self.tasks[k];
        let whole = crate::config::DataConfig {
            train_subset: None,
            ..task.data.clone()
        };
        let mut splits = prepare(&self.raw, &whole, self.seed)?;
        if let Some(n) = task.data.train_subset {
            splits.train = Arc::new(splits.train.subset(n, mix(mix(self.seed, STREAM_SUBSET), k as u64))?);
        }
        if splits.train.dim() != self.input {
            return Err(TrainError::config(
                "model",
                format!("the model takes {} features per example, but the images have {}", self.input, splits.train.dim()),
            ));
        }
        let relabel = |set: Arc<plasticity_data::ImageSet>| -> plasticity_core::Examples<Tensor<2>> {
            match task.label_map {
                None => set,
                Some(map) => {
                    let mut set = (*set).clone();
                    set.labels.iter_mut().for_each(|l| *l = map[*l as usize]);
                    Arc::new(set)
                }
            }
        };
        Ok(TaskData {
            train: relabel(splits.train),
            valid: relabel(splits.valid),
            test: relabel(splits.test),
        })
    }
}
