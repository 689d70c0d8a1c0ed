//! Persistence of the domain aggregates, shared by both backends (see `shared.rs` for how the
//! macros are expanded). `entity_helpers!` emits free functions, `entity_methods!` the
//! corresponding [`crate::Store`] methods.

/// Free helper functions for the entity methods; expanded inside a backend module.
macro_rules! entity_helpers {
    () => {
        use std::collections::BTreeSet;

        use sx_domain::{
            Case, CaseId, CaseStatus, Comment, DomainEvent, Forge, Project, ProjectId, Subgroup, SubgroupId, TlpLabel,
            User, UserId,
        };

        use crate::index::{CaseIndex, Exclusions, project_key};
        use crate::records::{
            ApiToken, Invitation, MAX_PAGE, PublishedFilter, QueueCursor, QueueItem, SecretHash, Session, UserRecord,
            Versioned,
        };

        fn doc<T: serde::de::DeserializeOwned>(row: &Row, what: &str) -> StoreResult<T> {
            let Json(v) = row
                .try_get::<Json<T>, _>("doc")
                .map_err(|e| StoreError::corrupt(format!("{what} document: {e}")))?;
            Ok(v)
        }

        fn versioned<T: serde::de::DeserializeOwned>(row: &Row, what: &str) -> StoreResult<Versioned<T>> {
            Ok(Versioned { value: doc(row, what)?, version: row.try_get("version")? })
        }

        fn secret_hash(bytes: Vec<u8>) -> StoreResult<SecretHash> {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map(SecretHash)
                .map_err(|_| StoreError::corrupt("stored secret hash is not 32 bytes"))
        }

        fn page(limit: u32) -> StoreResult<i64> {
            if limit == 0 || limit > MAX_PAGE {
                return Err(StoreError::Invalid(format!("page size {limit} must be between 1 and {MAX_PAGE}")));
            }
            Ok(i64::from(limit))
        }

        fn user_record(row: &Row) -> StoreResult<UserRecord> {
            Ok(UserRecord {
                user: doc(row, "user")?,
                password_hash: row.try_get("password_hash")?,
                disabled: row.try_get("disabled")?,
                version: row.try_get("version")?,
            })
        }

        fn token_from_row(row: &Row) -> StoreResult<ApiToken> {
            Ok(ApiToken {
                token_hash: secret_hash(row.try_get("token_hash")?)?,
                user_id: UserId(row.try_get("user_id")?),
                name: row.try_get("name")?,
                scopes: row.try_get::<Json<BTreeSet<String>>, _>("scopes")?.0,
                created_at: row.try_get::<DbTime, _>("created_at")?.0,
                expires_at: row.try_get::<Option<DbTime>, _>("expires_at")?.map(|t| t.0),
                last_used_at: row.try_get::<Option<DbTime>, _>("last_used_at")?.map(|t| t.0),
                revoked_at: row.try_get::<Option<DbTime>, _>("revoked_at")?.map(|t| t.0),
            })
        }

        fn invitation_from_row(row: &Row) -> StoreResult<Invitation> {
            Ok(Invitation {
                token_hash: secret_hash(row.try_get("token_hash")?)?,
                email: row.try_get("email")?,
                roles: row.try_get::<Json<BTreeSet<sx_domain::Role>>, _>("roles")?.0,
                subgroup_id: row.try_get::<Option<Uuid>, _>("subgroup_id")?.map(SubgroupId),
                invited_by: row.try_get::<Option<Uuid>, _>("invited_by")?.map(UserId),
                created_at: row.try_get::<DbTime, _>("created_at")?.0,
                expires_at: row.try_get::<DbTime, _>("expires_at")?.0,
                accepted_at: row.try_get::<Option<DbTime>, _>("accepted_at")?.map(|t| t.0),
                accepted_by: row.try_get::<Option<Uuid>, _>("accepted_by")?.map(UserId),
            })
        }

        /// Reports why a versioned update touched no row.
        async fn stale_or_missing(
            conn: &mut Conn,
            table_sql: &'static str,
            entity: &'static str,
            id: Uuid,
            expected: i64,
        ) -> StoreError {
            match sqlx::query(table_sql).bind(id).fetch_optional(&mut *conn).await {
                Ok(Some(_)) => StoreError::Conflict { entity, id: id.to_string(), expected },
                Ok(None) => StoreError::not_found(entity, id),
                Err(e) => StoreError::Database(e),
            }
        }

        // ---- writes shared by the plain and the audited methods (see `crate::audit`) ----
        async fn insert_new_user(conn: &mut Conn, user: &User, password_hash: Option<&str>) -> StoreResult<()> {
            let handle = sx_domain::normalize_identity(&user.handle);
            if handle.is_empty() {
                return Err(StoreError::Invalid("a user needs a non-empty handle".into()));
            }
            sqlx::query(
                "INSERT INTO users (id, handle_norm, password_hash, disabled, doc, version, created_at) \
                 VALUES ($1, $2, $3, FALSE, $4, 1, $5)",
            )
            .bind(user.id.0)
            .bind(&handle)
            .bind(password_hash)
            .bind(Json(user))
            .bind(DbTime(user.created_at))
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "user", &user.handle))?;
            Ok(())
        }

        /// Whether the user `id` is now an enabled admin (`None` if there is no such user),
        /// read with the backend's row lock (`USER_FOR_WRITE`) before a write that may change it.
        async fn enabled_admin_for_write(conn: &mut Conn, id: UserId) -> StoreResult<Option<bool>> {
            let Some(row) = sqlx::query(USER_FOR_WRITE).bind(id.0).fetch_optional(&mut *conn).await? else {
                return Ok(None);
            };
            let disabled: bool = row.try_get("disabled")?;
            let user: User = doc(&row, "user")?;
            Ok(Some(!disabled && user.has_role(sx_domain::Role::Admin)))
        }

        /// The last-admin rule, checked after a write that took admin power away from `id` in
        /// the same transaction: at least one enabled account must still hold the admin role,
        /// or the write fails with [`StoreError::LastAdmin`] (and the caller's transaction rolls
        /// back). On PostgreSQL such writes queue on one advisory lock first, so of two
        /// concurrent ones the second sees the first's commit and counts correctly; SQLite's
        /// `BEGIN IMMEDIATE` already serialises every writer.
        async fn keep_an_enabled_admin(conn: &mut Conn, id: UserId) -> StoreResult<()> {
            if let Some(lock) = ADMIN_GUARD_LOCK {
                sqlx::query(lock).execute(&mut *conn).await?;
            }
            let rows = sqlx::query("SELECT doc FROM users WHERE disabled = FALSE").fetch_all(&mut *conn).await?;
            for row in &rows {
                let user: User = doc(row, "user")?;
                if user.has_role(sx_domain::Role::Admin) {
                    return Ok(());
                }
            }
            Err(StoreError::LastAdmin { id: id.to_string() })
        }

        async fn write_user(conn: &mut Conn, user: &User, expected_version: i64) -> StoreResult<i64> {
            let loses_admin = !user.has_role(sx_domain::Role::Admin)
                && enabled_admin_for_write(conn, user.id).await? == Some(true);
            let r = sqlx::query(
                "UPDATE users SET handle_norm = $3, doc = $4, version = version + 1 WHERE id = $1 AND version = $2",
            )
            .bind(user.id.0)
            .bind(expected_version)
            .bind(sx_domain::normalize_identity(&user.handle))
            .bind(Json(user))
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "user", &user.handle))?;
            if r.rows_affected() == 0 {
                return Err(stale_or_missing(conn, "SELECT 1 FROM users WHERE id = $1", "user", user.id.0, expected_version)
                    .await);
            }
            if loses_admin {
                keep_an_enabled_admin(conn, user.id).await?;
            }
            Ok(expected_version + 1)
        }

        async fn write_user_disabled(conn: &mut Conn, id: UserId, disabled: bool) -> StoreResult<()> {
            let loses_admin = disabled && enabled_admin_for_write(conn, id).await? == Some(true);
            let r = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
                .bind(id.0)
                .bind(disabled)
                .execute(&mut *conn)
                .await?;
            if r.rows_affected() == 0 {
                return Err(StoreError::not_found("user", id));
            }
            if disabled {
                // A disabled user is logged out everywhere at once.
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.0).execute(&mut *conn).await?;
            }
            if loses_admin {
                keep_an_enabled_admin(conn, id).await?;
            }
            Ok(())
        }

        async fn insert_api_token(conn: &mut Conn, token: &ApiToken) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, user_id, name, scopes, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token.token_hash.0.to_vec())
            .bind(token.user_id.0)
            .bind(&token.name)
            .bind(Json(&token.scopes))
            .bind(DbTime(token.created_at))
            .bind(token.expires_at.map(DbTime))
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "api token", &token.name))?;
            Ok(())
        }

        async fn insert_invitation(conn: &mut Conn, invitation: &Invitation) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO invitations (token_hash, email, roles, subgroup_id, invited_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(invitation.token_hash.0.to_vec())
            .bind(&invitation.email)
            .bind(Json(&invitation.roles))
            .bind(invitation.subgroup_id.map(|s| s.0))
            .bind(invitation.invited_by.map(|u| u.0))
            .bind(DbTime(invitation.created_at))
            .bind(DbTime(invitation.expires_at))
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "invitation", &invitation.email))?;
            Ok(())
        }

        async fn insert_subgroup(conn: &mut Conn, subgroup: &Subgroup) -> StoreResult<()> {
            sqlx::query("INSERT INTO subgroups (id, slug, doc, version) VALUES ($1, $2, $3, 1)")
                .bind(subgroup.id.0)
                .bind(&subgroup.slug)
                .bind(Json(subgroup))
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::unique(e, "subgroup", &subgroup.slug))?;
            write_members(conn, subgroup).await?;
            Ok(())
        }

        async fn write_subgroup(conn: &mut Conn, subgroup: &Subgroup, expected_version: i64) -> StoreResult<i64> {
            let r = sqlx::query(
                "UPDATE subgroups SET slug = $3, doc = $4, version = version + 1 WHERE id = $1 AND version = $2",
            )
            .bind(subgroup.id.0)
            .bind(expected_version)
            .bind(&subgroup.slug)
            .bind(Json(subgroup))
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::unique(e, "subgroup", &subgroup.slug))?;
            if r.rows_affected() == 0 {
                return Err(stale_or_missing(
                    conn,
                    "SELECT 1 FROM subgroups WHERE id = $1",
                    "subgroup",
                    subgroup.id.0,
                    expected_version,
                )
                .await);
            }
            write_members(conn, subgroup).await?;
            Ok(expected_version + 1)
        }

        async fn write_maintainers(conn: &mut Conn, project: &Project) -> StoreResult<()> {
            sqlx::query("DELETE FROM project_maintainers WHERE project_id = $1")
                .bind(project.id.0)
                .execute(&mut *conn)
                .await?;
            let mut seen = BTreeSet::new();
            for m in &project.maintainers {
                if seen.insert(m.0) {
                    sqlx::query("INSERT INTO project_maintainers (project_id, user_id) VALUES ($1, $2)")
                        .bind(project.id.0)
                        .bind(m.0)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            Ok(())
        }

        async fn write_members(conn: &mut Conn, subgroup: &Subgroup) -> StoreResult<()> {
            sqlx::query("DELETE FROM subgroup_members WHERE subgroup_id = $1")
                .bind(subgroup.id.0)
                .execute(&mut *conn)
                .await?;
            let mut members: std::collections::BTreeMap<Uuid, bool> = std::collections::BTreeMap::new();
            for m in &subgroup.members {
                members.entry(m.0).or_insert(false);
            }
            // Coordinators see their subgroup's queue too.
            for c in &subgroup.coordinators {
                members.insert(c.0, true);
            }
            for (user, coordinator) in members {
                sqlx::query("INSERT INTO subgroup_members (subgroup_id, user_id, coordinator) VALUES ($1, $2, $3)")
                    .bind(subgroup.id.0)
                    .bind(user)
                    .bind(coordinator)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        async fn write_case_projections(conn: &mut Conn, case: &Case, idx: &CaseIndex) -> StoreResult<()> {
            let id = case.id.0;
            for sql in [
                "DELETE FROM case_subgroups WHERE case_id = $1",
                "DELETE FROM case_tags WHERE case_id = $1",
                "DELETE FROM assessments WHERE case_id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *conn).await?;
            }
            for s in &idx.subgroups {
                sqlx::query("INSERT INTO case_subgroups (case_id, subgroup_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*s)
                    .execute(&mut *conn)
                    .await?;
            }
            for (kind, value) in &idx.tags {
                sqlx::query("INSERT INTO case_tags (case_id, kind, value) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(*kind)
                    .bind(*value)
                    .execute(&mut *conn)
                    .await?;
            }
            for a in &idx.assessments {
                sqlx::query(
                    "INSERT INTO assessments (id, case_id, expert_id, status, verdict, submitted_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(a.id)
                .bind(id)
                .bind(a.expert_id)
                .bind(a.status)
                .bind(a.verdict)
                .bind(a.submitted_at.map(DbTime))
                .bind(DbTime(a.updated_at))
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::unique(e, "assessment", a.id))?;
            }
            // Report columns (migration 0005): suspicion, first human assessment, detectors.
            sqlx::query("UPDATE cases SET suspicion = $2, first_assessed_at = $3 WHERE id = $1")
                .bind(id)
                .bind(idx.suspicion)
                .bind(idx.first_assessed_at.map(DbTime))
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM case_findings WHERE case_id = $1").bind(id).execute(&mut *conn).await?;
            for detector in &idx.detectors {
                sqlx::query("INSERT INTO case_findings (case_id, detector) VALUES ($1, $2)")
                    .bind(id)
                    .bind(detector)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// Records the events of one save in `case_events` and the transparency log. Without
        /// events, a generic `case-saved` entry still logs that the aggregate changed.
        async fn log_case_change(
            conn: &mut Conn,
            case: &Case,
            version: i64,
            events: &[DomainEvent],
            now: OffsetDateTime,
        ) -> StoreResult<()> {
            let clear = case.tlp == TlpLabel::Clear;
            // Every entry of a save also commits to the whole case document of that version, so
            // once the case is published anyone can check the published document against what
            // was logged while it was sealed. Only the digest is logged: the document may hold
            // parts (RED assessments) that stay private even after publication.
            let case_json = serde_json::to_vec(case).map_err(StoreError::corrupt)?;
            let case_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&case_json));
            // Time of the first automated report (migration 0005), kept from the first save
            // that attached one.
            if let Some(at) = crate::index::reported_at(events) {
                sqlx::query("UPDATE cases SET reported_at = COALESCE(reported_at, $2) WHERE id = $1")
                    .bind(case.id.0)
                    .bind(DbTime(at))
                    .execute(&mut *conn)
                    .await?;
            }
            for event in events {
                if event.case_id != case.id {
                    return Err(StoreError::Invalid(format!(
                        "event {} is for case {}, not for case {} being saved",
                        event.kind(),
                        event.case_id,
                        case.id
                    )));
                }
                let content = serde_json::to_value(event).map_err(StoreError::corrupt)?;
                let record = LogRecord {
                    kind: event.kind().to_string(),
                    case_id: Some(case.id.0),
                    content: serde_json::json!({
                        "event": content,
                        "case_version": version,
                        "case_sha256": case_sha256,
                    }),
                    sealed: !(clear || event.is_public()),
                };
                let pos = append_record(conn, &record, now).await?;
                sqlx::query(
                    "INSERT INTO case_events (case_id, at, kind, actor_id, doc, log_seq) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(case.id.0)
                .bind(DbTime(event.at))
                .bind(event.kind())
                .bind(event.actor.map(|a| a.0))
                .bind(Json(&content))
                .bind(seq_i64(pos.seq)?)
                .execute(&mut *conn)
                .await?;
            }
            if events.is_empty() {
                let record = LogRecord {
                    kind: "case-saved".to_string(),
                    case_id: Some(case.id.0),
                    content: serde_json::json!({
                        "case_id": case.id,
                        "case_version": version,
                        "status": case.status.as_str(),
                        "case_sha256": case_sha256,
                    }),
                    sealed: !clear,
                };
                append_record(conn, &record, now).await?;
            }
            if case.status == CaseStatus::Published {
                let payload = serde_json::json!({
                    "case_id": case.id,
                    "version": version,
                    "published_at": case.published_at.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
                });
                reveal_case(conn, case.id.0, &payload, now).await?;
            }
            Ok(())
        }

        const CASE_COLUMNS: &str = "c.doc, c.version, c.sla_due";

        fn queue_item(row: &Row) -> StoreResult<QueueItem> {
            Ok(QueueItem { case: versioned(row, "case")?, sla_due: row.try_get::<DbTime, _>("sla_due")?.0 })
        }

        crate::notify::notify_helpers!();
        crate::mail::mail_helpers!();

        /// Inserts a new case (version 1) with its projections and log entries inside the
        /// caller's transaction.
        async fn insert_case(
            tx: &mut Conn,
            case: &Case,
            events: &[DomainEvent],
            now: OffsetDateTime,
            sla: time::Duration,
        ) -> StoreResult<()> {
            let idx = CaseIndex::of(case, sla);
            let project = sqlx::query("SELECT owner_norm, name_norm FROM projects WHERE id = $1")
                .bind(case.project_id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("project", case.project_id))?;
            let owner: String = project.try_get("owner_norm")?;
            let name: String = project.try_get("name_norm")?;
            sqlx::query(
                "INSERT INTO cases (id, project_id, status, tlp, queue_open, received_at, sla_due, published_at, \
                 updated_at, verdict, owner_norm, name_norm, author_norm, pull_request_url, doc, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)",
            )
            .bind(case.id.0)
            .bind(case.project_id.0)
            .bind(idx.status)
            .bind(idx.tlp)
            .bind(idx.queue_open)
            .bind(DbTime(case.received_at))
            .bind(DbTime(idx.sla_due))
            .bind(idx.published_at.map(DbTime))
            .bind(DbTime(case.updated_at))
            .bind(idx.verdict)
            .bind(&owner)
            .bind(&name)
            .bind(&idx.author_norm)
            .bind(&idx.pull_request_url)
            .bind(Json(case))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "case", case.id))?;
            write_case_projections(&mut *tx, case, &idx).await?;
            log_case_change(&mut *tx, case, 1, events, now).await?;
            Ok(())
        }
    };
}

/// The entity methods of [`crate::Store`]; expanded inside `impl Store for …`.
macro_rules! entity_methods {
    () => {
        // ---- projects ----
        async fn create_project(&self, project: &Project) -> StoreResult<()> {
            let (owner, name) = project_key(project);
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO projects (id, forge, host, owner_norm, name_norm, doc, version, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
            )
            .bind(project.id.0)
            .bind(project.forge.as_str())
            .bind(project.host.to_ascii_lowercase())
            .bind(&owner)
            .bind(&name)
            .bind(Json(project))
            .bind(DbTime(project.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "project", project.full_name()))?;
            write_maintainers(&mut tx, project).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Versioned<Project>>> {
            let row = sqlx::query("SELECT doc, version FROM projects WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(|r| versioned(r, "project")).transpose()
        }

        async fn find_project(
            &self,
            forge: Forge,
            host: &str,
            owner: &str,
            name: &str,
        ) -> StoreResult<Option<Versioned<Project>>> {
            let row = sqlx::query(
                "SELECT doc, version FROM projects WHERE forge = $1 AND host = $2 AND owner_norm = $3 AND name_norm = $4",
            )
            .bind(forge.as_str())
            .bind(host.to_ascii_lowercase())
            .bind(sx_domain::normalize_identity(owner))
            .bind(sx_domain::normalize_identity(name))
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(|r| versioned(r, "project")).transpose()
        }

        async fn update_project(&self, project: &Project, expected_version: i64) -> StoreResult<i64> {
            let (owner, name) = project_key(project);
            let mut tx = self.begin_write().await?;
            let r = sqlx::query(
                "UPDATE projects SET forge = $3, host = $4, owner_norm = $5, name_norm = $6, doc = $7, \
                 version = version + 1 WHERE id = $1 AND version = $2",
            )
            .bind(project.id.0)
            .bind(expected_version)
            .bind(project.forge.as_str())
            .bind(project.host.to_ascii_lowercase())
            .bind(&owner)
            .bind(&name)
            .bind(Json(project))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique(e, "project", project.full_name()))?;
            if r.rows_affected() == 0 {
                return Err(stale_or_missing(
                    &mut tx,
                    "SELECT 1 FROM projects WHERE id = $1",
                    "project",
                    project.id.0,
                    expected_version,
                )
                .await);
            }
            write_maintainers(&mut tx, project).await?;
            // Cases copy the owner and name for conflict checks; keep them in step.
            sqlx::query("UPDATE cases SET owner_norm = $2, name_norm = $3 WHERE project_id = $1")
                .bind(project.id.0)
                .bind(&owner)
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(expected_version + 1)
        }

        async fn list_projects(&self, after: Option<ProjectId>, limit: u32) -> StoreResult<Vec<Versioned<Project>>> {
            let rows = sqlx::query("SELECT doc, version FROM projects WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after.map(|p| p.0).unwrap_or(Uuid::nil()))
                .bind(page(limit)?)
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(|r| versioned(r, "project")).collect()
        }

        // ---- users and credentials ----
        async fn create_user(&self, user: &User, password_hash: Option<&str>) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            insert_new_user(&mut tx, user, password_hash).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn get_user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
            let row = sqlx::query("SELECT doc, version, password_hash, disabled FROM users WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(user_record).transpose()
        }

        async fn get_user_by_handle(&self, handle: &str) -> StoreResult<Option<UserRecord>> {
            let row = sqlx::query("SELECT doc, version, password_hash, disabled FROM users WHERE handle_norm = $1")
                .bind(sx_domain::normalize_identity(handle))
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(user_record).transpose()
        }

        async fn update_user(&self, user: &User, expected_version: i64) -> StoreResult<i64> {
            let mut tx = self.begin_write().await?;
            let version = write_user(&mut tx, user, expected_version).await?;
            tx.commit().await?;
            Ok(version)
        }

        async fn set_password_hash(&self, id: UserId, password_hash: Option<&str>) -> StoreResult<()> {
            let r = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(id.0)
                .bind(password_hash)
                .execute(&self.pool)
                .await?;
            if r.rows_affected() == 0 { Err(StoreError::not_found("user", id)) } else { Ok(()) }
        }

        async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
            let rows = sqlx::query("SELECT doc, version, password_hash, disabled FROM users ORDER BY handle_norm")
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(user_record).collect()
        }

        async fn set_user_disabled(&self, id: UserId, disabled: bool) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            write_user_disabled(&mut tx, id, disabled).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn create_api_token(&self, token: &ApiToken) -> StoreResult<()> {
            let mut conn = self.pool.acquire().await?;
            insert_api_token(&mut conn, token).await
        }

        async fn authenticate_token(
            &self,
            token_hash: SecretHash,
            now: OffsetDateTime,
        ) -> StoreResult<Option<(ApiToken, UserRecord)>> {
            let row = sqlx::query(
                "SELECT t.token_hash, t.user_id, t.name, t.scopes, t.created_at, t.expires_at, t.last_used_at, \
                 t.revoked_at, u.doc, u.version, u.password_hash, u.disabled \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
                 AND u.disabled = FALSE",
            )
            .bind(token_hash.0.to_vec())
            .bind(DbTime(now))
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let mut token = token_from_row(&row)?;
            let user = user_record(&row)?;
            // Recording every use would make each token request a write, which serialises
            // SQLite; a minute's precision is all the settings page shows.
            let stale = token
                .last_used_at
                .is_none_or(|used| now - used >= crate::TOKEN_USE_PRECISION);
            if stale {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1")
                    .bind(token_hash.0.to_vec())
                    .bind(DbTime(now))
                    .execute(&self.pool)
                    .await?;
                token.last_used_at = Some(crate::dbtime::truncate(now));
            }
            Ok(Some((token, user)))
        }

        async fn revoke_api_token(&self, token_hash: SecretHash, now: OffsetDateTime) -> StoreResult<()> {
            let r = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
                .bind(token_hash.0.to_vec())
                .bind(DbTime(now))
                .execute(&self.pool)
                .await?;
            if r.rows_affected() == 0 { Err(StoreError::not_found("api token", format!("{token_hash:?}"))) } else { Ok(()) }
        }

        async fn list_api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
            let rows = sqlx::query(
                "SELECT token_hash, user_id, name, scopes, created_at, expires_at, last_used_at, revoked_at \
                 FROM api_tokens WHERE user_id = $1 ORDER BY created_at, name",
            )
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(token_from_row).collect()
        }

        async fn create_session(&self, session: &Session) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session.id_hash.0.to_vec())
            .bind(session.user_id.0)
            .bind(session.csrf_hash.0.to_vec())
            .bind(DbTime(session.created_at))
            .bind(DbTime(session.expires_at))
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::unique(e, "session", format!("{:?}", session.id_hash)))?;
            Ok(())
        }

        async fn get_session(
            &self,
            id_hash: SecretHash,
            now: OffsetDateTime,
        ) -> StoreResult<Option<(Session, UserRecord)>> {
            let row = sqlx::query(
                "SELECT s.id_hash, s.user_id, s.csrf_hash, s.created_at, s.expires_at, \
                 u.doc, u.version, u.password_hash, u.disabled \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE",
            )
            .bind(id_hash.0.to_vec())
            .bind(DbTime(now))
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else { return Ok(None) };
            let session = Session {
                id_hash: secret_hash(row.try_get("id_hash")?)?,
                user_id: UserId(row.try_get("user_id")?),
                csrf_hash: secret_hash(row.try_get("csrf_hash")?)?,
                created_at: row.try_get::<DbTime, _>("created_at")?.0,
                expires_at: row.try_get::<DbTime, _>("expires_at")?.0,
            };
            Ok(Some((session, user_record(&row)?)))
        }

        async fn delete_session(&self, id_hash: SecretHash) -> StoreResult<()> {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash.0.to_vec()).execute(&self.pool).await?;
            Ok(())
        }

        async fn delete_expired_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
            let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(DbTime(now)).execute(&self.pool).await?;
            Ok(r.rows_affected())
        }

        async fn create_invitation(&self, invitation: &Invitation) -> StoreResult<()> {
            let mut conn = self.pool.acquire().await?;
            insert_invitation(&mut conn, invitation).await
        }

        async fn get_invitation(&self, token_hash: SecretHash) -> StoreResult<Option<Invitation>> {
            let row = sqlx::query(
                "SELECT token_hash, email, roles, subgroup_id, invited_by, created_at, expires_at, accepted_at, \
                 accepted_by FROM invitations WHERE token_hash = $1",
            )
            .bind(token_hash.0.to_vec())
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(invitation_from_row).transpose()
        }

        async fn accept_invitation(
            &self,
            token_hash: SecretHash,
            accepted_by: UserId,
            now: OffsetDateTime,
        ) -> StoreResult<Invitation> {
            // One statement, so two people racing with the same token cannot both accept it.
            let row = sqlx::query(
                "UPDATE invitations SET accepted_at = $2, accepted_by = $3 \
                 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 \
                 RETURNING token_hash, email, roles, subgroup_id, invited_by, created_at, expires_at, accepted_at, \
                 accepted_by",
            )
            .bind(token_hash.0.to_vec())
            .bind(DbTime(now))
            .bind(accepted_by.0)
            .fetch_optional(&self.pool)
            .await?;
            match row {
                Some(row) => invitation_from_row(&row),
                None => Err(StoreError::NotFound {
                    entity: "invitation",
                    id: "(token unknown, already used or expired; ask for a new invitation)".into(),
                }),
            }
        }

        // ---- subgroups ----
        async fn create_subgroup(&self, subgroup: &Subgroup) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            insert_subgroup(&mut tx, subgroup).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn get_subgroup(&self, id: SubgroupId) -> StoreResult<Option<Versioned<Subgroup>>> {
            let row = sqlx::query("SELECT doc, version FROM subgroups WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(|r| versioned(r, "subgroup")).transpose()
        }

        async fn get_subgroup_by_slug(&self, slug: &str) -> StoreResult<Option<Versioned<Subgroup>>> {
            let row = sqlx::query("SELECT doc, version FROM subgroups WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(|r| versioned(r, "subgroup")).transpose()
        }

        async fn list_subgroups(&self) -> StoreResult<Vec<Versioned<Subgroup>>> {
            let rows = sqlx::query("SELECT doc, version FROM subgroups ORDER BY slug").fetch_all(&self.pool).await?;
            rows.iter().map(|r| versioned(r, "subgroup")).collect()
        }

        async fn subgroups_of_user(&self, user: UserId) -> StoreResult<Vec<Versioned<Subgroup>>> {
            let rows = sqlx::query(
                "SELECT s.doc, s.version FROM subgroups s JOIN subgroup_members m ON m.subgroup_id = s.id \
                 WHERE m.user_id = $1 ORDER BY s.slug",
            )
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| versioned(r, "subgroup")).collect()
        }

        async fn update_subgroup(&self, subgroup: &Subgroup, expected_version: i64) -> StoreResult<i64> {
            let mut tx = self.begin_write().await?;
            let version = write_subgroup(&mut tx, subgroup, expected_version).await?;
            tx.commit().await?;
            Ok(version)
        }

        // ---- cases ----
        async fn create_case(&self, case: &Case, events: &[DomainEvent], now: OffsetDateTime) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            insert_case(&mut tx, case, events, now, self.sla).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn get_case(&self, id: CaseId) -> StoreResult<Option<Versioned<Case>>> {
            let row = sqlx::query("SELECT doc, version FROM cases WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(|r| versioned(r, "case")).transpose()
        }

        async fn update_case(
            &self,
            case: &Case,
            expected_version: i64,
            events: &[DomainEvent],
            now: OffsetDateTime,
        ) -> StoreResult<i64> {
            let idx = CaseIndex::of(case, self.sla);
            let mut tx = self.begin_write().await?;
            let r = sqlx::query(
                "UPDATE cases SET status = $3, tlp = $4, queue_open = $5, sla_due = $6, published_at = $7, \
                 updated_at = $8, verdict = $9, author_norm = $10, pull_request_url = $11, doc = $12, \
                 version = version + 1 WHERE id = $1 AND version = $2 AND project_id = $13",
            )
            .bind(case.id.0)
            .bind(expected_version)
            .bind(idx.status)
            .bind(idx.tlp)
            .bind(idx.queue_open)
            .bind(DbTime(idx.sla_due))
            .bind(idx.published_at.map(DbTime))
            .bind(DbTime(case.updated_at))
            .bind(idx.verdict)
            .bind(&idx.author_norm)
            .bind(&idx.pull_request_url)
            .bind(Json(case))
            .bind(case.project_id.0)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 0 {
                return Err(stale_or_missing(&mut tx, "SELECT 1 FROM cases WHERE id = $1", "case", case.id.0, expected_version)
                    .await);
            }
            let version = expected_version + 1;
            write_case_projections(&mut tx, case, &idx).await?;
            log_case_change(&mut tx, case, version, events, now).await?;
            tx.commit().await?;
            Ok(version)
        }

        async fn find_cases_by_pull_request(&self, url: &str) -> StoreResult<Vec<Versioned<Case>>> {
            let rows = sqlx::query(
                "SELECT doc, version FROM cases WHERE pull_request_url = $1 ORDER BY received_at LIMIT 100",
            )
            .bind(url)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| versioned(r, "case")).collect()
        }

        async fn list_project_cases(
            &self,
            project: ProjectId,
            limit: u32,
        ) -> StoreResult<Vec<Versioned<Case>>> {
            let rows = sqlx::query(
                "SELECT doc, version FROM cases WHERE project_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2",
            )
            .bind(project.0)
            .bind(page(limit)?)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| versioned(r, "case")).collect()
        }

        async fn list_open_cases(&self, due_before: OffsetDateTime, limit: u32) -> StoreResult<Vec<QueueItem>> {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {CASE_COLUMNS} FROM cases c WHERE c.queue_open = {SQL_TRUE} AND c.sla_due < $1 \
                 ORDER BY c.sla_due, c.id LIMIT $2"
            )))
            .bind(DbTime(due_before))
            .bind(page(limit)?)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(queue_item).collect()
        }

        async fn expert_queue(
            &self,
            expert: &User,
            after: Option<QueueCursor>,
            limit: u32,
        ) -> StoreResult<Vec<QueueItem>> {
            let limit = page(limit)?;
            let x = Exclusions::of(expert);
            let mut q = sqlx::QueryBuilder::<Db>::new(format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.queue_open = {SQL_TRUE}"));
            if let Some(cursor) = after {
                // A row-value comparison lets both planners seek into the (sla_due, id) index.
                q.push(" AND (c.sla_due, c.id) > (")
                    .push_bind(DbTime(cursor.sla_due))
                    .push(", ")
                    .push_bind(cursor.case_id.0)
                    .push(")");
            }
            q.push(
                " AND EXISTS (SELECT 1 FROM case_subgroups cs JOIN subgroup_members m ON m.subgroup_id = cs.subgroup_id \
                 WHERE cs.case_id = c.id AND m.user_id = ",
            )
            .push_bind(expert.id.0)
            .push(")");
            q.push(" AND NOT EXISTS (SELECT 1 FROM project_maintainers pm WHERE pm.project_id = c.project_id AND pm.user_id = ")
                .push_bind(expert.id.0)
                .push(")");
            if !x.owners.is_empty() {
                q.push(" AND c.owner_norm NOT IN (");
                let mut sep = q.separated(", ");
                for o in &x.owners {
                    sep.push_bind(o.clone());
                }
                q.push(")");
            }
            if !x.projects.is_empty() {
                q.push(" AND (c.owner_norm || '/' || c.name_norm) NOT IN (");
                let mut sep = q.separated(", ");
                for p in &x.projects {
                    sep.push_bind(p.clone());
                }
                q.push(")");
            }
            if !x.authors.is_empty() {
                q.push(" AND (c.author_norm IS NULL OR c.author_norm NOT IN (");
                let mut sep = q.separated(", ");
                for a in &x.authors {
                    sep.push_bind(a.clone());
                }
                q.push("))");
            }
            q.push(" ORDER BY c.sla_due, c.id LIMIT ").push_bind(limit);
            let rows = q.build().fetch_all(&self.pool).await?;
            rows.iter().map(queue_item).collect()
        }

        async fn list_published(&self, filter: &PublishedFilter) -> StoreResult<Vec<Versioned<Case>>> {
            let limit = page(filter.limit)?;
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT c.doc, c.version FROM cases c WHERE c.published_at IS NOT NULL",
            );
            if let Some(v) = filter.verdict {
                q.push(" AND c.verdict = ").push_bind(v.as_str());
            }
            if let Some(from) = filter.published_from {
                q.push(" AND c.published_at >= ").push_bind(DbTime(from));
            }
            if let Some(to) = filter.published_to {
                q.push(" AND c.published_at < ").push_bind(DbTime(to));
            }
            if let Some(cursor) = filter.before {
                q.push(" AND (c.published_at, c.id) < (")
                    .push_bind(DbTime(cursor.published_at))
                    .push(", ")
                    .push_bind(cursor.case_id.0)
                    .push(")");
            }
            for (kind, value) in [
                ("vector", filter.vector.map(|v| v.as_str())),
                ("language", filter.ecosystem.map(|l| l.as_str())),
            ] {
                if let Some(value) = value {
                    q.push(" AND EXISTS (SELECT 1 FROM case_tags t WHERE t.case_id = c.id AND t.kind = ")
                        .push_bind(kind)
                        .push(" AND t.value = ")
                        .push_bind(value)
                        .push(")");
                }
            }
            q.push(" ORDER BY c.published_at DESC, c.id DESC LIMIT ").push_bind(limit);
            let rows = q.build().fetch_all(&self.pool).await?;
            rows.iter().map(|r| versioned(r, "case")).collect()
        }

        async fn list_case_events(&self, case_id: CaseId) -> StoreResult<Vec<DomainEvent>> {
            let rows = sqlx::query("SELECT doc FROM case_events WHERE case_id = $1 ORDER BY id")
                .bind(case_id.0)
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(|r| doc(r, "event")).collect()
        }

        async fn list_expert_assessments(
            &self,
            expert: UserId,
            limit: u32,
        ) -> StoreResult<Vec<(CaseId, sx_domain::AssessmentId, String)>> {
            let rows = sqlx::query(
                "SELECT case_id, id, status FROM assessments WHERE expert_id = $1 ORDER BY updated_at DESC, id LIMIT $2",
            )
            .bind(expert.0)
            .bind(page(limit)?)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        CaseId(r.try_get("case_id")?),
                        sx_domain::AssessmentId(r.try_get("id")?),
                        r.try_get::<String, _>("status")?,
                    ))
                })
                .collect()
        }

        // ---- comments ----
        async fn add_comment(&self, comment: &Comment, now: OffsetDateTime) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            let case_tlp: Option<String> = sqlx::query("SELECT tlp FROM cases WHERE id = $1")
                .bind(comment.case_id.0)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("tlp"))
                .transpose()?;
            let case_tlp = case_tlp.ok_or_else(|| StoreError::not_found("case", comment.case_id))?;
            sqlx::query("INSERT INTO comments (id, case_id, author_id, tlp, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(comment.id.0)
                .bind(comment.case_id.0)
                .bind(comment.author.0)
                .bind(comment.tlp.as_str())
                .bind(DbTime(comment.created_at))
                .bind(Json(comment))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique(e, "comment", comment.id))?;
            // The log gets a digest of the body, never the body: a comment may carry a stricter
            // label than its case and must not leak when the case's commitments are revealed.
            let body_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(comment.body.as_bytes()));
            let record = LogRecord {
                kind: "comment-added".to_string(),
                case_id: Some(comment.case_id.0),
                content: serde_json::json!({
                    "comment_id": comment.id,
                    "author": comment.author,
                    "tlp": comment.tlp.as_str(),
                    "body_sha256": body_sha256,
                }),
                sealed: !(case_tlp == TlpLabel::Clear.as_str() && comment.tlp == TlpLabel::Clear),
            };
            append_record(&mut tx, &record, now).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn list_comments(&self, case_id: CaseId) -> StoreResult<Vec<Comment>> {
            let rows = sqlx::query("SELECT doc FROM comments WHERE case_id = $1 ORDER BY created_at, id")
                .bind(case_id.0)
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(|r| doc(r, "comment")).collect()
        }

        crate::notify::notify_methods!();
        crate::forge::forge_methods!();
        crate::mail::mail_methods!();
    };
}

pub(crate) use {entity_helpers, entity_methods};
