//! `ci-skip-in-message`: a commit message or pull-request title that tells CI not to run
//! (`[skip ci]`, `[ci skip]`, `[skip-ci]`, `[no ci]`, `[skip actions]`, `***NO_CI***`,
//! `skip-checks: true`) on a change that touches code (PHP git server, 2021: the backdoor
//! commits carried `[skip-ci]` so no build would exercise them).
//!
//! Skipping CI for a documentation-only change is what the marker is for, so a change whose
//! files are all documentation stays quiet.

use std::sync::OnceLock;

use regex::Regex;

use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct CiSkipInMessage;

static META: DetectorMeta = DetectorMeta::new(
    "ci-skip-in-message",
    "Message asks CI to skip a change that touches code",
    Severity::Medium,
    Confidence::High,
    &[Vector::ReviewEvasion, Vector::Ci],
    &[],
    "The commit message or pull-request title contains a marker that makes CI skip the build \
     and tests, yet the change modifies code. Nothing then checks that the change builds or \
     behaves, and no CI log shows what it does. The PHP backdoor commits of 2021 carried \
     [skip-ci]. Run CI on the change before merging.",
);

fn marker() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)\[\s*(?:skip[ _-]?ci|ci[ _-]?skip|no[ _-]?ci|skip[ _-]?actions|actions[ _-]?skip|skip[ _-]?checks|skip[ _-]?build|skip[ _-]?tests?)\s*\]|\*\*\*NO_CI\*\*\*|^skip-checks:\s*true\b",
        )
        .ok()
    })
    .as_ref()
}

impl Detector for CiSkipInMessage {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let code: Vec<_> = cx.files().filter(|(_, c)| !c.docs).collect();
        if code.is_empty() {
            return;
        }
        let execution = code.iter().any(|(_, c)| c.is_execution_path());
        let mut texts: Vec<(&str, String)> = Vec::new();
        if let Some(t) = &cx.change.title {
            texts.push(("pull-request title", t.clone()));
        }
        if let Some(d) = &cx.change.description {
            texts.push(("pull-request description", d.clone()));
        }
        for c in &cx.change.commits {
            texts.push(("commit message", c.message.clone()));
        }
        // Compiled only when there is a message to check: a plain diff has none, and building
        // this regex would be a sizeable share of a one-shot `s-express analyze`.
        if texts.is_empty() {
            return;
        }
        let Some(re) = marker() else {
            return;
        };
        for (what, text) in texts {
            let Some(m) = text
                .lines()
                .find_map(|l| re.find(l).map(|m| (l, m.as_str().to_string())))
            else {
                continue;
            };
            let (line, mark) = m;
            let first = code
                .first()
                .map(|(f, _)| f.path().to_string())
                .unwrap_or_default();
            let severity = if execution {
                Severity::High
            } else {
                META.severity
            };
            out.push(
                META.finding(Location::file(first))
                    .title(format!("{what} skips CI ({mark}) on a code change"))
                    .severity(severity)
                    .evidence(format!("{what}: {}", line.trim()))
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_is_recognised() {
        let re = marker().unwrap();
        for s in [
            "[skip ci] x",
            "Fix typo [skip-ci]",
            "[CI SKIP]",
            "***NO_CI***",
            "[skip actions]",
            "skip-checks: true",
        ] {
            assert!(re.is_match(s), "{s}");
        }
        assert!(!re.is_match("skip the CI cache when offline"));
    }
}
