//! `global-api-hook`: code that replaces the browser's network or wallet functions —
//! `window.fetch = …`, `XMLHttpRequest.prototype.open = …`, `ethereum.request = …`,
//! `Object.defineProperty(window, 'ethereum', …)`. The 2025 chalk/debug payload wrapped
//! exactly these to rewrite crypto addresses in every request and transaction.
//!
//! Tests are skipped (mocking `fetch` is what test suites do), and a polyfill — an assignment
//! guarded by "fetch is missing" on the same or one of the three lines before — is quiet.
//! Reading `window.ethereum` (every dapp does) is not a hook; assigning to its methods is.

use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct GlobalApiHook;

static META: DetectorMeta = DetectorMeta::new(
    "global-api-hook",
    "Global network or wallet API replaced",
    Severity::High,
    Confidence::Medium,
    &[Vector::Exfiltration, Vector::Obfuscation],
    &["javascript", "typescript"],
    "The change replaces a global function that every request or wallet transaction goes \
     through (fetch, XMLHttpRequest, the injected Ethereum/Solana provider). A library has no \
     reason to do that; the 2025 chalk/debug compromise did it to swap crypto addresses in \
     flight. Read what the replacement does with requests and responses.",
);

const CODE: &[FileScope] = &[
    FileScope::Source,
    FileScope::ExecutionPath,
    FileScope::Generated,
];

const FETCH: &str = r"(?:^|[^\w$.])(?:(?:window|globalThis|self|global)\.)?fetch\s*=\s*[^=\s]";
const XHR: &str = r"XMLHttpRequest\.prototype\.(?:open|send|setRequestHeader)\s*=[^=]";
const WALLET_METHOD: &str = r"\b(?:ethereum|solana|phantom|web3\.currentProvider)\.(?:request|send|sendAsync|enable|signTransaction|signAndSendTransaction)\s*=[^=]";
const DEFINE: &str = r#"defineProperty\(\s*(?:window|globalThis|self)\s*,\s*['"](?:ethereum|solana|fetch|XMLHttpRequest)['"]"#;

const P_WALLET_FIRST: usize = 3;

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("fetch =").files(CODE).regex(FETCH),
    LinePattern::lit("fetch=").files(CODE).regex(FETCH),
    LinePattern::lit("XMLHttpRequest.prototype.")
        .files(CODE)
        .regex(XHR),
    LinePattern::lit("ethereum.")
        .files(CODE)
        .regex(WALLET_METHOD),
    LinePattern::lit("solana.").files(CODE).regex(WALLET_METHOD),
    LinePattern::lit("phantom.")
        .files(CODE)
        .regex(WALLET_METHOD),
    LinePattern::lit("defineProperty(")
        .files(CODE)
        .regex(DEFINE),
];

/// Signs that an assignment only fills in a missing API (a polyfill).
const POLYFILL_GUARDS: &[&str] = &[
    "!window.fetch",
    "!self.fetch",
    "!global.fetch",
    "!globalThis.fetch",
    "typeof fetch === 'undefined'",
    "typeof fetch === \"undefined\"",
    "typeof fetch == 'undefined'",
    "!('fetch' in",
    "!(\"fetch\" in",
    "polyfill",
];

fn polyfill_guarded(hit: &Hit<'_>) -> bool {
    let Some(idx) = hit
        .hunk
        .lines
        .iter()
        .position(|l| std::ptr::eq(l, hit.line))
    else {
        return false;
    };
    hit.hunk.lines[idx.saturating_sub(3)..=idx]
        .iter()
        .filter(|l| l.kind != LineKind::Removed)
        .any(|l| {
            let t = hit.hunk.line_text(l);
            POLYFILL_GUARDS.iter().any(|g| t.contains(g))
        })
}

/// `const fetch = …` declares a local binding; it does not replace the global.
fn is_declaration(hit: &Hit<'_>) -> bool {
    let before = hit.text.get(..hit.range.end).unwrap_or("");
    let Some(pos) = before.rfind("fetch") else {
        return false;
    };
    let head = before.get(..pos).unwrap_or("").trim_end();
    head.ends_with("const")
        || head.ends_with("let")
        || head.ends_with("var")
        || head.ends_with("function")
}

impl Detector for GlobalApiHook {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        if file.class.test || file.class.docs {
            return;
        }
        let wallet = hit.pattern >= P_WALLET_FIRST
            && !hit.matched().contains("fetch")
            && !hit.matched().contains("XMLHttp");
        if !wallet && (polyfill_guarded(hit) || is_declaration(hit)) {
            return;
        }
        let (title, severity, confidence) = if wallet {
            (
                "Wallet provider API replaced (ethereum/solana)",
                Severity::High,
                Confidence::High,
            )
        } else {
            (
                "Global fetch/XMLHttpRequest replaced",
                Severity::High,
                Confidence::Medium,
            )
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
    use regex::Regex;

    use super::*;

    #[test]
    fn fetch_replacement_matches_but_comparisons_and_members_do_not() {
        let re = Regex::new(FETCH).unwrap();
        assert!(re.is_match("window.fetch = async function (...a) {"));
        assert!(re.is_match("  fetch = wrapped;"));
        assert!(!re.is_match("if (window.fetch == null) {}"));
        assert!(!re.is_match("this.fetch = opts.fetch"));
        assert!(!re.is_match("client.fetch = x"));
    }

    #[test]
    fn wallet_hooks_match_but_reads_do_not() {
        let re = Regex::new(WALLET_METHOD).unwrap();
        assert!(re.is_match("window.ethereum.request = async function (args) {"));
        assert!(re.is_match("ethereum.send=h"));
        assert!(!re.is_match("await window.ethereum.request({ method: 'eth_requestAccounts' })"));
        assert!(!re.is_match("if (window.ethereum.request === undefined)"));
    }
}
