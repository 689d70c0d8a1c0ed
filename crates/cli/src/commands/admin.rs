//! `s-express admin`: operator tasks on the database.
//!
//! - `migrate` applies pending schema migrations (the server also applies them on start).
//! - `seed --cases N --assessments M` loads synthetic data for benchmarks and load tests.
//! - `create-user HANDLE [--admin] [--role R]… [--password-stdin] [--token NAME]` creates an
//!   account (the first admin of a new instance, say) and optionally prints an API token once.
//!
//! The database comes from `--database URL` or `S_EXPRESS_DATABASE_URL`; a plain path or
//! `sqlite://PATH` selects SQLite (created if missing), `postgres://…` selects PostgreSQL.

use std::time::Instant;

use anyhow::Context as _;
use sx_store::{AnyStore, Backend, OpenOptions, seed::SeedSpec};

/// Default database: an SQLite file in the current directory.
pub const DEFAULT_DATABASE: &str = "s-express.sqlite";

/// Arguments of `s-express admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// Database URL: `sqlite://PATH`, a file path, or `postgres://USER@HOST/DB`.
    #[arg(long = "database", env = "S_EXPRESS_DATABASE_URL", default_value = DEFAULT_DATABASE, global = true)]
    pub database: String,

    /// PostgreSQL schema to use instead of the default search path.
    #[arg(long, env = "S_EXPRESS_DATABASE_SCHEMA", global = true)]
    pub schema: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// `s-express admin` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Apply pending database migrations.
    Migrate,
    /// Load synthetic cases and assessments (for benchmarks; never into a production database).
    Seed {
        /// Number of cases.
        #[arg(long, default_value_t = 10_000)]
        cases: u64,
        /// Number of assessments (at most one per case).
        #[arg(long, default_value_t = 2_000)]
        assessments: u64,
    },
    /// Create an account; with --token, print a new API token for it (shown once).
    CreateUser {
        /// Login handle: ASCII letters, digits, '-', '_' and '.'.
        handle: String,
        /// Give the admin role (operates the instance; no extra right to read sealed cases).
        #[arg(long)]
        admin: bool,
        /// Further roles: maintainer, expert, coordinator, admin.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Read the password from the first line of standard input (never from a flag, so it
        /// stays out of shell history and process lists).
        #[arg(long)]
        password_stdin: bool,
        /// Also create an API token with this name and print it.
        #[arg(long, value_name = "NAME")]
        token: Option<String>,
    },
}

/// Runs `s-express admin`. Needs a tokio runtime (the caller's `#[tokio::main]`).
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let store = open(&args).await?;
    let result = match args.command {
        AdminCommand::Migrate => {
            store
                .migrate()
                .await
                .with_context(|| format!("migrating {}", redact(&args.database)))?;
            println!("database {} is up to date", redact(&args.database));
            Ok(())
        }
        AdminCommand::Seed { cases, assessments } => {
            let started = Instant::now();
            let report = store
                .seed(&SeedSpec::new(cases, assessments))
                .await
                .context("seeding failed\nhelp: seed into an empty database; seeded ids are fixed, so a second run collides")?;
            println!(
                "seeded {} cases, {} assessments, {} projects, {} experts, {} subgroups in {:.1} s",
                report.cases,
                report.assessments,
                report.projects,
                report.experts,
                report.subgroups,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        AdminCommand::CreateUser {
            handle,
            admin,
            roles,
            password_stdin,
            token,
        } => {
            create_user(
                &store,
                handle,
                admin,
                &roles,
                password_stdin,
                token.as_deref(),
            )
            .await
        }
    };
    store.close().await;
    result
}

async fn create_user(
    store: &AnyStore,
    handle: String,
    admin: bool,
    roles: &[String],
    password_stdin: bool,
    token: Option<&str>,
) -> anyhow::Result<()> {
    let mut set = std::collections::BTreeSet::new();
    if admin {
        set.insert(sx_domain::Role::Admin);
    }
    for r in roles {
        let role: sx_domain::Role = r.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown role {r:?}\nhelp: roles are maintainer, expert, coordinator and admin"
            )
        })?;
        set.insert(role);
    }
    anyhow::ensure!(
        !set.is_empty(),
        "a user needs at least one role\nhelp: pass --admin or --role maintainer|expert|coordinator"
    );
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(!line.is_empty(), "standard input held no password");
        Some(line)
    } else {
        None
    };
    let now = time::OffsetDateTime::now_utc();
    let new = sx_server::accounts::NewUser {
        handle: handle.clone(),
        display_name: None,
        password,
        roles: set,
    };
    let user = sx_server::accounts::create_user(store, new, now)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create user {handle:?}: {}", e.message))?;
    println!("created user {} ({})", user.handle, user.id);
    if let Some(name) = token {
        let issued = sx_server::accounts::issue_token(store, user.id, name, None, now)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create token: {}", e.message))?;
        println!("API token (shown once, store it now): {}", issued.secret);
    }
    Ok(())
}

async fn open(args: &AdminArgs) -> anyhow::Result<AnyStore> {
    let backend = sx_store::backend_for(&args.database)?;
    // Opening applies pending migrations (and creates the instance key on first start).
    let mut options = OpenOptions::default();
    if let Some(schema) = &args.schema {
        anyhow::ensure!(
            backend == Backend::Postgres,
            "--schema only applies to PostgreSQL databases"
        );
        options = options.schema(schema.clone());
    }
    sx_store::open_with(&args.database, &options).await.with_context(|| {
        format!(
            "opening database {}\nhelp: check --database / S_EXPRESS_DATABASE_URL and that the server is reachable",
            redact(&args.database)
        )
    })
}

/// Hides a password in a URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        admin: AdminArgs,
    }

    #[test]
    fn seed_arguments_parse_with_the_default_database() {
        let cli = Cli::try_parse_from(["x", "seed", "--cases", "5", "--assessments", "2"]).unwrap();
        assert!(matches!(
            cli.admin.command,
            AdminCommand::Seed {
                cases: 5,
                assessments: 2
            }
        ));
        assert!(
            cli.admin.database == DEFAULT_DATABASE
                || std::env::var_os("S_EXPRESS_DATABASE_URL").is_some()
        );
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("postgres://sx:hunter2@db/sx"),
            "postgres://sx:***@db/sx"
        );
        assert_eq!(redact("postgres://sx@db/sx"), "postgres://sx@db/sx");
        assert_eq!(redact("s-express.sqlite"), "s-express.sqlite");
    }
}
