//! `trivial-message-logic-change`: a commit message or pull-request title claims a trivial
//! change ("Fix typo", "update readme", "docs:", "whitespace", "formatting", "bump version",
//! "minor cleanup") while the change alters logic (PHP git server, 2021: two commits titled
//! "Fix typo" added a backdoor that evaluated a request header).
//!
//! The message is a claim to verify, never a reason to lower suspicion. For each claim the
//! change is checked against what the claim allows:
//! - *typo / spelling*: every added line in a non-docs file must be a small edit (a few
//!   characters) of a line removed in the same hunk, or a comment or blank line;
//! - *whitespace / formatting*: per file, the non-whitespace characters added must equal those
//!   removed;
//! - *docs / readme*: only docs files may change (comments and blank lines in code are fine);
//! - *version bump / cleanup*: weaker claims; added code lines that are not small edits and do
//!   not mention a version are reported at medium severity.
//!
//! This runs once per change, and only when a message makes such a claim (a cheap regex on a
//! handful of short strings), so its per-line comparison does not cost the common case.

use std::sync::OnceLock;

use regex::Regex;

use crate::change::{FileChange, Hunk, LineKind};
use crate::classify::FileClass;
use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct TrivialMessageLogicChange;

static META: DetectorMeta = DetectorMeta::new(
    "trivial-message-logic-change",
    "Message claims a trivial change but the code logic changes",
    Severity::High,
    Confidence::High,
    &[Vector::ReviewEvasion],
    &[],
    "The commit message or pull-request title describes a trivial change (a typo, formatting, \
     documentation, a version bump), but the change adds or alters code. Attackers write such \
     messages so that reviewers skim: the PHP source repository was backdoored in 2021 by two \
     commits titled \"Fix typo\". Read every code line of the change as if the message said \
     nothing.",
);

/// What a message claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Typo,
    Whitespace,
    Docs,
    Version,
    Cleanup,
}

impl Claim {
    fn describe(self) -> &'static str {
        match self {
            Claim::Typo => "a typo fix",
            Claim::Whitespace => "a whitespace or formatting change",
            Claim::Docs => "a documentation change",
            Claim::Version => "a version bump",
            Claim::Cleanup => "a minor cleanup",
        }
    }
}

fn claim_of(message: &str) -> Option<Claim> {
    static RES: OnceLock<Option<[Regex; 5]>> = OnceLock::new();
    let res = RES
        .get_or_init(|| {
            Some([
                Regex::new(r"(?i)\b(?:typos?|spelling|misspell\w*|grammar)\b").ok()?,
                Regex::new(r"(?i)\b(?:whitespace|white[- ]space|formatting|reformat\w*|re-?indent\w*|indentation|fmt|prettier|cosmetic|trailing spaces?)\b").ok()?,
                Regex::new(r"(?i)^(?:docs?(?:\([^)]*\))?!?:|\[docs?\])|\b(?:update|fix|improve|add)\w*\s+(?:the\s+)?(?:readme|docs?|documentation|changelog|comments?)\b|\breadme\b").ok()?,
                Regex::new(r"(?i)\b(?:bump(?:ed|s)?\s+(?:the\s+)?version|version\s+bump|bump\s+to\s+v?\d|release\s+v?\d+\.\d+|^v?\d+\.\d+\.\d+$|^chore\(release\))").ok()?,
                Regex::new(r"(?i)\b(?:minor|small|tiny)\s+(?:cleanup|clean-?up|fix(?:es)?|tweaks?|changes?)\b|^(?:cleanup|clean up)$|\bnit(?:pick)?s?\b").ok()?,
            ])
        })
        .as_ref()?;
    let subject = message.lines().next().unwrap_or("").trim();
    // Strip mail prefixes the parser may have kept ("[PATCH 1/2]", "Re:").
    let subject = subject.trim_start_matches("Re: ");
    let subject = match subject.strip_prefix('[') {
        Some(rest) if rest.to_ascii_uppercase().starts_with("PATCH") => rest
            .split_once(']')
            .map(|(_, s)| s.trim())
            .unwrap_or(subject),
        _ => subject,
    };
    [
        Claim::Typo,
        Claim::Whitespace,
        Claim::Docs,
        Claim::Version,
        Claim::Cleanup,
    ]
    .into_iter()
    .zip(res.iter())
    .find(|(_, re)| re.is_match(subject))
    .map(|(c, _)| c)
}

fn is_comment_or_blank(t: &str) -> bool {
    let t = t.trim();
    // `#` starts a comment only before a space (`#include` and `#define` are code).
    t.is_empty()
        || t == "#"
        || t.starts_with("# ")
        || t.starts_with("#\t")
        || t.starts_with("#!")
        || [
            "//", "/*", "*", "--", ";", "<!--", "\"\"\"", "'''", "%", "dnl ",
        ]
        .iter()
        .any(|p| t.starts_with(p))
}

/// Levenshtein distance, giving up (returning `None`) above `max`; lines over 500 chars are
/// compared by equality only.
fn small_edit(a: &str, b: &str, max: usize) -> bool {
    if a == b {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max || a.len() > 500 || b.len() > 500 {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

/// Added code lines in `hunk` that are not small edits of a removed line (at most three).
fn new_code(hunk: &Hunk, allow: impl Fn(&str) -> bool) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let removed: Vec<&str> = hunk
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Removed)
        .take(200)
        .map(|l| hunk.line_text(l).trim())
        .collect();
    for (n, t) in hunk.added_lines() {
        if is_comment_or_blank(t) || allow(t) {
            continue;
        }
        let tt = t.trim();
        let max = (tt.chars().count() / 10).max(3);
        if removed.iter().any(|r| small_edit(r, tt, max)) {
            continue;
        }
        out.push((n, tt.to_string()));
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// The first hunk with new code: its first line number and up to three lines joined.
fn first_new_code(hunk: &Hunk, allow: impl Fn(&str) -> bool) -> Option<(u32, String)> {
    let lines = new_code(hunk, allow);
    let first = lines.first()?.0;
    let text = lines
        .iter()
        .map(|(_, t)| crate::finding::excerpt(t, 120))
        .collect::<Vec<_>>()
        .join(" ⏎ ");
    Some((first, text))
}

fn non_ws(lines: impl Iterator<Item = String>) -> String {
    lines
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<Vec<_>>())
        .collect()
}

/// Where and how the change contradicts the claim, if it does.
fn contradiction(claim: Claim, file: &FileChange, class: &FileClass) -> Option<(u32, String)> {
    if class.docs {
        return None;
    }
    match claim {
        Claim::Typo | Claim::Cleanup => {
            file.hunks.iter().find_map(|h| first_new_code(h, |_| false))
        }
        Claim::Version => {
            if class.manifest || class.lockfile || class.release {
                return None;
            }
            file.hunks
                .iter()
                .find_map(|h| first_new_code(h, |t| t.to_ascii_lowercase().contains("version")))
        }
        Claim::Docs => file.hunks.iter().find_map(|h| {
            h.lines
                .iter()
                .filter(|l| l.kind != LineKind::Context)
                .map(|l| (l.new_line.or(l.old_line).unwrap_or(0), h.line_text(l)))
                .find(|(_, t)| !is_comment_or_blank(t))
                .map(|(n, t)| (n, t.trim().to_string()))
        }),
        Claim::Whitespace => {
            let added = non_ws(file.added_lines().map(|(_, t)| t.to_string()));
            let removed = non_ws(file.removed_lines().map(|(_, t)| t.to_string()));
            if added == removed {
                return None;
            }
            file.hunks.iter().find_map(|h| {
                let removed: Vec<String> = h
                    .lines
                    .iter()
                    .filter(|l| l.kind == LineKind::Removed)
                    .map(|l| non_ws(std::iter::once(h.line_text(l).to_string())))
                    .collect();
                h.added_lines()
                    .find(|(_, t)| {
                        !t.trim().is_empty()
                            && !removed.contains(&non_ws(std::iter::once(t.to_string())))
                    })
                    .map(|(n, t)| (n, t.trim().to_string()))
            })
        }
    }
}

impl Detector for TrivialMessageLogicChange {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        let change = cx.change;
        // (claim, message, which commit the claim covers; None = the whole change).
        let mut claims: Vec<(Claim, String, Option<usize>)> = Vec::new();
        if let Some(t) = &change.title
            && let Some(c) = claim_of(t)
        {
            claims.push((c, t.clone(), None));
        }
        for (i, commit) in change.commits.iter().enumerate() {
            if let Some(c) = claim_of(&commit.message) {
                claims.push((c, commit.subject().to_string(), Some(i)));
            }
        }
        for (claim, message, commit) in claims {
            let hit = cx
                .files()
                .filter(|(f, _)| commit.is_none() || f.commit.is_none() || f.commit == commit)
                .find_map(|(f, class)| {
                    contradiction(claim, f, class)
                        .map(|(line, text)| (f.path().to_string(), line, text))
                });
            let Some((path, line, text)) = hit else {
                continue;
            };
            let (severity, confidence) = match claim {
                Claim::Typo | Claim::Whitespace | Claim::Docs => (Severity::High, Confidence::High),
                Claim::Version | Claim::Cleanup => (Severity::Medium, Confidence::Medium),
            };
            let mut loc = Location::file(path);
            if line > 0 {
                loc.line = Some(line);
            }
            out.push(
                META.finding(loc)
                    .title(format!(
                        "Message claims {} but code logic changes",
                        claim.describe()
                    ))
                    .severity(severity)
                    .confidence(confidence)
                    .evidence(format!("{message:?} — but adds: {text}"))
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_subjects() {
        assert_eq!(claim_of("Fix typo"), Some(Claim::Typo));
        assert_eq!(claim_of("[PATCH] Fix typo\n\nbody"), Some(Claim::Typo));
        assert_eq!(claim_of("docs: explain the cache"), Some(Claim::Docs));
        assert_eq!(claim_of("Update README"), Some(Claim::Docs));
        assert_eq!(claim_of("Bump version to 1.2.3"), Some(Claim::Version));
        assert_eq!(claim_of("Reformat with black"), Some(Claim::Whitespace));
        assert_eq!(claim_of("Add request signing"), None);
    }

    #[test]
    fn small_edits_are_typo_sized() {
        assert!(small_edit("// recieve the data", "// receive the data", 3));
        assert!(!small_edit("x = 1", "zend_eval_string(header)", 3));
    }
}
