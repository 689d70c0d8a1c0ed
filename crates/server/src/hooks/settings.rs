//! Forge settings: one `[github]`, `[gitlab]`, `[forgejo]` table each in the config file (or
//! `S_EXPRESS_<FORGE>_*` variables), plus `forge_label`.
//!
//! | key (table) | environment | default |
//! |---|---|---|
//! | `api_url` | `S_EXPRESS_GITHUB_API_URL` | `https://api.github.com`, `https://gitlab.com/api/v4`, `https://codeberg.org/api/v1` |
//! | `web_url` | `S_EXPRESS_GITHUB_WEB_URL` | `https://github.com`, `https://gitlab.com`, `https://codeberg.org` |
//! | `webhook_secret_file` | `S_EXPRESS_GITHUB_WEBHOOK_SECRET_FILE` or the value in `S_EXPRESS_GITHUB_WEBHOOK_SECRET` | none: the endpoint answers 404 |
//! | `token_file` | `S_EXPRESS_GITHUB_TOKEN_FILE` or the value in `S_EXPRESS_GITHUB_TOKEN` | none |
//! | `allow_private_network` | `S_EXPRESS_GITHUB_ALLOW_PRIVATE_NETWORK` | false (an intranet forge needs true) |
//! | `forge_label` (top level) | `S_EXPRESS_FORGE_LABEL` | `s-express` |
//!
//! (`GITLAB_` and `FORGEJO_` likewise.) Secrets are read from files or the environment only —
//! never from the config file itself — and their `Debug` form is `***`, so they never reach a
//! log.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sx_forge::ForgeKind;

use crate::config::ConfigError;

/// A secret value: compared and used, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for use (never for logging).
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// One forge's settings in one configuration source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgeLayer {
    /// API base URL.
    pub api_url: Option<String>,
    /// Web URL (payloads must name a repository on this host).
    pub web_url: Option<String>,
    /// File holding the webhook secret.
    pub webhook_secret_file: Option<PathBuf>,
    /// File holding the API token.
    pub token_file: Option<PathBuf>,
    /// Allow the forge host to resolve to private addresses.
    pub allow_private_network: Option<bool>,
    /// The webhook secret itself (environment only).
    #[serde(skip)]
    pub webhook_secret: Option<Secret>,
    /// The token itself (environment only).
    #[serde(skip)]
    pub token: Option<Secret>,
}

impl ForgeLayer {
    /// Fills unset fields of `upper` from `lower`.
    #[must_use]
    pub fn merge(upper: Option<ForgeLayer>, lower: Option<ForgeLayer>) -> Option<ForgeLayer> {
        match (upper, lower) {
            (None, l) => l,
            (u, None) => u,
            (Some(u), Some(l)) => Some(ForgeLayer {
                api_url: u.api_url.or(l.api_url),
                web_url: u.web_url.or(l.web_url),
                webhook_secret_file: u.webhook_secret_file.or(l.webhook_secret_file),
                token_file: u.token_file.or(l.token_file),
                allow_private_network: u.allow_private_network.or(l.allow_private_network),
                webhook_secret: u.webhook_secret.or(l.webhook_secret),
                token: u.token.or(l.token),
            }),
        }
    }

    /// Applies one `S_EXPRESS_<FORGE>_<KEY>` variable (`key` is the part after the forge);
    /// returns whether the key was one of ours.
    ///
    /// # Errors
    /// When a boolean is not `true` or `false`.
    pub fn set_env(&mut self, name: &str, key: &str, value: String) -> Result<bool, ConfigError> {
        match key {
            "API_URL" => self.api_url = Some(value),
            "WEB_URL" => self.web_url = Some(value),
            "WEBHOOK_SECRET_FILE" => self.webhook_secret_file = Some(value.into()),
            "TOKEN_FILE" => self.token_file = Some(value.into()),
            "WEBHOOK_SECRET" => self.webhook_secret = Some(Secret(value)),
            "TOKEN" => self.token = Some(Secret(value)),
            "ALLOW_PRIVATE_NETWORK" => {
                self.allow_private_network =
                    Some(value.trim().parse().map_err(|_| ConfigError::Env {
                        name: name.to_string(),
                        message: "expected true or false".into(),
                    })?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Routes an `S_EXPRESS_*` key (without the prefix) to the forge layer it belongs to.
///
/// # Errors
/// When a value has the wrong form.
pub fn apply_env(
    github: &mut Option<ForgeLayer>,
    gitlab: &mut Option<ForgeLayer>,
    forgejo: &mut Option<ForgeLayer>,
    name: &str,
    key: &str,
    value: String,
) -> Result<bool, ConfigError> {
    let (slot, rest) = if let Some(rest) = key.strip_prefix("GITHUB_") {
        (github, rest)
    } else if let Some(rest) = key.strip_prefix("GITLAB_") {
        (gitlab, rest)
    } else if let Some(rest) = key.strip_prefix("FORGEJO_") {
        (forgejo, rest)
    } else {
        return Ok(false);
    };
    let mut layer = slot.take().unwrap_or_default();
    let ours = layer.set_env(name, rest, value)?;
    *slot = Some(layer);
    Ok(ours)
}

/// One forge, resolved: enabled when a webhook secret is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForgeSettings {
    /// Which forge.
    pub kind: ForgeKind,
    /// API base URL.
    pub api_url: String,
    /// Lower-case web host (with port), e.g. `github.com`.
    pub web_host: String,
    /// The webhook secret; `None` disables the endpoint.
    pub webhook_secret: Option<Secret>,
    /// The API token.
    pub token: Option<Secret>,
    /// Private addresses allowed for this forge.
    pub allow_private_network: bool,
}

impl ForgeSettings {
    /// The client endpoint for these settings.
    #[must_use]
    pub fn endpoint(&self) -> sx_forge::Endpoint {
        sx_forge::Endpoint {
            kind: self.kind,
            api_base: self.api_url.clone(),
            token: self.token.as_ref().map(|t| t.expose().to_string()),
            allow_private: self.allow_private_network.then_some(true),
            limits: sx_forge::Limits::default(),
        }
    }
}

/// Every forge's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forges {
    /// GitHub.
    pub github: ForgeSettings,
    /// GitLab.
    pub gitlab: ForgeSettings,
    /// Forgejo / Gitea.
    pub forgejo: ForgeSettings,
    /// The label that forwards a pull request.
    pub label: String,
}

impl Default for Forges {
    /// Public forges, no secrets (every endpoint disabled).
    fn default() -> Self {
        let one = |kind| ForgeSettings {
            kind,
            api_url: sx_forge::Endpoint::default_api_base(kind).to_string(),
            web_host: default_web(kind).trim_start_matches("https://").to_string(),
            webhook_secret: None,
            token: None,
            allow_private_network: false,
        };
        Forges {
            github: one(ForgeKind::Github),
            gitlab: one(ForgeKind::Gitlab),
            forgejo: one(ForgeKind::Forgejo),
            label: "s-express".into(),
        }
    }
}

impl Forges {
    /// The settings of one forge.
    #[must_use]
    pub fn get(&self, kind: ForgeKind) -> &ForgeSettings {
        match kind {
            ForgeKind::Github => &self.github,
            ForgeKind::Gitlab => &self.gitlab,
            ForgeKind::Forgejo => &self.forgejo,
        }
    }

    /// Resolves the layers (reading secret files).
    ///
    /// # Errors
    /// When a URL is not http(s), or a secret file cannot be read or is empty.
    pub fn resolve(
        github: Option<ForgeLayer>,
        gitlab: Option<ForgeLayer>,
        forgejo: Option<ForgeLayer>,
        label: Option<String>,
    ) -> Result<Forges, ConfigError> {
        let label = label.unwrap_or_else(|| "s-express".into());
        if label.trim().is_empty() || label.len() > 100 {
            return Err(ConfigError::Invalid {
                field: "forge_label",
                message: "must be 1-100 characters".into(),
            });
        }
        Ok(Forges {
            github: resolve_one(ForgeKind::Github, github.unwrap_or_default())?,
            gitlab: resolve_one(ForgeKind::Gitlab, gitlab.unwrap_or_default())?,
            forgejo: resolve_one(ForgeKind::Forgejo, forgejo.unwrap_or_default())?,
            label,
        })
    }
}

fn default_web(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::Github => "https://github.com",
        ForgeKind::Gitlab => "https://gitlab.com",
        ForgeKind::Forgejo => "https://codeberg.org",
    }
}

fn field(kind: ForgeKind, name: &str) -> &'static str {
    // Static names for ConfigError; the set is small and fixed.
    match (kind, name) {
        (ForgeKind::Github, "api_url") => "github.api_url",
        (ForgeKind::Github, "web_url") => "github.web_url",
        (ForgeKind::Github, _) => "github secrets",
        (ForgeKind::Gitlab, "api_url") => "gitlab.api_url",
        (ForgeKind::Gitlab, "web_url") => "gitlab.web_url",
        (ForgeKind::Gitlab, _) => "gitlab secrets",
        (ForgeKind::Forgejo, "api_url") => "forgejo.api_url",
        (ForgeKind::Forgejo, "web_url") => "forgejo.web_url",
        (ForgeKind::Forgejo, _) => "forgejo secrets",
    }
}

fn read_secret(kind: ForgeKind, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
        field: field(kind, "secret"),
        message: format!("could not read {}: {e}", path.display()),
    })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(ConfigError::Invalid {
            field: field(kind, "secret"),
            message: format!("{} is empty", path.display()),
        });
    }
    Ok(Secret(value.to_string()))
}

/// `host[:port]` of an http(s) URL, lower-cased.
#[must_use]
pub fn url_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

fn resolve_one(kind: ForgeKind, layer: ForgeLayer) -> Result<ForgeSettings, ConfigError> {
    let api_url = layer
        .api_url
        .unwrap_or_else(|| sx_forge::Endpoint::default_api_base(kind).to_string())
        .trim_end_matches('/')
        .to_string();
    if url_host(&api_url).is_none() {
        return Err(ConfigError::Invalid {
            field: field(kind, "api_url"),
            message: format!("{api_url:?} is not an http(s) URL"),
        });
    }
    let web_url = layer.web_url.unwrap_or_else(|| default_web(kind).into());
    let web_host = url_host(&web_url).ok_or_else(|| ConfigError::Invalid {
        field: field(kind, "web_url"),
        message: format!("{web_url:?} is not an http(s) URL"),
    })?;
    let webhook_secret = match (layer.webhook_secret, layer.webhook_secret_file) {
        (Some(s), _) => Some(s),
        (None, Some(path)) => Some(read_secret(kind, &path)?),
        (None, None) => None,
    };
    let token = match (layer.token, layer.token_file) {
        (Some(s), _) => Some(s),
        (None, Some(path)) => Some(read_secret(kind, &path)?),
        (None, None) => None,
    };
    Ok(ForgeSettings {
        kind,
        api_url,
        web_host,
        webhook_secret,
        token,
        allow_private_network: layer.allow_private_network.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_files_or_env_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "hunter2\n").unwrap();
        let mut gh = None;
        let (mut gl, mut fj) = (None, None);
        assert!(
            apply_env(
                &mut gh,
                &mut gl,
                &mut fj,
                "S_EXPRESS_GITHUB_WEBHOOK_SECRET_FILE",
                "GITHUB_WEBHOOK_SECRET_FILE",
                file.display().to_string()
            )
            .unwrap()
        );
        apply_env(
            &mut gh,
            &mut gl,
            &mut fj,
            "x",
            "GITLAB_TOKEN",
            "glpat".into(),
        )
        .unwrap();
        let forges = Forges::resolve(gh, gl, fj, None).unwrap();
        assert_eq!(
            forges.github.webhook_secret.as_ref().map(Secret::expose),
            Some("hunter2")
        );
        assert_eq!(forges.github.web_host, "github.com");
        assert_eq!(forges.forgejo.api_url, "https://codeberg.org/api/v1");
        assert!(forges.forgejo.webhook_secret.is_none());
        let debug = format!("{forges:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("glpat"),
            "{debug}"
        );
        assert_eq!(forges.label, "s-express");
    }

    #[test]
    fn unreadable_secret_files_and_bad_urls_are_refused() {
        let layer = ForgeLayer {
            webhook_secret_file: Some("/nonexistent/secret".into()),
            ..ForgeLayer::default()
        };
        assert!(Forges::resolve(Some(layer), None, None, None).is_err());
        let layer = ForgeLayer {
            api_url: Some("ftp://x".into()),
            ..ForgeLayer::default()
        };
        assert!(Forges::resolve(None, Some(layer), None, None).is_err());
    }
}
