//! `s-express export`: the open dataset from a database, as JSON Lines or CSV.
//!
//! One record per published case (the TLP rules decide; sealed cases never appear), secrets in
//! free text redacted, in the schema of `docs/dataset.md` / `docs/dataset.schema.json`. The
//! records are built by the same code as the service's `/dataset` snapshots
//! ([`sx_server::dataset`]), so the two cannot differ.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use sx_server::dataset::{self, record};
use time::OffsetDateTime;

use crate::commands::admin::DEFAULT_DATABASE;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON record per line.
    Jsonl,
    /// RFC 4180 CSV with a header row; lists joined by `;`.
    Csv,
}

/// Arguments of `s-express export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// Only cases published on or after this date (`YYYY-MM-DD`, UTC) or instant (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Database URL: `sqlite://PATH`, a file path, or `postgres://USER@HOST/DB`.
    #[arg(long = "database", env = "S_EXPRESS_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database: String,
    /// Write to this file instead of standard output (replaced atomically when done).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Skip reading each case's change text (no `files_by_kind`; faster on large instances).
    #[arg(long)]
    pub no_files: bool,
}

/// Parses `--since`.
pub fn parse_since(text: &str) -> anyhow::Result<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let date = time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| {
            anyhow::anyhow!(
                "--since {text:?} is not a date\nhelp: use YYYY-MM-DD (UTC midnight) or an RFC 3339 instant such as 2026-01-31T12:00:00Z"
            )
        })?;
    Ok(date.midnight().assume_utc())
}

/// Runs `s-express export`; prints the record count on standard error.
pub fn run(args: &ExportArgs) -> anyhow::Result<u8> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let store = sx_store::open(&args.database).await.with_context(|| {
            "opening the database\nhelp: check --database / S_EXPRESS_DATABASE_URL".to_string()
        })?;
        let (mut sink, tmp): (Box<dyn std::io::Write>, Option<PathBuf>) = match &args.out {
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("."));
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "export".into());
                let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
                let file = std::fs::File::create(&tmp)
                    .with_context(|| format!("creating {}", tmp.display()))?;
                (Box::new(std::io::BufWriter::new(file)), Some(tmp))
            }
            None => (
                Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
                None,
            ),
        };
        if args.format == Format::Csv {
            sink.write_all(record::csv_line(&record::CSV_COLUMNS.map(String::from)).as_bytes())?;
        }
        let format = args.format;
        let written = dataset::for_each_record(&store, !args.no_files, since, |r| {
            let line = match format {
                Format::Jsonl => {
                    let mut l = serde_json::to_string(r).map_err(|e| e.to_string())?;
                    l.push('\n');
                    l
                }
                Format::Csv => record::csv_line(&record::csv_row(r)),
            };
            sink.write_all(line.as_bytes()).map_err(|e| e.to_string())
        })
        .await;
        let count = match written {
            Ok(n) => n,
            Err(e) => {
                if let Some(tmp) = &tmp {
                    let _ = std::fs::remove_file(tmp);
                }
                if let dataset::DatasetError::Write(m) = &e
                    && m.contains("Broken pipe")
                {
                    return Ok(0);
                }
                return Err(anyhow::Error::from(e).context("exporting the dataset"));
            }
        };
        sink.flush()?;
        drop(sink);
        if let (Some(tmp), Some(out)) = (tmp, &args.out) {
            std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
        }
        store.close().await;
        eprintln!("exported {count} published cases");
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_dates_and_instants() {
        assert_eq!(
            parse_since("2026-03-01").unwrap(),
            time::macros::datetime!(2026-03-01 00:00 UTC)
        );
        assert_eq!(
            parse_since("2026-03-01T12:30:00+02:00").unwrap(),
            time::macros::datetime!(2026-03-01 10:30 UTC)
        );
        let e = parse_since("last week").unwrap_err().to_string();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
    }
}
