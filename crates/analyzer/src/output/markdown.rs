//! Markdown ready to paste as a pull-request comment (GitHub-flavoured; also fine on GitLab
//! and Forgejo): a risk badge line, a table of the top findings, then a collapsed details block
//! per finding with the evidence, explanation, related places, doc link and fingerprint.
//!
//! **Escaping.** Everything from the submission (paths, evidence, notes, the title) is shown
//! only inside code spans or fenced code blocks whose backtick fence is longer than any run of
//! backticks in the content, after [`visible`] turned hidden characters into `<U+XXXX>`
//! markers. Inside code, Markdown, HTML and `@mentions` are inert, so a file named
//! `<img src=x onerror=…>` or `@org/team` shows as text and pings nobody. Table cells also
//! escape `|`. Text inside the HTML `<summary>` element is entity-escaped and wrapped in
//! `<code>`. Detector prose is backslash- and entity-escaped.

use std::fmt::Write as _;

use super::{RenderOptions, percent, plural, prose, severity_counts, size_line, visible};
use crate::finding::{Finding, Location, Severity};
use crate::report::Report;
use crate::score::Band;

/// First line of every comment, so a bot can find and update its own comment.
pub const MARKER: &str = "<!-- s-express:report -->";

fn badge(b: Band) -> &'static str {
    match b {
        Band::High => "🔴",
        Band::Review => "🟠",
        Band::Low => "🟢",
    }
}

fn severity_icon(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🟣",
        Severity::High => "🔴",
        Severity::Medium => "🟠",
        Severity::Low => "🟡",
        Severity::Info => "⚪",
    }
}

/// Render the report as Markdown.
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKER}");
    let band = report.risk.band;
    let _ = writeln!(
        out,
        "### {} S-Express risk: **{}** ({} probability)\n",
        badge(band),
        band.as_str().to_uppercase(),
        percent(report.risk.probability)
    );
    if let Some(title) = &opts.title {
        let _ = writeln!(out, "**Change:** {}\n", code_span(title, false));
    }
    let n = report.findings.len();
    if n == 0 {
        let _ = writeln!(out, "No findings in {}.", size_line(report));
    } else {
        let _ = writeln!(
            out,
            "{n} finding{} ({}) in {}.",
            plural(n),
            severity_counts(report),
            size_line(report)
        );
    }

    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .take(opts.markdown_max_findings)
        .collect();
    if !shown.is_empty() {
        out.push_str("\n| Severity | Finding | Where | Confidence |\n|---|---|---|---|\n");
        for f in &shown {
            let _ = writeln!(
                out,
                "| {} {} | {} {} | {} | {} |",
                severity_icon(f.severity),
                f.severity,
                escape_text(&f.title),
                code_span(&f.id, true),
                code_span(&where_(&f.path, f.line, f.column), true),
                f.confidence
            );
        }
        for f in &shown {
            details(&mut out, f, opts);
        }
    }
    if n > shown.len() {
        let rest = n - shown.len();
        let _ = writeln!(
            out,
            "\n… and {rest} more finding{} with lower scores; run `s-express analyze` for the full report.",
            plural(rest)
        );
    }
    if !report.suppressed.is_empty() {
        let k = report.suppressed.len();
        let _ = writeln!(
            out,
            "\n<details>\n<summary>{k} finding{} suppressed by <code>.s-express.toml</code></summary>\n",
            plural(k)
        );
        for s in &report.suppressed {
            let _ = writeln!(
                out,
                "- {} at {}: {}",
                code_span(&s.id, false),
                code_span(&where_(&s.path, s.line, None), false),
                code_span(&s.reason, false)
            );
        }
        out.push_str("\n</details>\n");
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\n<details>\n<summary>Parser notes</summary>\n");
        for note in &report.notes {
            let _ = writeln!(
                out,
                "- input line {}: {}",
                note.input_line,
                code_span(&note.message, false)
            );
        }
        out.push_str("\n</details>\n");
    }
    let _ = writeln!(
        out,
        "\n<sub>{} {} · model v{} · a first automated read, not a verdict: an expert assessment follows.</sub>",
        escape_html(&report.analyzer.name),
        escape_html(&report.analyzer.version),
        report.analyzer.model_version
    );
    out
}

fn details(out: &mut String, f: &Finding, opts: &RenderOptions) {
    let _ = writeln!(
        out,
        "\n<details>\n<summary>{} {} · {} · <code>{}</code></summary>\n",
        severity_icon(f.severity),
        f.severity,
        escape_html(&prose(&f.title)),
        escape_html(&visible(&where_(&f.path, f.line, f.column)))
    );
    if !f.evidence.is_empty() {
        out.push_str("**Evidence**\n\n");
        out.push_str(&code_block(&f.evidence));
        let hidden = super::hidden_count(&f.evidence);
        if hidden > 0 {
            let _ = writeln!(
                out,
                "\n**Note:** {hidden} invisible or control character{} shown as `<U+XXXX>`.",
                plural(hidden)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}\n", escape_text(&f.explanation));
    if !f.related.is_empty() {
        out.push_str("**Related**\n\n");
        for r in &f.related {
            let _ = writeln!(out, "- {}", related(r));
        }
        out.push('\n');
    }
    let tags: Vec<&str> = f.tags.iter().map(|t| t.as_str()).collect();
    let _ = writeln!(
        out,
        "Tags: {} · Confidence: {} · Score: {:.2} · [Detector docs]({})\n",
        if tags.is_empty() {
            "none".to_string()
        } else {
            tags.join(", ")
        },
        f.confidence,
        f.score,
        link_url(&opts.doc_url(&f.doc))
    );
    let _ = writeln!(
        out,
        "Fingerprint (for a suppression): {}\n",
        code_span(&f.fingerprint, false)
    );
    out.push_str("</details>\n");
}

fn related(r: &Location) -> String {
    let mut s = code_span(&where_(&r.path, r.line, r.column), false);
    if let Some(note) = &r.note {
        s.push_str(" — ");
        s.push_str(&code_span(note, false));
    }
    s
}

/// `path:line:column`, or a placeholder for change-level findings.
fn where_(path: &str, line: Option<u32>, column: Option<u32>) -> String {
    let mut s = if path.is_empty() {
        "(change)".to_string()
    } else {
        path.to_string()
    };
    if let Some(l) = line {
        let _ = write!(s, ":{l}");
        if let Some(c) = column {
            let _ = write!(s, ":{c}");
        }
    }
    s
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == '`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// A code span holding `s` verbatim (after [`visible`]). In a table cell `|` is escaped too
/// (GFM splits cells on `|` even inside code spans).
pub fn code_span(s: &str, in_table: bool) -> String {
    let v = visible(s);
    let fence = "`".repeat(longest_backtick_run(&v) + 1);
    let body = if in_table {
        v.replace('|', "\\|")
    } else {
        v.into_owned()
    };
    // One space on each side is stripped by CommonMark when both are present, so content
    // that starts or ends with a backtick or a space survives unchanged.
    format!("{fence} {body} {fence}")
}

/// A fenced code block holding `s` (after [`visible`], so it is one line); the fence is
/// longer than any backtick run inside.
pub fn code_block(s: &str) -> String {
    let v = visible(s);
    let fence = "`".repeat((longest_backtick_run(&v) + 1).max(3));
    format!("{fence}text\n{v}\n{fence}\n")
}

/// Entity-escape for HTML contexts.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '|' => out.push_str("&#124;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escape prose for Markdown text (also safe in a table cell): whitespace collapsed, hidden
/// characters made visible, HTML specials as entities, Markdown punctuation backslashed.
pub fn escape_text(s: &str) -> String {
    let p = prose(s);
    let mut out = String::with_capacity(p.len() + 8);
    for c in p.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '^' | '=' | ':' | '@' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A link destination: percent-encode what could end or break it.
fn link_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#@!$&*+,;=%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_outgrow_backticks_in_the_content() {
        assert_eq!(code_span("a", false), "` a `");
        assert_eq!(code_span("a``b", false), "``` a``b ```");
        assert_eq!(code_span("x|y", true), "` x\\|y `");
    }

    #[test]
    fn code_blocks_cannot_be_closed_by_their_content() {
        let b = code_block("```\u{202e}");
        assert!(b.starts_with("````text\n```<U+202E>\n````\n"), "{b}");
    }

    #[test]
    fn prose_cannot_inject_markup() {
        assert_eq!(
            escape_text("<b>*x*</b>\n[a](b)"),
            "&lt;b&gt;\\*x\\*&lt;/b&gt; \\[a\\]\\(b\\)"
        );
        assert_eq!(
            escape_html("<script>\"'&|"),
            "&lt;script&gt;&quot;&#39;&amp;&#124;"
        );
        assert_eq!(link_url("https://x/a b)(.md"), "https://x/a%20b%29%28.md");
    }
}
