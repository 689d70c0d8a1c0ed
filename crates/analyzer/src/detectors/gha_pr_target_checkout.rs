//! `gha-pr-target-checkout`: a workflow triggered by `pull_request_target` or `workflow_run`
//! that checks out the pull request's head. Those triggers run with the base repository's
//! secrets and a write token; checking out and building the fork's code hands both to whoever
//! opened the pull request (the "pwn request" behind the Ultralytics compromise).
//!
//! The trigger and the checkout are usually far apart, so this is a file-level check over the
//! new side of the workflow ([`NewSide`]); it fires only when the change adds one of the two.

use crate::detector::{Detector, DetectorMeta, FileCtx};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

use super::workflow_text::{NewSide, SideLine, is_workflow, key_of, triggers};

#[derive(Debug)]
pub struct GhaPrTargetCheckout;

static META: DetectorMeta = DetectorMeta::new(
    "gha-pr-target-checkout",
    "Privileged workflow checks out pull request code",
    Severity::Critical,
    Confidence::High,
    &[Vector::Ci],
    &["yaml"],
    "This workflow runs on `pull_request_target` or `workflow_run`, which run with the base \
     repository's secrets and a token that can write, and it checks out the pull request's own \
     code. Anything that code runs (build scripts, tests, package install hooks) then runs with \
     those privileges: anyone who opens a pull request can steal secrets or poison caches and \
     releases. Use the `pull_request` trigger for building untrusted code, or never execute the \
     checked-out head in the privileged job.",
);

/// Expressions and commands that name the pull request's head rather than the base.
const HEAD_REFS: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.repo.full_name",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_repository.full_name",
    "refs/pull/",
    "gh pr checkout",
];

fn is_head_checkout(l: &SideLine<'_>) -> bool {
    let t = l.text;
    if !HEAD_REFS.iter().any(|r| t.contains(r)) {
        return false;
    }
    t.contains("gh pr checkout")
        || t.contains("checkout")
        || t.contains("git fetch")
        || matches!(key_of(t), Some("ref" | "repository"))
}

impl Detector for GhaPrTargetCheckout {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        let path = file.path();
        if !file.class.ci || !is_workflow(path) || file.file.new_path.is_none() {
            return;
        }
        if file.file.added_lines().next().is_none() {
            return;
        }
        let side = NewSide::of(file.file);
        let Some((trigger, trig_line)) = triggers(&side)
            .into_iter()
            .find(|(n, _)| matches!(*n, "pull_request_target" | "workflow_run"))
        else {
            return;
        };
        let Some(checkout) = side.lines.iter().find(|l| is_head_checkout(l)) else {
            return;
        };
        // A combination that already existed is not this change's doing.
        if !checkout.added && !trig_line.added {
            return;
        }
        let (at, other, note) = if checkout.added {
            (checkout, trig_line, format!("trigger `{trigger}`"))
        } else {
            (
                &trig_line,
                *checkout,
                "checks out the pull request head".to_string(),
            )
        };
        let severity = if trigger == "pull_request_target" {
            Severity::Critical
        } else {
            Severity::High
        };
        out.push(
            META.finding(Location::line(path, at.line_no))
                .severity(severity)
                .title(format!("`{trigger}` workflow checks out pull request code"))
                .evidence(format!(
                    "{} … {}",
                    trig_line.text.trim(),
                    checkout.text.trim()
                ))
                .related(Location::line(path, other.line_no).with_note(note))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> SideLine<'_> {
        SideLine {
            line_no: 1,
            text,
            added: true,
        }
    }

    #[test]
    fn checkout_of_the_head_sha_is_recognised() {
        assert!(is_head_checkout(&line(
            "          ref: ${{ github.event.pull_request.head.sha }}"
        )));
        assert!(is_head_checkout(&line(
            "      - run: gh pr checkout ${{ github.event.number }}"
        )));
        assert!(is_head_checkout(&line(
            "          ref: refs/pull/${{ github.event.number }}/merge"
        )));
    }

    #[test]
    fn mentioning_the_head_outside_a_checkout_is_not_a_checkout() {
        assert!(!is_head_checkout(&line(
            "          LABEL: ${{ github.head_ref }}"
        )));
        assert!(!is_head_checkout(&line("          ref: ${{ github.sha }}")));
    }
}
