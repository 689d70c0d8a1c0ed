//! `sx-store`: S-Express persistence behind one trait, on SQLite or PostgreSQL.
//!
//! # Model
//!
//! The service talks to one [`Store`] trait; [`open`] picks the backend from the URL
//! (`sqlite://path` or a plain path → [`SqliteStore`], `postgres://…` → [`PgStore`]) and returns
//! an [`AnyStore`] that dispatches to it. Both backends run the *same* SQL text wherever the
//! dialects agree (see `shared.rs`: one macro expanded once per backend), so behaviour cannot
//! drift; the few dialect-specific parts (job leasing with `FOR UPDATE SKIP LOCKED`, bulk seeding,
//! connection setup) live in `sqlite.rs` and `postgres.rs`. One conformance suite
//! (`tests/conformance/`) runs every test against both.
//!
//! Aggregates (projects, users, cases, assessments, …) are stored as the domain crate's own
//! serde form in a JSON `doc` column, next to the few columns that queries filter, sort or join
//! on (state, subgroup, SLA deadline, verdict, …). The domain type stays the single source of
//! truth for what a case *is*; the columns are an index of it, rewritten on every save.
//!
//! Concurrency: every aggregate row has a `version`. An update names the version it was based
//! on and fails with [`StoreError::Conflict`] if someone else saved in between (optimistic
//! concurrency); the caller reloads and re-applies its domain command.
//!
//! One rule is kept by the store itself rather than by its callers: the last enabled admin
//! never loses admin power. A user write that revokes the admin role from an enabled admin, or
//! disables one, checks in its own transaction that another enabled admin remains and
//! otherwise fails with [`StoreError::LastAdmin`], changing nothing. Such writes are
//! serialised (SQLite's single writer; a PostgreSQL advisory lock), so two admins revoking or
//! disabling each other at the same moment cannot both succeed.
//!
//! Durability: a create or update returns only after its transaction committed; SQLite runs in
//! WAL mode with `synchronous=FULL`, so an acknowledged write survives a crash or power loss
//! (checked by a test that SIGKILLs a writer right after its acknowledgement).
//!
//! Alongside the aggregates the same database holds a durable job queue ([`jobs`]) and the
//! transparency log ([`translog`]); state changes append log entries in the same transaction
//! that makes them, so the log and the data cannot disagree. Privileged administration
//! (accounts, roles, subgroups, invitations) is recorded the same way in the append-only audit
//! trail ([`audit`]).
//!
//! Schema changes are versioned migrations in `migrations/{sqlite,postgres}/`, embedded in the
//! binary and applied on open (and by `s-express admin migrate`).

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

pub mod audit;
pub mod changes;
pub mod dataset;
mod dbtime;
mod entities;
mod error;
pub mod forge;
mod index;
pub mod jobs;
pub mod mail;
pub mod notify;
mod postgres;
pub mod records;
pub mod reports;
mod shared;
mod sqlite;
pub mod translog;

pub use error::{StoreError, StoreResult};

/// How stale a token's `last_used_at` may get before a use is written down again.
pub const TOKEN_USE_PRECISION: time::Duration = time::Duration::minutes(1);
pub use audit::{AuditFilter, AuditRecord, AuditedChange};
pub use forge::ForgeThread;
pub use index::QUEUE_STATUSES;
pub use jobs::{Job, JobCounts, JobState, NewJob};
pub use mail::MailIntake;
pub use notify::NotifySettings;
pub use postgres::PgStore;
pub use records::{
    ApiToken, Invitation, MAX_PAGE, PublishedCursor, PublishedFilter, QueueCursor, QueueItem,
    SecretHash, Session, UserRecord, Versioned,
};
pub use sqlite::SqliteStore;
pub use translog::{LogPosition, LogRecord};

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one file.
    Sqlite,
    /// Server, for several replicas.
    Postgres,
}

/// Connection settings beyond the URL.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Pool size.
    pub max_connections: u32,
    /// PostgreSQL only: run in this schema (it must exist); every pooled connection sets its
    /// `search_path` to it. Lets several instances or test runs share one database.
    pub schema: Option<String>,
    /// Apply pending migrations on open (default). `s-express admin migrate` does it explicitly.
    pub migrate: bool,
    /// How long to wait for a connection (and, on SQLite, for the write lock).
    pub acquire_timeout: Duration,
    /// First human assessment due this long after a case is received. Stored per case at
    /// save time (`sla_due`), so changing it affects cases saved afterwards.
    pub sla_first_assessment_due: time::Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            max_connections: 8,
            schema: None,
            migrate: true,
            acquire_timeout: Duration::from_secs(30),
            sla_first_assessment_due: sx_domain::SlaPolicy::default().first_assessment_due,
        }
    }
}

impl OpenOptions {
    /// Sets the pool size.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets the PostgreSQL schema.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Whether to apply migrations on open.
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }
}

/// Which backend a URL selects.
pub fn backend_for(url: &str) -> Result<Backend, StoreError> {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if lower.starts_with("sqlite:") || (!lower.is_empty() && !lower.contains("://")) {
        Ok(Backend::Sqlite)
    } else {
        Err(StoreError::InvalidUrl {
            url: url.to_string(),
        })
    }
}

/// Opens (creating and migrating if needed) the store the URL names, with default options.
pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
    open_with(url, &OpenOptions::default()).await
}

/// Opens the store the URL names.
pub async fn open_with(url: &str, options: &OpenOptions) -> Result<AnyStore, StoreError> {
    Ok(match backend_for(url)? {
        Backend::Sqlite => AnyStore::Sqlite(SqliteStore::open(url, options).await?),
        Backend::Postgres => AnyStore::Postgres(PgStore::open(url, options).await?),
    })
}

/// A store on either backend.
#[derive(Clone, Debug)]
pub enum AnyStore {
    /// SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PgStore),
}

impl AnyStore {
    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            AnyStore::Sqlite(_) => Backend::Sqlite,
            AnyStore::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations (already done by [`open`] unless disabled).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.migrate().await,
            AnyStore::Postgres(s) => s.migrate().await,
        }
    }

    /// Bulk-loads synthetic data for benchmarks (see [`seed`]).
    pub async fn seed(&self, spec: &seed::SeedSpec) -> Result<seed::SeedReport, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.seed(spec).await,
            AnyStore::Postgres(s) => s.seed(spec).await,
        }
    }

    /// Closes every pooled connection, waiting for checked-out ones.
    pub async fn close(&self) {
        match self {
            AnyStore::Sqlite(s) => s.close().await,
            AnyStore::Postgres(s) => s.close().await,
        }
    }
}

/// Declares the [`Store`] trait and its [`AnyStore`] dispatch from one method list, so the two
/// can never disagree. Each method returns a `Send` future, so stores work from any tokio task.
macro_rules! store_api {
    ($(
        $(#[$meta:meta])*
        fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
    )*) => {
        /// Every persistence operation the service needs. Implemented by [`SqliteStore`],
        /// [`PgStore`] and [`AnyStore`]; all behave identically (see the conformance suite).
        pub trait Store: Send + Sync {
            $(
                $(#[$meta])*
                fn $name(&self $(, $arg: $ty)*) -> impl std::future::Future<Output = Result<$ret, StoreError>> + Send;
            )*
        }

        impl Store for AnyStore {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    match self {
                        AnyStore::Sqlite(s) => s.$name($($arg),*).await,
                        AnyStore::Postgres(s) => s.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

store_api! {
    // ---- projects ----
    /// Stores a new project (version 1). Fails with `Duplicate` if forge/host/owner/name exists.
    fn create_project(&self, project: &sx_domain::Project) -> ();
    /// Reads a project.
    fn get_project(&self, id: sx_domain::ProjectId) -> Option<Versioned<sx_domain::Project>>;
    /// Finds a project by forge, host and `owner/name` (case-insensitive).
    fn find_project(&self, forge: sx_domain::Forge, host: &str, owner: &str, name: &str) -> Option<Versioned<sx_domain::Project>>;
    /// Saves a changed project; returns the new version or fails with `Conflict` if stale.
    fn update_project(&self, project: &sx_domain::Project, expected_version: i64) -> i64;
    /// Projects by id, after `after`.
    fn list_projects(&self, after: Option<sx_domain::ProjectId>, limit: u32) -> Vec<Versioned<sx_domain::Project>>;

    // ---- users and credentials ----
    /// Stores a new user with an optional password hash (argon2id PHC string).
    fn create_user(&self, user: &sx_domain::User, password_hash: Option<&str>) -> ();
    /// Reads a user with credentials.
    fn get_user(&self, id: sx_domain::UserId) -> Option<UserRecord>;
    /// Reads a user by handle (normalized like conflicts: case-insensitive, no leading `@`).
    fn get_user_by_handle(&self, handle: &str) -> Option<UserRecord>;
    /// Saves a changed user; returns the new version or fails with `Conflict` if stale, or
    /// with `LastAdmin` if it revokes the admin role of the last enabled admin.
    fn update_user(&self, user: &sx_domain::User, expected_version: i64) -> i64;
    /// Sets or clears the password hash.
    fn set_password_hash(&self, id: sx_domain::UserId, password_hash: Option<&str>) -> ();
    /// Disables (and logs out everywhere) or re-enables a user. Disabling the last enabled
    /// admin fails with `LastAdmin`.
    fn set_user_disabled(&self, id: sx_domain::UserId, disabled: bool) -> ();
    /// Every user (disabled ones included), by normalized handle.
    fn list_users(&self) -> Vec<UserRecord>;
    /// Stores an API token by its hash.
    fn create_api_token(&self, token: &ApiToken) -> ();
    /// Looks a presented token up by hash; only live tokens of enabled users match. Records use
    /// (`last_used_at`) at most once per [`TOKEN_USE_PRECISION`].
    fn authenticate_token(&self, token_hash: SecretHash, now: OffsetDateTime) -> Option<(ApiToken, UserRecord)>;
    /// Revokes a token.
    fn revoke_api_token(&self, token_hash: SecretHash, now: OffsetDateTime) -> ();
    /// A user's tokens (hashes only).
    fn list_api_tokens(&self, user: sx_domain::UserId) -> Vec<ApiToken>;
    /// Stores a login session.
    fn create_session(&self, session: &Session) -> ();
    /// A live session of an enabled user.
    fn get_session(&self, id_hash: SecretHash, now: OffsetDateTime) -> Option<(Session, UserRecord)>;
    /// Logs a session out.
    fn delete_session(&self, id_hash: SecretHash) -> ();
    /// Removes expired sessions; returns how many.
    fn delete_expired_sessions(&self, now: OffsetDateTime) -> u64;
    /// Stores an invitation by its token hash.
    fn create_invitation(&self, invitation: &Invitation) -> ();
    /// Reads an invitation.
    fn get_invitation(&self, token_hash: SecretHash) -> Option<Invitation>;
    /// Accepts an unexpired, unused invitation exactly once.
    fn accept_invitation(&self, token_hash: SecretHash, accepted_by: sx_domain::UserId, now: OffsetDateTime) -> Invitation;

    // ---- subgroups ----
    /// Stores a new subgroup and its memberships.
    fn create_subgroup(&self, subgroup: &sx_domain::Subgroup) -> ();
    /// Reads a subgroup.
    fn get_subgroup(&self, id: sx_domain::SubgroupId) -> Option<Versioned<sx_domain::Subgroup>>;
    /// Reads a subgroup by slug.
    fn get_subgroup_by_slug(&self, slug: &str) -> Option<Versioned<sx_domain::Subgroup>>;
    /// Every subgroup, by slug.
    fn list_subgroups(&self) -> Vec<Versioned<sx_domain::Subgroup>>;
    /// Subgroups a user belongs to (as member or coordinator).
    fn subgroups_of_user(&self, user: sx_domain::UserId) -> Vec<Versioned<sx_domain::Subgroup>>;
    /// Saves a changed subgroup (memberships included); fails with `Conflict` if stale.
    fn update_subgroup(&self, subgroup: &sx_domain::Subgroup, expected_version: i64) -> i64;

    // ---- cases ----
    /// Stores a new case (version 1) with the events that created it; returns only after the
    /// transaction is durably committed. Events are logged (sealed unless public).
    fn create_case(&self, case: &sx_domain::Case, events: &[sx_domain::DomainEvent], now: OffsetDateTime) -> ();
    /// Reads a case with its version.
    fn get_case(&self, id: sx_domain::CaseId) -> Option<Versioned<sx_domain::Case>>;
    /// Saves the case aggregate after a domain command (report, triage, claim, assessment,
    /// second review, decision, participants, embargo, publication…) together with the events
    /// the command produced. Fails with `Conflict` if the case changed since `expected_version`.
    /// When the case is published, its sealed log entries are revealed in the same transaction.
    fn update_case(&self, case: &sx_domain::Case, expected_version: i64, events: &[sx_domain::DomainEvent], now: OffsetDateTime) -> i64;
    /// Cases for one pull request URL (to spot re-submissions).
    fn find_cases_by_pull_request(&self, url: &str) -> Vec<Versioned<sx_domain::Case>>;
    /// A project's cases, newest first.
    fn list_project_cases(&self, project: sx_domain::ProjectId, limit: u32) -> Vec<Versioned<sx_domain::Case>>;
    /// Open (queued) cases whose SLA deadline is before `due_before`, earliest first: input
    /// for SLA warnings and escalation.
    fn list_open_cases(&self, due_before: OffsetDateTime, limit: u32) -> Vec<QueueItem>;
    /// An expert's queue: open cases routed to a subgroup they belong to, without any case they
    /// are conflicted on, earliest SLA deadline first, `limit` per page after `after`.
    fn expert_queue(&self, expert: &sx_domain::User, after: Option<QueueCursor>, limit: u32) -> Vec<QueueItem>;
    /// Published cases matching the filter, newest first.
    fn list_published(&self, filter: &PublishedFilter) -> Vec<Versioned<sx_domain::Case>>;
    /// A case's domain events, oldest first.
    fn list_case_events(&self, case_id: sx_domain::CaseId) -> Vec<sx_domain::DomainEvent>;
    /// An expert's assessments `(case, assessment, status)`, most recently changed first.
    fn list_expert_assessments(&self, expert: sx_domain::UserId, limit: u32) -> Vec<(sx_domain::CaseId, sx_domain::AssessmentId, String)>;
    /// Adds a comment (logged as a digest, never the body).
    fn add_comment(&self, comment: &sx_domain::Comment, now: OffsetDateTime) -> ();
    /// A case's comments, oldest first (TLP filtering is the caller's job).
    fn list_comments(&self, case_id: sx_domain::CaseId) -> Vec<sx_domain::Comment>;

    // ---- change texts and submissions (see [`changes`]) ----
    /// Stores a change text under its content address ([`changes::patch_ref`]) and returns
    /// the reference; storing the same text again is a no-op.
    fn put_change_text(&self, text: &str, now: OffsetDateTime) -> String;
    /// Reads a change text by its reference; `None` when unknown or malformed.
    fn get_change_text(&self, patch_ref: &str) -> Option<String>;
    /// Stores a new case (as [`Store::create_case`]) together with its change text and its
    /// first jobs, in one transaction: all are committed or none. The case's
    /// `source.patch_ref` must be the text's reference. Returns the job ids in order.
    fn submit_case(&self, case: &sx_domain::Case, events: &[sx_domain::DomainEvent], change_text: Option<&str>, jobs: &[NewJob], now: OffsetDateTime) -> Vec<Uuid>;

    // ---- trend reports (see [`reports`]) ----
    /// Aggregates the public (published, TLP-visible) cases of a report period.
    fn report_figures(&self, query: &reports::ReportQuery) -> reports::ReportFigures;
    /// Counts how often each detector fired on public published cases and how expert
    /// verdicts judged it (the domain's [`sx_domain::DetectorRecord`]); the reports and the
    /// detector pages both read it.
    fn detector_figures(&self, query: &reports::DetectorQuery) -> reports::DetectorSummary;
    /// Stores a generated report unless one exists for its period and start; returns whether
    /// this call stored it (so exactly one replica's report is kept).
    fn save_report(&self, report: &reports::StoredReport) -> bool;
    /// Reads a stored report by period (`week`, `month`) and start date (`YYYY-MM-DD`).
    fn get_report(&self, period: &str, starts_on: &str) -> Option<reports::StoredReport>;
    /// Stored reports, the most recent period first.
    fn list_reports(&self, limit: u32) -> Vec<reports::StoredReport>;

    // ---- open-dataset snapshots (see [`dataset`]) ----
    /// Claims the building of the snapshot of day `snapshot_on` (`YYYY-MM-DD`) for `builder`:
    /// started (a fresh id), already complete, or in progress elsewhere. A building snapshot
    /// whose heartbeat is older than `stale_before` is dropped and taken over.
    fn claim_dataset_snapshot(&self, snapshot_on: &str, builder: &str, stale_before: OffsetDateTime, now: OffsetDateTime) -> dataset::DatasetClaim;
    /// Appends chunk `seq` of `file` (`jsonl` or `csv`) to a snapshot being built and
    /// refreshes its heartbeat. Fails with `NotFound` when the claim was taken over.
    fn put_dataset_chunk(&self, snapshot: Uuid, file: &str, seq: u32, data: &[u8], now: OffsetDateTime) -> ();
    /// Marks a snapshot complete with its description and deletes complete snapshots older
    /// than the newest `keep`. Fails with `NotFound` when the claim was taken over.
    fn complete_dataset_snapshot(&self, snapshot: Uuid, doc: &serde_json::Value, keep: u32, now: OffsetDateTime) -> ();
    /// Drops a snapshot still being built (a failed build), so a retry starts afresh.
    fn abandon_dataset_snapshot(&self, snapshot: Uuid) -> ();
    /// The snapshot row of a day, in whatever state.
    fn get_dataset_snapshot(&self, snapshot_on: &str) -> Option<dataset::DatasetSnapshot>;
    /// The newest complete snapshot.
    fn latest_dataset_snapshot(&self) -> Option<dataset::DatasetSnapshot>;
    /// Chunk `seq` of a snapshot's `file`; `None` past the last one.
    fn get_dataset_chunk(&self, snapshot: Uuid, file: &str, seq: u32) -> Option<Vec<u8>>;

    // ---- forge intake (see [`forge`]) ----
    /// Records a webhook delivery id; `false` when it was recorded before (a replay).
    fn record_forge_delivery(&self, forge: &str, delivery_id: &str, now: OffsetDateTime) -> bool;
    /// Forgets delivery ids received before `before`; returns how many.
    fn prune_forge_deliveries(&self, before: OffsetDateTime) -> u64;
    /// Saves (inserts or replaces) the pull request thread of a forge-forwarded case.
    fn put_forge_thread(&self, thread: &forge::ForgeThread) -> ();
    /// The pull request thread of a case, if it came from a forge.
    fn get_forge_thread(&self, case_id: sx_domain::CaseId) -> Option<forge::ForgeThread>;
    /// The cases forwarded from one pull request (owner and repo case-insensitive).
    fn find_forge_threads(&self, forge: &str, api_base: &str, owner: &str, repo: &str, number: u64) -> Vec<forge::ForgeThread>;

    // ---- notifications ----
    /// A user's notification settings, if they saved any.
    fn get_notify_settings(&self, user: sx_domain::UserId) -> Option<notify::NotifySettings>;
    /// Saves (inserts or replaces) a user's notification settings.
    fn put_notify_settings(&self, settings: &notify::NotifySettings) -> ();
    /// Users whose notification address is `email` (normalized; at most two, so callers can
    /// refuse an ambiguous address).
    fn find_user_by_notify_email(&self, email: &str) -> Vec<UserRecord>;
    /// The next transparency-log sequence number the notification scanner has not looked at.
    fn notify_cursor(&self) -> u64;
    /// Moves the scanner's cursor from `from` to `to` if nobody moved it since; returns whether
    /// this call moved it.
    fn advance_notify_cursor(&self, from: u64, to: u64) -> bool;
    /// Whether a notification with this key was already delivered.
    fn notify_delivery_recorded(&self, key: &str) -> bool;
    /// Records a delivered notification; returns false if the key was already recorded.
    fn record_notify_delivery(&self, key: &str, user: sx_domain::UserId, channel: &str, now: OffsetDateTime) -> bool;

    // ---- mail intake (see [`mail`]) ----
    /// Saves (inserts or replaces) a user's intake address; the old token stops working.
    /// Fails with `Duplicate` if another user's address has the same token hash.
    fn put_mail_intake(&self, intake: &mail::MailIntake) -> ();
    /// A user's intake address, if they have one.
    fn get_mail_intake(&self, user: sx_domain::UserId) -> Option<mail::MailIntake>;
    /// The intake address with this token hash and its owner, if the owner is enabled.
    fn authenticate_mail_intake(&self, token_hash: SecretHash) -> Option<(mail::MailIntake, UserRecord)>;
    /// Removes a user's intake address; returns whether there was one.
    fn delete_mail_intake(&self, user: sx_domain::UserId) -> bool;
    /// The case a delivered message became, if it was delivered before.
    fn find_mail_delivery(&self, message_key: SecretHash) -> Option<sx_domain::CaseId>;
    /// Records the case a message became and marks the user's intake address used; returns
    /// false if the message was recorded before.
    fn record_mail_delivery(&self, message_key: SecretHash, user: sx_domain::UserId, case_id: sx_domain::CaseId, now: OffsetDateTime) -> bool;
    /// When the user's latest recorded deliveries (messages that became cases) arrived, newest
    /// first: at most `limit`, none before `since`. The mail intake's rate limit counts these.
    fn mail_delivery_times(&self, user: sx_domain::UserId, since: OffsetDateTime, limit: u32) -> Vec<OffsetDateTime>;

    // ---- audit trail (see [`audit`]) ----
    /// Performs a privileged change and appends its audit record in one transaction: both are
    /// committed or neither. Fails as the plain method would (`Duplicate`, `Conflict`,
    /// `LastAdmin`, …).
    /// Returns the record's sequence number.
    fn apply_audited(&self, change: &audit::AuditedChange<'_>, event: &sx_domain::AuditEvent) -> u64;
    /// Appends an audit record for an action that is not one store write (bulk seeding).
    fn append_audit(&self, event: &sx_domain::AuditEvent) -> u64;
    /// Audit records matching the filter, newest first.
    fn list_audit(&self, filter: &audit::AuditFilter) -> Vec<audit::AuditRecord>;

    // ---- job queue ----
    /// Adds a job; returns its id once committed.
    fn enqueue_job(&self, job: &NewJob) -> Uuid;
    /// Leases the next due job (queued and due, or running with an expired lease) to `worker`
    /// until `now + lease`. At most one worker holds a job at a time.
    fn lease_job(&self, worker: &str, lease: Duration, now: OffsetDateTime) -> Option<Job>;
    /// Marks a leased job done. Fails with [`StoreError::LeaseLost`] if `worker` no longer holds it.
    fn complete_job(&self, id: Uuid, worker: &str, now: OffsetDateTime) -> ();
    /// Records a failed attempt: requeues with exponential backoff, or dead-letters the job
    /// after its last attempt. Returns the new state.
    fn fail_job(&self, id: Uuid, worker: &str, error: &str, now: OffsetDateTime) -> JobState;
    /// Gives a leased job back without counting the attempt (a worker shutting down): the job
    /// is queued again and leasable at once by any worker. Fails with
    /// [`StoreError::LeaseLost`] if `worker` no longer holds it.
    fn release_job(&self, id: Uuid, worker: &str, now: OffsetDateTime) -> ();
    /// Extends the lease `worker` holds on a long-running job to `now + lease`. Fails with
    /// [`StoreError::LeaseLost`] if `worker` no longer holds it.
    fn renew_job_lease(&self, id: Uuid, worker: &str, lease: Duration, now: OffsetDateTime) -> ();
    /// Reads a job.
    fn get_job(&self, id: Uuid) -> Option<Job>;
    /// Jobs in a state, oldest first.
    fn list_jobs(&self, state: JobState, limit: u32) -> Vec<Job>;
    /// Number of jobs per state.
    fn job_counts(&self) -> JobCounts;
    /// Puts a dead job back in the queue with a fresh attempt budget.
    fn retry_dead_job(&self, id: Uuid, now: OffsetDateTime) -> ();
    /// Deletes jobs that finished (done) before `before`; returns how many.
    fn prune_done_jobs(&self, before: OffsetDateTime) -> u64;

    // ---- transparency log ----
    /// Appends one entry (sealed records get a salted commitment) and returns its position.
    fn append_log(&self, record: &LogRecord, now: OffsetDateTime) -> LogPosition;
    /// Appends the publication entry of a case: opens every commitment of the case not yet
    /// revealed. Returns `None` if the case has nothing sealed.
    fn reveal_case_log(&self, case_id: Uuid, payload: &serde_json::Value, now: OffsetDateTime) -> Option<LogPosition>;
    /// Signs the current head with the instance key and stores the checkpoint.
    fn create_checkpoint(&self, now: OffsetDateTime) -> translog::Checkpoint;
    /// The newest checkpoint, if any.
    fn latest_checkpoint(&self) -> Option<translog::Checkpoint>;
    /// Entries from `from_seq`, at most `limit`, in order.
    fn log_entries(&self, from_seq: u64, limit: u32) -> Vec<translog::Entry>;
    /// All checkpoints, oldest first.
    fn log_checkpoints(&self) -> Vec<translog::Checkpoint>;
    /// The whole log in the export format, for [`translog::verify_export`].
    fn export_log(&self) -> translog::Export;
    /// Number of entries and the head hash.
    fn log_head(&self) -> (u64, translog::Hash32);
}

impl AnyStore {
    /// The instance's public key for checking checkpoints.
    pub fn log_public_key(&self) -> ed25519_dalek::VerifyingKey {
        match self {
            AnyStore::Sqlite(s) => s.log_public_key(),
            AnyStore::Postgres(s) => s.log_public_key(),
        }
    }
}

pub mod seed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(backend_for("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(
            backend_for("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            backend_for("sqlite://data/s.sqlite").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(backend_for("sqlite:s.sqlite").unwrap(), Backend::Sqlite);
        assert_eq!(backend_for("s-express.sqlite").unwrap(), Backend::Sqlite);
        assert_eq!(backend_for("/var/lib/sx/db").unwrap(), Backend::Sqlite);
        assert!(matches!(
            backend_for("mysql://h/db"),
            Err(StoreError::InvalidUrl { .. })
        ));
        assert!(matches!(
            backend_for(""),
            Err(StoreError::InvalidUrl { .. })
        ));
    }
}
