//! Shared reading of CI workflow files for the `gha-*` detectors (not a detector itself).
//!
//! A workflow risk is often a property of the whole file — the trigger sits at the top, the
//! checkout of untrusted code twenty lines below — while a diff may show only one of them.
//! [`NewSide`] gives the best view of the file after the change: the full `after` contents
//! when the caller provided them, else the context and added lines of every hunk (what a
//! reviewer sees). Lookups are substring searches over that text, run only for workflow files
//! that a line pattern already flagged or that the change touches, never for every file.

use memchr::memmem;

use crate::change::{FileChange, LineKind};

/// Whether `path` is a workflow definition whose `on:` triggers and `run:` steps we understand:
/// GitHub Actions, Forgejo and Gitea workflows (same syntax), and composite actions.
pub fn is_workflow(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    yaml && (lower.starts_with(".github/workflows/")
        || lower.starts_with(".forgejo/workflows/")
        || lower.starts_with(".gitea/workflows/"))
}

/// Composite actions (`action.yml`) have `run:` steps too, but no triggers of their own.
pub fn is_action(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    matches!(name.as_str(), "action.yml" | "action.yaml")
}

/// One line of the new side of a file.
#[derive(Debug, Clone, Copy)]
pub struct SideLine<'a> {
    pub line_no: u32,
    pub text: &'a str,
    /// True when the change added this line (always false for lines known only from `after`
    /// that no hunk touches).
    pub added: bool,
}

/// The file as it is after the change, as far as the change shows it.
#[derive(Debug)]
pub struct NewSide<'a> {
    pub lines: Vec<SideLine<'a>>,
}

impl<'a> NewSide<'a> {
    pub fn of(file: &'a FileChange) -> Self {
        let added: Vec<u32> = file.added_lines().map(|(n, _)| n).collect();
        if let Some(after) = file
            .after
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
        {
            let lines = after
                .lines()
                .enumerate()
                .map(|(i, text)| {
                    let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    SideLine {
                        line_no,
                        text,
                        added: added.binary_search(&line_no).is_ok(),
                    }
                })
                .collect();
            return Self { lines };
        }
        let mut lines = Vec::new();
        for h in &file.hunks {
            for l in &h.lines {
                if l.kind == LineKind::Removed {
                    continue;
                }
                lines.push(SideLine {
                    line_no: l.new_line.unwrap_or(0),
                    text: h.line_text(l),
                    added: l.kind == LineKind::Added,
                });
            }
        }
        Self { lines }
    }

    /// First line containing `needle`.
    pub fn find(&self, needle: &str) -> Option<SideLine<'a>> {
        let finder = memmem::Finder::new(needle.as_bytes());
        self.lines
            .iter()
            .copied()
            .find(|l| finder.find(l.text.as_bytes()).is_some())
    }

    /// Index of the line with this number.
    pub fn index_of(&self, line_no: u32) -> Option<usize> {
        self.lines.iter().position(|l| l.line_no == line_no)
    }

    /// The YAML key that owns line `idx`: its own key when it is `key: value`, else the key of
    /// the nearest earlier line with less indentation (the block scalar or mapping it belongs
    /// to). `None` when the view ends before the owner is found.
    pub fn owner_key(&self, idx: usize) -> Option<Owner<'a>> {
        let line = self.lines.get(idx)?;
        let indent = indentation(line.text);
        let mut prev_no = line.line_no;
        for l in self.lines.get(..idx)?.iter().rev() {
            // A gap in line numbers means an unseen stretch of the file: stop guessing.
            if l.line_no + 1 != prev_no {
                return None;
            }
            prev_no = l.line_no;
            let t = l.text.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if indentation(l.text) < indent {
                return key_of(l.text).map(|k| Owner {
                    key: k,
                    line_no: l.line_no,
                });
            }
        }
        None
    }
}

/// The key owning a line, and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub key: &'a str,
    pub line_no: u32,
}

/// Leading spaces (a `- ` list marker counts as indentation of the item's keys).
pub fn indentation(line: &str) -> usize {
    let trimmed = line.trim_start_matches(' ');
    let mut n = line.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix("- ") {
        n += 2 + (rest.len() - rest.trim_start_matches(' ').len());
    }
    n
}

/// The key of a `key: value` (or `- key: value`) line.
pub fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let t = t.strip_prefix("- ").map(str::trim_start).unwrap_or(t);
    let colon = t.find(':')?;
    let key = t
        .get(..colon)?
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    let after = t.get(colon + 1..).unwrap_or("");
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && (after.is_empty() || after.starts_with(' ') || after.starts_with('\t'));
    valid.then_some(key)
}

/// Triggers that run a workflow with the base repository's secrets and a write token while
/// the event is controlled by an outsider (a fork's pull request, an issue, a comment).
pub const PRIVILEGED_TRIGGERS: &[&str] = &[
    "pull_request_target",
    "workflow_run",
    "issue_comment",
    "issues",
    "discussion",
    "pull_request_review",
];

/// The workflow's triggers (the keys or items of its top-level `on:`), with their lines.
/// Needs the `on:` line in view; returns an empty list otherwise.
pub fn triggers<'a>(side: &NewSide<'a>) -> Vec<(&'a str, SideLine<'a>)> {
    let mut out = Vec::new();
    let Some(start) = side.lines.iter().position(|l| {
        let t = l.text;
        !t.starts_with(' ') && matches!(key_of(t), Some("on" | "true"))
    }) else {
        return out;
    };
    let on = side.lines[start];
    let inline = on.text.split_once(':').map(|(_, v)| v).unwrap_or("");
    let inline = inline.split(" #").next().unwrap_or("").trim();
    if !inline.is_empty() {
        for name in inline.trim_matches(|c| c == '[' || c == ']').split(',') {
            let name = name.trim().trim_matches(|c| c == '"' || c == '\'');
            if !name.is_empty() {
                out.push((name, on));
            }
        }
        return out;
    }
    let mut child_indent = None;
    for l in side.lines.iter().skip(start + 1) {
        let t = l.text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let ind = indentation(l.text);
        if ind == 0 {
            break;
        }
        let ci = *child_indent.get_or_insert(ind);
        if ind != ci {
            continue;
        }
        let name = match key_of(l.text) {
            Some(k) => k,
            None => t.trim_start_matches("- ").trim(),
        };
        out.push((name, *l));
    }
    out
}

/// The first privileged trigger of the workflow.
pub fn privileged_trigger<'a>(side: &NewSide<'a>) -> Option<(&'static str, SideLine<'a>)> {
    let all = triggers(side);
    PRIVILEGED_TRIGGERS.iter().find_map(|p| {
        all.iter()
            .find(|(name, _)| name == p)
            .map(|(_, l)| (*p, *l))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_plain_and_list_lines() {
        assert_eq!(key_of("      - run: echo hi"), Some("run"));
        assert_eq!(key_of("        env:"), Some("env"));
        assert_eq!(
            key_of("          TITLE: ${{ github.event.issue.title }}"),
            Some("TITLE")
        );
        assert_eq!(key_of("          echo \"a: b\""), None);
        assert_eq!(key_of("https://example.invalid/x"), None);
    }

    #[test]
    fn list_markers_count_as_indentation() {
        assert_eq!(indentation("      - run: |"), 8);
        assert_eq!(indentation("        echo"), 8);
    }

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
    fn triggers_come_from_the_on_block_not_from_permissions() {
        let s = side(
            "on:\n  pull_request:\n    branches: [main]\n  push:\npermissions:\n  issues: write\n",
        );
        let names: Vec<_> = triggers(&s).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["pull_request", "push"]);
        assert!(privileged_trigger(&s).is_none());
    }

    #[test]
    fn inline_trigger_lists_are_read() {
        let s = side("name: x\non: [push, pull_request_target]\n");
        assert_eq!(
            privileged_trigger(&s).map(|(t, l)| (t, l.line_no)),
            Some(("pull_request_target", 2))
        );
    }
}
