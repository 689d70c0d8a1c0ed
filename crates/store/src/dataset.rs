//! Stored open-dataset snapshots (migration 0009).
//!
//! The server builds one snapshot of the open dataset a day (its JSON Lines and CSV files) and
//! keeps it here, like the trend reports, so every replica serves the same files with the same
//! checksums. A snapshot is a row in `dataset_snapshots`, keyed by its UTC day, and its files
//! are cut into chunks of at most a few MiB in `dataset_chunks`, written as the build goes
//! (each chunk in its own short transaction, so a long build never holds SQLite's write lock).
//!
//! Building is guarded by a claim: [`crate::Store::claim_dataset_snapshot`] inserts the day's
//! row in state `building` with a heartbeat that every chunk write refreshes. A second builder
//! (another replica, a repeated job) finds the row and stays away while the heartbeat is fresh;
//! a row whose builder stopped (no heartbeat since `stale_before`) is taken over, its chunks
//! dropped. A chunk write names the snapshot id it claimed, so a builder whose claim was taken
//! over cannot write into the new one. Readers only ever see `complete` snapshots.

use time::OffsetDateTime;
use uuid::Uuid;

/// A snapshot's state.
pub const BUILDING: &str = "building";
/// A snapshot's state.
pub const COMPLETE: &str = "complete";

/// The outcome of claiming a day's snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetClaim {
    /// The caller builds it, under this snapshot id.
    Started(Uuid),
    /// The day's snapshot is complete already.
    Complete,
    /// Someone else is building it (their heartbeat is fresh).
    InProgress,
}

/// A day's snapshot row, without its files.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSnapshot {
    /// Snapshot id (its chunks' key).
    pub id: Uuid,
    /// UTC day, `YYYY-MM-DD`.
    pub snapshot_on: String,
    /// [`BUILDING`] or [`COMPLETE`].
    pub state: String,
    /// Who builds or built it (a job id, or a request).
    pub builder: String,
    /// Last sign of life of the builder.
    pub heartbeat_at: OffsetDateTime,
    /// When it was completed.
    pub generated_at: Option<OffsetDateTime>,
    /// The snapshot's description (the server's JSON form), once complete.
    pub doc: Option<serde_json::Value>,
}

/// Expands the dataset methods of [`crate::Store`] inside a backend's `impl Store`.
macro_rules! dataset_methods {
    () => {
        async fn claim_dataset_snapshot(
            &self,
            snapshot_on: &str,
            builder: &str,
            stale_before: OffsetDateTime,
            now: OffsetDateTime,
        ) -> StoreResult<crate::dataset::DatasetClaim> {
            use crate::dataset::*;
            let mut tx = self.begin_write().await?;
            let existing = sqlx::query("SELECT id, state, heartbeat_at FROM dataset_snapshots WHERE snapshot_on = $1")
                .bind(snapshot_on)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = existing {
                let state: String = row.try_get("state")?;
                let heartbeat: DbTime = row.try_get("heartbeat_at")?;
                // End the transaction explicitly: a dropped one would keep its locks until the
                // connection is next used.
                if state == COMPLETE {
                    tx.rollback().await?;
                    return Ok(DatasetClaim::Complete);
                }
                if heartbeat.0 >= stale_before {
                    tx.rollback().await?;
                    return Ok(DatasetClaim::InProgress);
                }
                // The builder stopped: drop its partial files and take over.
                let id: Uuid = row.try_get("id")?;
                sqlx::query("DELETE FROM dataset_chunks WHERE snapshot_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM dataset_snapshots WHERE id = $1").bind(id).execute(&mut *tx).await?;
            }
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO dataset_snapshots (id, snapshot_on, state, builder, heartbeat_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(snapshot_on)
            .bind(BUILDING)
            .bind(builder)
            .bind(DbTime(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(DatasetClaim::Started(id))
        }

        async fn put_dataset_chunk(
            &self,
            snapshot: Uuid,
            file: &str,
            seq: u32,
            data: &[u8],
            now: OffsetDateTime,
        ) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            let alive = sqlx::query("UPDATE dataset_snapshots SET heartbeat_at = $2 WHERE id = $1 AND state = $3")
                .bind(snapshot)
                .bind(DbTime(now))
                .bind(crate::dataset::BUILDING)
                .execute(&mut *tx)
                .await?;
            if alive.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::not_found("dataset snapshot being built", snapshot));
            }
            let inserted = sqlx::query("INSERT INTO dataset_chunks (snapshot_id, file, seq, data) VALUES ($1, $2, $3, $4)")
                .bind(snapshot)
                .bind(file)
                .bind(i64::from(seq))
                .bind(data)
                .execute(&mut *tx)
                .await;
            if let Err(e) = inserted {
                tx.rollback().await?;
                return Err(StoreError::unique(e, "dataset chunk", format!("{snapshot}/{file}/{seq}")));
            }
            tx.commit().await?;
            Ok(())
        }

        async fn complete_dataset_snapshot(
            &self,
            snapshot: Uuid,
            doc: &serde_json::Value,
            keep: u32,
            now: OffsetDateTime,
        ) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            let done = sqlx::query(
                "UPDATE dataset_snapshots SET state = $2, generated_at = $3, heartbeat_at = $3, doc = $4 \
                 WHERE id = $1 AND state = $5",
            )
            .bind(snapshot)
            .bind(crate::dataset::COMPLETE)
            .bind(DbTime(now))
            .bind(Json(doc))
            .bind(crate::dataset::BUILDING)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Err(StoreError::not_found("dataset snapshot being built", snapshot));
            }
            // Keep the newest `keep` complete snapshots (a download may still read the previous
            // one), drop older ones with their chunks.
            let complete: Vec<Uuid> = sqlx::query(
                "SELECT id FROM dataset_snapshots WHERE state = $1 ORDER BY generated_at DESC, id DESC",
            )
            .bind(crate::dataset::COMPLETE)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
            let old = complete.into_iter().skip(usize::try_from(keep.max(1)).unwrap_or(usize::MAX));
            for id in old {
                sqlx::query("DELETE FROM dataset_chunks WHERE snapshot_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM dataset_snapshots WHERE id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn abandon_dataset_snapshot(&self, snapshot: Uuid) -> StoreResult<()> {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM dataset_chunks WHERE snapshot_id = $1").bind(snapshot).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM dataset_snapshots WHERE id = $1 AND state = $2")
                .bind(snapshot)
                .bind(crate::dataset::BUILDING)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        async fn get_dataset_snapshot(&self, snapshot_on: &str) -> StoreResult<Option<crate::dataset::DatasetSnapshot>> {
            let row = sqlx::query(
                "SELECT id, snapshot_on, state, builder, heartbeat_at, generated_at, doc FROM dataset_snapshots WHERE snapshot_on = $1",
            )
            .bind(snapshot_on)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(dataset_snapshot).transpose()
        }

        async fn latest_dataset_snapshot(&self) -> StoreResult<Option<crate::dataset::DatasetSnapshot>> {
            let row = sqlx::query(
                "SELECT id, snapshot_on, state, builder, heartbeat_at, generated_at, doc FROM dataset_snapshots \
                 WHERE state = $1 ORDER BY generated_at DESC, id DESC LIMIT 1",
            )
            .bind(crate::dataset::COMPLETE)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(dataset_snapshot).transpose()
        }

        async fn get_dataset_chunk(&self, snapshot: Uuid, file: &str, seq: u32) -> StoreResult<Option<Vec<u8>>> {
            let row = sqlx::query("SELECT data FROM dataset_chunks WHERE snapshot_id = $1 AND file = $2 AND seq = $3")
                .bind(snapshot)
                .bind(file)
                .bind(i64::from(seq))
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| r.try_get::<Vec<u8>, _>("data")).transpose().map_err(StoreError::from)
        }
    };
}

/// Free helpers of [`dataset_methods`]; expanded once per backend module.
macro_rules! dataset_helpers {
    () => {
        fn dataset_snapshot(row: &Row) -> StoreResult<crate::dataset::DatasetSnapshot> {
            Ok(crate::dataset::DatasetSnapshot {
                id: row.try_get("id")?,
                snapshot_on: row.try_get("snapshot_on")?,
                state: row.try_get("state")?,
                builder: row.try_get("builder")?,
                heartbeat_at: row.try_get::<DbTime, _>("heartbeat_at")?.0,
                generated_at: row
                    .try_get::<Option<DbTime>, _>("generated_at")?
                    .map(|t| t.0),
                doc: row
                    .try_get::<Option<Json<serde_json::Value>>, _>("doc")?
                    .map(|j| j.0),
            })
        }
    };
}

pub(crate) use {dataset_helpers, dataset_methods};

/// How a snapshot file is cut: chunks of at most this many bytes.
pub const CHUNK_BYTES: usize = 4 << 20;
