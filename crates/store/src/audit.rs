//! The audit trail (migration 0011): an append-only table of privileged actions
//! ([`sx_domain::AuditEvent`]), newest first when listed.
//!
//! A change and its record commit together: [`crate::Store::apply_audited`] performs one
//! [`AuditedChange`] (create or update a user, disable or enable one, issue an API token, create
//! or update a subgroup, create an invitation) and appends its event in the *same* transaction, so the
//! trail cannot miss a change that happened nor record one that did not. Only actions that are
//! not a single store write (bulk seeding, which commits in batches) use
//! [`crate::Store::append_audit`] on its own, after the action succeeded.
//!
//! Each record gets a sequence number in append order; listings walk it backwards from a
//! cursor ([`AuditFilter::before`]), optionally only one actor's or one target's records.
//! Neither backend lets the service change or delete a record: triggers in the migration
//! refuse every `UPDATE` and `DELETE` on the table. There is no retention period.

use sx_domain::{AuditActor, AuditEvent, AuditTarget, Subgroup, User, UserId};

use crate::records::{ApiToken, Invitation};

/// A store write that is recorded in the audit trail in its own transaction.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum AuditedChange<'a> {
    /// [`crate::Store::create_user`].
    CreateUser {
        /// The new account.
        user: &'a User,
        /// Its password hash, if any.
        password_hash: Option<&'a str>,
    },
    /// [`crate::Store::update_user`] (roles, profile); fails with `Conflict` if stale.
    UpdateUser {
        /// The changed account.
        user: &'a User,
        /// The version it was read at.
        expected_version: i64,
    },
    /// [`crate::Store::set_user_disabled`].
    SetUserDisabled {
        /// Whose account.
        id: UserId,
        /// Disable (`true`) or enable.
        disabled: bool,
    },
    /// [`crate::Store::create_api_token`].
    CreateApiToken(&'a ApiToken),
    /// [`crate::Store::create_subgroup`].
    CreateSubgroup(&'a Subgroup),
    /// [`crate::Store::update_subgroup`] (memberships); fails with `Conflict` if stale.
    UpdateSubgroup {
        /// The changed subgroup.
        subgroup: &'a Subgroup,
        /// The version it was read at.
        expected_version: i64,
    },
    /// [`crate::Store::create_invitation`].
    CreateInvitation(&'a Invitation),
}

/// One stored audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the trail (1, 2, …; gaps are possible where a transaction rolled back).
    pub seq: u64,
    /// What happened.
    pub event: AuditEvent,
}

/// Which records to list: newest first, `limit` of them (1 to [`crate::MAX_PAGE`]), older than
/// `before` when paging on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this actor's records.
    pub actor: Option<AuditActor>,
    /// Only records about this target.
    pub target: Option<AuditTarget>,
    /// Only records with a smaller sequence number (the last `seq` of the previous page).
    pub before: Option<u64>,
    /// Page size.
    pub limit: u32,
}

impl AuditFilter {
    /// The newest `limit` records.
    pub fn newest(limit: u32) -> AuditFilter {
        AuditFilter {
            actor: None,
            target: None,
            before: None,
            limit,
        }
    }
}

/// Free helpers of the audit methods; expanded inside a backend module.
macro_rules! audit_helpers {
    () => {
        /// Appends one audit record inside the caller's transaction.
        async fn insert_audit(conn: &mut Conn, event: &sx_domain::AuditEvent) -> StoreResult<u64> {
            let row = sqlx::query(
                "INSERT INTO audit_events (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING seq",
            )
            .bind(DbTime(crate::dbtime::truncate(event.at)))
            .bind(event.actor.to_string())
            .bind(event.action.as_str())
            .bind(event.target.to_string())
            .bind(Json(&event.details))
            .fetch_one(&mut *conn)
            .await?;
            seq_u64(row.try_get("seq")?)
        }

        fn audit_from_row(row: &Row) -> StoreResult<crate::audit::AuditRecord> {
            let seq = seq_u64(row.try_get("seq")?)?;
            let bad = |what: &str, e: &dyn std::fmt::Display| StoreError::corrupt(format!("audit record {seq}: {what}: {e}"));
            let actor: String = row.try_get("actor")?;
            let action: String = row.try_get("action")?;
            let target: String = row.try_get("target")?;
            Ok(crate::audit::AuditRecord {
                seq,
                event: sx_domain::AuditEvent {
                    at: row.try_get::<DbTime, _>("at")?.0,
                    actor: actor.parse().map_err(|e| bad("actor", &e))?,
                    action: action.parse().map_err(|e| bad("action", &e))?,
                    target: target.parse().map_err(|e| bad("target", &e))?,
                    details: row
                        .try_get::<Json<std::collections::BTreeMap<String, String>>, _>("details")
                        .map_err(|e| bad("details", &e))?
                        .0,
                },
            })
        }
    };
}

/// The audit methods of [`crate::Store`]; expanded inside `impl Store for …`.
macro_rules! audit_methods {
    () => {
        async fn apply_audited(
            &self,
            change: &crate::audit::AuditedChange<'_>,
            event: &sx_domain::AuditEvent,
        ) -> StoreResult<u64> {
            use crate::audit::AuditedChange;
            let mut tx = self.begin_write().await?;
            match *change {
                AuditedChange::CreateUser { user, password_hash } => insert_new_user(&mut tx, user, password_hash).await?,
                AuditedChange::UpdateUser { user, expected_version } => {
                    write_user(&mut tx, user, expected_version).await?;
                }
                AuditedChange::SetUserDisabled { id, disabled } => write_user_disabled(&mut tx, id, disabled).await?,
                AuditedChange::CreateSubgroup(subgroup) => insert_subgroup(&mut tx, subgroup).await?,
                AuditedChange::UpdateSubgroup { subgroup, expected_version } => {
                    write_subgroup(&mut tx, subgroup, expected_version).await?;
                }
                AuditedChange::CreateApiToken(token) => insert_api_token(&mut tx, token).await?,
                AuditedChange::CreateInvitation(invitation) => insert_invitation(&mut tx, invitation).await?,
            }
            let seq = insert_audit(&mut tx, event).await?;
            tx.commit().await?;
            Ok(seq)
        }

        async fn append_audit(&self, event: &sx_domain::AuditEvent) -> StoreResult<u64> {
            let mut tx = self.begin_write().await?;
            let seq = insert_audit(&mut tx, event).await?;
            tx.commit().await?;
            Ok(seq)
        }

        async fn list_audit(&self, filter: &crate::audit::AuditFilter) -> StoreResult<Vec<crate::audit::AuditRecord>> {
            if filter.limit == 0 || filter.limit > crate::MAX_PAGE {
                return Err(StoreError::Invalid(format!(
                    "page size {} must be between 1 and {}",
                    filter.limit,
                    crate::MAX_PAGE
                )));
            }
            // NULL parameters switch a condition off, so one statement serves every filter.
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, target, details FROM audit_events \
                 WHERE ($1 IS NULL OR seq < $1) AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR target = $3) \
                 ORDER BY seq DESC LIMIT $4",
            )
            .bind(filter.before.map(seq_i64).transpose()?)
            .bind(filter.actor.map(|a| a.to_string()))
            .bind(filter.target.map(|t| t.to_string()))
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(audit_from_row).collect()
        }
    };
}

pub(crate) use {audit_helpers, audit_methods};
