//! Continual-learning methods that are not optimizers (CLASSP is an `[optimizer]` kind in
//! `plasticity-core`): EWC and online EWC, as a `Method` (penalty, Fisher estimators, state).
//! Work in progress: the `[ewc]` table and the stream runner that calls `task_end` between
//! tasks come next.

pub mod ewc;
