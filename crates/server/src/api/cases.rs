//! Cases: submit, read, claim, assess, decide.
//!
//! Reading goes through the domain's `may_view`: a viewer who may not see a case gets the same
//! 404 as for a case that does not exist. Every command loads the case, applies the domain
//! command and saves with the version it read; if another request saved in between, the
//! command is re-applied to the fresh case (a few times) before giving up with 409.

use std::time::Instant;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sx_domain::{
    AssessmentBody, AssessmentId, Case, CaseContext, CaseError, CaseId, ChangeSource, Concern,
    DecisionOutcome, Forge, NewCase, Project, ProjectId, Revision, Role, SecondReviewId, Subgroup,
    SuspicionLevel, Transition, User, Viewer,
};
use sx_store::{Store, StoreError, Versioned};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::accounts::require_role;
use crate::api::views::CaseView;
use crate::auth::{Caller, ClientIp, MaybeCaller};
use crate::error::{ApiError, ErrorCode, Json, Path};
use crate::jobs;

/// How often a command is re-applied after a concurrent update.
const MAX_ATTEMPTS: usize = 3;

/// The project a change targets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRef {
    /// Forge.
    pub forge: Forge,
    /// Forge host; defaults to the forge's public host (github.com, gitlab.com, codeberg.org, gitea.com).
    pub host: Option<String>,
    /// Owner (user or organization).
    pub owner: String,
    /// Repository name.
    pub name: String,
}

impl From<sx_domain::ProjectSpec> for ProjectRef {
    fn from(p: sx_domain::ProjectSpec) -> Self {
        ProjectRef {
            forge: p.forge,
            host: p.host,
            owner: p.owner,
            name: p.name,
        }
    }
}

/// Input of `POST /api/v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// The project.
    pub project: ProjectRef,
    /// The change: a unified diff, `git format-patch` output or an mbox.
    pub diff: String,
    /// What looks dodgy.
    #[serde(default)]
    pub concern: String,
    /// How suspicious, 1–5.
    pub suspicion: u8,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The pull request URL, if any (recorded, never fetched).
    pub pull_request_url: Option<String>,
    /// The change author's forge handle (for conflict-of-interest checks).
    pub author: Option<String>,
    /// The change's title.
    pub title: Option<String>,
    /// `base..head`, if known.
    pub revision: Option<String>,
}

/// Answer of `POST /api/v1/cases`: sent only after the case is durably stored.
#[derive(Debug, Serialize)]
pub struct CreatedCase {
    /// The new case's id.
    pub id: CaseId,
    /// `received`: the analyzer runs next.
    pub status: sx_domain::CaseStatus,
    /// Where to read it.
    pub url: String,
}

fn check_name(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !value.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{field} must be 1-100 characters of letters, digits, '-', '_' and '.'"
        )))
    }
}

fn check_host(host: &str) -> Result<(), ApiError> {
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "project.host must be a host name such as github.com",
        ))
    }
}

/// Finds the project, or registers it with the submitter as its first maintainer.
pub(crate) async fn project_for(
    state: &AppState,
    r: &ProjectRef,
    user: &User,
    now: OffsetDateTime,
) -> Result<Project, ApiError> {
    check_name("project.owner", &r.owner)?;
    check_name("project.name", &r.name)?;
    let host = r
        .host
        .as_deref()
        .unwrap_or(r.forge.default_host())
        .to_ascii_lowercase();
    check_host(&host)?;
    if let Some(found) = state
        .store
        .find_project(r.forge, &host, &r.owner, &r.name)
        .await?
    {
        return Ok(found.value);
    }
    let project = Project {
        id: ProjectId::from_uuid(Uuid::now_v7()),
        forge: r.forge,
        host: host.clone(),
        owner: r.owner.clone(),
        name: r.name.clone(),
        maintainers: vec![user.id],
        created_at: now,
    };
    match state.store.create_project(&project).await {
        Ok(()) => {
            tracing::info!(project = %project.full_name(), user = %user.id, "project registered");
            Ok(project)
        }
        // Registered concurrently by someone else: use theirs.
        Err(StoreError::Duplicate { .. }) => state
            .store
            .find_project(r.forge, &host, &r.owner, &r.name)
            .await?
            .map(|v| v.value)
            .ok_or_else(|| ApiError::internal("project vanished after a duplicate insert")),
        Err(e) => Err(e.into()),
    }
}

/// The title a parsed change suggests: a series' cover letter, or else the subject line of its
/// only commit (a single `git format-patch` mail or commit). A plain diff, or a series of
/// several commits without a cover letter, has none.
fn suggested_title(change: &sx_analyzer::Change) -> Option<String> {
    change
        .title
        .clone()
        .or_else(|| match change.commits.as_slice() {
            [only] => only
                .message
                .lines()
                .next()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            _ => None,
        })
}

/// Parses the change text on the blocking pool, so a malformed change is refused before it is
/// stored. Returns the title it suggests ([`suggested_title`]).
async fn check_change(state: &AppState, diff: String) -> Result<Option<String>, ApiError> {
    let limits = sx_analyzer::diff::Limits {
        max_input_bytes: state.config.max_change_bytes,
        ..Default::default()
    };
    let parsed = tokio::task::spawn_blocking(move || {
        sx_analyzer::diff::parse(diff.as_bytes(), &limits).map(|c| suggested_title(&c))
    })
    .await
    .map_err(ApiError::internal)?;
    parsed.map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidChange,
            format!("the change could not be read: {e}"),
        )
    })
}

/// `POST /api/v1/cases`: forwards a change. Answers 201 only once the case and its analysis
/// job are committed.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Json(req): Json<CreateCase>,
) -> Result<Response, ApiError> {
    let user = caller.user().clone();
    require_role(&user, Role::Maintainer)?;
    state
        .submit_limiter
        .check(
            &[format!("ip:{ip}"), format!("account:{}", user.id)],
            Instant::now(),
        )
        .map_err(ApiError::rate_limited)?;
    if req.diff.len() > state.config.max_change_bytes {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the change is {} bytes, over this instance's {}-byte maximum change size; split it into smaller patches",
                req.diff.len(),
                state.config.max_change_bytes
            ),
        ));
    }
    if req.diff.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidChange,
            "the change is empty; send a diff, patch or mbox",
        ));
    }
    if let Some(url) = &req.pull_request_url
        && !url.starts_with("https://")
    {
        return Err(ApiError::invalid(
            "pull_request_url must be an https:// URL",
        ));
    }
    let suspicion =
        SuspicionLevel::new(req.suspicion).map_err(|e| ApiError::invalid(e.to_string()))?;
    let now = OffsetDateTime::now_utc();
    let project = project_for(&state, &req.project, &user, now).await?;
    let submission = Submission {
        diff: req.diff,
        concern: req.concern,
        suspicion,
        tags: req.tags,
        pull_request_url: req.pull_request_url,
        author: req.author,
        title: req.title,
        revision: req.revision,
    };
    let case = receive_change(&state, &user, &project, submission, |_| Vec::new()).await?;
    let case_id = case.id;
    let url = format!("{}/api/v1/cases/{case_id}", state.config.public_base_url);
    let body = CreatedCase {
        id: case_id,
        status: case.status,
        url: url.clone(),
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, url)], Json(body)).into_response())
}

/// A change to forward, checked for size by the caller.
#[derive(Debug)]
pub struct Submission {
    /// The change text.
    pub diff: String,
    /// What looks dodgy.
    pub concern: String,
    /// How suspicious.
    pub suspicion: SuspicionLevel,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// The pull request URL (recorded, never fetched).
    pub pull_request_url: Option<String>,
    /// The change author's forge handle.
    pub author: Option<String>,
    /// The change's title.
    pub title: Option<String>,
    /// `base..head`, if known.
    pub revision: Option<String>,
}

/// Receives a change for `project` from `user` (a maintainer of it): parses it, creates the
/// case and commits it with its change text, its analysis and publication jobs and the jobs
/// `extra_jobs` returns for the new case id, in one transaction. Shared by the API and the
/// forge webhooks.
///
/// # Errors
/// When the change cannot be read, an input is invalid, or the store fails.
pub async fn receive_change(
    state: &AppState,
    user: &User,
    project: &Project,
    sub: Submission,
    extra_jobs: impl FnOnce(CaseId) -> Vec<sx_store::NewJob>,
) -> Result<Case, ApiError> {
    let req = sub;
    let parsed_title = check_change(state, req.diff.clone()).await?;
    let now = OffsetDateTime::now_utc();

    // The change text is stored with the case, in the same transaction (below).
    let reference = sx_store::changes::patch_ref(&req.diff);
    let digest = reference.trim_start_matches("sha256:").to_string();
    let revision = match &req.revision {
        Some(r) => r
            .parse::<Revision>()
            .map_err(|e| ApiError::invalid(e.to_string()))?,
        None => Revision::new("unknown", &format!("patch-sha256-{}", &digest[..16]))
            .map_err(|e| ApiError::internal(format!("derived revision refused: {e}")))?,
    };
    let new = NewCase {
        id: CaseId::from_uuid(Uuid::now_v7()),
        source: ChangeSource {
            pull_request_url: req.pull_request_url,
            patch_ref: Some(reference),
            author: req.author,
            title: req
                .title
                .or(parsed_title)
                .map(|t| t.chars().take(500).collect()),
        },
        revision,
        concern: Concern {
            text: req.concern,
            suspicion: req.suspicion,
            tags: req.tags,
        },
        report: None,
    };
    let subgroups = list_subgroups(state).await?;
    let ctx = CaseContext {
        project,
        subgroups: &subgroups,
        policy: &state.policy,
        now,
    };
    let transition = Case::receive(&ctx, user, new)?;
    let case_id = transition.case.id;
    // One transaction: the change text, the case, its analysis job and its publication job
    // (the grace deadline) are committed together or not at all, on any replica.
    let mut first_jobs = vec![jobs::analyze_case::job(case_id, now)];
    first_jobs.extend(jobs::publish_case::job(state, &transition.case));
    first_jobs.extend(extra_jobs(case_id));
    state
        .store
        .submit_case(
            &transition.case,
            &transition.events,
            Some(&req.diff),
            &first_jobs,
            now,
        )
        .await?;
    state.job_wakeup.notify_one();
    tracing::info!(case = %case_id, user = %user.id, project = %project.full_name(), "case received");
    Ok(transition.case)
}

async fn list_subgroups(state: &AppState) -> Result<Vec<Subgroup>, ApiError> {
    Ok(state
        .store
        .list_subgroups()
        .await?
        .into_iter()
        .map(|v| v.value)
        .collect())
}

/// A case loaded for a viewer who may see it.
#[derive(Debug)]
pub struct Visible {
    /// The case with its version.
    pub case: Versioned<Case>,
    /// Its project.
    pub project: Project,
    /// Every subgroup (membership decides relations).
    pub subgroups: Vec<Subgroup>,
    /// The viewer.
    pub viewer: Viewer,
}

/// Loads a case if `user` may see it; 404 otherwise (whether or not it exists).
pub async fn load_visible(
    state: &AppState,
    user: Option<&User>,
    id: CaseId,
) -> Result<Visible, ApiError> {
    let not_found = || ApiError::not_found("case");
    let case = state.store.get_case(id).await?.ok_or_else(not_found)?;
    let project = state
        .store
        .get_project(case.value.project_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("case {id} names a missing project")))?
        .value;
    let subgroups = list_subgroups(state).await?;
    let viewer = match user {
        Some(u) => case.value.viewer(u, &project, &subgroups),
        None => Viewer::Anonymous,
    };
    if !sx_domain::may_view(&viewer, &case.value.tlp_object()) {
        return Err(not_found());
    }
    Ok(Visible {
        case,
        project,
        subgroups,
        viewer,
    })
}

async fn respond(state: &AppState, v: &Visible, status: StatusCode) -> Result<Response, ApiError> {
    let timeline = state.store.list_case_events(v.case.value.id).await?;
    let view = CaseView::build(
        &v.case.value,
        &v.project,
        &v.subgroups,
        &v.viewer,
        &state.policy,
        timeline,
        OffsetDateTime::now_utc(),
    );
    Ok((status, Json(view)).into_response())
}

/// `GET /api/v1/cases/{id}`.
pub async fn get(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<CaseId>,
) -> Result<Response, ApiError> {
    let visible = load_visible(&state, caller.as_ref().map(Caller::user), id).await?;
    respond(&state, &visible, StatusCode::OK).await
}

/// Applies a domain command for `caller` and saves it, retrying on concurrent updates.
pub async fn mutate_case<F>(
    state: &AppState,
    caller: &Caller,
    id: CaseId,
    command: F,
) -> Result<Visible, ApiError>
where
    F: Fn(&Case, &CaseContext<'_>, &User) -> Result<Transition, CaseError>,
{
    let user = caller.user();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let visible = load_visible(state, Some(user), id).await?;
        let now = OffsetDateTime::now_utc();
        let ctx = CaseContext {
            project: &visible.project,
            subgroups: &visible.subgroups,
            policy: &state.policy,
            now,
        };
        let transition = command(&visible.case.value, &ctx, user)?;
        match state
            .store
            .update_case(
                &transition.case,
                visible.case.version,
                &transition.events,
                now,
            )
            .await
        {
            Ok(version) => {
                let viewer = transition
                    .case
                    .viewer(user, &visible.project, &visible.subgroups);
                for event in &transition.events {
                    tracing::info!(case = %id, user = %user.id, event = event.kind(), "case changed");
                }
                return Ok(Visible {
                    case: Versioned {
                        value: transition.case,
                        version,
                    },
                    project: visible.project,
                    subgroups: visible.subgroups,
                    viewer,
                });
            }
            Err(StoreError::Conflict { .. }) if attempt < MAX_ATTEMPTS => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `POST /api/v1/cases/{id}/claim`: an eligible expert claims the case.
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
) -> Result<Response, ApiError> {
    require_role(caller.user(), Role::Expert)?;
    let v = mutate_case(&state, &caller, id, |case, ctx, user| case.claim(ctx, user)).await?;
    respond(&state, &v, StatusCode::OK).await
}

/// `POST /api/v1/cases/{id}/unclaim`: the claiming expert releases the case before assessing
/// it; with no claim left it returns to the subgroup's queue.
pub async fn unclaim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
) -> Result<Response, ApiError> {
    require_role(caller.user(), Role::Expert)?;
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.unclaim(ctx, user)
    })
    .await?;
    respond(&state, &v, StatusCode::OK).await
}

/// `POST /api/v1/cases/{id}/assessments`: the claiming expert submits an assessment of the
/// current revision (a malicious verdict automatically asks for a second review).
pub async fn assess(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
    Json(body): Json<AssessmentBody>,
) -> Result<Response, ApiError> {
    require_role(caller.user(), Role::Expert)?;
    let assessment_id = AssessmentId::from_uuid(Uuid::now_v7());
    let review_id = SecondReviewId::from_uuid(Uuid::now_v7());
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.submit_assessment(ctx, user, assessment_id, review_id, body.clone())
    })
    .await?;
    respond(&state, &v, StatusCode::CREATED).await
}

/// Input of `POST /api/v1/cases/{id}/decision`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// `merged`, `rejected`, `changes-requested`, `reported-to-forge` or `other`.
    pub outcome: DecisionOutcome,
    /// A note (required for `other`).
    #[serde(default)]
    pub note: String,
}

/// `POST /api/v1/cases/{id}/decision`: the maintainer records what they decided.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
    Json(req): Json<DecideRequest>,
) -> Result<Response, ApiError> {
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.decide(ctx, user, req.outcome, &req.note)
    })
    .await?;
    // Deciding sets the publication date (or brings it forward): schedule it.
    jobs::publish_case::schedule(&state, &v.case.value).await?;
    state.job_wakeup.notify_one();
    respond(&state, &v, StatusCode::OK).await
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedQuery {
    /// Only cases with this effective verdict.
    pub verdict: Option<sx_domain::Verdict>,
    /// Page size (1–200, default 50).
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub before: Option<String>,
}

/// One published case in the public list.
#[derive(Debug, Serialize)]
pub struct PublishedItem {
    /// The case.
    pub id: CaseId,
    /// Its project.
    pub project: crate::api::views::ProjectView,
    /// Publication time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// The verdict as it stands.
    pub effective_verdict: Option<sx_domain::EffectiveVerdict>,
    /// The maintainer's decision.
    pub decision: Option<DecisionOutcome>,
    /// The analyzer's band.
    pub risk_band: Option<sx_domain::RiskBand>,
}

/// A page of published cases.
#[derive(Debug, Serialize)]
pub struct PublishedPage {
    /// Newest first.
    pub items: Vec<PublishedItem>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// `GET /api/v1/cases`: published cases, newest first, for everyone.
pub async fn list_published(
    State(state): State<AppState>,
    crate::error::Query(q): crate::error::Query<PublishedQuery>,
) -> Result<Json<PublishedPage>, ApiError> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 200"));
    }
    let before = match q.before.as_deref().filter(|b| !b.is_empty()) {
        Some(text) => Some(
            URL_SAFE_NO_PAD
                .decode(text)
                .ok()
                .and_then(|b| serde_json::from_slice::<sx_store::PublishedCursor>(&b).ok())
                .ok_or_else(|| {
                    ApiError::invalid("`before` is not a cursor from a previous page")
                })?,
        ),
        None => None,
    };
    let filter = sx_store::PublishedFilter {
        verdict: q.verdict,
        before,
        limit,
        ..Default::default()
    };
    let cases = state.store.list_published(&filter).await?;
    let next = match cases.last() {
        Some(last) if cases.len() == limit as usize => match last.value.published_at {
            Some(published_at) => Some(
                serde_json::to_vec(&sx_store::PublishedCursor {
                    published_at,
                    case_id: last.value.id,
                })
                .map(|b| URL_SAFE_NO_PAD.encode(b))
                .map_err(ApiError::internal)?,
            ),
            None => None,
        },
        _ => None,
    };
    let mut items = Vec::with_capacity(cases.len());
    for case in cases {
        let case = case.value;
        // Defence in depth: the list is public, so every row must pass the public TLP check.
        if !sx_domain::may_view(&Viewer::Anonymous, &case.tlp_object()) {
            tracing::error!(case = %case.id, "the store listed an unpublished case as published; skipped");
            continue;
        }
        let Some(project) = state.store.get_project(case.project_id).await? else {
            continue;
        };
        items.push(PublishedItem {
            id: case.id,
            project: (&project.value).into(),
            published_at: case.published_at,
            effective_verdict: case.effective_verdict(),
            decision: case.decision.as_ref().map(|d| d.outcome),
            risk_band: case.report.as_ref().map(|r| r.band),
        });
    }
    Ok(Json(PublishedPage { items, next }))
}

/// Input of `POST /api/v1/cases/{id}/second-reviews`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSecondReview {
    /// The submitted, current assessment to review.
    pub assessment_id: AssessmentId,
    /// Why.
    pub reason: String,
}

/// `POST /api/v1/cases/{id}/second-reviews`: the assessment's expert, a maintainer of the
/// project or a coordinator asks for a second review.
pub async fn request_second_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
    Json(req): Json<RequestSecondReview>,
) -> Result<Response, ApiError> {
    let review_id = SecondReviewId::from_uuid(Uuid::now_v7());
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.request_second_review(ctx, user, review_id, req.assessment_id, &req.reason)
    })
    .await?;
    respond(&state, &v, StatusCode::CREATED).await
}

/// Input of `POST /api/v1/cases/{id}/second-reviews/{review_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitSecondReview {
    /// The second expert's own verdict.
    pub verdict: sx_domain::Verdict,
    /// Their note.
    #[serde(default)]
    pub note: String,
}

/// `POST /api/v1/cases/{id}/second-reviews/{review_id}`: an independent, eligible expert (not
/// the assessment's author) gives the requested second review.
pub async fn submit_second_review(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, review_id)): Path<(CaseId, SecondReviewId)>,
    Json(req): Json<SubmitSecondReview>,
) -> Result<Response, ApiError> {
    require_role(caller.user(), Role::Expert)?;
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.submit_second_review(ctx, user, review_id, req.verdict, &req.note)
    })
    .await?;
    respond(&state, &v, StatusCode::OK).await
}

/// Answer of `GET /api/v1/cases/{id}/change`.
#[derive(Debug, Serialize)]
pub struct ChangeText {
    /// `sha256:<hex>` of the text.
    pub patch_ref: String,
    /// The change exactly as submitted (attacker-controlled: escape before display).
    pub diff: String,
}

/// `GET /api/v1/cases/{id}/change`: the submitted change text, for those who may see the case.
pub async fn change(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<CaseId>,
) -> Result<Json<ChangeText>, ApiError> {
    let v = load_visible(&state, caller.as_ref().map(Caller::user), id).await?;
    let Some(reference) = v.case.value.source.patch_ref.clone() else {
        return Err(ApiError::not_found("change text"));
    };
    let text = state
        .store
        .get_change_text(&reference)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("change text")
                .with_cause(format!("{reference} of case {id} is not in the database"))
        })?;
    Ok(Json(ChangeText {
        patch_ref: reference,
        diff: text,
    }))
}

/// Input of `POST /api/v1/cases/{id}/embargo`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeEmbargo {
    /// Proposed end (RFC 3339); the shortest pending proposal wins.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    /// Why (e.g. "a fix is being released").
    pub reason: String,
}

/// `POST /api/v1/cases/{id}/embargo`: a maintainer, assigned expert or coordinator proposes an
/// embargo end date (never past the grace deadline).
pub async fn propose_embargo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
    Json(req): Json<ProposeEmbargo>,
) -> Result<Response, ApiError> {
    let proposal_id = sx_domain::EmbargoProposalId::from_uuid(Uuid::now_v7());
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.propose_embargo(ctx, user, proposal_id, req.until, &req.reason)
    })
    .await?;
    respond(&state, &v, StatusCode::CREATED).await
}

/// `POST /api/v1/cases/{id}/embargo/approve`: a coordinator (not the proposer) approves the
/// winning proposal; the publication is rescheduled.
pub async fn approve_embargo(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
) -> Result<Response, ApiError> {
    require_role(caller.user(), Role::Coordinator)?;
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.approve_embargo(ctx, user)
    })
    .await?;
    jobs::publish_case::schedule(&state, &v.case.value).await?;
    respond(&state, &v, StatusCode::OK).await
}

/// Input of `POST /api/v1/cases/{id}/grace-extensions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestGraceExtension {
    /// Days to add to the grace deadline.
    pub extra_days: u32,
    /// Why (public).
    pub reason: String,
}

/// `POST /api/v1/cases/{id}/grace-extensions`: a maintainer or coordinator asks to extend the
/// maximum grace period (a public event; needs two coordinators).
pub async fn request_grace_extension(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
    Json(req): Json<RequestGraceExtension>,
) -> Result<Response, ApiError> {
    let extension_id = sx_domain::GraceExtensionId::from_uuid(Uuid::now_v7());
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.request_grace_extension(ctx, user, extension_id, req.extra_days, &req.reason)
    })
    .await?;
    respond(&state, &v, StatusCode::CREATED).await
}

/// `POST /api/v1/cases/{id}/grace-extensions/{extension_id}/approve`: a coordinator approves;
/// the second approval by a different coordinator grants the extension.
pub async fn approve_grace_extension(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, extension_id)): Path<(CaseId, sx_domain::GraceExtensionId)>,
) -> Result<Response, ApiError> {
    require_role(caller.user(), Role::Coordinator)?;
    let v = mutate_case(&state, &caller, id, |case, ctx, user| {
        case.approve_grace_extension(ctx, user, extension_id)
    })
    .await?;
    jobs::publish_case::schedule(&state, &v.case.value).await?;
    respond(&state, &v, StatusCode::OK).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> sx_analyzer::Change {
        sx_analyzer::diff::parse(text.as_bytes(), &sx_analyzer::diff::Limits::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    const DIFF: &str = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";

    fn mail(subject: &str) -> String {
        format!(
            "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n\
             From: A <a@x>\nSubject: [PATCH] {subject}\n\nWhy.\n---\n{DIFF}-- \n2.47.3\n\n"
        )
    }

    #[test]
    fn a_single_commit_suggests_its_subject_and_a_plain_diff_nothing() {
        assert_eq!(
            suggested_title(&parse(&mail("Fix typo in README"))).as_deref(),
            Some("Fix typo in README")
        );
        assert_eq!(suggested_title(&parse(DIFF)), None);
        let two = format!("{}{}", mail("one"), mail("two"));
        assert_eq!(
            suggested_title(&parse(&two)),
            None,
            "a series needs a cover letter"
        );
    }
}
