//! `far-right-hidden-code`: code pushed far to the right of a line behind a long run of
//! spaces or tabs, past the edge of every editor and review pane (W4SP stealer packages, 2022:
//! `setup.py` lines that looked ordinary but carried `__import__('builtins').exec(...)` after
//! hundreds of spaces).
//!
//! Anchored on a run of 32 spaces, 8 tabs or an alternating space/tab run; the regex then asks
//! for non-blank text, at least 80 blanks, and more non-blank text on the same line. Trailing
//! comments aligned far right (`// …`, `# …`) and documentation are left alone.

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct FarRightHiddenCode;

static META: DetectorMeta = DetectorMeta::new(
    "far-right-hidden-code",
    "Code hidden far to the right of a line",
    Severity::High,
    Confidence::High,
    &[Vector::ReviewEvasion, Vector::Obfuscation],
    &[],
    "The added line has ordinary-looking code, then a long run of spaces or tabs, then more \
     code. Editors and review tools do not wrap code lines, so the second part sits beyond the \
     right edge of the screen and reviewers never see it. Malicious packages have hidden whole \
     payloads this way. Scroll right or view the raw line; there is no legitimate reason for \
     it.",
);

const CODE: &[FileScope] = &[FileScope::Source, FileScope::ExecutionPath, FileScope::Test];
const GAP: &str = r"\S[ \t]{80,}(\S.*)$";

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("                                ")
        .regex(GAP)
        .files(CODE),
    LinePattern::lit("\t\t\t\t\t\t\t\t").regex(GAP).files(CODE),
    LinePattern::lit(" \t \t").regex(GAP).files(CODE),
    LinePattern::lit("\t \t ").regex(GAP).files(CODE),
];

/// Whether the far-right part is just an aligned comment. `;` is deliberately not a comment
/// marker here: chaining a statement with `;` is exactly how hidden code is appended.
fn is_comment(t: &str) -> bool {
    ["//", "#", "/*", "*", "--", "<!--", "%"]
        .iter()
        .any(|p| t.starts_with(p))
}

impl Detector for FarRightHiddenCode {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let matched = hit.matched();
        // The match is: last visible char, the gap, the hidden part.
        let hidden = matched
            .get(1..)
            .unwrap_or("")
            .trim_start_matches([' ', '\t']);
        let lead = hit.text.get(..hit.range.start + 1).unwrap_or("").trim();
        if hidden.is_empty() || is_comment(hidden) || is_comment(lead) {
            return;
        }
        let gap = matched.len().saturating_sub(1 + hidden.len());
        let mut loc = hit.location(file.path());
        let at = hit.text.len().saturating_sub(hidden.len());
        loc.column = hit.text.get(..at).map(|p| p.chars().count() as u32 + 1);
        out.push(
            META.finding(loc)
                .evidence(format!(
                    "{} ⟨{gap} blank characters⟩ {}",
                    crate::finding::excerpt(lead, 80),
                    crate::finding::excerpt(hidden, 200)
                ))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn the_gap_regex_needs_code_on_both_sides() {
        let re = Regex::new(GAP).unwrap();
        let hidden = format!("import os{}; exec(x)", " ".repeat(120));
        assert!(re.is_match(&hidden));
        assert!(!is_comment("; exec(x)"));
        assert!(is_comment("/* register */"));
        let indented = format!("{}return x", " ".repeat(120));
        assert!(!re.is_match(&indented));
        let short = format!("a{}b", " ".repeat(40));
        assert!(!re.is_match(&short));
    }
}
