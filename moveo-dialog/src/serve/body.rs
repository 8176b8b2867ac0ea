//! The checks every endpoint runs before it reads a body (method, content type, encoding and
//! declared size), then the body itself under a size limit and a timeout.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::answer::Answer;
use super::deadline::ready_or_by;
use super::quota::Quota;
use super::rejection::Rejection;

pub(crate) fn header_str(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn is_json(value: &http::HeaderValue) -> bool {
    // What Moveo sends, compared as bytes before the general case.
    let value = value.as_bytes();
    value == b"application/json"
        || value
            .split(|&byte| byte == b';')
            .next()
            .is_some_and(|essence| essence.trim_ascii().eq_ignore_ascii_case(b"application/json"))
}

/// Whether a request is the health check, `GET /healthz`.
pub(crate) fn is_healthz(method: &Method, uri: &http::Uri) -> bool {
    method == Method::GET && uri.path() == "/healthz"
}

/// `GET /healthz` answers 200 on every endpoint, before any check.
pub(crate) fn healthz(method: &Method, uri: &http::Uri) -> Option<Answer> {
    is_healthz(method, uri).then(|| Answer::json(http::StatusCode::OK, &br#"{"status":"ok"}"#[..]))
}

/// Checks, in order, the method (405), the content type and encoding (415) and the declared
/// size (413: the `Content-Length`, else `exact`, the body's exact size hint), from the request
/// head alone; returns the declared size. Each header counts by its first value, as
/// `HeaderMap::get` reads it; every `X-Moveo-Signature` value is marked sensitive (a credential
/// for this body, kept out of every `Debug` of the headers).
///
/// One pass over the headers, rather than a hashed lookup for each of the four: a request has
/// a handful of headers, and each lookup hashes its name.
pub(crate) fn check_head(
    parts: &mut http::request::Parts,
    exact: Option<u64>,
    limit: usize,
) -> Result<Option<u64>, Rejection> {
    let (mut content_type, mut encoding, mut length) = (None, None, None);
    for (name, value) in &mut parts.headers {
        if *name == CONTENT_TYPE {
            content_type = content_type.or(Some(&*value));
        } else if *name == CONTENT_LENGTH {
            length = length.or(Some(&*value));
        } else if *name == CONTENT_ENCODING {
            encoding = encoding.or(Some(&*value));
        } else if *name == crate::verify::SIGNATURE_HEADER_NAME {
            value.set_sensitive(true);
        }
    }
    if parts.method != Method::POST {
        return Err(Rejection::method_not_allowed());
    }
    if !content_type.is_some_and(is_json) {
        return Err(Rejection::unsupported_media_type());
    }
    if encoding.is_some_and(|encoding| !encoding.as_bytes().trim_ascii().eq_ignore_ascii_case(b"identity")) {
        return Err(Rejection::unsupported_encoding());
    }
    let declared = match length {
        Some(length) => std::str::from_utf8(length.as_bytes().trim_ascii()).ok().and_then(|length| length.parse().ok()),
        None => exact,
    };
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Rejection::payload_too_large(limit));
    }
    Ok(declared)
}

/// What every call of one server counts against: shutdown, the requests in flight and the
/// body bytes its endpoints hold at once. One per server; each call holds it through one `Arc`.
#[derive(Debug)]
pub(crate) struct ServerLimits {
    pub(crate) shutting_down: std::sync::atomic::AtomicBool,
    pub(crate) in_flight: Quota,
    pub(crate) body_budget: Quota,
}

/// One call's place under its server's limits: whether it counts as in flight and the body
/// bytes it holds, both given back when it is dropped (when the call is answered). Given to the
/// framework's own endpoints as an argument, and to any other service through the task-local
/// [`CALL_LIMITS`] (no allocation per call, unlike a request extension). Neither outside a
/// [`Server`](crate::Server).
pub(crate) struct CallLimits {
    server: Arc<ServerLimits>,
    in_flight: Cell<bool>,
    reserved: Cell<usize>,
}

impl CallLimits {
    /// Counts a new call as in flight; `None` at the limit.
    pub(crate) fn admit(server: Arc<ServerLimits>) -> Option<Self> {
        server.in_flight.try_take(1).then(|| Self { server, in_flight: Cell::new(true), reserved: Cell::new(0) })
    }
}

impl Drop for CallLimits {
    fn drop(&mut self) {
        if self.in_flight.get() {
            self.server.in_flight.give_back(1);
        }
        if self.reserved.get() > 0 {
            self.server.body_budget.give_back(self.reserved.get());
        }
    }
}

tokio::task_local! {
    pub(crate) static CALL_LIMITS: CallLimits;
}

/// Runs `f` with the call's limits: those the server gave the call in place, else those of the
/// task it runs in (a call through `tower::Service`); `None` outside a [`Server`](crate::Server).
fn with_limits<R>(given: Option<&CallLimits>, f: impl FnOnce(&CallLimits) -> R) -> Option<R> {
    match given {
        Some(limits) => Some(f(limits)),
        None => CALL_LIMITS.try_with(f).ok(),
    }
}

/// Stops counting the call as in flight while its body is waited for: a slow body (bounded by
/// the body budget and the body timeout) must not take the place of a call ready to run. (A
/// body already in the connection's buffer is read without a pause: two atomic operations on a
/// counter every core shares, saved.)
pub(crate) fn pause_in_flight(given: Option<&CallLimits>) {
    with_limits(given, |limits| {
        if limits.in_flight.replace(false) {
            limits.server.in_flight.give_back(1);
        }
    });
}

/// Counts the call as in flight again once its body is read.
///
/// # Errors
///
/// 503 `overloaded` when the requests in flight are at the limit now.
pub(crate) fn resume_in_flight(given: Option<&CallLimits>) -> Result<(), Rejection> {
    let resumed = with_limits(given, |limits| {
        limits.in_flight.get() || {
            let taken = limits.server.in_flight.try_take(1);
            limits.in_flight.set(taken);
            taken
        }
    });
    match resumed {
        None | Some(true) => Ok(()),
        Some(false) => Err(Rejection::overloaded()),
    }
}

/// Reserves room for the body in the server's budget (when the request came through a
/// [`Server`](crate::Server)), held until the call is answered: its declared length (as
/// [`check_head`] read it), or `limit` when it declares none.
///
/// # Errors
///
/// 503 `overloaded` when the budget is spent.
pub(crate) fn reserve(given: Option<&CallLimits>, declared: Option<u64>, limit: usize) -> Result<(), Rejection> {
    let bytes = declared.and_then(|length| usize::try_from(length).ok()).unwrap_or(limit).min(limit);
    let reserved = with_limits(given, |limits| {
        let taken = limits.server.body_budget.try_take(bytes);
        if taken {
            limits.reserved.set(limits.reserved.get() + bytes);
        }
        taken
    });
    if reserved == Some(false) {
        tracing::warn!(bytes, "the server's body budget is spent: refusing a body before reading it");
        return Err(Rejection::overloaded());
    }
    Ok(())
}

/// Reads the body: 413 as soon as it passes `limit`, without reading the rest; 503
/// `body_timeout` (with `Connection: close`) when it takes longer than `timeout`, a status a
/// retry can fix. `waiting` runs once, when the body is not all there on the first poll and
/// has to be waited for.
pub(crate) async fn read<B>(
    body: B,
    limit: usize,
    timeout: Duration,
    waiting: impl FnOnce(),
) -> Result<Bytes, Rejection>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // A body already in the connection's buffer is read on the first poll: the timer (and its
    // clock read) is set up only for one that has to be waited for.
    // Pinned here and lent to the deadline: moved into it, the collecting future's 176 bytes
    // were copied once more.
    let mut collect = std::pin::pin!(Limited::new(body, limit).collect());
    let by = || {
        waiting();
        tokio::time::Instant::now() + timeout
    };
    let Some(read) = ready_or_by(collect.as_mut(), by).await else {
        return Err(Rejection::body_timeout());
    };
    match read {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(Rejection::payload_too_large(limit)),
        Err(_) => Err(Rejection::unreadable_body()),
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http_body::Frame;
    use http_body_util::Full;

    use super::*;

    /// A body whose bytes never come.
    struct Stalled;

    impl http_body::Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    fn head(headers: &[(&str, &[u8])]) -> http::request::Parts {
        let mut request = http::Request::post("/webhook").body(()).unwrap();
        for (name, value) in headers {
            let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            request.headers_mut().insert(name, http::HeaderValue::from_bytes(value).unwrap());
        }
        request.into_parts().0
    }

    #[test]
    fn the_head_is_checked_before_the_body() {
        let code = |mut parts: http::request::Parts, exact| {
            check_head(&mut parts, exact, 100)
                .map_err(|r| if r.message().contains("encoded") { "encoded" } else { r.code() })
        };
        let json: (&str, &[u8]) = ("content-type", b"application/json");
        assert_eq!(code(head(&[json]), None), Ok(None));
        assert_eq!(code(head(&[("content-type", b"Application/JSON ; charset=utf-8")]), None), Ok(None));
        assert_eq!(code(head(&[("content-type", b"text/plain")]), None), Err("unsupported_media_type"));
        // Blanks around a value are ASCII ones: a non-breaking space is not one.
        assert_eq!(code(head(&[("content-type", b"application/json\xc2\xa0")]), None), Err("unsupported_media_type"));
        assert_eq!(code(head(&[("content-type", b"application/jsonx")]), None), Err("unsupported_media_type"));
        assert_eq!(code(head(&[json, ("content-encoding", b" identity ")]), None), Ok(None));
        assert_eq!(code(head(&[json, ("content-encoding", b"gzip")]), None), Err("encoded"));
        assert_eq!(code(head(&[json, ("content-encoding", b"\xffidentity")]), None), Err("encoded"));
        // The declared size: `Content-Length`, else the body's exact size.
        assert_eq!(code(head(&[json, ("content-length", b"100")]), Some(5)), Ok(Some(100)));
        assert_eq!(code(head(&[json, ("content-length", b"101")]), Some(5)), Err("payload_too_large"));
        assert_eq!(code(head(&[json]), Some(101)), Err("payload_too_large"));
        assert_eq!(code(head(&[json]), Some(7)), Ok(Some(7)));
        assert_eq!(code(head(&[json, ("content-length", b" 42\t")]), None), Ok(Some(42)));
        assert_eq!(code(head(&[json, ("content-length", b"4 2")]), Some(5)), Ok(None));
    }

    /// The one pass reads each header by its first value, as `HeaderMap::get` does, and marks
    /// every signature sensitive, so no `Debug` of the headers shows it.
    #[test]
    fn the_head_counts_first_values_and_hides_every_signature() {
        let mut parts = head(&[]);
        for (name, value) in [
            ("x-moveo-signature", "aa11"),
            ("content-type", "application/json"),
            ("content-type", "text/plain"),
            ("content-length", "5"),
            ("content-length", "500"),
            ("x-moveo-signature", "bb22"),
        ] {
            parts.headers.append(name, http::HeaderValue::from_static(value));
        }
        assert_eq!(check_head(&mut parts, None, 100).map_err(|r| r.code()), Ok(Some(5)));
        let signatures: Vec<_> = parts.headers.get_all("x-moveo-signature").iter().collect();
        assert_eq!(signatures.len(), 2);
        assert!(signatures.iter().all(|value| value.is_sensitive()));
        let shown = format!("{:?}", parts.headers);
        assert!(!shown.contains("aa11") && !shown.contains("bb22"), "{shown}");
        assert!(shown.contains("application/json"), "other headers are shown: {shown}");

        let mut refused = head(&[("content-type", b"text/plain")]);
        refused.headers.append("content-type", http::HeaderValue::from_static("application/json"));
        assert_eq!(check_head(&mut refused, None, 100).map_err(|r| r.code()), Err("unsupported_media_type"));
    }

    /// A call holds its place in flight and its body bytes until it is dropped, gives its place
    /// back while its body is read, and is refused (and holds nothing) past either limit.
    #[test]
    fn a_call_gives_back_what_it_holds() {
        let server = Arc::new(ServerLimits {
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            in_flight: Quota::new(1),
            body_budget: Quota::new(100),
        });
        let call = CallLimits::admit(Arc::clone(&server)).expect("room for one");
        assert!(CallLimits::admit(Arc::clone(&server)).is_none(), "one in flight at most");
        assert!(reserve(Some(&call), Some(60), 1000).is_ok());
        assert_eq!(reserve(Some(&call), Some(60), 1000).err().map(|r| r.code()), Some("overloaded"));
        assert!(reserve(Some(&call), None, 40).is_ok(), "no declared length: the body limit");
        pause_in_flight(Some(&call));
        pause_in_flight(Some(&call));
        let other = CallLimits::admit(Arc::clone(&server)).expect("a paused call is not in flight");
        assert_eq!(resume_in_flight(Some(&call)).err().map(|r| r.code()), Some("overloaded"));
        drop(other);
        assert!(resume_in_flight(Some(&call)).is_ok());
        assert!(resume_in_flight(Some(&call)).is_ok(), "resuming twice takes one place");
        assert!(CallLimits::admit(Arc::clone(&server)).is_none());
        drop(call);
        assert!(server.in_flight.try_take(1) && server.body_budget.try_take(100), "all given back");
        // Outside a server there are no limits.
        assert!(reserve(None, Some(u64::MAX), 10).is_ok() && resume_in_flight(None).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_is_read_at_once_or_within_its_timeout() {
        let read_at_once =
            read(Full::new(Bytes::from_static(b"{}")), 16, Duration::from_secs(10), || panic!("no wait")).await;
        assert_eq!(read_at_once.ok(), Some(Bytes::from_static(b"{}")));
        let too_large = read(Full::new(Bytes::from_static(b"{\"a\": 1}")), 4, Duration::from_secs(10), || ()).await;
        assert_eq!(too_large.err().map(|rejection| rejection.code()), Some("payload_too_large"));
        let started = tokio::time::Instant::now();
        let waited = std::cell::Cell::new(0);
        let stalled = read(Stalled, 16, Duration::from_secs(10), || waited.set(waited.get() + 1)).await;
        assert_eq!(waited.get(), 1, "a body that has to be waited for is told once");
        assert_eq!(stalled.err().map(|rejection| rejection.code()), Some("body_timeout"));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }
}
