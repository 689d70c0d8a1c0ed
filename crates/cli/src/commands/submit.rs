//! `s-express submit`: forward a change to an S-Express service.
//!
//! The change is read exactly like `analyze` reads it — a diff, `git format-patch` mail or
//! mbox file, standard input (`-`), a range of a local repository (`--repo PATH
//! BASE..HEAD`, sent as a `format-patch` series so commit messages and authors travel with
//! it), or a pull request URL (fetched through the forge's API like `analyze URL` does, with
//! its title, author, revision and URL as the case's metadata and its repository as the
//! default project; see [`crate::pull_request`]) — and posted to `POST /api/v1/cases`. The
//! service acknowledges only once the case is durably stored, so the case URL is printed at
//! once; then, unless `--no-wait`, the command polls the case until the automated report is
//! attached and prints that first assessment with the analyzer's own text rendering.
//!
//! Where the server and token come from, first match wins: `--server` / `S_EXPRESS_SERVER`,
//! `S_EXPRESS_TOKEN`, then the client config file (`--config FILE`, else
//! `$XDG_CONFIG_HOME/s-express/config.toml`, else `~/.config/s-express/config.toml`):
//!
//! ```toml
//! server = "https://sx.example.org"
//! token = "sxp_…"                 # or: token_file = "/path/to/a/file/holding/the/token"
//! project = "github:owner/name"   # default project when --project is not given
//! ```
//!
//! Exit codes: 0 submitted (and, when waiting, the report arrived); 2 usage, input or server
//! errors; 3 submitted, but the report was not attached within `--timeout`.

use std::io::{IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};
use sx_analyzer::output::{self, RenderOptions};
use sx_domain::{Forge, ProjectSpec};
use sx_forge::{ForgeKind, GitRepo, PullUrl};

use crate::pull_request::ForgeFetchArgs;
use crate::setup::ColorChoice;

/// Largest change `submit` reads (the server enforces its own, usually smaller, limit).
pub const MAX_CHANGE_BYTES: usize = 256 << 20;

/// Exit code when the case was submitted but its report did not arrive in time.
pub const EXIT_REPORT_PENDING: u8 = 3;

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubmitFormat {
    /// The case URL, then the automated report as text.
    Text,
    /// One JSON object: `{"case": {id, url, status}, "report": <analyzer report or null>}`.
    Json,
}

/// Forges a project can live on (as the API names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForgeArg {
    /// github.com or GitHub Enterprise.
    Github,
    /// gitlab.com or a self-hosted GitLab.
    Gitlab,
    /// Forgejo (e.g. codeberg.org).
    Forgejo,
    /// Gitea.
    Gitea,
    /// Patches sent by mail, no forge.
    Email,
}

impl ForgeArg {
    /// The domain's forge.
    fn forge(self) -> Forge {
        match self {
            ForgeArg::Github => Forge::Github,
            ForgeArg::Gitlab => Forge::Gitlab,
            ForgeArg::Forgejo => Forge::Forgejo,
            ForgeArg::Gitea => Forge::Gitea,
            ForgeArg::Email => Forge::Email,
        }
    }

    fn as_str(self) -> &'static str {
        self.forge().as_str()
    }

    /// The forge of a well-known public host.
    fn of_host(host: &str) -> Option<Self> {
        Some(match Forge::of_default_host(host)? {
            Forge::Github => ForgeArg::Github,
            Forge::Gitlab => ForgeArg::Gitlab,
            Forge::Forgejo => ForgeArg::Forgejo,
            Forge::Gitea => ForgeArg::Gitea,
            Forge::Email => ForgeArg::Email,
        })
    }
}

/// `--tlp` values. TLP 2.0 labels, as the service spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlpArg {
    /// Share with the case's participants only.
    #[value(name = "amber+strict")]
    AmberStrict,
    /// Named recipients only.
    Red,
}

/// Arguments of `s-express submit`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The token comes from S_EXPRESS_TOKEN or the client config file (--config, default \
~/.config/s-express/config.toml with keys server, token or token_file, and project).

Exit status: 0 submitted (and the report arrived, unless --no-wait); 2 usage, input or server \
errors; 3 submitted, but the automated report was not attached within --timeout.

Examples:
  s-express submit --server https://sx.example.org --project github:acme/widget pr-42.patch \\
      --concern \"new build step downloads a binary\" --suspicion 4
  git format-patch -3 --stdout | s-express submit - --project github:acme/widget --suspicion 3
  s-express submit --repo . origin/main..pr-42 --concern \"obfuscated test fixture\" --suspicion 5
  S_EXPRESS_FORGE_TOKEN=... s-express submit https://github.com/acme/widget/pull/42 --suspicion 4")]
pub struct SubmitArgs {
    /// Diff, patch (`git format-patch`) or mbox file to forward; `-` reads standard input. A
    /// pull request URL (GitHub, GitLab merge request, Forgejo/Gitea) fetches the change and its
    /// metadata through the forge's API (token in S_EXPRESS_FORGE_TOKEN).
    #[arg(value_name = "FILE", conflicts_with = "repo")]
    pub input: Option<PathBuf>,

    /// Forward a range of a local repository instead: `--repo PATH BASE..HEAD` (or one
    /// commit), sent as a `format-patch` series with every commit's message and author.
    #[arg(long, num_args = 1..=2, value_names = ["PATH", "RANGE"])]
    pub repo: Vec<String>,

    /// The S-Express service, e.g. `https://sx.example.org`.
    #[arg(long, value_name = "URL", env = "S_EXPRESS_SERVER")]
    pub server: Option<String>,

    /// Client config file (server, token or token_file, project); default
    /// `~/.config/s-express/config.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The project the change targets: `OWNER/NAME`, `FORGE:OWNER/NAME` or
    /// `FORGE:HOST/OWNER/NAME`. With --repo, defaults to the `origin` remote.
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,

    /// The project's forge when --project does not name it (default: from the host, else github).
    #[arg(long, value_enum)]
    pub forge: Option<ForgeArg>,

    /// What looks dodgy about the change, in your words (shown to the experts).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub concern: String,

    /// How suspicious you are, from 1 (probably fine) to 5 (almost certainly malicious).
    #[arg(long, value_name = "1-5", value_parser = clap::value_parser!(u8).range(1..=5), default_value_t = 3)]
    pub suspicion: u8,

    /// The pull request URL (recorded, never fetched by the service).
    #[arg(long, value_name = "URL")]
    pub pr: Option<String>,

    /// The change's title (default: from the patch).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    /// The change author's forge handle (experts tied to them never see the case).
    #[arg(long, value_name = "HANDLE")]
    pub author: Option<String>,

    /// A free-form tag for the case (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// TLP label of the submission. Every case starts TLP:AMBER+STRICT (participants only)
    /// and is published after the decision or embargo; `red` is refused, as the service
    /// cannot keep a case from its assigned experts.
    #[arg(long, value_enum, default_value_t = TlpArg::AmberStrict)]
    pub tlp: TlpArg,

    /// Return as soon as the case is stored, without waiting for the automated report.
    #[arg(long)]
    pub no_wait: bool,

    /// How long to wait for the automated report, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SubmitFormat::Text)]
    pub format: SubmitFormat,

    /// Colour text output: `auto` colours when stdout is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub forge_fetch: ForgeFetchArgs,
}

/// The client config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Service base URL.
    pub server: Option<String>,
    /// API token.
    pub token: Option<String>,
    /// A file holding the API token (first line).
    pub token_file: Option<PathBuf>,
    /// Default project (`FORGE:OWNER/NAME`).
    pub project: Option<String>,
}

impl ClientConfig {
    /// The default location: `$XDG_CONFIG_HOME/s-express/config.toml` or
    /// `~/.config/s-express/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".config"))
            })?;
        Some(base.join("s-express").join("config.toml"))
    }

    /// Reads `explicit` (which must exist) or the default file (if it exists).
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<ClientConfig> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match Self::default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(ClientConfig::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the client config {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "the client config {} is invalid\nhelp: its keys are server, token, token_file and project",
                path.display()
            )
        })
    }

    /// The token: `S_EXPRESS_TOKEN`, else `token`, else the first line of `token_file`.
    #[expect(
        clippy::disallowed_methods,
        reason = "the binary's edge; the token is deliberately not a flag, so it stays out of process lists"
    )]
    pub fn token(&self) -> anyhow::Result<String> {
        if let Some(t) = std::env::var("S_EXPRESS_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
        {
            return Ok(t.trim().to_string());
        }
        if let Some(t) = self.token.as_ref().filter(|t| !t.trim().is_empty()) {
            return Ok(t.trim().to_string());
        }
        if let Some(path) = &self.token_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?;
            if let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty()) {
                return Ok(line.to_string());
            }
            bail!("the token file {} is empty", path.display());
        }
        bail!(
            "no API token\nhelp: set S_EXPRESS_TOKEN, or `token = \"sxp_…\"` in ~/.config/s-express/config.toml; \
             create one with POST /api/v1/tokens or `s-express admin create-user … --token NAME`"
        )
    }
}

/// A project reference as the API takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    /// Forge.
    pub forge: &'static str,
    /// Host, when not the forge's public default.
    pub host: Option<String>,
    /// Owner.
    pub owner: String,
    /// Name.
    pub name: String,
}

impl ProjectRef {
    /// Parses `OWNER/NAME`, `FORGE:OWNER/NAME` or `FORGE:HOST/OWNER/NAME` with
    /// [`ProjectSpec::parse`], the parser of the service's `Project:` mail line and web form;
    /// `forge` is `--forge`.
    pub fn parse(spec: &str, forge: Option<ForgeArg>) -> anyhow::Result<ProjectRef> {
        let p = ProjectSpec::parse(spec, forge.map(ForgeArg::forge))
            .map_err(|e| anyhow!("--project {e}"))?;
        Ok(ProjectRef {
            forge: p.forge.as_str(),
            host: p.host,
            owner: p.owner,
            name: p.name,
        })
    }

    /// The project a git remote URL names (`https://host/owner/name(.git)`,
    /// `git@host:owner/name(.git)`, `ssh://git@host/owner/name`).
    pub fn from_remote(url: &str, forge: Option<ForgeArg>) -> Option<ProjectRef> {
        let url = url.trim();
        let rest = if let Some((_, r)) = url.split_once("://") {
            r.split_once('@').map_or(r, |(_, r)| r).to_string()
        } else {
            // scp-like: user@host:path
            let (hostpart, path) = url.split_once(':')?;
            let host = hostpart.split_once('@').map_or(hostpart, |(_, h)| h);
            format!("{host}/{path}")
        };
        let mut parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        if parts.len() < 3 {
            return None;
        }
        let name = parts.pop()?.trim_end_matches(".git");
        let owner = parts.pop()?;
        // Hosts may carry a port (`host:2222`); nested groups keep only the last two parts.
        let host = parts.first()?.split(':').next()?;
        let forge = forge.or_else(|| ForgeArg::of_host(host))?;
        let host = (ForgeArg::of_host(host) != Some(forge)).then(|| host.to_string());
        (!owner.is_empty() && !name.is_empty()).then(|| ProjectRef {
            forge: forge.as_str(),
            host,
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// The project of a pull request URL. A GitLab subgroup path keeps only its last part, as
    /// with remotes (the service names projects `OWNER/NAME`).
    pub fn from_pull(pull: &PullUrl, forge: Option<ForgeArg>) -> ProjectRef {
        let by_kind = match pull.kind {
            ForgeKind::Github => ForgeArg::Github,
            ForgeKind::Gitlab => ForgeArg::Gitlab,
            ForgeKind::Forgejo => ForgeArg::Forgejo,
        };
        let forge = forge
            .or_else(|| ForgeArg::of_host(&pull.host))
            .unwrap_or(by_kind);
        let host = (ForgeArg::of_host(&pull.host) != Some(forge)).then(|| pull.host.clone());
        let owner = pull
            .pull
            .owner
            .rsplit('/')
            .next()
            .unwrap_or(&pull.pull.owner);
        ProjectRef {
            forge: forge.as_str(),
            host,
            owner: owner.to_string(),
            name: pull.pull.repo.clone(),
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({ "forge": self.forge, "owner": self.owner, "name": self.name });
        if let Some(h) = &self.host {
            v["host"] = json!(h);
        }
        v
    }
}

/// A client for one S-Express service, with the known failures turned into clear errors.
#[derive(Debug)]
pub struct Service {
    base: String,
    token: String,
    agent: ureq::Agent,
}

/// An answer: status, `Retry-After`, parsed JSON body (or `Null`) and the raw text.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Service {
    /// A client for `server` (`http(s)://host[:port]`) authenticating with `token`.
    pub fn new(server: &str, token: String, timeout: Duration) -> anyhow::Result<Service> {
        let base = server.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!(
                "--server {base:?} is not an http:// or https:// URL\nhelp: pass the service's base URL, e.g. https://sx.example.org"
            );
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(Service { base, token, agent })
    }

    fn unreachable(&self, e: ureq::Error) -> anyhow::Error {
        anyhow!(e).context(format!(
            "cannot reach the S-Express service at {}\nhelp: check --server (or S_EXPRESS_SERVER) and that the service is running",
            self.base
        ))
    }

    fn answer(
        &self,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Answer> {
        let mut r = r.map_err(|e| self.unreachable(e))?;
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let text = r
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| self.unreachable(e))?;
        Ok(Answer {
            status,
            retry_after,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }

    /// GET `path` (under the base URL).
    pub fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Accept", "application/json")
            .call();
        self.answer(r)
    }

    /// POST JSON to `path`.
    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        let r = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body.to_string().as_bytes());
        self.answer(r)
    }

    /// Turns a non-2xx answer into an error with the server's message and a `help:` line.
    pub fn check(&self, a: Answer, doing: &str) -> anyhow::Result<Value> {
        if (200..300).contains(&a.status) {
            return Ok(a.json);
        }
        let message = a.json["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}", a.status));
        let code = a.json["code"].as_str().unwrap_or("");
        let help = match a.status {
            401 => "help: the token was refused: set a valid S_EXPRESS_TOKEN (or token in the config file); tokens can be revoked or expire".to_string(),
            403 => "help: your account lacks the role for this; a maintainer account is needed to submit".to_string(),
            413 => "help: the change is over the service's size limit; split it (one pull request or a few commits per submission)".to_string(),
            429 => match a.retry_after {
                Some(s) => format!("help: too many submissions; try again in {s} seconds"),
                None => "help: too many submissions; try again in a minute".to_string(),
            },
            400 | 422 if code == "invalid_change" => "help: send a unified diff, `git format-patch` output or an mbox".to_string(),
            _ if a.status >= 500 => "help: the service failed; try again later or tell its operators".to_string(),
            _ => String::new(),
        };
        Err(anyhow!(
            "{doing} failed: {message} (HTTP {}{}){}{help}",
            a.status,
            if code.is_empty() {
                String::new()
            } else {
                format!(", {code}")
            },
            if help.is_empty() { "" } else { "\n" }
        ))
    }
}

/// Read at most `limit` bytes (plus one, to detect an over-long input).
fn read_bounded(r: impl std::io::Read, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The change text from a file or standard input.
pub fn read_input(input: Option<&Path>) -> anyhow::Result<String> {
    let (name, bytes) = match input.filter(|p| *p != Path::new("-")) {
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!(
                    "no input: standard input is a terminal\nhelp: pass a patch file, pipe one (`git format-patch -1 --stdout | s-express submit -`), or use --repo PATH BASE..HEAD"
                );
            }
            let bytes = read_bounded(stdin.lock(), MAX_CHANGE_BYTES)
                .context("cannot read standard input")?;
            ("standard input".to_string(), bytes)
        }
        Some(p) => {
            let f =
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let bytes = read_bounded(f, MAX_CHANGE_BYTES)
                .with_context(|| format!("cannot read {}", p.display()))?;
            (p.display().to_string(), bytes)
        }
    };
    if bytes.len() > MAX_CHANGE_BYTES {
        bail!(
            "{name} is over {MAX_CHANGE_BYTES} bytes\nhelp: split the change into smaller patches"
        );
    }
    // The API carries text; a binary patch is base85 text already, so lossy is only for
    // stray bytes in commit messages.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A range of a local repository as a `git format-patch` series (an mbox), one mail per
/// commit; a range with merge commits is sent as one combined diff of `BASE..HEAD`.
pub fn repo_series(repo: &GitRepo, spec: &str) -> anyhow::Result<String> {
    let rev = repo.resolve(spec)?;
    let git = repo.repository();
    let commits: Vec<git2::Commit<'_>> = rev
        .commits
        .iter()
        .map(|id| git.find_commit(*id))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read the commits of {spec}"))?;
    if commits.is_empty() {
        bail!(
            "{spec} contains no commits\nhelp: name the range as BASE..HEAD, e.g. origin/main..pr-branch"
        );
    }
    let mut out = Vec::new();
    if commits.iter().all(|c| c.parent_count() <= 1) {
        let total = commits.len();
        for (i, c) in commits.iter().enumerate() {
            let mut opts = git2::EmailCreateOptions::new();
            opts.diff_options().show_binary(true).id_abbrev(40);
            opts.diff_find_options().renames(true);
            let mail = git2::Email::from_commit(c, &mut opts)
                .with_context(|| format!("cannot format commit {} as a patch", c.id()))?;
            if total > 1 {
                // Mark the series position as `git format-patch` does: [PATCH i/n].
                let text = String::from_utf8_lossy(mail.as_slice()).replacen(
                    "Subject: [PATCH] ",
                    &format!("Subject: [PATCH {}/{total}] ", i + 1),
                    1,
                );
                out.extend_from_slice(text.as_bytes());
            } else {
                out.extend_from_slice(mail.as_slice());
            }
            if out.len() > MAX_CHANGE_BYTES {
                bail!(
                    "{spec} is over {MAX_CHANGE_BYTES} bytes as patches\nhelp: submit a shorter range"
                );
            }
        }
    } else {
        let old = match rev.base {
            Some(b) => Some(git.find_commit(b).and_then(|c| c.tree())?),
            None => None,
        };
        let new = git.find_commit(rev.head).and_then(|c| c.tree())?;
        let mut dopts = git2::DiffOptions::new();
        dopts.show_binary(true).id_abbrev(40);
        let diff = git.diff_tree_to_tree(old.as_ref(), Some(&new), Some(&mut dopts))?;
        let mut over = false;
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            let origin = line.origin();
            if out.len() + line.content().len() + 1 > MAX_CHANGE_BYTES {
                over = true;
                return false;
            }
            if matches!(origin, '+' | '-' | ' ') {
                out.push(origin as u8);
            }
            out.extend_from_slice(line.content());
            true
        })
        .or_else(|e| if over { Ok(()) } else { Err(e) })
        .with_context(|| format!("cannot print the diff of {spec}"))?;
        if over {
            bail!(
                "{spec} is over {MAX_CHANGE_BYTES} bytes as a diff\nhelp: submit a shorter range"
            );
        }
    }
    if out.is_empty() {
        bail!("{spec} changes nothing");
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A change fetched from a pull request URL, with the forge's metadata.
#[derive(Debug)]
struct FetchedPull {
    pull: PullUrl,
    diff: String,
    title: Option<String>,
    author: Option<String>,
    revision: Option<String>,
}

/// Fetches a pull request through its forge's API (refusing unknown hosts and private
/// addresses, see [`crate::pull_request`]).
fn fetch_pull(args: &SubmitArgs, url: &str) -> anyhow::Result<FetchedPull> {
    let pull = args.forge_fetch.parse(url)?;
    let (info, diff) = args.forge_fetch.pull_and_patch(&pull, MAX_CHANGE_BYTES)?;
    Ok(FetchedPull {
        title: Some(info.title).filter(|t| !t.trim().is_empty()),
        author: info.author.filter(|a| !a.is_empty() && a.len() <= 100),
        revision: info
            .base_sha
            .map(|base| format!("{base}..{}", info.head_sha)),
        pull,
        diff,
    })
}

/// The project: `--project`, else (with --repo) the `origin` remote, else (with a pull request
/// URL) its repository, else the config default.
fn resolve_project(
    args: &SubmitArgs,
    repo: Option<&GitRepo>,
    pull: Option<&PullUrl>,
    config: &ClientConfig,
) -> anyhow::Result<ProjectRef> {
    if let Some(p) = &args.project {
        return ProjectRef::parse(p, args.forge);
    }
    if let Some(pull) = pull {
        return Ok(ProjectRef::from_pull(pull, args.forge));
    }
    if let Some(repo) = repo
        && let Ok(remote) = repo.repository().find_remote("origin")
        && let Ok(url) = remote.url()
        && let Some(p) = ProjectRef::from_remote(url, args.forge)
    {
        return Ok(p);
    }
    if let Some(p) = &config.project {
        return ProjectRef::parse(p, args.forge);
    }
    bail!(
        "which project is this change for?\nhelp: pass --project FORGE:OWNER/NAME (e.g. github:acme/widget), \
         or set `project` in the client config"
    )
}

/// The case as the API returned it, and when the report appeared.
#[derive(Debug)]
struct Waited {
    case: Value,
    waited: Duration,
}

/// Polls the case until its report is attached or `timeout` passes.
fn wait_for_report(
    service: &Service,
    id: &str,
    timeout: Duration,
) -> anyhow::Result<Option<Waited>> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let answer = service.get(&format!("/api/v1/cases/{id}"))?;
        let case = service.check(answer, "reading the case")?;
        if !case["report"].is_null() {
            return Ok(Some(Waited {
                case,
                waited: started.elapsed(),
            }));
        }
        if started.elapsed() >= timeout {
            return Ok(None);
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(started.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Posts a change as a new case; returns the API's answer (`{id, status, url}`).
pub fn create_case(service: &Service, body: &Value) -> anyhow::Result<Value> {
    let answer = service.post("/api/v1/cases", body)?;
    service.check(answer, "submitting the change")
}

/// Run `submit`; returns the process exit code.
pub fn run(args: &SubmitArgs, no_color: bool) -> anyhow::Result<u8> {
    if args.tlp == TlpArg::Red {
        bail!(
            "--tlp red is not accepted: the experts assigned to a case must be able to read it\nhelp: \
             every case starts TLP:AMBER+STRICT (its participants only); post RED details as a comment \
             labelled red once the case exists"
        );
    }
    let config = ClientConfig::load(args.config.as_deref())?;
    let server = args.server.clone().or_else(|| config.server.clone()).ok_or_else(|| {
        anyhow!(
            "no service to submit to\nhelp: pass --server URL, set S_EXPRESS_SERVER, or `server = \"…\"` in ~/.config/s-express/config.toml"
        )
    })?;
    let token = config.token()?;
    let url_input = args
        .input
        .as_deref()
        .and_then(Path::to_str)
        .filter(|p| sx_forge::pr_url::looks_like_url(p));
    let fetched = url_input.map(|url| fetch_pull(args, url)).transpose()?;
    let (diff, repo, revision) = if let Some(f) = &fetched {
        (f.diff.clone(), None, f.revision.clone())
    } else if args.repo.is_empty() {
        (read_input(args.input.as_deref())?, None, None)
    } else {
        let path = PathBuf::from(&args.repo[0]);
        let spec = args.repo.get(1).map(String::as_str).unwrap_or("HEAD");
        let repo = GitRepo::open(&path)?;
        let text = repo_series(&repo, spec)
            .with_context(|| format!("cannot read {spec} from {}", path.display()))?;
        let rev = repo.resolve(spec)?;
        let revision = rev.base.map(|b| format!("{b}..{}", rev.head));
        (text, Some(repo), revision)
    };
    if diff.trim().is_empty() {
        bail!(
            "the change is empty\nhelp: pass a diff, patch or mbox with at least one file change"
        );
    }
    let project = resolve_project(
        args,
        repo.as_ref(),
        fetched.as_ref().map(|f| &f.pull),
        &config,
    )?;
    // Flags win over what the forge says.
    let from_forge = |pick: fn(&FetchedPull) -> Option<String>| fetched.as_ref().and_then(pick);
    let pr = args
        .pr
        .clone()
        .or_else(|| from_forge(|f| Some(f.pull.web_url.clone())));
    let title = args
        .title
        .clone()
        .or_else(|| from_forge(|f| f.title.clone()));
    let author = args
        .author
        .clone()
        .or_else(|| from_forge(|f| f.author.clone()));
    let timeout = Duration::from_secs(args.timeout.max(1));
    let service = Service::new(&server, token, timeout.max(Duration::from_secs(30)))?;
    let mut body = json!({
        "project": project.to_json(),
        "diff": diff,
        "concern": args.concern,
        "suspicion": args.suspicion,
        "tags": args.tags,
    });
    for (key, value) in [
        ("pull_request_url", &pr),
        ("title", &title),
        ("author", &author),
        ("revision", &revision),
    ] {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    }
    let created = create_case(&service, &body)?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| anyhow!("the service answered without a case id: {created}"))?
        .to_string();
    let url = created["url"].as_str().unwrap_or_default().to_string();
    if args.format == SubmitFormat::Text {
        // The case is durable once acknowledged: say where it is before waiting.
        crate::write_stdout(&format!("Case {id} received: {url}\n"))?;
    }
    if args.no_wait {
        if args.format == SubmitFormat::Json {
            crate::write_stdout(&format!("{}\n", json!({ "case": created, "report": null })))?;
        }
        return Ok(0);
    }
    let Some(waited) = wait_for_report(&service, &id, timeout)? else {
        match args.format {
            SubmitFormat::Json => {
                crate::write_stdout(&format!("{}\n", json!({ "case": created, "report": null })))?
            }
            SubmitFormat::Text => eprintln!(
                "The automated report was not attached within {} s; the case is stored and will be \
                 analysed: follow it at {url}",
                timeout.as_secs()
            ),
        }
        return Ok(EXIT_REPORT_PENDING);
    };
    let full = &waited.case["report"]["full"];
    match args.format {
        SubmitFormat::Json => {
            let out = json!({
                "case": {
                    "id": id,
                    "url": url,
                    "status": waited.case["status"],
                    "subgroups": waited.case["subgroups"],
                },
                "report": full,
                "waited_ms": u64::try_from(waited.waited.as_millis()).unwrap_or(u64::MAX),
            });
            crate::write_stdout(&format!("{out:#}\n"))?;
        }
        SubmitFormat::Text => {
            let report: sx_analyzer::Report = serde_json::from_value(full.clone()).context(
                "the service's report is not in this version's format; read it at the case URL",
            )?;
            let opts = RenderOptions {
                color: args.color.enabled(no_color),
                title: title.clone(),
                ..RenderOptions::default()
            };
            let subgroups: Vec<&str> = waited.case["subgroups"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s["slug"].as_str()).collect())
                .unwrap_or_default();
            let mut text = format!(
                "Automated first assessment ({} ms after submission); status {}{}\n\n",
                waited.waited.as_millis(),
                waited.case["status"].as_str().unwrap_or("unknown"),
                if subgroups.is_empty() {
                    String::new()
                } else {
                    format!(", routed to {}", subgroups.join(", "))
                }
            );
            text.push_str(&output::render(&report, output::Format::Text, &opts));
            crate::write_stdout(&text)?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_specs_name_forge_host_owner_and_name() {
        let p = ProjectRef::parse("acme/widget", None).unwrap();
        assert_eq!((p.forge, p.host.as_deref()), ("github", None));
        assert_eq!((p.owner.as_str(), p.name.as_str()), ("acme", "widget"));
        let p = ProjectRef::parse("gitlab:git.example.org/acme/widget", None).unwrap();
        assert_eq!(p.forge, "gitlab");
        assert_eq!(p.host.as_deref(), Some("git.example.org"));
        let p = ProjectRef::parse("codeberg.org/acme/widget.git", None).unwrap();
        assert_eq!(
            (p.forge, p.host.as_deref(), p.name.as_str()),
            ("forgejo", None, "widget")
        );
        assert!(ProjectRef::parse("widget", None).is_err());
        let e = ProjectRef::parse("svn:acme/widget", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "--project \"svn:acme/widget\" is not a project (\"svn\" is not a forge)"
            ),
            "the shared parser's message: {e}"
        );
        let p = ProjectRef::parse("acme/widget", Some(ForgeArg::Gitea)).unwrap();
        assert_eq!(p.forge, "gitea");
        assert!(ProjectRef::parse("a/b/c/d", None).is_err());
    }

    #[test]
    fn pull_request_urls_name_their_project() {
        let p = |url: &str, forge| {
            ProjectRef::from_pull(&sx_forge::parse_pull_url(url).unwrap(), forge)
        };
        let gh = p("https://github.com/acme/widget/pull/3", None);
        assert_eq!(
            (
                gh.forge,
                gh.host.as_deref(),
                gh.owner.as_str(),
                gh.name.as_str()
            ),
            ("github", None, "acme", "widget")
        );
        let gl = p(
            "https://git.example.org/group/sub/widget/-/merge_requests/4",
            None,
        );
        assert_eq!(
            (gl.forge, gl.host.as_deref(), gl.owner.as_str()),
            ("gitlab", Some("git.example.org"), "sub")
        );
        let gitea = p("https://gitea.com/acme/widget/pulls/5", None);
        assert_eq!((gitea.forge, gitea.host.as_deref()), ("gitea", None));
        let own = p(
            "https://git.example.org/acme/widget/pulls/6",
            Some(ForgeArg::Gitea),
        );
        assert_eq!(
            (own.forge, own.host.as_deref()),
            ("gitea", Some("git.example.org"))
        );
    }

    #[test]
    fn remotes_name_their_project() {
        for url in [
            "https://github.com/acme/widget.git",
            "git@github.com:acme/widget.git",
            "ssh://git@github.com/acme/widget",
        ] {
            let p = ProjectRef::from_remote(url, None).unwrap();
            assert_eq!(
                (p.forge, p.owner.as_str(), p.name.as_str()),
                ("github", "acme", "widget"),
                "{url}"
            );
        }
        // An unknown host needs --forge.
        assert!(ProjectRef::from_remote("https://git.example.org/acme/widget", None).is_none());
        let p =
            ProjectRef::from_remote("https://git.example.org/acme/widget", Some(ForgeArg::Gitea))
                .unwrap();
        assert_eq!(p.host.as_deref(), Some("git.example.org"));
    }

    #[test]
    fn server_errors_become_messages_with_help() {
        let s = Service::new("http://127.0.0.1:1", "t".into(), Duration::from_secs(1)).unwrap();
        let e = s
            .check(
                Answer {
                    status: 429,
                    retry_after: Some(7),
                    json: json!({"code": "rate_limited", "message": "slow down"}),
                },
                "submitting",
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("slow down")
                && e.contains("help: too many submissions; try again in 7 seconds"),
            "{e}"
        );
        let e = s
            .check(
                Answer {
                    status: 413,
                    retry_after: None,
                    json: Value::Null,
                },
                "submitting",
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("HTTP 413") && e.contains("split it"), "{e}");
        assert!(Service::new("ftp://x", "t".into(), Duration::from_secs(1)).is_err());
    }

    #[test]
    fn config_files_reject_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "server = \"http://x\"\ntokn = \"a\"\n").unwrap();
        let e = format!("{:#}", ClientConfig::load(Some(&p)).unwrap_err());
        assert!(e.contains("tokn"), "{e}");
        std::fs::write(&p, "server = \"http://x\"\ntoken = \"sxp_a\"\n").unwrap();
        let c = ClientConfig::load(Some(&p)).unwrap();
        assert_eq!(c.server.as_deref(), Some("http://x"));
    }
}
