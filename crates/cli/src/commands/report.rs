//! `s-express report`: a weekly or monthly trend report over published cases, from the
//! database, as HTML, Markdown or JSON.
//!
//! `--from DATE` picks the period containing that day (weeks start on Monday, UTC); without it,
//! the most recent period that has ended. With `--out DIR` the report is written to
//! `DIR/<period>-<start>.<ext>`, and for Markdown each chart beside it as
//! `DIR/<period>-<start>-<chart>.svg`; without `--out` it goes to standard output (Markdown
//! then links to chart files that are not written: use `--out` to get them). The report is the
//! same one the service stores and serves at `/reports/<period>/<start>`.

use std::path::PathBuf;

use anyhow::Context as _;
use askama::Template as _;
use sx_server::reports::period::{Period, PeriodRange, parse_date};
use sx_server::reports::{self, render};
use time::OffsetDateTime;

use super::admin::DEFAULT_DATABASE;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A standalone HTML page with inline SVG charts.
    Html,
    /// Markdown, with charts as SVG files beside it (with `--out`).
    Md,
    /// The JSON document (schema version 1, see docs/reports.md).
    Json,
}

/// Report periods on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PeriodArg {
    /// Monday to Monday (UTC).
    Week,
    /// Calendar month (UTC).
    Month,
}

/// Arguments of `s-express report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// How long the report covers.
    #[arg(long, value_enum)]
    pub period: PeriodArg,
    /// Any day of the period to report on (YYYY-MM-DD); default: the last period that ended.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// The database (a path or sqlite://PATH, or postgres://…).
    #[arg(long = "database", env = "S_EXPRESS_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database: String,
    /// Public URL of the service, for links to cases.
    #[arg(
        long = "base-url",
        env = "S_EXPRESS_PUBLIC_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub base_url: String,
    /// Write files into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs the command.
///
/// # Errors
/// Bad dates, an unreachable database, unwritable output.
pub fn run(args: &ReportArgs) -> anyhow::Result<u8> {
    let period = match args.period {
        PeriodArg::Week => Period::Week,
        PeriodArg::Month => Period::Month,
    };
    let now = OffsetDateTime::now_utc();
    let range = match &args.from {
        Some(day) => PeriodRange::new(period, parse_date(day)?),
        None => period.latest_complete(now),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = rt.block_on(async {
        let store = sx_store::open(&args.database).await.with_context(|| {
            "opening the database\nhelp: check --database / S_EXPRESS_DATABASE_URL".to_string()
        })?;
        let report = reports::generate(
            &store,
            &sx_domain::Policy::default(),
            &args.base_url,
            &range,
            now,
        )
        .await
        .context("computing the report")?;
        store.close().await;
        anyhow::Ok(report)
    })?;
    if !range.is_complete(now) {
        eprintln!(
            "note: {} has not ended yet; figures cover published cases up to now",
            range.title()
        );
    }
    let slug = range.slug();
    let charts = render::charts(&report).map_err(anyhow::Error::msg)?;
    let (text, ext) = match args.format {
        ReportFormat::Json => (serde_json::to_string_pretty(&report)? + "\n", "json"),
        ReportFormat::Md => (render::markdown(&report, &format!("{slug}-")), "md"),
        ReportFormat::Html => {
            let page = render::ReportPage {
                css: sx_server::pages::assets::css_url(),
                report: &report,
                charts: &charts,
                base_path: format!(
                    "{}/reports/{}/{}",
                    args.base_url.trim_end_matches('/'),
                    report.period,
                    report.starts_on
                ),
            };
            (page.render().context("rendering the HTML report")?, "html")
        }
    };
    match &args.out {
        None => crate::write_stdout(&text)?,
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join(format!("{slug}.{ext}"));
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            println!("{}", path.display());
            if args.format == ReportFormat::Md {
                for chart in &charts {
                    let path = dir.join(format!("{slug}-{}.svg", chart.name));
                    std::fs::write(&path, &chart.svg)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("{}", path.display());
                }
            }
        }
    }
    Ok(0)
}
