//! `s-express admin`: operator tasks on the database.
//!
//! - `migrate` applies pending schema migrations (the server also applies them on start).
//! - `seed --cases N --assessments M` loads synthetic data for benchmarks and load tests.
//! - `create-user HANDLE [--admin] [--role R]… [--password-stdin] [--token NAME]` creates an
//!   account (the first admin of a new instance, say) and optionally prints an API token once.
//! - `subgroup create|list|add-member|remove-member|add-coordinator|remove-coordinator`
//!   manages the expert subgroups cases are routed to (by the languages and attack vectors
//!   they take; the fallback subgroup `general` takes what no other subgroup matches), their
//!   members and their coordinators.
//! - `user list|disable|enable|grant|revoke` manages accounts and roles.
//! - `invite` creates an invitation and prints its URL once (the token is stored hashed).
//! - `audit [--limit N] [--before SEQ]` prints the audit trail of privileged actions, newest
//!   first.
//!
//! Accounts, roles, tokens, subgroups, invitations and seeding go through `sx_server::admin`
//! (and `sx_server::accounts`), the same functions the `/admin` page calls (the operator acts
//! as `Actor::Operator`, recorded as `cli/operator`), so the rules and the audit record of
//! each change are the web UI's. None of these operations writes the transparency log, exactly like
//! the same operations through the API: the log records what happens to cases, not account
//! administration.
//!
//! The database comes from `--database URL` or `S_EXPRESS_DATABASE_URL`; a plain path or
//! `sqlite://PATH` selects SQLite (created if missing), `postgres://…` selects PostgreSQL.

use std::time::Instant;

use std::collections::BTreeSet;

use anyhow::Context as _;
use sx_domain::{AttackVector, Language, Role, UserId};
use sx_server::admin::{Actor, AdminError, NewSubgroup, find_subgroup};
use sx_store::{AnyStore, AuditFilter, Backend, OpenOptions, Store as _, seed::SeedSpec};

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
    /// Manage expert subgroups (what cases they take and who is in them).
    Subgroup {
        /// What to do.
        #[command(subcommand)]
        command: SubgroupCommand,
    },
    /// Manage accounts: list, disable, enable, grant and revoke roles.
    User {
        /// What to do.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create an invitation and print its URL (shown once; valid for one account).
    Invite {
        /// Role granted on acceptance: expert (default), coordinator, maintainer, admin.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Subgroup the new account joins (by slug).
        #[arg(long, value_name = "SLUG")]
        subgroup: Option<String>,
        /// Days until the invitation expires (1-365).
        #[arg(long, value_name = "N", default_value_t = sx_server::api::users::INVITATION_DAYS)]
        expires_days: i64,
        /// Address the invitation is for (recorded with it; sending it is up to you).
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Public address of the instance, used to build the invitation URL.
        #[arg(
            long,
            env = "S_EXPRESS_PUBLIC_BASE_URL",
            default_value = "http://127.0.0.1:8080",
            value_name = "URL"
        )]
        base_url: String,
    },
    /// Print the audit trail of privileged actions, newest first (tab-separated: number, time,
    /// actor, action, target, details).
    Audit {
        /// How many records (1-500).
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
        /// Only records older than this number (the last number of the previous page).
        #[arg(long, value_name = "SEQ")]
        before: Option<u64>,
    },
}

/// `s-express admin subgroup` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SubgroupCommand {
    /// Create a subgroup taking cases in the given languages and/or attack vectors.
    ///
    /// Every subgroup needs at least one --language or --vector, except the fallback subgroup
    /// `general`: it takes the cases no other subgroup matches, so it may have none.
    Create {
        /// Short stable name: lowercase letters, digits and '-' (used in URLs and invitations);
        /// `general` makes the fallback subgroup.
        slug: String,
        /// Name to show.
        #[arg(long)]
        name: String,
        /// A language or file kind it takes (rust, python, javascript, go, c-cpp, java, shell,
        /// ruby, php, build, ci, lockfile); repeatable.
        #[arg(long = "language", value_name = "LANGUAGE")]
        languages: Vec<String>,
        /// An attack vector it takes (ci, dependency, obfuscation, exfiltration, install-hook,
        /// binary, unicode, weakening, sabotage, review-evasion, contributor); repeatable.
        #[arg(long = "vector", value_name = "VECTOR")]
        vectors: Vec<String>,
        /// A coordinator of the subgroup, by handle (they must hold the coordinator role);
        /// repeatable.
        #[arg(long = "coordinator", value_name = "HANDLE")]
        coordinators: Vec<String>,
    },
    /// List subgroups with their routing rules, members and coordinators.
    List,
    /// Add an expert to a subgroup (they then see its cases in their queue).
    AddMember {
        /// The subgroup's slug.
        slug: String,
        /// The expert's handle.
        handle: String,
    },
    /// Remove a member from a subgroup.
    RemoveMember {
        /// The subgroup's slug.
        slug: String,
        /// The member's handle.
        handle: String,
    },
    /// Make a coordinator (an account holding the coordinator role) coordinate a subgroup:
    /// they then see its queue and the AMBER material of its cases.
    AddCoordinator {
        /// The subgroup's slug.
        slug: String,
        /// The coordinator's handle.
        handle: String,
    },
    /// Stop a coordinator coordinating a subgroup (their roles stay as they are).
    RemoveCoordinator {
        /// The subgroup's slug.
        slug: String,
        /// The coordinator's handle.
        handle: String,
    },
}

/// `s-express admin user` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// List accounts with their roles, state and subgroups.
    List,
    /// Disable an account: it can no longer log in or use its tokens; its sessions end now.
    Disable {
        /// The account's handle.
        handle: String,
    },
    /// Re-enable a disabled account.
    Enable {
        /// The account's handle.
        handle: String,
    },
    /// Give an account a role (maintainer, expert, coordinator, admin).
    Grant {
        /// The account's handle.
        handle: String,
        /// The role.
        role: String,
    },
    /// Take a role away from an account.
    Revoke {
        /// The account's handle.
        handle: String,
        /// The role.
        role: String,
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
            let report = sx_server::admin::seed(&store, Actor::Operator, &SeedSpec::new(cases, assessments))
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
        AdminCommand::Subgroup { command } => subgroup(&store, command).await,
        AdminCommand::User { command } => user(&store, command).await,
        AdminCommand::Invite {
            roles,
            subgroup,
            expires_days,
            email,
            base_url,
        } => {
            invite(
                &store,
                &roles,
                subgroup.as_deref(),
                expires_days,
                email.as_deref(),
                &base_url,
            )
            .await
        }
        AdminCommand::Audit { limit, before } => audit(&store, limit, before).await,
    };
    store.close().await;
    result
}

async fn audit(store: &AnyStore, limit: u32, before: Option<u64>) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=sx_store::MAX_PAGE).contains(&limit),
        "--limit must be between 1 and {}",
        sx_store::MAX_PAGE
    );
    let filter = AuditFilter {
        before,
        ..AuditFilter::newest(limit)
    };
    let records = sx_server::admin::audit_trail(store, Actor::Operator, &filter)
        .await
        .map_err(refused)?;
    if records.is_empty() {
        println!(
            "no audit records{}",
            if before.is_some() {
                " before that one"
            } else {
                " yet"
            }
        );
        return Ok(());
    }
    let handles: std::collections::HashMap<UserId, String> = store
        .list_users()
        .await
        .context("reading users")?
        .into_iter()
        .map(|u| (u.user.id, u.user.handle))
        .collect();
    let groups: std::collections::HashMap<sx_domain::SubgroupId, String> = store
        .list_subgroups()
        .await
        .context("reading subgroups")?
        .into_iter()
        .map(|g| (g.value.id, g.value.slug))
        .collect();
    for r in &records {
        let e = &r.event;
        let actor = match e.actor.user() {
            Some(id) => handles.get(&id).cloned().unwrap_or_else(|| id.to_string()),
            None => e.actor.to_string(),
        };
        let target = match e.target {
            sx_domain::AuditTarget::User(id) => handles
                .get(&id)
                .map_or_else(|| e.target.to_string(), |h| format!("user:{h}")),
            sx_domain::AuditTarget::Subgroup(id) => groups
                .get(&id)
                .map_or_else(|| e.target.to_string(), |s| format!("subgroup:{s}")),
            other => other.to_string(),
        };
        let details: Vec<String> = e
            .details
            .iter()
            .map(|(k, v)| format!("{k}={}", v.escape_debug()))
            .collect();
        println!(
            "{}\t{}\t{actor}\t{}\t{target}\t{}",
            r.seq,
            e.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            e.action,
            details.join(" "),
        );
    }
    if let Some(last) = records.last().filter(|_| records.len() == limit as usize) {
        eprintln!(
            "older records: s-express admin audit --limit {limit} --before {}",
            last.seq
        );
    }
    Ok(())
}

async fn create_user(
    store: &AnyStore,
    handle: String,
    admin: bool,
    roles: &[String],
    password_stdin: bool,
    token: Option<&str>,
) -> anyhow::Result<()> {
    let mut set = BTreeSet::new();
    if admin {
        set.insert(Role::Admin);
    }
    for r in roles {
        set.insert(parse_role(r)?);
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
    let user = sx_server::admin::create_user(store, Actor::Operator, new, now)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create user {handle:?}: {e}"))?;
    println!("created user {} ({})", user.handle, user.id);
    if let Some(name) = token {
        let issued = sx_server::admin::issue_token(store, Actor::Operator, &user, name, now)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create token: {e}"))?;
        println!("API token (shown once, store it now): {}", issued.secret);
    }
    Ok(())
}

fn parse_role(text: &str) -> anyhow::Result<Role> {
    text.parse().map_err(|_| {
        anyhow::anyhow!(
            "unknown role {text:?}\nhelp: roles are maintainer, expert, coordinator and admin"
        )
    })
}

fn parse_all<T: std::str::FromStr + Ord + std::fmt::Display + Copy>(
    texts: &[String],
    what: &str,
    all: &[T],
) -> anyhow::Result<BTreeSet<T>> {
    texts
        .iter()
        .map(|t| {
            t.parse().map_err(|_| {
                let known: Vec<String> = all.iter().map(ToString::to_string).collect();
                anyhow::anyhow!("unknown {what} {t:?}\nhelp: known: {}", known.join(", "))
            })
        })
        .collect()
}

/// The shared function's refusal as a CLI error, with a "help:" line where the CLI has one.
fn refused(e: AdminError) -> anyhow::Error {
    let help = match &e {
        AdminError::NoSuchUser(_) => "\nhelp: `s-express admin user list` shows every account",
        AdminError::NoSuchSubgroup(_) => {
            "\nhelp: `s-express admin subgroup list` shows them; `admin subgroup create` makes one"
        }
        AdminError::DuplicateSlug(_) => {
            "\nhelp: choose another slug, or add members to the existing one"
        }
        AdminError::NoRouting(_) => {
            "\nhelp: pass at least one --language or --vector; only the fallback subgroup `general` may take none"
        }
        AdminError::NotMember { .. } | AdminError::NotCoordinator { .. } => {
            "\nhelp: `s-express admin subgroup list` shows members and coordinators"
        }
        AdminError::LastRole(_) => {
            "\nhelp: `s-express admin user disable HANDLE` stops an account instead"
        }
        _ => "",
    };
    match e {
        AdminError::NotAnExpert(handle) => anyhow::anyhow!(
            "{handle:?} is neither an expert nor a coordinator\nhelp: `s-express admin user grant {handle} expert` first"
        ),
        AdminError::NotACoordinator(handle) => anyhow::anyhow!(
            "{handle:?} does not hold the coordinator role, so cannot coordinate a subgroup\nhelp: `s-express admin user grant {handle} coordinator` first"
        ),
        e => anyhow::anyhow!("{e}{help}"),
    }
}

async fn subgroup(store: &AnyStore, command: SubgroupCommand) -> anyhow::Result<()> {
    match command {
        SubgroupCommand::Create {
            slug,
            name,
            languages,
            vectors,
            coordinators,
        } => {
            let new = NewSubgroup {
                slug,
                name,
                languages: parse_all(&languages, "language", Language::ALL)?,
                vectors: parse_all(&vectors, "attack vector", AttackVector::ALL)?,
                coordinators,
            };
            let group = sx_server::admin::create_subgroup(store, Actor::Operator, new)
                .await
                .map_err(refused)?;
            println!("created subgroup {} ({})", group.slug, group.id);
            Ok(())
        }
        SubgroupCommand::List => {
            let groups = store.list_subgroups().await.context("reading subgroups")?;
            if groups.is_empty() {
                println!("no subgroups yet; create one with `s-express admin subgroup create`");
            }
            for g in groups {
                let g = g.value;
                let mut members = Vec::new();
                for id in &g.members {
                    members.push(handle_of(store, *id).await?);
                }
                let mut coordinators = Vec::new();
                for id in &g.coordinators {
                    coordinators.push(handle_of(store, *id).await?);
                }
                let joined = |it: Vec<String>| {
                    if it.is_empty() {
                        "-".to_string()
                    } else {
                        it.join(",")
                    }
                };
                println!(
                    "{}\t{}\tlanguages={}\tvectors={}\tmembers={}\tcoordinators={}",
                    g.slug,
                    g.name,
                    joined(
                        g.routing
                            .languages
                            .iter()
                            .map(ToString::to_string)
                            .collect()
                    ),
                    joined(g.routing.vectors.iter().map(ToString::to_string).collect()),
                    joined(members),
                    joined(coordinators),
                );
            }
            Ok(())
        }
        SubgroupCommand::AddMember { slug, handle } => {
            let user = sx_server::admin::add_member(store, Actor::Operator, &slug, &handle)
                .await
                .map_err(refused)?;
            println!("added {} to subgroup {slug}", user.handle);
            Ok(())
        }
        SubgroupCommand::RemoveMember { slug, handle } => {
            let user = sx_server::admin::remove_member(store, Actor::Operator, &slug, &handle)
                .await
                .map_err(refused)?;
            println!("removed {} from subgroup {slug}", user.handle);
            Ok(())
        }
        SubgroupCommand::AddCoordinator { slug, handle } => {
            let user = sx_server::admin::add_coordinator(store, Actor::Operator, &slug, &handle)
                .await
                .map_err(refused)?;
            println!("{} now coordinates subgroup {slug}", user.handle);
            Ok(())
        }
        SubgroupCommand::RemoveCoordinator { slug, handle } => {
            let user = sx_server::admin::remove_coordinator(store, Actor::Operator, &slug, &handle)
                .await
                .map_err(refused)?;
            println!("{} no longer coordinates subgroup {slug}", user.handle);
            Ok(())
        }
    }
}

async fn handle_of(store: &AnyStore, id: UserId) -> anyhow::Result<String> {
    Ok(store
        .get_user(id)
        .await
        .context("reading users")?
        .map_or_else(|| id.to_string(), |u| u.user.handle))
}

async fn user(store: &AnyStore, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::List => {
            let users = store.list_users().await.context("reading users")?;
            let groups = store.list_subgroups().await.context("reading subgroups")?;
            for u in users {
                let roles: Vec<&str> = u.user.roles.iter().map(|r| r.as_str()).collect();
                let slugs: Vec<&str> = groups
                    .iter()
                    .filter(|g| g.value.is_member(u.user.id) || g.value.is_coordinator(u.user.id))
                    .map(|g| g.value.slug.as_str())
                    .collect();
                println!(
                    "{}\t{}\t{}\tsubgroups={}",
                    u.user.handle,
                    if roles.is_empty() {
                        "-".to_string()
                    } else {
                        roles.join(",")
                    },
                    if u.disabled { "disabled" } else { "enabled" },
                    if slugs.is_empty() {
                        "-".to_string()
                    } else {
                        slugs.join(",")
                    },
                );
            }
            Ok(())
        }
        UserCommand::Disable { handle } => {
            let user = sx_server::admin::set_disabled(store, Actor::Operator, &handle, true)
                .await
                .map_err(refused)?;
            println!(
                "disabled {}: logins, sessions and API tokens no longer work",
                user.handle
            );
            Ok(())
        }
        UserCommand::Enable { handle } => {
            let user = sx_server::admin::set_disabled(store, Actor::Operator, &handle, false)
                .await
                .map_err(refused)?;
            println!("enabled {}", user.handle);
            Ok(())
        }
        UserCommand::Grant { handle, role } => change_role(store, &handle, &role, true).await,
        UserCommand::Revoke { handle, role } => change_role(store, &handle, &role, false).await,
    }
}

async fn change_role(
    store: &AnyStore,
    handle: &str,
    role: &str,
    grant: bool,
) -> anyhow::Result<()> {
    let role = parse_role(role)?;
    let (user, changed) = sx_server::admin::set_role(store, Actor::Operator, handle, role, grant)
        .await
        .map_err(refused)?;
    match (grant, changed) {
        (true, true) => println!("granted the {role} role to {}", user.handle),
        (false, true) => println!("revoked the {role} role from {}", user.handle),
        (true, false) => println!("{} already has the {role} role", user.handle),
        (false, false) => println!("{} does not have the {role} role", user.handle),
    }
    Ok(())
}

async fn invite(
    store: &AnyStore,
    roles: &[String],
    subgroup: Option<&str>,
    expires_days: i64,
    email: Option<&str>,
    base_url: &str,
) -> anyhow::Result<()> {
    let mut set = BTreeSet::new();
    for r in roles {
        set.insert(parse_role(r)?);
    }
    if set.is_empty() {
        set.insert(Role::Expert);
    }
    anyhow::ensure!(
        (1..=365).contains(&expires_days),
        "--expires-days must be between 1 and 365"
    );
    let email = email.map(str::trim).unwrap_or_default();
    anyhow::ensure!(
        email.is_empty()
            || (email.len() <= 254
                && email.contains('@')
                && !email.chars().any(|c| c.is_control() || c.is_whitespace())),
        "--email must be an address such as expert@example.org"
    );
    let base = base_url.trim_end_matches('/');
    anyhow::ensure!(
        base.starts_with("https://") || base.starts_with("http://"),
        "--base-url must start with https:// or http://, such as https://sx.example.org"
    );
    let subgroup_id = match subgroup {
        Some(slug) => Some(find_subgroup(store, slug).await.map_err(refused)?.value.id),
        None => None,
    };
    let now = time::OffsetDateTime::now_utc();
    // The same form as `POST /api/v1/invitations` hands out: `/invite/{token}` accepts it
    // like one made through the API.
    let (token, invitation) = sx_server::accounts::issue_invitation(
        store,
        sx_server::accounts::InvitationSpec {
            email: email.to_string(),
            roles: set.clone(),
            subgroup_id,
            invited_by: None,
            valid_for: time::Duration::days(expires_days),
        },
        now,
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot store the invitation: {}", e.message))?;
    let roles: Vec<&str> = set.iter().map(|r| r.as_str()).collect();
    println!(
        "invitation for {} (expires {}); send this link, it is shown once:",
        roles.join(","),
        invitation
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    );
    println!("{base}/invite/{token}");
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
