//! Benchmarks: `cargo bench -p moveo-dialog-benches`.
