//! What `analyze` and `scan` share: building the one [`Analyzer`] of the process (built-in
//! detectors and rule packs, extra packs from `--rules`, weights from `--weights`), reading a
//! project's `.s-express.toml`, and deciding on colour.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sx_analyzer::suppress::Suppressions;
use sx_analyzer::{Analyzer, Model};

/// Largest rule pack, weights or config file read (they are small; a huge one is a mistake).
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Options that shape the analyzer.
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyzerArgs {
    /// Directory of extra TOML rule packs (every `*.toml` in it, validated strictly; see
    /// docs/rule-authors.md). Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,

    /// Risk model weights to use instead of the shipped ones (TOML, see docs/scoring.md).
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,

    /// Project configuration with content-bound suppressions. Default: `.s-express.toml` as
    /// of the base commit for `analyze --repo` (never from the change itself), from the
    /// current directory for diff input, and from the repository's root for `scan`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Read a small text file, bounded.
pub fn read_small(path: &Path, what: &str) -> anyhow::Result<String> {
    use std::io::Read as _;
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open {what} {}", path.display()))?;
    let mut text = String::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {what} {} (is it UTF-8 text?)", path.display()))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        bail!(
            "{what} {} is larger than {MAX_CONFIG_BYTES} bytes",
            path.display()
        );
    }
    Ok(text)
}

/// Build the process's analyzer.
pub fn build_analyzer(args: &AnalyzerArgs) -> anyhow::Result<Analyzer> {
    let mut builder = Analyzer::builder();
    for dir in &args.rules {
        let mut packs: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read rules directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .collect();
        if packs.is_empty() {
            bail!(
                "no *.toml rule packs in {}\nhelp: --rules takes a directory of rule pack files",
                dir.display()
            );
        }
        // Sorted so the rule order, and with it tie-breaks in reports, is stable.
        packs.sort();
        for p in packs {
            let text = read_small(&p, "rule pack")?;
            builder = builder.pack(p.display().to_string(), text);
        }
    }
    if let Some(w) = &args.weights {
        let text = read_small(w, "weights file")?;
        let model = Model::from_toml(&text)
            .with_context(|| format!("invalid weights file {}", w.display()))
            .context("help: start from crates/analyzer/model/weights.toml; see docs/scoring.md")?;
        builder = builder.model(model);
    }
    builder
        .build()
        .context("cannot build the analyzer")
        .context("help: check the rule packs given with --rules; see docs/rule-authors.md")
}

/// Parse suppressions from a config text (`origin` names it in errors).
pub fn parse_suppressions(text: &str, origin: &str) -> anyhow::Result<Suppressions> {
    Suppressions::from_toml(text).with_context(|| format!("invalid configuration {origin}"))
}

/// Suppressions from an explicit `--config`, or from `.s-express.toml` in `dir` when present.
pub fn suppressions_from(explicit: Option<&Path>, dir: &Path) -> anyhow::Result<Suppressions> {
    match explicit {
        Some(p) => parse_suppressions(&read_small(p, "configuration")?, &p.display().to_string()),
        None => {
            let p = dir.join(".s-express.toml");
            if p.is_file() {
                parse_suppressions(&read_small(&p, "configuration")?, &p.display().to_string())
            } else {
                Ok(Suppressions::default())
            }
        }
    }
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour. `no_color` is whether `NO_COLOR` is set to a non-empty value.
    pub fn enabled(self, no_color: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        }
    }
}

/// Whether `NO_COLOR` asks for no colour (<https://no-color.org>: set and not empty).
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_colour_choices_ignore_the_environment() {
        assert!(ColorChoice::Always.enabled(true));
        assert!(!ColorChoice::Never.enabled(false));
        assert!(!ColorChoice::Auto.enabled(true));
    }

    #[test]
    fn a_missing_default_config_means_no_suppressions() {
        let dir = tempfile::tempdir().unwrap();
        assert!(suppressions_from(None, dir.path()).unwrap().is_empty());
        let e = suppressions_from(Some(&dir.path().join("nope.toml")), dir.path()).unwrap_err();
        assert!(format!("{e:#}").contains("nope.toml"), "{e:#}");
    }
}
