//! Files a finished run leaves besides its report: `model.bpk` (the model, adapters included),
//! `gates.bpk` (TauGate), `adapter.bpk` (adapter parameters only: a base checkpoint plus this
//! small file reproduce the adapted model).

use crate::checkpoint::write_atomic;
use crate::error::{Result, TrainError};
use crate::peft::PeftMethod;
use crate::trainee::Trainee;
use burn::module::Module;
use burn::store::ModuleRecord;
use plasticity_models::PlasticModel;
use plasticity_peft::ParamCensus;
use std::path::Path;

fn save_record(path: &Path, record: ModuleRecord) -> Result<()> {
    let bytes = record.into_bytes().map_err(|e| TrainError::io(path, e))?;
    write_atomic(path, &bytes).map_err(|e| TrainError::io(path, e))
}

/// Writes `model.bpk`, and `gates.bpk` or `adapter.bpk` for PEFT runs.
pub fn save_final<M: PlasticModel>(dir: &Path, trainee: &Trainee<M>, peft: Option<&PeftMethod>) -> Result<()> {
    save_record(&dir.join("model.bpk"), trainee.model.clone().into_record())?;
    if let Some(gates) = &trainee.gates {
        save_record(&dir.join("gates.bpk"), gates.clone().into_record())?;
    } else if let Some(peft) = peft {
        if let PeftMethod::Triadapt(_) = peft {
            // The grown ranks: `plasticity eval`/`merge` rebuild these shapes before loading.
            let path = dir.join("rank_pattern.json");
            let pattern = plasticity_peft::triadapt::rank_pattern(&trainee.model);
            let json = serde_json::to_vec_pretty(&pattern).map_err(|e| TrainError::io(&path, e))?;
            write_atomic(&path, &json).map_err(|e| TrainError::io(&path, e))?;
        }
        let group = ParamCensus::of(&trainee.model).adapter_group();
        save_record(&dir.join("adapter.bpk"), trainee.model.clone().into_record_group(group))?;
    }
    Ok(())
}
