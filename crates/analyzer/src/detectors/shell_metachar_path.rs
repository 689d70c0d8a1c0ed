//! `shell-metachar-path`: a file path that carries shell syntax (malicious pull requests of
//! 2026: added files named like `docs/$(echo${IFS}ZWNo…|base64${IFS}-d|bash).md`, aimed at CI
//! workflows that paste the list of changed files into a shell step).
//!
//! A path containing command substitution (`$(`, backticks), `${IFS}`/`$IFS` (the
//! space-free word separator used to smuggle arguments) or a pipe into a shell is critical:
//! no real file needs that name. Other shell operators (`;`, `|`, `&&`, redirections, control
//! characters) are high. A lone `$` (Java inner classes, `Foo$Bar.java`), `&` (`Q&A.md`),
//! parentheses and brackets (framework route files such as `(group)/[slug].tsx`) stay quiet.
//!
//! Findings are change-level (empty path) with the file as a related location: the payload is
//! the name in the change's file list, whatever kind of file carries it.

use crate::detector::{ChangeCtx, Detector, DetectorMeta};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct ShellMetacharPath;

static META: DetectorMeta = DetectorMeta::new(
    "shell-metachar-path",
    "File name contains shell commands",
    Severity::Critical,
    Confidence::High,
    &[Vector::ReviewEvasion, Vector::Ci],
    &[],
    "A file added or renamed by this change has shell syntax in its name (command substitution, \
     ${IFS}, pipes). The file's content is irrelevant: the attack runs when a CI workflow or a \
     script expands the list of changed files inside a shell command, which then executes the \
     name. Do not run workflows on this change; check every workflow that uses changed-file \
     lists for unquoted interpolation.",
);

/// How dangerous a path is, with the offending fragment.
fn judge(path: &str) -> Option<(Severity, Confidence, &'static str)> {
    let critical = [
        ("$(", "command substitution"),
        ("`", "backtick command substitution"),
        ("${IFS", "${IFS} word splitting"),
        ("$IFS", "$IFS word splitting"),
    ];
    if let Some((_, what)) = critical.iter().find(|(p, _)| path.contains(p)) {
        return Some((Severity::Critical, Confidence::High, what));
    }
    if ["|sh", "|bash", "| sh", "| bash", "|zsh"]
        .iter()
        .any(|p| path.contains(p))
    {
        return Some((Severity::Critical, Confidence::High, "pipe into a shell"));
    }
    if path.chars().any(|c| c.is_control()) {
        return Some((Severity::High, Confidence::High, "control character"));
    }
    let ops = [
        (";", "command separator ';'"),
        ("|", "pipe '|'"),
        ("&&", "'&&'"),
        (">", "redirection '>'"),
        ("<", "redirection '<'"),
    ];
    ops.iter()
        .find(|(p, _)| path.contains(p))
        .map(|(_, what)| (Severity::High, Confidence::Medium, *what))
}

impl Detector for ShellMetacharPath {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn check_change(&self, cx: &ChangeCtx<'_>, out: &mut Findings) {
        for (f, _) in cx.files() {
            // The new name is what a workflow would see; a deleted file's name was already there.
            let Some(path) = f.new_path.as_deref() else {
                continue;
            };
            if f.old_path.as_deref() == Some(path) {
                continue;
            }
            let Some((severity, confidence, what)) = judge(path) else {
                continue;
            };
            // The name is change-level metadata (the file list a workflow expands), not file
            // content: the finding sits on the change, with the file as a related place, so
            // the file's class (often docs) does not discount it.
            out.push(
                META.finding(Location::default())
                    .related(Location::file(path).with_note("file name"))
                    .title(format!("File name contains shell syntax: {what}"))
                    .severity(severity)
                    .confidence(confidence)
                    .evidence(super::unicode_bidi_control::reveal(path))
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifs_payload_names_are_critical() {
        let p = "docs/$(echo${IFS}ZWNobyBkZWZhbmdlZAo=|base64${IFS}-d|bash).md";
        assert_eq!(judge(p).map(|j| j.0), Some(Severity::Critical));
    }

    #[test]
    fn ordinary_odd_names_are_quiet() {
        for p in [
            "src/main/java/Foo$Bar.java",
            "docs/Q&A.md",
            "app/(shop)/[slug]/page.tsx",
            "a b/c.txt",
        ] {
            assert_eq!(judge(p), None, "{p}");
        }
    }
}
