//! `BuildDataset`: builds the day's open-dataset snapshot once and stores it in the database.
//!
//! Every replica's housekeeping calls [`schedule`], which enqueues this job only when today's
//! snapshot (UTC) is neither complete nor being built by a live builder. The job builds it
//! through [`crate::dataset::build`], whose claim in the store keeps a second job or replica
//! from building the same day, and renews its lease while it writes, so a long build over a
//! large instance is not taken over by another worker. A build that dies leaves a stale claim
//! that the next scheduled job takes over.

use sx_store::{NewJob, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;
use crate::dataset::{self, BuildOptions, BuildOutcome};

/// The job's registered name.
pub const NAME: &str = "build_dataset";

/// Enqueues the job unless today's snapshot is complete or being built (with a heartbeat
/// newer than [`dataset::STALE_BUILD`]). Returns whether it enqueued.
///
/// # Errors
/// When the store fails.
pub async fn schedule(state: &AppState, now: OffsetDateTime) -> Result<bool, StoreError> {
    let day = dataset::snapshot_day(now);
    if let Some(s) = state.store.get_dataset_snapshot(&day).await?
        && (s.state == sx_store::dataset::COMPLETE || s.heartbeat_at >= now - dataset::STALE_BUILD)
    {
        return Ok(false);
    }
    state
        .store
        .enqueue_job(&NewJob::now(NAME, serde_json::json!({}), now))
        .await?;
    Ok(true)
}

/// Runs the job: builds and stores today's snapshot unless it exists or is being built.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    let mut options = BuildOptions::new(format!("job:{}", job.id));
    options.lease = job.leased_by.clone().map(|worker| (job.id, worker));
    let started = std::time::Instant::now();
    match dataset::build(state, OffsetDateTime::now_utc(), &options)
        .await
        .map_err(|e| e.to_string())?
    {
        BuildOutcome::Built(s) => tracing::info!(
            records = s.snapshot.records,
            jsonl_bytes = s.snapshot.jsonl.bytes,
            csv_bytes = s.snapshot.csv.bytes,
            elapsed_ms = started.elapsed().as_millis(),
            "open-dataset snapshot built"
        ),
        BuildOutcome::AlreadyComplete => {}
        BuildOutcome::InProgress => {
            tracing::info!("another worker is building today's open-dataset snapshot");
        }
    }
    Ok(())
}
