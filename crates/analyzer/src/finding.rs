//! Findings: what a detector reports, with severity apart from confidence, a primary span,
//! related spans, the evidence excerpt and a plain-language explanation.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How bad it is if the finding is real.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure the detector is that the pattern means what it says.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub const ALL: [Confidence; 3] = [Confidence::Low, Confidence::Medium, Confidence::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Attack vectors: the subgroups experts join and the tags routing uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Vector {
    /// Encoded or encrypted payloads reaching an interpreter.
    Payload,
    /// Obfuscated or minified code in source.
    Obfuscation,
    /// Install and build hooks that fetch or run things.
    InstallHook,
    /// Secrets, environment or files sent out over the network.
    Exfiltration,
    /// CI workflow risks.
    Ci,
    /// Dependency and lockfile changes.
    Dependency,
    /// Binary artifacts and blobs.
    Binary,
    /// Unicode display tricks.
    Unicode,
    /// Security controls turned off.
    Weakening,
    /// Sabotage and protestware.
    Sabotage,
    /// Hiding a change from review.
    ReviewEvasion,
    /// Who made the change and how they came to be trusted.
    Contributor,
}

impl Vector {
    pub const ALL: [Vector; 12] = [
        Vector::Payload,
        Vector::Obfuscation,
        Vector::InstallHook,
        Vector::Exfiltration,
        Vector::Ci,
        Vector::Dependency,
        Vector::Binary,
        Vector::Unicode,
        Vector::Weakening,
        Vector::Sabotage,
        Vector::ReviewEvasion,
        Vector::Contributor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Vector::Payload => "payload",
            Vector::Obfuscation => "obfuscation",
            Vector::InstallHook => "install-hook",
            Vector::Exfiltration => "exfiltration",
            Vector::Ci => "ci",
            Vector::Dependency => "dependency",
            Vector::Binary => "binary",
            Vector::Unicode => "unicode",
            Vector::Weakening => "weakening",
            Vector::Sabotage => "sabotage",
            Vector::ReviewEvasion => "review-evasion",
            Vector::Contributor => "contributor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Vector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in the change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// Path of the file (empty for change-level findings such as a commit message).
    pub path: String,
    /// 1-based line in the new file (old file for removed lines), when it is about a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// 1-based column (in characters) where the evidence starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Optional note on what this place is ("decode", "sent here").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    pub fn line(path: impl Into<String>, line: u32) -> Self {
        Self {
            path: path.into(),
            line: Some(line),
            ..Self::default()
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// One reported observation. Serialized flat so that `path` and `line` sit at the top level
/// of each JSON finding (schema v1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// Stable kebab-case detector or rule id.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Related places (the decode of a decode→exec chain, the workflow that runs a script).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Location>,
    /// The excerpt that triggered the finding, exactly as in the change (not yet escaped:
    /// renderers make invisible characters visible).
    pub evidence: String,
    /// One paragraph a maintainer understands: what this is, why it matters.
    pub explanation: String,
    /// Attack vectors.
    pub tags: Vec<Vector>,
    /// Languages the finding is about (empty when any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The detector's documentation page.
    pub doc: String,
    /// Content-bound fingerprint: sha256 over detector id, path and the evidence text, so a
    /// suppression written for this exact content does not hide a later, different payload.
    pub fingerprint: String,
    /// This finding's contribution to the risk score (filled by the scorer).
    #[serde(default)]
    pub score: f64,
}

/// Where detector docs live, relative to the repository root.
pub const DOC_BASE: &str = "docs/detectors/";

/// Compute a content-bound fingerprint.
pub fn fingerprint(id: &str, path: &str, evidence: &str) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    // Whitespace-insensitive so re-indenting does not invalidate a suppression, while any
    // change of content does.
    for tok in evidence.split_whitespace() {
        h.update(tok.as_bytes());
        h.update([b' ']);
    }
    hex::encode(h.finalize())
}

/// Builds a [`Finding`]; start from a detector's metadata with [`FindingBuilder::new`].
#[derive(Debug, Clone)]
pub struct FindingBuilder {
    f: Finding,
}

impl FindingBuilder {
    /// Start a finding from the detector metadata and the primary location.
    pub fn new(meta: &crate::detector::DetectorMeta, at: Location) -> Self {
        Self {
            f: Finding {
                id: meta.id.to_string(),
                title: meta.title.to_string(),
                severity: meta.severity,
                confidence: meta.confidence,
                path: at.path,
                line: at.line,
                end_line: at.end_line,
                column: at.column,
                related: Vec::new(),
                evidence: String::new(),
                explanation: meta.explanation.to_string(),
                tags: meta.vectors.to_vec(),
                languages: meta.languages.iter().map(|l| l.to_string()).collect(),
                doc: meta.doc_path(),
                fingerprint: String::new(),
                score: 0.0,
            },
        }
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.f.title = title.into();
        self
    }

    pub fn severity(mut self, s: Severity) -> Self {
        self.f.severity = s;
        self
    }

    pub fn confidence(mut self, c: Confidence) -> Self {
        self.f.confidence = c;
        self
    }

    /// The evidence excerpt. Long evidence is cut at 400 characters (on a char boundary) so a
    /// 100 MB line does not end up in every report.
    pub fn evidence(mut self, e: impl AsRef<str>) -> Self {
        self.f.evidence = excerpt(e.as_ref(), 400);
        self
    }

    pub fn explanation(mut self, e: impl Into<String>) -> Self {
        self.f.explanation = e.into();
        self
    }

    pub fn related(mut self, l: Location) -> Self {
        self.f.related.push(l);
        self
    }

    pub fn end_line(mut self, l: u32) -> Self {
        self.f.end_line = Some(l);
        self
    }

    pub fn column(mut self, c: u32) -> Self {
        self.f.column = Some(c);
        self
    }

    pub fn tag(mut self, v: Vector) -> Self {
        if !self.f.tags.contains(&v) {
            self.f.tags.push(v);
        }
        self
    }

    pub fn language(mut self, l: impl Into<String>) -> Self {
        let l = l.into();
        if !self.f.languages.contains(&l) {
            self.f.languages.push(l);
        }
        self
    }

    pub fn build(mut self) -> Finding {
        self.f.fingerprint = fingerprint(&self.f.id, &self.f.path, &self.f.evidence);
        self.f
    }
}

/// Cut `s` to at most `max` characters, marking the cut with `…`.
pub fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => {
            let mut out = s[..i].to_string();
            out.push('…');
            out
        }
    }
}

/// Where findings go; detectors push into it.
#[derive(Debug, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, f: Finding) {
        self.items.push(f);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Finding> {
        self.items.iter()
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// A static or owned string, for metadata that comes from Rust constants or from rule packs.
pub type Text = Cow<'static, str>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_reindentation_but_not_content() {
        let a = fingerprint("x", "p", "  eval(atob('aaa'))");
        let b = fingerprint("x", "p", "eval(atob('aaa'))\t");
        let c = fingerprint("x", "p", "eval(atob('aab'))");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn excerpts_cut_on_char_boundaries() {
        assert_eq!(excerpt("ééé", 2), "éé…");
        assert_eq!(excerpt("ab", 2), "ab");
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for v in Vector::ALL {
            assert_eq!(Vector::parse(v.as_str()), Some(v));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for c in Confidence::ALL {
            assert_eq!(Confidence::parse(c.as_str()), Some(c));
        }
    }
}
