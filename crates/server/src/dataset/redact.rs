//! Secret redaction for the open dataset.
//!
//! Published cases keep the maintainer's and experts' free text (a change title, the concern,
//! an assessment summary, a decision note). Such text sometimes quotes what a hostile change
//! tried to steal, or a credential pasted by mistake. Before any text enters the dataset, every
//! span that looks like a secret is replaced by `[REDACTED:<kind>]`:
//!
//! | kind | what |
//! |---|---|
//! | `private-key` | a PEM `-----BEGIN … PRIVATE KEY-----` block (to its END line, or the end of the text) |
//! | `github-token` | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` tokens and `github_pat_` fine-grained tokens |
//! | `gitlab-token` | `glpat-` tokens |
//! | `aws-access-key` | `AKIA…` / `ASIA…` access key ids |
//! | `npm-token` | `npm_` tokens |
//! | `pypi-token` | `pypi-` upload tokens |
//! | `slack-token` | `xoxb-`, `xoxp-`, … tokens |
//! | `stripe-key` | `sk_live_` / `rk_live_` keys |
//! | `google-api-key` | `AIza…` keys |
//! | `jwt` | three base64url segments starting `eyJ` |
//! | `url-credentials` | the `user:password@` part of a URL |
//! | `assignment` | the value in `secret = …`, `token: …`, `password=…`, `api_key => …` when it is at least 8 characters and looks random (Shannon entropy ≥ 3 bits per character, or letters mixed with digits), unless it names where the secret comes from (`process.env…`, `os.environ…`, `${{ secrets.… }}`) |
//!
//! The patterns are compiled once. Redaction is idempotent: redacted text contains no match.

use std::sync::LazyLock;

use regex::Regex;

/// What replaced a secret, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The text with every secret replaced.
    pub text: String,
    /// How many spans were replaced.
    pub count: usize,
}

struct Pattern {
    kind: &'static str,
    regex: Regex,
    /// Capture group holding the secret itself (0 = the whole match).
    group: usize,
}

fn pattern(kind: &'static str, re: &str, group: usize) -> Option<Pattern> {
    match Regex::new(re) {
        Ok(regex) => Some(Pattern { kind, regex, group }),
        Err(e) => {
            // A broken built-in pattern is a bug; never silently ship unredacted data, so the
            // assignment pattern below (which always compiles in tests) still runs.
            tracing::error!(kind, error = %e, "a built-in redaction pattern does not compile");
            None
        }
    }
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    [
        pattern(
            "private-key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
            0,
        ),
        pattern(
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})",
            0,
        ),
        pattern("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}", 0),
        pattern("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", 0),
        pattern("npm-token", r"\bnpm_[A-Za-z0-9]{30,}", 0),
        pattern("pypi-token", r"\bpypi-[A-Za-z0-9_\-]{40,}", 0),
        pattern("slack-token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", 0),
        pattern("stripe-key", r"\b[rs]k_live_[A-Za-z0-9]{16,}", 0),
        pattern("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}", 0),
        pattern(
            "jwt",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            0,
        ),
        pattern(
            "url-credentials",
            r"(?i)\b[a-z][a-z0-9+.\-]*://([^\s/@:]+:[^\s/@]+)@",
            1,
        ),
        pattern(
            "assignment",
            r#"(?i)[A-Za-z0-9_.\-]*(?:secret|token|passw(?:or)?d|pwd|api[_\-]?key|access[_\-]?key|auth[_\-]?key|credentials?|private[_\-]?key)[A-Za-z0-9_.\-]*["']?\s*(?::=|=>|[:=])\s*["'`]?([^\s"'`,;)\]}]{8,})"#,
            1,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Shannon entropy of `s` in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// Whether an assigned value looks like a secret rather than a word or a reference.
fn looks_random(value: &str) -> bool {
    if value.starts_with("[REDACTED") {
        return false;
    }
    // References to where a secret comes from are not secrets.
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("os.getenv")
        || lower.starts_with("env.")
        || lower.starts_with("${")
        || lower.starts_with("$(")
        || lower.starts_with("secrets.")
    {
        return false;
    }
    let digits = value.chars().any(|c| c.is_ascii_digit());
    let letters = value.chars().any(|c| c.is_alphabetic());
    // Random-looking, or a word with digits in it (`hunter2hunter2`): secrets more often
    // than not after a `password=`; a false redaction costs little, a leak a lot.
    entropy(value) >= 3.0 || (digits && letters)
}

/// Replaces every secret-looking span in `text` (see the module docs).
pub fn redact(text: &str) -> Redacted {
    let mut out = text.to_string();
    let mut count = 0;
    for p in PATTERNS.iter() {
        // Collect the spans first, then replace from the end so offsets stay valid.
        let spans: Vec<(usize, usize)> = p
            .regex
            .captures_iter(&out)
            .filter_map(|c| c.get(p.group))
            .filter(|m| p.kind != "assignment" || looks_random(m.as_str()))
            .map(|m| (m.start(), m.end()))
            .collect();
        for (start, end) in spans.into_iter().rev() {
            out.replace_range(start..end, &format!("[REDACTED:{}]", p.kind));
            count += 1;
        }
    }
    Redacted { text: out, count }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test secrets are assembled at run time so this file does not itself trip secret
    // scanners.
    fn fake(prefix: &str, body: &str, n: usize) -> String {
        format!("{prefix}{}", body.repeat(n))
    }

    #[test]
    fn known_token_formats_are_redacted() {
        let cases = [
            (fake("ghp_", "aB3dE5fG7h", 4), "github-token"),
            (fake("github_pat_", "11ABCDEFG0", 3), "github-token"),
            (fake("AKIA", "IOSFODNN7EXAMPL", 1) + "E", "aws-access-key"),
            (fake("npm_", "Zx9Yw8Vu7T", 4), "npm-token"),
            (fake("glpat-", "xY1_zW2-", 3), "gitlab-token"),
            (fake("pypi-", "AgEIcHlwaS5vcmc", 4), "pypi-token"),
            (fake("xoxb-", "1234-abcd-", 2), "slack-token"),
            (fake("sk_live_", "4eC39HqLyjWDarjtT1", 2), "stripe-key"),
            (
                fake("AIza", "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", 1),
                "google-api-key",
            ),
        ];
        for (secret, kind) in cases {
            let text = format!("the workflow printed {secret} to the log");
            let r = redact(&text);
            assert_eq!(
                r.text,
                format!("the workflow printed [REDACTED:{kind}] to the log"),
                "{secret}"
            );
            assert_eq!(r.count, 1, "{secret}");
        }
    }

    #[test]
    fn a_private_key_block_is_redacted_whole_even_when_truncated() {
        let block = format!(
            "-----BEGIN OPENSSH {}-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACD\n-----END OPENSSH {}-----",
            "PRIVATE KEY", "PRIVATE KEY"
        );
        let r = redact(&format!("found:\n{block}\nbye"));
        assert_eq!(r.text, "found:\n[REDACTED:private-key]\nbye");
        let cut = format!("-----BEGIN RSA {}-----\nMIIEpAIBAAKCAQEA", "PRIVATE KEY");
        assert_eq!(redact(&cut).text, "[REDACTED:private-key]");
    }

    #[test]
    fn high_entropy_assignments_are_redacted_but_references_are_not() {
        let r = redact("export API_KEY=\"Zk39fQm2Lp0xW7rT\" and password: hunter2hunter2");
        assert!(
            r.text.contains("API_KEY=\"[REDACTED:assignment]\""),
            "{}",
            r.text
        );
        assert!(
            r.text.ends_with("password: [REDACTED:assignment]"),
            "{}",
            r.text
        );
        assert_eq!(r.count, 2);
        for keep in [
            "token = process.env.NPM_TOKEN",
            "password: required",
            "password = os.environ['PW']",
            "secret: ${{ secrets.DEPLOY_KEY }}",
            "the token was rotated yesterday",
            "api_key = None",
        ] {
            assert_eq!(redact(keep).text, keep, "{keep}");
        }
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        let r = redact("pushed to https://deploy:s3cr3tP4ss@git.example.org/x.git");
        assert_eq!(
            r.text,
            "pushed to https://[REDACTED:url-credentials]@git.example.org/x.git"
        );
    }

    #[test]
    fn a_jwt_is_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            redact(&format!("Bearer {jwt}")).text,
            "Bearer [REDACTED:jwt]"
        );
    }

    #[test]
    fn ordinary_text_is_untouched_and_redaction_is_idempotent() {
        let text = "This PR adds a postinstall hook that curls a script; see issue #12. \
                    Commit 3f2a9c1d looks fine, AKIA is just a word here.";
        let r = redact(text);
        assert_eq!(r.text, text);
        assert_eq!(r.count, 0);
        let secret = format!("token={}", fake("ghp_", "aB3dE5fG7h", 4));
        let once = redact(&secret);
        let twice = redact(&once.text);
        assert_eq!(once.text, twice.text);
        assert_eq!(twice.count, 0);
        assert!(!once.text.contains("ghp_"));
    }

    #[test]
    fn entropy_is_zero_for_one_symbol_and_grows_with_variety() {
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("ab") - 1.0).abs() < 1e-12);
        assert!(entropy("Zk39fQm2Lp0xW7rT") > 3.5);
    }
}
