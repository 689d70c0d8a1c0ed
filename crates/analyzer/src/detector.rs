//! The [`Detector`] trait and what detectors see.
//!
//! Hooks go from broad to narrow — change, file, hunk, line hit — and a detector implements
//! only the narrowest one it needs. Line-level work is never done by hand-rolled scanning:
//! a detector declares [`LinePattern`]s, the [`Analyzer`](crate::Analyzer) compiles the
//! patterns of every detector and rule pack into one automaton, scans each hunk once and calls
//! [`Detector::on_hit`] for each confirmed match.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::ops::Range;

use crate::change::{Change, FileChange, Hunk, Line, LineKind};
use crate::classify::FileClass;
use crate::detectors::dep_manifest::{self, ManifestDiff};
use crate::finding::{Confidence, FindingBuilder, Findings, Location, Severity, Text, Vector};

/// Static description of a detector or rule.
#[derive(Debug, Clone)]
pub struct DetectorMeta {
    /// Stable kebab-case id; also the docs page name `docs/detectors/<id>.md`.
    pub id: Text,
    pub title: Text,
    /// Default severity and confidence of its findings (a finding may override both).
    pub severity: Severity,
    pub confidence: Confidence,
    pub vectors: Cow<'static, [Vector]>,
    pub languages: Cow<'static, [&'static str]>,
    /// Default explanation shown to the maintainer.
    pub explanation: Text,
}

impl DetectorMeta {
    /// Constant constructor for Rust detectors.
    pub const fn new(
        id: &'static str,
        title: &'static str,
        severity: Severity,
        confidence: Confidence,
        vectors: &'static [Vector],
        languages: &'static [&'static str],
        explanation: &'static str,
    ) -> Self {
        Self {
            id: Cow::Borrowed(id),
            title: Cow::Borrowed(title),
            severity,
            confidence,
            vectors: Cow::Borrowed(vectors),
            languages: Cow::Borrowed(languages),
            explanation: Cow::Borrowed(explanation),
        }
    }

    /// Repository-relative path of the docs page.
    pub fn doc_path(&self) -> String {
        format!("{}{}.md", crate::finding::DOC_BASE, self.id)
    }

    /// Start a finding at `at` with this metadata.
    pub fn finding(&self, at: Location) -> FindingBuilder {
        FindingBuilder::new(self, at)
    }
}

/// Which diff lines a pattern applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineScope {
    Added,
    Removed,
    /// Added or removed.
    Changed,
    /// Any line including context.
    Any,
}

impl LineScope {
    pub fn admits(self, kind: LineKind) -> bool {
        match self {
            LineScope::Added => kind == LineKind::Added,
            LineScope::Removed => kind == LineKind::Removed,
            LineScope::Changed => kind != LineKind::Context,
            LineScope::Any => true,
        }
    }
}

/// Which files a pattern applies to, by [`FileClass`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileScope {
    Any,
    /// Not tests, docs or generated files.
    Source,
    Build,
    Ci,
    Install,
    Manifest,
    Lockfile,
    Test,
    Docs,
    Generated,
    /// Build, CI, install or release files.
    ExecutionPath,
    /// A given language.
    Language(&'static str),
}

impl FileScope {
    pub fn admits(self, class: &FileClass) -> bool {
        match self {
            FileScope::Any => true,
            FileScope::Source => !class.test && !class.docs && !class.generated,
            FileScope::Build => class.build,
            FileScope::Ci => class.ci,
            FileScope::Install => class.install,
            FileScope::Manifest => class.manifest,
            FileScope::Lockfile => class.lockfile,
            FileScope::Test => class.test,
            FileScope::Docs => class.docs,
            FileScope::Generated => class.generated,
            FileScope::ExecutionPath => class.is_execution_path(),
            FileScope::Language(l) => class.language == Some(l),
        }
    }

    /// Parse a scope name used in rule packs (`ci`, `build`, `lang:python`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "any" => FileScope::Any,
            "source" => FileScope::Source,
            "build" => FileScope::Build,
            "ci" => FileScope::Ci,
            "install" => FileScope::Install,
            "manifest" => FileScope::Manifest,
            "lockfile" => FileScope::Lockfile,
            "test" => FileScope::Test,
            "docs" => FileScope::Docs,
            "generated" => FileScope::Generated,
            "execution-path" => FileScope::ExecutionPath,
            other => {
                let lang = other.strip_prefix("lang:")?;
                FileScope::Language(crate::classify::intern_language(lang)?)
            }
        })
    }
}

/// A step of a behaviour chain: where data comes from, how it is transformed, where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads something sensitive: environment, credentials, key or wallet files, request input.
    Source,
    /// Decodes, decrypts, decompresses or serializes.
    Transform,
    /// Sends to the network.
    NetworkSink,
    /// Executes or evaluates.
    ExecSink,
    /// Writes or deletes files.
    WriteSink,
}

/// A line pattern: a literal that goes into the shared automaton, optionally confirmed by a
/// regex run on the matched line only.
///
/// Fields are `'static` so Rust detectors declare patterns as constants; rule packs, loaded
/// once per process, leak their few kilobytes of strings to get the same shape.
#[derive(Debug, Clone, Copy)]
pub struct LinePattern {
    /// Literal anchor. Matching is ASCII-case-insensitive when `ignore_case`, exact otherwise.
    pub literal: &'static str,
    pub ignore_case: bool,
    /// Regex confirmed on the whole line after the literal hits; the hit's range is the regex
    /// match. Compiled once per process, on first use.
    pub regex: Option<&'static str>,
    pub lines: LineScope,
    /// Empty means any file.
    pub files: &'static [FileScope],
    /// If set, every confirmed hit is recorded as a behaviour-chain step for the file, with
    /// this role and kind (e.g. `(Source, "env")`).
    pub role: Option<(Role, &'static str)>,
}

impl LinePattern {
    /// A case-sensitive literal on added lines of any file.
    pub const fn lit(literal: &'static str) -> Self {
        Self {
            literal,
            ignore_case: false,
            regex: None,
            lines: LineScope::Added,
            files: &[],
            role: None,
        }
    }

    pub const fn ignore_case(mut self) -> Self {
        self.ignore_case = true;
        self
    }

    pub const fn regex(mut self, re: &'static str) -> Self {
        self.regex = Some(re);
        self
    }

    pub const fn lines(mut self, scope: LineScope) -> Self {
        self.lines = scope;
        self
    }

    pub const fn files(mut self, files: &'static [FileScope]) -> Self {
        self.files = files;
        self
    }

    pub const fn role(mut self, role: Role, kind: &'static str) -> Self {
        self.role = Some((role, kind));
        self
    }
}

/// A behaviour-chain step found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHit {
    pub role: Role,
    pub kind: &'static str,
    pub hunk: usize,
    pub line: u32,
    /// The matched text (cut to 120 chars).
    pub text: String,
}

/// Everything about the change, for change-level hooks.
#[derive(Debug, Clone, Copy)]
pub struct ChangeCtx<'a> {
    pub change: &'a Change,
    /// `classes[i]` classifies `change.files[i]`.
    pub classes: &'a [FileClass],
}

impl<'a> ChangeCtx<'a> {
    /// Files with their classes.
    pub fn files(&self) -> impl Iterator<Item = (&'a FileChange, &'a FileClass)> {
        self.change.files.iter().zip(self.classes.iter())
    }
}

/// One file and what the scan found in it, for file-level hooks.
#[derive(Debug, Clone, Copy)]
pub struct FileCtx<'a> {
    pub change: &'a Change,
    pub file: &'a FileChange,
    pub index: usize,
    pub class: &'a FileClass,
    /// Behaviour-chain steps recorded in this file during the scan (in hunk order).
    pub roles: &'a [RoleHit],
    /// What several detectors derive from the file, computed once.
    pub(crate) shared: &'a FileShared,
}

impl<'a> FileCtx<'a> {
    pub fn path(&self) -> &'a str {
        self.file.path()
    }

    /// The file read as a dependency manifest (`None` when it is not one): parsed on first
    /// use and shared by the `dep-*` detectors.
    pub(crate) fn manifest_diff(&self) -> Option<&'a ManifestDiff> {
        self.shared
            .manifest
            .get_or_init(|| dep_manifest::diff(self.file))
            .as_ref()
    }
}

/// Per-file results that several detectors need, computed on first use during one analysis.
#[derive(Debug, Default)]
pub(crate) struct FileShared {
    manifest: OnceCell<Option<ManifestDiff>>,
}

/// One hunk, for hunk-level hooks.
#[derive(Debug, Clone, Copy)]
pub struct HunkCtx<'a> {
    pub file: FileCtx<'a>,
    pub hunk: &'a Hunk,
    pub index: usize,
}

/// A confirmed pattern match on one line.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    /// Index of the pattern within the detector's `line_patterns()`.
    pub pattern: usize,
    pub hunk: &'a Hunk,
    pub hunk_index: usize,
    pub line: &'a Line,
    /// The line's number in the new file (old file for removed lines).
    pub line_no: u32,
    /// The whole line's text.
    pub text: &'a str,
    /// Byte range of the match within `text`.
    pub range: Range<usize>,
}

impl<'a> Hit<'a> {
    /// The matched text.
    pub fn matched(&self) -> &'a str {
        self.text.get(self.range.clone()).unwrap_or("")
    }

    /// A location for this hit in `path`, with a 1-based character column.
    pub fn location(&self, path: &str) -> Location {
        let col = self
            .text
            .get(..self.range.start)
            .map(|s| s.chars().count() as u32 + 1)
            .unwrap_or(1);
        Location {
            path: path.to_string(),
            line: Some(self.line_no),
            end_line: None,
            column: Some(col),
            note: None,
        }
    }
}

/// A detector: one file under `detectors/`, registered in `detectors::registry()`.
///
/// Detectors are sync, pure and deterministic. Filters (suppressions, thresholds) run after
/// detection, not inside detectors.
pub trait Detector: Send + Sync + std::fmt::Debug {
    fn meta(&self) -> &DetectorMeta;

    /// Patterns to compile into the shared automaton.
    fn line_patterns(&self) -> &[LinePattern] {
        &[]
    }

    /// Called once per (pattern, line) for each confirmed match of this detector's patterns.
    fn on_hit(&self, _hit: &Hit<'_>, _file: &FileCtx<'_>, _out: &mut Findings) {}

    /// Called for every hunk after the scan of its file.
    fn check_hunk(&self, _hunk: &HunkCtx<'_>, _out: &mut Findings) {}

    /// Called for every file after its hunks.
    fn check_file(&self, _file: &FileCtx<'_>, _out: &mut Findings) {}

    /// Called once per change, last.
    fn check_change(&self, _change: &ChangeCtx<'_>, _out: &mut Findings) {}
}
