//! `PublishCase`: publishes a case when its publication date arrives.
//!
//! A case publishes at `max(decision, embargo end)`, and never later than its grace deadline.
//! Because the schedule lives in the durable job queue (a job with `run_at` = the date), it
//! survives restarts and runs once across replicas. A job is enqueued on receipt (for the grace
//! deadline, in case nobody decides) and again whenever a decision moves the date; extra jobs
//! are harmless: the job is idempotent, and when it runs early (an embargo moved the date) it
//! re-enqueues itself for the new date. Publishing makes the case TLP:CLEAR; the store reveals
//! its sealed log entries in the same transaction, and a new signed checkpoint follows.

use serde::{Deserialize, Serialize};
use sx_domain::{Actor, Case, CaseContext, CaseError, CaseId, CaseStatus};
use sx_store::{NewJob, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;

/// The job's registered name.
pub const NAME: &str = "publish_case";

/// The job's input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// The case to publish.
    pub case_id: CaseId,
}

/// Enqueues the publication of `case` at its current publication date (nothing for cases that
/// never publish).
///
/// # Errors
/// When the store fails.
pub async fn schedule(state: &AppState, case: &Case) -> Result<Option<Uuid>, StoreError> {
    match job(state, case) {
        Some(job) => state.store.enqueue_job(&job).await.map(Some),
        None => Ok(None),
    }
}

/// The publication job of `case` at its current publication date (`None` for cases that never
/// publish); a submission passes it to [`sx_store::Store::submit_case`].
#[must_use]
pub fn job(state: &AppState, case: &Case) -> Option<NewJob> {
    let at = case.publication_date(&state.policy)?;
    let payload = serde_json::json!({ "case_id": case.id });
    Some(NewJob {
        run_at: at,
        ..NewJob::now(NAME, payload, at)
    })
}

/// Runs the job.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    let payload: Payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("malformed {NAME} payload: {e}"))?;
    let store_err = |e: StoreError| e.to_string();
    for _ in 0..3 {
        let Some(case) = state
            .store
            .get_case(payload.case_id)
            .await
            .map_err(store_err)?
        else {
            tracing::warn!(case = %payload.case_id, "publication job for a missing case; retiring it");
            return Ok(());
        };
        if case.value.status == CaseStatus::Published {
            return Ok(());
        }
        let (project, subgroups) = super::project_and_subgroups(state, &case.value).await?;
        let now = OffsetDateTime::now_utc();
        let ctx = CaseContext {
            project: &project,
            subgroups: &subgroups,
            policy: &state.policy,
            now,
        };
        let transition = match case.value.publish(&ctx, Actor::System) {
            Ok(t) => t,
            Err(CaseError::NeverPublished) => return Ok(()),
            Err(CaseError::NotYetPublishable { publishes_at }) => {
                // The date moved later (an embargo); come back then.
                let job = NewJob {
                    run_at: publishes_at,
                    ..NewJob::now(NAME, job.payload.clone(), publishes_at)
                };
                state.store.enqueue_job(&job).await.map_err(store_err)?;
                return Ok(());
            }
            Err(e) => return Err(format!("case {} cannot publish: {e}", payload.case_id)),
        };
        match state
            .store
            .update_case(&transition.case, case.version, &transition.events, now)
            .await
        {
            Ok(_) => {
                tracing::info!(case = %payload.case_id, "case published");
                if let Err(e) = state.store.create_checkpoint(now).await {
                    tracing::error!(error = %e, "could not sign a log checkpoint after publication");
                }
                return Ok(());
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "case {} kept changing while it was being published",
        payload.case_id
    ))
}
