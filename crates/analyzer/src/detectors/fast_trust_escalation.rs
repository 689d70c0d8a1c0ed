//! `fast-trust-escalation`: an author whose share of the repository's recent commits rose
//! fast — under 5 % of the earlier window, over 30 % of the latest one (xz-utils, 2022–2024:
//! "Jia Tan" went from occasional patches to most of the project's commits in about a year,
//! then used that trust to land the backdoor in build files and test data).
//!
//! Needs `Change::context` (the caller counts each author's commits in the latest
//! `recent_window` commits and in the window before it); silent without it, and for windows
//! too small to mean anything.

use super::new_author_sensitive_files::authors;
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct FastTrustEscalation;

static META: DetectorMeta = DetectorMeta::new(
    "fast-trust-escalation",
    "Author's share of recent commits rose fast",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::Contributor],
    &[],
    "The author of this change made few of the repository's commits until recently and now \
     makes a large share of them. A fast rise is how maintainer takeovers look from the \
     outside: in xz-utils a newcomer became the main committer within about a year and then \
     hid a backdoor in build files. It is also how a welcome new co-maintainer looks, so this \
     is context: give their changes to build, CI and release files a second reviewer.",
);

/// Earlier share below this and recent share above `RECENT` is a fast rise.
const EARLIER: f64 = 0.05;
const RECENT: f64 = 0.30;
/// Windows smaller than this say nothing.
const MIN_WINDOW: u32 = 20;

impl Detector for FastTrustEscalation {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let Some(ctx) = &cx.change.context else {
            return;
        };
        let execution: Vec<&str> = cx
            .files()
            .filter(|(_, c)| c.is_execution_path())
            .map(|(f, _)| f.path())
            .collect();
        for (_, a) in authors(cx.change, ctx) {
            if a.recent_window < MIN_WINDOW {
                continue;
            }
            let w = f64::from(a.recent_window);
            let (earlier, recent) = (
                f64::from(a.earlier_commits) / w,
                f64::from(a.recent_commits) / w,
            );
            if !(earlier < EARLIER && recent > RECENT) {
                continue;
            }
            let (severity, confidence, at) = match execution.first() {
                Some(p) => (Severity::High, Confidence::Medium, (*p).to_string()),
                None => (
                    META.severity,
                    Confidence::Low,
                    cx.change
                        .files
                        .first()
                        .map(|f| f.path().to_string())
                        .unwrap_or_default(),
                ),
            };
            let mut evidence = format!(
                "{} <{}>: {} of the {} commits before the latest window ({:.0} %), {} of the latest {} ({:.0} %)",
                a.name,
                a.email,
                a.earlier_commits,
                a.recent_window,
                earlier * 100.0,
                a.recent_commits,
                a.recent_window,
                recent * 100.0
            );
            if !execution.is_empty() {
                evidence.push_str(&format!(
                    "; this change touches {}",
                    execution
                        .iter()
                        .take(3)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            out.push(
                META.finding(Location::file(at))
                    .severity(severity)
                    .confidence(confidence)
                    .evidence(evidence)
                    .build(),
            );
        }
    }
}
