//! Continual-learning methods that are not optimizers (CLASSP is an `[optimizer]` kind in
//! `plasticity-core`): EWC and online EWC, as a `Method` (penalty, Fisher estimators, state),
//! continual backprop (`cbp`), shrink and perturb, and the plasticity diagnostics (dead units, effective rank,
//! weight magnitude). The stream
//! runner, `plasticity continual`, is in `plasticity-train`.

pub mod cbp;
pub mod diagnostics;
pub mod ewc;
pub mod shrink_perturb;
