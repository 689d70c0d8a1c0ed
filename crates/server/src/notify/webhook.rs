//! Outgoing webhooks: a signed JSON POST to a URL a user chose.
//!
//! The target is user-controlled, so it is a server-side request forgery risk: only `http` and
//! `https` URLs without credentials are accepted, and every address the host resolves to is
//! checked *in the resolver the HTTP client connects with* (so a DNS answer cannot change
//! between the check and the connection): loopback, private, link-local, unique-local, CGNAT,
//! multicast, broadcast and unspecified addresses are refused unless the operator sets
//! `notify.allow_private_targets`. No redirects are followed; the whole request is bounded by
//! the configured timeout and at most 64 KiB of the answer is read.
//!
//! ## Signature
//!
//! Each request carries
//!
//! * `X-S-Express-Event`: the event name (`report-attached`, `assessed`, …),
//! * `X-S-Express-Delivery`: a stable delivery id (a retry repeats it: deduplicate on it),
//! * `X-S-Express-Timestamp`: Unix seconds when the request was signed,
//! * `X-S-Express-Signature`: `sha256=` and the lower-case hex HMAC-SHA256, keyed with the
//!   webhook secret, of `TIMESTAMP + "." + BODY` (the raw body bytes).
//!
//! A receiver recomputes the HMAC over the timestamp header, a dot and the raw body, compares
//! in constant time, and rejects timestamps older than a few minutes (replays).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sx_forge::signature::hmac_sha256;

/// Most bytes of a webhook answer that are read (and then dropped).
const MAX_ANSWER_BYTES: u64 = 64 << 10;

/// Longest accepted webhook URL.
pub const MAX_URL_LEN: usize = sx_store::notify::MAX_WEBHOOK_URL_LEN;

/// The `X-S-Express-Signature` value for a body signed at `timestamp`.
#[must_use]
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &message))
    )
}

/// Why a webhook URL is not acceptable (the message is for the user who entered it).
pub fn check_url(url: &str) -> Result<url::Url, String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!(
            "the webhook URL is longer than {MAX_URL_LEN} characters"
        ));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("the webhook URL is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the webhook URL must start with https:// (or http://)".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the webhook URL must not contain a user name or password; the payload is signed instead".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the webhook URL has no host".into());
    }
    Ok(parsed)
}

/// Whether an address is one a public webhook must never reach: anything not on the public
/// internet, by the same rule the forge clients' guard uses.
#[must_use]
pub fn is_private(ip: IpAddr) -> bool {
    !sx_forge::net::is_global(ip)
}

/// A resolver that drops addresses the policy refuses and remembers the first one it dropped.
#[derive(Debug)]
struct GuardedResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    allow_private: bool,
    refused: Arc<Mutex<Option<IpAddr>>>,
}

impl ureq::unversioned::resolver::Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let all = self.inner.resolve(uri, config, timeout)?;
        if self.allow_private {
            return Ok(all);
        }
        let mut kept = self.inner.empty();
        for addr in all.iter() {
            if is_private(addr.ip()) {
                if let Ok(mut r) = self.refused.lock() {
                    r.get_or_insert(addr.ip());
                }
            } else {
                kept.push(*addr);
            }
        }
        if kept.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the webhook host resolves only to private, loopback or link-local addresses",
            )));
        }
        Ok(kept)
    }
}

/// One signed webhook request.
#[derive(Debug)]
pub struct Request<'a> {
    /// Target.
    pub url: &'a str,
    /// Secret.
    pub secret: &'a str,
    /// Event name.
    pub event: &'a str,
    /// Delivery id.
    pub delivery: &'a str,
    /// JSON body.
    pub body: Vec<u8>,
}

/// Sends a webhook (blocking: call on the blocking pool). `Ok` on any 2xx answer.
///
/// # Errors
/// A message for the job's failure record: the URL is refused, the host is private, the
/// connection failed or timed out, or the answer was not 2xx.
pub fn send(req: &Request<'_>, allow_private: bool, timeout: Duration) -> Result<u16, String> {
    let url = check_url(req.url)?;
    if !allow_private && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host() {
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Err("the webhook URL has no host".into()),
        };
        if is_private(ip) {
            return Err(format!(
                "the webhook target {ip} is a private, loopback or link-local address"
            ));
        }
    }
    let refused = Arc::new(Mutex::new(None));
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .user_agent(concat!(
            "s-express/",
            env!("CARGO_PKG_VERSION"),
            " (webhook)"
        ))
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        GuardedResolver {
            inner: ureq::unversioned::resolver::DefaultResolver::default(),
            allow_private,
            refused: Arc::clone(&refused),
        },
    );
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let answer = agent
        .post(url.as_str())
        .header("Content-Type", "application/json")
        .header("X-S-Express-Event", req.event)
        .header("X-S-Express-Delivery", req.delivery)
        .header("X-S-Express-Timestamp", &timestamp.to_string())
        .header(
            "X-S-Express-Signature",
            &signature(req.secret, timestamp, &req.body),
        )
        .send(&req.body[..]);
    let mut answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let refused = refused.lock().ok().and_then(|r| *r);
            return Err(match refused {
                Some(ip) => format!(
                    "the webhook host resolves to {ip}, a private, loopback or link-local address; refused"
                ),
                None => format!("the webhook request failed: {e}"),
            });
        }
    };
    let status = answer.status().as_u16();
    // Drain a bounded amount so the connection closes cleanly; the content is not used.
    let _ = std::io::copy(
        &mut std::io::Read::take(answer.body_mut().as_reader(), MAX_ANSWER_BYTES),
        &mut std::io::sink(),
    );
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(format!("the webhook answered HTTP {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = signature("s3cret", 1_700_000_000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, signature("s3cret", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("s3cret", 1_700_000_000, b"{ }"));
        assert_ne!(a, signature("other", 1_700_000_000, b"{}"));
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_plain_http_and_https_urls_without_credentials_are_accepted() {
        assert!(check_url("https://hooks.example.org/sx?x=1").is_ok());
        assert!(check_url("http://hooks.example.org/").is_ok());
        for bad in [
            "ftp://h/x",
            "file:///etc/passwd",
            "gopher://h",
            "https://u:p@h/",
            "not a url",
            "https://",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_loopback_target_is_refused_before_any_connection() {
        let req = Request {
            url: "http://127.0.0.1:9/hook",
            secret: "s",
            event: "published",
            delivery: "d",
            body: b"{}".to_vec(),
        };
        let e = send(&req, false, Duration::from_secs(2)).unwrap_err();
        assert!(e.contains("private, loopback"), "{e}");
        // `localhost` is only found by resolving it: the resolver refuses it too.
        let req = Request {
            url: "http://localhost:9/hook",
            ..req
        };
        let e = send(&req, false, Duration::from_secs(2)).unwrap_err();
        assert!(e.contains("private, loopback"), "{e}");
    }
}
