//! Notification settings of the instance: the SMTP relay and the webhook policy.
//!
//! In the config file they form a `[notify]` table; each key also has an environment variable.
//!
//! | key (`[notify]`) | environment | default |
//! |---|---|---|
//! | `smtp_host` | `S_EXPRESS_SMTP_HOST` | none: no e-mail is sent |
//! | `smtp_port` | `S_EXPRESS_SMTP_PORT` | 587 (`starttls`), 465 (`tls`), 25 (`none`) |
//! | `smtp_tls` | `S_EXPRESS_SMTP_TLS` | `starttls`; `tls` (implicit TLS) or `none` (a local relay only) |
//! | `smtp_from` | `S_EXPRESS_SMTP_FROM` | `S-Express <s-express@localhost>` |
//! | `smtp_username` | `S_EXPRESS_SMTP_USERNAME` | none (no SMTP AUTH) |
//! | `smtp_password_file` | `S_EXPRESS_SMTP_PASSWORD_FILE` | none; read at each send, first line |
//! | — | `S_EXPRESS_SMTP_PASSWORD` | none (prefer the file: environments leak into crash reports) |
//! | `allow_private_targets` | `S_EXPRESS_NOTIFY_ALLOW_PRIVATE_TARGETS` | false |
//! | `webhook_timeout_secs` | `S_EXPRESS_WEBHOOK_TIMEOUT_SECS` | 10 |
//!
//! The password is never in the config file itself, never printed and never logged.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::ConfigError;

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required, never optional).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(SmtpTls::Starttls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            other => Err(format!("{other:?} is not starttls, tls or none")),
        }
    }
}

/// A secret value: compared, cloned, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The `[notify]` table of one configuration source; `None` leaves a value to lower layers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyLayer {
    /// SMTP relay host.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: Option<u16>,
    /// Connection security.
    pub smtp_tls: Option<SmtpTls>,
    /// The From: mailbox.
    pub smtp_from: Option<String>,
    /// SMTP AUTH user.
    pub smtp_username: Option<String>,
    /// File holding the SMTP password.
    pub smtp_password_file: Option<PathBuf>,
    /// The SMTP password (environment only).
    #[serde(skip)]
    pub smtp_password: Option<Secret>,
    /// Let webhooks reach private, loopback and link-local addresses (tests, closed networks).
    pub allow_private_targets: Option<bool>,
    /// Webhook request timeout, in seconds.
    pub webhook_timeout_secs: Option<u64>,
}

impl NotifyLayer {
    /// Applies one `S_EXPRESS_*` variable (`key` without the prefix); returns whether it was a
    /// notification setting.
    ///
    /// # Errors
    /// When the value has the wrong form.
    pub fn apply_env(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let name = format!("S_EXPRESS_{key}");
        let parse_err = |message: String| ConfigError::Env {
            name: name.clone(),
            message,
        };
        match key {
            "SMTP_HOST" => self.smtp_host = Some(value.trim().to_string()),
            "SMTP_PORT" => {
                self.smtp_port = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|e| parse_err(format!("{e}")))?,
                );
            }
            "SMTP_TLS" => self.smtp_tls = Some(value.parse().map_err(parse_err)?),
            "SMTP_FROM" => self.smtp_from = Some(value.to_string()),
            "SMTP_USERNAME" => self.smtp_username = Some(value.to_string()),
            "SMTP_PASSWORD_FILE" => self.smtp_password_file = Some(PathBuf::from(value)),
            "SMTP_PASSWORD" => self.smtp_password = Some(Secret(value.to_string())),
            "NOTIFY_ALLOW_PRIVATE_TARGETS" => {
                self.allow_private_targets = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|e| parse_err(format!("{e}")))?,
                );
            }
            "WEBHOOK_TIMEOUT_SECS" => {
                self.webhook_timeout_secs = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|e| parse_err(format!("{e}")))?,
                );
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Fills every field this layer leaves unset from `lower`.
    #[must_use]
    pub fn over(self, lower: NotifyLayer) -> NotifyLayer {
        NotifyLayer {
            smtp_host: self.smtp_host.or(lower.smtp_host),
            smtp_port: self.smtp_port.or(lower.smtp_port),
            smtp_tls: self.smtp_tls.or(lower.smtp_tls),
            smtp_from: self.smtp_from.or(lower.smtp_from),
            smtp_username: self.smtp_username.or(lower.smtp_username),
            smtp_password_file: self.smtp_password_file.or(lower.smtp_password_file),
            smtp_password: self.smtp_password.or(lower.smtp_password),
            allow_private_targets: self.allow_private_targets.or(lower.allow_private_targets),
            webhook_timeout_secs: self.webhook_timeout_secs.or(lower.webhook_timeout_secs),
        }
    }
}

/// Merges two optional layers.
#[must_use]
pub fn merge(upper: Option<NotifyLayer>, lower: Option<NotifyLayer>) -> Option<NotifyLayer> {
    match (upper, lower) {
        (Some(u), Some(l)) => Some(u.over(l)),
        (u, l) => u.or(l),
    }
}

/// The SMTP relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Security.
    pub tls: SmtpTls,
    /// From: mailbox (validated).
    pub from: String,
    /// AUTH user.
    pub username: Option<String>,
    /// Password file (read at each send so it can be rotated).
    pub password_file: Option<PathBuf>,
    /// Password from the environment.
    pub password: Option<Secret>,
}

impl SmtpConfig {
    /// The password: the file's first line, else the environment's.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn password(&self) -> Result<Option<String>, String> {
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!("cannot read the SMTP password file {}: {e}", path.display())
            })?;
            return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
        }
        Ok(self.password.as_ref().map(|s| s.0.clone()))
    }
}

/// The resolved notification settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyConfig {
    /// The SMTP relay; `None` disables e-mail.
    pub smtp: Option<SmtpConfig>,
    /// Whether webhooks may target private, loopback and link-local addresses.
    pub allow_private_targets: bool,
    /// Webhook request timeout.
    pub webhook_timeout: std::time::Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp: None,
            allow_private_targets: false,
            webhook_timeout: std::time::Duration::from_secs(10),
        }
    }
}

impl NotifyConfig {
    /// Applies defaults and validates.
    ///
    /// # Errors
    /// When a value is out of range or the From: address is not a mailbox.
    pub fn resolve(layer: Option<NotifyLayer>) -> Result<NotifyConfig, ConfigError> {
        let layer = layer.unwrap_or_default();
        let invalid = |message: String| ConfigError::Invalid {
            field: "notify",
            message,
        };
        let timeout = layer.webhook_timeout_secs.unwrap_or(10);
        if !(1..=60).contains(&timeout) {
            return Err(invalid(
                "webhook_timeout_secs must be between 1 and 60".into(),
            ));
        }
        let smtp = match layer.smtp_host.filter(|h| !h.trim().is_empty()) {
            None => None,
            Some(host) => {
                let tls = layer.smtp_tls.unwrap_or_default();
                let port = layer.smtp_port.unwrap_or(match tls {
                    SmtpTls::Starttls => 587,
                    SmtpTls::Tls => 465,
                    SmtpTls::None => 25,
                });
                let from = layer
                    .smtp_from
                    .unwrap_or_else(|| "S-Express <s-express@localhost>".to_string());
                from.parse::<lettre::message::Mailbox>().map_err(|e| {
                    invalid(format!("smtp_from {from:?} is not a mailbox ({e}); write e.g. \"S-Express <sx@example.org>\""))
                })?;
                Some(SmtpConfig {
                    host,
                    port,
                    tls,
                    from,
                    username: layer.smtp_username.filter(|u| !u.is_empty()),
                    password_file: layer.smtp_password_file,
                    password: layer.smtp_password,
                })
            }
        };
        Ok(NotifyConfig {
            smtp,
            allow_private_targets: layer.allow_private_targets.unwrap_or(false),
            webhook_timeout: std::time::Duration::from_secs(timeout),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_password_never_shows_in_debug_output() {
        let mut layer = NotifyLayer {
            smtp_host: Some("mail.example.org".into()),
            ..NotifyLayer::default()
        };
        assert!(layer.apply_env("SMTP_PASSWORD", "hunter2-secret").unwrap());
        let config = NotifyConfig::resolve(Some(layer)).unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(
            config.smtp.unwrap().password().unwrap().as_deref(),
            Some("hunter2-secret")
        );
    }

    #[test]
    fn ports_follow_the_tls_mode_and_bad_values_are_refused() {
        let layer = |tls: &str| {
            let mut l = NotifyLayer {
                smtp_host: Some("mx".into()),
                ..NotifyLayer::default()
            };
            l.apply_env("SMTP_TLS", tls).map(|_| l)
        };
        let port = |tls| {
            NotifyConfig::resolve(Some(layer(tls).unwrap()))
                .unwrap()
                .smtp
                .unwrap()
                .port
        };
        assert_eq!(
            (port("starttls"), port("tls"), port("none")),
            (587, 465, 25)
        );
        assert!(layer("ssl3").is_err());
        let bad_from = NotifyLayer {
            smtp_host: Some("mx".into()),
            smtp_from: Some("not a mailbox".into()),
            ..NotifyLayer::default()
        };
        assert!(NotifyConfig::resolve(Some(bad_from)).is_err());
        assert!(NotifyConfig::resolve(None).unwrap().smtp.is_none());
    }

    #[test]
    fn the_password_file_wins_and_is_read_at_use() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\nignored\n").unwrap();
        let layer = NotifyLayer {
            smtp_host: Some("mx".into()),
            smtp_password_file: Some(file.clone()),
            smtp_password: Some(Secret("from-env".into())),
            ..NotifyLayer::default()
        };
        let smtp = NotifyConfig::resolve(Some(layer)).unwrap().smtp.unwrap();
        assert_eq!(smtp.password().unwrap().as_deref(), Some("from-file"));
        std::fs::remove_file(&file).unwrap();
        assert!(smtp.password().unwrap_err().contains("password file"));
    }
}
