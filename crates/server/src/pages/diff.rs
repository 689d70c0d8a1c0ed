//! The diff view of a case: every file of the parsed change with old and new line numbers, the
//! analyzer's findings placed right under the line they point at, invisible characters split
//! out as markers, and binary files summarised instead of dumped.
//!
//! Built once per request from the stored change text (parsed by `sx_analyzer::diff::parse`,
//! the same parser the analysis used, so line numbers agree with the findings) and the
//! analyzer's report. Rendering is bounded: after [`MAX_ROWS`] diff lines the remaining files
//! are listed without their content.

use std::collections::HashMap;

use sx_analyzer::Finding;
use sx_analyzer::change::{BinaryData, Change, FileChange, FileStatus, LineKind};

use crate::pages::text::{Segment, has_hidden, segments, visible};

/// Most diff lines rendered on one page.
pub const MAX_ROWS: usize = 20_000;

/// A finding as the case page shows it.
#[derive(Clone, Debug)]
pub struct FindingView {
    /// Detector or rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `critical`, `high`, `medium`, `low`, `info`.
    pub severity: &'static str,
    /// `high`, `medium`, `low`.
    pub confidence: &'static str,
    /// `path:line`, made visible.
    pub location: String,
    /// Anchor of the diff row it points at, when shown inline.
    pub anchor: Option<String>,
    /// The evidence excerpt, split for markers.
    pub evidence: Vec<Segment>,
    /// The explanation.
    pub explanation: String,
    /// Link to the detector's documentation.
    pub doc_url: String,
}

impl FindingView {
    fn of(f: &Finding, doc_url: String) -> Self {
        let location = match f.line {
            Some(line) => format!("{}:{line}", visible(&f.path)),
            None => visible(&f.path),
        };
        FindingView {
            id: f.id.clone(),
            title: f.title.clone(),
            severity: f.severity.as_str(),
            confidence: f.confidence.as_str(),
            location,
            anchor: None,
            evidence: segments(&f.evidence),
            explanation: f.explanation.clone(),
            doc_url,
        }
    }
}

/// One row of a file's diff table.
#[derive(Debug)]
pub struct Row {
    /// `hunk`, `add`, `del` or `ctx`.
    pub kind: &'static str,
    /// `+`, `-` or a space.
    pub mark: &'static str,
    /// Old line number.
    pub old: Option<u32>,
    /// New line number.
    pub new: Option<u32>,
    /// Anchor id (`f3-L42`), for lines with a number.
    pub anchor: String,
    /// The text, split for markers.
    pub segs: Vec<Segment>,
    /// A finding points into this line (or its range).
    pub flagged: bool,
    /// Findings shown right under this row.
    pub findings: Vec<FindingView>,
}

/// One file of the change.
#[derive(Debug)]
pub struct FileView {
    /// Anchor id (`f3`).
    pub anchor: String,
    /// The path, split for markers.
    pub path: Vec<Segment>,
    /// The old path of a rename or copy, made visible.
    pub old_path: Option<String>,
    /// `added`, `deleted`, `modified`, `renamed`, `copied`.
    pub status: &'static str,
    /// Mode change, e.g. `100644 → 100755`.
    pub mode: Option<String>,
    /// Added and removed line counts.
    pub added: usize,
    /// Removed lines.
    pub removed: usize,
    /// Invisible characters in this file's lines and path.
    pub hidden: usize,
    /// A binary file's summary (instead of rows).
    pub binary: Option<String>,
    /// Findings about the whole file (or a line not in the diff).
    pub findings: Vec<FindingView>,
    /// Rows; empty when the file is binary, unchanged in content, or past the row limit.
    pub rows: Vec<Row>,
    /// The rows were left out because the page reached [`MAX_ROWS`].
    pub elided: bool,
}

/// The whole diff view.
#[derive(Debug, Default)]
pub struct DiffView {
    /// Files in order.
    pub files: Vec<FileView>,
    /// Findings that point at no file of the diff (commit messages, the change as a whole).
    pub general: Vec<FindingView>,
    /// Rows rendered.
    pub rows: usize,
}

fn status_name(s: FileStatus) -> &'static str {
    match s {
        FileStatus::Added => "added",
        FileStatus::Deleted => "deleted",
        FileStatus::Modified => "modified",
        FileStatus::Renamed => "renamed",
        FileStatus::Copied => "copied",
    }
}

/// What a binary blob looks like, from its first bytes.
fn sniff(data: &[u8]) -> &'static str {
    const MAGIC: [(&[u8], &str); 12] = [
        (b"\x7fELF", "ELF executable or library"),
        (b"MZ", "Windows PE executable"),
        (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
        (b"\xca\xfe\xba\xbe", "Mach-O universal binary or Java class"),
        (b"\0asm", "WebAssembly module"),
        (b"PK\x03\x04", "ZIP archive (also jar, wheel, docx)"),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"\xfd7zXZ\0", "xz-compressed data"),
        (b"BZh", "bzip2-compressed data"),
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"%PDF", "PDF document"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| data.starts_with(m))
        .map_or("unrecognised binary data", |(_, what)| what)
}

fn describe_binary(file: &FileChange) -> Option<String> {
    let patch = file.binary.as_ref()?;
    let content = patch.new_content.as_deref().or(match &patch.forward {
        BinaryData::Literal { data } => Some(data.as_slice()),
        _ => None,
    });
    Some(match (content, &patch.forward) {
        (Some(data), _) => {
            let head: String = data.iter().take(16).map(|b| format!("{b:02x} ")).collect();
            format!(
                "Binary file, {} bytes after the change: {}. First bytes: {}",
                data.len(),
                sniff(data),
                head.trim_end()
            )
        }
        (None, BinaryData::Delta { data }) => format!(
            "Binary file changed by a {}-byte delta against content this instance does not have; \
             the new content could not be reconstructed.",
            data.len()
        ),
        (None, BinaryData::Unreadable { reason }) => {
            format!(
                "Binary file without readable content ({}).",
                visible(reason)
            )
        }
        (None, BinaryData::Literal { .. }) => "Binary file.".to_string(),
    })
}

/// Builds the view. `doc_url` gives a finding's documentation link.
#[must_use]
pub fn build(
    change: &Change,
    findings: &[Finding],
    doc_url: &dyn Fn(&Finding) -> String,
) -> DiffView {
    // Findings by the path they name.
    let mut by_path: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings {
        by_path.entry(f.path.as_str()).or_default().push(f);
    }
    let mut view = DiffView::default();
    for (index, file) in change.files.iter().enumerate() {
        let anchor = format!("f{index}");
        let path = file.path();
        let mut mine: Vec<&Finding> = by_path.remove(path).unwrap_or_default();
        if let Some(old) = file.old_path.as_deref()
            && old != path
            && let Some(more) = by_path.remove(old)
        {
            mine.extend(more);
        }
        let mut fv = FileView {
            path: segments(path),
            old_path: file.old_path.as_deref().filter(|o| *o != path).map(visible),
            status: status_name(file.status),
            mode: match (file.old_mode, file.new_mode) {
                (Some(a), Some(b)) if a != b => Some(format!("{a:o} → {b:o}")),
                (None, Some(b)) if file.made_executable() => Some(format!("new mode {b:o}")),
                _ => None,
            },
            added: 0,
            removed: 0,
            hidden: sx_analyzer::output::hidden_count(path),
            binary: describe_binary(file),
            findings: Vec::new(),
            rows: Vec::new(),
            elided: false,
            anchor,
        };
        let mut placed = vec![false; mine.len()];
        for hunk in &file.hunks {
            for line in &hunk.lines {
                match line.kind {
                    LineKind::Added => fv.added += 1,
                    LineKind::Removed => fv.removed += 1,
                    LineKind::Context => {}
                }
                fv.hidden += sx_analyzer::output::hidden_count(hunk.line_text(line));
            }
        }
        if view.rows + fv.added + fv.removed > MAX_ROWS && !file.hunks.is_empty() {
            fv.elided = true;
        } else {
            for hunk in &file.hunks {
                let header = if hunk.section.is_empty() {
                    format!(
                        "@@ -{},{} +{},{} @@",
                        hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count
                    )
                } else {
                    format!(
                        "@@ -{},{} +{},{} @@ {}",
                        hunk.old_start,
                        hunk.old_count,
                        hunk.new_start,
                        hunk.new_count,
                        hunk.section
                    )
                };
                fv.rows.push(Row {
                    kind: "hunk",
                    mark: "",
                    old: None,
                    new: None,
                    anchor: String::new(),
                    segs: segments(&header),
                    flagged: false,
                    findings: Vec::new(),
                });
                for line in &hunk.lines {
                    let text = hunk.line_text(line);
                    let (kind, mark) = match line.kind {
                        LineKind::Added => ("add", "+"),
                        LineKind::Removed => ("del", "-"),
                        LineKind::Context => ("ctx", " "),
                    };
                    let anchor = match (line.new_line, line.old_line) {
                        (Some(n), _) => format!("{}-L{n}", fv.anchor),
                        (None, Some(o)) => format!("{}-R{o}", fv.anchor),
                        (None, None) => String::new(),
                    };
                    let mut row = Row {
                        kind,
                        mark,
                        old: line.old_line,
                        new: line.new_line,
                        anchor,
                        segs: if has_hidden(text) {
                            segments(text)
                        } else {
                            vec![Segment::Text(text.to_string())]
                        },
                        flagged: false,
                        findings: Vec::new(),
                    };
                    for (i, f) in mine.iter().enumerate() {
                        let Some(start) = f.line else { continue };
                        let end = f.end_line.unwrap_or(start).max(start);
                        if line.new_line.is_some_and(|n| (start..=end).contains(&n)) {
                            row.flagged = true;
                        }
                        if line.new_line == Some(start) && !placed[i] {
                            placed[i] = true;
                            let mut v = FindingView::of(f, doc_url(f));
                            v.anchor = Some(row.anchor.clone());
                            row.findings.push(v);
                        }
                    }
                    fv.rows.push(row);
                }
            }
            // A line number no added or context line carries may name a removed line.
            for (i, f) in mine.iter().enumerate() {
                if placed[i] {
                    continue;
                }
                let Some(start) = f.line else { continue };
                if let Some(row) = fv
                    .rows
                    .iter_mut()
                    .find(|r| r.kind == "del" && r.old == Some(start))
                {
                    placed[i] = true;
                    row.flagged = true;
                    let mut v = FindingView::of(f, doc_url(f));
                    v.anchor = Some(row.anchor.clone());
                    row.findings.push(v);
                }
            }
            view.rows += fv.added + fv.removed;
        }
        for (i, f) in mine.iter().enumerate() {
            if !placed[i] {
                fv.findings.push(FindingView::of(f, doc_url(f)));
            }
        }
        view.files.push(fv);
    }
    let mut rest: Vec<&Finding> = by_path.into_values().flatten().collect();
    rest.sort_by(|a, b| b.score.total_cmp(&a.score));
    view.general = rest
        .into_iter()
        .map(|f| FindingView::of(f, doc_url(f)))
        .collect();
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
diff --git a/lib/a.js b/lib/a.js
--- a/lib/a.js
+++ b/lib/a.js
@@ -1,3 +1,3 @@
 const x = 1;
-const ok = true;
+const ok = \"\u{202e}true\";
 module.exports = x;
diff --git a/bin/tool b/bin/tool
new file mode 100755
index 0000000..1111111
Binary files /dev/null and b/bin/tool differ
";

    fn finding(path: &str, line: Option<u32>) -> Finding {
        Finding {
            id: "unicode-bidi-control".into(),
            title: "Bidi".into(),
            severity: sx_analyzer::Severity::Critical,
            confidence: sx_analyzer::Confidence::High,
            path: path.into(),
            line,
            end_line: None,
            column: None,
            related: Vec::new(),
            evidence: "\u{202e}true".into(),
            explanation: "hidden".into(),
            tags: Vec::new(),
            languages: Vec::new(),
            doc: "docs/detectors/unicode-bidi-control.md".into(),
            fingerprint: String::new(),
            score: 1.0,
        }
    }

    #[test]
    fn findings_sit_under_their_line_and_hidden_characters_are_marked() {
        let change =
            sx_analyzer::diff::parse(DIFF.as_bytes(), &sx_analyzer::diff::Limits::default())
                .unwrap();
        let findings = vec![
            finding("lib/a.js", Some(2)),
            finding("bin/tool", None),
            finding("(commit message)", None),
        ];
        let view = build(&change, &findings, &|f| format!("/detectors/{}", f.id));
        let a = &view.files[0];
        let row = a.rows.iter().find(|r| r.new == Some(2)).unwrap();
        assert_eq!(row.kind, "add");
        assert!(row.flagged);
        assert_eq!(row.findings.len(), 1);
        assert_eq!(row.findings[0].anchor.as_deref(), Some("f0-L2"));
        assert!(row.segs.iter().any(|s| s.hidden() == Some("U+202E")));
        assert_eq!(a.hidden, 1);
        let tool = &view.files[1];
        assert!(tool.binary.is_some(), "{tool:?}");
        assert!(tool.rows.is_empty());
        assert_eq!(tool.findings.len(), 1);
        assert_eq!(tool.mode.as_deref(), Some("new mode 100755"));
        assert_eq!(view.general.len(), 1);
    }

    #[test]
    fn binary_content_is_sniffed() {
        assert_eq!(sniff(b"\x7fELF\x02"), "ELF executable or library");
        assert_eq!(sniff(b"hello"), "unrecognised binary data");
    }
}
