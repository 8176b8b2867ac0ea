//! End-to-end tests live in `it/`. This library holds what more than one package uses: the
//! scriptable HTTP mock (the REST client's and the CLI's tests), and the properties that both
//! the fuzz targets (`fuzz/`) and the never-panics proptests (`it/never_panics.rs`) check.

mod mock_http;
pub mod properties;

pub use mock_http::{MockHttp, Seen};

/// What [`moveo_dialog::Server`] serves, as one bound for the tests' generic helpers: any
/// `tower::Service` over `http::Request<hyper::body::Incoming>` whose response body is an
/// `http_body::Body`.
pub trait Served:
    tower::Service<
        http::Request<hyper::body::Incoming>,
        Response = http::Response<Self::ResponseBody>,
        Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
    /// The response body.
    type ResponseBody: http_body::Body<Data: Send, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static;
}

impl<S, B> Served for S
where
    S: tower::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type ResponseBody = B;
}
