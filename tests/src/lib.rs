//! End-to-end tests live in `it/`. This library holds what more than one package uses: the
//! scriptable HTTP mock (the REST client's and the CLI's tests), the properties that both
//! the fuzz targets (`fuzz/`) and the never-panics proptests (`it/never_panics.rs`) check, and
//! the spec's examples built with the library (the wire tests and the benchmarks).

mod mock_http;
pub mod properties;
pub mod spec;

pub use mock_http::{MockHttp, Seen};
