//! `time-bomb-date-check`: the current time compared with a hard-coded date
//! (`new Date() > new Date('2026-…')`, `Date.now() > 1767225600000`,
//! `datetime.now() > datetime(2026, …)`, `time.Now().After(time.Date(2026, …))`). Code that
//! behaves differently after a fixed day is how time bombs and delayed sabotage activate long
//! after review; the same shape hides protestware that waits for a date.
//!
//! Anchored on the "now" call; a regex requires a literal date or epoch timestamp on the same
//! line. Comparisons against a variable (`Date.now() > session.expiresAt`) stay quiet, and test
//! files are skipped: tests pin dates all the time.

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct TimeBombDateCheck;

static META: DetectorMeta = DetectorMeta::new(
    "time-bomb-date-check",
    "Behaviour switched on a hard-coded date",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::Sabotage],
    &[],
    "The added code compares the current time with a fixed date. Code that only runs after a \
     given day passes every review and every test today and activates later, which is how time \
     bombs and delayed protestware work. Read what the branch does after the date; a \
     legitimate deprecation or licence switch says so in a message or a comment.",
);

const CODE: &[FileScope] = &[FileScope::Source, FileScope::ExecutionPath];

/// Built at compile time from one template so every language shares the literal-date part.
macro_rules! cmp_re {
    ($now:expr) => {
        concat!(
            $now,
            r#"\s*(?:\.getTime\(\)\s*)?(?:[<>]=?|-)\s*(?:new\s+Date\(\s*['"`]?\d{4}[-/,]|\bDate\.UTC\(\s*\d{4}|\b1[0-9]{9}(?:[0-9]{3})?\b|\bdatetime(?:\.datetime)?\(\s*\d{4}\s*,|\bdate\(\s*\d{4}\s*,|['"]\d{4}-\d{2}-\d{2}['"T ])"#,
            "|",
            r#"(?:new\s+Date\(\s*['"`]?\d{4}[-/,][^)]*\)|\b1[0-9]{9}(?:[0-9]{3})?\b|\bdatetime(?:\.datetime)?\(\s*\d{4}\s*,[^)]*\))\s*(?:\.getTime\(\)\s*)?[<>]=?\s*"#,
            $now
        )
    };
}

pub(super) const JS_NOW: &str = cmp_re!(r"(?:new\s+Date\(\s*\)|Date\.now\(\s*\))");
pub(super) const PY_NOW: &str =
    cmp_re!(r"(?:datetime(?:\.datetime)?\.(?:now|today|utcnow)\([^)]*\)|date\.today\(\))");
pub(super) const GO_NOW: &str = r"time\.Now\(\)\.(?:After|Before|Sub)\(\s*time\.Date\(\s*\d{4}\s*,";
const YEAR: &str = r"getFullYear\(\)\s*[<>]=?\s*20\d\d\b|\.year\s*[<>]=?\s*20\d\d\b";
pub(super) const SHELL_NOW: &str =
    r#"\$\(date\s+\+%s\)\s*['"]?\s*-(?:gt|ge|lt|le)\s+['"]?1[0-9]{9}\b"#;

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("new Date(").regex(JS_NOW).files(CODE),
    LinePattern::lit("Date.now(").regex(JS_NOW).files(CODE),
    LinePattern::lit(".now(").regex(PY_NOW).files(CODE),
    LinePattern::lit(".today(").regex(PY_NOW).files(CODE),
    LinePattern::lit(".utcnow(").regex(PY_NOW).files(CODE),
    LinePattern::lit("time.Now()").regex(GO_NOW).files(CODE),
    LinePattern::lit("getFullYear()").regex(YEAR).files(CODE),
    LinePattern::lit("date +%s").regex(SHELL_NOW).files(CODE),
];

impl Detector for TimeBombDateCheck {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let t = hit.text.trim_start();
        if t.starts_with("//") || t.starts_with("# ") || t.starts_with('*') {
            return;
        }
        out.push(
            META.finding(hit.location(file.path()))
                .evidence(hit.text.trim())
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn m(re: &str, s: &str) -> bool {
        Regex::new(re).unwrap().is_match(s)
    }

    #[test]
    fn literal_dates_fire_in_each_language() {
        assert!(m(JS_NOW, "if (new Date() > new Date('2026-03-01')) {"));
        assert!(m(JS_NOW, "if (Date.now() >= 1772323200000) wipe();"));
        assert!(m(JS_NOW, "if (new Date('2026-03-01') < new Date()) {"));
        assert!(m(PY_NOW, "if datetime.now() > datetime(2026, 3, 1):"));
        assert!(m(
            PY_NOW,
            "if datetime.datetime.utcnow() > datetime.datetime(2026, 3, 1):"
        ));
        assert!(m(
            GO_NOW,
            "if time.Now().After(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {"
        ));
        assert!(m(SHELL_NOW, "if [ \"$(date +%s)\" -gt 1772323200 ]; then"));
    }

    #[test]
    fn comparisons_with_variables_stay_quiet() {
        assert!(!m(JS_NOW, "if (Date.now() > session.expiresAt) {"));
        assert!(!m(JS_NOW, "const elapsed = Date.now() - start;"));
        assert!(!m(PY_NOW, "if datetime.now() > deadline:"));
        assert!(!m(GO_NOW, "if time.Now().After(deadline) {"));
    }
}
