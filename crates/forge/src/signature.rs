//! Webhook authentication: the three ways forges prove a delivery came from them.
//!
//! * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`.
//! * Forgejo / Gitea: `X-Forgejo-Signature` / `X-Gitea-Signature: <hex HMAC-SHA256>` (bare hex).
//! * GitLab: `X-Gitlab-Token: <the shared secret in clear>`.
//!
//! Every comparison is constant-time (`subtle`), and always over the raw body bytes as
//! received: a payload is never re-serialized before it is verified.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a delivery's authentication was refused. Messages never contain the secret or the
/// presented value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is absent.
    #[error("the delivery has no {header} header; set the webhook secret on the forge")]
    Missing {
        /// Which header.
        header: &'static str,
    },
    /// The header is present but not of the expected form.
    #[error("the {header} header is malformed (expected {expected})")]
    Malformed {
        /// Which header.
        header: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// The signature or token does not match the configured secret.
    #[error("the {header} header does not match this instance's webhook secret")]
    Mismatch {
        /// Which header.
        header: &'static str,
    },
}

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) of `body` under `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], body: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(body);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

fn check_hex_mac(
    header: &'static str,
    value: Option<&str>,
    prefix: &'static str,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    let value = value.ok_or(SignatureError::Missing { header })?;
    let expected_form = if prefix.is_empty() {
        "64 hex digits"
    } else {
        "sha256= and 64 hex digits"
    };
    let hex_part = value
        .trim()
        .strip_prefix(prefix)
        .ok_or(SignatureError::Malformed {
            header,
            expected: expected_form,
        })?;
    let presented = hex::decode(hex_part).map_err(|_| SignatureError::Malformed {
        header,
        expected: expected_form,
    })?;
    if presented.len() != 32 {
        return Err(SignatureError::Malformed {
            header,
            expected: expected_form,
        });
    }
    let mac = hmac_sha256(secret, body);
    if bool::from(mac.ct_eq(presented.as_slice())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { header })
    }
}

/// Verifies GitHub's `X-Hub-Signature-256` header (`sha256=<hex>`) over the raw body.
///
/// # Errors
/// When the header is missing, malformed or does not match.
pub fn verify_github(
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    check_hex_mac("X-Hub-Signature-256", header, "sha256=", secret, body)
}

/// Verifies Forgejo's or Gitea's bare-hex HMAC-SHA256 signature header over the raw body.
/// `header_name` is the header the value came from (for the message).
///
/// # Errors
/// When the header is missing, malformed or does not match.
pub fn verify_forgejo(
    header_name: &'static str,
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    check_hex_mac(header_name, header, "", secret, body)
}

/// Compares GitLab's `X-Gitlab-Token` with the configured secret in constant time (the
/// lengths are compared first; the length of the secret is not considered secret).
///
/// # Errors
/// When the header is missing or does not match.
pub fn verify_gitlab(header: Option<&str>, secret: &[u8]) -> Result<(), SignatureError> {
    let header_name = "X-Gitlab-Token";
    let value = header.ok_or(SignatureError::Missing {
        header: header_name,
    })?;
    // Hash both sides first: equal-length inputs for ct_eq whatever was presented.
    let a = Sha256::digest(value.as_bytes());
    let b = Sha256::digest(secret);
    if bool::from(a.ct_eq(&b)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch {
            header: header_name,
        })
    }
}

/// `sha256=<hex>` as GitHub sends it (tests and the replay tooling sign with this).
#[must_use]
pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, body)))
}

/// Bare hex as Forgejo and Gitea send it.
#[must_use]
pub fn forgejo_signature(secret: &[u8], body: &[u8]) -> String {
    hex::encode(hmac_sha256(secret, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_vectors() {
        // Test case 2 and test case 6 (key longer than the block).
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn github_docs_example_signature_verifies() {
        // The example from GitHub's "Validating webhook deliveries" page.
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify_github(Some(sig), b"It's a Secret to Everybody", b"Hello, World!").is_ok());
        assert_eq!(
            verify_github(Some(sig), b"another secret", b"Hello, World!"),
            Err(SignatureError::Mismatch {
                header: "X-Hub-Signature-256"
            })
        );
    }

    #[test]
    fn malformed_and_missing_headers_are_told_apart() {
        let body = b"{}";
        assert!(matches!(
            verify_github(None, b"s", body),
            Err(SignatureError::Missing { .. })
        ));
        let bare = forgejo_signature(b"s", body);
        assert!(matches!(
            verify_github(Some(&bare), b"s", body),
            Err(SignatureError::Malformed { .. })
        ));
        assert!(matches!(
            verify_forgejo("X-Forgejo-Signature", Some("zz"), b"s", body),
            Err(SignatureError::Malformed { .. })
        ));
        assert!(verify_forgejo("X-Forgejo-Signature", Some(&bare), b"s", body).is_ok());
        assert!(matches!(
            verify_forgejo("X-Forgejo-Signature", Some(&bare), b"s", b"{} "),
            Err(SignatureError::Mismatch { .. })
        ));
    }

    #[test]
    fn gitlab_tokens_must_match_exactly() {
        assert!(verify_gitlab(Some("tok"), b"tok").is_ok());
        assert!(verify_gitlab(Some("tok "), b"tok").is_err());
        assert!(verify_gitlab(Some("to"), b"tok").is_err());
        assert!(verify_gitlab(None, b"tok").is_err());
    }

    #[test]
    fn error_messages_never_contain_the_presented_value() {
        let err = verify_gitlab(Some("hunter2"), b"tok").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
