//! The SQL both backends share.
//!
//! sqlx's traits make code generic over the database painful (every bound names every type), so
//! instead the implementation is written once as a macro and expanded inside `sqlite.rs` and
//! `postgres.rs` with concrete types. The SQL text is the common subset of both dialects:
//! `$n` placeholders (SQLite accepts them), `ON CONFLICT`, `RETURNING`, `TRUE`/`FALSE`.
//! Timestamps are bound as [`crate::dbtime::DbTime`], which maps to the right column type on each
//! backend. Each backend module must provide, before expanding:
//! - `type Db`, the sqlx database;
//! - `impl Self { fn begin_write(&self) -> Transaction<'static, Db> }` that takes the write lock
//!   up front on SQLite (`BEGIN IMMEDIATE`), so read-then-write transactions never deadlock;
//! - `const LEASE_LOCK: &str`-style differences as macro arguments.

/// Expands the shared [`crate::Store`] implementation for one backend.
macro_rules! impl_store {
    (store = $Store:ident, lease_lock = $lease_lock:literal) => {
        use std::time::Duration as StdDuration;

        use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
        use sqlx::Row as _;
        use sqlx::types::Json;
        use time::OffsetDateTime;
        use uuid::Uuid;

        use crate::dbtime::DbTime;
        use crate::error::{StoreError, StoreResult};
        use crate::jobs::{Job, JobCounts, JobState, NewJob};
        use crate::translog::{self, EntryBody, Hash32, LogPosition, LogRecord, Reveal};

        type Row = <Db as sqlx::Database>::Row;
        type Conn = <Db as sqlx::Database>::Connection;

        const JOB_COLUMNS: &str = "id, name, payload, state, attempts, max_attempts, run_at, leased_by, \
                                   lease_expires_at, last_error, created_at";

        fn std_to_time(d: StdDuration) -> time::Duration {
            time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
        }

        fn job_from_row(row: &Row) -> StoreResult<Job> {
            let state: String = row.try_get("state")?;
            let attempts: i32 = row.try_get("attempts")?;
            let max_attempts: i32 = row.try_get("max_attempts")?;
            Ok(Job {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                payload: row.try_get::<Json<serde_json::Value>, _>("payload")?.0,
                state: JobState::parse(&state).ok_or_else(|| StoreError::corrupt(format!("job state {state:?}")))?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                max_attempts: u32::try_from(max_attempts).unwrap_or(1),
                run_at: row.try_get::<DbTime, _>("run_at")?.0,
                leased_by: row.try_get("leased_by")?,
                lease_expires_at: row.try_get::<Option<DbTime>, _>("lease_expires_at")?.map(|t| t.0),
                last_error: row.try_get("last_error")?,
                created_at: row.try_get::<DbTime, _>("created_at")?.0,
            })
        }

        fn hash32(bytes: Vec<u8>, what: &str) -> StoreResult<Hash32> {
            <[u8; 32]>::try_from(bytes.as_slice())
                .map(Hash32)
                .map_err(|_| StoreError::corrupt(format!("{what} is {} bytes, expected 32", bytes.len())))
        }

        fn seq_u64(v: i64) -> StoreResult<u64> {
            u64::try_from(v).map_err(|_| StoreError::corrupt(format!("negative log sequence number {v}")))
        }

        fn seq_i64(v: u64) -> StoreResult<i64> {
            i64::try_from(v).map_err(|_| StoreError::Invalid(format!("log sequence number {v} is out of range")))
        }

        fn entry_from_row(row: &Row) -> StoreResult<translog::Entry> {
            let seq = seq_u64(row.try_get("seq")?)?;
            let body_type: String = row.try_get("body_type")?;
            let body = match body_type.as_str() {
                "payload" => EntryBody::Payload {
                    payload: row.try_get::<Option<String>, _>("payload")?.unwrap_or_default(),
                },
                "commitment" => EntryBody::Commitment {
                    commitment: hash32(
                        row.try_get::<Option<Vec<u8>>, _>("commitment")?.unwrap_or_default(),
                        "commitment",
                    )?,
                },
                "reveal" => {
                    let reveals: String = row.try_get::<Option<String>, _>("reveals")?.unwrap_or_default();
                    EntryBody::Reveal {
                        payload: row.try_get::<Option<String>, _>("payload")?.unwrap_or_default(),
                        reveals: serde_json::from_str(&reveals)
                            .map_err(|e| StoreError::corrupt(format!("reveals of log entry {seq}: {e}")))?,
                    }
                }
                other => return Err(StoreError::corrupt(format!("log entry {seq} has body type {other:?}"))),
            };
            Ok(translog::Entry {
                seq,
                prev_hash: hash32(row.try_get("prev_hash")?, "prev_hash")?,
                timestamp_us: crate::dbtime::to_micros(row.try_get::<DbTime, _>("ts")?.0),
                kind: row.try_get("kind")?,
                case_id: row.try_get("case_id")?,
                body,
                hash: hash32(row.try_get("hash")?, "hash")?,
            })
        }

        fn checkpoint_from_row(row: &Row) -> StoreResult<translog::Checkpoint> {
            let sig: Vec<u8> = row.try_get("signature")?;
            let signature = <[u8; 64]>::try_from(sig.as_slice())
                .map_err(|_| StoreError::corrupt("checkpoint signature is not 64 bytes"))?;
            Ok(translog::Checkpoint {
                size: seq_u64(row.try_get("size")?)?,
                head_hash: hash32(row.try_get("head_hash")?, "checkpoint head")?,
                timestamp_us: crate::dbtime::to_micros(row.try_get::<DbTime, _>("ts")?.0),
                signature: translog::SignatureBytes(signature),
            })
        }

        /// Appends one entry inside the caller's transaction. The first statement updates the
        /// single `log_head` row, which serializes concurrent appenders on both backends.
        pub(crate) async fn append_entry(
            conn: &mut Conn,
            kind: &str,
            case_id: Option<Uuid>,
            body: EntryBody,
            secret: Option<(Hash32, &str)>,
            now: OffsetDateTime,
        ) -> StoreResult<LogPosition> {
            let head = sqlx::query(
                "UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size, head_hash, last_ts",
            )
            .fetch_one(&mut *conn)
            .await?;
            let seq = seq_u64(head.try_get::<i64, _>("size")? - 1)?;
            let prev = hash32(head.try_get("head_hash")?, "log head")?;
            let last_ts: Option<DbTime> = head.try_get("last_ts")?;
            // Entries must never go back in time, even if replicas' clocks disagree.
            let ts = crate::dbtime::truncate(match last_ts {
                Some(DbTime(last)) if last > now => last,
                _ => now,
            });
            let timestamp_us = crate::dbtime::to_micros(ts);
            let hash = translog::format::entry_hash(seq, &prev, timestamp_us, kind, case_id, &body);
            let (body_type, payload, commitment, reveals) = match &body {
                EntryBody::Payload { payload } => ("payload", Some(payload.clone()), None, None),
                EntryBody::Commitment { commitment } => ("commitment", None, Some(commitment.0.to_vec()), None),
                EntryBody::Reveal { payload, reveals } => (
                    "reveal",
                    Some(payload.clone()),
                    None,
                    Some(serde_json::to_string(reveals).map_err(|e| StoreError::corrupt(e))?),
                ),
            };
            sqlx::query(
                "INSERT INTO log_entries (seq, prev_hash, ts, kind, case_id, body_type, payload, commitment, reveals, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(seq_i64(seq)?)
            .bind(prev.0.to_vec())
            .bind(DbTime(ts))
            .bind(kind)
            .bind(case_id)
            .bind(body_type)
            .bind(payload)
            .bind(commitment)
            .bind(reveals)
            .bind(hash.0.to_vec())
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE log_head SET head_hash = $1, last_ts = $2 WHERE id = 1")
                .bind(hash.0.to_vec())
                .bind(DbTime(ts))
                .execute(&mut *conn)
                .await?;
            if let (Some((salt, content)), Some(case_id)) = (secret, case_id) {
                sqlx::query("INSERT INTO log_secrets (seq, case_id, salt, content) VALUES ($1, $2, $3, $4)")
                    .bind(seq_i64(seq)?)
                    .bind(case_id)
                    .bind(salt.0.to_vec())
                    .bind(content)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(LogPosition { seq, hash })
        }

        /// Appends a record inside the caller's transaction, sealing it if asked.
        pub(crate) async fn append_record(
            conn: &mut Conn,
            record: &LogRecord,
            now: OffsetDateTime,
        ) -> StoreResult<LogPosition> {
            let content = serde_json::to_string(&record.content).map_err(StoreError::corrupt)?;
            if record.sealed {
                let case_id = record.case_id.ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "log record {:?} is sealed but names no case; a sealed entry is revealed when its case is published",
                        record.kind
                    ))
                })?;
                let salt = Hash32(rand::random());
                let commitment = translog::format::commitment(&salt, &content);
                append_entry(
                    conn,
                    &record.kind,
                    Some(case_id),
                    EntryBody::Commitment { commitment },
                    Some((salt, &content)),
                    now,
                )
                .await
            } else {
                append_entry(conn, &record.kind, record.case_id, EntryBody::Payload { payload: content }, None, now)
                    .await
            }
        }

        /// Opens every unrevealed commitment of a case inside the caller's transaction.
        pub(crate) async fn reveal_case(
            conn: &mut Conn,
            case_id: Uuid,
            payload: &serde_json::Value,
            now: OffsetDateTime,
        ) -> StoreResult<Option<LogPosition>> {
            let rows = sqlx::query(
                "SELECT seq, salt, content FROM log_secrets WHERE case_id = $1 AND revealed_seq IS NULL ORDER BY seq",
            )
            .bind(case_id)
            .fetch_all(&mut *conn)
            .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            let mut reveals = Vec::with_capacity(rows.len());
            for row in &rows {
                reveals.push(Reveal {
                    seq: seq_u64(row.try_get("seq")?)?,
                    salt: hash32(row.try_get("salt")?, "salt")?,
                    content: row.try_get("content")?,
                });
            }
            let payload = serde_json::to_string(payload).map_err(StoreError::corrupt)?;
            let pos = append_entry(
                conn,
                "case.revealed",
                Some(case_id),
                EntryBody::Reveal { payload, reveals },
                None,
                now,
            )
            .await?;
            sqlx::query("UPDATE log_secrets SET revealed_seq = $1 WHERE case_id = $2 AND revealed_seq IS NULL")
                .bind(seq_i64(pos.seq)?)
                .bind(case_id)
                .execute(&mut *conn)
                .await?;
            Ok(Some(pos))
        }

        /// Loads the instance key, creating it on first start. Safe when several replicas start
        /// at once: the insert is a no-op if another one won, and everyone re-reads the winner.
        async fn load_or_create_key(pool: &sqlx::Pool<Db>) -> StoreResult<SigningKey> {
            let fresh = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
            sqlx::query(
                "INSERT INTO instance_keys (id, secret_key, public_key, created_at) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(fresh.to_bytes().to_vec())
            .bind(fresh.verifying_key().to_bytes().to_vec())
            .bind(DbTime(OffsetDateTime::now_utc()))
            .execute(pool)
            .await?;
            let row = sqlx::query("SELECT secret_key, public_key FROM instance_keys WHERE id = 1")
                .fetch_one(pool)
                .await?;
            let secret: Vec<u8> = row.try_get("secret_key")?;
            let public: Vec<u8> = row.try_get("public_key")?;
            let secret = <[u8; 32]>::try_from(secret.as_slice())
                .map_err(|_| StoreError::corrupt("instance secret key is not 32 bytes"))?;
            let key = SigningKey::from_bytes(&secret);
            if key.verifying_key().as_bytes().as_slice() != public.as_slice() {
                return Err(StoreError::corrupt("instance public key does not match its secret key"));
            }
            Ok(key)
        }

        /// Adds a job inside the caller's transaction (or on a plain connection).
        async fn insert_job(conn: &mut Conn, job: &NewJob, now: OffsetDateTime) -> StoreResult<Uuid> {
            if job.max_attempts == 0 {
                return Err(StoreError::Invalid(format!("job {:?} needs max_attempts of at least 1", job.name)));
            }
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO jobs (id, name, payload, state, attempts, max_attempts, run_at, next_at, created_at) \
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $6)",
            )
            .bind(id)
            .bind(&job.name)
            .bind(Json(&job.payload))
            .bind(i32::try_from(job.max_attempts).unwrap_or(i32::MAX))
            .bind(DbTime(job.run_at))
            .bind(DbTime(now))
            .execute(&mut *conn)
            .await?;
            Ok(id)
        }

        impl $Store {
            /// The instance's public key for checking checkpoints.
            pub fn log_public_key(&self) -> VerifyingKey {
                self.key.verifying_key()
            }
        }

        crate::entities::entity_helpers!();
        crate::reports::report_helpers!();
        crate::dataset::dataset_helpers!();
        crate::changes::change_helpers!();
        crate::audit::audit_helpers!();
        crate::seed::impl_seed!($Store);

        impl crate::Store for $Store {
            crate::entities::entity_methods!();
            crate::reports::report_methods!();
            crate::dataset::dataset_methods!();
            crate::changes::change_methods!();
            crate::audit::audit_methods!();

            async fn enqueue_job(&self, job: &NewJob) -> StoreResult<Uuid> {
                let mut conn = self.pool.acquire().await?;
                insert_job(&mut conn, job, OffsetDateTime::now_utc()).await
            }

            async fn release_job(&self, id: Uuid, worker: &str, now: OffsetDateTime) -> StoreResult<()> {
                // The attempt the lease counted is given back: a job interrupted by a shutdown
                // has not failed. It is leasable again at once, by any replica.
                let released = sqlx::query(
                    "UPDATE jobs SET state = 'queued', leased_by = NULL, lease_expires_at = NULL, next_at = $3, \
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
                     WHERE id = $1 AND state = 'running' AND leased_by = $2",
                )
                .bind(id)
                .bind(worker)
                .bind(DbTime(now))
                .execute(&self.pool)
                .await?;
                if released.rows_affected() == 1 {
                    return Ok(());
                }
                match self.get_job(id).await? {
                    None => Err(StoreError::not_found("job", id)),
                    Some(_) => Err(StoreError::LeaseLost { id, worker: worker.to_string() }),
                }
            }

            async fn renew_job_lease(&self, id: Uuid, worker: &str, lease: StdDuration, now: OffsetDateTime) -> StoreResult<()> {
                // A running job's lease ends at `next_at` (see lease_job); both move.
                let until = now + std_to_time(lease);
                let renewed = sqlx::query(
                    "UPDATE jobs SET lease_expires_at = $3, next_at = $3 WHERE id = $1 AND state = 'running' AND leased_by = $2",
                )
                .bind(id)
                .bind(worker)
                .bind(DbTime(until))
                .execute(&self.pool)
                .await?;
                if renewed.rows_affected() == 1 {
                    return Ok(());
                }
                match self.get_job(id).await? {
                    None => Err(StoreError::not_found("job", id)),
                    Some(_) => Err(StoreError::LeaseLost { id, worker: worker.to_string() }),
                }
            }

            async fn lease_job(
                &self,
                worker: &str,
                lease: StdDuration,
                now: OffsetDateTime,
            ) -> StoreResult<Option<Job>> {
                let mut tx = self.begin_write().await?;
                // A lease that expired on the final attempt means the job keeps killing its
                // workers: dead-letter it instead of handing it out again.
                sqlx::query(
                    "UPDATE jobs SET state = 'dead', leased_by = NULL, lease_expires_at = NULL, finished_at = $1, \
                     last_error = 'lease expired on the final attempt (worker died or timed out)' \
                     WHERE state = 'running' AND next_at <= $1 AND attempts >= max_attempts",
                )
                .bind(DbTime(now))
                .execute(&mut *tx)
                .await?;
                let expires = now + std_to_time(lease);
                let row = sqlx::query(concat!(
                    "UPDATE jobs SET state = 'running', leased_by = $1, lease_expires_at = $2, next_at = $2, \
                     attempts = attempts + 1 \
                     WHERE id = (SELECT id FROM jobs WHERE state IN ('queued', 'running') AND next_at <= $3 \
                     ORDER BY next_at, id LIMIT 1 ",
                    $lease_lock,
                    ") RETURNING id, name, payload, state, attempts, max_attempts, run_at, leased_by, \
                     lease_expires_at, last_error, created_at"
                ))
                .bind(worker)
                .bind(DbTime(expires))
                .bind(DbTime(now))
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn complete_job(&self, id: Uuid, worker: &str, now: OffsetDateTime) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE jobs SET state = 'done', leased_by = NULL, lease_expires_at = NULL, finished_at = $3, \
                     next_at = $3 WHERE id = $1 AND state = 'running' AND leased_by = $2",
                )
                .bind(id)
                .bind(worker)
                .bind(DbTime(now))
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                match self.get_job(id).await? {
                    None => Err(StoreError::not_found("job", id)),
                    Some(_) => Err(StoreError::LeaseLost { id, worker: worker.to_string() }),
                }
            }

            async fn fail_job(&self, id: Uuid, worker: &str, error: &str, now: OffsetDateTime) -> StoreResult<JobState> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "SELECT attempts, max_attempts FROM jobs WHERE id = $1 AND state = 'running' AND leased_by = $2",
                )
                .bind(id)
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    drop(tx);
                    return match self.get_job(id).await? {
                        None => Err(StoreError::not_found("job", id)),
                        Some(_) => Err(StoreError::LeaseLost { id, worker: worker.to_string() }),
                    };
                };
                let attempts: i32 = row.try_get("attempts")?;
                let max_attempts: i32 = row.try_get("max_attempts")?;
                // Bound what a failing job can make us store.
                let error: String = error.chars().take(4000).collect();
                let state = if attempts >= max_attempts {
                    sqlx::query(
                        "UPDATE jobs SET state = 'dead', leased_by = NULL, lease_expires_at = NULL, last_error = $2, \
                         finished_at = $3, next_at = $3 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&error)
                    .bind(DbTime(now))
                    .execute(&mut *tx)
                    .await?;
                    JobState::Dead
                } else {
                    let retry_at = now + std_to_time(crate::jobs::backoff(u32::try_from(attempts).unwrap_or(1)));
                    sqlx::query(
                        "UPDATE jobs SET state = 'queued', leased_by = NULL, lease_expires_at = NULL, last_error = $2, \
                         run_at = $3, next_at = $3 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&error)
                    .bind(DbTime(retry_at))
                    .execute(&mut *tx)
                    .await?;
                    JobState::Queued
                };
                tx.commit().await?;
                Ok(state)
            }

            async fn get_job(&self, id: Uuid) -> StoreResult<Option<Job>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1")))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn list_jobs(&self, state: JobState, limit: u32) -> StoreResult<Vec<Job>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE state = $1 ORDER BY created_at, id LIMIT $2"
                )))
                .bind(state.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(job_from_row).collect()
            }

            async fn job_counts(&self) -> StoreResult<JobCounts> {
                let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
                    .fetch_all(&self.pool)
                    .await?;
                let mut counts = JobCounts::default();
                for row in &rows {
                    let state: String = row.try_get("state")?;
                    let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
                    match JobState::parse(&state) {
                        Some(JobState::Queued) => counts.queued = n,
                        Some(JobState::Running) => counts.running = n,
                        Some(JobState::Done) => counts.done = n,
                        Some(JobState::Dead) => counts.dead = n,
                        None => return Err(StoreError::corrupt(format!("job state {state:?}"))),
                    }
                }
                Ok(counts)
            }

            async fn retry_dead_job(&self, id: Uuid, now: OffsetDateTime) -> StoreResult<()> {
                let r = sqlx::query(
                    "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $2, next_at = $2, finished_at = NULL \
                     WHERE id = $1 AND state = 'dead'",
                )
                .bind(id)
                .bind(DbTime(now))
                .execute(&self.pool)
                .await?;
                if r.rows_affected() == 1 {
                    Ok(())
                } else {
                    match self.get_job(id).await? {
                        None => Err(StoreError::not_found("job", id)),
                        Some(job) => Err(StoreError::Invalid(format!(
                            "job {id} is {:?}, not dead; only dead jobs can be retried",
                            job.state
                        ))),
                    }
                }
            }

            async fn prune_done_jobs(&self, before: OffsetDateTime) -> StoreResult<u64> {
                let r = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
                    .bind(DbTime(before))
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn append_log(&self, record: &LogRecord, now: OffsetDateTime) -> StoreResult<LogPosition> {
                let mut tx = self.begin_write().await?;
                let pos = append_record(&mut tx, record, now).await?;
                tx.commit().await?;
                Ok(pos)
            }

            async fn reveal_case_log(
                &self,
                case_id: Uuid,
                payload: &serde_json::Value,
                now: OffsetDateTime,
            ) -> StoreResult<Option<LogPosition>> {
                let mut tx = self.begin_write().await?;
                let pos = reveal_case(&mut tx, case_id, payload, now).await?;
                tx.commit().await?;
                Ok(pos)
            }

            async fn create_checkpoint(&self, now: OffsetDateTime) -> StoreResult<translog::Checkpoint> {
                let mut tx = self.begin_write().await?;
                // Touching the head row locks it, so no entry lands between reading and signing.
                let head = sqlx::query("UPDATE log_head SET size = size WHERE id = 1 RETURNING size, head_hash, last_ts")
                    .fetch_one(&mut *tx)
                    .await?;
                let size = seq_u64(head.try_get("size")?)?;
                let head_hash = hash32(head.try_get("head_hash")?, "log head")?;
                let last_entry: Option<DbTime> = head.try_get("last_ts")?;
                let last_cp: Option<DbTime> = sqlx::query("SELECT MAX(ts) AS ts FROM log_checkpoints")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("ts")?;
                // Checkpoint times never go backwards, whatever the replicas' clocks say.
                let mut ts = crate::dbtime::truncate(now);
                for t in [last_entry, last_cp].into_iter().flatten() {
                    if t.0 > ts {
                        ts = t.0;
                    }
                }
                let timestamp_us = crate::dbtime::to_micros(ts);
                let message = translog::format::checkpoint_message(size, &head_hash, timestamp_us);
                let signature = self.key.sign(&message).to_bytes();
                sqlx::query(
                    "INSERT INTO log_checkpoints (size, head_hash, ts, signature) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (size, ts) DO NOTHING",
                )
                .bind(seq_i64(size)?)
                .bind(head_hash.0.to_vec())
                .bind(DbTime(ts))
                .bind(signature.to_vec())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(translog::Checkpoint {
                    size,
                    head_hash,
                    timestamp_us,
                    signature: translog::SignatureBytes(signature),
                })
            }

            async fn latest_checkpoint(&self) -> StoreResult<Option<translog::Checkpoint>> {
                let row = sqlx::query(
                    "SELECT size, head_hash, ts, signature FROM log_checkpoints ORDER BY size DESC, ts DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(checkpoint_from_row).transpose()
            }

            async fn log_entries(&self, from_seq: u64, limit: u32) -> StoreResult<Vec<translog::Entry>> {
                let rows = sqlx::query(
                    "SELECT seq, prev_hash, ts, kind, case_id, body_type, payload, commitment, reveals, hash \
                     FROM log_entries WHERE seq >= $1 ORDER BY seq LIMIT $2",
                )
                .bind(seq_i64(from_seq)?)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(entry_from_row).collect()
            }

            async fn log_checkpoints(&self) -> StoreResult<Vec<translog::Checkpoint>> {
                let rows = sqlx::query("SELECT size, head_hash, ts, signature FROM log_checkpoints ORDER BY size, ts")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(checkpoint_from_row).collect()
            }

            async fn export_log(&self) -> StoreResult<translog::Export> {
                // Checkpoints first: every entry they cover is already committed, so the export
                // is consistent even while appends continue.
                let checkpoints = self.log_checkpoints().await?;
                let mut entries = Vec::new();
                loop {
                    let page = self.log_entries(entries.len() as u64, 10_000).await?;
                    if page.is_empty() {
                        break;
                    }
                    entries.extend(page);
                }
                Ok(translog::Export {
                    format: translog::EXPORT_FORMAT.to_string(),
                    public_key: hex::encode(self.key.verifying_key().as_bytes()),
                    entries,
                    checkpoints,
                })
            }

            async fn log_head(&self) -> StoreResult<(u64, Hash32)> {
                let head = sqlx::query("SELECT size, head_hash FROM log_head WHERE id = 1").fetch_one(&self.pool).await?;
                Ok((seq_u64(head.try_get("size")?)?, hash32(head.try_get("head_hash")?, "log head")?))
            }
        }
    };
}

pub(crate) use impl_store;
