//! Text for people: a header with the risk band, probability and a summary line, then the
//! findings grouped by file (riskiest file first, lines in order within a file), each with its
//! line and column, severity, title, the evidence excerpt with hidden characters shown as
//! `<U+XXXX>`, the explanation, related places, the doc link and the fingerprint that a
//! suppression needs. ANSI colours only when [`RenderOptions::color`] says so; hostile text
//! can never emit its own escapes because ESC itself is shown as `<U+001B>`.

use std::fmt::Write as _;

use super::{
    RenderOptions, is_hidden, percent, plural, prose, severity_counts, size_line, visible,
};
use crate::finding::{Finding, Location, Severity};
use crate::report::Report;
use crate::score::Band;

/// Width explanations are wrapped to.
const WRAP: usize = 96;
const INDENT: &str = "        ";

#[derive(Clone, Copy)]
enum Style {
    Bold,
    Dim,
    Red,
    BoldRed,
    Yellow,
    BoldYellow,
    BoldGreen,
    Cyan,
    Magenta,
    Underline,
    Reverse,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Red => "31",
            Style::BoldRed => "1;31",
            Style::Yellow => "33",
            Style::BoldYellow => "1;33",
            Style::BoldGreen => "1;32",
            Style::Cyan => "36",
            Style::Magenta => "1;35",
            Style::Underline => "1;4",
            Style::Reverse => "7",
        }
    }
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, s: &str) -> String {
        if self.color {
            format!("\x1b[{}m{s}\x1b[0m", style.code())
        } else {
            s.to_string()
        }
    }

    /// Hostile text made visible; with colour, the markers stand out in reverse video.
    fn hostile(&self, s: &str) -> String {
        if !self.color {
            return visible(s).into_owned();
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if is_hidden(c) {
                out.push_str(&self.paint(Style::Reverse, &format!("<U+{:04X}>", u32::from(c))));
            } else {
                out.push(c);
            }
        }
        out
    }
}

fn band_style(b: Band) -> Style {
    match b {
        Band::High => Style::BoldRed,
        Band::Review => Style::BoldYellow,
        Band::Low => Style::BoldGreen,
    }
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::Magenta,
        Severity::High => Style::Red,
        Severity::Medium => Style::Yellow,
        Severity::Low => Style::Cyan,
        Severity::Info => Style::Dim,
    }
}

/// Render the report as text.
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let p = Painter { color: opts.color };
    let mut out = String::new();
    header(&mut out, report, opts, &p);
    for (path, findings) in group_by_file(&report.findings) {
        out.push('\n');
        let name = if path.is_empty() {
            "(the change as a whole: commits, title, context)".to_string()
        } else {
            p.hostile(path)
        };
        let _ = writeln!(out, "{}", p.paint(Style::Underline, &name));
        for f in findings {
            finding(&mut out, f, opts, &p);
        }
    }
    footer(&mut out, report, &p);
    out
}

fn header(out: &mut String, report: &Report, opts: &RenderOptions, p: &Painter) {
    let band = report.risk.band;
    let _ = write!(
        out,
        "S-Express risk: {} (probability {})",
        p.paint(band_style(band), &band.as_str().to_uppercase()),
        percent(report.risk.probability)
    );
    if let Some(title) = &opts.title {
        let _ = write!(out, " — {}", p.hostile(title));
    }
    out.push('\n');
    let n = report.findings.len();
    let counts = severity_counts(report);
    if n == 0 {
        let _ = writeln!(out, "No findings in {}.", size_line(report));
    } else {
        let _ = writeln!(
            out,
            "{n} finding{} ({counts}) in {}.",
            plural(n),
            size_line(report)
        );
    }
    if let Some(top) = report.risk.contributions.first().filter(|c| c.value > 0.0) {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                Style::Dim,
                &format!(
                    "Largest contribution: {} (+{:.2} logit)",
                    top.detector, top.value
                )
            )
        );
    }
}

/// Findings grouped by path, files in order of their riskiest finding (the report is sorted
/// by score), findings within a file by line.
fn group_by_file(findings: &[Finding]) -> Vec<(&str, Vec<&Finding>)> {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in findings {
        match groups.iter_mut().find(|(p, _)| *p == f.path) {
            Some((_, v)) => v.push(f),
            None => groups.push((&f.path, vec![f])),
        }
    }
    for (_, v) in &mut groups {
        // Stable: equal lines keep score order.
        v.sort_by_key(|f| (f.line.unwrap_or(0), f.column.unwrap_or(0)));
    }
    groups
}

fn position(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => l.to_string(),
        _ => "-".to_string(),
    }
}

fn finding(out: &mut String, f: &Finding, opts: &RenderOptions, p: &Painter) {
    let pos = position(f.line, f.column);
    let _ = writeln!(
        out,
        "  {:<7} {} {}  {}",
        pos,
        p.paint(
            severity_style(f.severity),
            &format!("{:<8}", f.severity.as_str())
        ),
        p.paint(Style::Bold, &visible(&f.title)),
        p.paint(
            Style::Dim,
            &format!("[{}, confidence {}]", visible(&f.id), f.confidence)
        ),
    );
    if !f.evidence.is_empty() {
        let _ = writeln!(
            out,
            "{INDENT}{} {}",
            p.paint(Style::Dim, "|"),
            p.hostile(&f.evidence)
        );
        let hidden = super::hidden_count(&f.evidence);
        if hidden > 0 {
            let _ = writeln!(
                out,
                "{INDENT}{}",
                p.paint(
                    Style::Yellow,
                    &format!(
                        "({hidden} invisible or control character{} shown as <U+XXXX>)",
                        plural(hidden)
                    )
                )
            );
        }
    }
    for line in wrap(&prose(&f.explanation), WRAP - INDENT.len()) {
        let _ = writeln!(out, "{INDENT}{line}");
    }
    for r in &f.related {
        let _ = writeln!(
            out,
            "{INDENT}{} {}",
            p.paint(Style::Dim, "related:"),
            related(r, p)
        );
    }
    if !f.tags.is_empty() {
        let tags: Vec<&str> = f.tags.iter().map(|t| t.as_str()).collect();
        let _ = writeln!(
            out,
            "{INDENT}{} {}",
            p.paint(Style::Dim, "tags:"),
            tags.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "{INDENT}{} {}",
        p.paint(Style::Dim, "docs:"),
        visible(&opts.doc_url(&f.doc))
    );
    let _ = writeln!(
        out,
        "{INDENT}{} {}",
        p.paint(Style::Dim, "fingerprint:"),
        visible(&f.fingerprint)
    );
}

fn related(r: &Location, p: &Painter) -> String {
    let mut s = if r.path.is_empty() {
        "(change)".to_string()
    } else {
        p.hostile(&r.path)
    };
    if let Some(l) = r.line {
        let _ = write!(s, ":{l}");
        if let Some(e) = r.end_line.filter(|e| *e != l) {
            let _ = write!(s, "-{e}");
        }
    }
    if let Some(note) = &r.note {
        let _ = write!(s, " ({})", p.hostile(note));
    }
    s
}

fn footer(out: &mut String, report: &Report, p: &Painter) {
    if !report.suppressed.is_empty() {
        let n = report.suppressed.len();
        let _ = writeln!(
            out,
            "\n{n} finding{} suppressed by .s-express.toml:",
            plural(n)
        );
        for s in &report.suppressed {
            let at = match s.line {
                Some(l) => format!("{}:{l}", p.hostile(&s.path)),
                None => p.hostile(&s.path),
            };
            let _ = writeln!(out, "  {} {at} — {}", visible(&s.id), p.hostile(&s.reason));
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nParser notes (tolerated, but worth knowing):");
        for n in &report.notes {
            let path = n
                .path
                .as_deref()
                .map(|p| format!(" {}", visible(p)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  input line {}{path}: {}",
                n.input_line,
                p.hostile(&n.message)
            );
        }
    }
}

/// Greedy word wrap on character counts.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    for word in s.split_whitespace() {
        let wl = word.chars().count();
        if cur_len > 0 && cur_len + 1 + wl > width {
            lines.push(std::mem::take(&mut cur));
            cur_len = 0;
        }
        if cur_len > 0 {
            cur.push(' ');
            cur_len += 1;
        }
        cur.push_str(word);
        cur_len += wl;
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole_and_lines_short() {
        let lines = wrap("aaa bbb ccc ddd", 7);
        assert_eq!(lines, vec!["aaa bbb", "ccc ddd"]);
        assert_eq!(wrap("", 7), Vec::<String>::new());
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            vec!["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn colour_markers_are_reversed_only_when_colour_is_on() {
        let plain = Painter { color: false };
        assert_eq!(plain.hostile("a\u{202e}b"), "a<U+202E>b");
        let col = Painter { color: true };
        assert_eq!(col.hostile("a\u{1b}b"), "a\x1b[7m<U+001B>\x1b[0mb");
    }
}
