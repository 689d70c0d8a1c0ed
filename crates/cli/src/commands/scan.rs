//! `s-express scan`: analyse every commit of a history (first-parent diffs) and rank them by
//! risk — an audit of what already landed.
//!
//! One [`Analyzer`] is shared by all worker threads (it is `Send + Sync`); each worker opens
//! its own repository handle, because libgit2 handles must not be shared between threads.
//! Work is handed out through an atomic counter, so a few huge commits do not leave the other
//! cores idle. Repository context is not computed per commit: it would repeat a history walk
//! for every commit.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use sx_analyzer::engine::AnalyzeOptions;
use sx_analyzer::output::visible;
use sx_analyzer::{Analyzer, Band};
use sx_forge::git::CommitSummary;
use sx_forge::{GitOptions, GitRepo};

use crate::setup::{self, AnalyzerArgs};

/// `scan --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// A ranked table.
    Text,
    /// JSON: `{schema_version, commits: [...]}`, ranked.
    Json,
}

/// Arguments of `s-express scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  s-express scan --repo . --since 2026-01-01
  s-express scan --repo ../project v1.2.0..main --format json --jobs 2")]
pub struct ScanArgs {
    /// The repository to scan.
    #[arg(long, value_name = "PATH")]
    pub repo: PathBuf,

    /// Which history: a revision (its first-parent chain) or `BASE..HEAD`; default `HEAD`.
    #[arg(value_name = "RANGE", default_value = "HEAD")]
    pub range: String,

    /// Only commits committed on or after this date (`YYYY-MM-DD`, RFC 3339, or Unix seconds).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Scan at most this many commits (newest first).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,

    /// Worker threads; default: the available cores.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub analyzer: AnalyzerArgs,
}

/// One scanned commit.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedCommit {
    pub id: String,
    pub subject: String,
    /// Committer time, Unix seconds.
    pub time: i64,
    pub probability: f64,
    pub band: Band,
    pub findings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_finding: Option<TopFinding>,
    /// Set when the commit could not be analysed (e.g. its diff exceeds the size limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Position in history (0 = newest), the tie-break of the ranking.
    #[serde(skip)]
    order: usize,
}

/// The highest-scoring finding of a commit.
#[derive(Debug, Clone, Serialize)]
pub struct TopFinding {
    pub id: String,
    pub title: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ScanOutput<'a> {
    schema_version: u32,
    scanned: usize,
    commits: &'a [ScannedCommit],
}

/// Parse `--since`.
pub fn parse_since(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &fmt) {
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    bail!(
        "--since {s:?} is not a date\nhelp: use YYYY-MM-DD, an RFC 3339 time such as 2026-01-31T12:00:00Z, or Unix seconds"
    )
}

/// Run `scan`; returns the exit code.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let analyzer = setup::build_analyzer(&args.analyzer)?;
    let repo = GitRepo::open(&args.repo)?;
    let suppressions = setup::suppressions_from(args.analyzer.config.as_deref(), repo.root())?;
    let history = repo.first_parent_history(&args.range, since, args.max)?;
    let mut results = scan(
        &args.repo,
        &history,
        &analyzer,
        &AnalyzeOptions { suppressions },
        jobs,
    )?;
    rank(&mut results);
    let out = match args.format {
        ScanFormat::Text => render_text(&results),
        ScanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&ScanOutput {
                schema_version: 1,
                scanned: results.len(),
                commits: &results,
            })
            .context("cannot serialize the scan")?;
            s.push('\n');
            s
        }
    };
    crate::write_stdout(&out)?;
    Ok(0)
}

/// Highest probability first; ties keep history order (newest first).
pub fn rank(results: &mut [ScannedCommit]) {
    results.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.order.cmp(&b.order))
    });
}

fn scan(
    path: &std::path::Path,
    history: &[CommitSummary],
    analyzer: &Analyzer,
    opts: &AnalyzeOptions,
    jobs: usize,
) -> anyhow::Result<Vec<ScannedCommit>> {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(history.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} commits {wide_bar} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(history.len()));
    let git_opts = GitOptions {
        context: false,
        ..GitOptions::default()
    };
    let workers = jobs.min(history.len().max(1));
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    let repo = GitRepo::open(path)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(c) = history.get(i) else {
                            return Ok(());
                        };
                        let scanned = scan_one(&repo, c, i, analyzer, opts, &git_opts);
                        results
                            .lock()
                            .map_err(|_| anyhow::anyhow!("a scan worker panicked"))?
                            .push(scanned);
                        bar.inc(1);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a scan worker panicked"))??;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a scan worker panicked"))
}

fn scan_one(
    repo: &GitRepo,
    c: &CommitSummary,
    order: usize,
    analyzer: &Analyzer,
    opts: &AnalyzeOptions,
    git_opts: &GitOptions,
) -> ScannedCommit {
    let mut out = ScannedCommit {
        id: c.id.to_string(),
        subject: c.subject.clone(),
        time: c.time,
        probability: 0.0,
        band: Band::Low,
        findings: 0,
        top_finding: None,
        error: None,
        order,
    };
    let change = repo
        .single(c.id, &c.id.to_string())
        .and_then(|rev| repo.change(&rev, git_opts));
    match change {
        Ok(change) => {
            let report = analyzer.analyze_with(&change, opts);
            out.probability = report.risk.probability;
            out.band = report.risk.band;
            out.findings = report.findings.len();
            out.top_finding = report.findings.first().map(|f| TopFinding {
                id: f.id.clone(),
                title: f.title.clone(),
                path: f.path.clone(),
                line: f.line,
            });
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

fn render_text(results: &[ScannedCommit]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let flagged = results.iter().filter(|r| r.band != Band::Low).count();
    let _ = writeln!(
        out,
        "Scanned {} commit{}; {flagged} at review or high risk. Ranked by risk:\n",
        results.len(),
        if results.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "{:<4} {:<12} {:<7} {:>6}  subject / top finding",
        "#", "commit", "band", "prob"
    );
    for (i, r) in results.iter().enumerate() {
        let short = r.id.get(..12).unwrap_or(&r.id);
        let subject: String = visible(&r.subject).chars().take(72).collect();
        let _ = writeln!(
            out,
            "{:<4} {:<12} {:<7} {:>5.1}%  {}",
            i + 1,
            short,
            r.band.as_str(),
            r.probability * 100.0,
            subject
        );
        if let Some(t) = &r.top_finding {
            let at = match t.line {
                Some(l) => format!("{}:{l}", visible(&t.path)),
                None => visible(&t.path).into_owned(),
            };
            let _ = writeln!(out, "{:<34}↳ {} ({}) {at}", "", visible(&t.title), t.id);
        }
        if let Some(e) = &r.error {
            let _ = writeln!(out, "{:<34}! not analysed: {}", "", visible(e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_dates_times_and_seconds() {
        assert_eq!(parse_since("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_since("1970-01-01T00:01:00Z").unwrap(), 60);
        assert_eq!(parse_since("12345").unwrap(), 12_345);
        let e = parse_since("last tuesday").unwrap_err();
        assert!(e.to_string().contains("help:"), "{e}");
    }

    fn commit(p: f64, order: usize) -> ScannedCommit {
        ScannedCommit {
            id: format!("{order:040}"),
            subject: String::new(),
            time: 0,
            probability: p,
            band: Band::Low,
            findings: 0,
            top_finding: None,
            error: None,
            order,
        }
    }

    #[test]
    fn ranking_puts_the_riskiest_first_and_keeps_history_order_on_ties() {
        let mut v = vec![
            commit(0.1, 0),
            commit(0.9, 1),
            commit(0.1, 2),
            commit(0.5, 3),
        ];
        rank(&mut v);
        let order: Vec<usize> = v.iter().map(|c| c.order).collect();
        assert_eq!(order, [1, 3, 0, 2]);
    }
}
