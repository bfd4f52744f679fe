//! Elastic weight consolidation (Kirkpatrick et al., PNAS 2017) and online EWC (Schwarz et al.
//! 2018, "Progress & Compress"), spec ../shared/specs/continual.md §2.1–2.2.

pub mod config;
pub mod fisher;
pub mod method;
pub mod penalty;

pub use config::{EwcConfig, EwcMode};
pub use fisher::{FisherEstimator, Importance, fisher};
pub use method::EwcMethod;
pub use penalty::{Anchor, Convention, consolidate};
