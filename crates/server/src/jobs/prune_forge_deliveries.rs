//! `PruneForgeDeliveries`: forgets webhook delivery ids older than the retention
//! (`forge_delivery_retention_days`, default 30), once a day.
//!
//! Delivery ids are kept only to refuse replays ([`crate::hooks`], step 4). The forges'
//! signatures carry no timestamp, so a captured delivery stays valid as long as the secret
//! does; its id catches an exact replay for the retention period, and the table stops growing.
//! (A replay after that is still harmless for forwarding: a pull request already forwarded is
//! not forwarded again.)
//!
//! Every replica's housekeeping calls [`schedule`], which enqueues the job for the next
//! [`RUN_AT_UTC`] unless one is already queued; the job deletes with one `DELETE … WHERE
//! received_at < cutoff`, so a duplicate (two replicas racing) or a retry does no harm.

use sx_store::{JobState, NewJob, Store, StoreError};
use time::{OffsetDateTime, Time};

use crate::AppState;

/// The job's registered name.
pub const NAME: &str = "prune_forge_deliveries";

/// When the daily run is due (a quiet hour, UTC).
pub const RUN_AT_UTC: Time = time::macros::time!(03:30);

/// How many queued jobs [`schedule`] looks through for one of its own. A longer backlog may
/// get a duplicate job, which is harmless.
const QUEUE_SCAN: u32 = 500;

/// The next daily run after `now`.
#[must_use]
pub fn next_run(now: OffsetDateTime) -> OffsetDateTime {
    let today = now.replace_time(RUN_AT_UTC);
    if today > now {
        today
    } else {
        today + time::Duration::days(1)
    }
}

/// Enqueues the next daily run unless one is queued. Returns whether it enqueued.
///
/// # Errors
/// When the store fails.
pub async fn schedule(state: &AppState, now: OffsetDateTime) -> Result<bool, StoreError> {
    let queued = state.store.list_jobs(JobState::Queued, QUEUE_SCAN).await?;
    if queued.iter().any(|j| j.name == NAME) {
        return Ok(false);
    }
    let mut job = NewJob::now(NAME, serde_json::json!({}), now);
    job.run_at = next_run(now);
    state.store.enqueue_job(&job).await?;
    Ok(true)
}

/// Runs the job: deletes the delivery ids received before now minus the retention.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, _job: &sx_store::Job) -> Result<(), String> {
    let cutoff = OffsetDateTime::now_utc() - state.config.forges.delivery_retention;
    let pruned = state
        .store
        .prune_forge_deliveries(cutoff)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(pruned, %cutoff, "old webhook delivery ids forgotten");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_next_run_is_the_next_half_past_three_utc() {
        assert_eq!(
            next_run(datetime!(2026-03-01 01:00 UTC)),
            datetime!(2026-03-01 03:30 UTC)
        );
        assert_eq!(
            next_run(datetime!(2026-03-01 03:30 UTC)),
            datetime!(2026-03-02 03:30 UTC)
        );
        assert_eq!(
            next_run(datetime!(2026-12-31 23:59 UTC)),
            datetime!(2027-01-01 03:30 UTC)
        );
    }
}
