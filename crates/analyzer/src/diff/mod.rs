//! Diff parsing: text in, [`Change`] out.
//!
//! **Model.** [`parse`] reads one input in a single pass over its lines and recognises, in
//! any mix: plain unified diffs (`diff -u`, `diff -ruN` with timestamps after the paths),
//! `git diff` (with `diff --git` and its extended headers: modes, renames, copies, binary
//! patches), `git show`/`git log -p` (commit headers and an indented message before each
//! diff) and `git format-patch` mails, one or a whole mbox series. Each commit or mail
//! becomes a [`CommitMeta`](crate::change::CommitMeta) and its files point at it; a cover
//! letter (`[PATCH 0/n]`) becomes the change's title and description.
//!
//! **Hostile input.** Everything is attacker-controlled, so every size is bounded by
//! [`Limits`] and the work is linear in the input. The policy:
//! - input that is not a diff at all (no file header anywhere), is too large, or breaks the
//!   structure in a way `git apply` would also refuse (a `+++` line not followed by a hunk,
//!   a malformed `@@` line, a hunk before any file) is an [`Err(DiffError)`](DiffError) naming
//!   the 1-based input line;
//! - recoverable oddities (a hunk shorter or longer than its header says, an over-long line,
//!   bytes that are not UTF-8, undecodable binary data, text between files) become
//!   [`ParseNote`](crate::change::ParseNote)s in `Change::parse_notes` and parsing goes on.
//!   Detectors may turn them into findings: a patch that does not say what it does is itself
//!   a signal.
//!
//! The module is pure: no I/O, no environment, no clock. [`apply_delta`] and
//! [`resolve_binary`] let a caller that knows a binary file's base content reconstruct the
//! new content of a `delta` binary patch.

mod base85;
mod binary;
mod header;
mod lines;
mod mbox;
mod quoted;
mod unified;

use thiserror::Error;

pub use binary::{DeltaError, apply_delta, resolve_binary};

use crate::change::Change;

/// Bounds on what one parse may consume. Every limit keeps memory proportional to the
/// input (or below a constant) whatever the input says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes (larger inputs are refused with
    /// [`DiffError::InputTooLarge`]). Values above 1 GiB are treated as 1 GiB.
    pub max_input_bytes: usize,
    /// Longest line kept; the rest of a longer line is dropped with a
    /// [`LineTruncated`](crate::change::ParseNoteKind::LineTruncated) note.
    pub max_line_bytes: usize,
    /// Most files (file headers) in one change.
    pub max_files: usize,
    /// Most hunk lines plus hunk headers in one change (each costs a few dozen bytes of
    /// bookkeeping).
    pub max_lines: usize,
    /// Most commits or mails in one change.
    pub max_commits: usize,
    /// Largest decoded binary content per file (each direction of a binary patch, and the
    /// result of [`apply_delta`]).
    pub max_binary_bytes: usize,
    /// Largest total of decoded binary content in one change; later binary patches are
    /// kept undecoded with a note.
    pub max_total_binary_bytes: usize,
    /// Longest path kept; longer paths are cut with a note.
    pub max_path_bytes: usize,
    /// Most parse notes kept; one final note says how many were dropped.
    pub max_notes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 64 << 20,
            max_line_bytes: 1 << 20,
            max_files: 10_000,
            max_lines: 4_000_000,
            max_commits: 10_000,
            max_binary_bytes: 16 << 20,
            max_total_binary_bytes: 256 << 20,
            max_path_bytes: 4096,
            max_notes: 1000,
        }
    }
}

/// Hard ceiling on the input size: hunk text offsets are `u32` and lossy decoding can
/// triple a line's size, so 1 GiB keeps every offset representable.
const MAX_SUPPORTED_INPUT: usize = 1 << 30;

/// Why an input could not be parsed as a diff.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DiffError {
    #[error(
        "the input is {size} bytes, over the {limit}-byte limit; split the change into \
         smaller patches or raise the input limit"
    )]
    InputTooLarge { size: usize, limit: usize },
    #[error(
        "no diff found in {lines} lines: expected a line starting with 'diff --git', a \
         '--- <path>' line followed by '+++ <path>', or a commit/mail header; is this a patch?"
    )]
    NoDiff { lines: usize },
    #[error(
        "expected a line starting with '@@' after '{header}' at line {line}; is the patch \
         truncated?"
    )]
    MissingHunk { line: usize, header: String },
    #[error(
        "expected a line starting with '+++ ' after '{header}' at line {line}; is the patch \
         truncated or mangled by a mail client?"
    )]
    MissingNewPath { line: usize, header: String },
    #[error(
        "malformed hunk header at line {line}: expected '@@ -start[,count] +start[,count] @@', \
         found '{found}'"
    )]
    MalformedHunkHeader { line: usize, found: String },
    #[error(
        "hunk header at line {line} has no '--- <path>'/'+++ <path>' file header before it; \
         is the start of the patch missing?"
    )]
    HunkWithoutFile { line: usize },
    #[error("more than {limit} files at line {line}; split the change or raise the file limit")]
    TooManyFiles { line: usize, limit: usize },
    #[error(
        "more than {limit} diff lines at line {line}; split the change or raise the line limit"
    )]
    TooManyLines { line: usize, limit: usize },
    #[error("more than {limit} commits at line {line}; split the series or raise the commit limit")]
    TooManyCommits { line: usize, limit: usize },
}

impl DiffError {
    /// The 1-based input line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::InputTooLarge { .. } | Self::NoDiff { .. } => None,
            Self::MissingHunk { line, .. }
            | Self::MissingNewPath { line, .. }
            | Self::MalformedHunkHeader { line, .. }
            | Self::HunkWithoutFile { line }
            | Self::TooManyFiles { line, .. }
            | Self::TooManyLines { line, .. }
            | Self::TooManyCommits { line, .. } => Some(*line),
        }
    }
}

/// Parse a diff, patch, `git show` output, `format-patch` mail or mbox into a [`Change`].
///
/// The format is detected line by line, so concatenations (several `git show` outputs, a
/// series of mails) work. See the [module documentation](self) for the error policy.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Change, DiffError> {
    let limit = limits.max_input_bytes.min(MAX_SUPPORTED_INPUT);
    if input.len() > limit {
        return Err(DiffError::InputTooLarge {
            size: input.len(),
            limit,
        });
    }
    unified::Parser::new(input, limits).run()
}
