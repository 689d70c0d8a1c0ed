//! `new-author-sensitive-files`: a first-time or very new author (no earlier commits, or a
//! first commit less than 30 days before this change) touches build, CI, release, install or
//! ownership files — the files that run with privileges or decide who is trusted (xz-utils:
//! the build-script backdoor came from a maintainer who had arrived recently; many CI
//! compromises start with a newcomer's "small fix" to a workflow).
//!
//! Needs `Change::context` (repository history); silent without it. Authors are matched to
//! their history by e-mail (case-insensitive), then by name.
//!
//! This file also holds the identity helpers the other contributor detectors share.

use crate::change::{AuthorHistory, Change, CommitMeta, RepoContext};
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct NewAuthorSensitiveFiles;

static META: DetectorMeta = DetectorMeta::new(
    "new-author-sensitive-files",
    "New contributor changes build, CI, release or ownership files",
    Severity::Medium,
    Confidence::High,
    &[Vector::Contributor],
    &[],
    "The author of this change has no earlier commits in the repository, or made their first \
     one less than 30 days ago, and the change touches files that run with privileges or \
     decide trust: build scripts, CI workflows, release and install scripts, CODEOWNERS. New \
     contributors are welcome, but these files are where takeovers start. Review these files \
     line by line and run nothing from the change before you have.",
);

const NEW_DAYS: i64 = 30;
const DAY: i64 = 86_400;

/// The history of a commit's author, matched by e-mail then by name.
pub(super) fn history_for<'a>(
    ctx: &'a RepoContext,
    commit: &CommitMeta,
) -> Option<&'a AuthorHistory> {
    ctx.authors
        .iter()
        .find(|a| !a.email.is_empty() && a.email.eq_ignore_ascii_case(&commit.author_email))
        .or_else(|| {
            ctx.authors
                .iter()
                .find(|a| !a.name.is_empty() && a.name == commit.author_name)
        })
}

/// Authors of the change with their commit index (`None` when the change has no commits and
/// the context names exactly one author: a bare diff from one person).
pub(super) fn authors(change: &Change, ctx: &RepoContext) -> Vec<(Option<usize>, AuthorHistory)> {
    if change.commits.is_empty() {
        return match ctx.authors.as_slice() {
            [one] => vec![(None, one.clone())],
            _ => Vec::new(),
        };
    }
    let mut out: Vec<(Option<usize>, AuthorHistory)> = Vec::new();
    for (i, c) in change.commits.iter().enumerate() {
        if let Some(h) = history_for(ctx, c)
            && !out
                .iter()
                .any(|(_, o)| o.email == h.email && o.name == h.name)
        {
            out.push((Some(i), h.clone()));
        }
    }
    out
}

impl Detector for NewAuthorSensitiveFiles {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let Some(ctx) = &cx.change.context else {
            return;
        };
        for (commit, author) in authors(cx.change, ctx) {
            let when = commit
                .and_then(|i| cx.change.commits.get(i))
                .and_then(|c| c.author_time)
                .or_else(|| cx.change.commits.iter().filter_map(|c| c.author_time).max());
            let age_days = match (when, author.first_commit_time) {
                (Some(now), Some(first)) => Some((now - first) / DAY),
                _ => None,
            };
            let new = author.prior_commits == 0 || age_days.is_some_and(|d| d < NEW_DAYS);
            if !new {
                continue;
            }
            // The author's own files: all files of their commits (or every file of a bare diff).
            let author_emails: Vec<&str> = cx
                .change
                .commits
                .iter()
                .filter(|c| {
                    c.author_email.eq_ignore_ascii_case(&author.email)
                        || c.author_name == author.name
                })
                .map(|c| c.author_email.as_str())
                .collect();
            let mine = |f: &crate::change::FileChange| match f
                .commit
                .and_then(|i| cx.change.commits.get(i))
            {
                Some(c) => author_emails
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&c.author_email)),
                None => true,
            };
            let sensitive: Vec<(&str, Vec<&str>)> = cx
                .files()
                .filter(|(f, c)| mine(f) && (c.is_execution_path() || c.governance))
                .map(|(f, c)| {
                    let kinds: Vec<&str> = c
                        .roles()
                        .into_iter()
                        .filter(|r| {
                            matches!(*r, "build" | "ci" | "release" | "install" | "governance")
                        })
                        .collect();
                    (f.path(), kinds)
                })
                .collect();
            let Some((first, _)) = sensitive.first() else {
                continue;
            };
            let history = match (author.prior_commits, age_days) {
                (0, _) => "first commit to this repository".to_string(),
                (n, Some(d)) => {
                    format!("{n} earlier commit(s), the first {d} day(s) before this change")
                }
                (n, None) => format!("{n} earlier commit(s)"),
            };
            let touched: Vec<String> = sensitive
                .iter()
                .take(5)
                .map(|(p, k)| format!("{p} ({})", k.join(", ")))
                .collect();
            out.push(
                META.finding(Location::file(*first))
                    .evidence(format!(
                        "{} <{}>: {history}; touches {}",
                        author.name,
                        author.email,
                        touched.join(", ")
                    ))
                    .build(),
            );
        }
    }
}
