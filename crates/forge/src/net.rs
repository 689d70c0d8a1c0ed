//! The guarded HTTP layer every forge request goes through.
//!
//! S-Express only ever talks to the forge API hosts an operator configured. The guard holds
//! that line even if a bug or a hostile payload produced another URL:
//!
//! * the resolver refuses any host but the configured one, and drops loopback, private,
//!   link-local, CGNAT, multicast and other non-global addresses — unless the configured host is
//!   itself such an address (a test server, an intranet forge the operator named explicitly);
//!   because the check sits in the resolver, the address connected to is the address checked
//!   (no DNS-rebinding window);
//! * redirects are not followed (a 3xx is an error naming the status);
//! * no proxy from the environment; plain `http://` only when the configured base URL says so;
//! * every request has a global deadline and every response body a size cap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// Size and time limits of forge requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response body read, in bytes.
    pub max_bytes: u64,
    /// Deadline of one request (resolve, connect, send, read).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 << 20,
            timeout: Duration::from_secs(20),
        }
    }
}

/// Whether an address is on the public internet. Anything else (loopback, RFC 1918, link-local,
/// CGNAT, unique-local, multicast, documentation, reserved, IPv4-mapped forms of those) is not.
#[must_use]
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_global_v4(v4);
    }
    let seg = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x64 && seg[1] == 0xff9b) // NAT64: may reach anything
        || (seg[0] == 0 && seg[1] == 0 && seg[2] == 0 && seg[3] == 0 && seg[4] == 0)) // IPv4-compatible and reserved
}

/// Whether a configured host names a non-global address itself (`127.0.0.1`, `[::1]`,
/// `localhost`, `10.1.2.3`): then the operator chose it, and the guard lets it through.
#[must_use]
pub fn host_is_local_literal(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| !is_global(ip))
}

/// The resolver that only resolves the configured host and only to acceptable addresses.
#[derive(Debug)]
struct GuardResolver {
    host: String,
    allow_private: bool,
    inner: DefaultResolver,
}

fn refused(message: String) -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        message,
    ))
}

impl Resolver for GuardResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if !bare.eq_ignore_ascii_case(&self.host) {
            return Err(refused(format!(
                "refusing to connect to {host:?}: S-Express only talks to the configured forge API host {:?}",
                self.host
            )));
        }
        let resolved = self.inner.resolve(uri, config, timeout)?;
        let mut kept = self.inner.empty();
        let mut dropped = Vec::new();
        for addr in resolved.iter().copied() {
            if self.allow_private || is_global(addr.ip()) {
                kept.push(addr);
            } else {
                dropped.push(addr.ip());
            }
        }
        if kept.is_empty() {
            return Err(refused(format!(
                "refusing to connect to {host}: it resolves to non-public addresses {dropped:?}; configure the forge by that address or allow private networks explicitly if this is an intranet forge"
            )));
        }
        Ok(kept)
    }
}

/// Builds the guarded agent for one configured host.
pub(crate) fn agent(
    host: &str,
    allow_private: Option<bool>,
    https_only: bool,
    limits: Limits,
) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .https_only(https_only)
        .proxy(None)
        .timeout_global(Some(limits.timeout))
        .user_agent(concat!("s-express/", env!("CARGO_PKG_VERSION")))
        .build();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        GuardResolver {
            host: bare.to_ascii_lowercase(),
            allow_private: allow_private.unwrap_or_else(|| host_is_local_literal(host)),
            inner: DefaultResolver::default(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_global() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_global(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["140.82.112.3", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_local_literals_open_the_guard() {
        assert!(host_is_local_literal("127.0.0.1"));
        assert!(host_is_local_literal("[::1]"));
        assert!(host_is_local_literal("localhost"));
        assert!(!host_is_local_literal("api.github.com"));
        assert!(!host_is_local_literal("8.8.8.8"));
    }
}
