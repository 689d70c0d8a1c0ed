//! The `s-express` binary.
//!
//! **Model.** Each subcommand is one file under `commands/`, with its clap arguments and a
//! `run` that returns the process exit code. Errors travel as `anyhow` chains with context
//! saying what was being done; [`report_error`] prints them as `error:` plus `caused by:`
//! lines and ends with `help:` lines — from any context that starts with `help:` and from
//! hints for well-known failures (a malformed diff, an unknown revision, a bad rule pack).
//!
//! Exit codes: 0 success; 1 the risk band reached `--fail-on`; 2 usage or input errors
//! (clap's own usage errors are 2 as well).
//!
//! Startup is kept cheap: the analyzer is built once per process and nothing else (no async
//! runtime, no database) is set up unless the subcommand needs it.

mod commands;
mod pull_request;
mod setup;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// S-Express: a first, evidence-backed read of a dodgy pull request.
#[derive(Debug, Parser)]
#[command(
    name = "s-express",
    version,
    about = "S-Express: assess dodgy pull requests — an automated first read with evidence, then human experts.",
    long_about = "S-Express analyzes a code change (a diff, patch, mbox or git range) for supply-chain \
                  attack patterns — encoded payloads, install hooks, CI injection, exfiltration, Unicode \
                  tricks, sabotage, review evasion — and reports findings with evidence and a risk band \
                  (low / review / high).",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyze one change: a diff/patch/mbox file, standard input, or a git range.
    Analyze(Box<commands::analyze::AnalyzeArgs>),
    /// Analyze every commit of a repository's history and rank them by risk.
    Scan(Box<commands::scan::ScanArgs>),
    /// List the built-in detectors and rules.
    Detectors(commands::detectors::DetectorsArgs),
    /// Run the service: web API and background jobs.
    Serve(Box<commands::serve::ServeArgs>),
    /// Run only the background jobs (same settings as `serve`).
    Worker(Box<commands::serve::ServeArgs>),
    /// Operator tasks on the database: migrations, users, subgroups, invitations, seeding.
    Admin(commands::admin::AdminArgs),
    /// Export the open dataset of published cases (JSON Lines or CSV).
    Export(Box<commands::export::ExportArgs>),
    /// Fit or evaluate the risk model against expert verdicts.
    Model(Box<commands::model::ModelArgs>),
    /// Verify a transparency log from outside.
    Log(commands::log::LogArgs),
    /// A weekly or monthly trend report over published cases (HTML, Markdown or JSON).
    Report(Box<commands::report::ReportArgs>),
    /// Forward a change to an S-Express service and print its first assessment.
    Submit(Box<commands::submit::SubmitArgs>),
    /// The mail intake: deliver a forwarded message (MTA pipe), process a Maildir, show your address.
    Mail(commands::mail::MailArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let no_color = setup::no_color_env();
    let result = match cli.command {
        Command::Analyze(a) => commands::analyze::run(&a, no_color),
        Command::Scan(a) => commands::scan::run(&a),
        Command::Detectors(a) => commands::detectors::run(&a),
        Command::Serve(a) => commands::serve::run(*a).map(|()| 0),
        Command::Worker(a) => commands::serve::run_worker(*a).map(|()| 0),
        Command::Admin(a) => run_admin(a),
        Command::Export(a) => commands::export::run(&a),
        Command::Model(a) => commands::model::run(&a),
        Command::Log(a) => commands::log::run(&a),
        Command::Report(a) => commands::report::run(&a),
        Command::Submit(a) => commands::submit::run(&a, no_color),
        Command::Mail(a) => commands::mail::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            report_error(&e);
            ExitCode::from(2)
        }
    }
}

fn run_admin(args: commands::admin::AdminArgs) -> anyhow::Result<u8> {
    // Only the admin commands need an async runtime; building it here keeps `analyze` fast.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(commands::admin::run(args))?;
    Ok(0)
}

/// Write to stdout, flushing; a closed pipe (`| head`) surfaces as an error that `main` ends
/// quietly on.
pub(crate) fn write_stdout(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Hints for failures we know how to explain.
fn hints(e: &anyhow::Error) -> Vec<String> {
    let mut out = Vec::new();
    for cause in e.chain() {
        if let Some(d) = cause.downcast_ref::<sx_analyzer::diff::DiffError>() {
            let mut h =
                "s-express reads unified diffs: `git diff`, `git show`, `git format-patch` \
                         mails or mboxes, and `diff -u` output"
                    .to_string();
            if let Some(line) = d.line() {
                h.push_str(&format!("; look at input line {line}"));
            }
            out.push(h);
        }
        if let Some(g) = cause.downcast_ref::<sx_forge::GitError>() {
            match g {
                sx_forge::GitError::Open { .. } => {
                    out.push("pass the path of a git working tree or bare repository to --repo".into())
                }
                sx_forge::GitError::Revision { .. } => out.push(
                    "name commits by id, branch or tag (`git log --oneline` lists them); fetch the PR branch first"
                        .into(),
                ),
                _ => {}
            }
        }
        if cause
            .downcast_ref::<sx_analyzer::rules::RuleError>()
            .is_some()
        {
            out.push("see docs/rule-authors.md for the rule pack format".into());
        }
        if cause
            .downcast_ref::<sx_analyzer::suppress::SuppressError>()
            .is_some()
        {
            out.push(
                "each [[suppress]] needs path, detector, the 64-hex fingerprint from a report, and a reason".into(),
            );
        }
    }
    out
}

/// Print an error chain: `error:` and `caused by:` lines, then every `help:` line last.
fn report_error(e: &anyhow::Error) {
    let mut help: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let mut body = Vec::new();
        for line in text.lines() {
            match line.trim_start().strip_prefix("help:") {
                Some(h) => help.push(h.trim().to_string()),
                None => body.push(line),
            }
        }
        if !body.is_empty() {
            lines.push(body.join("\n"));
        }
    }
    help.extend(hints(e));
    let mut err = std::io::stderr().lock();
    for (i, l) in lines.iter().enumerate() {
        let prefix = if i == 0 { "error" } else { "  caused by" };
        // Messages can quote hostile input (a path, a revision): show it escaped, line by line.
        for (j, part) in l.lines().enumerate() {
            let lead = if j == 0 {
                format!("{prefix}:")
            } else {
                " ".repeat(prefix.len() + 1)
            };
            let _ = writeln!(err, "{lead} {}", sx_analyzer::output::visible(part));
        }
    }
    for h in help {
        let _ = writeln!(err, "help: {h}");
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_contexts_are_printed_last_and_diff_errors_get_a_hint() {
        let e = sx_analyzer::diff::parse(
            b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ nope\n",
            &Default::default(),
        )
        .map_err(anyhow::Error::from)
        .map_err(|e| e.context("cannot parse x"))
        .unwrap_err();
        let h = hints(&e);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h[0].contains("line 4"), "{h:?}");
    }
}
