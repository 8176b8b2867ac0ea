//! Who is calling: the TCP peer the server saw, the forwarded-for header when (and only when)
//! that peer is a trusted proxy, and the address allowlist checked before a body is read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::HeaderName;
pub use ipnet::IpNet;

/// The caller's TCP address. [`Server`](crate::Server) gives it to every call: a handler finds
/// it in [`Call::extensions`](crate::extract::Call::extensions), a `tower::Service` the server
/// runs (a layered router, say) in the request's extensions. When an endpoint with an address
/// allowlist runs inside another server, add it to the request's extensions there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoteAddr(pub SocketAddr);

/// Which callers an endpoint answers, and how it learns the caller's address.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressPolicy {
    /// The allowed ranges; `None` answers every address.
    pub(crate) allow: Option<Arc<[IpNet]>>,
    /// The header a trusted proxy writes the client's address in (`x-forwarded-for`).
    pub(crate) proxy_header: Option<HeaderName>,
    /// The proxies whose forwarded-for header is believed.
    pub(crate) trusted_proxies: Arc<[IpNet]>,
}

fn canonical_nets(ranges: impl IntoIterator<Item = impl Into<IpNet>>) -> Arc<[IpNet]> {
    ranges
        .into_iter()
        .map(|range| {
            let range: IpNet = range.into();
            match range.addr().to_canonical() {
                // An IPv4-mapped IPv6 range (::ffff:a.b.c.d/n with n >= 96) is an IPv4 range.
                IpAddr::V4(v4) if range.addr().is_ipv6() => {
                    IpNet::new(IpAddr::V4(v4), range.prefix_len().saturating_sub(96)).unwrap_or(range)
                }
                _ => range,
            }
        })
        .collect()
}

impl AddressPolicy {
    pub(crate) fn allow(&mut self, ranges: impl IntoIterator<Item = impl Into<IpNet>>) {
        self.allow = Some(canonical_nets(ranges));
    }

    pub(crate) fn trust_proxies(&mut self, ranges: impl IntoIterator<Item = impl Into<IpNet>>) {
        self.trusted_proxies = canonical_nets(ranges);
    }

    /// Whether the call comes from an allowed address; `peer` is the TCP peer when the server
    /// gave it in place, else it is read from the request's extensions.
    pub(crate) fn admits(&self, parts: &http::request::Parts, peer: Option<RemoteAddr>) -> bool {
        let Some(allow) = &self.allow else { return true };
        self.caller(parts, peer).is_some_and(|ip| allow.iter().any(|range| range.contains(&ip)))
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|range| range.contains(&ip))
    }

    /// The caller: the TCP peer, unless the peer is a trusted proxy; then the forwarded-for
    /// header walked right to left, skipping trusted hops, and the first address that is not a
    /// trusted proxy (or the leftmost, when every hop is trusted). An unparsable hop ends the
    /// walk there: what lies left of it cannot be trusted.
    pub(crate) fn caller(&self, parts: &http::request::Parts, peer: Option<RemoteAddr>) -> Option<IpAddr> {
        let peer =
            peer.or_else(|| parts.extensions.get::<RemoteAddr>().copied()).map(|addr| addr.0.ip().to_canonical());
        let Some(header) = &self.proxy_header else { return peer };
        let peer = peer?;
        if !self.trusted(peer) {
            return Some(peer);
        }
        let mut caller = peer;
        let hops = parts.headers.get_all(header).iter().filter_map(|value| value.to_str().ok()).collect::<Vec<_>>();
        for hop in hops.iter().rev().flat_map(|value| value.rsplit(',')) {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { return None };
            caller = ip.to_canonical();
            if !self.trusted(caller) {
                break;
            }
        }
        Some(caller)
    }

    /// A warning for the start-up log when the configuration cannot do what it says.
    pub(crate) fn warning(&self) -> Option<&'static str> {
        (self.proxy_header.is_some() && self.trusted_proxies.is_empty()).then_some(
            "a trusted proxy header is set but no trusted proxies: the header is ignored (set trusted_proxies)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: &[&str]) -> http::request::Parts {
        let mut request = http::Request::new(());
        request.extensions_mut().insert(RemoteAddr(peer.parse().unwrap()));
        for value in forwarded {
            request.headers_mut().append("x-forwarded-for", value.parse().unwrap());
        }
        request.into_parts().0
    }

    fn policy(trusted: &[&str]) -> AddressPolicy {
        let mut policy = AddressPolicy::default();
        policy.allow(["18.192.167.150".parse::<IpAddr>().unwrap()]);
        policy.proxy_header = Some(HeaderName::from_static("x-forwarded-for"));
        policy.trust_proxies(trusted.iter().map(|range| range.parse::<IpNet>().unwrap()));
        policy
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_proxy() {
        let untrusted = policy(&[]);
        assert!(!untrusted.admits(&parts("127.0.0.1:9", &["18.192.167.150"]), None), "a spoofed header is ignored");
        let trusted = policy(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert!(trusted.admits(&parts("127.0.0.1:9", &["18.192.167.150"]), None));
        assert!(!trusted.admits(&parts("192.0.2.1:9", &["18.192.167.150"]), None), "a peer that is not a proxy");
        // Right to left, skipping trusted hops: the client's own claim on the left is not it.
        assert!(trusted.admits(&parts("127.0.0.1:9", &["6.6.6.6, 18.192.167.150, 10.1.2.3"]), None));
        assert!(!trusted.admits(&parts("127.0.0.1:9", &["18.192.167.150, 6.6.6.6"]), None));
        assert!(trusted.admits(&parts("127.0.0.1:9", &["6.6.6.6", "18.192.167.150"]), None), "several header lines");
        assert!(!trusted.admits(&parts("127.0.0.1:9", &["18.192.167.150, junk"]), None), "an unparsable hop");
        assert!(!trusted.admits(&parts("127.0.0.1:9", &[]), None), "no header: the proxy itself is the caller");
        assert!(trusted.warning().is_none() && untrusted.warning().is_some());
    }

    #[test]
    fn ranges_match_ipv4_mapped_addresses() {
        let mut policy = AddressPolicy::default();
        policy.allow(["10.0.0.0/8".parse::<IpNet>().unwrap()]);
        assert!(policy.admits(&parts("[::ffff:10.1.2.3]:9", &[]), None));
        assert!(!policy.admits(&parts("[::ffff:11.1.2.3]:9", &[]), None));
        assert!(policy.admits(&parts("10.200.0.1:9", &[]), None));
    }

    /// The server gives its own endpoints the peer in place, not in the extensions.
    #[test]
    fn the_peer_given_in_place_is_the_caller() {
        let mut policy = AddressPolicy::default();
        policy.allow(["10.0.0.0/8".parse::<IpNet>().unwrap()]);
        let (bare, ()) = http::Request::new(()).into_parts();
        let peer = |addr: &str| Some(RemoteAddr(addr.parse().unwrap()));
        assert!(policy.admits(&bare, peer("10.1.2.3:9")));
        assert!(!policy.admits(&bare, peer("11.1.2.3:9")));
        assert!(!policy.admits(&bare, None), "no peer at all: refused");
        assert!(policy.admits(&parts("10.1.2.3:9", &[]), None), "else the one in the extensions");
    }
}
