//! `infinite-loop-added`: an unconditional infinite loop with no way out (colors.js, 2022: the
//! maintainer added `for (let i = 666; i < Infinity; i++)` printing garbage at the top level
//! of the module, so every program importing it hung).
//!
//! Server loops, event loops and retry loops are everywhere, so the pattern alone means
//! little. A hit (`i < Infinity`, `while (true)`, `while True:`, `for (;;)`, `loop {`) is kept
//! only when the following lines of the same hunk (up to 40) contain none of the markers that
//! leave or pace a loop: `break`, `return`, `await`, `yield`, `sleep`, `exit`, `throw`,
//! `raise`, blocking reads, `select`/`poll`/`accept`, timers. Severity then depends on
//! where the loop sits: at the top level of a module (no indentation) it runs on import.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct InfiniteLoopAdded;

static META: DetectorMeta = DetectorMeta::new(
    "infinite-loop-added",
    "Unconditional infinite loop without an exit",
    Severity::High,
    Confidence::Medium,
    &[Vector::Sabotage],
    &[],
    "The change adds a loop that never ends: nothing in it breaks out, returns, waits or \
     sleeps. At the top level of a module it runs as soon as the module is imported and hangs \
     every program that uses the library — how the colors.js maintainer sabotaged thousands of \
     projects in 2022. Check what the loop is for and how it is meant to stop.",
);

const CODE: &[FileScope] = &[FileScope::Source, FileScope::ExecutionPath];

const WHILE: &str = r"\bwhile\s*\(\s*(?:true|1|!0)\s*\)|^\s*while\s+(?:True|1)\s*:|^\s*while\s+true\s*(?:;\s*)?do\b|^\s*while\s*:\s*;?\s*do\b";

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("Infinity")
        .regex(r"\bfor\s*\([^;]*;\s*[\w.]+\s*<=?\s*Infinity\s*;")
        .files(CODE),
    // `while` alone is on too many lines; anchor on the unconditional spellings.
    LinePattern::lit("while (true)").regex(WHILE).files(CODE),
    LinePattern::lit("while(true)").regex(WHILE).files(CODE),
    LinePattern::lit("while (1)").regex(WHILE).files(CODE),
    LinePattern::lit("while(1)").regex(WHILE).files(CODE),
    LinePattern::lit("while (!0)").regex(WHILE).files(CODE),
    LinePattern::lit("while True").regex(WHILE).files(CODE),
    LinePattern::lit("while 1:").regex(WHILE).files(CODE),
    LinePattern::lit("while true").regex(WHILE).files(CODE),
    LinePattern::lit("while :").regex(WHILE).files(CODE),
    LinePattern::lit("for (;;)").files(CODE),
    LinePattern::lit("for(;;)").files(CODE),
    LinePattern::lit("loop {")
        .regex(r"^\s*loop\s*\{")
        .files(CODE),
];

/// Markers that leave, pace or block a loop, searched in the lines after the loop head.
const EXITS: &[&str] = &[
    "break",
    "return",
    "await",
    "yield",
    "sleep",
    "exit",
    "throw",
    "raise",
    "panic!",
    "select",
    "poll(",
    "accept(",
    "recv",
    "read(",
    "readline",
    "input(",
    "wait(",
    "wait_for",
    "next(",
    "setTimeout",
    "setInterval",
    "requestAnimationFrame",
    "join(",
    "goto ",
    "process.abort",
    "abort(",
    "os._exit",
    "continue_or",
    "tick",
    "listen(",
    ".get(",
    "pop(",
    "getline",
    "scanf",
    "fgets",
];

fn exits() -> Option<&'static AhoCorasick> {
    static A: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    A.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(EXITS)
            .ok()
    })
    .as_ref()
}

/// Lines of the hunk after the loop head that are searched for an exit.
const BODY_LINES: usize = 40;

impl Detector for InfiniteLoopAdded {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let head = hit.text.trim_start();
        if head.starts_with("//") || head.starts_with('#') || head.starts_with('*') {
            return;
        }
        let Some(ac) = exits() else {
            return;
        };
        // The loop head and its body: from the hit line to BODY_LINES later, in this hunk.
        let lines = &hit.hunk.lines;
        let Some(idx) = lines.iter().position(|l| std::ptr::eq(l, hit.line)) else {
            return;
        };
        let end = lines
            .get((idx + BODY_LINES).min(lines.len().saturating_sub(1)))
            .map(|l| l.end as usize);
        let start = hit.line.start as usize + hit.range.end;
        let body = end
            .and_then(|e| hit.hunk.text.get(start..e.max(start)))
            .unwrap_or("");
        if ac.is_match(body) {
            return;
        }
        let top_level = !hit.text.starts_with([' ', '\t']);
        let infinity = hit.pattern == 0;
        let (severity, confidence, title) = match (top_level, infinity) {
            (true, true) => (
                Severity::Critical,
                Confidence::High,
                "Infinite loop at module top level runs on import",
            ),
            (true, false) => (
                Severity::High,
                Confidence::Medium,
                "Infinite loop at module top level runs on import",
            ),
            (false, true) => (Severity::Medium, Confidence::Medium, META.title.as_ref()),
            (false, false) => (Severity::Low, Confidence::Low, META.title.as_ref()),
        };
        out.push(
            META.finding(hit.location(file.path()))
                .title(title)
                .severity(severity)
                .confidence(confidence)
                .evidence(hit.text.trim())
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn loop_heads_are_recognised() {
        let inf = Regex::new(PATTERNS[0].regex.unwrap()).unwrap();
        assert!(inf.is_match("for (let i = 666; i < Infinity; i++) {"));
        let wh = Regex::new(WHILE).unwrap();
        assert!(wh.is_match("while (true) {"));
        assert!(wh.is_match("while True:"));
        assert!(wh.is_match("while true; do"));
        assert!(!wh.is_match("while (running) {"));
    }

    #[test]
    fn exit_markers_are_found_case_insensitively() {
        let ac = exits().unwrap();
        assert!(ac.is_match("  if done: BREAK"));
        assert!(ac.is_match("  time.sleep(5)"));
        assert!(!ac.is_match("  console.log('testing'.zalgo)\n}"));
    }
}
