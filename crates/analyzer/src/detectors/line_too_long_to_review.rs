//! `line-too-long-to-review`: the diff parser had to cut a line longer than its limit (1 MiB by
//! default), so neither the analyzer nor a human reviewer saw the whole line. A line that long
//! in a change is either generated output that belongs in a build step or a place to bury a
//! payload past every viewer's patience; either way nobody reviewed it.
//!
//! Reads `Change::parse_notes` of kind `LineTruncated`; one finding per note, capped.

use crate::change::ParseNoteKind;
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct LineTooLongToReview;

static META: DetectorMeta = DetectorMeta::new(
    "line-too-long-to-review",
    "Line too long to review",
    Severity::High,
    Confidence::Medium,
    &[Vector::ReviewEvasion, Vector::Obfuscation],
    &[],
    "A line in this change is longer than the analyzer's limit, so only its beginning was \
     analysed and no reviewer can realistically read it. Megabyte-long lines are where \
     minified or encoded payloads hide. Ask for the line to be produced by a build step from \
     readable source, or inspect its full content with a tool before merging.",
);

/// Notes reported per change at most.
const MAX_REPORTED: usize = 10;

impl Detector for LineTooLongToReview {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let notes = cx
            .change
            .parse_notes
            .iter()
            .filter(|n| n.kind == ParseNoteKind::LineTruncated);
        for note in notes.take(MAX_REPORTED) {
            let path = note.path.clone().unwrap_or_default();
            let generated = cx.files().any(|(f, c)| f.path() == path && c.generated);
            let severity = if generated {
                Severity::Medium
            } else {
                META.severity
            };
            out.push(
                META.finding(Location::file(path))
                    .severity(severity)
                    .evidence(format!("input line {}: {}", note.input_line, note.message))
                    .build(),
            );
        }
    }
}
