//! `test-assertions-removed`: a change to test files removes more assertions (or whole test
//! functions) than it adds. Weakening a check and the test that guards it in one change is how
//! a behaviour change slips through review with a green CI.
//!
//! Only test files are looked at (by path class). Assertions are counted with SIMD `memmem`
//! over each hunk's text — `assert`, `Assert`, `expect(`, and test markers (`#[test]`,
//! `def test_`, `func Test`, `it(`/`test(`) — and each occurrence is mapped to its line to
//! learn whether it was added or removed. No regex runs per line.

use memchr::memmem;

use crate::change::{FileStatus, LineKind};
use crate::detector::{Detector, DetectorMeta, FileCtx};
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

impl Detector for TestAssertionsRemoved {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        // Deleting a whole test file is a different, visible decision; editing one is where
        // assertions disappear quietly.
        if !file.class.test || file.file.status == FileStatus::Deleted {
            return;
        }
        let (mut removed, mut added, mut removed_tests, mut added_tests) =
            (0usize, 0usize, 0usize, 0usize);
        let mut first: Option<(u32, String)> = None;
        for h in &file.file.hunks {
            let r = lines_with(h, ASSERT_MARKERS, LineKind::Removed);
            if first.is_none()
                && let Some(l) = r.first().and_then(|i| h.lines.get(*i))
            {
                first = Some((l.old_line.unwrap_or(0), h.line_text(l).trim().to_string()));
            }
            removed += r.len();
            added += lines_with(h, ASSERT_MARKERS, LineKind::Added).len();
            removed_tests += lines_with(h, TEST_MARKERS, LineKind::Removed).len();
            added_tests += lines_with(h, TEST_MARKERS, LineKind::Added).len();
        }
        let lost_asserts = removed.saturating_sub(added);
        let lost_tests = removed_tests.saturating_sub(added_tests);
        if lost_asserts < 2 && lost_tests == 0 {
            return;
        }
        let (severity, confidence) =
            if added == 0 && lost_asserts >= 3 || lost_tests > 0 && lost_asserts >= 2 {
                (Severity::Medium, Confidence::High)
            } else {
                (Severity::Medium, Confidence::Medium)
            };
        let (line, text) = first.unwrap_or((0, String::new()));
        let mut loc = Location::file(file.path());
        if line > 0 {
            loc.line = Some(line);
        }
        out.push(
            META.finding(loc)
                .severity(severity)
                .confidence(confidence)
                .evidence(format!(
                    "{removed} assertion lines removed, {added} added; {removed_tests} test functions removed, \
                     {added_tests} added; first removed: {text}"
                ))
                .build(),
        );
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
