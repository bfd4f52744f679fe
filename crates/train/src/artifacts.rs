//! Files a finished run leaves besides its report: `model.bpk` (the model, adapters included),
//! `gates.bpk` (TauGate), `adapter.bpk` (adapter parameters only: a base checkpoint plus this
//! small file reproduce the adapted model).

use crate::checkpoint::write_atomic;
use crate::error::{Result, TrainError};
use crate::peft::{PeftConfig, PeftMethod};
use crate::trainee::Trainee;
use burn::module::{Module, ParamGroup};
use burn::store::ModuleRecord;
use plasticity_models::PlasticModel;
use plasticity_peft::ParamCensus;
use std::path::Path;

fn save_record(path: &Path, record: ModuleRecord) -> Result<()> {
    let bytes = record.into_bytes().map_err(|e| TrainError::io(path, e))?;
    write_atomic(path, &bytes).map_err(|e| TrainError::io(path, e))
}

/// Writes `model.bpk`, and for PEFT runs `adapter.bpk` (adapter parameters and those of
/// `modules_to_save`) or, for TauGate, `gates.bpk` plus `saved.bpk` (the `modules_to_save`).
pub fn save_final<M: PlasticModel>(dir: &Path, trainee: &Trainee<M>, peft: Option<&PeftConfig>) -> Result<()> {
    save_record(&dir.join("model.bpk"), trainee.model.clone().into_record())?;
    let Some(peft) = peft else { return Ok(()) };
    let saved = plasticity_peft::saved_params(&trainee.model, &peft.modules_to_save)
        .map_err(|e| TrainError::config("peft.modules_to_save", e.to_string()))?;
    let saved_ids = || saved.iter().map(|p| p.id);
    if let Some(gates) = &trainee.gates {
        save_record(&dir.join("gates.bpk"), gates.clone().into_record())?;
        if !saved.is_empty() {
            let group = ParamGroup::from_ids(saved_ids().collect());
            save_record(&dir.join("saved.bpk"), trainee.model.clone().into_record_group(group))?;
        }
    } else {
        if let PeftMethod::Triadapt(_) = &peft.method {
            // The grown ranks: `plasticity eval`/`merge` rebuild these shapes before loading.
            let path = dir.join("rank_pattern.json");
            let pattern = plasticity_peft::triadapt::rank_pattern(&trainee.model);
            let json = serde_json::to_vec_pretty(&pattern).map_err(|e| TrainError::io(&path, e))?;
            write_atomic(&path, &json).map_err(|e| TrainError::io(&path, e))?;
        }
        let census = ParamCensus::of(&trainee.model);
        let group = ParamGroup::from_ids(census.adapters.iter().map(|p| p.id).chain(saved_ids()).collect());
        save_record(&dir.join("adapter.bpk"), trainee.model.clone().into_record_group(group))?;
    }
    Ok(())
}
