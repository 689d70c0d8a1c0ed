//! Mail intake (migration 0008): each maintainer's secret intake address and the forwarded
//! messages already turned into cases.
//!
//! An intake address is `<local part>+<token>@<intake domain>`; only the SHA-256 of the token
//! is stored ([`crate::SecretHash`], as for API tokens), so the address is shown to its owner
//! once, when it is made, and a leaked database does not reveal it. A user has at most one;
//! making a new one replaces the old, which stops working at once.
//!
//! A delivered message is remembered by a key the server derives from the sender and the
//! `Message-ID` (or the content), with the case it became: a message delivered again (an MTA
//! retry after a timeout, a maildir run interrupted after the case was stored) is answered with
//! that case instead of creating a second one. The same records, by user and time, are what
//! the intake's rate limit counts (`mail_delivery_times`): `s-express mail deliver` runs as one
//! process per message, so the count has to live in the database.

use sx_domain::UserId;
use time::OffsetDateTime;

use crate::SecretHash;

/// A user's intake address, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailIntake {
    /// Whose address.
    pub user_id: UserId,
    /// SHA-256 of the address's token.
    pub token_hash: SecretHash,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When a message to it last created a case.
    pub last_used_at: Option<OffsetDateTime>,
}

/// The mail intake methods of [`crate::Store`]; expanded inside `impl Store for …` (through
/// `entity_methods!`), with the backend's `Db`, `Row`, `DbTime` and helpers in scope.
macro_rules! mail_methods {
    () => {
        async fn put_mail_intake(&self, intake: &crate::mail::MailIntake) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO mail_intake (user_id, token_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET token_hash = $2, created_at = $3, last_used_at = $4",
            )
            .bind(intake.user_id.0)
            .bind(intake.token_hash.0.to_vec())
            .bind(DbTime(intake.created_at))
            .bind(intake.last_used_at.map(DbTime))
            .execute(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::not_found("user", intake.user_id.0)
                }
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate {
                    entity: "mail intake token",
                    key: "token_hash".into(),
                },
                _ => StoreError::Database(e),
            })?;
            Ok(())
        }

        async fn get_mail_intake(&self, user: UserId) -> StoreResult<Option<crate::mail::MailIntake>> {
            let row = sqlx::query(
                "SELECT user_id, token_hash, created_at, last_used_at FROM mail_intake WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(mail_intake_from_row).transpose()
        }

        async fn authenticate_mail_intake(
            &self,
            token_hash: SecretHash,
        ) -> StoreResult<Option<(crate::mail::MailIntake, UserRecord)>> {
            let row = sqlx::query(
                "SELECT m.user_id, m.token_hash, m.created_at, m.last_used_at, \
                 u.doc, u.version, u.password_hash, u.disabled \
                 FROM mail_intake m JOIN users u ON u.id = m.user_id \
                 WHERE m.token_hash = $1 AND u.disabled = FALSE",
            )
            .bind(token_hash.0.to_vec())
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some((mail_intake_from_row(&row)?, user_record(&row)?)))
        }

        async fn delete_mail_intake(&self, user: UserId) -> StoreResult<bool> {
            let done = sqlx::query("DELETE FROM mail_intake WHERE user_id = $1")
                .bind(user.0)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn find_mail_delivery(&self, message_key: SecretHash) -> StoreResult<Option<CaseId>> {
            let row = sqlx::query("SELECT case_id FROM mail_deliveries WHERE message_key = $1")
                .bind(message_key.0.to_vec())
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|r| r.try_get::<Uuid, _>("case_id")).transpose()?.map(CaseId))
        }

        async fn record_mail_delivery(
            &self,
            message_key: SecretHash,
            user: UserId,
            case_id: CaseId,
            now: OffsetDateTime,
        ) -> StoreResult<bool> {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "INSERT INTO mail_deliveries (message_key, user_id, case_id, received_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (message_key) DO NOTHING",
            )
            .bind(message_key.0.to_vec())
            .bind(user.0)
            .bind(case_id.0)
            .bind(DbTime(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::not_found("case or user", case_id.0)
                }
                _ => StoreError::Database(e),
            })?;
            sqlx::query("UPDATE mail_intake SET last_used_at = $2 WHERE user_id = $1")
                .bind(user.0)
                .bind(DbTime(now))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        }

        async fn mail_delivery_times(
            &self,
            user: UserId,
            since: OffsetDateTime,
            limit: u32,
        ) -> StoreResult<Vec<OffsetDateTime>> {
            let rows = sqlx::query(
                "SELECT received_at FROM mail_deliveries WHERE user_id = $1 AND received_at >= $2 \
                 ORDER BY received_at DESC LIMIT $3",
            )
            .bind(user.0)
            .bind(DbTime(since))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| Ok(r.try_get::<DbTime, _>("received_at")?.0))
                .collect()
        }
    };
}

/// Row decoding for [`mail_methods!`]; expanded beside the entity helpers.
macro_rules! mail_helpers {
    () => {
        fn mail_intake_from_row(row: &Row) -> StoreResult<crate::mail::MailIntake> {
            Ok(crate::mail::MailIntake {
                user_id: UserId(row.try_get("user_id")?),
                token_hash: secret_hash(row.try_get("token_hash")?)?,
                created_at: row.try_get::<DbTime, _>("created_at")?.0,
                last_used_at: row
                    .try_get::<Option<DbTime>, _>("last_used_at")?
                    .map(|t| t.0),
            })
        }
    };
}

pub(crate) use {mail_helpers, mail_methods};
