//! Who is calling: the TCP peer the server saw, and the address allowlist checked against it
//! before a body is read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::HeaderName;

/// The caller's TCP address. [`Server`](crate::Server) adds it to every request's extensions;
/// when an endpoint with an address allowlist runs inside another server, add it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);

/// The addresses allowed to call an endpoint, and where to read the caller's address.
#[derive(Debug, Clone)]
pub(crate) struct Allowlist {
    pub(crate) ips: Arc<[IpAddr]>,
    pub(crate) proxy_header: Option<HeaderName>,
}

impl Allowlist {
    /// Whether the call comes from an allowed address.
    pub(crate) fn admits(&self, parts: &http::request::Parts) -> bool {
        self.caller(parts).is_some_and(|ip| self.ips.contains(&ip.to_canonical()))
    }

    fn caller(&self, parts: &http::request::Parts) -> Option<IpAddr> {
        if let Some(header) = &self.proxy_header {
            return parts
                .headers
                .get_all(header)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .and_then(|last| last.trim().parse().ok());
        }
        parts.extensions.get::<RemoteAddr>().map(|addr| addr.0.ip())
    }
}
