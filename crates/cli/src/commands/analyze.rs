//! `s-express analyze`: one change in, one report out.
//!
//! The change is a diff, patch, `git show` output or mbox from a file or standard input, or a
//! range of a local repository (`--repo PATH [RANGE]`), which adds full file contents, commit
//! metadata and history context. The exit code makes it usable as a CI gate: 0, or 1 when the
//! risk band reaches `--fail-on`; 2 for usage or input errors.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sx_analyzer::diff::{self, Limits};
use sx_analyzer::engine::AnalyzeOptions;
use sx_analyzer::output::{self, Format, RenderOptions};
use sx_analyzer::suppress::Suppressions;
use sx_analyzer::{Band, Change, Report};
use sx_forge::{GitOptions, GitRepo};

use crate::setup::{self, AnalyzerArgs, ColorChoice};

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// For people: findings grouped by file, with evidence and explanations.
    Text,
    /// The report as JSON (schema: docs/report-schema.md).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// Markdown to paste as a pull-request comment.
    Markdown,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Exit 1 when the band is `review` or `high`.
    Review,
    /// Exit 1 when the band is `high`.
    High,
}

impl FailOn {
    pub fn reached_by(self, band: Band) -> bool {
        match self {
            FailOn::Review => band >= Band::Review,
            FailOn::High => band >= Band::High,
        }
    }
}

/// Arguments of `s-express analyze`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit status: 0 when the analysis ran (and the band is below --fail-on), 1 when the risk band \
reaches --fail-on, 2 on usage or input errors (the message names the offending line).

Examples:
  git diff main...feature | s-express analyze
  s-express analyze pr-1234.patch --format markdown --title \"Fix typo\"
  s-express analyze --repo . origin/main..HEAD --fail-on high --format sarif > sx.sarif
  S_EXPRESS_FORGE_TOKEN=... s-express analyze https://github.com/OWNER/REPO/pull/123")]
pub struct AnalyzeArgs {
    /// Diff, patch (`git format-patch`), `git show` output or mbox to analyse; `-` or nothing
    /// reads standard input. A pull request URL (GitHub, GitLab merge request, Forgejo/Gitea)
    /// fetches the change through the forge's API.
    #[arg(value_name = "FILE", conflicts_with = "repo")]
    pub input: Option<PathBuf>,

    /// Analyse a range of a local repository instead: `--repo PATH [RANGE]`, where RANGE is
    /// `BASE..HEAD` or one commit (diffed against its first parent); default `HEAD`.
    #[arg(long, num_args = 1..=2, value_names = ["PATH", "RANGE"])]
    pub repo: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Colour text output: `auto` colours when stdout is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Exit with status 1 when the risk band is at least this (for CI gates).
    #[arg(long, value_enum, value_name = "BAND")]
    pub fail_on: Option<FailOn>,

    /// The pull request's title, shown in the report and checked by detectors (a claim such
    /// as "fix typo" is compared with what the change does).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    /// Base URL that detector doc paths are appended to in links.
    #[arg(long, value_name = "URL", env = "S_EXPRESS_DOC_BASE", default_value = output::DEFAULT_DOC_BASE_URL)]
    pub doc_base: String,

    #[command(flatten)]
    pub forge: crate::pull_request::ForgeFetchArgs,

    #[command(flatten)]
    pub analyzer: AnalyzerArgs,
}

/// Fetches a pull request's change through its forge's API.
fn fetch_pull(args: &AnalyzeArgs, url: &str, limit: usize) -> anyhow::Result<(String, Vec<u8>)> {
    let pull = args.forge.parse(url)?;
    let patch = args.forge.patch(&pull, limit)?;
    Ok((pull.web_url, patch.into_bytes()))
}

/// Run `analyze`; returns the process exit code.
pub fn run(args: &AnalyzeArgs, no_color: bool) -> anyhow::Result<u8> {
    let analyzer = setup::build_analyzer(&args.analyzer)?;
    let (mut change, suppressions) = if args.repo.is_empty() {
        from_diff(args)?
    } else {
        from_repo(args)?
    };
    if let Some(t) = &args.title {
        change.title = Some(t.clone());
    }
    let report = analyzer.analyze_with(&change, &AnalyzeOptions { suppressions });
    let opts = RenderOptions {
        color: args.color.enabled(no_color),
        title: args.title.clone(),
        doc_base_url: args.doc_base.clone(),
        ..RenderOptions::default()
    };
    crate::write_stdout(&output::render(&report, args.format.into(), &opts))?;
    Ok(exit_code(&report, args.fail_on))
}

fn exit_code(report: &Report, fail_on: Option<FailOn>) -> u8 {
    match fail_on {
        Some(f) if f.reached_by(report.risk.band) => 1,
        _ => 0,
    }
}

/// Read at most `limit` bytes (plus one, to detect an over-long input).
fn read_bounded(r: impl std::io::Read, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

fn from_diff(args: &AnalyzeArgs) -> anyhow::Result<(Change, Suppressions)> {
    let limits = Limits::default();
    let (name, bytes) = match args.input.as_deref().filter(|p| *p != Path::new("-")) {
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!(
                    "no input: standard input is a terminal\nhelp: pipe a diff (`git diff | s-express analyze`), \
                     pass a file, or use --repo PATH [RANGE]"
                );
            }
            let bytes = read_bounded(stdin.lock(), limits.max_input_bytes)
                .context("cannot read standard input")?;
            ("standard input".to_string(), bytes)
        }
        Some(p) if p.to_str().is_some_and(sx_forge::pr_url::looks_like_url) => {
            let url = p.to_str().unwrap_or_default();
            fetch_pull(args, url, limits.max_input_bytes)?
        }
        Some(p) => {
            let f =
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let bytes = read_bounded(f, limits.max_input_bytes)
                .with_context(|| format!("cannot read {}", p.display()))?;
            (p.display().to_string(), bytes)
        }
    };
    let change =
        diff::parse(&bytes, &limits).with_context(|| format!("cannot parse {name} as a diff"))?;
    let cwd = std::env::current_dir().context("cannot determine the current directory")?;
    let suppressions = setup::suppressions_from(args.analyzer.config.as_deref(), &cwd)?;
    Ok((change, suppressions))
}

fn from_repo(args: &AnalyzeArgs) -> anyhow::Result<(Change, Suppressions)> {
    let path = PathBuf::from(&args.repo[0]);
    let spec = args.repo.get(1).map(String::as_str).unwrap_or("HEAD");
    let repo = GitRepo::open(&path)?;
    let rev = repo.resolve(spec)?;
    let opts = GitOptions::default();
    let change = repo
        .change(&rev, &opts)
        .with_context(|| format!("cannot read {spec} from {}", path.display()))?;
    let suppressions = match (&args.analyzer.config, rev.base) {
        (Some(p), _) => setup::suppressions_from(Some(p), &path)?,
        // The change must not be able to suppress its own findings: read the project's
        // configuration as of the base revision.
        (None, Some(base)) => match repo.file_at(base, ".s-express.toml", 4 << 20)? {
            Some(bytes) => {
                let text = String::from_utf8(bytes)
                    .context(".s-express.toml at the base revision is not UTF-8")?;
                setup::parse_suppressions(&text, &format!(".s-express.toml at {base}"))?
            }
            None => Suppressions::default(),
        },
        (None, None) => Suppressions::default(),
    };
    Ok((change, suppressions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_thresholds_are_inclusive() {
        assert!(FailOn::Review.reached_by(Band::Review));
        assert!(FailOn::Review.reached_by(Band::High));
        assert!(!FailOn::Review.reached_by(Band::Low));
        assert!(!FailOn::High.reached_by(Band::Review));
        assert!(FailOn::High.reached_by(Band::High));
    }

    #[test]
    fn bounded_reads_stop_one_byte_past_the_limit() {
        let data = [b'x'; 100];
        assert_eq!(read_bounded(&data[..], 10).unwrap().len(), 11);
        assert_eq!(read_bounded(&data[..], 1000).unwrap().len(), 100);
    }
}
