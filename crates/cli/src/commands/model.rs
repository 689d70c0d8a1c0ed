//! `s-express model`: the risk model against expert verdicts.
//!
//! - `model fit --dataset FILE [--weights OUT] [--current FILE]` re-fits the per-detector
//!   weights and the bias of the logistic risk model (`crates/analyzer/model/weights.toml`) to
//!   the experts' verdicts in an exported dataset ([`sx_analyzer::model_fit`]), prints held-out
//!   precision, recall, calibration and Brier score before and after, and writes the new
//!   weights only if they are at least as good on held-out folds.
//! - `model evaluate --dataset FILE` (or `--database URL`, straight from an instance's published
//!   cases) prints each detector's precision against expert verdicts, as the domain defines it
//!   ([`sx_domain::DetectorRecord`]): the same figures the trend reports and the detector pages
//!   show, with the settled cases they rest on and a note on small samples.
//!
//! Labels for the fit: `malicious` and `suspicious` verdicts are positive, `benign` negative;
//! cases without a verdict, `inconclusive` ones, and cases without an automated report are left
//! out.

use std::fmt::Write as _;
use std::io::BufRead as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sx_analyzer::model_fit::{self, Evaluation, Example, FitOptions, Observation};
use sx_analyzer::{Confidence, Model, Severity};
use sx_domain::{DetectorRecord, DetectorTally, Verdict};
use sx_server::dataset::record::Record;

/// Largest dataset line accepted (one record), in bytes.
const MAX_LINE: usize = 16 << 20;

/// Arguments of `s-express model`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ModelCommand,
}

/// `s-express model` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ModelCommand {
    /// Fit the risk model's weights to expert verdicts, with cross-validation.
    Fit {
        /// Dataset in JSON Lines (`s-express export --format jsonl`, or `/dataset/latest.jsonl`).
        #[arg(long, value_name = "FILE")]
        dataset: PathBuf,
        /// Write the fitted weights here (TOML), if they are not worse on held-out folds.
        #[arg(long, value_name = "OUT")]
        weights: Option<PathBuf>,
        /// The weights to compare against and start from (default: the built-in ones).
        #[arg(long, value_name = "FILE")]
        current: Option<PathBuf>,
        /// Cross-validation folds.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=50))]
        folds: u16,
        /// L2 penalty pulling weights towards the current ones (higher = more conservative).
        #[arg(long, default_value_t = 1.0)]
        l2: f64,
        /// Examples a detector must fire in to get a fitted weight.
        #[arg(long, default_value_t = 5)]
        min_cases: usize,
    },
    /// Print each detector's precision against expert verdicts.
    Evaluate {
        /// Dataset in JSON Lines.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "database",
            conflicts_with = "database"
        )]
        dataset: Option<PathBuf>,
        /// Or read the published cases of an instance's database directly (a path or
        /// sqlite://PATH, or postgres://…).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

/// What a dataset file held.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Labelled examples.
    pub examples: Vec<Example>,
    /// Records read.
    pub records: usize,
    /// Left out: no verdict or inconclusive.
    pub unlabelled: usize,
    /// Left out: no automated report.
    pub no_report: usize,
    /// Every detector's record over all records (labelled or not).
    pub detectors: Vec<DetectorRecord>,
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.clone()?)).ok()
}

/// Turns one record into an example, or says why not.
fn example(r: &Record) -> Result<Example, bool> {
    let positive = match r.verdict.as_deref() {
        Some("malicious" | "suspicious") => true,
        Some("benign") => false,
        _ => return Err(true),
    };
    let Some(auto) = &r.automated else {
        return Err(false);
    };
    let findings = auto
        .findings
        .iter()
        .filter_map(|f| {
            Some(Observation {
                detector: f.detector.clone(),
                severity: parse_enum::<Severity>(&f.severity)?,
                confidence: parse_enum::<Confidence>(&f.confidence)?,
                roles: f.file_kinds.clone(),
            })
        })
        .collect();
    Ok(Example {
        id: r.case_id.clone(),
        findings,
        positive,
    })
}

/// Reads a JSON Lines dataset.
pub fn load(path: &Path) -> anyhow::Result<Loaded> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("opening the dataset {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut loaded = Loaded::default();
    let mut tally = DetectorTally::default();
    let mut line = String::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_line(&mut line)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        number += 1;
        if n > MAX_LINE {
            bail!(
                "{}:{number}: a record is longer than {MAX_LINE} bytes\nhelp: pass a dataset written by `s-express export --format jsonl`",
                path.display()
            );
        }
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(&line).with_context(|| {
            format!(
                "{}:{number}: not a dataset record\nhelp: pass a dataset written by `s-express export --format jsonl` (schema version {})",
                path.display(),
                sx_server::dataset::record::SCHEMA_VERSION
            )
        })?;
        if r.schema_version != sx_server::dataset::record::SCHEMA_VERSION {
            bail!(
                "{}:{number}: record schema version {} is not supported (expected {})",
                path.display(),
                r.schema_version,
                sx_server::dataset::record::SCHEMA_VERSION
            );
        }
        loaded.records += 1;
        let verdict = r.verdict.as_deref().and_then(|v| v.parse::<Verdict>().ok());
        if let Some(auto) = &r.automated {
            tally.add(auto.findings.iter().map(|f| f.detector.as_str()), verdict);
        }
        match example(&r) {
            Ok(e) => loaded.examples.push(e),
            Err(true) => loaded.unlabelled += 1,
            Err(false) => loaded.no_report += 1,
        }
    }
    loaded.detectors = tally.into_records();
    Ok(loaded)
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1} %", x * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// The evaluation tables for one model.
pub fn render_evaluation(title: &str, e: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{title}");
    let _ = writeln!(
        out,
        "  Brier score {:.4}   log loss {:.4}   ({} cases, {} malicious or suspicious)",
        e.brier, e.log_loss, e.n, e.positives
    );
    let _ = writeln!(out, "  flagged at     precision   recall   flagged");
    for t in &e.thresholds {
        let _ = writeln!(
            out,
            "  {:<12} {:>10} {:>8} {:>9}",
            format!("{}+", t.band),
            pct(t.precision()),
            pct(t.recall()),
            t.flagged
        );
    }
    let _ = writeln!(out, "  band      cases   mean predicted   observed");
    for b in &e.bands {
        let _ = writeln!(
            out,
            "  {:<8} {:>6} {:>16} {:>10}",
            b.band.as_str(),
            b.n,
            if b.n > 0 {
                format!("{:.3}", b.mean_predicted)
            } else {
                "–".into()
            },
            pct(b.observed())
        );
    }
    let _ = writeln!(out, "  reliability   cases   mean predicted   observed");
    for bin in e.reliability.iter().filter(|b| b.n > 0) {
        let _ = writeln!(
            out,
            "  [{:.1}, {:.1}) {:>8} {:>16.3} {:>10.3}",
            bin.lower, bin.upper, bin.n, bin.mean_predicted, bin.observed
        );
    }
    out
}

fn current_model(path: Option<&Path>) -> anyhow::Result<Model> {
    match path {
        None => Ok(Model::builtin()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the weights file {}", p.display()))?;
            Model::from_toml(&text).with_context(|| format!("loading {}", p.display()))
        }
    }
}

/// The detectors' records over every published case of an instance (the store's
/// [`sx_store::Store::detector_figures`], as the detector pages and reports use it).
fn instance_figures(url: &str) -> anyhow::Result<sx_store::reports::DetectorSummary> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let store = sx_store::open(url)
            .await
            .context("opening the database\nhelp: check --database")?;
        let summary = sx_store::Store::detector_figures(
            &store,
            &sx_store::reports::DetectorQuery::all_time(time::OffsetDateTime::now_utc()),
        )
        .await
        .context("counting detector figures");
        store.close().await;
        summary
    })
}

/// The `model evaluate` table: per detector the cases it fired on, how experts settled them,
/// the precision and a note when it rests on too few settled cases.
pub fn render_precision(intro: &str, rows: &[DetectorRecord]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{intro}\n");
    let width = rows
        .iter()
        .map(|r| r.detector.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7}  {:>9}  {:>7}  {:>9}",
        "detector", "cases", "confirmed", "refuted", "precision"
    );
    for r in rows {
        let note = if r.small_sample() && r.precision().is_some() {
            "  small sample"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>9}  {:>7}  {:>9}{note}",
            sx_analyzer::output::visible(&r.detector),
            r.cases,
            r.confirmed,
            r.refuted,
            pct(r.precision()),
        );
    }
    let _ = writeln!(
        out,
        "\nconfirmed: malicious or suspicious verdict; refuted: benign; precision = confirmed / (confirmed + refuted).\nsmall sample: fewer than {} settled cases.",
        sx_domain::precision::MIN_JUDGED
    );
    out
}

/// Runs `s-express model`. Exit code 0; 1 when `fit` refused to write worse weights.
pub fn run(args: &ModelArgs) -> anyhow::Result<u8> {
    match &args.command {
        ModelCommand::Evaluate { dataset, database } => {
            let (intro, rows) = match (dataset, database) {
                (Some(path), _) => {
                    let loaded = load(path)?;
                    (
                        format!(
                            "{} records ({} with a benign, suspicious or malicious verdict and a report, {} without a verdict or inconclusive, {} without a report)",
                            loaded.records,
                            loaded.examples.len(),
                            loaded.unlabelled,
                            loaded.no_report
                        ),
                        loaded.detectors,
                    )
                }
                (None, Some(url)) => {
                    let summary = instance_figures(url)?;
                    (
                        format!(
                            "{} published cases in {}",
                            summary.published,
                            sx_server::config::redact_url(url)
                        ),
                        summary.detectors,
                    )
                }
                (None, None) => bail!("pass --dataset FILE or --database URL"),
            };
            crate::write_stdout(&render_precision(&intro, &rows))?;
            Ok(0)
        }
        ModelCommand::Fit {
            dataset,
            weights,
            current,
            folds,
            l2,
            min_cases,
        } => {
            let current = current_model(current.as_deref())?;
            let loaded = load(dataset)?;
            let options = FitOptions {
                folds: usize::from(*folds),
                l2: *l2,
                min_cases: *min_cases,
                ..FitOptions::default()
            };
            let report = model_fit::fit(&current, &loaded.examples, &options)
                .context("fitting the risk model")?;
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{} records, {} labelled examples; {}-fold cross-validation\n",
                loaded.records,
                loaded.examples.len(),
                report.folds
            );
            out.push_str(&render_evaluation(
                "Before (current weights, held-out folds):",
                &report.before,
            ));
            out.push('\n');
            out.push_str(&render_evaluation(
                "After (weights fitted on the other folds, held-out folds):",
                &report.after,
            ));
            let _ = writeln!(
                out,
                "\nbias {:.3} -> {:.3}\nfitted detector weights (fired in >= {} cases), highest first:",
                report.bias.0, report.bias.1, options.min_cases
            );
            for w in &report.weights {
                let _ = writeln!(
                    out,
                    "  {:<40} {:>6} cases   {:.3} -> {:.3}",
                    sx_analyzer::output::visible(&w.detector),
                    w.cases,
                    w.before,
                    w.after
                );
            }
            crate::write_stdout(&out)?;
            if !report.improves() {
                eprintln!(
                    "error: the fitted weights are worse than the current ones on held-out folds (Brier {:.4} vs {:.4}, log loss {:.4} vs {:.4}); not writing them",
                    report.after.brier,
                    report.before.brier,
                    report.after.log_loss,
                    report.before.log_loss
                );
                eprintln!(
                    "help: collect more verdicts, or raise --l2 to stay closer to the current weights"
                );
                return Ok(1);
            }
            if let Some(path) = weights {
                let text = format!(
                    "# S-Express risk model, version {}: fitted by `s-express model fit` on {} labelled\n# cases ({}-fold held-out Brier {:.4} -> {:.4}). Formula: docs/scoring.md.\n\n{}",
                    report.model.version,
                    loaded.examples.len(),
                    report.folds,
                    report.before.brier,
                    report.after.brier,
                    report.model.to_toml()
                );
                // Check that what is written loads back before replacing anything.
                Model::from_toml(&text).context("the fitted weights do not load back")?;
                std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_labelled_examples() {
        let json = r#"{"schema_version":1,"case_id":"00000000-0000-0000-0000-000000000001","project":{"forge":"github","host":"github.com","name":"a/b"},"change":{"pull_request_url":null,"title":null,"revisions":1,"ecosystems":[],"languages":[],"files":1,"added_lines":1,"removed_lines":0,"binary_files":0,"commits":0,"files_by_kind":null},"concern":{"suspicion":3,"tags":[],"text":""},"automated":{"risk":0.5,"band":"review","model_version":1,"findings":[{"detector":"decode-exec","severity":"critical","confidence":"high","score":6.5,"file_kinds":["build"],"vectors":["payload"]},{"detector":"old","severity":null,"confidence":null,"score":null,"file_kinds":[],"vectors":[]}]},"assessments":[],"second_reviews":[],"verdict":"suspicious","verdict_finality":"final","triage":"needs-expert","decision":null,"timings":{"received_at":"2026-01-01T00:00:00Z","first_claimed_at":null,"first_assessed_at":null,"decided_at":null,"published_at":"2026-01-02T00:00:00Z","hours_to_first_claim":null,"hours_to_first_assessment":null,"hours_to_decision":null,"hours_to_publication":24.0},"redactions":0}"#;
        let mut r: Record = serde_json::from_str(json).unwrap();
        let e = example(&r).unwrap();
        assert!(e.positive);
        assert_eq!(e.findings.len(), 1, "findings without severity are skipped");
        assert_eq!(e.findings[0].severity, Severity::Critical);
        assert_eq!(e.findings[0].roles, vec!["build".to_string()]);
        r.verdict = Some("inconclusive".into());
        assert_eq!(example(&r), Err(true));
        r.verdict = Some("benign".into());
        r.automated = None;
        assert_eq!(example(&r), Err(false));
    }

    #[test]
    fn evaluate_counts_every_record_with_findings_and_flags_small_samples() {
        let line = |id: u32, verdict: &str, detectors: &[&str]| {
            let findings: Vec<String> = detectors
                .iter()
                .map(|d| format!(r#"{{"detector":"{d}","severity":"high","confidence":"high","score":1.0,"file_kinds":[],"vectors":[]}}"#))
                .collect();
            format!(
                r#"{{"schema_version":1,"case_id":"00000000-0000-0000-0000-{id:012}","project":{{"forge":"github","host":"github.com","name":"a/b"}},"change":{{"pull_request_url":null,"title":null,"revisions":1,"ecosystems":[],"languages":[],"files":1,"added_lines":1,"removed_lines":0,"binary_files":0,"commits":0,"files_by_kind":null}},"concern":{{"suspicion":3,"tags":[],"text":""}},"automated":{{"risk":0.5,"band":"review","model_version":1,"findings":[{}]}},"assessments":[],"second_reviews":[],"verdict":{verdict},"verdict_finality":null,"triage":null,"decision":null,"timings":{{"received_at":"2026-01-01T00:00:00Z","first_claimed_at":null,"first_assessed_at":null,"decided_at":null,"published_at":"2026-01-02T00:00:00Z","hours_to_first_claim":null,"hours_to_first_assessment":null,"hours_to_decision":null,"hours_to_publication":24.0}},"redactions":0}}"#,
                findings.join(",")
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let text = [
            line(1, r#""malicious""#, &["decode-exec", "decode-exec"]),
            line(2, r#""benign""#, &["decode-exec", "dep-new-dependency"]),
            line(3, "null", &["decode-exec", "encoded-blob"]),
            line(4, r#""inconclusive""#, &["dep-new-dependency"]),
        ]
        .join("\n");
        std::fs::write(&path, text).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.records, 4);
        assert_eq!(loaded.examples.len(), 2);
        let d = &loaded.detectors[0];
        assert_eq!(
            (d.detector.as_str(), d.cases, d.confirmed, d.refuted),
            ("decode-exec", 3, 1, 1),
            "a case counts once; unsettled cases count as fired but not judged"
        );
        assert_eq!(d.precision(), Some(0.5));
        let out = render_precision("4 records", &loaded.detectors);
        let row = out.lines().find(|l| l.starts_with("decode-exec")).unwrap();
        assert!(
            row.contains("50.0 %") && row.ends_with("small sample"),
            "{row}"
        );
        let row = out
            .lines()
            .find(|l| l.starts_with("dep-new-dependency"))
            .unwrap();
        assert!(
            row.contains("0.0 %") && row.ends_with("small sample"),
            "{row}"
        );
        let row = out.lines().find(|l| l.starts_with("encoded-blob")).unwrap();
        assert!(
            row.ends_with('–'),
            "no settled case, no precision and no note: {row}"
        );
    }
}
