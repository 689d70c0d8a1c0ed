//! `feature-probe-sabotaged`: a build-time feature probe changed so that a protection silently
//! turns off (xz-utils, 2024: a lone `.` added to the C source of CMake's Landlock
//! `check_c_source_compiles` probe meant the probe could never compile, so the sandbox was
//! never built in and no error was ever shown).
//!
//! Two shapes:
//! - a stray punctuation line (`.`, `,`, `` ` ``, `@`, …) added inside a compile probe's C
//!   source (`check_c_source_compiles`, `AC_COMPILE_IFELSE`, `AC_LINK_IFELSE`, meson
//!   `cc.compiles`, …). Short added lines are found from the `Line` span length alone, then the
//!   hunk is searched backwards for the probe that owns them;
//! - a sandbox default flipped off in a build file (`option(ENABLE_SANDBOX … OFF)`,
//!   `--disable-sandbox`, `#undef HAVE_LINUX_LANDLOCK`), anchored by literal patterns.

use memchr::memmem;

use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, HunkCtx, LinePattern};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct FeatureProbeSabotaged;

static META: DetectorMeta = DetectorMeta::new(
    "feature-probe-sabotaged",
    "Build feature probe or sandbox default changed so a protection turns off",
    Severity::Critical,
    Confidence::High,
    &[Vector::Weakening],
    &["cmake", "autotools", "meson", "make", "shell"],
    "A build-time probe decides whether a security feature (a sandbox such as Landlock or \
     seccomp, a hardening flag) is compiled in. The change makes that probe fail or flips its \
     default, so the protection silently disappears from the build without any error. In \
     xz-utils a single '.' added to the Landlock probe's test program did exactly this. Build \
     the probe's program by hand and check that the feature is still detected.",
);

const BUILD: &[FileScope] = &[FileScope::Build];

/// Probe openers, in lower case (hunk text is searched case-insensitively by lower-casing the
/// few lines before a stray line).
const PROBES: &[&str] = &[
    "check_c_source_compiles",
    "check_cxx_source_compiles",
    "check_c_source_runs",
    "check_cxx_source_runs",
    "check_symbol_exists",
    "check_prototype_definition",
    "try_compile",
    "ac_compile_ifelse",
    "ac_link_ifelse",
    "ac_run_ifelse",
    "ac_try_compile",
    "ac_try_link",
    "ac_lang_program",
    "ac_lang_source",
    "cc.compiles",
    "cc.links",
    "cc.has_header_symbol",
];

/// Lines of a hunk searched backwards for the probe that owns a stray line.
const PROBE_LOOKBACK: usize = 40;

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("SANDBOX").ignore_case().regex(r"(?i)\boption\s*\(\s*enable_sandbox\b[^)]*\bOFF\b|\bset\s*\(\s*enable_sandbox\s+(?:OFF|no|false)\b|--disable-sandbox\b|\benable_sandbox\s*=\s*(?:no|false|0)\b|\boption\s*\(\s*'sandbox'[^)]*value\s*:\s*'(?:disabled|false)'").files(BUILD),
    LinePattern::lit("HAVE_LINUX_LANDLOCK").regex(r"#\s*undef\s+HAVE_LINUX_LANDLOCK\w*|HAVE_LINUX_LANDLOCK\w*\s+0\b|HAVE_LINUX_LANDLOCK\w*\s*=\s*(?:0|no)\b").files(BUILD),
    LinePattern::lit("seccomp").ignore_case().regex(r"(?i)--disable-seccomp\b|enable_seccomp\s*=\s*(?:no|false|0)\b|\boption\s*\(\s*enable_seccomp\b[^)]*\bOFF\b").files(BUILD),
];

/// A line that is one or two punctuation characters that can never be part of C source in a
/// probe. `;`, braces, parentheses and quotes are left out: they close real constructs.
fn is_stray(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.len() <= 2
        && t.chars().all(|c| {
            matches!(
                c,
                '.' | ',' | '`' | '@' | '$' | '~' | '^' | '?' | '!' | '|' | '&' | '%'
            )
        })
}

/// A probe opener within the `PROBE_LOOKBACK` lines before line `idx` of the hunk.
fn owning_probe(h: &HunkCtx<'_>, idx: usize) -> Option<(&'static str, Option<u32>)> {
    let lines = &h.hunk.lines;
    let from = idx.saturating_sub(PROBE_LOOKBACK);
    for line in lines.get(from..idx)?.iter().rev() {
        let text = h.hunk.line_text(line);
        if text.len() > 400 {
            continue;
        }
        let lower = text.to_ascii_lowercase();
        if let Some(p) = PROBES
            .iter()
            .find(|p| memmem::find(lower.as_bytes(), p.as_bytes()).is_some())
        {
            return Some((p, line.new_line));
        }
    }
    None
}

/// Whether C source surrounds line `idx` (an `#include` or `main(` within 10 lines before).
fn in_c_source(h: &HunkCtx<'_>, idx: usize) -> bool {
    let from = idx.saturating_sub(10);
    h.hunk.lines.get(from..idx).is_some_and(|ls| {
        ls.iter().any(|l| {
            let t = h.hunk.line_text(l);
            t.contains("#include") || t.contains("main(")
        })
    })
}

impl Detector for FeatureProbeSabotaged {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let t = hit.text.trim_start();
        if t.starts_with('#') && !t.starts_with("#undef") && !t.starts_with("# undef")
            || t.starts_with("dnl")
        {
            return;
        }
        // A flip: the same hunk removed a line naming the same setting.
        let key = hit.matched().to_ascii_lowercase();
        let word = if key.contains("landlock") {
            "landlock"
        } else if key.contains("seccomp") {
            "seccomp"
        } else {
            "sandbox"
        };
        let flipped = hit.hunk.lines.iter().any(|l| {
            l.kind == LineKind::Removed && hit.hunk.line_text(l).to_ascii_lowercase().contains(word)
        });
        let (severity, confidence) = if flipped {
            (Severity::High, Confidence::High)
        } else {
            (Severity::Medium, Confidence::Medium)
        };
        out.push(
            META.finding(hit.location(file.path()))
                .title("Sandbox turned off by default in the build")
                .severity(severity)
                .confidence(confidence)
                .evidence(hit.text.trim())
                .build(),
        );
    }

    fn check_hunk(&self, h: &HunkCtx<'_>, out: &mut Findings) {
        if !h.file.class.build {
            return;
        }
        for (idx, line) in h.hunk.lines.iter().enumerate() {
            // Cheap gate from the span: only very short added lines can be stray punctuation.
            if line.kind != LineKind::Added || line.end.saturating_sub(line.start) > 16 {
                continue;
            }
            let text = h.hunk.line_text(line);
            if !is_stray(text) {
                continue;
            }
            let line_no = line.new_line.unwrap_or(0);
            let (severity, confidence, related, note) = match owning_probe(h, idx) {
                Some((probe, at)) => (
                    Severity::Critical,
                    Confidence::High,
                    at,
                    format!("inside {probe}"),
                ),
                None if in_c_source(h, idx) => (
                    Severity::High,
                    Confidence::Medium,
                    None,
                    "inside embedded C source".to_string(),
                ),
                None => continue,
            };
            let path = h.file.path();
            let mut b = META
                .finding(Location::line(path, line_no))
                .title("Stray character makes a feature probe fail to compile")
                .severity(severity)
                .confidence(confidence)
                .evidence(format!("added line {:?} {note}", text.trim()));
            if let Some(at) = related {
                b = b.related(Location::line(path, at).with_note("the probe"));
            }
            out.push(b.build());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_dots_are_stray_but_c_punctuation_is_not() {
        assert!(is_stray("."));
        assert!(is_stray("  ,"));
        assert!(!is_stray("}"));
        assert!(!is_stray(";"));
        assert!(!is_stray(""));
        assert!(!is_stray("\")"));
    }
}
