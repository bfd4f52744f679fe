//! Files a finished run leaves for loading later, each with a checksum: `model.bpk` (the
//! model, adapters included), each method module under the method's file name (TauGate's
//! `gates.bpk`), and `methods.bpk` (the methods' final state, e.g. TriAdaptLoRA's grown ranks).
//! Loading a finished run reverses it ([`load_run`]).

use crate::error::{Result, TrainError};
use crate::trainee::{Methods, Trainee};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use plasticity_core::files::{read_verified, write_verified};
use plasticity_core::state::{bundle, unbundle};
use plasticity_core::{AttachContext, PlasticModel, TensorState, param_infos};
use std::path::Path;

/// The methods' final state in a run directory.
pub const METHODS_FILE: &str = "methods.bpk";

fn write_record(path: &Path, record: ModuleRecord) -> Result<()> {
    let bytes = record.into_bytes().map_err(|e| TrainError::io(path, e))?;
    write_verified(path, &bytes).map_err(|e| TrainError::io(path, e))
}

/// Reads a burnpack record, checking its checksum.
pub fn read_record(path: &Path) -> Result<ModuleRecord> {
    let bytes = read_verified(path).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        message: match e {
            plasticity_core::FileError::Io { source, .. } => source.to_string(),
            other => other.to_string().split_once(": ").map_or(String::new(), |(_, m)| m.to_string()),
        },
    })?;
    ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        message: format!("not a burnpack record: {e}"),
    })
}

/// Loads a burnpack model file into `module`, checking its checksum, with an error naming the
/// file when it is damaged or does not fit.
pub fn load_model_file<T: Module>(module: T, path: &Path) -> Result<T> {
    let record = read_record(path)?;
    module.try_load_record(record).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        message: format!("does not fit this model ({e}); was it written by a run with a different [model]?"),
    })
}

/// Loads a record holding part of `module`'s parameters (an `adapter.bpk` over its base run's
/// model, say), checking its checksum.
pub fn load_partial_file<T: Module>(module: T, path: &Path) -> Result<T> {
    let record = read_record(path)?.allow_partial(true);
    module.try_load_record(record).map_err(|e| TrainError::Checkpoint {
        path: path.into(),
        message: format!("does not fit this model ({e})"),
    })
}

/// Writes `model.bpk`, the method modules and `methods.bpk` into `dir`.
pub fn save_final<M: PlasticModel>(dir: &Path, trainee: &Trainee<M>, methods: &Methods<M>) -> Result<()> {
    write_record(&dir.join("model.bpk"), trainee.model.clone().into_record())?;
    for m in methods.iter() {
        if let Some(module) = trainee.modules.get(&m.name()) {
            write_record(&dir.join(m.module_file()), module.record_dyn())?;
        }
    }
    let states = methods.states();
    if !states.is_empty() {
        let path = dir.join(METHODS_FILE);
        bundle(&states).save(&path).map_err(|e| TrainError::io(&path, e))?;
    }
    Ok(())
}

/// A finished run's model: `model` (built from the run's config) with the run's methods
/// restored from `methods.bpk`, attached, and `model.bpk` and the method modules loaded.
pub fn load_run<M: PlasticModel>(
    model: M,
    mut methods: Methods<M>,
    run: &Path,
    device: &Device,
) -> Result<(Trainee<M>, Methods<M>)> {
    let _ = param_infos(&model); // initialise lazy params before adapting (burn-0.22.md §11.7)
    let path = run.join(METHODS_FILE);
    let states = match path.exists() {
        true => unbundle(TensorState::load(&path).map_err(|e| TrainError::io(&path, e))?),
        false => Default::default(),
    };
    methods.restore(states)?;
    let cx = AttachContext {
        device,
        total_steps: 0,
        run_dir: Some(run),
    };
    let mut trainee = methods.attach(model, &cx)?;
    trainee.model = load_model_file(trainee.model, &run.join("model.bpk"))?;
    methods.loaded(&trainee.model)?;
    for m in methods.iter() {
        let name = m.name();
        if let Some(module) = trainee.modules.remove(&name) {
            let path = run.join(m.module_file());
            let loaded = module.load_record_dyn(read_record(&path)?).map_err(|e| TrainError::Checkpoint {
                path: path.clone(),
                message: format!("does not fit this run's `{name}` ({e})"),
            })?;
            trainee.modules.insert(&name, loaded);
        }
    }
    Ok((trainee, methods))
}
