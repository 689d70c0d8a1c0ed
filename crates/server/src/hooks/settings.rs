//! Forge settings: one `[github]`, `[gitlab]`, `[forgejo]` table each in the config file (or
//! `S_EXPRESS_<FORGE>_*` variables), plus `forge_label`.
//!
//! | key (table) | environment | default |
//! |---|---|---|
//! | `api_url` | `S_EXPRESS_GITHUB_API_URL` | `https://api.github.com`, `https://gitlab.com/api/v4`, `https://codeberg.org/api/v1` |
//! | `web_url` | `S_EXPRESS_GITHUB_WEB_URL` | `https://github.com`, `https://gitlab.com`, `https://codeberg.org` |
//! | `webhook_secret_file` | `S_EXPRESS_GITHUB_WEBHOOK_SECRET_FILE` or the value in `S_EXPRESS_GITHUB_WEBHOOK_SECRET` | none: the endpoint answers 404 |
//! | `token_file` | `S_EXPRESS_GITHUB_TOKEN_FILE` or the value in `S_EXPRESS_GITHUB_TOKEN` | none |
//! | `app_id` (GitHub only) | `S_EXPRESS_GITHUB_APP_ID` | none: no GitHub App |
//! | `private_key_file` (GitHub only) | `S_EXPRESS_GITHUB_PRIVATE_KEY_FILE` or the PEM in `S_EXPRESS_GITHUB_PRIVATE_KEY` | none |
//! | `allow_private_network` | `S_EXPRESS_GITHUB_ALLOW_PRIVATE_NETWORK` | false (an intranet forge needs true) |
//! | `forge_label` (top level) | `S_EXPRESS_FORGE_LABEL` | `s-express` |
//!
//! (`GITLAB_` and `FORGEJO_` likewise.) Secrets are read from files or the environment only —
//! never from the config file itself — and their `Debug` form is `***`, so they never reach a
//! log.
//!
//! GitHub authenticates either with a token (`token_file`) or as a GitHub App (`app_id` and
//! `private_key_file`, the PEM GitHub issues): then each API call carries an installation token
//! of the installation the webhook delivery came through ([`sx_forge::github_app`]). Setting
//! both is refused, as is an app for GitLab or Forgejo.
//!
//! `forge_delivery_retention_days` (top level, `S_EXPRESS_FORGE_DELIVERY_RETENTION_DAYS`,
//! default 30) is how long webhook delivery ids are remembered to refuse replays
//! ([`crate::jobs::prune_forge_deliveries`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sx_forge::{ForgeKind, GithubApp};

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
    /// GitHub App: the app id or client id (a number or a string).
    #[serde(default, deserialize_with = "app_id")]
    pub app_id: Option<String>,
    /// GitHub App: file holding the app's private key (PEM).
    pub private_key_file: Option<PathBuf>,
    /// Allow the forge host to resolve to private addresses.
    pub allow_private_network: Option<bool>,
    /// The webhook secret itself (environment only).
    #[serde(skip)]
    pub webhook_secret: Option<Secret>,
    /// The token itself (environment only).
    #[serde(skip)]
    pub token: Option<Secret>,
    /// The app's private key itself, PEM (environment only).
    #[serde(skip)]
    pub private_key: Option<Secret>,
}

/// `app_id = 123456` or `app_id = "Iv23li…"` (GitHub recommends the client id).
fn app_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::Number(n) => n.to_string(),
        Id::Text(t) => t,
    }))
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
                app_id: u.app_id.or(l.app_id),
                private_key_file: u.private_key_file.or(l.private_key_file),
                allow_private_network: u.allow_private_network.or(l.allow_private_network),
                webhook_secret: u.webhook_secret.or(l.webhook_secret),
                token: u.token.or(l.token),
                private_key: u.private_key.or(l.private_key),
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
            "APP_ID" => self.app_id = Some(value),
            "PRIVATE_KEY_FILE" => self.private_key_file = Some(value.into()),
            "PRIVATE_KEY" => self.private_key = Some(Secret(value)),
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
    /// GitHub only: the GitHub App whose installation tokens authenticate API calls (instead
    /// of `token`); holds the parsed key and the token cache, shared by every job.
    pub app: Option<Arc<GithubApp>>,
    /// Private addresses allowed for this forge.
    pub allow_private_network: bool,
}

impl ForgeSettings {
    /// The client endpoint for these settings (with the configured token, not an app's
    /// installation token: see `crate::jobs::forge_forward::client`).
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
    /// How long webhook delivery ids are kept to refuse replays.
    pub delivery_retention: time::Duration,
}

/// Default of `forge_delivery_retention_days`.
pub const DEFAULT_DELIVERY_RETENTION_DAYS: u32 = 30;

impl Default for Forges {
    /// Public forges, no secrets (every endpoint disabled).
    fn default() -> Self {
        let one = |kind| ForgeSettings {
            kind,
            api_url: sx_forge::Endpoint::default_api_base(kind).to_string(),
            web_host: default_web(kind).trim_start_matches("https://").to_string(),
            webhook_secret: None,
            token: None,
            app: None,
            allow_private_network: false,
        };
        Forges {
            github: one(ForgeKind::Github),
            gitlab: one(ForgeKind::Gitlab),
            forgejo: one(ForgeKind::Forgejo),
            label: "s-express".into(),
            delivery_retention: time::Duration::days(i64::from(DEFAULT_DELIVERY_RETENTION_DAYS)),
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

    /// Resolves the layers (reading secret files and parsing a GitHub App key).
    ///
    /// # Errors
    /// When a URL is not http(s), a secret file cannot be read or is empty, the GitHub App
    /// settings are incomplete or unusable, or the retention is out of range.
    pub fn resolve(
        github: Option<ForgeLayer>,
        gitlab: Option<ForgeLayer>,
        forgejo: Option<ForgeLayer>,
        label: Option<String>,
        delivery_retention_days: Option<u32>,
    ) -> Result<Forges, ConfigError> {
        let label = label.unwrap_or_else(|| "s-express".into());
        if label.trim().is_empty() || label.len() > 100 {
            return Err(ConfigError::Invalid {
                field: "forge_label",
                message: "must be 1-100 characters".into(),
            });
        }
        let days = delivery_retention_days.unwrap_or(DEFAULT_DELIVERY_RETENTION_DAYS);
        if !(1..=3650).contains(&days) {
            return Err(ConfigError::Invalid {
                field: "forge_delivery_retention_days",
                message: format!(
                    "{days} is out of range (1-3650): forges retry failed deliveries for days, and a shorter memory lets a replay through"
                ),
            });
        }
        Ok(Forges {
            github: resolve_one(ForgeKind::Github, github.unwrap_or_default())?,
            gitlab: resolve_one(ForgeKind::Gitlab, gitlab.unwrap_or_default())?,
            forgejo: resolve_one(ForgeKind::Forgejo, forgejo.unwrap_or_default())?,
            label,
            delivery_retention: time::Duration::days(i64::from(days)),
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
    let key = match (layer.private_key, layer.private_key_file) {
        (Some(s), _) => Some((s, "S_EXPRESS_GITHUB_PRIVATE_KEY".to_string())),
        (None, Some(path)) => Some((read_secret(kind, &path)?, path.display().to_string())),
        (None, None) => None,
    };
    let app_field = || match kind {
        ForgeKind::Github => "github.app_id",
        ForgeKind::Gitlab => "gitlab.app_id",
        ForgeKind::Forgejo => "forgejo.app_id",
    };
    let app = match (layer.app_id, key) {
        (None, None) => None,
        _ if kind != ForgeKind::Github => {
            return Err(ConfigError::Invalid {
                field: app_field(),
                message: "only GitHub has apps; use token_file".into(),
            });
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(ConfigError::Invalid {
                field: app_field(),
                message: "a GitHub App needs both app_id and private_key_file".into(),
            });
        }
        (Some(_), Some(_)) if token.is_some() => {
            return Err(ConfigError::Invalid {
                field: app_field(),
                message: "set either token_file (a token) or app_id and private_key_file (a GitHub App), not both".into(),
            });
        }
        (Some(id), Some((pem, source))) => Some(Arc::new(
            GithubApp::from_pem(&id, pem.expose().as_bytes()).map_err(|e| {
                ConfigError::Invalid {
                    field: app_field(),
                    message: format!("{e} (key from {source})"),
                }
            })?,
        )),
    };
    Ok(ForgeSettings {
        kind,
        api_url,
        web_host,
        webhook_secret,
        token,
        app,
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
        let forges = Forges::resolve(gh, gl, fj, None, None).unwrap();
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
        assert!(Forges::resolve(Some(layer), None, None, None, None).is_err());
        let layer = ForgeLayer {
            api_url: Some("ftp://x".into()),
            ..ForgeLayer::default()
        };
        assert!(Forges::resolve(None, Some(layer), None, None, None).is_err());
    }

    /// The TEST-ONLY GitHub App key of sx-forge's tests (public; never used for anything real).
    const TEST_KEY: &str =
        include_str!("../../../forge/tests/forge/testdata/github-app-test-only.pkcs1.pem");

    fn app_layer(dir: &Path, id: Option<&str>, key: Option<&str>) -> ForgeLayer {
        let key_file = key.map(|k| {
            let f = dir.join("app.pem");
            std::fs::write(&f, k).unwrap();
            f
        });
        ForgeLayer {
            app_id: id.map(str::to_string),
            private_key_file: key_file,
            ..ForgeLayer::default()
        }
    }

    #[test]
    fn a_github_app_needs_its_id_and_a_usable_key_and_never_prints_it() {
        let dir = tempfile::tempdir().unwrap();
        let forges = Forges::resolve(
            Some(app_layer(dir.path(), Some("123456"), Some(TEST_KEY))),
            None,
            None,
            None,
            None,
        )
        .unwrap();
        let app = forges.github.app.as_ref().unwrap();
        assert_eq!(app.app_id(), "123456");
        let key_line = TEST_KEY.lines().nth(3).unwrap();
        let debug = format!("{forges:?}");
        assert!(!debug.contains(key_line), "{debug}");

        let refused = |github: Option<ForgeLayer>, gitlab: Option<ForgeLayer>| {
            let e = Forges::resolve(github, gitlab, None, None, None)
                .unwrap_err()
                .to_string();
            assert!(!e.contains(key_line), "{e}");
            e
        };
        assert!(refused(Some(app_layer(dir.path(), Some("1"), None)), None).contains("both"));
        assert!(refused(Some(app_layer(dir.path(), None, Some(TEST_KEY))), None).contains("both"));
        let mut with_token = app_layer(dir.path(), Some("1"), Some(TEST_KEY));
        with_token.token = Some(Secret::new("ghp_x"));
        assert!(refused(Some(with_token), None).contains("not both"));
        assert!(
            refused(None, Some(app_layer(dir.path(), Some("1"), Some(TEST_KEY))))
                .contains("only GitHub")
        );
        // A damaged key: the error names the source, not the content.
        let damaged = TEST_KEY.replacen(key_line, &format!("*{}", &key_line[1..]), 1);
        let e = refused(Some(app_layer(dir.path(), Some("1"), Some(&damaged))), None);
        assert!(e.contains("app.pem"), "{e}");
    }

    #[test]
    fn the_app_id_is_a_number_or_a_client_id_in_the_config_file() {
        let layer: ForgeLayer = toml::from_str("app_id = 123456").unwrap();
        assert_eq!(layer.app_id.as_deref(), Some("123456"));
        let layer: ForgeLayer = toml::from_str("app_id = \"Iv23liAbc\"").unwrap();
        assert_eq!(layer.app_id.as_deref(), Some("Iv23liAbc"));
        assert!(toml::from_str::<ForgeLayer>("private_key = \"x\"").is_err());
        assert!(Forges::resolve(None, None, None, None, Some(0)).is_err());
        assert_eq!(
            Forges::resolve(None, None, None, None, Some(7))
                .unwrap()
                .delivery_retention,
            time::Duration::days(7)
        );
    }
}
