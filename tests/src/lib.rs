//! End-to-end tests live in `it/`. This library holds what more than one package uses: the
//! scriptable HTTP mock (the REST client's and the CLI's tests), and the properties that both
//! the fuzz targets (`fuzz/`) and the never-panics proptests (`it/never_panics.rs`) check.

mod mock_http;
pub mod properties;

pub use mock_http::{MockHttp, Seen};
