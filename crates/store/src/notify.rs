//! Notification settings and delivery bookkeeping.
//!
//! A user's notification settings live beside the domain user (the domain `User` has no e-mail
//! address and should not need one): where to send mail, which events the user wants, and an
//! optional outgoing webhook with the secret its payloads are signed with.
//!
//! Delivery is driven by the transparency log: a scanner reads entries after a shared cursor
//! ([`crate::Store::notify_cursor`]), turns the ones that matter into delivery jobs and moves the
//! cursor with a compare-and-set, so replicas never skip entries. A delivery records its key
//! once sent ([`crate::Store::record_notify_delivery`]); a job that finds its key already
//! recorded does nothing, which makes delivery idempotent across retries and duplicate scans.

use std::collections::BTreeSet;

use sx_domain::UserId;
use time::OffsetDateTime;

/// Longest accepted e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Longest accepted webhook URL.
pub const MAX_WEBHOOK_URL_LEN: usize = 2048;

/// One user's notification settings.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifySettings {
    /// Whose settings.
    pub user_id: UserId,
    /// Where e-mail goes; none means no e-mail.
    pub email: Option<String>,
    /// Event names the user wants (the server defines them).
    pub events: BTreeSet<String>,
    /// The outgoing webhook, if any.
    pub webhook_url: Option<String>,
    /// The webhook's HMAC-SHA256 secret.
    pub webhook_secret: Option<String>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl std::fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret must never reach a log line.
        f.debug_struct("NotifySettings")
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("events", &self.events)
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// The form addresses are looked up by: trimmed and lower-cased (the local part is
/// case-sensitive in theory, never in practice, and a lookup must not miss on case).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// The notification methods of [`crate::Store`]; expanded inside `impl Store for …` (through
/// `entity_methods!`), with the backend's `Db`, `Row`, `DbTime` and helpers in scope.
macro_rules! notify_methods {
    () => {
        async fn get_notify_settings(&self, user: UserId) -> StoreResult<Option<crate::notify::NotifySettings>> {
            let row = sqlx::query(
                "SELECT user_id, email, events, webhook_url, webhook_secret, updated_at FROM notify_settings WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(notify_settings_from_row).transpose()
        }

        async fn put_notify_settings(&self, settings: &crate::notify::NotifySettings) -> StoreResult<()> {
            if settings.email.as_ref().is_some_and(|e| e.len() > crate::notify::MAX_EMAIL_LEN) {
                return Err(StoreError::Invalid(format!(
                    "an e-mail address is at most {} characters",
                    crate::notify::MAX_EMAIL_LEN
                )));
            }
            let events = serde_json::to_string(&settings.events).map_err(StoreError::corrupt)?;
            sqlx::query(
                "INSERT INTO notify_settings (user_id, email, email_norm, events, webhook_url, webhook_secret, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (user_id) DO UPDATE SET email = $2, email_norm = $3, events = $4, webhook_url = $5, \
                 webhook_secret = $6, updated_at = $7",
            )
            .bind(settings.user_id.0)
            .bind(settings.email.as_deref())
            .bind(settings.email.as_deref().map(crate::notify::normalize_email))
            .bind(events)
            .bind(settings.webhook_url.as_deref())
            .bind(settings.webhook_secret.as_deref())
            .bind(DbTime(settings.updated_at))
            .execute(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::not_found("user", settings.user_id.0)
                }
                _ => StoreError::Database(e),
            })?;
            Ok(())
        }

        async fn find_user_by_notify_email(&self, email: &str) -> StoreResult<Vec<UserRecord>> {
            let rows = sqlx::query(
                "SELECT u.doc, u.version, u.password_hash, u.disabled FROM notify_settings n \
                 JOIN users u ON u.id = n.user_id WHERE n.email_norm = $1 ORDER BY u.id LIMIT 2",
            )
            .bind(crate::notify::normalize_email(email))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(user_record).collect()
        }

        async fn notify_cursor(&self) -> StoreResult<u64> {
            let row = sqlx::query("SELECT next_seq FROM notify_cursor WHERE id = 1").fetch_one(&self.pool).await?;
            seq_u64(row.try_get("next_seq")?)
        }

        async fn advance_notify_cursor(&self, from: u64, to: u64) -> StoreResult<bool> {
            if to < from {
                return Err(StoreError::Invalid(format!("the notification cursor cannot move back from {from} to {to}")));
            }
            let r = sqlx::query("UPDATE notify_cursor SET next_seq = $2 WHERE id = 1 AND next_seq = $1")
                .bind(seq_i64(from)?)
                .bind(seq_i64(to)?)
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() == 1)
        }

        async fn notify_delivery_recorded(&self, key: &str) -> StoreResult<bool> {
            let row = sqlx::query("SELECT 1 AS one FROM notify_deliveries WHERE delivery_key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.is_some())
        }

        async fn record_notify_delivery(
            &self,
            key: &str,
            user: UserId,
            channel: &str,
            now: OffsetDateTime,
        ) -> StoreResult<bool> {
            let r = sqlx::query(
                "INSERT INTO notify_deliveries (delivery_key, user_id, channel, sent_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (delivery_key) DO NOTHING",
            )
            .bind(key)
            .bind(user.0)
            .bind(channel)
            .bind(DbTime(now))
            .execute(&self.pool)
            .await?;
            Ok(r.rows_affected() == 1)
        }
    };
}

/// Row decoding for [`notify_methods!`]; expanded beside the entity helpers.
macro_rules! notify_helpers {
    () => {
        fn notify_settings_from_row(row: &Row) -> StoreResult<crate::notify::NotifySettings> {
            let events: String = row.try_get("events")?;
            Ok(crate::notify::NotifySettings {
                user_id: UserId(row.try_get("user_id")?),
                email: row.try_get("email")?,
                events: serde_json::from_str(&events)
                    .map_err(|e| StoreError::corrupt(format!("notification events: {e}")))?,
                webhook_url: row.try_get("webhook_url")?,
                webhook_secret: row.try_get("webhook_secret")?,
                updated_at: row.try_get::<DbTime, _>("updated_at")?.0,
            })
        }
    };
}

pub(crate) use {notify_helpers, notify_methods};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_webhook_secret() {
        let s = NotifySettings {
            user_id: UserId(uuid::Uuid::nil()),
            email: Some("a@example.org".into()),
            events: ["published".to_string()].into(),
            webhook_url: Some("https://hooks.example.org/x".into()),
            webhook_secret: Some("whsec_supersecret".into()),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let text = format!("{s:?}");
        assert!(!text.contains("supersecret"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn emails_are_looked_up_trimmed_and_case_insensitively() {
        assert_eq!(normalize_email("  Alice@Example.ORG "), "alice@example.org");
    }
}
