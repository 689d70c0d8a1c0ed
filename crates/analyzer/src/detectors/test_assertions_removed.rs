//! `test-assertions-removed`: a change to test files removes more assertions (or whole test
//! functions) than it adds. Weakening a check and the test that guards it in one change is how
//! a behaviour change slips through review with a green CI.
//!
//! Only test files are looked at (by path class). Assertions are counted with SIMD `memmem`
//! over each hunk's text — `assert`, `Assert`, `expect(`, and test markers (`#[test]`,
//! `def test_`, `func Test`, `it(`/`test(`) — and each occurrence is mapped to its line to
//! learn whether it was added or removed. No regex runs per line.
//!
//! A file is reported only when it loses assertions (not merely test functions) AND the
//! change as a whole removes at least two more assertion lines from test files than it adds:
//! tests moved to another file, or a test directory moved (`dateutil/test/` → `tests/`),
//! cancel out instead of looking like deletions.

use memchr::memmem;

use crate::change::{FileChange, FileStatus, LineKind};
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct TestAssertionsRemoved;

static META: DetectorMeta = DetectorMeta::new(
    "test-assertions-removed",
    "Test assertions or test functions removed",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::Weakening],
    &[],
    "The change removes more assertions or test functions from test code than it adds. A test \
     that no longer asserts cannot fail, so a behaviour change elsewhere in the same change will \
     pass CI unnoticed. Check which behaviour the removed assertions pinned down and whether \
     the code they tested changed too.",
);

const ASSERT_MARKERS: &[&str] = &["assert", "Assert", "expect("];
const TEST_MARKERS: &[&str] = &[
    "#[test]",
    "def test_",
    "func Test",
    "@Test",
    "\nit(",
    " it(",
    "\ntest(",
    " test(",
];

/// Lines (indices) of `kind` in the hunk that contain any of `markers`; each line counted once.
fn lines_with(h: &crate::change::Hunk, markers: &[&str], kind: LineKind) -> Vec<usize> {
    let mut idx: Vec<usize> = Vec::new();
    for m in markers {
        for off in memmem::find_iter(h.text.as_bytes(), m.as_bytes()) {
            // A marker that starts with a newline belongs to the next line.
            let off = if m.starts_with('\n') { off + 1 } else { off };
            if let Some(i) = h.line_index_at(off)
                && h.lines.get(i).is_some_and(|l| l.kind == kind)
                && !idx.contains(&i)
            {
                idx.push(i);
            }
        }
    }
    idx.sort_unstable();
    idx
}

/// Assertion and test-function lines one test file's hunks remove and add.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    removed: usize,
    added: usize,
    removed_tests: usize,
    added_tests: usize,
}

fn counts(file: &FileChange) -> (Counts, Option<(u32, String)>) {
    let mut c = Counts::default();
    let mut first: Option<(u32, String)> = None;
    for h in &file.hunks {
        let r = lines_with(h, ASSERT_MARKERS, LineKind::Removed);
        if first.is_none()
            && let Some(l) = r.first().and_then(|i| h.lines.get(*i))
        {
            first = Some((l.old_line.unwrap_or(0), h.line_text(l).trim().to_string()));
        }
        c.removed += r.len();
        c.added += lines_with(h, ASSERT_MARKERS, LineKind::Added).len();
        c.removed_tests += lines_with(h, TEST_MARKERS, LineKind::Removed).len();
        c.added_tests += lines_with(h, TEST_MARKERS, LineKind::Added).len();
    }
    (c, first)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Detector for TestAssertionsRemoved {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, ctx: &ChangeCtx<'_>, out: &mut Findings) {
        let tests: Vec<&FileChange> = ctx
            .files()
            .filter(|(_, class)| class.test)
            .map(|(f, _)| f)
            .collect();
        if tests.is_empty() {
            return;
        }
        let added_names: Vec<&str> = tests
            .iter()
            .filter(|f| f.status == FileStatus::Added)
            .map(|f| file_name(f.path()))
            .collect();
        // Totals over the whole change, so that assertions moved between test files (or a
        // test file moved as a delete plus an add) cancel out. Deleting a whole test file is a
        // different, visible decision and counts only when a file of the same name is added
        // in the same change (a move git did not pair as a rename).
        let mut total = Counts::default();
        let mut candidates = Vec::new();
        for f in &tests {
            let moved_away = f.status == FileStatus::Deleted
                && f.old_path
                    .as_deref()
                    .is_some_and(|p| added_names.contains(&file_name(p)));
            if f.status == FileStatus::Deleted && !moved_away {
                continue;
            }
            let (c, first) = counts(f);
            total.removed += c.removed;
            total.added += c.added;
            total.removed_tests += c.removed_tests;
            total.added_tests += c.added_tests;
            if f.status != FileStatus::Deleted {
                candidates.push((*f, c, first));
            }
        }
        let net_lost = total.removed.saturating_sub(total.added);
        if net_lost < 2 {
            return;
        }
        for (f, c, first) in candidates {
            let lost_asserts = c.removed.saturating_sub(c.added);
            let lost_tests = c.removed_tests.saturating_sub(c.added_tests);
            // Removed test functions without removed assertions (a helper reshuffle, a
            // parametrized test folded in) are not a weakening on their own.
            if lost_asserts < 2 && (lost_asserts == 0 || lost_tests == 0) {
                continue;
            }
            let confidence =
                if c.added == 0 && lost_asserts >= 3 || lost_tests > 0 && lost_asserts >= 2 {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
            let (line, text) = first.unwrap_or((0, String::new()));
            let mut loc = Location::file(f.path());
            if line > 0 {
                loc.line = Some(line);
            }
            out.push(
                META.finding(loc)
                    .severity(Severity::Medium)
                    .confidence(confidence)
                    .evidence(format!(
                        "{} assertion lines removed, {} added; {} test functions removed, {} added \
                         (whole change: {} removed, {} added); first removed: {text}",
                        c.removed,
                        c.added,
                        c.removed_tests,
                        c.added_tests,
                        total.removed,
                        total.added
                    ))
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Hunk, Line};

    fn hunk(lines: &[(LineKind, &str)]) -> Hunk {
        let mut h = Hunk::default();
        for (i, (kind, t)) in lines.iter().enumerate() {
            let start = h.text.len() as u32;
            h.text.push_str(t);
            let end = h.text.len() as u32;
            h.text.push('\n');
            h.lines.push(Line {
                kind: *kind,
                start,
                end,
                old_line: Some(i as u32 + 1),
                new_line: Some(i as u32 + 1),
                crlf: false,
                no_newline_at_eof: false,
            });
        }
        h
    }

    #[test]
    fn each_line_counts_once_and_by_kind() {
        let h = hunk(&[
            (LineKind::Removed, "    assert x == 1; assert y"),
            (LineKind::Removed, "    assertEquals(a, b)"),
            (LineKind::Added, "    assert z"),
            (LineKind::Context, "    assert w"),
        ]);
        assert_eq!(
            lines_with(&h, ASSERT_MARKERS, LineKind::Removed),
            vec![0, 1]
        );
        assert_eq!(lines_with(&h, ASSERT_MARKERS, LineKind::Added), vec![2]);
    }

    #[test]
    fn test_markers_at_the_start_of_a_line_are_found() {
        let h = hunk(&[
            (LineKind::Context, "x"),
            (LineKind::Removed, "it('rejects bad signatures', () => {"),
        ]);
        assert_eq!(lines_with(&h, TEST_MARKERS, LineKind::Removed), vec![1]);
    }
}
