//! Background jobs: one file per job, registered in [`REGISTERED`] and dispatched by name.
//!
//! Jobs are rows in the store's durable queue. The worker leases one job at a time for
//! [`LEASE`]; if the process dies, the lease expires and another worker (on any replica) takes
//! the job over, so every job must be idempotent. A failed attempt is retried with the store's
//! backoff and dead-lettered after its attempt budget. On shutdown the worker finishes the job
//! it holds (so no lease is left held) and stops leasing.

pub mod analyze_case;
pub mod publish_case;

use std::time::Duration;

use sx_store::{Job, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::AppState;

/// Every registered job name.
pub const REGISTERED: &[&str] = &[analyze_case::NAME, publish_case::NAME];

/// How long a worker holds a job before another may take it over.
pub const LEASE: Duration = Duration::from_secs(300);

/// How often an idle worker polls for jobs enqueued by other replicas.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How often the worker runs its housekeeping: sign a log checkpoint if the log grew, delete
/// expired sessions, prune finished jobs.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(600);

/// Finished jobs are kept this long (for operators' inspection), then deleted.
pub const KEEP_DONE_JOBS: time::Duration = time::Duration::days(7);

/// What a job needs beside a case to apply a domain command to it: its project and every
/// subgroup (routing and read-in rules look at all of them). Errors are job failure messages.
pub(crate) async fn project_and_subgroups(
    state: &AppState,
    case: &sx_domain::Case,
) -> Result<(sx_domain::Project, Vec<sx_domain::Subgroup>), String> {
    let project = state
        .store
        .get_project(case.project_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("case {} names a missing project", case.id))?
        .value;
    let subgroups = state
        .store
        .list_subgroups()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|v| v.value)
        .collect();
    Ok((project, subgroups))
}

/// Housekeeping; failures are logged and retried at the next interval.
pub async fn maintenance(state: &AppState) {
    if let Err(e) = sign_checkpoint_if_grown(state).await {
        tracing::error!(error = %e, "could not sign a log checkpoint");
    }
    let now = OffsetDateTime::now_utc();
    match state.store.delete_expired_sessions(now).await {
        Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions deleted"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not delete expired sessions"),
    }
    match state.store.prune_done_jobs(now - KEEP_DONE_JOBS).await {
        Ok(n) if n > 0 => tracing::info!(jobs = n, "finished jobs pruned"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not prune finished jobs"),
    }
}

/// Signs a checkpoint of the transparency log if it grew since the newest one; returns whether
/// one was signed. (Replicas may each sign one; checkpoints are independent statements.)
///
/// # Errors
/// When the store fails.
pub async fn sign_checkpoint_if_grown(state: &AppState) -> Result<bool, StoreError> {
    let (size, _) = state.store.log_head().await?;
    let latest = state.store.latest_checkpoint().await?;
    if size == 0 || latest.is_some_and(|c| c.size >= size) {
        return Ok(false);
    }
    state
        .store
        .create_checkpoint(OffsetDateTime::now_utc())
        .await?;
    Ok(true)
}

/// Runs one job by name. The error text is stored with the failed attempt.
async fn dispatch(state: &AppState, job: &Job) -> Result<(), String> {
    match job.name.as_str() {
        analyze_case::NAME => analyze_case::run(state, job).await,
        publish_case::NAME => publish_case::run(state, job).await,
        other => Err(format!(
            "no job named {other:?} is registered in this binary (known: {}); was it enqueued by a newer version?",
            REGISTERED.join(", ")
        )),
    }
}

/// Leases and runs at most one due job; returns it (with its outcome recorded) or `None` when
/// nothing was due.
///
/// # Errors
/// When the store fails to lease or record the outcome.
pub async fn work_once(
    state: &AppState,
    worker: &str,
) -> Result<Option<(Job, Result<(), String>)>, StoreError> {
    let Some(job) = state
        .store
        .lease_job(worker, LEASE, OffsetDateTime::now_utc())
        .await?
    else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let outcome = dispatch(state, &job).await;
    let now = OffsetDateTime::now_utc();
    match &outcome {
        Ok(()) => {
            state.store.complete_job(job.id, worker, now).await?;
            tracing::info!(job = %job.id, name = %job.name, elapsed_ms = started.elapsed().as_millis(), "job done");
        }
        Err(error) => {
            let next = state.store.fail_job(job.id, worker, error, now).await?;
            tracing::warn!(job = %job.id, name = %job.name, attempt = job.attempts, %error, state = ?next, "job failed");
        }
    }
    Ok(Some((job, outcome)))
}

/// The worker loop: runs due jobs until `stop` turns true.
pub async fn run_worker(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = format!("worker-{}", uuid::Uuid::new_v4());
    tracing::info!(%worker, "job worker started");
    let mut error_backoff = Duration::from_millis(500);
    let mut last_maintenance: Option<std::time::Instant> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        if last_maintenance.is_none_or(|t| t.elapsed() >= MAINTENANCE_INTERVAL) {
            last_maintenance = Some(std::time::Instant::now());
            maintenance(&state).await;
        }
        match work_once(&state, &worker).await {
            Ok(Some(_)) => {
                error_backoff = Duration::from_millis(500);
                continue;
            }
            Ok(None) => {
                let stopped = tokio::select! {
                    () = state.job_wakeup.notified() => false,
                    () = tokio::time::sleep(POLL_INTERVAL) => false,
                    changed = stop.changed() => changed.is_err(),
                };
                if stopped {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the job worker cannot reach the store; retrying");
                let stopped = tokio::select! {
                    () = tokio::time::sleep(error_backoff) => false,
                    changed = stop.changed() => changed.is_err(),
                };
                if stopped {
                    break;
                }
                error_backoff = (error_backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    tracing::info!(%worker, "job worker stopped");
}
