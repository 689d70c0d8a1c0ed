//! `GenerateReports`: stores each weekly and monthly trend report once, after its period ends.
//!
//! Every replica's housekeeping calls [`schedule`], which enqueues this job only when the
//! latest complete week or month has no stored report. The job generates what is missing and
//! stores it with an insert that keeps the first report of a period and ignores later ones
//! (`Store::save_report`), so replicas racing on a period boundary still leave exactly one
//! report, and a retried job never regenerates a stored one.

use sx_store::{NewJob, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;
use crate::reports::period::{self, Period};

/// The job's registered name.
pub const NAME: &str = "generate_reports";

/// Enqueues the job if the latest complete week or month has no stored report. Returns
/// whether it enqueued.
///
/// # Errors
/// When the store fails.
pub async fn schedule(state: &AppState, now: OffsetDateTime) -> Result<bool, StoreError> {
    for p in Period::ALL {
        let range = p.latest_complete(now);
        let stored = state
            .store
            .get_report(p.as_str(), &period::format_date(range.start))
            .await?;
        if stored.is_none() {
            state
                .store
                .enqueue_job(&NewJob::now(NAME, serde_json::json!({}), now))
                .await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Runs the job: generates and stores the latest complete week and month if missing.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, _job: &sx_store::Job) -> Result<(), String> {
    let now = OffsetDateTime::now_utc();
    for p in Period::ALL {
        let range = p.latest_complete(now);
        if crate::reports::generate_and_store(state, &range, now).await? {
            tracing::info!(report = %range.slug(), "trend report generated");
        }
    }
    Ok(())
}
