//! EWC as a `Method`: a loss penalty over the tasks already learned, whose importances are
//! estimated at `task_end` from that task's training data.

use super::config::{EwcConfig, EwcMode};
use super::fisher::fisher;
use super::penalty::{Anchor, consolidate};
use burn::tensor::{Device, Tensor, TensorData};
use plasticity_core::{
    Method, MethodModules, MethodResult, PlasticModel, TaskContext, TensorState, host_values, walk_params,
};
use std::collections::BTreeMap;

const NAME: &str = "ewc";

/// Importance and anchor of one parameter, in host memory.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    importance: Vec<f32>,
    theta_star: Vec<f32>,
}

/// One consolidation: every trainable parameter's `Stored`, by path.
type Consolidation = BTreeMap<String, Stored>;

pub struct EwcMethod {
    config: EwcConfig,
    /// Separate: one per finished task; online: at most one (the running importance).
    tasks: Vec<Consolidation>,
}

impl EwcMethod {
    pub fn new(config: EwcConfig) -> Self {
        Self { config, tasks: Vec::new() }
    }

    /// Number of consolidations held (separate: finished tasks; online: 0 or 1).
    pub fn consolidations(&self) -> usize {
        self.tasks.len()
    }
}


fn device_tensor(v: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

impl<M: PlasticModel> Method<M> for EwcMethod {
    fn name(&self) -> String {
        NAME.into()
    }

    fn penalty(&self, model: &M, _modules: &MethodModules) -> Option<Tensor<1>> {
        if self.tasks.is_empty() {
            return None;
        }
        let gamma = (self.config.mode == EwcMode::Online).then_some(self.config.gamma);
        let mut total: Option<Tensor<1>> = None;
        walk_params(model, true, |info, value| {
            let Some(theta) = value.and_then(|v| v.flatten()) else { return };
            for task in &self.tasks {
                let Some(stored) = task.get(&info.path) else { continue };
                let device = theta.device();
                let anchor = Anchor {
                    importance: device_tensor(&stored.importance, &device),
                    theta_star: device_tensor(&stored.theta_star, &device),
                };
                let term = anchor.penalty(theta.clone(), self.config.lambda, gamma, self.config.convention);
                total = Some(match total.take() {
                    Some(t) => t + term,
                    None => term,
                });
            }
        });
        total
    }

    fn task_end(&mut self, model: &M, _modules: &MethodModules, task: &TaskContext<M::Input>) -> MethodResult<()> {
        let c = &self.config;
        let importance = fisher(model, task.data.train.as_ref(), c.fisher, c.samples, task.batch_size, task.device);
        let mut anchors = BTreeMap::new();
        walk_params(model, true, |info, value| {
            if let (true, Some(theta)) = (info.trainable, value.and_then(|v| v.flatten())) {
                anchors.insert(info.path.clone(), host_values(theta));
            }
        });
        let previous = match c.mode {
            EwcMode::Online => self.tasks.pop(),
            EwcMode::Separate => None,
        };
        let mut consolidation = Consolidation::new();
        for (path, f) in importance {
            let Some(theta_star) = anchors.remove(&path) else { continue };
            let running = previous.as_ref().and_then(|p| p.get(&path)).map(|s| device_tensor(&s.importance, &f.device()));
            let importance = host_values(consolidate(running, f, c.gamma));
            consolidation.insert(path, Stored { importance, theta_star });
        }
        self.tasks.push(consolidation);
        Ok(())
    }

    /// Tensors `task<k>/<path>/importance` and `…/theta_star`; `meta.tasks` the count.
    fn state(&self) -> TensorState {
        let mut state = TensorState::new();
        for (k, task) in self.tasks.iter().enumerate() {
            for (path, s) in task {
                state.put_vec(format!("task{k}/{path}/importance"), s.importance.clone(), vec![s.importance.len()]);
                state.put_vec(format!("task{k}/{path}/theta_star"), s.theta_star.clone(), vec![s.theta_star.len()]);
            }
        }
        state.meta = serde_json::json!({ "tasks": self.tasks.len() });
        state
    }

    fn restore(&mut self, state: TensorState) -> MethodResult<()> {
        let count = state.meta.get("tasks").and_then(|t| t.as_u64()).unwrap_or(0) as usize;
        let mut tasks = vec![Consolidation::new(); count];
        for name in state.tensors.keys() {
            let Some(rest) = name.strip_suffix("/importance") else { continue };
            let (k, path) = rest
                .strip_prefix("task")
                .and_then(|r| r.split_once('/'))
                .and_then(|(k, p)| Some((k.parse::<usize>().ok()?, p)))
                .ok_or_else(|| format!("{NAME}: saved state has an unexpected tensor `{name}`"))?;
            let read = |suffix: &str| {
                state.get_vec(&format!("task{k}/{path}/{suffix}")).ok_or_else(|| format!("{NAME}: saved state lacks `task{k}/{path}/{suffix}`"))
            };
            let task = tasks.get_mut(k).ok_or_else(|| format!("{NAME}: saved state names task {k} of {count}"))?;
            task.insert(path.to_string(), Stored { importance: read("importance")?, theta_star: read("theta_star")? });
        }
        self.tasks = tasks;
        Ok(())
    }
}
