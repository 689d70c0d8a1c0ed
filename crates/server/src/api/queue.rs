//! The expert queue: `GET /api/v1/queue`.
//!
//! The store selects open cases routed to the expert's subgroups (including assessed cases
//! waiting for a second review), without conflicted ones, earliest SLA deadline first. Each row
//! is checked again here against the domain's eligibility and `may_view` (defence in depth: a
//! query bug must not leak a case), and the domain's queue rule says why the expert has
//! something to do on it (`your-claim`, `second-review`, `unclaimed`); rows where they have
//! nothing to do are left out.

use std::collections::HashMap;

use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sx_domain::{
    CaseId, CaseStatus, Project, ProjectId, QueueReason, RiskBand, Role, SubgroupId, TlpLabel,
};
use sx_store::{QueueCursor, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::require_role;
use crate::api::views::ProjectView;
use crate::auth::Caller;
use crate::error::{ApiError, Json, Query};

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;

/// Query of `GET /api/v1/queue`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Page size (1–200, default 50).
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// One queue row.
#[derive(Debug, Serialize)]
pub struct QueueItemView {
    /// The case.
    pub case_id: CaseId,
    /// The change's title (absent when the change had none, such as a plain diff).
    pub title: Option<String>,
    /// Its project.
    pub project: ProjectView,
    /// Status.
    pub status: CaseStatus,
    /// Why it is in the queue: `your-claim`, `second-review` or `unclaimed`.
    pub reason: QueueReason,
    /// Label.
    pub tlp: TlpLabel,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// First human assessment due.
    #[serde(with = "time::serde::rfc3339")]
    pub sla_due: OffsetDateTime,
    /// The analyzer's band.
    pub risk_band: Option<RiskBand>,
    /// Routed subgroups.
    pub subgroups: Vec<SubgroupId>,
    /// The maintainer's suspicion, 1–5.
    pub suspicion: u8,
}

/// A page of the queue.
#[derive(Debug, Serialize)]
pub struct QueuePage {
    /// Rows, earliest deadline first.
    pub items: Vec<QueueItemView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

fn decode_cursor(text: &str) -> Result<QueueCursor, ApiError> {
    let bad = || ApiError::invalid("`after` is not a cursor from a previous queue page");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

fn encode_cursor(cursor: &QueueCursor) -> Result<String, ApiError> {
    serde_json::to_vec(cursor)
        .map(|b| URL_SAFE_NO_PAD.encode(b))
        .map_err(ApiError::internal)
}

/// `GET /api/v1/queue`: the caller's expert queue.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<QueuePage>, ApiError> {
    let user = caller.user();
    require_role(user, Role::Expert)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after = q
        .after
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let rows = state.store.expert_queue(user, after, limit).await?;
    let next = if rows.len() == limit as usize {
        rows.last()
            .map(|r| encode_cursor(&r.cursor()))
            .transpose()?
    } else {
        None
    };
    let subgroups: Vec<_> = state
        .store
        .list_subgroups()
        .await?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let now = OffsetDateTime::now_utc();
    let mut projects: HashMap<ProjectId, Project> = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let case = &row.case.value;
        let project = match projects.entry(case.project_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let Some(p) = state.store.get_project(case.project_id).await? else {
                    tracing::error!(case = %case.id, "queued case names a missing project");
                    continue;
                };
                e.insert(p.value)
            }
        };
        let project = &*project;
        let viewer = case.viewer(user, project, &subgroups);
        if !case.is_eligible(project, user) || !sx_domain::may_view(&viewer, &case.tlp_object()) {
            tracing::warn!(case = %case.id, user = %user.id, "the store queued a case the expert may not see; skipped");
            continue;
        }
        let cases = std::slice::from_ref(case);
        let entry = sx_domain::expert_queue(
            cases,
            std::slice::from_ref(project),
            &subgroups,
            user,
            &state.policy,
            now,
        );
        let Some(reason) = entry.first().map(|e| e.reason) else {
            // Open and routed, but nothing for this expert to do (claimed by others, or a
            // second review of their own assessment).
            continue;
        };
        items.push(QueueItemView {
            case_id: case.id,
            title: case.source.title.clone(),
            project: project.into(),
            status: case.status,
            reason,
            tlp: case.tlp,
            received_at: case.received_at,
            sla_due: row.sla_due,
            risk_band: case.report.as_ref().map(|r| r.band),
            subgroups: case.subgroups.clone(),
            suspicion: case.concern.suspicion.get(),
        });
    }
    Ok(Json(QueuePage { items, next }))
}
