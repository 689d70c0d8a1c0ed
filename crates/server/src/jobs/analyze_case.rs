//! `AnalyzeCase`: runs the analyzer on a received change, attaches the automated report and
//! routes the case to subgroups (automated triage).
//!
//! The payload names the case; the change text is read from the store by the case's
//! `patch_ref` (stored in the same transaction as the case and this job), so any replica can
//! run it. Jobs enqueued by older versions carry the text in the payload and still run.
//! Idempotent: a case that already has a report is left alone. Routing uses the
//! domain's `route` on the touched paths and the findings' tags; when nothing matches, a
//! subgroup with the slug [`FALLBACK_SUBGROUP`] takes the case if one exists, otherwise the
//! case stays `received` (report attached) for a coordinator to triage.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sx_analyzer::Report;
use sx_domain::{
    Actor, AutomatedReport, CaseContext, CaseId, CaseStatus, RiskBand, RiskProbability, Subgroup,
    TriageOutcome,
};
use sx_store::{NewJob, Store, StoreError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;

/// The job's registered name.
pub const NAME: &str = "analyze_case";

/// Slug of the subgroup that takes cases no other subgroup matches.
pub const FALLBACK_SUBGROUP: &str = "general";

/// A job whose case never appeared (its submission failed after enqueueing) retires after this.
const ORPHAN_AFTER: time::Duration = time::Duration::minutes(10);

/// The job's input.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// The case to analyze.
    pub case_id: CaseId,
    /// The change text, in jobs enqueued before change texts moved into the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// The analysis job of a case, due now; pass it to [`sx_store::Store::submit_case`] so it is
/// committed with the case.
#[must_use]
pub fn job(case_id: CaseId, now: OffsetDateTime) -> NewJob {
    NewJob::now(NAME, serde_json::json!({ "case_id": case_id }), now)
}

/// Enqueues the analysis of a stored case's change again (e.g. after the rules changed).
///
/// # Errors
/// When the store fails.
pub async fn enqueue(
    state: &AppState,
    case_id: CaseId,
    now: OffsetDateTime,
) -> Result<Uuid, StoreError> {
    state.store.enqueue_job(&job(case_id, now)).await
}

/// The analyzer's report summarised for the domain, plus the touched paths for routing.
pub(crate) fn summarise(report: &Report) -> Result<AutomatedReport, String> {
    let band = match report.risk.band {
        sx_analyzer::Band::Low => RiskBand::Low,
        sx_analyzer::Band::Review => RiskBand::Review,
        sx_analyzer::Band::High => RiskBand::High,
    };
    let risk = RiskProbability::new(report.risk.probability).map_err(|e| e.to_string())?;
    // The domain bounds these lists (ids repeat per finding; tags are distinct): keep the
    // highest-scored findings' entries, which come first.
    let finding_ids: Vec<String> = report
        .findings
        .iter()
        .map(|f| f.id.clone())
        .take(sx_domain::MAX_TAGS * 16)
        .collect();
    let mut seen = BTreeSet::new();
    let mut tags = Vec::new();
    for f in &report.findings {
        let vectors = f.tags.iter().map(|v| v.as_str().to_string());
        let languages = f.languages.iter().map(|l| format!("lang:{l}"));
        for tag in vectors.chain(languages) {
            if tags.len() < sx_domain::MAX_TAGS
                && tag.len() <= sx_domain::MAX_TAG_LEN
                && seen.insert(tag.clone())
            {
                tags.push(tag);
            }
        }
    }
    let full = serde_json::to_value(report)
        .map_err(|e| format!("the report could not be serialized: {e}"))?;
    Ok(AutomatedReport {
        risk,
        band,
        finding_ids,
        tags,
        full,
    })
}

/// Parses and analyzes the change (CPU-bound: call on the blocking pool).
pub(crate) fn analyze(state: &AppState, change: &str) -> Result<(Report, Vec<String>), String> {
    let limits = sx_analyzer::diff::Limits {
        max_input_bytes: state.config.max_change_bytes,
        ..Default::default()
    };
    let parsed = sx_analyzer::diff::parse(change.as_bytes(), &limits)
        .map_err(|e| format!("unreadable change: {e}"))?;
    let paths = parsed.files.iter().map(|f| f.path().to_string()).collect();
    Ok((state.analyzer.analyze(&parsed), paths))
}

/// Picks subgroups for the case: the domain's routing, else the fallback subgroup.
fn pick_subgroups(
    paths: &[String],
    tags: &[String],
    subgroups: &[Subgroup],
) -> Vec<sx_domain::SubgroupId> {
    let routed = sx_domain::route(paths, tags, subgroups);
    if !routed.is_empty() {
        return routed;
    }
    subgroups
        .iter()
        .filter(|s| s.slug == FALLBACK_SUBGROUP)
        .map(|s| s.id)
        .collect()
}

/// Runs the job.
///
/// # Errors
/// A message stored with the failed attempt (the job is retried).
pub async fn run(state: &AppState, job: &sx_store::Job) -> Result<(), String> {
    let payload: Payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("malformed {NAME} payload: {e}"))?;
    let store_err = |e: StoreError| e.to_string();
    let Some(case) = state
        .store
        .get_case(payload.case_id)
        .await
        .map_err(store_err)?
    else {
        if OffsetDateTime::now_utc() - job.created_at > ORPHAN_AFTER {
            tracing::warn!(case = %payload.case_id, "analysis job for a case that was never stored; retiring it");
            return Ok(());
        }
        return Err(format!("case {} is not stored yet", payload.case_id));
    };
    if case.value.report.is_some() {
        return Ok(());
    }
    let change = match payload.change {
        Some(text) => text,
        None => {
            let reference =
                case.value.source.patch_ref.as_deref().ok_or_else(|| {
                    format!("case {} has no change text to analyze", payload.case_id)
                })?;
            state
                .store
                .get_change_text(reference)
                .await
                .map_err(store_err)?
                .ok_or_else(|| {
                    format!(
                        "the change text {reference} of case {} is not in the database",
                        payload.case_id
                    )
                })?
        }
    };
    let worker_state = state.clone();
    let (report, paths) = tokio::task::spawn_blocking(move || analyze(&worker_state, &change))
        .await
        .map_err(|e| format!("the analyzer panicked: {e}"))??;
    let automated = summarise(&report)?;

    for _ in 0..3 {
        let Some(case) = state
            .store
            .get_case(payload.case_id)
            .await
            .map_err(store_err)?
        else {
            return Err(format!("case {} disappeared", payload.case_id));
        };
        if case.value.report.is_some() {
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
        let attached = case
            .value
            .attach_report(&ctx, automated.clone())
            .map_err(|e| e.to_string())?;
        let mut events = attached.events;
        let mut updated = attached.case;
        let routed = pick_subgroups(&paths, &automated.tags, &subgroups);
        if updated.status == CaseStatus::Received && !routed.is_empty() {
            let slugs: Vec<&str> = routed
                .iter()
                .filter_map(|id| subgroups.iter().find(|s| s.id == *id))
                .map(|s| s.slug.as_str())
                .collect();
            let reason = format!(
                "routed automatically to {} from the analyzer's findings and the touched files",
                slugs.join(", ")
            );
            let triaged = updated
                .triage(
                    &ctx,
                    Actor::System,
                    TriageOutcome::NeedsExpert,
                    &reason,
                    &routed,
                )
                .map_err(|e| e.to_string())?;
            events.extend(triaged.events);
            updated = triaged.case;
        } else if routed.is_empty() {
            tracing::warn!(case = %payload.case_id, "no subgroup matches the case; a coordinator must triage it");
        }
        match state
            .store
            .update_case(&updated, case.version, &events, now)
            .await
        {
            Ok(_) => {
                tracing::info!(
                    case = %payload.case_id,
                    band = %automated.band,
                    findings = report.findings.len(),
                    subgroups = updated.subgroups.len(),
                    "automated report attached"
                );
                return Ok(());
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "case {} kept changing while the report was attached",
        payload.case_id
    ))
}
