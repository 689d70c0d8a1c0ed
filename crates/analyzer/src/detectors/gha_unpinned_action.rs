//! `gha-unpinned-action`: a workflow step that uses a third-party action by tag or branch
//! (`uses: owner/repo@v1`, `@main`) instead of a full commit SHA. A tag is a movable pointer:
//! when tj-actions/changed-files was compromised in March 2025 the attacker repointed every
//! tag to a commit that printed the runner's secrets into public logs, and every workflow
//! pinned by tag ran it.
//!
//! Choice: actions owned by GitHub (`actions/*`, `github/*`) and local actions (`./…`) are
//! not reported — they are maintained by the platform or by the repository itself, and
//! flagging every `actions/checkout@v4` would bury the signal — except when the change
//! replaces an existing SHA pin with a tag, which is reported for any action. `docker://`
//! references are out of scope.
//!
//! Severity follows what the change does to who the workflow trusts (unpinned actions are in
//! most benign repositories, so one finding alone must not put a change in the `high` band):
//! an action the file already used (bump, edited step) is low; a newly introduced one is
//! medium/medium; a SHA pin turned into a tag or a known-repointed action is high/high.

use crate::change::LineKind;
use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, Hit, LinePattern};
use crate::finding::{Confidence, Findings, Severity, Vector};

#[derive(Debug)]
pub struct GhaUnpinnedAction;

static META: DetectorMeta = DetectorMeta::new(
    "gha-unpinned-action",
    "Third-party action not pinned to a commit",
    Severity::Medium,
    Confidence::Medium,
    &[Vector::Ci],
    &["yaml"],
    "This step runs a third-party action by tag or branch. Whoever controls that repository can \
     move the tag to new code at any time, and the workflow will run it with its token and \
     secrets; that is how the tj-actions/changed-files compromise reached thousands of \
     repositories in 2025. Pin the action to a full 40-character commit SHA (keep the tag in a \
     comment) and let a bot propose updates.",
);

const USES_RE: &str = r##"uses:\s*['"]?([^\s'"@#]+)@([^\s'"#]+)"##;

static PATTERNS: &[LinePattern] = &[LinePattern::lit("uses:")
    .regex(USES_RE)
    .files(&[FileScope::Ci])];

/// Repositories whose tags were repointed in a public compromise.
const REPOINTED: &[&str] = &["tj-actions/", "reviewdog/"];

fn is_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn first_party(action: &str) -> bool {
    action.starts_with("actions/") || action.starts_with("github/") || action.starts_with("./")
}

/// A branch-like ref (`main`, `master`, `dev`) moves with every push, not only when re-tagged.
fn is_branch(r: &str) -> bool {
    !r.starts_with(|c: char| c == 'v' || c.is_ascii_digit())
}

fn parse(text: &str) -> Option<(&str, &str)> {
    let rest = &text[text.find("uses:")? + 5..];
    let rest = rest.trim_start().trim_start_matches(['\'', '"']);
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '#')
        .unwrap_or(rest.len());
    rest[..end].split_once('@')
}

/// Whether the workflow named `action` before this change: on a removed or unchanged line of
/// any hunk of the file (a version bump removes the old reference; context lines are old too).
fn action_already_used(file: &FileCtx<'_>, action: &str) -> bool {
    file.file.hunks.iter().any(|h| {
        h.lines.iter().any(|l| {
            l.kind != LineKind::Added && parse(h.line_text(l)).is_some_and(|(a, _)| a == action)
        })
    })
}

impl Detector for GhaUnpinnedAction {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn on_hit(&self, hit: &Hit<'_>, file: &FileCtx<'_>, out: &mut Findings) {
        if hit.text.trim_start().starts_with('#') {
            return;
        }
        let Some((action, reference)) = parse(hit.text) else {
            return;
        };
        if is_sha(reference) || action.starts_with("docker:") || action.starts_with("./") {
            return;
        }
        // Did this hunk remove a SHA pin of the same action? (Reads only this hunk's lines.)
        let unpinned_from_sha = hit.hunk.lines.iter().any(|l| {
            l.kind == LineKind::Removed
                && parse(hit.hunk.line_text(l)).is_some_and(|(a, r)| a == action && is_sha(r))
        });
        if first_party(action) && !unpinned_from_sha {
            return;
        }
        let repointed = REPOINTED.iter().any(|p| action.starts_with(p));
        // Unpinned references are ubiquitous in benign repositories; what a reviewer must see
        // is a change that makes things worse. An action the file already used before this
        // change (a removed or unchanged line names it: a bump or a reshuffle) changes
        // nothing about who the workflow trusts, so it is context only. A newly introduced
        // third-party action is notable. Only a SHA pin turned into a tag, or an action whose
        // tags were repointed in a public compromise, is a strong signal on its own.
        let already_used = !unpinned_from_sha && action_already_used(file, action);
        let (severity, confidence) = if unpinned_from_sha || repointed {
            (Severity::High, Confidence::High)
        } else if already_used {
            (Severity::Low, Confidence::Medium)
        } else {
            (Severity::Medium, Confidence::Medium)
        };
        let kind = if is_branch(reference) {
            "branch"
        } else {
            "tag"
        };
        let title = if unpinned_from_sha {
            format!("SHA pin of `{action}` replaced by `{reference}`")
        } else if repointed {
            format!("`{action}@{reference}`: an action whose tags were repointed in a compromise")
        } else if already_used {
            format!(
                "Third-party action `{action}` (already used before) kept unpinned by {kind} `{reference}`"
            )
        } else {
            format!("New third-party action `{action}` used by {kind} `{reference}`")
        };
        out.push(
            META.finding(hit.location(file.path()))
                .severity(severity)
                .confidence(confidence)
                .title(title)
                .evidence(hit.text.trim())
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_lines_are_split_into_action_and_ref() {
        assert_eq!(
            parse("      - uses: tj-actions/changed-files@v45"),
            Some(("tj-actions/changed-files", "v45"))
        );
        assert_eq!(
            parse("  uses: 'owner/repo/sub@main' # comment"),
            Some(("owner/repo/sub", "main"))
        );
        assert_eq!(parse("  uses: ./.github/actions/x"), None);
    }

    #[test]
    fn only_full_hex_shas_count_as_pins() {
        assert!(is_sha("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_sha("0123456"));
        assert!(!is_sha("v4"));
    }

    #[test]
    fn version_tags_are_not_branches() {
        assert!(is_branch("main"));
        assert!(!is_branch("v1.2.3"));
        assert!(!is_branch("2.0"));
    }
}
