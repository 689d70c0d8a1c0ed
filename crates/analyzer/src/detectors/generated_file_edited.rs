//! `generated-file-edited`: a hand edit to a minified, vendored or generated file outside a
//! dependency update (event-stream / flatmap-stream, 2018: the payload lived only in the
//! published, minified build output, which nobody reviews).
//!
//! Reviewers skip generated files, so they are where a payload hides. A change that also
//! touches a manifest or a lockfile is treated as a dependency update (vendored trees move with
//! their lockfile) and stays quiet, as do newly added files (a different decision, visible in
//! the file list) and source maps.

use crate::change::FileStatus;
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct GeneratedFileEdited;

static META: DetectorMeta = DetectorMeta::new(
    "generated-file-edited",
    "Generated, minified or vendored file edited outside a dependency update",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::ReviewEvasion],
    &[],
    "The change edits a file that is normally produced by a tool (a minified bundle, generated \
     code, a vendored copy of another project) without a matching dependency or lockfile \
     update. Reviewers skip such files, and a payload placed there reaches users while the \
     readable source stays clean, as in the event-stream attack. Regenerate the file from its \
     source and compare, or ask where the edit comes from.",
);

impl Detector for GeneratedFileEdited {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        if cx.files().any(|(_, c)| c.manifest || c.lockfile) {
            return;
        }
        for (f, class) in cx.files() {
            if !class.generated || !matches!(f.status, FileStatus::Modified | FileStatus::Renamed) {
                continue;
            }
            let path = f.path();
            if path.ends_with(".map") {
                continue;
            }
            let Some((line, text)) = f.added_lines().find(|(_, t)| !t.trim().is_empty()) else {
                continue;
            };
            let added = f.added_lines().count();
            out.push(
                META.finding(Location::line(path, line))
                    .evidence(format!(
                        "{added} added line(s); first: {}",
                        crate::finding::excerpt(text.trim(), 200)
                    ))
                    .build(),
            );
        }
    }
}
