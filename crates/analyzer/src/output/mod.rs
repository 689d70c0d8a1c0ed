//! Report renderers: turn a [`Report`] into text for a person, JSON for machines, SARIF 2.1.0
//! for code-scanning dashboards, or Markdown to paste as a pull-request comment.
//!
//! **Model.** Renderers are pure functions of the report and a few [`RenderOptions`]; they
//! never look at the environment (the binary decides whether to colour). Everything in a
//! report that came from the submission — paths, evidence, notes, the title — is hostile, so
//! each renderer shows it through [`visible`] (invisible, bidi and control characters become
//! `<U+XXXX>` markers) and then escapes it for its format: no ANSI escape from a file name can
//! reach the terminal, no Markdown or HTML from evidence can reach a PR comment, and SARIF URIs
//! are percent-encoded.

pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;
mod visible;

use std::fmt;

pub use visible::{hidden_count, is_hidden, visible};

use crate::report::Report;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Markdown,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Text, Format::Json, Format::Sarif, Format::Markdown];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the renderers may vary on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Use ANSI colours (text only). The caller decides (TTY, `--color`, `NO_COLOR`).
    pub color: bool,
    /// A title for the change (e.g. the PR title), shown in text and Markdown headers.
    /// Attacker-controlled: rendered escaped.
    pub title: Option<String>,
    /// Base URL that detector doc paths (`docs/detectors/<id>.md`) are appended to for links
    /// (SARIF `helpUri`, Markdown links). Should end with `/`.
    pub doc_base_url: String,
    /// Most findings listed in full by the Markdown renderer (a PR comment has a size limit).
    pub markdown_max_findings: usize,
}

/// The default doc base: the repository's own tree, from the workspace metadata.
pub const DEFAULT_DOC_BASE_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/");

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            color: false,
            title: None,
            doc_base_url: DEFAULT_DOC_BASE_URL.to_string(),
            markdown_max_findings: 20,
        }
    }
}

impl RenderOptions {
    /// The absolute link of a finding's doc page (`doc` is a repository-relative path).
    pub fn doc_url(&self, doc: &str) -> String {
        if doc.contains("://") {
            return doc.to_string();
        }
        let base = self.doc_base_url.trim_end_matches('/');
        format!("{base}/{}", doc.trim_start_matches('/'))
    }
}

/// Render `report` in `format`. Output always ends with a newline.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Text => text::render(report, opts),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report, opts),
        Format::Markdown => markdown::render(report, opts),
    }
}

/// `1 critical, 2 high, …` over the findings, highest severity first (empty when none).
pub(crate) fn severity_counts(report: &Report) -> String {
    use crate::finding::Severity;
    let mut parts = Vec::new();
    for s in Severity::ALL.iter().rev() {
        let n = report.findings.iter().filter(|f| f.severity == *s).count();
        if n > 0 {
            parts.push(format!("{n} {s}"));
        }
    }
    parts.join(", ")
}

/// `3 files, +12 −4 lines, 1 binary, 2 commits`.
pub(crate) fn size_line(report: &Report) -> String {
    let s = &report.summary;
    let mut out = format!(
        "{} file{}, +{} -{} lines",
        s.files,
        plural(s.files),
        s.added_lines,
        s.removed_lines
    );
    if s.binary_files > 0 {
        out.push_str(&format!(", {} binary", s.binary_files));
    }
    if s.commits > 0 {
        out.push_str(&format!(", {} commit{}", s.commits, plural(s.commits)));
    }
    out
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Prose from a detector or rule (explanations, which may be wrapped TOML strings): runs of
/// whitespace, including line breaks, become one space; anything hidden is then made visible.
pub(crate) fn prose(s: &str) -> String {
    let words: Vec<std::borrow::Cow<'_, str>> = s.split_whitespace().map(visible).collect();
    words.join(" ")
}

/// The probability as a percentage with one decimal (`97.3%`). The extremes print as `>99.9%`
/// and `<0.1%`: a model never knows for certain, and "100.0%" would read as if it did.
pub(crate) fn percent(p: f64) -> String {
    let pc = (p * 100.0).clamp(0.0, 100.0);
    if pc > 99.95 {
        ">99.9%".to_string()
    } else if pc < 0.05 {
        "<0.1%".to_string()
    } else {
        format!("{pc:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_their_names() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(Format::parse("yaml"), None);
    }

    #[test]
    fn probabilities_never_print_as_certain() {
        assert_eq!(percent(0.999993), ">99.9%");
        assert_eq!(percent(0.973), "97.3%");
        assert_eq!(percent(0.0001), "<0.1%");
    }

    #[test]
    fn doc_urls_join_base_and_relative_path_with_one_slash() {
        let o = RenderOptions {
            doc_base_url: "https://x.test/tree/".into(),
            ..RenderOptions::default()
        };
        assert_eq!(
            o.doc_url("docs/detectors/a.md"),
            "https://x.test/tree/docs/detectors/a.md"
        );
        assert_eq!(o.doc_url("https://y.test/a"), "https://y.test/a");
    }
}
