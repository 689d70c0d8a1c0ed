//! The one error type of the store.

use uuid::Uuid;

/// Everything that can go wrong in a store operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Optimistic concurrency: the record changed since it was read.
    #[error(
        "{entity} {id} was changed by someone else (the write expected version {expected}); reload it and apply the change again"
    )]
    Conflict {
        /// What kind of record.
        entity: &'static str,
        /// Its id.
        id: String,
        /// The version the stale write was based on.
        expected: i64,
    },
    /// The record does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// What kind of record.
        entity: &'static str,
        /// The id or key looked up.
        id: String,
    },
    /// A unique key is already taken.
    #[error("{entity} {key} already exists")]
    Duplicate {
        /// What kind of record.
        entity: &'static str,
        /// The key that collided.
        key: String,
    },
    /// A worker tried to finish a job it no longer holds.
    #[error(
        "job {id} is no longer leased by worker {worker:?}: its lease expired and another worker took it; do not report its result"
    )]
    LeaseLost {
        /// The job.
        id: Uuid,
        /// The worker that lost it.
        worker: String,
    },
    /// The write would leave no enabled account with the admin role (revoking the role from,
    /// or disabling, the last enabled admin). Nothing was changed.
    #[error(
        "user {id} is the last enabled admin; grant another account the admin role before revoking it or disabling this one"
    )]
    LastAdmin {
        /// The account that would have lost its admin power.
        id: String,
    },
    /// The URL names no supported backend.
    #[error(
        "unsupported database URL {url:?}: use sqlite://PATH (or a plain file path) for SQLite, or postgres://USER@HOST/DB for PostgreSQL"
    )]
    InvalidUrl {
        /// The URL given.
        url: String,
    },
    /// The request itself is invalid (e.g. a page size of zero).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error(
        "database migration failed: {0}; the database may be newer than this binary or was changed by hand"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt or from an incompatible version: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Duplicate`]; other errors pass through.
    pub(crate) fn unique(err: sqlx::Error, entity: &'static str, key: impl ToString) -> StoreError {
        match err.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Duplicate {
                entity,
                key: key.to_string(),
            },
            _ => StoreError::Database(err),
        }
    }

    pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}

/// Shorthand for results of store operations.
pub type StoreResult<T> = Result<T, StoreError>;
