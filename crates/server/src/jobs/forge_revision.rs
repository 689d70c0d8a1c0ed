//! `ForgeRevision`: a forwarded pull request got new commits. Fetches the new change, re-runs
//! the analyzer, adds the revision to the case (the domain outdates every assessment of older
//! revisions and sends an assessed case back to work), tells the people on the case in a
//! comment in the case's thread (with the re-analysis, under the case's label), and updates
//! the pull request comment. Idempotent: a head already recorded is skipped.

use serde::{Deserialize, Serialize};
use sx_domain::{Actor, CaseContext, CaseError, CaseId, CaseStatus, Comment, CommentId, Revision};
use sx_forge::{NewHead, PullRef};
use sx_store::{NewJob, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;

/// The job's registered name.
pub const NAME: &str = "forge_revision";

/// The job's input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// The case.
    pub case_id: CaseId,
    /// The new head commit.
    pub head: String,
    /// The base commit, when the payload said.
    pub base: Option<String>,
    /// The GitHub App installation the delivery came through.
    #[serde(default)]
    pub installation: Option<u64>,
}

/// Enqueues a new head for a case.
///
/// # Errors
/// When the store fails.
pub async fn enqueue(
    state: &AppState,
    case_id: CaseId,
    new_head: &NewHead,
    now: OffsetDateTime,
) -> Result<Uuid, StoreError> {
    let value = serde_json::to_value(Payload {
        case_id,
        head: new_head.head.clone(),
        base: new_head.base.clone(),
        installation: new_head.repo.installation,
    })
    .map_err(|e| StoreError::Invalid(e.to_string()))?;
    state
        .store
        .enqueue_job(&NewJob::now(NAME, value, now))
        .await
}

/// Runs the job.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    let p: Payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("malformed {NAME} payload: {e}"))?;
    let store_err = |e: StoreError| e.to_string();
    let Some(mut thread) = state
        .store
        .get_forge_thread(p.case_id)
        .await
        .map_err(store_err)?
    else {
        return Err(format!("case {} has no forge thread", p.case_id));
    };
    if thread.head == p.head {
        return Ok(());
    }
    let kind = super::forge_forward::kind_of(&thread.forge)?;
    let pull = PullRef {
        owner: thread.owner.clone(),
        repo: thread.repo.clone(),
        number: thread.number,
    };
    let client = super::forge_forward::client(state, kind, &pull, p.installation).await?;
    let (info, patch) = tokio::task::spawn_blocking(move || {
        Ok::<_, sx_forge::ClientError>((client.pull(&pull)?, client.patch(&pull)?))
    })
    .await
    .map_err(|e| format!("the forge client panicked: {e}"))?
    .map_err(|e| super::forge_forward::call_failed(state, kind, &e))?;
    // The forge's current head is the truth (pushes can race); analyze what it serves.
    let head = info.head_sha.clone();
    let base = info
        .base_sha
        .clone()
        .or(p.base.clone())
        .unwrap_or_else(|| "unknown".into());
    let revision = Revision::new(&base, &head).map_err(|e| e.to_string())?;
    let worker_state = state.clone();
    let text = patch.clone();
    let (report, _paths) =
        tokio::task::spawn_blocking(move || super::analyze_case::analyze(&worker_state, &text))
            .await
            .map_err(|e| format!("the analyzer panicked: {e}"))??;
    let automated = super::analyze_case::summarise(&report)?;
    let now = OffsetDateTime::now_utc();
    let patch_ref = state
        .store
        .put_change_text(&patch, now)
        .await
        .map_err(store_err)?;
    let bot = super::forge_forward::bot_user(state).await?;

    let mut saved = None;
    for _ in 0..3 {
        let Some(case) = state.store.get_case(p.case_id).await.map_err(store_err)? else {
            return Err(format!("case {} disappeared", p.case_id));
        };
        let (project, subgroups) = super::project_and_subgroups(state, &case.value).await?;
        let ctx = CaseContext {
            project: &project,
            subgroups: &subgroups,
            policy: &state.policy,
            now,
        };
        let added = match case
            .value
            .add_revision(&ctx, Actor::System, revision.clone())
        {
            Ok(t) => t,
            Err(CaseError::SameRevision(_)) => break,
            Err(e) => {
                // Decided, closed or published cases keep their revision; the PR moved on.
                tracing::info!(case = %p.case_id, error = %e, "new commits not added to the case");
                break;
            }
        };
        let mut events = added.events;
        let mut updated = added.case;
        updated.source.patch_ref = Some(patch_ref.clone());
        // Before experts start, the new analysis replaces the report; afterwards it goes to
        // the thread below and the experts re-assess.
        if matches!(updated.status, CaseStatus::Received | CaseStatus::Triaged) {
            let attached = updated
                .attach_report(&ctx, automated.clone())
                .map_err(|e| e.to_string())?;
            events.extend(attached.events);
            updated = attached.case;
        }
        match state
            .store
            .update_case(&updated, case.version, &events, now)
            .await
        {
            Ok(_) => {
                saved = Some(updated);
                break;
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    if let Some(case) = &saved {
        let outdated = case
            .assessments
            .iter()
            .filter(|a| a.status == sx_domain::AssessmentStatus::Outdated)
            .count();
        let mut ids: Vec<&String> = automated.finding_ids.iter().collect();
        ids.dedup();
        let findings: Vec<&str> = ids.iter().take(20).map(|s| s.as_str()).collect();
        let body = format!(
            "New commits on the pull request: revision {revision}.\n\nAutomated re-analysis: band {} (risk {:.2}), findings: {}.\n\n{outdated} assessment(s) of earlier revisions are now outdated; please review the new revision.",
            automated.band,
            automated.risk.get(),
            if findings.is_empty() {
                "none".to_string()
            } else {
                findings.join(", ")
            },
        );
        let comment = Comment {
            id: CommentId::from_uuid(Uuid::now_v7()),
            case_id: case.id,
            author: bot.id,
            in_reply_to: None,
            body,
            tlp: case.tlp,
            recipients: Vec::new(),
            created_at: now,
        };
        state
            .store
            .add_comment(&comment, now)
            .await
            .map_err(store_err)?;
        tracing::info!(case = %case.id, %revision, outdated, band = %automated.band, "new revision added from the forge");
    }
    thread.head = head;
    thread.updated_at = now;
    state
        .store
        .put_forge_thread(&thread)
        .await
        .map_err(store_err)?;
    if let Some(job) = super::forge_comment::job(&thread, p.installation, now) {
        state.store.enqueue_job(&job).await.map_err(store_err)?;
    }
    Ok(())
}
