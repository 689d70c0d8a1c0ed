//! The analyzer's input model: a [`Change`] is what a reviewer sees of a pull request — the
//! files it touches with their hunks, decoded binary content, optionally the full before/after
//! contents, the commits' metadata and repository context.
//!
//! Hunk text is stored once per hunk (`Hunk::text`, every line followed by `\n`, the diff
//! prefix character and any trailing `\r` removed) and lines are spans into it. That lets the
//! engine run one multi-pattern automaton over a whole hunk at memory speed and map a match
//! back to its line with a binary search, instead of allocating per line.

use serde::{Deserialize, Serialize};

/// A code change under review: one patch, a patch series, or a commit range.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Change {
    /// Touched files in patch order. A patch series may touch the same path more than once;
    /// `FileChange::commit` says which commit each entry belongs to.
    pub files: Vec<FileChange>,
    /// Commit metadata, in order (empty for a bare diff).
    pub commits: Vec<CommitMeta>,
    /// Pull-request title, if the change came from a forge. A claim to verify, never a reason
    /// to lower suspicion.
    pub title: Option<String>,
    /// Pull-request description, if any.
    pub description: Option<String>,
    /// Repository history around the change (only with `--repo`).
    pub context: Option<RepoContext>,
    /// Things the parser tolerated but a reviewer should know (over-long lines cut short,
    /// hunks whose counts did not match, undecodable binary data). Detectors may turn them
    /// into findings.
    pub parse_notes: Vec<ParseNote>,
}

/// Something the parser tolerated, with where it happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ParseNote {
    /// 1-based line number in the input text.
    pub input_line: usize,
    /// The file it concerns, when known.
    pub path: Option<String>,
    pub kind: ParseNoteKind,
    /// Human explanation.
    pub message: String,
}

/// The kinds of [`ParseNote`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ParseNoteKind {
    /// A line longer than the limit was cut; the rest was not analysed.
    LineTruncated,
    /// A hunk had fewer or more lines than its header announced.
    HunkCountMismatch,
    /// Binary data could not be decoded.
    BinaryUndecodable,
    /// Bytes that are not UTF-8 were replaced with U+FFFD.
    InvalidUtf8,
    /// Anything else worth telling.
    Other,
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    Added,
    Deleted,
    Modified,
    /// Renamed, with git's similarity index (0–100) when given.
    Renamed,
    Copied,
}

/// One touched file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileChange {
    /// Path before the change (`None` for an added file). Lossily decoded from the diff;
    /// quoted paths have their C escapes resolved.
    pub old_path: Option<String>,
    /// Path after the change (`None` for a deleted file).
    pub new_path: Option<String>,
    pub status: FileStatus,
    /// Git similarity index for renames and copies.
    pub similarity: Option<u8>,
    /// File modes (octal, e.g. `0o100755`) from git extended headers.
    pub old_mode: Option<u32>,
    pub new_mode: Option<u32>,
    pub hunks: Vec<Hunk>,
    /// Set when the diff carried a binary change instead of text hunks.
    pub binary: Option<BinaryPatch>,
    /// Full contents before/after, when the source could provide them (a local repository).
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    /// Index into `Change::commits` of the commit this entry belongs to.
    pub commit: Option<usize>,
    /// True when any path or line of this file was not valid UTF-8 (shown with U+FFFD).
    pub invalid_utf8: bool,
}

impl FileChange {
    /// The path a reviewer would name: the new path, or the old one for a deletion.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }

    /// Whether the change sets an executable bit that was not set before.
    pub fn made_executable(&self) -> bool {
        let exec = |m: u32| m & 0o111 != 0;
        match (self.old_mode, self.new_mode) {
            (Some(old), Some(new)) => !exec(old) && exec(new),
            (None, Some(new)) => self.status == FileStatus::Added && exec(new),
            _ => false,
        }
    }

    /// Iterate over added lines as `(new line number, text)`.
    pub fn added_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.hunks.iter().flat_map(|h| h.added_lines())
    }

    /// Iterate over removed lines as `(old line number, text)`.
    pub fn removed_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.hunks.iter().flat_map(|h| {
            h.lines
                .iter()
                .filter(|l| l.kind == LineKind::Removed)
                .map(move |l| (l.old_line.unwrap_or(0), h.line_text(l)))
        })
    }
}

/// One `@@ -a,b +c,d @@` hunk.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: u32,
    pub old_count: u32,
    pub new_start: u32,
    pub new_count: u32,
    /// The text after the second `@@` (often the enclosing function).
    pub section: String,
    /// All line contents of the hunk, each followed by `\n`, without the prefix character.
    pub text: String,
    pub lines: Vec<Line>,
}

impl Hunk {
    /// The text of one line of this hunk (without its newline).
    pub fn line_text(&self, line: &Line) -> &str {
        self.text
            .get(line.start as usize..line.end as usize)
            .unwrap_or("")
    }

    /// Index into `lines` of the line containing byte `offset` of `text`.
    pub fn line_index_at(&self, offset: usize) -> Option<usize> {
        let offset = u32::try_from(offset).ok()?;
        // Lines are sorted by start; the containing line is the last one starting at or
        // before the offset.
        let idx = self.lines.partition_point(|l| l.start <= offset);
        idx.checked_sub(1)
    }

    /// Added lines as `(new line number, text)`.
    pub fn added_lines(&self) -> impl Iterator<Item = (u32, &str)> {
        self.lines
            .iter()
            .filter(|l| l.kind == LineKind::Added)
            .map(move |l| (l.new_line.unwrap_or(0), self.line_text(l)))
    }
}

/// Whether a diff line was added, removed or is context.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    Context,
    Added,
    Removed,
}

/// A line of a hunk: a span of `Hunk::text` plus its numbers.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    /// Byte range in `Hunk::text`, excluding the `\n`.
    pub start: u32,
    pub end: u32,
    /// Line number in the old file (context and removed lines).
    pub old_line: Option<u32>,
    /// Line number in the new file (context and added lines).
    pub new_line: Option<u32>,
    /// The line ended in `\r\n` in the diff.
    pub crlf: bool,
    /// Followed by `\ No newline at end of file`.
    pub no_newline_at_eof: bool,
}

/// A `GIT binary patch` (or an opaque "Binary files differ").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BinaryPatch {
    /// Forward data (old → new).
    pub forward: BinaryData,
    /// Reverse data (new → old), when present.
    pub reverse: Option<BinaryData>,
    /// The new content, when it could be reconstructed: from a literal, or from a delta
    /// applied to a known base (`FileChange::before`).
    pub new_content: Option<Vec<u8>>,
}

/// One direction of a binary patch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum BinaryData {
    /// Full content (base85 + zlib decoded).
    Literal { data: Vec<u8> },
    /// A git delta against the base (decoded from base85 + zlib, not yet applied).
    Delta { data: Vec<u8> },
    /// "Binary files a and b differ" without data, or data that could not be decoded.
    Unreadable { reason: String },
}

/// Metadata of one commit in the change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommitMeta {
    /// Commit id when known (hex).
    pub id: Option<String>,
    pub author_name: String,
    pub author_email: String,
    /// Author date as Unix seconds, and its UTC offset in minutes.
    pub author_time: Option<i64>,
    pub author_offset_minutes: Option<i32>,
    pub committer_name: Option<String>,
    pub committer_email: Option<String>,
    pub committer_time: Option<i64>,
    /// Full message: subject line, blank line, body.
    pub message: String,
}

impl CommitMeta {
    /// The subject line of the message.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// Repository history around the change, computed by the caller (the analyzer does no I/O).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RepoContext {
    /// One entry per distinct author of the change's commits.
    pub authors: Vec<AuthorHistory>,
    /// One entry per touched path.
    pub paths: Vec<PathHistory>,
    /// Total commits reachable from the base.
    pub total_commits: u32,
    /// Names and emails of the repository's most active committers (for imitation checks).
    pub top_authors: Vec<AuthorIdentity>,
}

/// A name/email pair.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorIdentity {
    pub name: String,
    pub email: String,
    pub commits: u32,
}

/// An author's earlier activity in the repository (before the change's base).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorHistory {
    pub name: String,
    pub email: String,
    /// Commits by this author reachable from the base.
    pub prior_commits: u32,
    /// Unix seconds of their first commit, if any.
    pub first_commit_time: Option<i64>,
    /// Paths they touched before (capped by the caller).
    pub touched_paths: Vec<String>,
    /// Their commits among the most recent `recent_window` commits of the repository, and
    /// among the `recent_window` commits before those: a fast rise is a trust signal.
    pub recent_commits: u32,
    pub earlier_commits: u32,
    pub recent_window: u32,
}

/// A touched path's history.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PathHistory {
    pub path: String,
    pub commits: u32,
    pub distinct_authors: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk_with(lines: &[(LineKind, &str)]) -> Hunk {
        let mut h = Hunk::default();
        let (mut old, mut new) = (1, 1);
        for (kind, text) in lines {
            let start = h.text.len() as u32;
            h.text.push_str(text);
            let end = h.text.len() as u32;
            h.text.push('\n');
            let (o, n) = match kind {
                LineKind::Context => (Some(old), Some(new)),
                LineKind::Added => (None, Some(new)),
                LineKind::Removed => (Some(old), None),
            };
            if o.is_some() {
                old += 1;
            }
            if n.is_some() {
                new += 1;
            }
            h.lines.push(Line {
                kind: *kind,
                start,
                end,
                old_line: o,
                new_line: n,
                crlf: false,
                no_newline_at_eof: false,
            });
        }
        h
    }

    #[test]
    fn offsets_map_back_to_their_line() {
        let h = hunk_with(&[
            (LineKind::Context, "fn a() {"),
            (LineKind::Added, "  eval(x)"),
            (LineKind::Removed, "  ok()"),
        ]);
        assert_eq!(h.line_index_at(0), Some(0));
        assert_eq!(h.line_index_at(9), Some(1));
        assert_eq!(h.line_index_at(12), Some(1));
        assert_eq!(h.line_index_at(h.text.len() - 1), Some(2));
        let added: Vec<_> = h.added_lines().collect();
        assert_eq!(added, vec![(2, "  eval(x)")]);
    }

    #[test]
    fn a_new_executable_file_counts_as_made_executable() {
        let f = FileChange {
            old_path: None,
            new_path: Some("x.sh".into()),
            status: FileStatus::Added,
            similarity: None,
            old_mode: None,
            new_mode: Some(0o100755),
            hunks: vec![],
            binary: None,
            before: None,
            after: None,
            commit: None,
            invalid_utf8: false,
        };
        assert!(f.made_executable());
        let g = FileChange {
            old_mode: Some(0o100755),
            status: FileStatus::Modified,
            ..f
        };
        assert!(!g.made_executable());
    }
}
