//! Configuration: defaults, then a TOML file, then `S_EXPRESS_*` environment variables, then
//! command-line flags; each later layer overrides the earlier ones field by field.
//!
//! Every source is parsed into the same [`ConfigLayer`] (all fields optional), so the
//! precedence is one function ([`Config::resolve`]) and a field cannot be forgotten in one
//! source. The file rejects unknown keys: a typo must not silently leave a default in place.
//!
//! | key (file) | environment | default |
//! |---|---|---|
//! | `listen` | `S_EXPRESS_LISTEN` | `127.0.0.1:8080` |
//! | `data_dir` | `S_EXPRESS_DATA_DIR` | `.` |
//! | `database_url` | `S_EXPRESS_DATABASE_URL` | `sqlite://<data_dir>/s-express.sqlite` |
//! | `public_base_url` | `S_EXPRESS_PUBLIC_BASE_URL` | `http://<listen>` |
//! | `max_grace_days` | `S_EXPRESS_MAX_GRACE_DAYS` | 90 |
//! | `sla_hours` | `S_EXPRESS_SLA_HOURS` | 24 |
//! | `max_change_bytes` | `S_EXPRESS_MAX_CHANGE_BYTES` | 8 MiB (8388608) |
//! | `session_hours` | `S_EXPRESS_SESSION_HOURS` | 12 |
//! | `login_per_minute` / `login_burst` | `S_EXPRESS_LOGIN_PER_MINUTE` / `_BURST` | 10 / 10 |
//! | `submit_per_minute` / `submit_burst` | `S_EXPRESS_SUBMIT_PER_MINUTE` / `_BURST` | 6 / 20 |
//! | `run_worker` | `S_EXPRESS_RUN_WORKER` | true |
//! | `[notify]` table | `S_EXPRESS_SMTP_*`, `S_EXPRESS_NOTIFY_*` | no e-mail; see [`crate::notify::config`] |
//! | `dataset_license` | `S_EXPRESS_DATASET_LICENSE` | `CC0-1.0` (SPDX id of the open dataset's licence) |
//! | `[mail]` table | `S_EXPRESS_MAIL_*` | no mail intake; see [`crate::mail::config`] |
//! | `[github]`, `[gitlab]`, `[forgejo]` tables, `forge_label`, `forge_delivery_retention_days` | `S_EXPRESS_GITHUB_*`, ..., `S_EXPRESS_FORGE_LABEL`, `S_EXPRESS_FORGE_DELIVERY_RETENTION_DAYS` | see [`crate::hooks::settings`] |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ratelimit::Rate;

/// Default maximum size of a submitted change (diff, patch or mbox text): 8 MiB.
pub const DEFAULT_MAX_CHANGE_BYTES: usize = 8 << 20;

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("could not read the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown keys or wrong types.
    #[error("the config file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// An environment variable has a value of the wrong form.
    #[error("environment variable {name} is invalid: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What was expected.
        message: String,
    },
    /// A value is out of its allowed range.
    #[error("{field} is invalid: {message}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// Why.
        message: String,
    },
}

/// One source of settings; `None` leaves the value to earlier layers or the default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite database and other local state.
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    pub database_url: Option<String>,
    /// The URL users reach the service at (links, cookie `Secure` flag).
    pub public_base_url: Option<String>,
    /// Longest grace period from receipt to publication, in days.
    pub max_grace_days: Option<u32>,
    /// First human assessment due this many hours after receipt.
    pub sla_hours: Option<u32>,
    /// Largest accepted change text, in bytes.
    pub max_change_bytes: Option<usize>,
    /// Login session lifetime, in hours.
    pub session_hours: Option<u32>,
    /// Sustained login attempts per minute, per IP and per account.
    pub login_per_minute: Option<u32>,
    /// Login attempts allowed in a burst.
    pub login_burst: Option<u32>,
    /// Sustained submissions per minute, per IP and per account.
    pub submit_per_minute: Option<u32>,
    /// Submissions allowed in a burst.
    pub submit_burst: Option<u32>,
    /// Whether `serve` also runs the job worker.
    pub run_worker: Option<bool>,
    /// Notifications: SMTP relay and webhook policy (`[notify]` table).
    pub notify: Option<crate::notify::config::NotifyLayer>,
    /// SPDX id of the open dataset's licence.
    pub dataset_license: Option<String>,
    /// GitHub webhook and API settings (`[github]` table).
    pub github: Option<crate::hooks::settings::ForgeLayer>,
    /// GitLab webhook and API settings (`[gitlab]` table).
    pub gitlab: Option<crate::hooks::settings::ForgeLayer>,
    /// Forgejo/Gitea webhook and API settings (`[forgejo]` table).
    pub forgejo: Option<crate::hooks::settings::ForgeLayer>,
    /// The label that forwards a pull request.
    pub forge_label: Option<String>,
    /// Days webhook delivery ids are kept to refuse replays.
    pub forge_delivery_retention_days: Option<u32>,
    /// Mail intake (`[mail]` table).
    pub mail: Option<crate::mail::config::MailLayer>,
}

impl ConfigLayer {
    /// Reads a TOML config file.
    ///
    /// # Errors
    /// When the file cannot be read or is invalid.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.into(),
            message,
        })
    }

    /// Parses TOML text.
    ///
    /// # Errors
    /// The parser's message when the text is invalid.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Reads `S_EXPRESS_*` variables from `vars` (pass `std::env::vars()`).
    ///
    /// # Errors
    /// When a variable has a value of the wrong form.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layer = ConfigLayer::default();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("S_EXPRESS_") else {
                continue;
            };
            match key {
                "LISTEN" => layer.listen = Some(parse_env(&name, &value)?),
                "DATA_DIR" => layer.data_dir = Some(PathBuf::from(value)),
                "DATABASE_URL" => layer.database_url = Some(value),
                "PUBLIC_BASE_URL" => layer.public_base_url = Some(value),
                "MAX_GRACE_DAYS" => layer.max_grace_days = Some(parse_env(&name, &value)?),
                "SLA_HOURS" => layer.sla_hours = Some(parse_env(&name, &value)?),
                "MAX_CHANGE_BYTES" => layer.max_change_bytes = Some(parse_env(&name, &value)?),
                "SESSION_HOURS" => layer.session_hours = Some(parse_env(&name, &value)?),
                "LOGIN_PER_MINUTE" => layer.login_per_minute = Some(parse_env(&name, &value)?),
                "LOGIN_BURST" => layer.login_burst = Some(parse_env(&name, &value)?),
                "SUBMIT_PER_MINUTE" => layer.submit_per_minute = Some(parse_env(&name, &value)?),
                "SUBMIT_BURST" => layer.submit_burst = Some(parse_env(&name, &value)?),
                "RUN_WORKER" => layer.run_worker = Some(parse_env(&name, &value)?),
                k if k.starts_with("SMTP_")
                    || k.starts_with("NOTIFY_")
                    || k == "WEBHOOK_TIMEOUT_SECS" =>
                {
                    layer
                        .notify
                        .get_or_insert_with(Default::default)
                        .apply_env(k, &value)?;
                }
                "DATASET_LICENSE" => layer.dataset_license = Some(value),
                k if k.starts_with("MAIL_") => {
                    layer
                        .mail
                        .get_or_insert_with(Default::default)
                        .apply_env(k, &value)?;
                }
                "FORGE_LABEL" => layer.forge_label = Some(value),
                "FORGE_DELIVERY_RETENTION_DAYS" => {
                    layer.forge_delivery_retention_days = Some(parse_env(&name, &value)?);
                }
                k if k.starts_with("GITHUB_")
                    || k.starts_with("GITLAB_")
                    || k.starts_with("FORGEJO_") =>
                {
                    crate::hooks::settings::apply_env(
                        &mut layer.github,
                        &mut layer.gitlab,
                        &mut layer.forgejo,
                        &name,
                        k,
                        value,
                    )?;
                }
                // Other S_EXPRESS_* variables belong to other commands (e.g. the CLI's token).
                _ => {}
            }
        }
        Ok(layer)
    }

    /// Fills every field this layer leaves unset from `lower`.
    #[must_use]
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            public_base_url: self.public_base_url.or(lower.public_base_url),
            max_grace_days: self.max_grace_days.or(lower.max_grace_days),
            sla_hours: self.sla_hours.or(lower.sla_hours),
            max_change_bytes: self.max_change_bytes.or(lower.max_change_bytes),
            session_hours: self.session_hours.or(lower.session_hours),
            login_per_minute: self.login_per_minute.or(lower.login_per_minute),
            login_burst: self.login_burst.or(lower.login_burst),
            submit_per_minute: self.submit_per_minute.or(lower.submit_per_minute),
            submit_burst: self.submit_burst.or(lower.submit_burst),
            run_worker: self.run_worker.or(lower.run_worker),
            notify: crate::notify::config::merge(self.notify, lower.notify),
            dataset_license: self.dataset_license.or(lower.dataset_license),
            github: crate::hooks::settings::ForgeLayer::merge(self.github, lower.github),
            gitlab: crate::hooks::settings::ForgeLayer::merge(self.gitlab, lower.gitlab),
            forgejo: crate::hooks::settings::ForgeLayer::merge(self.forgejo, lower.forgejo),
            forge_label: self.forge_label.or(lower.forge_label),
            forge_delivery_retention_days: self
                .forge_delivery_retention_days
                .or(lower.forge_delivery_retention_days),
            mail: crate::mail::config::MailLayer::merge(self.mail, lower.mail),
        }
    }
}

/// Validates the dataset licence: an SPDX-like id (letters, digits, `.`, `-`, `+`).
fn dataset_license(value: Option<String>) -> Result<String, ConfigError> {
    let id = value.map(|v| v.trim().to_string());
    match id {
        None => Ok("CC0-1.0".into()),
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')) =>
        {
            Ok(id)
        }
        Some(_) => Err(ConfigError::Invalid {
            field: "dataset_license",
            message: "use an SPDX licence id such as CC0-1.0 or CC-BY-4.0".into(),
        }),
    }
}

fn parse_env<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError::Env {
        name: name.to_string(),
        message: e.to_string(),
    })
}

/// The resolved configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for local state.
    pub data_dir: PathBuf,
    /// Explicit database URL; `None` means the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Public base URL, without a trailing slash.
    pub public_base_url: String,
    /// Longest grace period, in days.
    pub max_grace_days: u32,
    /// SLA for the first human assessment, in hours.
    pub sla_hours: u32,
    /// Largest accepted change text, in bytes.
    pub max_change_bytes: usize,
    /// Session lifetime, in hours.
    pub session_hours: u32,
    /// Login rate per key.
    pub login_rate: Rate,
    /// Submission rate per key.
    pub submit_rate: Rate,
    /// Whether `serve` runs the job worker too.
    pub run_worker: bool,
    /// Notifications: SMTP relay and webhook policy.
    pub notify: crate::notify::config::NotifyConfig,
    /// SPDX id of the open dataset's licence.
    pub dataset_license: String,
    /// Forge webhooks and API clients.
    pub forges: crate::hooks::settings::Forges,
    /// Mail intake.
    pub mail: crate::mail::config::MailConfig,
}

impl Default for Config {
    fn default() -> Self {
        // The empty layer always resolves: every default is valid.
        Config::resolve(ConfigLayer::default()).unwrap_or_else(|_| unreachable_defaults())
    }
}

#[cold]
fn unreachable_defaults() -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        data_dir: PathBuf::from("."),
        database_url: None,
        public_base_url: "http://127.0.0.1:8080".into(),
        max_grace_days: 90,
        sla_hours: 24,
        max_change_bytes: DEFAULT_MAX_CHANGE_BYTES,
        session_hours: 12,
        login_rate: Rate {
            per_minute: 10,
            burst: 10,
        },
        submit_rate: Rate {
            per_minute: 6,
            burst: 20,
        },
        run_worker: true,
        notify: crate::notify::config::NotifyConfig::default(),
        dataset_license: "CC0-1.0".into(),
        forges: crate::hooks::settings::Forges::default(),
        mail: crate::mail::config::MailConfig::default(),
    }
}

impl Config {
    /// Applies defaults to a merged layer and validates the result.
    ///
    /// # Errors
    /// When a value is out of range (zero grace, an unparsable base URL, ...).
    pub fn resolve(layer: ConfigLayer) -> Result<Config, ConfigError> {
        let listen = layer
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_base_url = layer
            .public_base_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                field: "public_base_url",
                message: format!("{public_base_url:?} must start with http:// or https://"),
            });
        }
        let max_grace_days = layer.max_grace_days.unwrap_or(90);
        if !(1..=3650).contains(&max_grace_days) {
            return Err(ConfigError::Invalid {
                field: "max_grace_days",
                message: "must be between 1 and 3650".into(),
            });
        }
        let sla_hours = layer.sla_hours.unwrap_or(24);
        if !(1..=24 * 90).contains(&sla_hours) {
            return Err(ConfigError::Invalid {
                field: "sla_hours",
                message: "must be between 1 and 2160".into(),
            });
        }
        let max_change_bytes = layer.max_change_bytes.unwrap_or(DEFAULT_MAX_CHANGE_BYTES);
        if !(1024..=(256 << 20)).contains(&max_change_bytes) {
            return Err(ConfigError::Invalid {
                field: "max_change_bytes",
                message: "must be between 1 KiB and 256 MiB".into(),
            });
        }
        let session_hours = layer.session_hours.unwrap_or(12);
        if !(1..=24 * 30).contains(&session_hours) {
            return Err(ConfigError::Invalid {
                field: "session_hours",
                message: "must be between 1 and 720".into(),
            });
        }
        let rate =
            |field: &'static str, per_minute: Option<u32>, burst: Option<u32>, d: (u32, u32)| {
                let r = Rate {
                    per_minute: per_minute.unwrap_or(d.0),
                    burst: burst.unwrap_or(d.1),
                };
                if r.per_minute == 0 || r.burst == 0 {
                    Err(ConfigError::Invalid {
                        field,
                        message: "rates and bursts must be at least 1".into(),
                    })
                } else {
                    Ok(r)
                }
            };
        Ok(Config {
            listen,
            data_dir: layer.data_dir.unwrap_or_else(|| PathBuf::from(".")),
            database_url: layer.database_url,
            public_base_url,
            max_grace_days,
            sla_hours,
            max_change_bytes,
            session_hours,
            login_rate: rate(
                "login rate",
                layer.login_per_minute,
                layer.login_burst,
                (10, 10),
            )?,
            submit_rate: rate(
                "submission rate",
                layer.submit_per_minute,
                layer.submit_burst,
                (6, 20),
            )?,
            run_worker: layer.run_worker.unwrap_or(true),
            notify: crate::notify::config::NotifyConfig::resolve(layer.notify)?,
            dataset_license: dataset_license(layer.dataset_license)?,
            forges: crate::hooks::settings::Forges::resolve(
                layer.github,
                layer.gitlab,
                layer.forgejo,
                layer.forge_label,
                layer.forge_delivery_retention_days,
            )?,
            mail: crate::mail::config::MailConfig::resolve(layer.mail, max_change_bytes)?,
        })
    }

    /// Builds the configuration from flags, environment and an optional file, in that order of
    /// precedence (`S_EXPRESS_CONFIG` names the file when `file` is `None`).
    ///
    /// # Errors
    /// When the file or a variable is invalid, or the result is out of range.
    pub fn load(
        flags: ConfigLayer,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let env_file = env
            .iter()
            .find(|(k, _)| k == "S_EXPRESS_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        let file_layer = match file.map(Path::to_path_buf).or(env_file) {
            Some(path) => ConfigLayer::from_file(&path)?,
            None => ConfigLayer::default(),
        };
        let env_layer = ConfigLayer::from_env(env)?;
        Config::resolve(flags.over(env_layer.over(file_layer)))
    }

    /// The database URL: the explicit one, or the SQLite file in the data directory.
    #[must_use]
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir.join("s-express.sqlite").display()
            ),
        }
    }

    /// Whether users reach the service over HTTPS (cookies then carry `Secure`).
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }

    /// Largest accepted request body: room for a maximal change JSON-escaped (escaping at most
    /// doubles typical diff text) plus the other fields.
    #[must_use]
    pub fn max_request_bytes(&self) -> usize {
        self.max_change_bytes
            .saturating_mul(2)
            .saturating_add(64 << 10)
    }

    /// The domain policy these settings imply.
    #[must_use]
    pub fn policy(&self) -> sx_domain::Policy {
        let defaults = sx_domain::Policy::default();
        sx_domain::Policy {
            max_grace: time::Duration::days(i64::from(self.max_grace_days)),
            sla: sx_domain::SlaPolicy {
                first_assessment_due: time::Duration::hours(i64::from(self.sla_hours)),
                ..defaults.sla
            },
            ..defaults
        }
    }
}

/// A database URL safe to log: any password is replaced by `***`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn defaults_listen_locally_with_sqlite_in_the_data_dir() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://./s-express.sqlite");
        assert_eq!(
            (c.max_grace_days, c.sla_hours, c.max_change_bytes),
            (90, 24, 8 << 20)
        );
        assert_eq!(c.public_base_url, "http://127.0.0.1:8080");
        assert!(!c.is_https());
    }

    #[test]
    fn flags_beat_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sx.toml");
        std::fs::write(
            &file,
            "sla_hours = 12\nmax_grace_days = 30\nlisten = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            ..ConfigLayer::default()
        };
        let c = Config::load(
            flags,
            Some(&file),
            env(&[("S_EXPRESS_SLA_HOURS", "6"), ("HOME", "/root")]),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(c.sla_hours, 6);
        assert_eq!(c.max_grace_days, 30);
    }

    #[test]
    fn unknown_file_keys_and_bad_env_values_are_refused_with_their_name() {
        let err = ConfigLayer::from_toml("sla_hour = 3").unwrap_err();
        assert!(err.contains("sla_hour"), "{err}");
        let err =
            ConfigLayer::from_env(env(&[("S_EXPRESS_MAX_GRACE_DAYS", "ninety")])).unwrap_err();
        assert!(
            err.to_string().contains("S_EXPRESS_MAX_GRACE_DAYS"),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let zero_grace = ConfigLayer {
            max_grace_days: Some(0),
            ..ConfigLayer::default()
        };
        assert!(Config::resolve(zero_grace).is_err());
        let ftp = ConfigLayer {
            public_base_url: Some("ftp://x".into()),
            ..ConfigLayer::default()
        };
        assert!(Config::resolve(ftp).is_err());
    }

    #[test]
    fn the_policy_follows_grace_and_sla_settings() {
        let layer = ConfigLayer {
            max_grace_days: Some(30),
            sla_hours: Some(48),
            ..ConfigLayer::default()
        };
        let p = Config::resolve(layer).unwrap().policy();
        assert_eq!(p.max_grace, time::Duration::days(30));
        assert_eq!(p.sla.first_assessment_due, time::Duration::hours(48));
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://sx:secret@db/sx"),
            "postgres://sx:***@db/sx"
        );
        assert_eq!(redact_url("postgres://sx@db/sx"), "postgres://sx@db/sx");
        assert_eq!(redact_url("sqlite://./s.sqlite"), "sqlite://./s.sqlite");
    }
}
