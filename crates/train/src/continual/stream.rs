//! `[continual.stream]`: a stream is a list of tasks, each the run's `[data]` with per-task
//! settings (../shared/specs/continual.md §6.1–6.4). Work in progress: the runner that trains
//! them in turn comes next.
//!
//! - `kind = "permuted-mnist"`: `tasks` tasks, task `k` with one fixed pixel permutation drawn
//!   from `permutation_seed + k` (default base: the run's seed); `first_unpermuted` keeps task 0
//!   upright (Avalanche permutes every task, the default here too).
//! - `kind = "split-mnist"`: one task per class group (default `[[0,1],[2,3],[4,5],[6,7],[8,9]]`)
//!   in a `scenario`: `task` (task-incremental: logits masked to the task's classes in training
//!   and evaluation), `domain` (labels remapped to their index in the group: 0/1), `class`
//!   (class-incremental: all 10 outputs, no mask).
//! - `kind = "rotated-mnist"`: one task per angle in `angles` (degrees; every image rotated).

use crate::config::DataConfig;
use serde::{Deserialize, Serialize};

/// `[continual.stream]`, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StreamConfig {
    PermutedMnist(PermutedStream),
    SplitMnist(SplitStream),
    RotatedMnist(RotatedStream),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermutedStream {
    pub tasks: usize,
    #[serde(default)]
    pub first_unpermuted: bool,
    /// Task `k`'s permutation seed is this plus `k`; default the run's seed.
    #[serde(default)]
    pub permutation_seed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitStream {
    pub scenario: Scenario,
    #[serde(default = "mnist_pairs")]
    pub classes: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotatedStream {
    pub angles: Vec<f32>,
}

/// Van de Ven & Tolias's three scenarios (arXiv:1904.07734).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    Task,
    Domain,
    Class,
}

fn mnist_pairs() -> Vec<Vec<u8>> {
    (0..5).map(|k| vec![2 * k, 2 * k + 1]).collect()
}

/// One task of a stream: the data it trains and tests on, and how its labels are read.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamTask {
    /// `permuted-3`, `split-4-5`, `rotated-45`.
    pub name: String,
    pub data: DataConfig,
    /// Domain-incremental: label `l` becomes `label_map[l]`.
    pub label_map: Option<[u8; 10]>,
    /// Task-incremental: only these logits take part in the loss and the prediction.
    pub logit_mask: Option<Vec<usize>>,
}

impl StreamConfig {
    /// The tasks of the stream over the run's `[data]` (`base`) and `seed`. Errors name the key.
    pub fn tasks(&self, base: &DataConfig, seed: u64) -> Result<Vec<StreamTask>, (String, String)> {
        let fail = |key: &str, msg: String| Err((format!("continual.stream.{key}"), msg));
        let task = |name: String, data: DataConfig| StreamTask {
            name,
            data,
            label_map: None,
            logit_mask: None,
        };
        match self {
            Self::PermutedMnist(p) => {
                if p.tasks == 0 {
                    return fail("tasks", "an empty stream: expected at least 1 task".into());
                }
                let first_seed = p.permutation_seed.unwrap_or(seed);
                Ok((0..p.tasks)
                    .map(|k| {
                        let permute_seed = (!(k == 0 && p.first_unpermuted)).then(|| first_seed.wrapping_add(k as u64));
                        task(format!("permuted-{k}"), DataConfig { permute_seed, ..base.clone() })
                    })
                    .collect())
            }
            Self::RotatedMnist(r) => {
                if r.angles.is_empty() {
                    return fail("angles", "an empty stream: expected at least 1 angle".into());
                }
                if let Some(a) = r.angles.iter().find(|a| !a.is_finite()) {
                    return fail("angles", format!("expected finite angles in degrees, got {a}"));
                }
                Ok(r.angles
                    .iter()
                    .map(|&a| {
                        let data = DataConfig {
                            rotate_degrees: Some(a),
                            rotate_fraction: 1.0,
                            ..base.clone()
                        };
                        task(format!("rotated-{a}"), data)
                    })
                    .collect())
            }
            Self::SplitMnist(s) => {
                if s.classes.is_empty() {
                    return fail("classes", "an empty stream: expected at least 1 class group".into());
                }
                let mut seen = [false; 10];
                let mut out = Vec::new();
                for (k, group) in s.classes.iter().enumerate() {
                    if group.is_empty() {
                        return fail("classes", format!("task {k} has no classes"));
                    }
                    if let Some(c) = group.iter().find(|&&c| c >= 10) {
                        return fail("classes", format!("task {k}: class {c} is outside 0-9"));
                    }
                    if let Some(c) = group.iter().find(|&&c| std::mem::replace(&mut seen[c as usize], true)) {
                        return fail("classes", format!("class {c} is in more than one task (task {k} again)"));
                    }
                    if let Some(allowed) = &base.classes
                        && !group.iter().all(|c| allowed.contains(c))
                    {
                        return fail(
                            "classes",
                            format!("task {k} asks for {group:?} but data.classes keeps only {allowed:?}: that leaves the task classes it cannot see"),
                        );
                    }
                    let name = format!("split-{}", group.iter().map(u8::to_string).collect::<Vec<_>>().join("-"));
                    let mut t = task(name, DataConfig { classes: Some(group.clone()), ..base.clone() });
                    match s.scenario {
                        Scenario::Task => t.logit_mask = Some(group.iter().map(|&c| usize::from(c)).collect()),
                        Scenario::Domain => {
                            let mut map = [0u8; 10];
                            for (i, &c) in group.iter().enumerate() {
                                map[c as usize] = i as u8;
                            }
                            t.label_map = Some(map);
                        }
                        Scenario::Class => {}
                    }
                    out.push(t);
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StreamConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn split_mnist_in_the_three_scenarios() {
        let base = DataConfig::default();
        for (scenario, mask, map) in [("task", true, false), ("domain", false, true), ("class", false, false)] {
            let s = parse(&format!("kind = \"split-mnist\"\nscenario = \"{scenario}\"\n")).unwrap();
            let tasks = s.tasks(&base, 1).unwrap();
            assert_eq!(tasks.len(), 5);
            assert_eq!(tasks[2].name, "split-4-5");
            assert_eq!(tasks[2].data.classes, Some(vec![4, 5]));
            assert_eq!(tasks[2].logit_mask.is_some(), mask, "{scenario}");
            assert_eq!(tasks[2].label_map.is_some(), map, "{scenario}");
            if let Some(m) = tasks[2].label_map {
                assert_eq!((m[4], m[5]), (0, 1));
            }
        }
    }

    #[test]
    fn permuted_tasks_have_distinct_seeds_and_an_optional_upright_first() {
        let s = parse("kind = \"permuted-mnist\"\ntasks = 3\nfirst_unpermuted = true\n").unwrap();
        let seeds: Vec<_> = s.tasks(&DataConfig::default(), 7).unwrap().iter().map(|t| t.data.permute_seed).collect();
        assert_eq!(seeds, vec![None, Some(8), Some(9)]);
        let s = parse("kind = \"permuted-mnist\"\ntasks = 2\npermutation_seed = 100\n").unwrap();
        let seeds: Vec<_> = s.tasks(&DataConfig::default(), 7).unwrap().iter().map(|t| t.data.permute_seed).collect();
        assert_eq!(seeds, vec![Some(100), Some(101)]);
    }

    #[test]
    fn rotated_tasks_rotate_every_image() {
        let s = parse("kind = \"rotated-mnist\"\nangles = [0.0, 45.0]\n").unwrap();
        let tasks = s.tasks(&DataConfig::default(), 1).unwrap();
        assert_eq!(tasks[1].data.rotate_degrees, Some(45.0));
        assert_eq!(tasks[1].data.rotate_fraction, 1.0);
    }

    #[test]
    fn bad_streams_are_one_line_errors_naming_the_key() {
        let err = |text: &str| parse(text).unwrap().tasks(&DataConfig::default(), 1).unwrap_err();
        assert_eq!(err("kind = \"permuted-mnist\"\ntasks = 0\n").0, "continual.stream.tasks");
        assert!(err("kind = \"rotated-mnist\"\nangles = []\n").1.contains("empty stream"));
        let (key, msg) = err("kind = \"split-mnist\"\nscenario = \"class\"\nclasses = [[0, 1], [10, 11]]\n");
        assert_eq!(key, "continual.stream.classes");
        assert!(msg.contains("class 10 is outside 0-9"), "{msg}");
        assert!(err("kind = \"split-mnist\"\nscenario = \"task\"\nclasses = [[0, 1], []]\n").1.contains("task 1 has no classes"));
        assert!(err("kind = \"split-mnist\"\nscenario = \"task\"\nclasses = [[0, 1], [1, 2]]\n").1.contains("class 1 is in more than one task"));
        let narrowed = DataConfig {
            classes: Some(vec![0, 1]),
            ..DataConfig::default()
        };
        let s = parse("kind = \"split-mnist\"\nscenario = \"task\"\nclasses = [[0, 1], [2, 3]]\n").unwrap();
        assert!(s.tasks(&narrowed, 1).unwrap_err().1.contains("task 1 asks for [2, 3]"));
        let unknown = parse("kind = \"split-mnist\"\nscenario = \"task\"\nepochs = 3\n").unwrap_err();
        assert!(unknown.contains("unknown field `epochs`"), "{unknown}");
        assert!(parse("kind = \"split-mnist\"\nscenario = \"incremental\"\n").unwrap_err().contains("unknown variant"));
    }
}
