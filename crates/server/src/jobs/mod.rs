//! Background jobs: one file per job, registered in [`REGISTERED`] and dispatched by name.
//!
//! Jobs are rows in the store's durable queue. The worker leases one job at a time for
//! [`LEASE`]; if the process dies, the lease expires and another worker (on any replica) takes
//! the job over, so every job must be idempotent. A failed attempt is retried with the store's
//! backoff and dead-lettered after its attempt budget. On shutdown the worker stops leasing and
//! gives the job it holds [`SHUTDOWN_GRACE`] to finish; a job still running then is abandoned
//! and its lease released ([`sx_store::Store::release_job`]): the job is queued again at once,
//! for another replica or the next start, and the interrupted attempt does not count as a
//! failure. (Abandoning is safe because jobs are idempotent and write in transactions.)

pub mod analyze_case;
pub mod build_dataset;
pub mod forge_comment;
pub mod forge_forward;
pub mod forge_revision;
pub mod generate_reports;
pub mod notify_email;
pub mod notify_webhook;
pub mod prune_forge_deliveries;
pub mod publish_case;

use std::time::Duration;

use sx_store::{Job, Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::AppState;

/// Every registered job name.
pub const REGISTERED: &[&str] = &[
    analyze_case::NAME,
    generate_reports::NAME,
    build_dataset::NAME,
    publish_case::NAME,
    notify_email::NAME,
    notify_webhook::NAME,
    forge_forward::NAME,
    forge_revision::NAME,
    forge_comment::NAME,
    prune_forge_deliveries::NAME,
];

/// How long a worker holds a job before another may take it over.
pub const LEASE: Duration = Duration::from_secs(300);

/// How long the job in hand may still run after a shutdown signal before it is abandoned and
/// its lease released. Shorter than the usual 30 s a service manager waits before SIGKILL.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often an idle worker polls for jobs enqueued by other replicas.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How often the worker runs its housekeeping: schedule trend reports, the day's dataset
/// snapshot and the daily pruning of webhook delivery ids, sign a log checkpoint if the log
/// grew, delete expired sessions, prune finished jobs.
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
    if let Err(e) = generate_reports::schedule(state, OffsetDateTime::now_utc()).await {
        tracing::error!(error = %e, "could not schedule trend reports");
    }
    if let Err(e) = prune_forge_deliveries::schedule(state, OffsetDateTime::now_utc()).await {
        tracing::error!(error = %e, "could not schedule the pruning of webhook delivery ids");
    }
    if let Err(e) = build_dataset::schedule(state, OffsetDateTime::now_utc()).await {
        tracing::error!(error = %e, "could not schedule the open-dataset snapshot");
    }
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
        generate_reports::NAME => generate_reports::run(state, job).await,
        build_dataset::NAME => build_dataset::run(state, job).await,
        publish_case::NAME => {
            publish_case::run(state, job).await?;
            forge_comment::after_publication(state, job).await;
            Ok(())
        }
        forge_forward::NAME => forge_forward::run(state, job).await,
        forge_revision::NAME => forge_revision::run(state, job).await,
        forge_comment::NAME => forge_comment::run(state, job).await,
        notify_email::NAME => notify_email::run(state, job).await,
        notify_webhook::NAME => notify_webhook::run(state, job).await,
        prune_forge_deliveries::NAME => prune_forge_deliveries::run(state, job).await,
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
    record(state, &job, worker, &outcome, started).await?;
    Ok(Some((job, outcome)))
}

/// Stores the outcome of a finished attempt.
async fn record(
    state: &AppState,
    job: &Job,
    worker: &str,
    outcome: &Result<(), String>,
    started: std::time::Instant,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    match outcome {
        Ok(()) => {
            state.store.complete_job(job.id, worker, now).await?;
            tracing::info!(job = %job.id, name = %job.name, elapsed_ms = started.elapsed().as_millis(), "job done");
        }
        Err(error) => {
            let next = state.store.fail_job(job.id, worker, error, now).await?;
            tracing::warn!(job = %job.id, name = %job.name, attempt = job.attempts, %error, state = ?next, "job failed");
        }
    }
    Ok(())
}

/// Runs `work` to completion unless `stop` turns true; after that it gets `grace` more.
/// `None` when it was abandoned (dropped) unfinished.
pub async fn run_unless_stopped<F: std::future::Future>(
    work: F,
    stop: &mut watch::Receiver<bool>,
    grace: Duration,
) -> Option<F::Output> {
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => return Some(out),
        // A dropped sender also means "stop".
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
    tokio::time::timeout(grace, work).await.ok()
}

/// Like [`work_once`], but a shutdown (`stop` turning true) gives the job `grace` to finish
/// and then releases its lease. Returns whether a job was leased.
///
/// # Errors
/// When the store fails to lease, record the outcome or release the lease.
pub async fn work_once_until_stopped(
    state: &AppState,
    worker: &str,
    stop: &mut watch::Receiver<bool>,
    grace: Duration,
) -> Result<bool, StoreError> {
    let Some(job) = state
        .store
        .lease_job(worker, LEASE, OffsetDateTime::now_utc())
        .await?
    else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    match run_unless_stopped(dispatch(state, &job), stop, grace).await {
        Some(outcome) => record(state, &job, worker, &outcome, started).await?,
        None => {
            state
                .store
                .release_job(job.id, worker, OffsetDateTime::now_utc())
                .await?;
            tracing::warn!(
                job = %job.id,
                name = %job.name,
                grace_s = grace.as_secs(),
                "shutting down: the job did not finish in time; its lease was released and it runs again elsewhere"
            );
        }
    }
    Ok(true)
}

/// The worker loop: runs due jobs until `stop` turns true.
pub async fn run_worker(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = format!("worker-{}", uuid::Uuid::new_v4());
    tracing::info!(%worker, "job worker started");
    let mut error_backoff = Duration::from_millis(500);
    let mut last_maintenance: Option<std::time::Instant> = None;
    let mut last_notify_scan: Option<std::time::Instant> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        if last_maintenance.is_none_or(|t| t.elapsed() >= MAINTENANCE_INTERVAL) {
            last_maintenance = Some(std::time::Instant::now());
            maintenance(&state).await;
        }
        // Notifications follow the transparency log (see crate::notify).
        if last_notify_scan.is_none_or(|t| t.elapsed() >= crate::notify::SCAN_INTERVAL) {
            last_notify_scan = Some(std::time::Instant::now());
            crate::notify::scan_and_log(&state).await;
        }
        match work_once_until_stopped(&state, &worker, &mut stop, SHUTDOWN_GRACE).await {
            Ok(true) => {
                error_backoff = Duration::from_millis(500);
                continue;
            }
            Ok(false) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn work_that_finishes_before_a_stop_returns_its_output() {
        let (_tx, mut rx) = watch::channel(false);
        assert_eq!(
            run_unless_stopped(async { 7 }, &mut rx, SHORT).await,
            Some(7)
        );
    }

    #[tokio::test]
    async fn work_still_running_after_the_grace_period_is_abandoned() {
        let (tx, mut rx) = watch::channel(false);
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(SHORT).await;
            let _ = tx.send(true);
            tx
        });
        let started = std::time::Instant::now();
        let out = run_unless_stopped(std::future::pending::<()>(), &mut rx, SHORT).await;
        assert_eq!(out, None);
        let elapsed = started.elapsed();
        assert!(elapsed >= SHORT * 2, "stop + grace, got {elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        drop(stopper.await);
    }

    #[tokio::test]
    async fn work_that_finishes_within_the_grace_period_is_kept() {
        let (tx, mut rx) = watch::channel(true);
        let out = run_unless_stopped(
            async {
                tokio::time::sleep(SHORT).await;
                "done"
            },
            &mut rx,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(out, Some("done"));
        drop(tx);
    }

    #[tokio::test]
    async fn a_dropped_stop_sender_counts_as_a_stop() {
        let (tx, mut rx) = watch::channel(false);
        drop(tx);
        let out = run_unless_stopped(std::future::pending::<()>(), &mut rx, SHORT).await;
        assert_eq!(out, None);
    }
}
