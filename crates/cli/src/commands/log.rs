//! `s-express log verify`: check a transparency log from outside.
//!
//! With `--url BASE` it downloads every signed checkpoint (`GET /api/v1/log/checkpoints`) and
//! then every entry (`GET /api/v1/log`, 1,000 per page), each answer bounded in size and the
//! whole download bounded by `--max-bytes`; with `--file EXPORT` it reads an export
//! (`GET /api/v1/log/export`). Either way the checks are the store's own pure verifier
//! ([`sx_store::translog::verify_export`]): sequence, hash chain, timestamps, every checkpoint
//! signature, every revealed commitment and complete reveals. The format is documented in
//! `docs/transparency.md`.
//!
//! The public key should come from somewhere other than the server being checked (`--key`);
//! without it the key the server or export names is used, and a warning says so.
//!
//! Exit codes: 0 the log verifies; 1 it does not (the first violation is printed); 2 the log
//! could not be obtained or read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde::Deserialize;
use sx_store::translog::{Checkpoint, EXPORT_FORMAT, Entry, Export, verify_export};

/// Largest single HTTP answer accepted.
const MAX_ANSWER: u64 = 64 << 20;

/// Arguments of `s-express log`.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LogCommand,
}

/// `s-express log` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Verify the chain, the checkpoint signatures and every revealed commitment.
    Verify(VerifyArgs),
}

/// Arguments of `s-express log verify`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["url", "file"])))]
pub struct VerifyArgs {
    /// Base URL of an S-Express instance, e.g. `https://sx.example.org`.
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,
    /// A log export (JSON, format `s-express-translog/v1`).
    #[arg(long, value_name = "EXPORT")]
    pub file: Option<PathBuf>,
    /// The instance's Ed25519 public key (64 hex digits), obtained independently of the log.
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
    /// Stop if the download or file exceeds this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 30)]
    pub max_bytes: u64,
    /// HTTP timeout per request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

#[derive(Debug, Deserialize)]
struct LogPage {
    public_key: String,
    entries: Vec<Entry>,
    next_from: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct CheckpointPage {
    public_key: String,
    checkpoints: Vec<Checkpoint>,
    next_from: Option<u64>,
}

struct Client {
    base: String,
    agent: ureq::Agent,
    budget: u64,
    used: u64,
}

impl Client {
    fn get<T: serde::de::DeserializeOwned>(&mut self, path: &str) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let mut r = self
            .agent
            .get(&url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| {
                anyhow!(e).context(format!(
                    "cannot reach {url}\nhelp: check --url and that the instance is running"
                ))
            })?;
        let status = r.status().as_u16();
        let remaining = self.budget.saturating_sub(self.used);
        let limit = MAX_ANSWER.min(remaining);
        let text = r
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_string()
            .map_err(|e| {
                anyhow!(e).context(format!(
                    "reading {url}: the answer is over {limit} bytes or broken\nhelp: raise --max-bytes if the log is that large"
                ))
            })?;
        self.used += text.len() as u64;
        if status != 200 {
            bail!(
                "{url} answered HTTP {status}: {}\nhelp: is this an S-Express instance of a version with a public log API?",
                sx_analyzer::output::visible(&text.chars().take(300).collect::<String>())
            );
        }
        serde_json::from_str(&text).with_context(|| format!("{url} did not answer a log page"))
    }
}

/// Downloads the whole log over HTTP into the export format.
fn download(args: &VerifyArgs, base: &str) -> anyhow::Result<Export> {
    let base = base.trim().trim_end_matches('/').to_string();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!("--url {base:?} is not an http:// or https:// URL");
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(args.timeout.max(1))))
        .build()
        .into();
    let mut client = Client {
        base,
        agent,
        budget: args.max_bytes,
        used: 0,
    };
    // Checkpoints first: entries appended while downloading are then merely unsigned, never
    // "missing" from a checkpoint that covers them.
    let mut checkpoints = Vec::new();
    let mut public_key: Option<String> = None;
    let mut from = 0u64;
    loop {
        let page: CheckpointPage = client.get(&format!("/api/v1/log/checkpoints?from={from}"))?;
        same_key(&mut public_key, &page.public_key)?;
        let got = page.checkpoints.len() as u64;
        checkpoints.extend(page.checkpoints);
        match page.next_from {
            Some(next) if next > from && got > 0 => from = next,
            _ => break,
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut from = 0u64;
    loop {
        let page: LogPage = client.get(&format!("/api/v1/log?from={from}&limit=1000"))?;
        same_key(&mut public_key, &page.public_key)?;
        let got = page.entries.len() as u64;
        entries.extend(page.entries);
        match page.next_from {
            Some(next) if next > from && got > 0 => from = next,
            _ => break,
        }
    }
    Ok(Export {
        format: EXPORT_FORMAT.to_string(),
        public_key: public_key.unwrap_or_default(),
        entries,
        checkpoints,
    })
}

fn same_key(seen: &mut Option<String>, got: &str) -> anyhow::Result<()> {
    match seen {
        Some(k) if !k.eq_ignore_ascii_case(got) => bail!(
            "the server changed its public key during the download ({k} then {got}); try again"
        ),
        Some(_) => Ok(()),
        None => {
            *seen = Some(got.to_string());
            Ok(())
        }
    }
}

fn parse_key(hex_key: &str) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut bytes)
        .map_err(|_| anyhow!("the public key {hex_key:?} is not 64 hex digits"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| anyhow!("{hex_key} is not a valid Ed25519 public key"))
}

/// Runs `s-express log`.
pub fn run(args: &LogArgs) -> anyhow::Result<u8> {
    let LogCommand::Verify(v) = &args.command;
    let export = match (&v.url, &v.file) {
        (Some(url), _) => download(v, url)?,
        (None, Some(path)) => {
            let size = std::fs::metadata(path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            if size > v.max_bytes {
                bail!(
                    "{} is {size} bytes, over --max-bytes {}",
                    path.display(),
                    v.max_bytes
                );
            }
            let text =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_slice(&text).with_context(|| {
                format!(
                    "{} is not a log export\nhelp: download one from /api/v1/log/export",
                    path.display()
                )
            })?
        }
        (None, None) => bail!("pass --url BASE or --file EXPORT"),
    };
    let key = match &v.key {
        Some(k) => parse_key(k)?,
        None => {
            eprintln!(
                "warning: no --key given: trusting the public key the log itself names ({}); obtain the instance's key independently and pass --key to pin it",
                sx_analyzer::output::visible(&export.public_key)
            );
            parse_key(&export.public_key).context("the log names no usable public key")?
        }
    };
    match verify_export(&export, &key) {
        Ok(summary) => {
            let mut out = format!(
                "log verified: {} entries, head {}\n{} checkpoints with valid signatures; the newest covers {} entries\n{} sealed entries, {} opened by matching reveals\n",
                summary.entries,
                summary.head_hash,
                summary.checkpoints,
                summary.signed_size,
                summary.sealed,
                summary.revealed
            );
            if summary.entries > summary.signed_size {
                out.push_str(&format!(
                    "note: the last {} entries are chained but not yet covered by a signed checkpoint\n",
                    summary.entries - summary.signed_size
                ));
            }
            if summary.checkpoints == 0 {
                out.push_str("warning: the log has no signed checkpoint, so nothing binds it to the instance's key yet\n");
            }
            crate::write_stdout(&out)?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("log verification FAILED: {e}");
            Ok(1)
        }
    }
}
