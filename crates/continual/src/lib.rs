//! Continual-learning methods that are not optimizers (CLASSP is an `[optimizer]` kind in
//! `plasticity-core`): EWC and online EWC. Work in progress: the penalty and the importance
//! update; the Fisher estimators and the `Method` come next.

pub mod ewc;
