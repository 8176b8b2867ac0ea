//! What an endpoint answers, on its way out of the pipeline: a status, a body and which of the
//! few header sets goes with it, 40 bytes. The `http::Response` (144 bytes, its `HeaderMap`
//! allocated and hashed into) is built once, where the server hands it to hyper: carried
//! through the pipeline's layers, each layer's return copied all of it (`bash
//! benches/copies.sh`: seven 144-byte copies a request).

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;

use super::rejection::ResponseBody;

/// What the body is, for its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/json`: every reply and rejection.
    Json,
    /// OpenMetrics text: `GET /metrics`.
    #[cfg(feature = "metrics")]
    OpenMetrics,
}

impl BodyKind {
    fn content_type(self) -> HeaderValue {
        match self {
            Self::Json => HeaderValue::from_static("application/json"),
            #[cfg(feature = "metrics")]
            Self::OpenMetrics => HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        }
    }
}

/// An endpoint's answer to one call, made into a response by [`into_response`](Self::into_response).
#[must_use = "an answer does nothing until it is sent"]
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) kind: BodyKind,
    /// Sent with `Connection: close`, so the client sends nothing more on the connection.
    pub(crate) close: bool,
}

impl Answer {
    /// A JSON answer: `body` owned, or a `&'static [u8]` sent without a copy.
    pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Self { status, body: body.into(), kind: BodyKind::Json, close: false }
    }

    /// The response, its body made into `B` by `wrap` (the server's guarded body). Inlined:
    /// the response is then built where it is returned, not built and copied there.
    #[inline(always)]
    pub(crate) fn into_response_with<B>(self, wrap: impl FnOnce(ResponseBody) -> B) -> Response<B> {
        let mut response = Response::new(wrap(Full::new(self.body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, self.kind.content_type());
        if self.close {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }

    /// The response.
    pub(crate) fn into_response(self) -> Response<ResponseBody> {
        self.into_response_with(|body| body)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn an_answer_becomes_the_response_it_describes() {
        let response = Answer::json(StatusCode::ACCEPTED, &b"{}"[..]).into_response();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers().len(), 1);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body = response.into_body().collect().await.map(|body| body.to_bytes());
        assert_eq!(body.ok().as_deref(), Some(&b"{}"[..]));

        let closing = Answer { close: true, ..Answer::json(StatusCode::PAYLOAD_TOO_LARGE, "x") }.into_response();
        assert_eq!(closing.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(closing.headers()[CONNECTION], "close");
        assert_eq!(closing.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn an_answer_is_small() {
        // The point of it: moved through every layer of the pipeline in place of a response.
        assert!(std::mem::size_of::<Answer>() <= 40, "{}", std::mem::size_of::<Answer>());
    }
}
