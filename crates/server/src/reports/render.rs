//! A report as Markdown, JSON and HTML, with its charts.

use std::fmt::Write as _;

use askama::Template;

use super::charts::{self, Chart};
use super::model::{DetectorRow, Report, Timing, Trend};

/// The report's charts: verdict mix, attack vectors and ecosystems (this period against the
/// previous one).
///
/// # Errors
/// When a chart fails to draw.
pub fn charts(report: &Report) -> Result<Vec<Chart>, String> {
    let trend_rows = |t: &[Trend]| -> Vec<(String, u64, Option<u64>)> {
        t.iter()
            .take(12)
            .map(|t| (t.tag.clone(), t.cases, Some(t.previous)))
            .collect()
    };
    let verdicts: Vec<(String, u64, Option<u64>)> = report
        .verdicts
        .iter()
        .map(|s| (s.key.clone(), s.cases, None))
        .collect();
    Ok(vec![
        Chart {
            name: "verdicts",
            title: "Verdict mix".into(),
            svg: charts::bars("Verdict mix", &verdicts)?,
        },
        Chart {
            name: "vectors",
            title: "Attack vectors (bar: this period; line: previous)".into(),
            svg: charts::bars("Attack vectors", &trend_rows(&report.vectors))?,
        },
        Chart {
            name: "ecosystems",
            title: "Ecosystems (bar: this period; line: previous)".into(),
            svg: charts::bars("Ecosystems", &trend_rows(&report.ecosystems))?,
        },
    ])
}

/// Escapes text for Markdown (inline): punctuation that formats, and line breaks.
#[must_use]
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' | '>' | '-' | '.' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A URL inside Markdown link parentheses: only characters that cannot close it.
fn md_url(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            ' ' => "%20".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// `12.5 %` or `–`.
#[must_use]
pub fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "–".to_string(), |p| format!("{p:.1} %"))
}

/// What the detector tables' precision means (under each table).
pub const PRECISION_NOTE: &str = "Precision: of the cases an expert settled (confirmed: malicious or suspicious; refuted: benign), the share that confirmed the detector. \"small sample\": fewer than 30 settled cases, so the figure is mostly noise.";

/// ` (small sample)` after a precision that rests on too few settled cases.
#[must_use]
pub fn small_sample_note(d: &DetectorRow) -> &'static str {
    if d.small_sample && d.precision_percent.is_some() {
        " (small sample)"
    } else {
        ""
    }
}

/// `+12.5 %`, `-3.0 %`, `new` (nothing before) or `–`.
#[must_use]
pub fn change(t: &Trend) -> String {
    match t.change_percent {
        Some(c) => format!("{c:+.1} %"),
        None if t.cases > 0 => "new".into(),
        None => "–".into(),
    }
}

/// A duration in seconds as `42 s`, `3.5 min`, `2.0 h` or `1.5 d`.
#[must_use]
pub fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".into(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) if s < 7_200.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.1} h", s / 3_600.0),
        Some(s) => format!("{:.1} d", s / 86_400.0),
    }
}

fn timing_row(out: &mut String, what: &str, t: &Timing) {
    let _ = writeln!(
        out,
        "| {what} | {} | {} | {} | {} | {} |",
        t.cases,
        duration(t.median_seconds),
        duration(t.p90_seconds),
        pct(t.within_24h_percent),
        t.missing
    );
}

/// The report as Markdown; charts are images named `{chart_prefix}{name}.svg` beside it.
#[must_use]
pub fn markdown(report: &Report, chart_prefix: &str) -> String {
    let mut o = String::new();
    let v = &report.volumes;
    let _ = writeln!(
        o,
        "# S-Express trend report: {}\n",
        md_escape(&report.title)
    );
    let _ = writeln!(
        o,
        "Published cases only, {} to {} (UTC, end exclusive); changes compare with the period from {}. Generated {}.\n",
        report.starts_on,
        report.ends_before,
        report.previous_starts_on,
        report.generated_at.date()
    );
    let _ = writeln!(o, "## Volumes\n");
    let _ = writeln!(
        o,
        "| received | first assessed | published | published, previous period | change |"
    );
    let _ = writeln!(o, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {} |\n",
        v.received,
        v.assessed,
        v.published,
        v.previous_published,
        v.published_change_percent
            .map_or_else(|| "–".into(), |c| format!("{c:+.1} %"))
    );
    let _ = writeln!(o, "## Verdict mix\n");
    let _ = writeln!(o, "![Verdict mix]({chart_prefix}verdicts.svg)\n");
    let _ = writeln!(o, "| verdict | cases | share |\n|---|---:|---:|");
    for s in &report.verdicts {
        let _ = writeln!(
            o,
            "| {} | {} | {:.1} % |",
            md_escape(&s.key),
            s.cases,
            s.percent
        );
    }
    for (title, chart, trends) in [
        ("Attack vectors", "vectors", &report.vectors),
        ("Ecosystems", "ecosystems", &report.ecosystems),
    ] {
        let _ = writeln!(o, "\n## {title}\n");
        let _ = writeln!(o, "![{title}]({chart_prefix}{chart}.svg)\n");
        let _ = writeln!(
            o,
            "| tag | cases | previous period | change |\n|---|---:|---:|---:|"
        );
        for t in trends {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md_escape(&t.tag),
                t.cases,
                t.previous,
                change(t)
            );
        }
    }
    let _ = writeln!(o, "\n## Time to first assessment\n");
    let _ = writeln!(
        o,
        "| step | cases | median | 90th percentile | within 24 h | never |\n|---|---:|---:|---:|---:|---:|"
    );
    timing_row(&mut o, "automated report", &report.time_to_automated);
    timing_row(&mut o, "human assessment", &report.time_to_human);
    let a = &report.agreement;
    let _ = writeln!(o, "\n## Maintainer suspicion against expert verdict\n");
    let _ = writeln!(
        o,
        "Agreement {} ({} agreeing, {} disagreeing cases; suspicion 3 and inconclusive or missing verdicts are not counted).\n",
        pct(a.agreement_percent),
        a.agreeing,
        a.disagreeing
    );
    let _ = writeln!(
        o,
        "| suspicion | benign | inconclusive | suspicious | malicious | no verdict |\n|---:|---:|---:|---:|---:|---:|"
    );
    for r in &a.rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            r.suspicion, r.benign, r.inconclusive, r.suspicious, r.malicious, r.none
        );
    }
    let _ = writeln!(o, "\n## Detectors\n");
    let _ = writeln!(
        o,
        "| detector | cases | confirmed | refuted | precision |\n|---|---:|---:|---:|---:|"
    );
    for d in &report.detectors {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {}{} |",
            md_escape(&d.detector),
            d.cases,
            d.confirmed,
            d.refuted,
            pct(d.precision_percent),
            small_sample_note(d)
        );
    }
    let _ = writeln!(o, "\n{PRECISION_NOTE}");
    let _ = writeln!(o, "\n## Subgroup load\n");
    let _ = writeln!(
        o,
        "| subgroup | cases | assessed | assessed within 24 h |\n|---|---:|---:|---:|"
    );
    for s in &report.subgroups {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            md_escape(&s.subgroup),
            s.cases,
            s.assessed,
            pct(s.within_24h_percent)
        );
    }
    let _ = writeln!(o, "\n## Notable published cases\n");
    if report.notable.is_empty() {
        let _ = writeln!(o, "None this period.");
    }
    for n in &report.notable {
        let _ = write!(
            o,
            "- **{}**: [{}]({}), published {}",
            md_escape(&n.verdict),
            md_escape(&n.title),
            md_url(&n.url),
            n.published_at.date()
        );
        if let Some(pr) = &n.pull_request_url {
            let _ = write!(o, " ([pull request]({}))", md_url(pr));
        }
        o.push('\n');
    }
    o
}

/// `/reports/{period}/{date}`.
#[derive(Debug, Template)]
#[template(path = "reports/report.html")]
pub struct ReportPage<'a> {
    /// The shared style sheet.
    pub css: &'a str,
    /// The report.
    pub report: &'a Report,
    /// Its charts (SVG drawn by [`charts::bars`] from cleaned labels).
    pub charts: &'a [Chart],
    /// Link to the same report as Markdown / JSON.
    pub base_path: String,
}

/// One entry of `/reports`.
#[derive(Debug)]
pub struct IndexEntry {
    /// Title.
    pub title: String,
    /// `week` or `month`.
    pub period: String,
    /// Link.
    pub path: String,
    /// Cases published.
    pub published: u64,
}

/// `/reports`.
#[derive(Debug, Template)]
#[template(path = "reports/index.html")]
pub struct IndexPage<'a> {
    /// The shared style sheet.
    pub css: &'a str,
    /// Stored reports, newest first.
    pub reports: Vec<IndexEntry>,
}

impl ReportPage<'_> {
    fn pct(&self, p: &Option<f64>) -> String {
        pct(*p)
    }
    fn small_sample(&self, d: &DetectorRow) -> &'static str {
        small_sample_note(d)
    }
    fn precision_note(&self) -> &'static str {
        PRECISION_NOTE
    }
    fn duration(&self, s: &Option<f64>) -> String {
        duration(*s)
    }
    fn change(&self, t: &Trend) -> String {
        change(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_defuses_links_html_and_tables() {
        assert_eq!(md_escape("[x](javascript:y)"), "\\[x\\]\\(javascript:y\\)");
        assert_eq!(md_escape("<img src=x>|a\nb"), "&lt;img src=x\\>\\|a b");
        assert_eq!(md_url("https://h/a b)c"), "https://h/a%20b%29c");
    }

    /// A small fixed report: two weeks of figures as the store would return them.
    fn small_report() -> Report {
        use sx_store::reports::*;
        let range = super::super::period::PeriodRange::new(
            super::super::period::Period::Week,
            time::macros::date!(2026 - 11 - 16),
        );
        let figures = ReportFigures {
            received: 7,
            assessed: 5,
            published: 6,
            previous_published: 4,
            verdicts: vec![
                (Some("malicious".into()), 2),
                (Some("benign".into()), 3),
                (None, 1),
            ],
            tags: vec![
                TagCount {
                    kind: "language".into(),
                    value: "javascript".into(),
                    current: 4,
                    previous: 1,
                },
                TagCount {
                    kind: "language".into(),
                    value: "rust".into(),
                    current: 2,
                    previous: 0,
                },
                TagCount {
                    kind: "vector".into(),
                    value: "install-hook".into(),
                    current: 3,
                    previous: 3,
                },
            ],
            automated: TimingFigures {
                count: 6,
                within_24h: 6,
                median_us: Some(2_000_000),
                p90_us: Some(9_000_000),
            },
            human: TimingFigures {
                count: 5,
                within_24h: 4,
                median_us: Some(5 * 3_600_000_000),
                p90_us: Some(30 * 3_600_000_000),
            },
            agreement: vec![
                AgreementCell {
                    suspicion: 2,
                    verdict: Some("benign".into()),
                    cases: 3,
                },
                AgreementCell {
                    suspicion: 5,
                    verdict: Some("malicious".into()),
                    cases: 2,
                },
                AgreementCell {
                    suspicion: 3,
                    verdict: None,
                    cases: 1,
                },
            ],
            detectors: vec![DetectorFigures {
                detector: "npm-lifecycle-script".into(),
                cases: 3,
                confirmed: 2,
                refuted: 1,
            }],
            subgroups: vec![SubgroupLoad {
                slug: "javascript".into(),
                cases: 4,
                assessed: 4,
                within_24h: 3,
            }],
            notable: Vec::new(),
        };
        Report::build(
            &range,
            &figures,
            &sx_domain::Policy::default(),
            "https://sx.example",
            time::macros::datetime!(2026-11-23 00:10 UTC),
        )
    }

    #[test]
    fn a_small_report_renders_as_markdown_and_json() {
        let report = small_report();
        insta::assert_snapshot!("small_report_md", markdown(&report, "week-2026-11-16-"));
        insta::assert_json_snapshot!("small_report_json", report);
        let charts = charts(&report).unwrap();
        assert_eq!(charts.len(), 3);
        let html = ReportPage {
            css: "/static/style.css",
            report: &report,
            charts: &charts,
            base_path: "/reports/week/2026-11-16".into(),
        }
        .render()
        .unwrap();
        assert!(html.contains("Week of 2026-11-16") && html.contains("npm-lifecycle-script"));
        assert!(!html.contains("style="));
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(Some(20.0)), "20 s");
        assert_eq!(duration(Some(600.0)), "10.0 min");
        assert_eq!(duration(Some(7_200.0)), "2.0 h");
        assert_eq!(duration(Some(259_200.0)), "3.0 d");
        assert_eq!(duration(None), "–");
    }
}
