//! `ForgeComment`: posts the S-Express comment on a forwarded pull request, or updates it.
//!
//! Enqueued with the case (in the same transaction, so the comment cannot be lost), after a new
//! revision, and after a publication run ([`after_publication`]). The body follows the case's
//! TLP label ([`crate::hooks::comment`]). Waits for the automated report for a few minutes
//! (retrying) so the first comment carries it; then comments without it rather than never.

use serde::{Deserialize, Serialize};
use sx_forge::PullRef;
use sx_store::{ForgeThread, NewJob, Store};
use time::OffsetDateTime;

use crate::AppState;

/// The job's registered name.
pub const NAME: &str = "forge_comment";

/// How long the first comment waits for the automated report.
const WAIT_FOR_REPORT: time::Duration = time::Duration::minutes(5);

/// The job's input: the thread (stored by the first run if not yet stored).
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// The pull request thread.
    pub thread: ForgeThread,
    /// The GitHub App installation of the delivery that led here, when known (otherwise the
    /// app asks GitHub which installation covers the repository).
    #[serde(default)]
    pub installation: Option<u64>,
}

/// The job for a thread.
#[must_use]
pub fn job(thread: &ForgeThread, installation: Option<u64>, now: OffsetDateTime) -> Option<NewJob> {
    let value = serde_json::to_value(Payload {
        thread: thread.clone(),
        installation,
    })
    .ok()?;
    Some(NewJob::now(NAME, value, now))
}

/// After a publication job ran: when the case came from a forge, update its comment.
pub async fn after_publication(state: &AppState, job: &sx_store::Job) {
    let Some(case_id) = job
        .payload
        .get("case_id")
        .and_then(|v| serde_json::from_value::<sx_domain::CaseId>(v.clone()).ok())
    else {
        return;
    };
    let thread = match state.store.get_forge_thread(case_id).await {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(case = %case_id, error = %e, "could not read the forge thread after publication");
            return;
        }
    };
    if let Some(job) = job_for_update(&thread)
        && let Err(e) = state.store.enqueue_job(&job).await
    {
        tracing::error!(case = %case_id, error = %e, "could not schedule the forge comment update");
    }
}

fn job_for_update(thread: &ForgeThread) -> Option<NewJob> {
    job(thread, None, OffsetDateTime::now_utc())
}

/// Runs the job.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    let payload: Payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("malformed {NAME} payload: {e}"))?;
    let case_id = payload.thread.case_id;
    let Some(case) = state
        .store
        .get_case(case_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Err(format!("case {case_id} is not stored"));
    };
    let mut thread = match state
        .store
        .get_forge_thread(case_id)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(stored) => stored,
        None => {
            state
                .store
                .put_forge_thread(&payload.thread)
                .await
                .map_err(|e| e.to_string())?;
            payload.thread
        }
    };
    let case = case.value;
    if case.report.is_none() && OffsetDateTime::now_utc() - case.received_at < WAIT_FOR_REPORT {
        return Err(format!(
            "case {case_id} has no automated report yet; retrying"
        ));
    }
    let kind = super::forge_forward::kind_of(&thread.forge)?;
    let pull = PullRef {
        owner: thread.owner.clone(),
        repo: thread.repo.clone(),
        number: thread.number,
    };
    let client = super::forge_forward::client(state, kind, &pull, payload.installation).await?;
    let body = crate::hooks::comment::body(
        &case,
        &state.config.public_base_url,
        thread.private,
        &state.policy,
    );
    let existing = thread.comment_id;
    let posted = tokio::task::spawn_blocking(move || match existing {
        Some(id) => client.update_comment(&pull, id, &body).map(|()| id),
        None => client.post_comment(&pull, &body),
    })
    .await
    .map_err(|e| format!("the forge client panicked: {e}"))?
    .map_err(|e| super::forge_forward::call_failed(state, kind, &e))?;
    if existing != Some(posted) {
        thread.comment_id = Some(posted);
        thread.updated_at = OffsetDateTime::now_utc();
        state
            .store
            .put_forge_thread(&thread)
            .await
            .map_err(|e| e.to_string())?;
    }
    tracing::info!(case = %case_id, forge = %kind, comment = posted, updated = existing.is_some(), "forge comment synced");
    Ok(())
}
