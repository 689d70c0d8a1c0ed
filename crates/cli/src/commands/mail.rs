//! `s-express mail`: the mail intake.
//!
//! - `deliver` reads one RFC 5322 message on standard input and turns it into a case on the
//!   instance's database — for an MTA (a Postfix `pipe` transport or alias, an Exim pipe, a
//!   fetchmail `mda`). Its exit status follows `sysexits.h`, which MTAs understand: 0 the case
//!   was created (or the message had already become one); 65 (`EX_DATAERR`) the message is
//!   refused for good, and standard error says why (the MTA bounces it with that text); 75
//!   (`EX_TEMPFAIL`) the database or the configuration is not ready, or the sender's account
//!   reached its hourly limit of cases by mail (`[mail] max_cases_per_hour`; standard error
//!   says from when it can be accepted): the MTA keeps the message and retries. Log lines go to `--log-file` (default `<data dir>/mail.log`), never to
//!   standard error, so a bounce carries only the reason meant for the sender.
//! - `maildir DIR` processes every message in `DIR/new/`: each accepted one moves to
//!   `DIR/cur/` (flagged seen), each refused one to the `--rejected` Maildir (default the
//!   Maildir++ folder `DIR/.Rejected`) with an `X-S-Express-Refused:` header line giving the
//!   reason, in front of the untouched message. A database that is not available stops the run
//!   and leaves the rest in `new/` for the next one (exit 75); a message whose sender reached
//!   the hourly limit stays in `new/` for a later run while the others are processed (exit 75
//!   at the end). One run at a time per Maildir
//!   (a lock file, `DIR/.s-express.lock`).
//! - `address` shows the caller's intake address settings through the API, and `--new` makes
//!   a new address (shown once) — like `submit`, with `S_EXPRESS_SERVER` and `S_EXPRESS_TOKEN`.
//!
//! `deliver` and `maildir` take the settings of `serve` (`--config`, `--database`,
//! `--data-dir`, `S_EXPRESS_*`), so they work on the same database as the running service;
//! its worker picks the new case's analysis job up as for any other case.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};
use sx_server::mail::{Delivered, DeliveryError, Envelope};
use sx_server::{AppState, Config, ConfigLayer};

use crate::commands::submit::{ClientConfig, Service};

/// `EX_DATAERR`: the message is refused for good.
pub const EX_DATAERR: u8 = 65;
/// `EX_TEMPFAIL`: try again later.
pub const EX_TEMPFAIL: u8 = 75;

/// Arguments of `s-express mail`.
#[derive(Debug, clap::Args)]
pub struct MailArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: MailCommand,
}

/// `s-express mail` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MailCommand {
    /// Turn one message on standard input into a case (for an MTA pipe; sysexits codes).
    #[command(after_help = "\
Exit status (sysexits.h): 0 the case was created, or the message had already become one; \
65 (EX_DATAERR) refused for good, standard error says why; 75 (EX_TEMPFAIL) try again later \
(the database is not available, or the account reached mail.max_cases_per_hour; standard \
error says from when).

Postfix (master.cf):
  s-express unix - n n - 4 pipe flags=Rq user=sx argv=/usr/local/bin/s-express mail deliver \
--config /etc/s-express/s-express.toml --recipient ${original_recipient}")]
    Deliver(Box<DeliverArgs>),
    /// Turn every message in a Maildir's new/ into a case (for a fetcher plus a timer).
    Maildir(Box<MaildirArgs>),
    /// Show your intake address settings, or make a new address (through the API).
    Address(Box<AddressArgs>),
}

/// Where the instance is: the settings of `serve`.
#[derive(Debug, clap::Args)]
pub struct InstanceArgs {
    /// TOML config file of the instance (keys as in `docs/operators.md`).
    #[arg(long, value_name = "FILE", env = "S_EXPRESS_CONFIG")]
    pub config: Option<PathBuf>,

    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST/DB` [default: SQLite in the data directory].
    #[arg(long = "database", value_name = "URL", env = "S_EXPRESS_DATABASE_URL")]
    pub database: Option<String>,

    /// The instance's data directory [default: the working directory].
    #[arg(long, value_name = "DIR", env = "S_EXPRESS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// The URL users reach the instance at (for the case link printed).
    #[arg(long, value_name = "URL", env = "S_EXPRESS_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
}

/// Arguments of `s-express mail deliver`.
#[derive(Debug, clap::Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    instance: InstanceArgs,

    /// The envelope recipient (the intake address the message was sent to). Postfix's and
    /// Exim's pipes set `$RECIPIENT`; without either, the message's `Delivered-To:`,
    /// `X-Original-To:`, `To:` and `Cc:` are searched.
    #[arg(long, value_name = "ADDRESS", env = "RECIPIENT")]
    recipient: Option<String>,

    /// Append log lines here [default: mail.log in the data directory]; `-` for standard error.
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

/// Arguments of `s-express mail maildir`.
#[derive(Debug, clap::Args)]
pub struct MaildirArgs {
    #[command(flatten)]
    instance: InstanceArgs,

    /// The Maildir (with `new/`, `cur/` and `tmp/`).
    #[arg(value_name = "DIR")]
    dir: PathBuf,

    /// Maildir for refused messages [default: DIR/.Rejected].
    #[arg(long, value_name = "DIR")]
    rejected: Option<PathBuf>,
}

/// Arguments of `s-express mail address`.
#[derive(Debug, clap::Args)]
pub struct AddressArgs {
    /// The S-Express service, e.g. `https://sx.example.org`.
    #[arg(long, value_name = "URL", env = "S_EXPRESS_SERVER")]
    server: Option<String>,

    /// Client config file (server, token or token_file), as for `submit`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Make a new intake address (shown once); the old one stops working at once.
    #[arg(long)]
    new: bool,

    /// Print the API's JSON answer instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `s-express mail`; returns the exit code.
pub fn run(args: MailArgs) -> anyhow::Result<u8> {
    match args.command {
        MailCommand::Deliver(a) => Ok(deliver(&a)),
        MailCommand::Maildir(a) => maildir(&a),
        MailCommand::Address(a) => address(&a),
    }
}

impl InstanceArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let layer = ConfigLayer {
            data_dir: self.data_dir.clone(),
            database_url: self.database.clone(),
            public_base_url: self.public_base_url.clone(),
            ..ConfigLayer::default()
        };
        Config::load(layer, self.config.as_deref(), std::env::vars()).context(
            "reading the configuration\nhelp: pass the same --config or S_EXPRESS_* settings as `s-express serve`",
        )
    }
}

/// Opens the instance's database and state on a small runtime.
fn open(config: Config) -> anyhow::Result<(tokio::runtime::Runtime, AppState)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let state = runtime
        .block_on(AppState::open(config))
        .context("opening the instance's database")?;
    Ok((runtime, state))
}

/// Reads standard input, at most `limit` bytes kept; the rest is read and dropped so the MTA
/// sees the whole message taken. Returns the bytes and the full size.
fn read_stdin(limit: usize) -> std::io::Result<(Vec<u8>, usize)> {
    let mut kept = Vec::new();
    let mut stdin = std::io::stdin().lock();
    let take = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    (&mut stdin).take(take).read_to_end(&mut kept)?;
    let rest = std::io::copy(&mut stdin, &mut std::io::sink())?;
    let size = kept
        .len()
        .saturating_add(usize::try_from(rest).unwrap_or(usize::MAX));
    Ok((kept, size))
}

/// `s-express mail deliver`: never fails as a process; every outcome is an exit code.
fn deliver(args: &DeliverArgs) -> u8 {
    let tempfail = |what: &str, e: &anyhow::Error| {
        eprintln!("temporary failure: {what}: {e:#}");
        EX_TEMPFAIL
    };
    let config = match args.instance.config() {
        Ok(c) => c,
        Err(e) => return tempfail("the S-Express configuration is invalid", &e),
    };
    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        return tempfail(
            &format!(
                "cannot create the data directory {}",
                config.data_dir.display()
            ),
            &anyhow::Error::from(e),
        );
    }
    let log = args
        .log_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("mail.log"));
    if log == Path::new("-") {
        sx_server::init_logging();
    } else if let Err(e) = sx_server::init_logging_to_file(&log) {
        return tempfail(
            &format!("cannot append to the log file {}", log.display()),
            &anyhow::Error::from(e),
        );
    }
    let (raw, size) = match read_stdin(config.mail.max_message_bytes) {
        Ok(r) => r,
        Err(e) => return tempfail("cannot read the message", &anyhow::Error::from(e)),
    };
    if size > config.mail.max_message_bytes {
        eprintln!(
            "{}",
            sx_forge::mail::MailError::TooLarge {
                size,
                limit: config.mail.max_message_bytes,
            }
        );
        return EX_DATAERR;
    }
    let (runtime, state) = match open(config) {
        Ok(s) => s,
        Err(e) => return tempfail("the S-Express database is not available", &e),
    };
    let envelope = Envelope {
        recipient: args.recipient.clone().filter(|r| !r.trim().is_empty()),
    };
    let outcome = runtime.block_on(sx_server::mail::deliver(&state, &raw, &envelope));
    runtime.block_on(state.store.close());
    match outcome {
        Ok(Delivered::Created {
            case_id,
            url,
            project,
            patches,
            files,
        }) => {
            println!(
                "Case {case_id} received for {project} ({patches} patch(es), {files} file(s)): {url}"
            );
            0
        }
        Ok(Delivered::AlreadyReceived { case_id, url }) => {
            println!("This message was already received as case {case_id}: {url}");
            0
        }
        Err(e @ DeliveryError::Refused { .. }) => {
            eprintln!("{e}");
            EX_DATAERR
        }
        Err(e) => {
            eprintln!("{e}");
            EX_TEMPFAIL
        }
    }
}

/// What a maildir run did.
#[derive(Debug, Default)]
struct Tally {
    created: usize,
    again: usize,
    refused: usize,
    deferred: usize,
}

/// `s-express mail maildir DIR`.
fn maildir(args: &MaildirArgs) -> anyhow::Result<u8> {
    let new_dir = args.dir.join("new");
    let cur_dir = args.dir.join("cur");
    if !new_dir.is_dir() || !cur_dir.is_dir() {
        bail!(
            "{} is not a Maildir (it needs new/ and cur/)\nhelp: point it at the Maildir your fetcher delivers to, e.g. ~/Maildir",
            args.dir.display()
        );
    }
    let rejected = args
        .rejected
        .clone()
        .unwrap_or_else(|| args.dir.join(".Rejected"));
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(rejected.join(sub))
            .with_context(|| format!("cannot create the Maildir {}", rejected.display()))?;
    }
    let lock_path = args.dir.join(".s-express.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the lock file {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "another `s-express mail maildir` is processing {}; nothing to do",
                args.dir.display()
            );
            return Ok(0);
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).context(format!("cannot lock {}", lock_path.display()));
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&new_dir)
        .with_context(|| format!("cannot read {}", new_dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let config = args.instance.config()?;
    sx_server::init_logging();
    let limit = config.mail.max_message_bytes;
    let (runtime, state) = match open(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("temporary failure: the S-Express database is not available: {e:#}");
            return Ok(EX_TEMPFAIL);
        }
    };
    let mut tally = Tally::default();
    let mut code = 0;
    for name in names {
        let path = new_dir.join(&name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let outcome = if usize::try_from(size).unwrap_or(usize::MAX) > limit {
            Err(DeliveryError::Refused {
                message: sx_forge::mail::MailError::TooLarge {
                    size: usize::try_from(size).unwrap_or(usize::MAX),
                    limit,
                }
                .to_string(),
                detail: None,
            })
        } else {
            let raw =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            runtime.block_on(sx_server::mail::deliver(&state, &raw, &Envelope::default()))
        };
        match outcome {
            Ok(delivered) => {
                let seen = cur_dir.join(format!("{}:2,S", base_name(&name)));
                std::fs::rename(&path, &seen).with_context(|| {
                    format!("cannot move {} to {}", path.display(), seen.display())
                })?;
                match delivered {
                    Delivered::Created { case_id, url, .. } => {
                        tally.created += 1;
                        println!("{name}: case {case_id} received: {url}");
                    }
                    Delivered::AlreadyReceived { case_id, .. } => {
                        tally.again += 1;
                        println!("{name}: already received as case {case_id}");
                    }
                }
            }
            Err(e @ DeliveryError::Refused { .. }) => {
                tally.refused += 1;
                reject(&path, &rejected, &name, e.detail())?;
                println!("{name}: refused: {}", e.detail());
            }
            // One account's limit: its message waits in new/, the others' go on.
            Err(e @ DeliveryError::RateLimited { .. }) => {
                tally.deferred += 1;
                code = EX_TEMPFAIL;
                println!("{name}: left in new/ for a later run: {e}");
            }
            Err(e) => {
                eprintln!("{name}: {e}; stopping, the rest stays in new/ for the next run");
                code = EX_TEMPFAIL;
                break;
            }
        }
    }
    runtime.block_on(state.store.close());
    println!(
        "{} case(s) created, {} message(s) already received, {} refused (in {}), {} left for a later run",
        tally.created,
        tally.again,
        tally.refused,
        rejected.display(),
        tally.deferred
    );
    Ok(code)
}

/// A Maildir file name without its `:2,…` info part.
fn base_name(name: &str) -> &str {
    name.split_once(':').map_or(name, |(base, _)| base)
}

/// Moves a refused message into the rejected Maildir's `new/`, with the reason as a header
/// line in front of the untouched message (written to `tmp/` first, as Maildir requires).
fn reject(path: &Path, rejected: &Path, name: &str, reason: &str) -> anyhow::Result<()> {
    let original =
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reason: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(900)
        .collect();
    let mut out = format!("X-S-Express-Refused: {reason}\n").into_bytes();
    out.extend_from_slice(&original);
    let tmp = rejected.join("tmp").join(base_name(name));
    std::fs::write(&tmp, &out).with_context(|| format!("cannot write {}", tmp.display()))?;
    let target = rejected.join("new").join(base_name(name));
    std::fs::rename(&tmp, &target)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), target.display()))?;
    std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(())
}

/// `s-express mail address [--new]`.
fn address(args: &AddressArgs) -> anyhow::Result<u8> {
    let config = ClientConfig::load(args.config.as_deref())?;
    let server = args.server.clone().or_else(|| config.server.clone()).ok_or_else(|| {
        anyhow!(
            "no service to ask\nhelp: pass --server URL, set S_EXPRESS_SERVER, or `server = \"…\"` in ~/.config/s-express/config.toml"
        )
    })?;
    let service = Service::new(&server, config.token()?, std::time::Duration::from_secs(30))?;
    let answer = if args.new {
        service.post("/api/v1/me/mail-intake", &json!({}))?
    } else {
        service.get("/api/v1/me/mail-intake")?
    };
    let view = service.check(answer, "reading your mail intake address")?;
    if args.json {
        crate::write_stdout(&format!("{view:#}\n"))?;
        return Ok(0);
    }
    crate::write_stdout(&describe(&view))?;
    Ok(0)
}

/// The intake settings as text.
fn describe(view: &Value) -> String {
    if view["available"] != Value::Bool(true) {
        return "This instance has no mail intake; forward changes with `s-express submit`.\n"
            .into();
    }
    let mut out = String::new();
    if let Some(address) = view["address"].as_str() {
        out.push_str(&format!(
            "Your new intake address (shown only now; the old one no longer works):\n\n    {address}\n\n"
        ));
    } else if view["address_set"] == Value::Bool(true) {
        out.push_str(&format!(
            "You have an intake address (made {}; last used {}). It is shown only when made: \
             run `s-express mail address --new` to replace it.\n",
            view["created_at"].as_str().unwrap_or("?"),
            view["last_used_at"].as_str().unwrap_or("never"),
        ));
    } else {
        out.push_str("You have no intake address yet: run `s-express mail address --new`.\n");
    }
    match view["sender"].as_str() {
        Some(sender) => out.push_str(&format!(
            "Messages to it are accepted only from {sender} (your notification address).\n"
        )),
        None => out.push_str(
            "No sender is accepted yet: set your notification e-mail address first \
             (PUT /api/v1/me/notifications, or the settings page); forwarded mail must come from it.\n",
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_names_lose_their_info_part() {
        assert_eq!(
            base_name("1700000000.M1P2.host:2,S"),
            "1700000000.M1P2.host"
        );
        assert_eq!(base_name("1700000000.M1P2.host"), "1700000000.M1P2.host");
    }

    #[test]
    fn the_address_text_says_what_is_missing() {
        let text = describe(&json!({"available": true, "address_set": false, "sender": null}));
        assert!(text.contains("mail address --new") && text.contains("notification e-mail"));
        let text = describe(&json!({
            "available": true, "address_set": true, "address": "submit+abc@intake.example.invalid",
            "sender": "mia@example.invalid"
        }));
        assert!(
            text.contains("submit+abc@intake.example.invalid")
                && text.contains("mia@example.invalid")
        );
        assert!(describe(&json!({"available": false})).contains("no mail intake"));
    }
}
