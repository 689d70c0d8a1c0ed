//! Forge intake bookkeeping (migration 0007): webhook deliveries already handled, so a replayed
//! delivery is refused, and the pull request a forge-forwarded case came from, with the id of
//! the comment S-Express posted there (updated when the case changes or publishes).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The pull request behind a forge-forwarded case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeThread {
    /// The case.
    pub case_id: sx_domain::CaseId,
    /// `github`, `gitlab` or `forgejo`.
    pub forge: String,
    /// The configured API base the pull request is reached through.
    pub api_base: String,
    /// Owner (GitLab: namespace path).
    pub owner: String,
    /// Repository.
    pub repo: String,
    /// Pull / merge request number.
    pub number: u64,
    /// The S-Express comment on the pull request, once posted.
    pub comment_id: Option<u64>,
    /// Whether the repository is private (its comments are seen by its members only).
    pub private: bool,
    /// The head commit last analyzed.
    pub head: String,
    /// When the thread was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Longest delivery id accepted (forges send GUIDs/UUIDs).
pub const MAX_DELIVERY_ID_LEN: usize = 200;

/// The forge methods of [`crate::Store`]; expanded inside `impl Store for …` (through
/// `entity_methods!`), with the backend's `Db`, `Row`, `DbTime` and helpers in scope.
macro_rules! forge_methods {
    () => {
        async fn record_forge_delivery(&self, forge: &str, delivery_id: &str, now: OffsetDateTime) -> StoreResult<bool> {
            if delivery_id.is_empty() || delivery_id.len() > crate::forge::MAX_DELIVERY_ID_LEN {
                return Err(StoreError::Invalid(format!(
                    "a delivery id is 1 to {} characters",
                    crate::forge::MAX_DELIVERY_ID_LEN
                )));
            }
            let done = sqlx::query(
                "INSERT INTO forge_deliveries (forge, delivery_id, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (forge, delivery_id) DO NOTHING",
            )
            .bind(forge)
            .bind(delivery_id)
            .bind(DbTime(now))
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        async fn prune_forge_deliveries(&self, before: OffsetDateTime) -> StoreResult<u64> {
            let done = sqlx::query("DELETE FROM forge_deliveries WHERE received_at < $1")
                .bind(DbTime(before))
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        }

        async fn put_forge_thread(&self, thread: &crate::forge::ForgeThread) -> StoreResult<()> {
            let number = i64::try_from(thread.number)
                .map_err(|_| StoreError::Invalid(format!("pull request number {} is out of range", thread.number)))?;
            sqlx::query(
                "INSERT INTO forge_threads (case_id, forge, api_base, owner_norm, repo_norm, number, doc, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (case_id) DO UPDATE SET forge = $2, api_base = $3, owner_norm = $4, repo_norm = $5, \
                 number = $6, doc = $7, updated_at = $8",
            )
            .bind(thread.case_id.0)
            .bind(&thread.forge)
            .bind(&thread.api_base)
            .bind(thread.owner.to_ascii_lowercase())
            .bind(thread.repo.to_ascii_lowercase())
            .bind(number)
            .bind(Json(thread))
            .bind(DbTime(thread.updated_at))
            .execute(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::not_found("case", thread.case_id.0)
                }
                _ => StoreError::Database(e),
            })?;
            Ok(())
        }

        async fn get_forge_thread(&self, case_id: CaseId) -> StoreResult<Option<crate::forge::ForgeThread>> {
            let row = sqlx::query("SELECT doc FROM forge_threads WHERE case_id = $1")
                .bind(case_id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(|r| doc(r, "forge thread")).transpose()
        }

        async fn find_forge_threads(
            &self,
            forge: &str,
            api_base: &str,
            owner: &str,
            repo: &str,
            number: u64,
        ) -> StoreResult<Vec<crate::forge::ForgeThread>> {
            let Ok(number) = i64::try_from(number) else {
                return Ok(Vec::new());
            };
            let rows = sqlx::query(
                "SELECT doc FROM forge_threads WHERE forge = $1 AND api_base = $2 AND owner_norm = $3 \
                 AND repo_norm = $4 AND number = $5 ORDER BY case_id",
            )
            .bind(forge)
            .bind(api_base)
            .bind(owner.to_ascii_lowercase())
            .bind(repo.to_ascii_lowercase())
            .bind(number)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| doc(r, "forge thread")).collect()
        }
    };
}

pub(crate) use forge_methods;
