//! `ip-literal-endpoint`: code that talks to a raw public IP address — a URL with an IP host,
//! a socket connect to a quoted IP, or bash's `/dev/tcp/IP/PORT`. Legitimate software names
//! its servers; exfiltration and reverse shells often skip DNS (the Codecov uploader POSTed the
//! environment to a bare IP).
//!
//! Loopback, private (RFC 1918), CGNAT, link-local, multicast and unspecified addresses are
//! quiet — except the cloud metadata address 169.254.169.254, which is where instance
//! credentials are read from. The documentation ranges (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24, 2001:db8::/32) deliberately FIRE: fixtures and examples use them as
//! stand-ins for attacker hosts, and nothing legitimate connects to them.
//!
//! The patterns anchor on `://` followed by a digit (nine literals) rather than on `://`, so
//! ordinary URLs never reach the regex.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern, Role};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct IpLiteralEndpoint;

static META: DetectorMeta = DetectorMeta::new(
    "ip-literal-endpoint",
    "Connection to a raw public IP address",
    Severity::High,
    Confidence::Medium,
    &[Vector::Exfiltration],
    &[],
    "The change makes the code contact a public IP address written directly in the source instead \
     of a host name. Legitimate services are named; droppers, reverse shells and exfiltration \
     endpoints often are not — the Codecov uploader sent every CI environment to a bare IP. Find \
     out who owns the address and what is sent there.",
);

const NOT_DOCS: &[FileScope] = &[FileScope::Source, FileScope::Test, FileScope::ExecutionPath];

const URL_V4: &str = r"://(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?(?:[/?#\s'\x22`)]|$)";
const URL_V6: &str = r"://\[([0-9A-Fa-f:.]+)\]";
const DEV_TCP: &str = r"/dev/(?:tcp|udp)/(\d{1,3}(?:\.\d{1,3}){3})/\d+";
const QUOTED_IP: &str = r#"(?:connect|Connection|connection|Dial|DialTimeout|open)\w*\s*\([^)]{0,80}?["'](\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?["']"#;

const P_DEV_TCP: usize = 10;

macro_rules! url4 {
    ($lit:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .regex(URL_V4)
            .role(Role::NetworkSink, "network")
    };
}

static PATTERNS: &[LinePattern] = &[
    url4!("://1"),
    url4!("://2"),
    url4!("://3"),
    url4!("://4"),
    url4!("://5"),
    url4!("://6"),
    url4!("://7"),
    url4!("://8"),
    url4!("://9"),
    LinePattern::lit("://[")
        .files(NOT_DOCS)
        .regex(URL_V6)
        .role(Role::NetworkSink, "network"),
    LinePattern::lit("/dev/tcp/")
        .files(NOT_DOCS)
        .regex(DEV_TCP)
        .role(Role::NetworkSink, "network"),
    LinePattern::lit("/dev/udp/")
        .files(NOT_DOCS)
        .regex(DEV_TCP)
        .role(Role::NetworkSink, "network"),
    LinePattern::lit("connect(")
        .files(NOT_DOCS)
        .regex(QUOTED_IP)
        .role(Role::NetworkSink, "network"),
    LinePattern::lit("Connection(")
        .files(NOT_DOCS)
        .regex(QUOTED_IP)
        .role(Role::NetworkSink, "network"),
    LinePattern::lit("Dial(")
        .files(NOT_DOCS)
        .regex(QUOTED_IP)
        .role(Role::NetworkSink, "network"),
    LinePattern::lit("DialTimeout(")
        .files(NOT_DOCS)
        .regex(QUOTED_IP)
        .role(Role::NetworkSink, "network"),
];

/// Markers that the same line carries secrets or the environment.
const SECRET_MARKERS: &[&str] = &[
    "$(env)",
    "`env`",
    "printenv",
    "process.env",
    "os.environ",
    "getenv",
    "git remote",
    "token",
    "secret",
    "password",
    ".ssh/",
    "credentials",
    "id_rsa",
];

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Public (including documentation ranges).
    Public,
    /// 169.254.169.254 / fd00:ec2::254: cloud instance metadata (credentials).
    Metadata,
    /// Loopback, private, link-local, CGNAT, multicast, unspecified, broadcast.
    Internal,
}

fn kind_v4(ip: Ipv4Addr) -> Kind {
    let o = ip.octets();
    if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] {
        return Kind::Metadata;
    }
    let cgnat = o[0] == 100 && (64..128).contains(&o[1]);
    if ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || cgnat
        || o[0] == 0
    {
        return Kind::Internal;
    }
    Kind::Public
}

fn kind_v6(ip: Ipv6Addr) -> Kind {
    let s = ip.segments();
    if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] {
        return Kind::Metadata;
    }
    let unique_local = (s[0] & 0xfe00) == 0xfc00;
    let link_local = (s[0] & 0xffc0) == 0xfe80;
    if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local {
        return Kind::Internal;
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return kind_v4(v4);
    }
    Kind::Public
}

/// The first IP address in the matched text, classified. Tokens are split on characters that
/// cannot occur in an address, so a port or other number before it is skipped.
fn address(hit: &Hit<'_>) -> Option<(String, Kind)> {
    for tok in hit
        .matched()
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
    {
        let tok = tok.trim_matches(|c| c == ':' || c == '.');
        if let Ok(v4) = tok.parse::<Ipv4Addr>() {
            return Some((tok.to_string(), kind_v4(v4)));
        }
        // "203.0.113.5:443" — a v4 address with its port.
        if let Some((host, _)) = tok.rsplit_once(':')
            && let Ok(v4) = host.parse::<Ipv4Addr>()
        {
            return Some((host.to_string(), kind_v4(v4)));
        }
        if tok.contains(':')
            && let Ok(v6) = tok.parse::<Ipv6Addr>()
        {
            return Some((tok.to_string(), kind_v6(v6)));
        }
    }
    None
}

impl Detector for IpLiteralEndpoint {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let Some((addr, kind)) = address(hit) else {
            return;
        };
        let lower = hit.text.to_ascii_lowercase();
        let secrets = SECRET_MARKERS.iter().any(|m| lower.contains(m));
        let dev_tcp = hit.pattern == P_DEV_TCP || hit.pattern == P_DEV_TCP + 1;
        let (title, severity, confidence) = match kind {
            Kind::Internal => return,
            Kind::Metadata => (
                format!("Reads the cloud instance metadata service ({addr})"),
                Severity::High,
                Confidence::Medium,
            ),
            // Test data (snapshots, vectors) is never run: it may record such a line as
            // text. Still shown, at the lowest weight.
            Kind::Public if file.class.is_test_data() => (
                format!("Test data names raw public IP {addr}"),
                Severity::Low,
                Confidence::Low,
            ),
            Kind::Public if dev_tcp => (
                format!("Raw TCP connection to {addr} through /dev/tcp (reverse-shell shape)"),
                Severity::Critical,
                Confidence::High,
            ),
            Kind::Public if secrets => (
                format!("Secrets or the environment sent to raw IP {addr}"),
                Severity::Critical,
                Confidence::High,
            ),
            Kind::Public if file.class.test => (
                format!("Test contacts raw public IP {addr}"),
                Severity::Medium,
                Confidence::Low,
            ),
            Kind::Public => (
                format!("Connection to raw public IP {addr}"),
                Severity::High,
                Confidence::Medium,
            ),
        };
        let mut b = META
            .finding(hit.location(file.path()))
            .title(title)
            .severity(severity)
            .confidence(confidence)
            .evidence(hit.text.trim());
        if let Some(l) = file.class.language {
            b = b.language(l);
        }
        out.push(b.build());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Kind {
        kind_v4(s.parse().unwrap())
    }

    #[test]
    fn internal_ranges_are_quiet_and_documentation_ranges_are_public() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
        ] {
            assert_eq!(v4(s), Kind::Internal, "{s}");
        }
        for s in ["192.0.2.10", "198.51.100.7", "203.0.113.9", "8.8.8.8"] {
            assert_eq!(v4(s), Kind::Public, "{s}");
        }
        assert_eq!(v4("169.254.169.254"), Kind::Metadata);
    }

    #[test]
    fn ipv6_ranges_are_classified() {
        assert_eq!(kind_v6("::1".parse().unwrap()), Kind::Internal);
        assert_eq!(kind_v6("fe80::1".parse().unwrap()), Kind::Internal);
        assert_eq!(kind_v6("2001:db8::1".parse().unwrap()), Kind::Public);
        assert_eq!(kind_v6("::ffff:10.0.0.1".parse().unwrap()), Kind::Internal);
    }

    #[test]
    fn url_regexes_capture_hosts_not_version_numbers() {
        let re = regex::Regex::new(URL_V4).unwrap();
        assert!(re.is_match("http://192.0.2.10/upload/v2"));
        assert!(re.is_match("curl http://198.51.100.7:8080"));
        assert!(!re.is_match("https://1.2.3.4.example.com/x"));
        let q = regex::Regex::new(QUOTED_IP).unwrap();
        assert!(q.is_match(r#"s.connect(("203.0.113.5", 4444))"#));
        assert!(q.is_match(r#"net.Dial("tcp", "203.0.113.5:443")"#));
    }
}
