//! `gha-publish-in-new-workflow`: a workflow file that the change creates and that publishes
//! packages, pushes commits or tags, cuts releases or creates repositories, while it runs on
//! ordinary events (push, pull request, schedule) rather than on a release. The Shai-Hulud
//! worm planted exactly such workflows with stolen tokens to spread and to exfiltrate, and the
//! Nx "s1ngularity" payload created public repositories through the API.
//!
//! New release workflows are common and legitimate; they are gated on a `release` event, a
//! tag filter or a manual `workflow_dispatch`. Those are not reported.

use crate::change::FileStatus;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::workflow_text::{NewSide, is_workflow, triggers};

#[derive(Debug)]
pub struct GhaPublishInNewWorkflow;

static META: DetectorMeta = DetectorMeta::new(
    "gha-publish-in-new-workflow",
    "New workflow publishes or pushes outside a release",
    Severity::High,
    Confidence::Medium,
    &[Vector::Ci],
    &["yaml"],
    "The change adds a workflow that publishes packages, pushes to git, cuts releases or creates \
     repositories, and it runs on everyday events rather than on a release or a tag. Worms such \
     as Shai-Hulud plant workflows like this to reuse a project's publish token; a legitimate \
     release workflow is normally triggered by a release, a version tag or by hand. Check who \
     wrote it, which secrets it reads, and what it publishes.",
);

const CI: &[FileScope] = &[FileScope::Ci];

static PATTERNS: &[LinePattern] = &[
    LinePattern::lit("npm publish").files(CI),
    LinePattern::lit("yarn publish").files(CI),
    LinePattern::lit("pnpm publish").files(CI),
    LinePattern::lit("twine upload").files(CI),
    LinePattern::lit("poetry publish").files(CI),
    LinePattern::lit("uv publish").files(CI),
    LinePattern::lit("cargo publish").files(CI),
    LinePattern::lit("gem push").files(CI),
    LinePattern::lit("git push").files(CI),
    LinePattern::lit("gh release").files(CI),
    LinePattern::lit("gh repo create").files(CI),
    LinePattern::lit("/user/repos").files(CI),
    LinePattern::lit("/orgs/")
        .regex(r"/orgs/[^/\s]+/repos")
        .files(CI),
    LinePattern::lit("pypa/gh-action-pypi-publish").files(CI),
];

/// A trigger that means "runs when a maintainer releases".
fn release_gated(side: &NewSide<'_>) -> bool {
    let t = triggers(side);
    if t.is_empty() {
        // Without the `on:` block in view we cannot tell; stay quiet rather than guess.
        return true;
    }
    let everyday = t.iter().any(|(n, _)| {
        matches!(
            *n,
            "push"
                | "pull_request"
                | "pull_request_target"
                | "schedule"
                | "issues"
                | "issue_comment"
                | "workflow_run"
                | "fork"
                | "watch"
                | "create"
                | "delete"
        )
    });
    let release = t
        .iter()
        .any(|(n, _)| matches!(*n, "release" | "workflow_dispatch" | "registry_package"));
    // `push:` restricted to tags is a release trigger.
    let tag_push = side.lines.iter().any(|l| {
        let k = l.text.trim_start();
        k.starts_with("tags:") || k.starts_with("tags :")
    }) && !side
        .lines
        .iter()
        .any(|l| l.text.trim_start().starts_with("branches"));
    release && !everyday || tag_push
}

impl Detector for GhaPublishInNewWorkflow {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        let path = file.path();
        if file.file.status != FileStatus::Added
            || !is_workflow(path)
            || hit.text.trim_start().starts_with('#')
        {
            return;
        }
        let side = NewSide::of(file.file);
        if release_gated(&side) {
            return;
        }
        let trig: Vec<&str> = triggers(&side).into_iter().map(|(n, _)| n).collect();
        let reads_secrets = side
            .find("secrets.")
            .or_else(|| side.find("toJSON(secrets"));
        let mut b = META
            .finding(hit.location(path))
            .title(format!(
                "New workflow runs `{}` on {}",
                hit.matched(),
                trig.join(", ")
            ))
            .evidence(hit.text.trim());
        if let Some(s) = reads_secrets {
            b = b
                .confidence(Confidence::High)
                .related(Location::line(path, s.line_no).with_note("reads secrets"));
        }
        out.push(b.build());
    }
}

#[cfg(test)]
mod tests {
    use super::super::workflow_text::SideLine;
    use super::*;

    fn side(text: &'static str) -> NewSide<'static> {
        NewSide {
            lines: text
                .lines()
                .enumerate()
                .map(|(i, t)| SideLine {
                    line_no: i as u32 + 1,
                    text: t,
                    added: true,
                })
                .collect(),
        }
    }

    #[test]
    fn tag_pushes_and_releases_are_release_gated() {
        assert!(release_gated(&side("on:\n  push:\n    tags: ['v*']\n")));
        assert!(release_gated(&side(
            "on:\n  release:\n    types: [published]\n"
        )));
        assert!(release_gated(&side("on: workflow_dispatch\n")));
    }

    #[test]
    fn branch_pushes_are_not_release_gated() {
        assert!(!release_gated(&side("on: push\njobs:\n")));
        assert!(!release_gated(&side(
            "on:\n  push:\n    branches: ['**']\n  workflow_dispatch:\n"
        )));
    }
}
