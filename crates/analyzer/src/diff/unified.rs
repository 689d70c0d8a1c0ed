//! The single-pass parser: file headers, hunks and the framing around them.
//!
//! The parser is a small state machine over lines ([`Mode`] for the framing, [`Stage`] for
//! the current file). Hunk bodies are read in a tight loop that trusts the counts of the
//! `@@` header, exactly like `git apply`: a removed line whose text is `-- a/x` stays a
//! removed line. Text is appended to the hunk's one `String`; the input is validated as
//! UTF-8 once up front so valid inputs are sliced, not re-validated, line by line.

use std::borrow::Cow;

use super::lines::{LineReader, RawLine};
use super::mbox::MailHeaders;
use super::{DiffError, Limits, base85, binary, header, mbox, quoted};
use crate::change::{
    BinaryData, BinaryPatch, Change, CommitMeta, FileChange, FileStatus, Hunk, Line, LineKind,
    ParseNote, ParseNoteKind,
};

/// Longest excerpt of input quoted in an error message.
const EXCERPT: usize = 120;
/// Most hunk lines reserved up front from a hunk header's counts (more still fit; they are
/// just not reserved).
const HUNK_RESERVE_LINES: usize = 1 << 14;
/// Text bytes reserved per announced hunk line: a typical source line with its newline.
const HUNK_RESERVE_BYTES_PER_LINE: usize = 48;

/// What the lines being read belong to, outside hunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between or inside files: look for any header.
    Scan,
    /// The header block of a mail, up to the first blank line.
    MailHeaders,
    /// A mail's commit message, up to `---` or the diff.
    MailBody,
    /// The `Author:`/`Date:` block after `commit <id>`.
    CommitHeaders,
    /// The indented message of a `git show` commit.
    CommitMessage,
    /// After a mail's `-- ` signature marker: ignored until the next mail.
    Signature,
    /// A `diff --cc` combined diff (merge commits): skipped.
    Combined,
}

/// Where the current file is in its header/body sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// After `diff --git`: extended header lines may follow.
    Extended,
    /// After `+++`: a hunk must follow.
    ExpectHunk,
    /// After a hunk, a binary patch, or the end of the extended headers.
    Body,
}

/// One side of a `---`/`+++` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    DevNull,
    Path { raw: Vec<u8>, epoch: bool },
}

impl Side {
    fn from_field(field: &[u8]) -> Self {
        let (path, timestamp) = quoted::path_field(field);
        if quoted::is_dev_null(&path) {
            Side::DevNull
        } else {
            Side::Path {
                raw: path.into_owned(),
                epoch: is_epoch(timestamp),
            }
        }
    }

    fn path(&self) -> Option<&[u8]> {
        match self {
            Side::DevNull => None,
            Side::Path { raw, .. } => Some(raw),
        }
    }

    fn epoch(&self) -> bool {
        matches!(self, Side::Path { epoch: true, .. })
    }
}

/// `diff -N` writes an absent file as an empty one dated at the Unix epoch (in local time).
fn is_epoch(timestamp: &[u8]) -> bool {
    let t = timestamp.trim_ascii();
    t.starts_with(b"1970-01-01")
        || t.starts_with(b"1969-12-31")
        || (t.ends_with(b" 1970") && t.windows(5).any(|w| w == b"Jan  1"))
}

/// Bookkeeping for the file being parsed; folded into its `FileChange` when it ends.
#[derive(Debug)]
struct FileState {
    index: usize,
    line: usize,
    git: bool,
    stage: Stage,
    /// A `---`/`+++` pair was seen, so hunks are allowed.
    has_text_header: bool,
    git_names: Option<(Vec<u8>, Vec<u8>)>,
    minus: Option<Side>,
    plus: Option<Side>,
    rename_from: Option<Vec<u8>>,
    rename_to: Option<Vec<u8>>,
    copy_from: Option<Vec<u8>>,
    copy_to: Option<Vec<u8>>,
    new_file: bool,
    deleted_file: bool,
    index_mode: Option<u32>,
    hunks: usize,
    all_from_empty: bool,
    all_to_empty: bool,
    /// Provisional name for notes.
    display: String,
    utf8_noted: bool,
}

impl FileState {
    fn new(index: usize, line: usize, git: bool, display: String) -> Self {
        Self {
            index,
            line,
            git,
            stage: if git {
                Stage::Extended
            } else {
                Stage::ExpectHunk
            },
            has_text_header: false,
            git_names: None,
            minus: None,
            plus: None,
            rename_from: None,
            rename_to: None,
            copy_from: None,
            copy_to: None,
            new_file: false,
            deleted_file: false,
            index_mode: None,
            hunks: 0,
            all_from_empty: true,
            all_to_empty: true,
            display,
            utf8_noted: false,
        }
    }
}

/// The mail or commit whose lines are being read.
#[derive(Debug)]
struct Section {
    /// Index into `Change::commits`.
    commit: usize,
    /// Message body being collected (without the mail subject).
    body: String,
    mail: Option<MailState>,
}

#[derive(Debug)]
struct MailState {
    headers: MailHeaders,
    subject: String,
    numbering: Option<(u32, u32)>,
    /// Still at the top of the body, where `From:`/`Date:`/`Subject:` may override the
    /// mail headers (git send-email writes them when sender and author differ).
    body_top: bool,
    in_body_headers: bool,
}

pub(crate) struct Parser<'a> {
    reader: LineReader<'a>,
    /// The whole input, when it is valid UTF-8 (then lines are sliced, not re-validated).
    text: Option<&'a str>,
    limits: &'a Limits,
    change: Change,
    mode: Mode,
    file: Option<FileState>,
    section: Option<Section>,
    total_lines: usize,
    total_binary: usize,
    notes_dropped: usize,
    /// Inside a run of unrecognised lines already reported.
    garbage_run: bool,
    combined_noted: bool,
}

impl std::fmt::Debug for Parser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("mode", &self.mode)
            .field("line", &self.reader.line_number())
            .finish_non_exhaustive()
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let cut = bytes.get(..EXCERPT).unwrap_or(bytes);
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if cut.len() < bytes.len() {
        s.push('…');
    }
    s
}

/// Parse `@@ -a[,b] +c[,d] @@[ section]`.
fn parse_hunk_header(line: &[u8]) -> Option<(u32, u32, u32, u32, &[u8])> {
    fn number(s: &[u8]) -> Option<(u32, &[u8])> {
        let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 10 {
            return None;
        }
        let n = std::str::from_utf8(s.get(..digits)?).ok()?.parse().ok()?;
        Some((n, s.get(digits..)?))
    }
    fn range(s: &[u8]) -> Option<(u32, u32, &[u8])> {
        let (start, rest) = number(s)?;
        match rest.strip_prefix(b",") {
            Some(r) => {
                let (count, rest) = number(r)?;
                Some((start, count, rest))
            }
            None => Some((start, 1, rest)),
        }
    }
    let rest = line.strip_prefix(b"@@ -")?;
    let (a, b, rest) = range(rest)?;
    let rest = rest.strip_prefix(b" +")?;
    let (c, d, rest) = range(rest)?;
    let rest = rest.strip_prefix(b" @@")?;
    let section = rest.strip_prefix(b" ").unwrap_or(rest);
    Some((a, b, c, d, section))
}

fn parse_mode(s: &[u8]) -> Option<u32> {
    let s = s.trim_ascii();
    if s.is_empty() || s.len() > 7 || !s.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(s).ok()?, 8).ok()
}

/// A path in an extended header (`rename from x`): quoted, or the rest of the line.
fn header_path(s: &[u8]) -> Vec<u8> {
    if s.first() == Some(&b'"')
        && let Some((bytes, _)) = quoted::unquote(s)
    {
        return bytes;
    }
    s.to_vec()
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a [u8], limits: &'a Limits) -> Self {
        Self {
            reader: LineReader::new(input, limits.max_line_bytes),
            // The whole input at once, with SIMD: most diffs are valid UTF-8 and mostly ASCII.
            text: simdutf8::basic::from_utf8(input).ok(),
            limits,
            change: Change::default(),
            mode: Mode::Scan,
            file: None,
            section: None,
            total_lines: 0,
            total_binary: 0,
            notes_dropped: 0,
            garbage_run: false,
            combined_noted: false,
        }
    }

    pub fn run(mut self) -> Result<Change, DiffError> {
        while let Some(line) = self.reader.next_line() {
            if line.truncated {
                self.note_truncated(&line);
            }
            self.dispatch(line)?;
        }
        if let Some(f) = &self.file
            && f.stage == Stage::ExpectHunk
        {
            return Err(DiffError::MissingHunk {
                line: self.reader.line_number() + 1,
                header: self.header_excerpt(f),
            });
        }
        self.finish_file();
        self.finish_section();
        if self.change.files.is_empty() && self.change.commits.is_empty() {
            return Err(DiffError::NoDiff {
                lines: self.reader.line_number(),
            });
        }
        if self.notes_dropped > 0 {
            let dropped = self.notes_dropped;
            self.change.parse_notes.push(ParseNote {
                input_line: self.reader.line_number(),
                path: None,
                kind: ParseNoteKind::Other,
                message: format!("{dropped} further parse notes were dropped (note limit)"),
            });
        }
        Ok(self.change)
    }

    // ----- helpers -------------------------------------------------------------------

    fn note(
        &mut self,
        input_line: usize,
        path: Option<String>,
        kind: ParseNoteKind,
        message: impl FnOnce() -> String,
    ) {
        if self.change.parse_notes.len() < self.limits.max_notes {
            self.change.parse_notes.push(ParseNote {
                input_line,
                path,
                kind,
                message: message(),
            });
        } else {
            self.notes_dropped += 1;
        }
    }

    fn current_path(&self) -> Option<String> {
        self.file.as_ref().map(|f| f.display.clone())
    }

    fn note_truncated(&mut self, line: &RawLine<'_>) {
        let max = self.limits.max_line_bytes;
        let path = self.current_path();
        self.note(line.number, path, ParseNoteKind::LineTruncated, || {
            format!("line longer than {max} bytes was cut; the rest was not analysed")
        });
    }

    /// A line as text: sliced from the validated input, or decoded lossily.
    fn line_str(&self, line: &RawLine<'a>) -> Cow<'a, str> {
        if let Some(s) = self
            .text
            .and_then(|t| t.get(line.offset..line.offset + line.bytes.len()))
        {
            return Cow::Borrowed(s);
        }
        String::from_utf8_lossy(line.bytes)
    }

    fn header_excerpt(&self, f: &FileState) -> String {
        match f.plus.as_ref().and_then(Side::path) {
            Some(p) => format!("+++ {}", excerpt(p)),
            None => "+++ /dev/null".to_owned(),
        }
    }

    fn mark_invalid_utf8(&mut self, line: usize, what: &str) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        if let Some(fc) = self.change.files.get_mut(f.index) {
            fc.invalid_utf8 = true;
        }
        if f.utf8_noted {
            return;
        }
        f.utf8_noted = true;
        let path = Some(f.display.clone());
        self.note(line, path, ParseNoteKind::InvalidUtf8, || {
            format!("{what} is not valid UTF-8; the bytes were replaced with U+FFFD")
        });
    }

    fn count_line(&mut self, line: usize) -> Result<(), DiffError> {
        self.total_lines += 1;
        if self.total_lines > self.limits.max_lines {
            return Err(DiffError::TooManyLines {
                line,
                limit: self.limits.max_lines,
            });
        }
        Ok(())
    }

    // ----- dispatch ------------------------------------------------------------------

    fn dispatch(&mut self, line: RawLine<'a>) -> Result<(), DiffError> {
        match self.mode {
            Mode::Scan => self.scan(line),
            Mode::MailHeaders => {
                self.mail_header_line(line);
                Ok(())
            }
            Mode::MailBody => self.mail_body_line(line),
            Mode::CommitHeaders => self.commit_header_line(line),
            Mode::CommitMessage => self.commit_message_line(line),
            Mode::Signature | Mode::Combined => {
                if self.starts_section(&line)
                    || line.bytes.starts_with(b"diff ")
                    || header::commit_line(line.bytes).is_some()
                {
                    self.mode = Mode::Scan;
                    return self.scan(line);
                }
                Ok(())
            }
        }
    }

    fn starts_section(&self, line: &RawLine<'a>) -> bool {
        line.bytes.starts_with(b"From ")
            && mbox::mbox_separator(line.bytes, self.reader.peek().map(|l| l.bytes)).is_some()
    }

    fn scan(&mut self, line: RawLine<'a>) -> Result<(), DiffError> {
        let stage = self.file.as_ref().map(|f| f.stage);
        if stage == Some(Stage::Extended) && self.extended_header(&line)? {
            self.garbage_run = false;
            return Ok(());
        }
        if let Some(f) = &self.file
            && f.stage == Stage::ExpectHunk
        {
            if line.bytes.starts_with(b"@@ ") {
                return self.hunk(line);
            }
            return Err(DiffError::MissingHunk {
                line: line.number,
                header: self.header_excerpt(f),
            });
        }
        let b = line.bytes;
        let recognised = if let Some(rest) = b.strip_prefix(b"diff --git ") {
            self.start_git_file(&line, rest)?;
            true
        } else if b.starts_with(b"@@ ") {
            return self.hunk(line);
        } else if b.starts_with(b"diff --cc ") || b.starts_with(b"diff --combined ") {
            self.finish_file();
            self.mode = Mode::Combined;
            if !self.combined_noted {
                self.combined_noted = true;
                self.note(line.number, None, ParseNoteKind::Other, || {
                    "combined diff of a merge commit skipped; parse the merge's parents \
                     separately to review it"
                        .to_owned()
                });
            }
            true
        } else if b.starts_with(b"--- ")
            && self
                .reader
                .peek()
                .is_some_and(|n| n.bytes.starts_with(b"+++ "))
        {
            self.start_plain_file(&line)?;
            true
        } else if b.starts_with(b"Binary files ") && b.ends_with(b" differ") {
            self.plain_binary_file(&line)?;
            true
        } else if let Some(id) = mbox::mbox_separator(b, self.reader.peek().map(|l| l.bytes))
            .filter(|_| b.starts_with(b"From "))
        {
            self.start_mail(&line, id)?;
            true
        } else if line.number == 1 && mbox::is_mail_start_header(b) {
            self.start_mail(&line, None)?;
            self.mail_header_line(line);
            true
        } else if let Some(id) = header::commit_line(b) {
            self.start_commit(&line, id)?;
            true
        } else if b == b"-- " && self.section.as_ref().is_some_and(|s| s.mail.is_some()) {
            self.finish_file();
            self.mode = Mode::Signature;
            true
        } else {
            // Lines other tools put between files, recognised so they are not reported.
            b.starts_with(b"diff ")
                || b.starts_with(b"Only in ")
                || b.starts_with(b"Index: ")
                || b.starts_with(b"====")
                || b.starts_with(b"Common subdirectories: ")
        };
        if recognised {
            self.garbage_run = false;
        } else {
            self.garbage(&line);
        }
        Ok(())
    }

    /// An unrecognised line. Before the first file of a section it is commentary (a
    /// diffstat, a cover note); after a file it is reported once per run.
    fn garbage(&mut self, line: &RawLine<'a>) {
        if line.is_blank() || self.garbage_run {
            return;
        }
        let Some(f) = &self.file else {
            return;
        };
        self.garbage_run = true;
        let path = Some(f.display.clone());
        let after_hunk = f.hunks > 0 && matches!(line.bytes.first(), Some(b'+' | b'-' | b' '));
        if after_hunk {
            self.note(line.number, path, ParseNoteKind::HunkCountMismatch, || {
                "lines after a hunk go beyond the counts in its '@@' header and were \
                 ignored (git apply would reject them)"
                    .to_owned()
            });
        } else {
            self.note(line.number, path, ParseNoteKind::Other, || {
                "unrecognised text between files was ignored".to_owned()
            });
        }
    }

    // ----- files ---------------------------------------------------------------------

    fn new_file(
        &mut self,
        line: &RawLine<'a>,
        git: bool,
        display: String,
    ) -> Result<(), DiffError> {
        self.finish_file();
        if self.change.files.len() >= self.limits.max_files {
            return Err(DiffError::TooManyFiles {
                line: line.number,
                limit: self.limits.max_files,
            });
        }
        let index = self.change.files.len();
        self.change.files.push(FileChange {
            old_path: None,
            new_path: None,
            status: FileStatus::Modified,
            similarity: None,
            old_mode: None,
            new_mode: None,
            hunks: Vec::new(),
            binary: None,
            before: None,
            after: None,
            commit: self.section.as_ref().map(|s| s.commit),
            invalid_utf8: false,
        });
        self.file = Some(FileState::new(index, line.number, git, display));
        Ok(())
    }

    fn start_git_file(&mut self, line: &RawLine<'a>, rest: &[u8]) -> Result<(), DiffError> {
        let names = quoted::split_git_names(rest);
        let display = match &names {
            Some((_, b)) => String::from_utf8_lossy(quoted::strip_component(b)).into_owned(),
            None => excerpt(rest),
        };
        self.new_file(line, true, display)?;
        if let Some(f) = self.file.as_mut() {
            f.git_names = names;
        }
        Ok(())
    }

    fn start_plain_file(&mut self, minus: &RawLine<'a>) -> Result<(), DiffError> {
        let Some(plus) = self.reader.next_line() else {
            return Ok(());
        };
        if plus.truncated {
            self.note_truncated(&plus);
        }
        let minus_side = Side::from_field(minus.bytes.get(4..).unwrap_or_default());
        let plus_side = Side::from_field(plus.bytes.get(4..).unwrap_or_default());
        let strip = quoted::should_strip(minus_side.path(), plus_side.path());
        let display = plus_side
            .path()
            .or(minus_side.path())
            .map(|p| {
                let p = if strip { quoted::strip_component(p) } else { p };
                String::from_utf8_lossy(p).into_owned()
            })
            .unwrap_or_default();
        self.new_file(minus, false, display)?;
        if let Some(f) = self.file.as_mut() {
            f.minus = Some(minus_side);
            f.plus = Some(plus_side);
            f.has_text_header = true;
            f.stage = Stage::ExpectHunk;
        }
        Ok(())
    }

    /// `Binary files a/x and b/x differ` outside a git header (`diff -r`).
    fn plain_binary_file(&mut self, line: &RawLine<'a>) -> Result<(), DiffError> {
        let inner = line
            .bytes
            .get(b"Binary files ".len()..line.bytes.len() - b" differ".len())
            .unwrap_or_default();
        let (a, b) = split_binary_names(inner);
        let display = String::from_utf8_lossy(quoted::strip_component(b)).into_owned();
        self.new_file(line, false, display)?;
        let side = |p: &[u8]| {
            if quoted::is_dev_null(p) {
                Side::DevNull
            } else {
                Side::Path {
                    raw: p.to_vec(),
                    epoch: false,
                }
            }
        };
        let (minus, plus) = (side(a), side(b));
        if let Some(f) = self.file.as_mut() {
            f.minus = Some(minus);
            f.plus = Some(plus);
            f.stage = Stage::Body;
        }
        self.set_binary_unreadable();
        Ok(())
    }

    fn set_binary_unreadable(&mut self) {
        if let Some(fc) = self
            .file
            .as_ref()
            .and_then(|f| self.change.files.get_mut(f.index))
        {
            fc.binary = Some(BinaryPatch {
                forward: BinaryData::Unreadable {
                    reason: "the diff only says the binary files differ; it carries no content"
                        .to_owned(),
                },
                reverse: None,
                new_content: None,
            });
        }
    }

    /// Handle a git extended header line. Returns whether the line was one.
    fn extended_header(&mut self, line: &RawLine<'a>) -> Result<bool, DiffError> {
        let b = line.bytes;
        if b.starts_with(b"--- ") {
            let Some(plus) = self.reader.next_line() else {
                return Err(DiffError::MissingNewPath {
                    line: line.number + 1,
                    header: excerpt(b),
                });
            };
            if !plus.bytes.starts_with(b"+++ ") {
                return Err(DiffError::MissingNewPath {
                    line: plus.number,
                    header: excerpt(b),
                });
            }
            if plus.truncated {
                self.note_truncated(&plus);
            }
            if let Some(f) = self.file.as_mut() {
                f.minus = Some(Side::from_field(b.get(4..).unwrap_or_default()));
                f.plus = Some(Side::from_field(plus.bytes.get(4..).unwrap_or_default()));
                f.has_text_header = true;
                f.stage = Stage::ExpectHunk;
            }
            return Ok(true);
        }
        if b == b"GIT binary patch" {
            if let Some(f) = self.file.as_mut() {
                f.stage = Stage::Body;
            }
            self.binary_patch(line.number);
            return Ok(true);
        }
        if b.starts_with(b"Binary files ") && b.ends_with(b" differ") {
            if let Some(f) = self.file.as_mut() {
                f.stage = Stage::Body;
            }
            self.set_binary_unreadable();
            return Ok(true);
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(false);
        };
        let Some(fc) = self.change.files.get_mut(f.index) else {
            return Ok(false);
        };
        let mode_of = |prefix: &[u8]| b.strip_prefix(prefix).and_then(parse_mode);
        if let Some(m) = mode_of(b"old mode ") {
            fc.old_mode = Some(m);
        } else if let Some(m) = mode_of(b"new mode ") {
            fc.new_mode = Some(m);
        } else if let Some(m) = mode_of(b"deleted file mode ") {
            f.deleted_file = true;
            fc.old_mode = Some(m);
        } else if let Some(m) = mode_of(b"new file mode ") {
            f.new_file = true;
            fc.new_mode = Some(m);
        } else if let Some(p) = b
            .strip_prefix(b"rename from ")
            .or(b.strip_prefix(b"rename old "))
        {
            f.rename_from = Some(header_path(p));
        } else if let Some(p) = b
            .strip_prefix(b"rename to ")
            .or(b.strip_prefix(b"rename new "))
        {
            f.rename_to = Some(header_path(p));
        } else if let Some(p) = b.strip_prefix(b"copy from ") {
            f.copy_from = Some(header_path(p));
        } else if let Some(p) = b.strip_prefix(b"copy to ") {
            f.copy_to = Some(header_path(p));
        } else if let Some(p) = b.strip_prefix(b"similarity index ") {
            let p = p.trim_ascii();
            let pct = p.strip_suffix(b"%").unwrap_or(p);
            let value = std::str::from_utf8(pct)
                .ok()
                .and_then(|s| s.parse::<u8>().ok());
            fc.similarity = value.map(|v| v.min(100));
        } else if b.starts_with(b"dissimilarity index ") {
            // A rewrite: the hunks say everything; nothing to record.
        } else if let Some(p) = b.strip_prefix(b"index ") {
            // "index abc..def 100644": the mode is the same on both sides.
            f.index_mode = memchr::memchr(b' ', p).and_then(|i| parse_mode(p.get(i + 1..)?));
        } else {
            f.stage = Stage::Body;
            return Ok(false);
        }
        Ok(true)
    }

    /// Fold the current file's bookkeeping into its `FileChange`: paths and status.
    fn finish_file(&mut self) {
        let Some(f) = self.file.take() else {
            return;
        };
        self.garbage_run = false;
        let minus_path = f.minus.as_ref().and_then(Side::path);
        let plus_path = f.plus.as_ref().and_then(Side::path);
        let strip = match &f.git_names {
            Some((a, b)) => quoted::should_strip(Some(a), Some(b)),
            None => quoted::should_strip(minus_path, plus_path),
        };
        let stripped = |p: &'_ [u8]| -> Vec<u8> {
            if strip {
                quoted::strip_component(p).to_vec()
            } else {
                p.to_vec()
            }
        };
        let git_old = f.git_names.as_ref().map(|(a, _)| stripped(a));
        let git_new = f.git_names.as_ref().map(|(_, b)| stripped(b));
        let only_hunks_from_empty = !f.git && f.hunks > 0 && f.all_from_empty;
        let only_hunks_to_empty = !f.git && f.hunks > 0 && f.all_to_empty;
        let added = f.new_file
            || f.minus == Some(Side::DevNull)
            || (only_hunks_from_empty && f.minus.as_ref().is_some_and(Side::epoch));
        let deleted = !added
            && (f.deleted_file
                || f.plus == Some(Side::DevNull)
                || (only_hunks_to_empty && f.plus.as_ref().is_some_and(Side::epoch)));
        let (status, old_raw, new_raw) = if f.rename_from.is_some() || f.rename_to.is_some() {
            (
                FileStatus::Renamed,
                f.rename_from.clone().or(git_old),
                f.rename_to.clone().or(git_new),
            )
        } else if f.copy_from.is_some() || f.copy_to.is_some() {
            (
                FileStatus::Copied,
                f.copy_from.clone().or(git_old),
                f.copy_to.clone().or(git_new),
            )
        } else {
            let old = minus_path.map(stripped).or(git_old);
            let new = plus_path.map(stripped).or(git_new);
            if added {
                (FileStatus::Added, None, new.or(old))
            } else if deleted {
                (FileStatus::Deleted, old.or(new), None)
            } else {
                (FileStatus::Modified, old, new)
            }
        };
        let mut invalid = false;
        let old_path = old_raw.map(|p| self.path_string(&p, f.line, &mut invalid));
        let new_path = new_raw.map(|p| self.path_string(&p, f.line, &mut invalid));
        let utf8_noted = f.utf8_noted;
        let Some(fc) = self.change.files.get_mut(f.index) else {
            return;
        };
        fc.status = status;
        fc.old_path = old_path;
        fc.new_path = new_path;
        if let Some(m) = f.index_mode
            && fc.old_mode.is_none()
            && fc.new_mode.is_none()
        {
            if status != FileStatus::Added {
                fc.old_mode = Some(m);
            }
            if status != FileStatus::Deleted {
                fc.new_mode = Some(m);
            }
        }
        if invalid {
            fc.invalid_utf8 = true;
            if !utf8_noted {
                let path = Some(f.display.clone());
                self.note(f.line, path, ParseNoteKind::InvalidUtf8, || {
                    "the file's path is not valid UTF-8; the bytes were replaced with U+FFFD"
                        .to_owned()
                });
            }
        }
    }

    fn path_string(&mut self, raw: &[u8], line: usize, invalid: &mut bool) -> String {
        let max = self.limits.max_path_bytes;
        let bytes = if raw.len() > max {
            let display = excerpt(raw);
            self.note(line, Some(display), ParseNoteKind::Other, || {
                format!("path longer than {max} bytes was cut")
            });
            let mut end = max;
            while end > 0 && raw.get(end).is_some_and(|b| b & 0xC0 == 0x80) {
                end -= 1;
            }
            raw.get(..end).unwrap_or_default()
        } else {
            raw
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                *invalid = true;
                String::from_utf8_lossy(bytes).into_owned()
            }
        }
    }

    // ----- hunks ---------------------------------------------------------------------

    fn hunk(&mut self, header: RawLine<'a>) -> Result<(), DiffError> {
        let Some(f) = self.file.as_ref().filter(|f| f.has_text_header) else {
            return Err(DiffError::HunkWithoutFile {
                line: header.number,
            });
        };
        let (index, display) = (f.index, f.display.clone());
        let (old_start, old_count, new_start, new_count, section) = parse_hunk_header(header.bytes)
            .ok_or_else(|| DiffError::MalformedHunkHeader {
                line: header.number,
                found: excerpt(header.bytes),
            })?;
        self.count_line(header.number)?;
        let section = match std::str::from_utf8(section) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                self.mark_invalid_utf8(header.number, "a hunk header");
                String::from_utf8_lossy(section).into_owned()
            }
        };
        // Reserve from the header's counts so honest hunks are built without reallocation.
        // The counts are attacker-controlled: every line costs at least one input byte, the
        // text is at most the rest of the input, and a per-hunk cap plus the shrink below
        // keep a lying header from holding memory it does not fill.
        let remaining = self.reader.remaining();
        let want_lines = (old_count as usize)
            .saturating_add(new_count as usize)
            .min(remaining)
            .min(HUNK_RESERVE_LINES);
        let mut hunk = Hunk {
            old_start,
            old_count,
            new_start,
            new_count,
            section,
            // A hunk has at least max(old, new) lines; more only when it also removes.
            text: String::with_capacity(
                (old_count.max(new_count) as usize)
                    .min(HUNK_RESERVE_LINES)
                    .saturating_mul(HUNK_RESERVE_BYTES_PER_LINE)
                    .min(remaining),
            ),
            lines: Vec::with_capacity(want_lines),
        };
        let (mut old_rem, mut new_rem) = (old_count, new_count);
        let (mut old_no, mut new_no) = (old_start, new_start);
        let mut short_at = None;
        loop {
            let Some(line) = self.reader.next_line() else {
                if old_rem > 0 || new_rem > 0 {
                    short_at = Some(self.reader.line_number() + 1);
                }
                break;
            };
            let first = line.bytes.first().copied();
            if first == Some(b'\\') {
                if let Some(last) = hunk.lines.last_mut() {
                    last.no_newline_at_eof = true;
                }
                continue;
            }
            if old_rem == 0 && new_rem == 0 {
                self.reader.unread(&line);
                break;
            }
            let kind = match first {
                Some(b' ') | None => LineKind::Context,
                Some(b'+') => LineKind::Added,
                Some(b'-') => LineKind::Removed,
                Some(_) => {
                    self.reader.unread(&line);
                    short_at = Some(line.number);
                    break;
                }
            };
            let fits = match kind {
                LineKind::Context => old_rem > 0 && new_rem > 0,
                LineKind::Added => new_rem > 0,
                LineKind::Removed => old_rem > 0,
            };
            if !fits {
                self.reader.unread(&line);
                short_at = Some(line.number);
                break;
            }
            self.count_line(line.number)?;
            if line.truncated {
                self.note_truncated(&line);
            }
            let content = line.bytes.get(1..).unwrap_or_default();
            let start = hunk.text.len();
            match self
                .text
                .and_then(|t| t.get(line.offset + 1..line.offset + line.bytes.len()))
            {
                Some(s) if first.is_some() => hunk.text.push_str(s),
                _ => match std::str::from_utf8(content) {
                    Ok(s) => hunk.text.push_str(s),
                    Err(_) => {
                        hunk.text.push_str(&String::from_utf8_lossy(content));
                        self.mark_invalid_utf8(line.number, "a diff line");
                    }
                },
            }
            let end = hunk.text.len();
            hunk.text.push('\n');
            let (old_line, new_line) = match kind {
                LineKind::Context => {
                    let n = (Some(old_no), Some(new_no));
                    old_no = old_no.saturating_add(1);
                    new_no = new_no.saturating_add(1);
                    old_rem -= 1;
                    new_rem -= 1;
                    n
                }
                LineKind::Added => {
                    let n = (None, Some(new_no));
                    new_no = new_no.saturating_add(1);
                    new_rem -= 1;
                    n
                }
                LineKind::Removed => {
                    let n = (Some(old_no), None);
                    old_no = old_no.saturating_add(1);
                    old_rem -= 1;
                    n
                }
            };
            hunk.lines.push(Line {
                kind,
                start: u32::try_from(start).unwrap_or(u32::MAX),
                end: u32::try_from(end).unwrap_or(u32::MAX),
                old_line,
                new_line,
                crlf: line.crlf,
                no_newline_at_eof: false,
            });
        }
        if hunk.lines.capacity() > 2 * hunk.lines.len() + 16 {
            hunk.lines.shrink_to_fit();
        }
        if hunk.text.capacity() > 2 * hunk.text.len() + 256 {
            hunk.text.shrink_to_fit();
        }
        if let Some(at) = short_at {
            let (got_old, got_new) = (old_count - old_rem, new_count - new_rem);
            let hunk_line = header.number;
            self.note(at, Some(display), ParseNoteKind::HunkCountMismatch, || {
                format!(
                    "hunk at line {hunk_line} announced -{old_start},{old_count} \
                     +{new_start},{new_count} but has only {got_old} old and {got_new} new \
                     lines; the patch is truncated or was edited by hand"
                )
            });
        }
        if let Some(f) = self.file.as_mut() {
            f.stage = Stage::Body;
            f.hunks += 1;
            f.all_from_empty &= old_count == 0;
            f.all_to_empty &= new_count == 0;
        }
        if let Some(fc) = self.change.files.get_mut(index) {
            fc.hunks.push(hunk);
        }
        self.garbage_run = false;
        Ok(())
    }

    // ----- binary --------------------------------------------------------------------

    fn binary_patch(&mut self, line: usize) {
        let forward = self.binary_block();
        let reverse = if forward.is_some() {
            self.binary_block()
        } else {
            None
        };
        let forward = forward.unwrap_or_else(|| {
            let reason = "no 'literal' or 'delta' block after 'GIT binary patch'".to_owned();
            let path = self.current_path();
            let r = reason.clone();
            self.note(line, path, ParseNoteKind::BinaryUndecodable, || r);
            BinaryData::Unreadable { reason }
        });
        let new_content = match &forward {
            BinaryData::Literal { data } => Some(data.clone()),
            _ => None,
        };
        if let Some(fc) = self
            .file
            .as_ref()
            .and_then(|f| self.change.files.get_mut(f.index))
        {
            fc.binary = Some(BinaryPatch {
                forward,
                reverse,
                new_content,
            });
        }
    }

    /// One `literal N`/`delta N` block with its base85 lines, up to the blank line.
    fn binary_block(&mut self) -> Option<BinaryData> {
        let head = self.reader.peek()?;
        let (literal, size) = if let Some(n) = head.bytes.strip_prefix(b"literal ") {
            (true, n)
        } else if let Some(n) = head.bytes.strip_prefix(b"delta ") {
            (false, n)
        } else {
            return None;
        };
        let size: Option<u64> = std::str::from_utf8(size.trim_ascii())
            .ok()
            .and_then(|s| s.parse().ok());
        self.reader.next_line();
        let mut encoded = Vec::new();
        let mut error: Option<String> = None;
        while let Some(l) = self.reader.next_line() {
            if l.is_blank() {
                break;
            }
            if !l.bytes.first().is_some_and(u8::is_ascii_alphabetic) {
                // The blank line ending the block is missing; let the caller see this line.
                self.reader.unread(&l);
                break;
            }
            if error.is_none() {
                if l.truncated {
                    error = Some(format!("line {} is over the line limit", l.number));
                } else if let Err(e) = base85::decode_line(l.bytes, &mut encoded) {
                    error = Some(format!("line {}: {e}", l.number));
                }
            }
        }
        let max = self.limits.max_binary_bytes;
        let result = match (error, size) {
            (Some(e), _) => Err(format!("invalid base85 data at {e}")),
            (None, None) => Err(format!("invalid size in '{}'", excerpt(head.bytes))),
            (None, Some(size)) => {
                let budget = self
                    .limits
                    .max_total_binary_bytes
                    .saturating_sub(self.total_binary);
                if size > budget as u64 {
                    Err(format!(
                        "{size} bytes would exceed the change's total binary limit of {} bytes",
                        self.limits.max_total_binary_bytes
                    ))
                } else {
                    binary::inflate_exact(&encoded, size, max)
                }
            }
        };
        Some(match result {
            Ok(data) => {
                self.total_binary += data.len();
                if literal {
                    BinaryData::Literal { data }
                } else {
                    BinaryData::Delta { data }
                }
            }
            Err(reason) => {
                let path = self.current_path();
                let r = reason.clone();
                self.note(head.number, path, ParseNoteKind::BinaryUndecodable, || {
                    format!("binary patch could not be decoded: {r}")
                });
                BinaryData::Unreadable { reason }
            }
        })
    }

    // ----- commits and mails ---------------------------------------------------------

    fn push_commit(&mut self, line: &RawLine<'a>, id: Option<String>) -> Result<usize, DiffError> {
        self.finish_file();
        self.finish_section();
        if self.change.commits.len() >= self.limits.max_commits {
            return Err(DiffError::TooManyCommits {
                line: line.number,
                limit: self.limits.max_commits,
            });
        }
        self.change.commits.push(CommitMeta {
            id,
            ..CommitMeta::default()
        });
        Ok(self.change.commits.len() - 1)
    }

    fn start_commit(&mut self, line: &RawLine<'a>, id: String) -> Result<(), DiffError> {
        let commit = self.push_commit(line, Some(id))?;
        self.section = Some(Section {
            commit,
            body: String::new(),
            mail: None,
        });
        self.mode = Mode::CommitHeaders;
        Ok(())
    }

    fn start_mail(&mut self, line: &RawLine<'a>, id: Option<String>) -> Result<(), DiffError> {
        let commit = self.push_commit(line, id)?;
        self.section = Some(Section {
            commit,
            body: String::new(),
            mail: Some(MailState {
                headers: MailHeaders::default(),
                subject: String::new(),
                numbering: None,
                body_top: true,
                in_body_headers: false,
            }),
        });
        self.mode = Mode::MailHeaders;
        Ok(())
    }

    fn commit_header_line(&mut self, line: RawLine<'a>) -> Result<(), DiffError> {
        if line.is_blank() {
            self.mode = Mode::CommitMessage;
            return Ok(());
        }
        if line.bytes.starts_with(b"diff ") || line.bytes.starts_with(b"--- ") {
            // `git log --format=...` without a message.
            self.mode = Mode::Scan;
            return self.scan(line);
        }
        let text = self.line_str(&line);
        if let Some(c) = self
            .section
            .as_ref()
            .and_then(|s| self.change.commits.get_mut(s.commit))
        {
            header::apply_commit_header(c, &text);
        }
        Ok(())
    }

    fn commit_message_line(&mut self, line: RawLine<'a>) -> Result<(), DiffError> {
        let text = self.line_str(&line);
        let Some(section) = self.section.as_mut() else {
            self.mode = Mode::Scan;
            return self.scan(line);
        };
        if let Some(msg) = text.strip_prefix("    ") {
            section.body.push_str(msg);
            section.body.push('\n');
            Ok(())
        } else if line.is_blank() {
            section.body.push('\n');
            Ok(())
        } else {
            self.mode = Mode::Scan;
            self.scan(line)
        }
    }

    fn mail_header_line(&mut self, line: RawLine<'a>) {
        let text = self.line_str(&line);
        let Some(mail) = self.section.as_mut().and_then(|s| s.mail.as_mut()) else {
            self.mode = Mode::Scan;
            return;
        };
        let continuation = text.starts_with([' ', '\t']);
        if line.is_blank() || !(continuation || mbox::looks_like_header(line.bytes)) {
            self.end_mail_headers(line.number);
            if !line.is_blank() {
                // A header block without its blank line: this is already the body.
                self.mail_body_text(&text);
            }
            return;
        }
        mail.headers.push_line(&text);
    }

    fn end_mail_headers(&mut self, line: usize) {
        self.mode = Mode::MailBody;
        let Some(section) = self.section.as_mut() else {
            return;
        };
        let Some(mail) = section.mail.as_mut() else {
            return;
        };
        let commit = self.change.commits.get_mut(section.commit);
        let cte = mail.headers.transfer_encoding.clone();
        if let Some(c) = commit {
            if let Some(from) = &mail.headers.from {
                let (name, email) = header::parse_ident(&mbox::decode_header(from));
                c.author_name = name;
                c.author_email = email;
            }
            if let Some((t, off)) = mail.headers.date.as_deref().and_then(header::parse_date) {
                c.author_time = Some(t);
                c.author_offset_minutes = Some(off);
            }
        }
        if let Some(s) = &mail.headers.subject {
            let (subject, numbering) = mbox::clean_subject(&mbox::decode_header(s));
            mail.subject = subject;
            mail.numbering = numbering;
        }
        if let Some(cte) = cte {
            let cte = cte.trim().to_ascii_lowercase();
            if !matches!(cte.as_str(), "7bit" | "8bit" | "binary") {
                self.note(line, None, ParseNoteKind::Other, || {
                    format!(
                        "the mail body uses the '{cte}' transfer encoding, which is not \
                         decoded; save the patch with `git format-patch` or as raw text"
                    )
                });
            }
        }
    }

    fn mail_body_line(&mut self, line: RawLine<'a>) -> Result<(), DiffError> {
        let b = line.bytes;
        // A new mail without a signature before it.
        if b.starts_with(b"From ") {
            let next = self.reader.peek().map(|l| l.bytes);
            if let Some(id) = mbox::mbox_separator(b, next) {
                let after_blank = self
                    .section
                    .as_ref()
                    .is_some_and(|s| s.body.is_empty() || s.body.ends_with("\n\n"));
                if id.is_some() || after_blank {
                    self.mode = Mode::Scan;
                    return self.scan(line);
                }
            }
        }
        // git mailinfo's patch break: "---" alone, "--- <name>", "diff -", "Index: ".
        let rest = b.get(3..).unwrap_or_default();
        if b.starts_with(b"---") && rest.iter().all(u8::is_ascii_whitespace) {
            self.mode = Mode::Scan;
            return Ok(());
        }
        if (b.starts_with(b"--- ") && !rest.get(1).is_some_and(u8::is_ascii_whitespace))
            || b.starts_with(b"diff -")
            || b.starts_with(b"Index: ")
        {
            self.mode = Mode::Scan;
            return self.scan(line);
        }
        if b == b"-- " {
            self.mode = Mode::Signature;
            return Ok(());
        }
        let text = self.line_str(&line);
        // In-body headers at the top of the message override the mail's.
        if let Some(mail) = self.section.as_mut().and_then(|s| s.mail.as_mut())
            && mail.body_top
        {
            let is_header = ["From: ", "Date: ", "Subject: "]
                .iter()
                .any(|p| text.starts_with(p));
            if is_header {
                mail.in_body_headers = true;
                self.in_body_header(&text);
                return Ok(());
            }
            mail.body_top = false;
            if mail.in_body_headers && line.is_blank() {
                return Ok(());
            }
        }
        self.mail_body_text(&text);
        Ok(())
    }

    fn in_body_header(&mut self, text: &str) {
        let Some(section) = self.section.as_mut() else {
            return;
        };
        let Some(mail) = section.mail.as_mut() else {
            return;
        };
        let Some(c) = self.change.commits.get_mut(section.commit) else {
            return;
        };
        if let Some(v) = text.strip_prefix("From: ") {
            let (name, email) = header::parse_ident(&mbox::decode_header(v));
            c.author_name = name;
            c.author_email = email;
        } else if let Some(v) = text.strip_prefix("Date: ") {
            if let Some((t, off)) = header::parse_date(v) {
                c.author_time = Some(t);
                c.author_offset_minutes = Some(off);
            }
        } else if let Some(v) = text.strip_prefix("Subject: ") {
            let (subject, _) = mbox::clean_subject(&mbox::decode_header(v));
            mail.subject = subject;
        }
    }

    fn mail_body_text(&mut self, text: &str) {
        if let Some(section) = self.section.as_mut() {
            if let Some(mail) = section.mail.as_mut() {
                mail.body_top = false;
            }
            section.body.push_str(text);
            section.body.push('\n');
        }
    }

    /// Store the collected message of the current commit or mail; turn a cover letter
    /// into the change's title and description.
    fn finish_section(&mut self) {
        let Some(section) = self.section.take() else {
            return;
        };
        self.mode = Mode::Scan;
        let body = section.body.trim_end();
        let body = body.trim_start_matches(['\n', '\r']);
        let has_files = self
            .change
            .files
            .last()
            .is_some_and(|f| f.commit == Some(section.commit));
        match section.mail {
            Some(mail) => {
                let cover = !has_files && matches!(mail.numbering, Some((0, _)));
                if cover && section.commit + 1 == self.change.commits.len() {
                    self.change.commits.pop();
                    if self.change.title.is_none() {
                        self.change.title = Some(mail.subject);
                        self.change.description = (!body.is_empty()).then(|| body.to_owned());
                    }
                    return;
                }
                let message = if body.is_empty() {
                    mail.subject
                } else {
                    format!("{}\n\n{body}", mail.subject)
                };
                if let Some(c) = self.change.commits.get_mut(section.commit) {
                    c.message = message;
                }
            }
            None => {
                if let Some(c) = self.change.commits.get_mut(section.commit) {
                    c.message = body.to_owned();
                }
            }
        }
    }
}

/// Split the names of `Binary files A and B differ`, preferring a split where both names
/// are the same file (as in `diff -r`).
fn split_binary_names(inner: &[u8]) -> (&[u8], &[u8]) {
    let sep = b" and ";
    let mut candidates = memchr::memmem::find_iter(inner, sep);
    let first = candidates.next();
    let mid_ok = |i: usize| {
        let (a, b) = (
            inner.get(..i).unwrap_or_default(),
            inner.get(i + sep.len()..).unwrap_or_default(),
        );
        quoted::is_dev_null(a)
            || quoted::is_dev_null(b)
            || quoted::strip_component(a) == quoted::strip_component(b)
    };
    let chosen = first
        .into_iter()
        .chain(candidates.take(64))
        .find(|&i| mid_ok(i))
        .or(first);
    match chosen {
        Some(i) => (
            inner.get(..i).unwrap_or_default(),
            inner.get(i + sep.len()..).unwrap_or_default(),
        ),
        None => (inner, inner),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn ok(input: &str) -> Change {
        parse(input.as_bytes(), &Limits::default()).unwrap()
    }

    fn lines(h: &Hunk) -> Vec<(LineKind, Option<u32>, Option<u32>, &str)> {
        h.lines
            .iter()
            .map(|l| (l.kind, l.old_line, l.new_line, h.line_text(l)))
            .collect()
    }

    #[test]
    fn a_plain_unified_diff_gets_paths_line_numbers_and_text() {
        let c =
            ok("--- a/src/x.rs\n+++ b/src/x.rs\n@@ -3,3 +3,4 @@ fn main() {\n a\n-b\n+B\n+C\n c\n");
        assert_eq!(c.files.len(), 1);
        let f = &c.files[0];
        assert_eq!(f.old_path.as_deref(), Some("src/x.rs"));
        assert_eq!(f.new_path.as_deref(), Some("src/x.rs"));
        assert_eq!(f.status, FileStatus::Modified);
        let h = &f.hunks[0];
        assert_eq!(
            (h.old_start, h.old_count, h.new_start, h.new_count),
            (3, 3, 3, 4)
        );
        assert_eq!(h.section, "fn main() {");
        assert_eq!(h.text, "a\nb\nB\nC\nc\n");
        assert_eq!(
            lines(h),
            vec![
                (LineKind::Context, Some(3), Some(3), "a"),
                (LineKind::Removed, Some(4), None, "b"),
                (LineKind::Added, None, Some(4), "B"),
                (LineKind::Added, None, Some(5), "C"),
                (LineKind::Context, Some(5), Some(6), "c"),
            ]
        );
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
        assert!(c.commits.is_empty());
    }

    #[test]
    fn omitted_hunk_counts_mean_one() {
        let c = ok("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n@@ -7 +7,0 @@\n-z\n");
        let f = &c.files[0];
        assert_eq!((f.hunks[0].old_count, f.hunks[0].new_count), (1, 1));
        assert_eq!((f.hunks[1].old_count, f.hunks[1].new_count), (1, 0));
        assert_eq!(
            lines(&f.hunks[1]),
            vec![(LineKind::Removed, Some(7), None, "z")]
        );
    }

    #[test]
    fn removed_lines_that_look_like_headers_stay_in_their_hunk() {
        let c = ok("--- a/x\n+++ b/x\n@@ -1,2 +1,1 @@\n--- a/y\n-+++ b/y\n+ok\n");
        assert_eq!(c.files.len(), 1);
        let texts: Vec<_> = c.files[0].removed_lines().map(|(_, t)| t).collect();
        assert_eq!(texts, ["-- a/y", "+++ b/y"]);
    }

    #[test]
    fn git_extended_headers_set_status_modes_and_similarity() {
        let c = ok(concat!(
            "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n",
            "diff --git a/big.txt b/moved.txt\nsimilarity index 90%\nrename from big.txt\n",
            "rename to moved.txt\n",
            "diff --git a/main.rs b/main2.rs\nsimilarity index 88%\ncopy from main.rs\n",
            "copy to main2.rs\nindex 4d6d0fb..e2dd554 100644\n--- a/main.rs\n+++ b/main2.rs\n",
            "@@ -1 +1,2 @@\n x\n+y\n",
            "diff --git a/new.sh b/new.sh\nnew file mode 100755\nindex 0000000..4935e13\n",
            "--- /dev/null\n+++ b/new.sh\n@@ -0,0 +1 @@\n+echo\n",
            "diff --git a/old.txt b/old.txt\ndeleted file mode 100644\nindex 286c5f5..0000000\n",
            "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n",
            "diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n",
        ));
        let f = &c.files;
        assert_eq!(f.len(), 6);
        assert_eq!(
            (f[0].status, f[0].old_mode, f[0].new_mode),
            (FileStatus::Modified, Some(0o100644), Some(0o100755))
        );
        assert!(f[0].made_executable());
        assert_eq!(f[0].path(), "run.sh");
        assert_eq!(
            (f[1].status, f[1].similarity),
            (FileStatus::Renamed, Some(90))
        );
        assert_eq!(
            (f[1].old_path.as_deref(), f[1].new_path.as_deref()),
            (Some("big.txt"), Some("moved.txt"))
        );
        assert_eq!(
            (f[2].status, f[2].similarity),
            (FileStatus::Copied, Some(88))
        );
        assert_eq!(
            (f[2].old_path.as_deref(), f[2].new_path.as_deref()),
            (Some("main.rs"), Some("main2.rs"))
        );
        assert_eq!(
            (f[2].old_mode, f[2].new_mode),
            (Some(0o100644), Some(0o100644))
        );
        assert_eq!(
            (
                f[3].status,
                f[3].old_path.as_deref(),
                f[3].new_path.as_deref()
            ),
            (FileStatus::Added, None, Some("new.sh"))
        );
        assert!(f[3].made_executable());
        assert_eq!(
            (
                f[4].status,
                f[4].old_path.as_deref(),
                f[4].new_path.as_deref()
            ),
            (FileStatus::Deleted, Some("old.txt"), None)
        );
        assert_eq!(f[4].old_mode, Some(0o100644));
        assert_eq!(
            (f[5].status, f[5].new_mode, f[5].hunks.len()),
            (FileStatus::Added, Some(0o100644), 0)
        );
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    }

    #[test]
    fn quoted_paths_are_unescaped_and_invalid_bytes_flagged() {
        let c = ok(concat!(
            "diff --git \"a/t\\303\\251st\\tx\" \"b/t\\303\\251st\\tx\"\nnew file mode 100644\n",
            "--- /dev/null\n+++ \"b/t\\303\\251st\\tx\"\t\n@@ -0,0 +1 @@\n+hi\n",
            "diff --git \"a/bad\\377\" \"b/bad\\377\"\n--- \"a/bad\\377\"\n+++ \"b/bad\\377\"\n",
            "@@ -1 +1 @@\n-a\n+b\n",
        ));
        assert_eq!(c.files[0].new_path.as_deref(), Some("t\u{e9}st\tx"));
        assert!(!c.files[0].invalid_utf8);
        assert_eq!(c.files[1].new_path.as_deref(), Some("bad\u{fffd}"));
        assert!(c.files[1].invalid_utf8);
        assert_eq!(c.parse_notes.len(), 1);
        assert_eq!(c.parse_notes[0].kind, ParseNoteKind::InvalidUtf8);
    }

    #[test]
    fn crlf_no_newline_and_invalid_utf8_lines_are_recorded() {
        let mut input = b"--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\r\n+\xff\xfeb\r\n".to_vec();
        input.extend_from_slice(b" c\n\\ No newline at end of file\n");
        let c = parse(&input, &Limits::default()).unwrap();
        let f = &c.files[0];
        let h = &f.hunks[0];
        assert_eq!(h.text, "a\n\u{fffd}\u{fffd}b\nc\n");
        assert!(h.lines[0].crlf && h.lines[1].crlf && !h.lines[2].crlf);
        assert!(h.lines[2].no_newline_at_eof && !h.lines[1].no_newline_at_eof);
        assert!(f.invalid_utf8);
        let kinds: Vec<_> = c
            .parse_notes
            .iter()
            .map(|n| (n.kind, n.input_line))
            .collect();
        assert_eq!(kinds, vec![(ParseNoteKind::InvalidUtf8, 5)]);
        assert_eq!(h.line_index_at(h.text.find('b').unwrap()), Some(1));
    }

    #[test]
    fn an_empty_line_inside_a_hunk_is_empty_context() {
        let c = ok("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n");
        assert_eq!(
            lines(&c.files[0].hunks[0]),
            vec![
                (LineKind::Context, Some(1), Some(1), "a"),
                (LineKind::Context, Some(2), Some(2), ""),
                (LineKind::Removed, Some(3), None, "b"),
                (LineKind::Added, None, Some(3), "c"),
            ]
        );
    }

    #[test]
    fn diff_ru_n_output_strips_the_directories_and_detects_added_and_deleted() {
        let c = ok(concat!(
            "Only in old: junk\n",
            "diff -ruN old/src/gone.c new/src/gone.c\n",
            "--- old/src/gone.c\t2026-11-21 06:31:39.751015282 +0000\n",
            "+++ new/src/gone.c\t1970-01-01 00:00:00.000000000 +0000\n",
            "@@ -1 +0,0 @@\n-bye\n",
            "diff -ruN old/src/new.c new/src/new.c\n",
            "--- old/src/new.c\t1970-01-01 01:00:00.000000000 +0100\n",
            "+++ new/src/new.c\t2026-11-21 06:31:39.751015282 +0000\n",
            "@@ -0,0 +1 @@\n+added\n",
            "Binary files old/src/b.bin and new/src/b.bin differ\n",
            "--- x.c.orig\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n",
        ));
        let f = &c.files;
        assert_eq!(
            (f[0].status, f[0].old_path.as_deref()),
            (FileStatus::Deleted, Some("src/gone.c"))
        );
        assert_eq!(
            (f[1].status, f[1].new_path.as_deref()),
            (FileStatus::Added, Some("src/new.c"))
        );
        assert_eq!(f[2].path(), "src/b.bin");
        assert!(matches!(
            f[2].binary.as_ref().unwrap().forward,
            BinaryData::Unreadable { .. }
        ));
        assert_eq!(
            (f[3].old_path.as_deref(), f[3].new_path.as_deref()),
            (Some("x.c.orig"), Some("x.c"))
        );
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    }

    #[test]
    fn a_truncated_hunk_is_kept_with_a_note() {
        let c = ok("--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n a\n-b\n+c\n");
        let f = &c.files[0];
        assert_eq!(f.hunks[0].lines.len(), 3);
        assert_eq!(c.parse_notes.len(), 1);
        let n = &c.parse_notes[0];
        assert_eq!(
            (n.kind, n.input_line, n.path.as_deref()),
            (ParseNoteKind::HunkCountMismatch, 7, Some("x"))
        );
    }

    #[test]
    fn a_hunk_cut_short_by_the_next_file_is_noted_and_the_next_file_parsed() {
        let c = ok(
            "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\ndiff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-q\n+r\n",
        );
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.files[1].hunks[0].lines.len(), 2);
        assert_eq!(c.parse_notes[0].kind, ParseNoteKind::HunkCountMismatch);
        assert_eq!(c.parse_notes[0].input_line, 5);
    }

    #[test]
    fn lines_beyond_a_hunks_counts_are_reported_not_analysed() {
        let c = ok("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+sneaky\n+more\n");
        assert_eq!(c.files[0].hunks[0].lines.len(), 2);
        assert_eq!(c.parse_notes.len(), 1);
        assert_eq!(
            (c.parse_notes[0].kind, c.parse_notes[0].input_line),
            (ParseNoteKind::HunkCountMismatch, 6)
        );
    }

    #[test]
    fn over_long_lines_are_cut_with_a_note() {
        let limits = Limits {
            max_line_bytes: 12,
            ..Limits::default()
        };
        let c = parse(
            b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+0123456789abcdef\n",
            &limits,
        )
        .unwrap();
        assert_eq!(c.files[0].hunks[0].text, "a\n0123456789a\n");
        assert_eq!(c.parse_notes.len(), 1);
        assert_eq!(
            (c.parse_notes[0].kind, c.parse_notes[0].input_line),
            (ParseNoteKind::LineTruncated, 5)
        );
    }

    #[test]
    fn structural_errors_name_the_line_and_the_expectation() {
        let l = Limits::default();
        let e = parse(b"hello\nworld\n", &l).unwrap_err();
        assert_eq!(e, DiffError::NoDiff { lines: 2 });
        let e = parse(b"\n\n--- a/src/x.rs\n+++ b/src/x.rs\nnot a hunk\n", &l).unwrap_err();
        assert_eq!(e.line(), Some(5));
        assert_eq!(
            e.to_string(),
            "expected a line starting with '@@' after '+++ b/src/x.rs' at line 5; is the patch truncated?"
        );
        let e = parse(b"--- a/x\n+++ b/x\n", &l).unwrap_err();
        assert!(matches!(e, DiffError::MissingHunk { line: 3, .. }), "{e:?}");
        let e = parse(b"--- a/x\n+++ b/x\n@@ -a +b @@\n", &l).unwrap_err();
        assert!(
            matches!(e, DiffError::MalformedHunkHeader { line: 3, .. }),
            "{e:?}"
        );
        let e = parse(b"@@ -1 +1 @@\n-a\n+b\n", &l).unwrap_err();
        assert_eq!(e, DiffError::HunkWithoutFile { line: 1 });
        let e = parse(b"diff --git a/x b/x\n--- a/x\nbroken\n", &l).unwrap_err();
        assert!(
            matches!(e, DiffError::MissingNewPath { line: 3, .. }),
            "{e:?}"
        );
        let small = Limits {
            max_input_bytes: 4,
            ..Limits::default()
        };
        assert_eq!(
            parse(b"12345", &small).unwrap_err(),
            DiffError::InputTooLarge { size: 5, limit: 4 }
        );
        let one = Limits {
            max_files: 1,
            ..Limits::default()
        };
        let e = parse(b"diff --git a/x b/x\ndiff --git a/y b/y\n", &one).unwrap_err();
        assert_eq!(e, DiffError::TooManyFiles { line: 2, limit: 1 });
        let few = Limits {
            max_lines: 2,
            ..Limits::default()
        };
        let e = parse(b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", &few).unwrap_err();
        assert_eq!(e, DiffError::TooManyLines { line: 5, limit: 2 });
    }

    #[test]
    fn git_show_output_becomes_a_commit_with_its_files() {
        let c = ok(concat!(
            "commit 4e6126f1502eb1b4c772ccde54d3ebbbe444f68e (HEAD -> main)\n",
            "Author: J\u{f6}rg <jane@example.org>\nDate:   Tue Oct 3 14:00:00 2023 +0200\n\n",
            "    copy main\n\n    body line\n\n",
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            "\ncommit 0000000000000000000000000000000000000001\nAuthor: B <b@x>\n",
            "Date:   Tue Oct 3 15:00:00 2023 +0200\n\n    second\n\n",
            "diff --git a/y b/y\nold mode 100644\nnew mode 100755\n",
        ));
        assert_eq!(c.commits.len(), 2);
        let m = &c.commits[0];
        assert_eq!(
            m.id.as_deref(),
            Some("4e6126f1502eb1b4c772ccde54d3ebbbe444f68e")
        );
        assert_eq!(
            (m.author_name.as_str(), m.author_email.as_str()),
            ("J\u{f6}rg", "jane@example.org")
        );
        assert_eq!(m.author_time, Some(1_696_334_400));
        assert_eq!(m.message, "copy main\n\nbody line");
        assert_eq!(c.commits[1].subject(), "second");
        assert_eq!(
            c.files.iter().map(|f| f.commit).collect::<Vec<_>>(),
            [Some(0), Some(1)]
        );
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    }

    #[test]
    fn a_format_patch_mail_with_folded_encoded_subject_becomes_a_commit() {
        let c = ok(concat!(
            "From 4e6126f1502eb1b4c772ccde54d3ebbbe444f68e Mon Sep 17 00:00:00 2001\n",
            "From: =?UTF-8?q?J=C3=B6rg=20=C3=9Cnicode?= <jane@example.org>\n",
            "Date: Tue, 3 Oct 2023 14:00:00 +0200\n",
            "Subject: [PATCH 2/2] =?UTF-8?q?copy_m=C3=A4in?= into a second\n",
            " binary\n",
            "Content-Transfer-Encoding: 8bit\n\n",
            "Body text.\n\nSigned-off-by: J <j@x>\n---\n x | 2 +-\n 1 file changed\n\n",
            "diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            "-- \n2.47.3\n\n",
        ));
        assert_eq!(c.commits.len(), 1);
        let m = &c.commits[0];
        assert_eq!(m.author_name, "J\u{f6}rg \u{dc}nicode");
        assert_eq!(m.author_time, Some(1_696_334_400));
        assert_eq!(m.author_offset_minutes, Some(120));
        assert_eq!(
            m.message,
            "copy m\u{e4}in into a second binary\n\nBody text.\n\nSigned-off-by: J <j@x>"
        );
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.files[0].commit, Some(0));
        assert_eq!(c.files[0].hunks[0].lines.len(), 2);
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
        assert_eq!(c.title, None);
    }

    #[test]
    fn a_cover_letter_becomes_title_and_description_of_the_series() {
        let c = ok(concat!(
            "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n",
            "From: A <a@x>\nSubject: [PATCH v2 0/2] Speed things up\n\n",
            "This series speeds things up.\n\n-- \n2.47.3\n\n",
            "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n",
            "From: A <a@x>\nSubject: [PATCH v2 1/2] one\n\n---\n",
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n-- \n2.47.3\n\n",
            "From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001\n",
            "From: A <a@x>\nSubject: [PATCH v2 2/2] two\n\nFrom: Real Author <r@x>\n\nWhy.\n---\n",
            "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n",
        ));
        assert_eq!(c.title.as_deref(), Some("Speed things up"));
        assert_eq!(
            c.description.as_deref(),
            Some("This series speeds things up.")
        );
        assert_eq!(c.commits.len(), 2);
        assert_eq!(c.commits[0].message, "one");
        assert_eq!(
            c.commits[0].id.as_deref(),
            Some("1111111111111111111111111111111111111111")
        );
        assert_eq!(c.commits[1].message, "two\n\nWhy.");
        assert_eq!(c.commits[1].author_name, "Real Author");
        assert_eq!(
            c.files.iter().map(|f| f.commit).collect::<Vec<_>>(),
            [Some(0), Some(1)]
        );
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    }

    #[test]
    fn a_literal_binary_patch_from_git_is_decoded() {
        let c = ok(concat!(
            "diff --git a/img.png b/img.png\nnew file mode 100644\n",
            "index 0000000000000000000000000000000000000000..408f79ec9a1e917587acb9a66861535c7d6d98cd\n",
            "GIT binary patch\nliteral 208\n",
            "zcmV;>05AWEP)<h;3K|Lk0RjUA1qKHQ2?`4g4Gs?w5fT#=6&4p585$cL9UdPbAtECr\n",
            "zB_<~*DJm;0EiNxGF)}kWH8wXmIXXK$Jw87`K|(`BMMg(RNlHshO-@fxQBqS>RaRG6\n",
            "zSz23MU0z>cVPa!sWoBn+X=-b1ZEkOHadLBXb#`}nd3t+%eSUv{fr5jCg@%WSiHeJi\n",
            "zjgF6yk&=^?m6n&7nVOrNot~edp`xRtrKYE-sj922t*)=Iv9hzYwYImoxw^Z&y}rM|\n",
            "K!NSAD#m2|5hEHYy\n\nliteral 0\nHcmV?d00001\n\n",
            "diff --git a/main.rs b/main.rs\n--- a/main.rs\n+++ b/main.rs\n@@ -1 +1 @@\n-a\n+b\n",
        ));
        let mut want = b"\x89PNG\r\n\x1a\n".to_vec();
        want.extend(0u8..200);
        let f = &c.files[0];
        assert_eq!((f.status, f.path()), (FileStatus::Added, "img.png"));
        let b = f.binary.as_ref().unwrap();
        assert_eq!(b.forward, BinaryData::Literal { data: want.clone() });
        assert_eq!(b.reverse, Some(BinaryData::Literal { data: vec![] }));
        assert_eq!(b.new_content.as_deref(), Some(&want[..]));
        assert_eq!(c.files[1].hunks.len(), 1);
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
    }

    #[test]
    fn corrupt_binary_data_is_unreadable_with_a_note() {
        let c = ok(concat!(
            "diff --git a/b b/b\nGIT binary patch\nliteral 5\nHcmV?d00001\n\n",
            "diff --git a/c b/c\nGIT binary patch\nliteral 3\nHc\"V?d00001\n\n",
            "diff --git a/d b/d\nGIT binary patch\nliteral 99999999999\nHcmV?d00001\n\n",
        ));
        for f in &c.files {
            let b = f.binary.as_ref().unwrap();
            assert!(matches!(b.forward, BinaryData::Unreadable { .. }), "{b:?}");
            assert_eq!(b.new_content, None);
        }
        let kinds: Vec<_> = c.parse_notes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [ParseNoteKind::BinaryUndecodable; 3]);
    }

    /// A `GIT binary patch` block as git writes it: zlib at the default level, then base85
    /// lines of at most 52 bytes.
    fn git_literal_block(data: &[u8]) -> String {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        let z = z.finish().unwrap();
        let mut block = format!("literal {}\n", data.len());
        for chunk in z.chunks(52) {
            block.push_str(std::str::from_utf8(&base85::encode_line(chunk)).unwrap());
            block.push('\n');
        }
        block.push('\n');
        block
    }

    /// Seeded xorshift64*: incompressible bytes, the same on every run.
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn issue_binary_literals_larger_than_the_first_inflate_buffer_are_decoded() {
        // Regression: every literal over 64 KiB (546 KB and 174 KB files from real
        // `git diff --binary` output) was reported as "zlib data is corrupt" because the
        // stream was inflated with `Finish`, which miniz_oxide treats as one-shot.
        let big = noise(300_000, 0x5eed);
        let text: Vec<u8> = (0..40_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let input = format!(
            "diff --git a/blob.bin b/blob.bin\nnew file mode 100644\nGIT binary patch\n{}{}\
             diff --git a/log.txt b/log.txt\nGIT binary patch\n{}{}",
            git_literal_block(&big),
            git_literal_block(b""),
            git_literal_block(&text),
            git_literal_block(&big[..70_000]),
        );
        let c = ok(&input);
        assert!(c.parse_notes.is_empty(), "{:?}", c.parse_notes);
        let b = c.files[0].binary.as_ref().unwrap();
        assert_eq!(b.forward, BinaryData::Literal { data: big.clone() });
        assert_eq!(b.new_content.as_deref(), Some(&big[..]));
        let b = c.files[1].binary.as_ref().unwrap();
        assert_eq!(b.forward, BinaryData::Literal { data: text });
        assert_eq!(
            b.reverse,
            Some(BinaryData::Literal {
                data: big[..70_000].to_vec()
            })
        );
    }

    #[test]
    fn a_large_literal_that_lies_about_its_size_is_still_unreadable() {
        let big = noise(200_000, 7);
        let block = git_literal_block(&big);
        for declared in ["199999", "200001"] {
            let lying = block.replacen("literal 200000", &format!("literal {declared}"), 1);
            let c = ok(&format!("diff --git a/x b/x\nGIT binary patch\n{lying}"));
            let b = c.files[0].binary.as_ref().unwrap();
            assert!(
                matches!(b.forward, BinaryData::Unreadable { .. }),
                "{declared}"
            );
        }
        // Cut the stream short: the last 20 base85 lines are gone.
        let lines: Vec<&str> = block.lines().collect();
        let cut = lines[..lines.len() - 20].join("\n");
        let c = ok(&format!("diff --git a/x b/x\nGIT binary patch\n{cut}\n\n"));
        let b = c.files[0].binary.as_ref().unwrap();
        let BinaryData::Unreadable { reason } = &b.forward else {
            panic!("{b:?}");
        };
        assert!(reason.contains("ends before"), "{reason}");
    }

    #[test]
    fn combined_diffs_are_skipped_with_a_note() {
        let c = ok(concat!(
            "diff --cc x\nindex 1,2..3\n--- a/x\n+++ b/x\n@@@ -1,1 -1,1 +1,1 @@@\n- a\n -b\n++c\n",
            "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n",
        ));
        assert_eq!(c.files.len(), 1);
        assert_eq!(c.files[0].path(), "y");
        assert_eq!(c.parse_notes.len(), 1);
    }

    #[test]
    fn fixture_comment_lines_and_garbage_between_files_are_tolerated() {
        let c = ok(concat!(
            "# incident: something\n# title: x\n",
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            "random junk\nmore junk\n\n",
            "--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n",
        ));
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.parse_notes.len(), 1);
        assert_eq!(
            (c.parse_notes[0].kind, c.parse_notes[0].input_line),
            (ParseNoteKind::Other, 8)
        );
    }

    #[test]
    fn notes_are_capped() {
        let limits = Limits {
            max_notes: 2,
            ..Limits::default()
        };
        let mut input = String::new();
        for i in 0..5 {
            input.push_str(&format!("--- a/{i}\n+++ b/{i}\n@@ -1,3 +1,3 @@\n a\n"));
        }
        let c = parse(input.as_bytes(), &limits).unwrap();
        assert_eq!(c.parse_notes.len(), 3);
        assert!(c.parse_notes[2].message.starts_with("3 further"));
    }
}
