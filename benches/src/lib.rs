//! Benchmarks: `cargo bench -p moveo-dialog-benches`, `bash benches/load.sh`.
//!
//! [`same_work`] is the erasmus example's work by hand, shared by the two baselines of the load
//! benchmark: `typed-hyper` (hyper 1 alone) and `axum-same-work` (axum 0.8).

pub mod same_work;
