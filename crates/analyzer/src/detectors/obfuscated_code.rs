//! `obfuscated-code`: code written to be unreadable, added where people read code.
//!
//! Signals, each a declared line pattern except the last:
//! - `_0x1a2b3c` identifiers, the fingerprint of javascript-obfuscator (chalk/debug 2025);
//! - Dean Edwards' packer, `eval(function(p,a,c,k,e,d)…)`;
//! - string-array rotation: `while(!![])` loops and `arr['push'](arr['shift']())`;
//! - JSFuck-style `(![]+[])` expressions;
//! - strings spelled as `\xNN` escapes that decode to readable words (`child_process`);
//! - a huge single line of dense code in a hand-written (not minified-named) source file.
//!
//! Bundlers and minifiers never emit `_0x` names or packer stubs, so those fire even in
//! `dist/`. The long-line check skips generated, test, docs and data files and is gated on the
//! line's span length, so ordinary lines cost nothing.

use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, HunkCtx, LinePattern};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::inline_data::{decode_escapes, preview};

#[derive(Debug)]
pub struct ObfuscatedCode;

static META: DetectorMeta = DetectorMeta::new(
    "obfuscated-code",
    "Obfuscated or minified code in source",
    Severity::High,
    Confidence::High,
    &[Vector::Obfuscation, Vector::ReviewEvasion],
    &["javascript", "typescript"],
    "The change adds code that was machine-obfuscated or minified so it cannot be read: hex-named \
     identifiers, packer stubs, rotated string tables or escaped strings. Legitimate projects \
     commit readable source and build minified output; obfuscation in a pull request is how the \
     2025 chalk/debug compromise hid a wallet-draining payload. Ask for the readable source, or \
     de-obfuscate it (e.g. with a beautifier) and read it before merging.",
);

/// A line at least this long is examined for minified code.
const HUGE_LINE: usize = 1000;

const CODE: &[FileScope] = &[
    FileScope::Source,
    FileScope::Test,
    FileScope::ExecutionPath,
    FileScope::Generated,
];

const P_HEX_IDENT: usize = 0;
const P_PACKER: usize = 1;
const P_ROTATE_LOOP: usize = 2;
const P_PUSH_SHIFT: usize = 3;
const P_PUSH_SHIFT_DQ: usize = 4;
const P_JSFUCK: usize = 5;
// Escaped printable ASCII starts with \x2_ … \x7_; "\x1b" (ANSI colours) never hits.
const P_ESCAPES: usize = 6;

const ESCAPES_RE: &str = r"(?:\\x[0-9a-fA-F]{2}){6,}";

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("_0x")
        .files(CODE)
        .regex(r"\b_0x[0-9a-fA-F]{4,}\b"),
    LinePattern::lit("function(p,a,c,k,e,").files(CODE),
    LinePattern::lit("!![]")
        .files(CODE)
        .regex(r"while\s*\(\s*!!\[\]\s*\)"),
    LinePattern::lit("'push'](")
        .files(CODE)
        .regex(r"\[['\x22]push['\x22]\]\([^)]*\[['\x22]shift['\x22]\]\(\)"),
    LinePattern::lit("\"push\"](")
        .files(CODE)
        .regex(r"\[['\x22]push['\x22]\]\([^)]*\[['\x22]shift['\x22]\]\(\)"),
    LinePattern::lit("(![]+[])").files(CODE),
    LinePattern::lit(r"\x2").files(CODE).regex(ESCAPES_RE),
    LinePattern::lit(r"\x3").files(CODE).regex(ESCAPES_RE),
    LinePattern::lit(r"\x4").files(CODE).regex(ESCAPES_RE),
    LinePattern::lit(r"\x5").files(CODE).regex(ESCAPES_RE),
    LinePattern::lit(r"\x6").files(CODE).regex(ESCAPES_RE),
    LinePattern::lit(r"\x7").files(CODE).regex(ESCAPES_RE),
];

/// Words that make a hidden string worth a closer look.
const SENSITIVE: &[&str] = &[
    "child_process",
    "eval",
    "exec",
    "http",
    "require",
    "fetch",
    "xmlhttprequest",
    "ethereum",
    "process",
    "env",
    "base64",
    ".ssh",
    "wallet",
    "password",
    "token",
    "socket",
    "spawn",
    "shell",
    "curl",
    "wget",
    "atob",
];

/// Languages whose long lines are code, not data.
const CODE_LANGUAGES: &[&str] = &[
    "javascript",
    "typescript",
    "python",
    "php",
    "ruby",
    "perl",
    "lua",
    "shell",
    "powershell",
    "go",
    "rust",
    "c",
    "cpp",
    "java",
    "kotlin",
    "csharp",
    "swift",
];

/// Whether a long line reads as minified code: almost no spaces, many code punctuators.
fn is_dense_code(line: &str) -> bool {
    let b = line.trim().as_bytes();
    if b.len() < HUGE_LINE {
        return false;
    }
    let spaces = b.iter().filter(|c| c.is_ascii_whitespace()).count();
    let punct = b
        .iter()
        .filter(|c| matches!(c, b';' | b'{' | b'}' | b'(' | b')' | b'=' | b','))
        .count();
    spaces * 100 < b.len() * 8 && punct * 100 >= b.len() * 6
}

fn is_hidden_word(bytes: &[u8]) -> bool {
    bytes.len() >= 6
        && bytes.iter().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b':' | b' ')
        })
}

impl ObfuscatedCode {
    fn push(
        &self,
        hit: &Hit<'_>,
        file: &FileCtx<'_>,
        out: &mut Findings,
        title: String,
        (severity, confidence): (Severity, Confidence),
        evidence: String,
    ) {
        // Tests do not ship to users; obfuscation there is odd but not a live payload.
        let (severity, confidence) = if file.class.test {
            (Severity::Medium, Confidence::Low)
        } else {
            (severity, confidence)
        };
        let mut b = META
            .finding(hit.location(file.path()))
            .title(title)
            .severity(severity)
            .confidence(confidence)
            .evidence(evidence);
        if let Some(lang) = file.class.language {
            b = b.language(lang);
        }
        out.push(b.build());
    }
}

impl Detector for ObfuscatedCode {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let excerpt = || preview(hit.text.get(hit.range.start..).unwrap_or("").trim(), 120);
        match hit.pattern {
            P_HEX_IDENT => {
                // Count on this one line only; several hex names are the obfuscator's style,
                // a single one may be a hand-written constant.
                let n = hit.text.matches("_0x").count();
                let hand_written = !file.class.generated && !file.class.test;
                let (sev, conf) = match n {
                    // A line dense with obfuscator names in hand-written source has no
                    // benign reading: nobody writes or maintains code like that.
                    8.. if hand_written => (Severity::Critical, Confidence::High),
                    3.. => (Severity::High, Confidence::High),
                    _ => (Severity::Medium, Confidence::Medium),
                };
                // Vendored obfuscated code exists (licence-protected SDKs); say so, still report.
                let conf = if file.class.generated {
                    Confidence::Medium.min(conf)
                } else {
                    conf
                };
                self.push(
                    hit,
                    file,
                    out,
                    format!("Obfuscator-style _0x identifiers ({n} on the line)"),
                    (sev, conf),
                    excerpt(),
                );
            }
            P_PACKER => self.push(
                hit,
                file,
                out,
                "Packed code: eval(function(p,a,c,k,e,…))".into(),
                (Severity::High, Confidence::High),
                excerpt(),
            ),
            P_ROTATE_LOOP | P_PUSH_SHIFT | P_PUSH_SHIFT_DQ => self.push(
                hit,
                file,
                out,
                "Rotated string table (javascript-obfuscator)".into(),
                (Severity::High, Confidence::High),
                excerpt(),
            ),
            P_JSFUCK => self.push(
                hit,
                file,
                out,
                "JSFuck-style expression".into(),
                (Severity::High, Confidence::High),
                excerpt(),
            ),
            p if p >= P_ESCAPES => {
                let bytes = decode_escapes(hit.matched());
                if !is_hidden_word(&bytes) {
                    return;
                }
                let word = String::from_utf8_lossy(&bytes).to_string();
                let lower = word.to_ascii_lowercase();
                let sensitive = SENSITIVE.iter().any(|s| lower.contains(s));
                let (sev, conf) = if sensitive {
                    (Severity::High, Confidence::High)
                } else {
                    (Severity::Medium, Confidence::Low)
                };
                self.push(
                    hit,
                    file,
                    out,
                    format!(
                        "Readable text spelled as \\x escapes: \"{}\"",
                        preview(&word, 60)
                    ),
                    (sev, conf),
                    format!(
                        "{} → \"{}\"",
                        preview(hit.matched(), 80),
                        preview(&word, 60)
                    ),
                );
            }
            _ => {}
        }
    }

    fn check_hunk(&self, h: &HunkCtx<'_>, out: &mut Findings) {
        let class = h.file.class;
        if class.generated || class.test || class.docs || class.lockfile {
            return;
        }
        if !class.language.is_some_and(|l| CODE_LANGUAGES.contains(&l)) {
            return;
        }
        for line in &h.hunk.lines {
            // The cheap gate: span length only.
            if line.kind != LineKind::Added || ((line.end - line.start) as usize) < HUGE_LINE {
                continue;
            }
            let text = h.hunk.line_text(line);
            if !is_dense_code(text) {
                continue;
            }
            let path = h.file.path();
            let len = text.len();
            let mut b = META
                .finding(Location::line(path, line.new_line.unwrap_or(0)))
                .title(format!(
                    "Minified code ({len} characters on one line) in a hand-written source file"
                ))
                .severity(Severity::Medium)
                .confidence(Confidence::Medium)
                .evidence(preview(text.trim(), 160));
            if let Some(lang) = class.language {
                b = b.language(lang);
            }
            out.push(b.build());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_minified_lines_are_code_and_prose_is_not() {
        let minified = "function a(b){return b.c(d)};var e=f(g),h=i(j);".repeat(30);
        assert!(is_dense_code(&minified));
        let prose = "This is a long comment line explaining things in words. ".repeat(30);
        assert!(!is_dense_code(&prose));
        let b64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo".repeat(40);
        assert!(!is_dense_code(&b64));
    }

    #[test]
    fn hidden_words_are_printable_identifiers() {
        assert!(is_hidden_word(b"child_process"));
        assert!(!is_hidden_word(b"\x90\x90\x31\xc0\x50\x68"));
        assert!(!is_hidden_word(b"ab"));
    }
}
