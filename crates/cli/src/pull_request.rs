//! Pull request URLs on the command line: `s-express analyze URL` and `s-express submit URL`
//! fetch the change through sx-forge's REST clients (the same ones the service uses, with the
//! same SSRF guard), with the token from `S_EXPRESS_FORGE_TOKEN`.
//!
//! A URL may come from someone else (a CI job forwarding whatever it was given), so it is
//! fetched only when its host is a known forge: the public ones ([`PUBLIC_FORGE_HOSTS`]) or a
//! host the user named with `--forge-host` / `S_EXPRESS_FORGE_HOSTS`. A URL whose host is a
//! private, loopback or link-local address (or `localhost`) is refused outright; a named host
//! that resolves to such an address is refused by the guard when connecting. An explicit
//! `--forge-api-url` (an intranet forge, a test server) is the user's own choice and is used
//! as given.

use anyhow::{Context as _, bail};
use sx_forge::{ForgeClient, PullInfo, PullUrl};

/// Forge web hosts whose pull request URLs are always fetched.
pub const PUBLIC_FORGE_HOSTS: &[&str] = &["github.com", "gitlab.com", "codeberg.org", "gitea.com"];

/// How to reach the forge of a pull request URL.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ForgeFetchArgs {
    /// API token for fetching a pull request URL (GitHub, GitLab or Forgejo token).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "S_EXPRESS_FORGE_TOKEN",
        hide_env_values = true
    )]
    pub forge_token: Option<String>,

    /// API base URL for a pull request URL, when not the one the URL implies
    /// (`https://api.github.com`, `https://HOST/api/v3`, `https://HOST/api/v4`, `https://HOST/api/v1`).
    #[arg(long, value_name = "URL", env = "S_EXPRESS_FORGE_API_URL")]
    pub forge_api_url: Option<String>,

    /// A further forge host whose pull request URLs may be fetched, e.g. a GitHub Enterprise or
    /// self-hosted GitLab (repeatable; comma-separated in the variable). github.com, gitlab.com,
    /// codeberg.org and gitea.com always may.
    #[arg(
        long = "forge-host",
        value_name = "HOST",
        env = "S_EXPRESS_FORGE_HOSTS",
        value_delimiter = ','
    )]
    pub forge_hosts: Vec<String>,
}

/// The help line of fetch failures.
const FETCH_HELP: &str = "help: check the network, the URL, and S_EXPRESS_FORGE_TOKEN (private repositories and rate limits need a token); or fetch the patch yourself and pass the file";

impl ForgeFetchArgs {
    /// Parses a pull request URL and checks that its host may be fetched from.
    ///
    /// # Errors
    /// When the URL is not a pull request URL, names a private address, or a host that is
    /// neither a public forge nor named with `--forge-host`.
    pub fn parse(&self, url: &str) -> anyhow::Result<PullUrl> {
        let pull = sx_forge::parse_pull_url(url)?;
        let host_name = pull
            .host
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(pull.host.as_str(), |(h, _)| h);
        if sx_forge::net::host_is_local_literal(host_name) {
            bail!(
                "refusing to fetch {}: its host {} is a private, loopback or link-local address\n\
                 help: S-Express fetches pull requests only from forge hosts on the public internet; \
                 for an intranet forge pass --forge-api-url https://FORGE/api/… explicitly",
                pull.web_url,
                pull.host
            );
        }
        let known = PUBLIC_FORGE_HOSTS
            .iter()
            .copied()
            .chain(self.forge_hosts.iter().map(|h| h.trim()))
            .any(|h| h.eq_ignore_ascii_case(&pull.host) || h.eq_ignore_ascii_case(host_name));
        if !known {
            bail!(
                "refusing to fetch {}: {} is not a configured forge host (known: {})\n\
                 help: if it is your forge, pass --forge-host {} (or set S_EXPRESS_FORGE_HOSTS)",
                pull.web_url,
                pull.host,
                PUBLIC_FORGE_HOSTS
                    .iter()
                    .copied()
                    .chain(self.forge_hosts.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", "),
                pull.host
            );
        }
        Ok(pull)
    }

    /// The guarded client for a parsed URL, reading at most `limit` bytes per answer.
    fn client(&self, pull: &PullUrl, limit: usize) -> anyhow::Result<ForgeClient> {
        let endpoint = sx_forge::Endpoint {
            kind: pull.kind,
            api_base: self
                .forge_api_url
                .clone()
                .unwrap_or_else(|| pull.api_base.clone()),
            token: self.forge_token.clone().filter(|t| !t.trim().is_empty()),
            allow_private: None,
            limits: sx_forge::Limits {
                max_bytes: u64::try_from(limit).unwrap_or(u64::MAX),
                ..sx_forge::Limits::default()
            },
        };
        Ok(ForgeClient::new(endpoint)?)
    }

    /// The pull request's change (a `format-patch` series on GitHub and Forgejo, the raw diff
    /// on GitLab).
    ///
    /// # Errors
    /// When the forge cannot be reached or refuses, with a `help:` line.
    pub fn patch(&self, pull: &PullUrl, limit: usize) -> anyhow::Result<String> {
        self.client(pull, limit)?
            .patch(&pull.pull)
            .with_context(|| format!("cannot fetch the change of {}\n{FETCH_HELP}", pull.web_url))
    }

    /// The pull request's metadata and change.
    ///
    /// # Errors
    /// When the forge cannot be reached or refuses, with a `help:` line.
    pub fn pull_and_patch(
        &self,
        pull: &PullUrl,
        limit: usize,
    ) -> anyhow::Result<(PullInfo, String)> {
        let client = self.client(pull, limit)?;
        let info = client
            .pull(&pull.pull)
            .with_context(|| format!("cannot fetch {}\n{FETCH_HELP}", pull.web_url))?;
        let patch = client.patch(&pull.pull).with_context(|| {
            format!("cannot fetch the change of {}\n{FETCH_HELP}", pull.web_url)
        })?;
        Ok((info, patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_forges_and_named_hosts_may_be_fetched_from_nothing_else() {
        let args = ForgeFetchArgs {
            forge_hosts: vec!["git.example.org".into()],
            ..ForgeFetchArgs::default()
        };
        for ok in [
            "https://github.com/o/r/pull/1",
            "https://gitlab.com/g/p/-/merge_requests/2",
            "https://codeberg.org/o/r/pulls/3",
            "https://GIT.example.org/o/r/pulls/4",
        ] {
            assert!(args.parse(ok).is_ok(), "{ok}");
        }
        let e = format!(
            "{:#}",
            args.parse("https://evil.example/o/r/pull/1").unwrap_err()
        );
        assert!(
            e.contains("not a configured forge host") && e.contains("--forge-host evil.example"),
            "{e}"
        );
        for private in [
            "https://127.0.0.1/o/r/pull/1",
            "https://10.1.2.3:8443/o/r/pulls/1",
            "https://[::1]/o/r/pull/1",
            "https://169.254.169.254/o/r/pull/1",
            "https://localhost/o/r/pull/1",
        ] {
            let named = ForgeFetchArgs {
                forge_hosts: vec![private.split('/').nth(2).unwrap().to_string()],
                ..ForgeFetchArgs::default()
            };
            let e = format!("{:#}", named.parse(private).unwrap_err());
            assert!(
                e.contains("private, loopback or link-local"),
                "{private}: {e}"
            );
        }
    }
}
