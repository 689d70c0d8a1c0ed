//! Mail intake settings: the `[mail]` table of the config file, or `S_EXPRESS_MAIL_*`.
//!
//! | key (`[mail]`) | environment | default |
//! |---|---|---|
//! | `intake_domain` | `S_EXPRESS_MAIL_INTAKE_DOMAIN` | none: no mail intake |
//! | `intake_local_part` | `S_EXPRESS_MAIL_INTAKE_LOCAL_PART` | `submit` |
//! | `max_message_bytes` | `S_EXPRESS_MAIL_MAX_MESSAGE_BYTES` | twice `max_change_bytes` plus 64 KiB (16 MiB + 64 KiB) |
//! | `max_cases_per_hour` | `S_EXPRESS_MAIL_MAX_CASES_PER_HOUR` | 30 cases a user may open by mail in any hour (1–10000) |
//!
//! A maintainer's intake address is `<intake_local_part>+<token>@<intake_domain>`: the MTA
//! must deliver every `<intake_local_part>+…` address of that domain to `s-express mail
//! deliver` (Postfix: `recipient_delimiter = +`), see `docs/maintainers.md`.

use serde::Deserialize;

use crate::config::ConfigError;

/// The `[mail]` table of one configuration source; `None` leaves a value to lower layers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailLayer {
    /// The domain intake addresses are at.
    pub intake_domain: Option<String>,
    /// The local part before the `+`.
    pub intake_local_part: Option<String>,
    /// Largest accepted message, in bytes.
    pub max_message_bytes: Option<usize>,
    /// Most cases one user may open by mail in any hour.
    pub max_cases_per_hour: Option<u32>,
}

impl MailLayer {
    /// Applies one `S_EXPRESS_MAIL_*` variable (`key` without `S_EXPRESS_`).
    ///
    /// # Errors
    /// When the value has the wrong form.
    pub fn apply_env(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "MAIL_INTAKE_DOMAIN" => self.intake_domain = Some(value.trim().to_string()),
            "MAIL_INTAKE_LOCAL_PART" => self.intake_local_part = Some(value.trim().to_string()),
            "MAIL_MAX_MESSAGE_BYTES" => self.max_message_bytes = Some(number(key, value)?),
            "MAIL_MAX_CASES_PER_HOUR" => self.max_cases_per_hour = Some(number(key, value)?),
            _ => {}
        }
        Ok(())
    }

    /// Fills every field `higher` leaves unset from `lower`.
    #[must_use]
    pub fn merge(higher: Option<MailLayer>, lower: Option<MailLayer>) -> Option<MailLayer> {
        match (higher, lower) {
            (Some(h), Some(l)) => Some(MailLayer {
                intake_domain: h.intake_domain.or(l.intake_domain),
                intake_local_part: h.intake_local_part.or(l.intake_local_part),
                max_message_bytes: h.max_message_bytes.or(l.max_message_bytes),
                max_cases_per_hour: h.max_cases_per_hour.or(l.max_cases_per_hour),
            }),
            (h, l) => h.or(l),
        }
    }
}

/// A number from the variable `S_EXPRESS_<key>`.
fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.trim().parse().map_err(|e: T::Err| ConfigError::Env {
        name: format!("S_EXPRESS_{key}"),
        message: e.to_string(),
    })
}

/// Default of [`MailConfig::max_cases_per_hour`].
pub const DEFAULT_MAX_CASES_PER_HOUR: u32 = 30;

/// Largest [`MailConfig::max_cases_per_hour`] accepted.
pub const MAX_MAX_CASES_PER_HOUR: u32 = 10_000;

/// The resolved mail intake settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// The intake domain, lower-case; `None` turns the intake off.
    pub intake_domain: Option<String>,
    /// The local part before the `+`, lower-case.
    pub intake_local_part: String,
    /// Largest accepted message, in bytes.
    pub max_message_bytes: usize,
    /// Most cases one user may open by mail in any hour (a sliding window); further messages
    /// are deferred (`EX_TEMPFAIL`), so the MTA keeps them and tries again.
    pub max_cases_per_hour: u32,
}

impl MailConfig {
    /// Applies defaults and validates.
    ///
    /// # Errors
    /// When the domain or local part has characters an address cannot have there, or the
    /// size is out of range.
    pub fn resolve(
        layer: Option<MailLayer>,
        max_change_bytes: usize,
    ) -> Result<MailConfig, ConfigError> {
        let layer = layer.unwrap_or_default();
        let intake_domain = match layer.intake_domain.map(|d| d.trim().to_ascii_lowercase()) {
            None => None,
            Some(d) if d.is_empty() => None,
            Some(d) => {
                let ok = d.len() <= 253
                    && d.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            && !label.starts_with('-')
                            && !label.ends_with('-')
                    });
                if !ok {
                    return Err(ConfigError::Invalid {
                        field: "mail.intake_domain",
                        message: format!("{d:?} is not a domain name such as intake.example.org"),
                    });
                }
                Some(d)
            }
        };
        let intake_local_part = layer
            .intake_local_part
            .map_or_else(|| "submit".to_string(), |l| l.trim().to_ascii_lowercase());
        if intake_local_part.is_empty()
            || intake_local_part.len() > 24
            || !intake_local_part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(ConfigError::Invalid {
                field: "mail.intake_local_part",
                message: "use 1-24 letters, digits, '-', '_' or '.' (no '+'), e.g. submit".into(),
            });
        }
        let default_size = max_change_bytes.saturating_mul(2).saturating_add(64 << 10);
        let max_message_bytes = layer.max_message_bytes.unwrap_or(default_size);
        if !(1024..=(512 << 20)).contains(&max_message_bytes) {
            return Err(ConfigError::Invalid {
                field: "mail.max_message_bytes",
                message: "must be between 1 KiB and 512 MiB".into(),
            });
        }
        let max_cases_per_hour = layer
            .max_cases_per_hour
            .unwrap_or(DEFAULT_MAX_CASES_PER_HOUR);
        if !(1..=MAX_MAX_CASES_PER_HOUR).contains(&max_cases_per_hour) {
            return Err(ConfigError::Invalid {
                field: "mail.max_cases_per_hour",
                message: format!("must be between 1 and {MAX_MAX_CASES_PER_HOUR}"),
            });
        }
        Ok(MailConfig {
            intake_domain,
            intake_local_part,
            max_message_bytes,
            max_cases_per_hour,
        })
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            intake_domain: None,
            intake_local_part: "submit".into(),
            max_message_bytes: (16 << 20) + (64 << 10),
            max_cases_per_hour: DEFAULT_MAX_CASES_PER_HOUR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_intake_is_off_until_a_domain_is_set_and_names_are_checked() {
        let off = MailConfig::resolve(None, 8 << 20).unwrap();
        assert_eq!(off, MailConfig::default());
        let on = MailConfig::resolve(
            Some(MailLayer {
                intake_domain: Some(" Intake.Example.ORG ".into()),
                ..MailLayer::default()
            }),
            1 << 20,
        )
        .unwrap();
        assert_eq!(on.intake_domain.as_deref(), Some("intake.example.org"));
        assert_eq!(on.max_message_bytes, (2 << 20) + (64 << 10));
        for bad in ["exa mple.org", "-x.org", "a..b", "x@y.org"] {
            assert!(
                MailConfig::resolve(
                    Some(MailLayer {
                        intake_domain: Some(bad.into()),
                        ..MailLayer::default()
                    }),
                    1 << 20
                )
                .is_err(),
                "{bad}"
            );
        }
        assert!(
            MailConfig::resolve(
                Some(MailLayer {
                    intake_local_part: Some("sub+mit".into()),
                    ..MailLayer::default()
                }),
                1 << 20
            )
            .is_err()
        );
        let mut env = MailLayer::default();
        env.apply_env("MAIL_MAX_MESSAGE_BYTES", "4096").unwrap();
        assert_eq!(env.max_message_bytes, Some(4096));
        assert!(env.apply_env("MAIL_MAX_MESSAGE_BYTES", "big").is_err());
    }

    #[test]
    fn the_hourly_case_limit_defaults_to_30_and_is_checked() {
        assert_eq!(
            MailConfig::resolve(None, 1 << 20)
                .unwrap()
                .max_cases_per_hour,
            DEFAULT_MAX_CASES_PER_HOUR
        );
        let mut env = MailLayer::default();
        env.apply_env("MAIL_MAX_CASES_PER_HOUR", " 5 ").unwrap();
        assert_eq!(env.max_cases_per_hour, Some(5));
        assert!(env.apply_env("MAIL_MAX_CASES_PER_HOUR", "-1").is_err());
        let file = MailLayer {
            max_cases_per_hour: Some(100),
            ..MailLayer::default()
        };
        let merged = MailLayer::merge(Some(env), Some(file)).unwrap();
        assert_eq!(
            MailConfig::resolve(Some(merged), 1 << 20)
                .unwrap()
                .max_cases_per_hour,
            5,
            "the environment wins over the file"
        );
        for bad in [0, MAX_MAX_CASES_PER_HOUR + 1] {
            let e = MailConfig::resolve(
                Some(MailLayer {
                    max_cases_per_hour: Some(bad),
                    ..MailLayer::default()
                }),
                1 << 20,
            )
            .unwrap_err();
            assert!(e.to_string().contains("max_cases_per_hour"), "{e}");
        }
    }
}
