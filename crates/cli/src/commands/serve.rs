//! `s-express serve`: the HTTP API and the background job worker.
//!
//! Settings come from flags, then `S_EXPRESS_*` environment variables, then a TOML config
//! file (`--config FILE` or `S_EXPRESS_CONFIG`), then defaults; see `sx_server::config` for
//! every key. On first start the SQLite database and the instance signing key are created in
//! the data directory. SIGTERM or Ctrl-C stops accepting connections, lets in-flight requests
//! finish, lets the worker finish the job it holds, then exits.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use sx_server::{Config, ConfigLayer};

/// Arguments of `s-express serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", env = "S_EXPRESS_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Directory for the SQLite database and local state [default: the working directory].
    #[arg(long, value_name = "DIR", env = "S_EXPRESS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL: `sqlite://PATH` or `postgres://USER@HOST/DB` [default: SQLite in the data directory].
    #[arg(long = "database", value_name = "URL", env = "S_EXPRESS_DATABASE_URL")]
    pub database: Option<String>,

    /// TOML config file (keys as in `docs/operators.md`; flags and env vars override it).
    #[arg(long, value_name = "FILE", env = "S_EXPRESS_CONFIG")]
    pub config: Option<PathBuf>,

    /// The URL users reach this instance at; `https://` makes session cookies Secure [default: http:// and the --listen address].
    #[arg(long, value_name = "URL", env = "S_EXPRESS_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// Longest time from receipt to publication without a two-coordinator extension, in days [default: 90].
    #[arg(long, value_name = "DAYS", env = "S_EXPRESS_MAX_GRACE_DAYS")]
    pub max_grace_days: Option<u32>,

    /// First human assessment due this many hours after receipt [default: 24].
    #[arg(long, value_name = "HOURS", env = "S_EXPRESS_SLA_HOURS")]
    pub sla_hours: Option<u32>,

    /// Largest accepted change (diff/patch/mbox text), in bytes; larger ones get 413 [default: 8388608 = 8 MiB].
    #[arg(long, value_name = "BYTES", env = "S_EXPRESS_MAX_CHANGE_BYTES")]
    pub max_change_bytes: Option<usize>,

    /// Serve the API only; run background jobs with `s-express worker` instead.
    #[arg(long)]
    pub no_worker: bool,
}

impl ServeArgs {
    fn layer(&self) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database.clone(),
            public_base_url: self.public_base_url.clone(),
            max_grace_days: self.max_grace_days,
            sla_hours: self.sla_hours,
            max_change_bytes: self.max_change_bytes,
            run_worker: self.no_worker.then_some(false),
            ..ConfigLayer::default()
        }
    }
}

/// Runs `s-express serve` on its own tokio runtime until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    run_until_stopped(&args, "serve", "running the server", |config| {
        sx_server::serve(config, sx_server::shutdown_signal())
    })
}

/// Runs `s-express worker`: only the background jobs (analysis, publication, checkpoints), for
/// deployments that run the API and the jobs in separate processes. Takes the same settings.
pub fn run_worker(args: ServeArgs) -> anyhow::Result<()> {
    run_until_stopped(&args, "worker", "running the job worker", |config| {
        sx_server::work(config, sx_server::shutdown_signal())
    })
}

/// Loads the configuration of `s-express <command>` and runs `task` with it on its own tokio
/// runtime (`doing` names the task in its error).
fn run_until_stopped<F, Fut>(
    args: &ServeArgs,
    command: &str,
    doing: &'static str,
    task: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = Result<(), sx_server::ServerError>>,
{
    // The binary's edge: the one place the environment is read.
    let config = Config::load(args.layer(), args.config.as_deref(), std::env::vars())
        .with_context(|| {
            format!(
                "reading the configuration\nhelp: see `s-express {command} --help` for every setting"
            )
        })?;
    sx_server::init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(task(config)).context(doing)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flags_become_the_highest_config_layer() {
        let cli = Cli::try_parse_from([
            "serve",
            "--listen",
            "127.0.0.1:9999",
            "--sla-hours",
            "12",
            "--no-worker",
        ])
        .unwrap();
        let config = Config::resolve(cli.serve.layer()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(config.sla_hours, 12);
        assert!(!config.run_worker);
    }
}
