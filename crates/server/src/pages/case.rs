//! `/cases/{id}`: one case, as its viewer may see it, and the forms that move it.
//!
//! Reading: [`api::cases::load_visible`] decides whether the visitor may see the case at all
//! (404 otherwise, exactly as the API), [`CaseView::build`] filters assessments, second
//! reviews, the participant list and the timeline by TLP, and comments pass
//! `sx_domain::may_view` one by one. Acting: each form calls the API handler of the same
//! action. Which forms are offered is a dry run of the domain command for this visitor
//! (`Actions::of`): a button shows exactly when the API would accept the request.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sx_domain::{
    AssessmentBody, AssessmentId, Case, CaseContext, CaseId, Confidence, DecisionOutcome,
    EmbargoProposalId, Level, Role, SecondReviewId, TlpLabel, User, UserId, Verdict, Viewer,
};
use sx_store::Store;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::api;
use crate::api::views::CaseView;
use crate::auth::Caller;
use crate::error::{ApiError, Json};
use crate::pages::diff::{self, DiffView, FindingView};
use crate::pages::text::{Segment, prose_segments, segments, visible};
use crate::pages::visitor::Visitor;
use crate::pages::{
    Nav, PageError, PageForm, Shell, case_title, format_duration, format_time, machine_time,
    render, see_other, tlp_class, tlp_meaning,
};

/// Query of the case page.
#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    /// What just succeeded (a fixed key, never echoed).
    #[serde(default)]
    pub done: String,
}

fn done_notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "submitted" => {
            "Forwarded. The automated first assessment appears below within seconds; an expert has 24 hours to answer."
        }
        "claimed" => "You claimed this case. Write your assessment below.",
        "released" => {
            "You released your claim. The case is back in the subgroup's queue unless another expert holds it."
        }
        "assessed" => "Your assessment was submitted; the maintainer sees it now.",
        "decided" => "Your decision was recorded. The case publishes when any embargo ends.",
        "commented" => "Your comment was added.",
        "second-review-requested" => "A second review was requested.",
        "second-review-submitted" => "Your second review was submitted.",
        "embargo-proposed" => "The embargo was proposed; a coordinator must approve it.",
        "embargo-approved" => "The embargo was approved.",
        _ => return None,
    })
}

/// The SLA clock.
#[derive(Debug)]
pub struct SlaView {
    status: String,
    deadline: String,
    deadline_machine: String,
    left: Option<String>,
    overdue: bool,
}

/// An assessment as shown.
#[derive(Debug)]
pub struct AssessmentView {
    id: String,
    expert: String,
    status: String,
    tlp: TlpLabel,
    verdict: Option<String>,
    confidence: Option<String>,
    summary: String,
    rationale: String,
    actions: Vec<String>,
    references: Vec<String>,
    minutes: u32,
    submitted: Option<String>,
    current: bool,
}

/// A second review as shown.
#[derive(Debug)]
pub struct ReviewView {
    id: String,
    status: String,
    tlp: TlpLabel,
    reason: String,
    reviewer: Option<String>,
    verdict: Option<String>,
    note: Option<String>,
    agrees: Option<bool>,
}

/// A comment as shown.
#[derive(Debug)]
pub struct CommentView {
    author: String,
    at: String,
    tlp: TlpLabel,
    body: Vec<Segment>,
}

/// A timeline entry.
#[derive(Debug)]
pub struct EventView {
    at: String,
    at_machine: String,
    what: String,
    who: Option<String>,
}

/// A commit of the change.
#[derive(Debug)]
pub struct CommitView {
    id: String,
    author: String,
    message: Vec<Segment>,
}

/// What this visitor may do now (each a dry run of the domain command).
#[derive(Debug, Default)]
pub struct Actions {
    claim: bool,
    /// The visitor holds a claim they may release (no live assessment of theirs yet).
    release: bool,
    assess: bool,
    decide: bool,
    comment: bool,
    propose_embargo: bool,
    approve_embargo: bool,
    /// Current submitted assessments the visitor may ask a second review of: (id, label).
    request_second: Vec<(String, String)>,
    /// Requested second reviews the visitor may give: (review id, label).
    give_second: Vec<(String, String)>,
}

impl Actions {
    /// Asks the domain, by dry runs, what `user` may do to `case` now.
    fn of(case: &Case, ctx: &CaseContext<'_>, user: &User, names: &Names) -> Self {
        let expert = user.has_role(Role::Expert);
        let new_assessment = AssessmentId::from_uuid(Uuid::nil());
        let new_review = SecondReviewId::from_uuid(Uuid::nil());
        let probe_body = AssessmentBody {
            verdict: Verdict::Inconclusive,
            confidence: Confidence::Low,
            summary: "probe".into(),
            rationale: "probe".into(),
            recommended_actions: Vec::new(),
            references: Vec::new(),
            time_spent_minutes: 0,
            thoroughness: Level::Low,
            understanding: Level::Low,
        };
        let deadline = case.grace_deadline(ctx.policy);
        let probe_until =
            (ctx.now + time::Duration::days(1)).min(deadline - time::Duration::minutes(1));
        let viewer = case.viewer(user, ctx.project, ctx.subgroups);
        Actions {
            claim: expert && case.claim(ctx, user).is_ok(),
            release: expert && case.unclaim(ctx, user).is_ok(),
            assess: expert
                && case
                    .submit_assessment(ctx, user, new_assessment, new_review, probe_body)
                    .is_ok(),
            decide: case.decide(ctx, user, DecisionOutcome::Merged, "").is_ok(),
            comment: sx_domain::may_view_participants(&viewer),
            propose_embargo: case
                .propose_embargo(
                    ctx,
                    user,
                    EmbargoProposalId::from_uuid(Uuid::nil()),
                    probe_until,
                    "probe",
                )
                .is_ok(),
            approve_embargo: user.has_role(Role::Coordinator)
                && case.approve_embargo(ctx, user).is_ok(),
            request_second: case
                .current_submitted()
                .filter(|a| {
                    case.request_second_review(ctx, user, new_review, a.id, "probe")
                        .is_ok()
                })
                .map(|a| {
                    (
                        a.id.to_string(),
                        format!("assessment by {}", names.of(a.expert)),
                    )
                })
                .collect(),
            give_second: if expert {
                case.second_reviews
                    .iter()
                    .filter(|r| {
                        case.submit_second_review(ctx, user, r.id, Verdict::Inconclusive, "")
                            .is_ok()
                    })
                    .map(|r| {
                        let author = case
                            .assessments
                            .iter()
                            .find(|a| a.id == r.assessment_id)
                            .map_or_else(|| "an expert".to_string(), |a| names.of(a.expert));
                        (r.id.to_string(), format!("assessment by {author}"))
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    fn any(&self) -> bool {
        self.claim
            || self.release
            || self.assess
            || self.decide
            || self.comment
            || self.propose_embargo
            || self.approve_embargo
            || !self.request_second.is_empty()
            || !self.give_second.is_empty()
    }
}

/// Handles of the people named on a case, shown only to those who may see the participant
/// list (everyone else reads "an expert", "the maintainer").
#[derive(Debug, Default)]
struct Names {
    show: bool,
    handles: HashMap<UserId, String>,
}

impl Names {
    fn of(&self, id: UserId) -> String {
        match self.handles.get(&id) {
            Some(h) if self.show => h.clone(),
            _ => "a participant".to_string(),
        }
    }
}

/// The case page.
#[derive(Debug, Template)]
#[template(path = "case.html")]
pub struct CasePage {
    shell: Shell,
    id: String,
    title: String,
    project: String,
    tlp: TlpLabel,
    status: String,
    notice: Option<&'static str>,
    error: Option<String>,
    analysis_pending: bool,
    band: Option<String>,
    risk: Option<String>,
    sla: SlaView,
    received: String,
    publishes: Option<String>,
    published: Option<String>,
    concern: Vec<Segment>,
    suspicion: u8,
    tags: Vec<String>,
    pr_url: Option<String>,
    author: Option<String>,
    revision: String,
    subgroups: Vec<String>,
    triage: Option<String>,
    top_findings: Vec<FindingView>,
    finding_count: usize,
    diff: DiffView,
    diff_note: Option<String>,
    commits: Vec<CommitView>,
    verdict: Option<String>,
    verdict_final: bool,
    assessments: Vec<AssessmentView>,
    reviews: Vec<ReviewView>,
    decision: Option<(String, String, String)>,
    embargo: String,
    timeline: Vec<EventView>,
    comments: Vec<CommentView>,
    actions: Actions,
    show_actions: bool,
    verdicts: [&'static str; 4],
    outcomes: [&'static str; 5],
    tlp_choices: [(&'static str, &'static str); 5],
    embargo_max: String,
}

fn doc_url(f: &sx_analyzer::Finding) -> String {
    if f.doc.starts_with(sx_analyzer::finding::DOC_BASE) {
        format!("/detectors/{}", crate::pages::encode_component(&f.id))
    } else {
        sx_analyzer::output::RenderOptions::default().doc_url(&f.doc)
    }
}

fn describe(event: &sx_domain::DomainEvent) -> String {
    let text = match event.kind() {
        "case-received" => "Change forwarded",
        "report-attached" => "Automated assessment attached",
        "case-triaged" => "Triaged and routed",
        "case-claimed" => "Claimed by an expert",
        "case-unclaimed" => "Released by the expert",
        "participant-added" => "Participant added",
        "participant-removed" => "Participant removed",
        "subgroup-read-in" => "Subgroup read in",
        "assessment-started" => "Assessment started",
        "assessment-submitted" => "Assessment submitted",
        "assessment-withdrawn" => "Assessment withdrawn",
        "assessment-outdated" => "Assessment outdated by a new revision",
        "revision-added" => "New revision",
        "second-review-requested" => "Second review requested",
        "second-review-submitted" => "Second review submitted",
        "second-review-cancelled" => "Second review cancelled",
        "verdict-changed" => "Verdict changed",
        "case-decided" => "Maintainer decided",
        "embargo-proposed" => "Embargo proposed",
        "embargo-approved" => "Embargo approved",
        "embargo-rejected" => "Embargo rejected",
        "embargo-ended" => "Embargo ended",
        "grace-extension-requested" => "Grace extension requested",
        "grace-extension-approved" => "Grace extension approved",
        "grace-extended" => "Grace period extended",
        "case-published" => "Published",
        other => other,
    };
    text.to_string()
}

fn parse_id(id: &str) -> Result<CaseId, PageError> {
    id.parse().map_err(|_| PageError::not_found())
}

async fn names_for(
    state: &AppState,
    ids: impl Iterator<Item = UserId>,
    show: bool,
) -> Result<Names, PageError> {
    let mut names = Names {
        show,
        handles: HashMap::new(),
    };
    if !show {
        return Ok(names);
    }
    for id in ids {
        if names.handles.contains_key(&id) {
            continue;
        }
        if let Some(r) = state.store.get_user(id).await? {
            names.handles.insert(id, r.user.handle);
        }
    }
    Ok(names)
}

/// Builds the case page for `visitor`.
///
/// # Errors
/// 404 when the case does not exist or the visitor may not see it; store failures.
pub async fn build_page(
    state: &AppState,
    visitor: &Visitor,
    id: CaseId,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<CasePage, PageError> {
    let user = visitor.user();
    let v = api::cases::load_visible(state, user, id)
        .await
        .map_err(|e| match e.code {
            crate::ErrorCode::NotFound => PageError::not_found(),
            _ => e.into(),
        })?;
    let case = &v.case.value;
    let now = OffsetDateTime::now_utc();
    let events = state.store.list_case_events(id).await?;
    let view = CaseView::build(
        case,
        &v.project,
        &v.subgroups,
        &v.viewer,
        &state.policy,
        events,
        now,
    );
    let comments: Vec<_> = state
        .store
        .list_comments(id)
        .await?
        .into_iter()
        .filter(|c| sx_domain::may_view(&v.viewer, &case.comment_object(c)))
        .collect();

    let show_names = sx_domain::may_view_participants(&v.viewer);
    let ids = std::iter::once(case.submitted_by)
        .chain(case.claims.iter().map(|c| c.expert))
        .chain(view.assessments.iter().map(|a| a.expert))
        .chain(view.second_reviews.iter().filter_map(|r| r.reviewer))
        .chain(comments.iter().map(|c| c.author))
        .chain(view.timeline.iter().filter_map(|e| e.actor))
        .collect::<Vec<_>>();
    let names = names_for(state, ids.into_iter(), show_names).await?;

    // The change and the analyzer's findings.
    let report: Option<sx_analyzer::Report> = case
        .report
        .as_ref()
        .and_then(|r| serde_json::from_value(r.full.clone()).ok());
    let findings = report
        .as_ref()
        .map(|r| r.findings.clone())
        .unwrap_or_default();
    let text = match case.source.patch_ref.as_deref() {
        Some(r) => state.store.get_change_text(r).await?,
        None => None,
    };
    let max = state.config.max_change_bytes;
    let (diff, commits, diff_note) = match text {
        Some(text) => tokio::task::spawn_blocking(move || {
            let limits = sx_analyzer::diff::Limits {
                max_input_bytes: max,
                ..Default::default()
            };
            match sx_analyzer::diff::parse(text.as_bytes(), &limits) {
                Ok(change) => {
                    let commits = change
                        .commits
                        .iter()
                        .map(|c| CommitView {
                            id: c.id.as_deref().map(|i| i.chars().take(12).collect()).unwrap_or_default(),
                            author: visible(&format!("{} <{}>", c.author_name, c.author_email)),
                            message: prose_segments(&c.message),
                        })
                        .collect();
                    let view = diff::build(&change, &findings, &doc_url);
                    let note = (view.files.iter().any(|f| f.elided)).then(|| {
                        format!(
                            "The change is long: only the first {} lines are shown. Read the rest through the API (GET /api/v1/cases/{id}/change).",
                            diff::MAX_ROWS
                        )
                    });
                    (view, commits, note)
                }
                Err(e) => (
                    DiffView::default(),
                    Vec::new(),
                    Some(format!("The change text could not be parsed: {e}")),
                ),
            }
        })
        .await
        .map_err(PageError::internal)?,
        None => (
            DiffView::default(),
            Vec::new(),
            Some("The change text is not available on this instance.".to_string()),
        ),
    };
    let mut top_findings: Vec<FindingView> = Vec::new();
    if let Some(report) = &report {
        let anchors: HashMap<(String, String), Option<String>> = diff
            .files
            .iter()
            .flat_map(|f| f.rows.iter().flat_map(|r| r.findings.iter()))
            .map(|f| ((f.id.clone(), f.location.clone()), f.anchor.clone()))
            .collect();
        for f in report.findings.iter().take(10) {
            let mut fv = diff::FindingView {
                id: f.id.clone(),
                title: f.title.clone(),
                severity: f.severity.as_str(),
                confidence: f.confidence.as_str(),
                location: match f.line {
                    Some(l) => format!("{}:{l}", visible(&f.path)),
                    None => visible(&f.path),
                },
                anchor: None,
                evidence: segments(&f.evidence),
                explanation: f.explanation.clone(),
                doc_url: doc_url(f),
            };
            fv.anchor = anchors
                .get(&(fv.id.clone(), fv.location.clone()))
                .cloned()
                .flatten();
            top_findings.push(fv);
        }
    }

    let sla = SlaView {
        status: view.sla.status.to_string(),
        deadline: format_time(view.sla.deadline),
        deadline_machine: machine_time(view.sla.deadline),
        left: view.sla.time_left.map(|d| {
            if d.is_negative() {
                format!("overdue by {}", format_duration(d))
            } else {
                format!("{} left", format_duration(d))
            }
        }),
        overdue: view.sla.time_left.is_some_and(|d| d.is_negative()),
    };
    let assessments = view
        .assessments
        .iter()
        .map(|a| {
            let body = a.body.as_ref();
            AssessmentView {
                id: a.id.to_string(),
                expert: names.of(a.expert),
                status: a.status.to_string(),
                tlp: a.tlp.stricter(case.tlp),
                verdict: body.map(|b| b.verdict.to_string()),
                confidence: body.map(|b| b.confidence.to_string()),
                summary: body.map(|b| b.summary.clone()).unwrap_or_default(),
                rationale: body.map(|b| b.rationale.clone()).unwrap_or_default(),
                actions: body
                    .map(|b| b.recommended_actions.clone())
                    .unwrap_or_default(),
                references: body.map(|b| b.references.clone()).unwrap_or_default(),
                minutes: body.map_or(0, |b| b.time_spent_minutes),
                submitted: a.submitted_at.map(format_time),
                current: a.revision == case.revision,
            }
        })
        .collect();
    let reviews = view
        .second_reviews
        .iter()
        .map(|r| {
            let reviewed = case
                .assessments
                .iter()
                .find(|a| a.id == r.assessment_id)
                .and_then(|a| a.submitted_verdict());
            ReviewView {
                id: r.id.to_string(),
                status: r.status.to_string(),
                tlp: r.tlp.stricter(case.tlp),
                reason: r.reason.clone(),
                reviewer: r.reviewer.map(|u| names.of(u)),
                verdict: r.verdict.map(|v| v.to_string()),
                note: r.note.clone().filter(|n| !n.is_empty()),
                agrees: r.verdict.zip(reviewed).map(|(a, b)| a == b),
            }
        })
        .collect();
    let embargo = match (&view.embargo.active_until, view.embargo.state) {
        (Some(until), state) => format!("{state}, until {}", format_time(*until)),
        (None, state) => match view.embargo.winning_proposal() {
            Some(p) => format!("{state}: proposed until {}", format_time(p.until)),
            None => state.to_string(),
        },
    };
    let actions = match (visitor.caller.as_ref(), &v.viewer) {
        (Some(caller), Viewer::Member { .. }) => {
            let ctx = CaseContext {
                project: &v.project,
                subgroups: &v.subgroups,
                policy: &state.policy,
                now,
            };
            Actions::of(case, &ctx, caller.user(), &names)
        }
        _ => Actions::default(),
    };
    let title = case_title(case.source.title.as_deref(), id);
    Ok(CasePage {
        shell: Shell::new(visitor, title.clone(), Nav::Cases),
        id: id.to_string(),
        project: format!("{}/{}/{}", v.project.host, v.project.owner, v.project.name),
        tlp: case.tlp,
        status: case.status.to_string(),
        notice,
        error,
        analysis_pending: case.report.is_none() && case.status == sx_domain::CaseStatus::Received,
        band: view.report.as_ref().map(|r| r.band.to_string()),
        risk: view
            .report
            .as_ref()
            .map(|r| format!("{:.0} %", r.risk * 100.0)),
        sla,
        received: format_time(case.received_at),
        publishes: view.publishes_at.map(format_time),
        published: case.published_at.map(format_time),
        concern: prose_segments(&case.concern.text),
        suspicion: case.concern.suspicion.get(),
        tags: case.concern.tags.iter().map(|t| visible(t)).collect(),
        pr_url: case.source.pull_request_url.clone(),
        author: case.source.author.as_deref().map(visible),
        revision: visible(&case.revision.to_string()),
        subgroups: view.subgroups.iter().map(|s| s.name.clone()).collect(),
        triage: case
            .triage
            .as_ref()
            .map(|t| format!("{}: {}", t.outcome, t.reason)),
        finding_count: findings_len(report.as_ref()),
        top_findings,
        diff,
        diff_note,
        commits,
        verdict: view
            .effective_verdict
            .as_ref()
            .map(|v| v.verdict.to_string()),
        verdict_final: view
            .effective_verdict
            .as_ref()
            .is_some_and(|v| v.finality == sx_domain::Finality::Final),
        assessments,
        reviews,
        decision: view
            .decision
            .map(|d| (d.outcome.to_string(), d.note.clone(), format_time(d.at))),
        embargo,
        timeline: view
            .timeline
            .iter()
            .map(|e| EventView {
                at: format_time(e.at),
                at_machine: machine_time(e.at),
                what: describe(e),
                who: e.actor.map(|a| names.of(a)),
            })
            .collect(),
        comments: comments
            .iter()
            .map(|c| CommentView {
                author: names.of(c.author),
                at: format_time(c.created_at),
                tlp: c.tlp.stricter(case.tlp),
                body: prose_segments(&c.body),
            })
            .collect(),
        show_actions: actions.any(),
        actions,
        verdicts: ["benign", "inconclusive", "suspicious", "malicious"],
        outcomes: [
            "merged",
            "rejected",
            "changes-requested",
            "reported-to-forge",
            "other",
        ],
        tlp_choices: [
            (
                "amber-strict",
                "TLP:AMBER+STRICT (people working this case)",
            ),
            ("amber", "TLP:AMBER (also the case's subgroups)"),
            (
                "green",
                "TLP:GREEN (registered users, after publication: public)",
            ),
            ("clear", "TLP:CLEAR (public once the case is published)"),
            ("red", "TLP:RED (named participants only, never published)"),
        ],
        embargo_max: case.grace_deadline(&state.policy).date().to_string(),
        title,
    })
}

fn findings_len(report: Option<&sx_analyzer::Report>) -> usize {
    report.map_or(0, |r| r.findings.len())
}

impl CasePage {
    fn tlp_class(&self, label: &TlpLabel) -> &'static str {
        tlp_class(*label)
    }

    fn tlp_name(&self, label: &TlpLabel) -> &'static str {
        label.display_name()
    }

    fn tlp_meaning(&self) -> &'static str {
        tlp_meaning(self.tlp)
    }
}

/// A grace extension as the public stub lists it.
#[derive(Debug)]
pub struct ExtensionView {
    extra_days: u32,
    status: String,
    requested: String,
    reason: String,
}

/// What everyone may see of a case they may not read: the API's public stub
/// (`GET /api/v1/cases/{id}/public`) as a page. Built from [`sx_domain::PublicCaseStub`]
/// alone, which has no field for content, so nothing sealed can reach it.
#[derive(Debug, Template)]
#[template(path = "case_stub.html")]
pub struct StubPage {
    shell: Shell,
    id: String,
    title: String,
    publishes: Option<String>,
    publishes_machine: Option<String>,
    subgroups: Vec<String>,
    extensions: Vec<ExtensionView>,
    signed_in: bool,
    login: String,
}

impl StubPage {
    fn tlp_class(&self) -> &'static str {
        tlp_class(TlpLabel::Clear)
    }

    fn tlp_name(&self) -> &'static str {
        TlpLabel::Clear.display_name()
    }
}

/// The public stub of `id` when the case exists but is sealed; `None` when there is no such
/// case (or, which cannot happen for a case the visitor may not read, it is published).
async fn stub_page(
    state: &AppState,
    visitor: &Visitor,
    id: CaseId,
) -> Result<Option<StubPage>, PageError> {
    let public = match api::public::get(State(state.clone()), crate::error::Path(id)).await {
        Ok(Json(p)) => p,
        Err(e) if e.code == crate::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let sx_domain::PublicCaseView::Sealed(stub) = public.view else {
        return Ok(None);
    };
    let path = format!("/cases/{id}");
    Ok(Some(StubPage {
        shell: Shell::new(visitor, "Sealed case", Nav::Cases),
        id: id.to_string(),
        title: format!("Case {}", crate::pages::short_id(id)),
        publishes: stub.publishes_at.map(format_time),
        publishes_machine: stub.publishes_at.map(machine_time),
        subgroups: public
            .subgroup_names
            .into_iter()
            .map(|s| visible(&s.name))
            .collect(),
        extensions: stub
            .grace_extensions
            .iter()
            .map(|g| ExtensionView {
                extra_days: g.extra_days,
                status: g.status.to_string(),
                requested: format_time(g.requested_at),
                reason: visible(&g.reason),
            })
            .collect(),
        signed_in: visitor.caller.is_some(),
        login: format!("/login?next={}", crate::pages::encode_component(&path)),
    }))
}

/// `GET /cases/{id}`: the case for those who may read it; for everyone else, the public stub
/// of a sealed case (200), or 404 when there is no such case.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    match build_page(&state, &visitor, id, done_notice(&q.done), None).await {
        Ok(page) => Ok(render(&visitor, StatusCode::OK, &page)),
        Err(e) if e.status == StatusCode::NOT_FOUND => match stub_page(&state, &visitor, id).await?
        {
            Some(stub) => Ok(render(&visitor, StatusCode::OK, &stub)),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// Runs an API action for the signed-in visitor after the CSRF check: on success, back to
/// the case page with a notice; on refusal, the case page with the API's message.
async fn act<F, Fut>(
    state: &AppState,
    visitor: &Visitor,
    id: &str,
    csrf: &str,
    done: &str,
    action: F,
) -> Result<Response, PageError>
where
    F: FnOnce(Caller, CaseId) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    let id = parse_id(id)?;
    let caller = visitor.require()?.clone();
    visitor.verify(csrf)?;
    match action(caller, id).await {
        Ok(_) => Ok(see_other(
            visitor,
            &format!("/cases/{id}?done={done}#actions"),
        )),
        Err(e) if e.code == crate::ErrorCode::NotFound => Err(e.into()),
        Err(e) => {
            let status = e.code.status();
            let message = e.message.clone();
            let _ = PageError::from(e);
            let page = build_page(state, visitor, id, None, Some(message)).await?;
            Ok(render(visitor, status, &page))
        }
    }
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /cases/{id}/claim`.
pub async fn claim(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let s = state.clone();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "claimed",
        |caller, id| api::cases::claim(State(s), caller, crate::error::Path(id)),
    )
    .await
}

/// `POST /cases/{id}/unclaim`: the claiming expert releases the case (the API's unclaim).
pub async fn unclaim(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let s = state.clone();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "released",
        |caller, id| api::cases::unclaim(State(s), caller, crate::error::Path(id)),
    )
    .await
}

/// The assessment form.
#[derive(Debug, Deserialize)]
pub struct AssessForm {
    #[serde(default)]
    csrf: String,
    verdict: String,
    confidence: String,
    summary: String,
    rationale: String,
    #[serde(default)]
    recommended_actions: String,
    #[serde(default)]
    references: String,
    #[serde(default)]
    time_spent_minutes: String,
    thoroughness: String,
    understanding: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn body_of(f: &AssessForm) -> Result<AssessmentBody, ApiError> {
    let bad = |what: &str| ApiError::invalid(format!("choose the {what}"));
    Ok(AssessmentBody {
        verdict: f.verdict.parse().map_err(|_| bad("verdict"))?,
        confidence: f.confidence.parse().map_err(|_| bad("confidence"))?,
        summary: f.summary.trim().to_string(),
        rationale: f.rationale.trim().to_string(),
        recommended_actions: lines(&f.recommended_actions),
        references: lines(&f.references),
        time_spent_minutes: match f.time_spent_minutes.trim() {
            "" => 0,
            m => m
                .parse()
                .map_err(|_| ApiError::invalid("time spent is a whole number of minutes"))?,
        },
        thoroughness: f.thoroughness.parse().map_err(|_| bad("thoroughness"))?,
        understanding: f.understanding.parse().map_err(|_| bad("understanding"))?,
    })
}

/// `POST /cases/{id}/assess`.
pub async fn assess(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<AssessForm>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let body = body_of(&form);
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "assessed",
        |caller, id| async move {
            api::cases::assess(State(s), caller, crate::error::Path(id), Json(body?)).await
        },
    )
    .await
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

/// `POST /cases/{id}/decide`.
pub async fn decide(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<DecideForm>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let outcome = form.outcome.parse::<DecisionOutcome>();
    let note = form.note.trim().to_string();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "decided",
        |caller, id| async move {
            let outcome =
                outcome.map_err(|_| ApiError::invalid("choose what you did with the change"))?;
            api::cases::decide(
                State(s),
                caller,
                crate::error::Path(id),
                Json(api::cases::DecideRequest { outcome, note }),
            )
            .await
        },
    )
    .await
}

/// The comment form.
#[derive(Debug, Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    csrf: String,
    body: String,
    tlp: String,
}

/// `POST /cases/{id}/comment`.
pub async fn comment(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<CommentForm>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let tlp = TlpLabel::parse_lenient(&form.tlp);
    let body = form.body.clone();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "commented",
        |caller, id| async move {
            let tlp = tlp.map_err(|_| ApiError::invalid("choose the comment's TLP label"))?;
            api::comments::create(
                State(s),
                caller,
                crate::error::Path(id),
                Json(api::comments::NewComment {
                    body,
                    tlp: Some(tlp),
                    recipients: Vec::new(),
                    in_reply_to: None,
                }),
            )
            .await
        },
    )
    .await
}

/// The second-review request form.
#[derive(Debug, Deserialize)]
pub struct RequestReviewForm {
    #[serde(default)]
    csrf: String,
    assessment_id: String,
    reason: String,
}

/// `POST /cases/{id}/second-review`.
pub async fn request_second_review(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<RequestReviewForm>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let assessment = form.assessment_id.parse::<AssessmentId>();
    let reason = form.reason.trim().to_string();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "second-review-requested",
        |caller, id| async move {
            let assessment_id =
                assessment.map_err(|_| ApiError::invalid("choose the assessment to review"))?;
            api::cases::request_second_review(
                State(s),
                caller,
                crate::error::Path(id),
                Json(api::cases::RequestSecondReview {
                    assessment_id,
                    reason,
                }),
            )
            .await
        },
    )
    .await
}

/// The second-review form.
#[derive(Debug, Deserialize)]
pub struct GiveReviewForm {
    #[serde(default)]
    csrf: String,
    verdict: String,
    #[serde(default)]
    note: String,
}

/// `POST /cases/{id}/second-reviews/{review_id}`.
pub async fn submit_second_review(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((id, review_id)): Path<(String, String)>,
    PageForm(form): PageForm<GiveReviewForm>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let review = review_id.parse::<SecondReviewId>();
    let verdict = form.verdict.parse::<Verdict>();
    let note = form.note.trim().to_string();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "second-review-submitted",
        |caller, id| async move {
            let review = review.map_err(|_| ApiError::not_found("second review"))?;
            let verdict = verdict.map_err(|_| ApiError::invalid("choose your verdict"))?;
            api::cases::submit_second_review(
                State(s),
                caller,
                crate::error::Path((id, review)),
                Json(api::cases::SubmitSecondReview { verdict, note }),
            )
            .await
        },
    )
    .await
}

/// The embargo form.
#[derive(Debug, Deserialize)]
pub struct EmbargoForm {
    #[serde(default)]
    csrf: String,
    /// `YYYY-MM-DD`; the embargo ends at the end of that day (UTC).
    until: String,
    reason: String,
}

fn end_of_day(date: &str) -> Result<OffsetDateTime, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(date.trim(), &format)
        .map_err(|_| ApiError::invalid("give the embargo's last day as a date (YYYY-MM-DD)"))?;
    Ok(day
        .with_hms(23, 59, 0)
        .map_err(ApiError::internal)?
        .assume_utc())
}

/// `POST /cases/{id}/embargo`.
pub async fn propose_embargo(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<EmbargoForm>,
) -> Result<Response, PageError> {
    let s = state.clone();
    let until = end_of_day(&form.until);
    let reason = form.reason.trim().to_string();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "embargo-proposed",
        |caller, id| async move {
            api::cases::propose_embargo(
                State(s),
                caller,
                crate::error::Path(id),
                Json(api::cases::ProposeEmbargo {
                    until: until?,
                    reason,
                }),
            )
            .await
        },
    )
    .await
}

/// `POST /cases/{id}/embargo/approve`.
pub async fn approve_embargo(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let s = state.clone();
    act(
        &state,
        &visitor,
        &id,
        &form.csrf,
        "embargo-approved",
        |caller, id| api::cases::approve_embargo(State(s), caller, crate::error::Path(id)),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embargo_dates_end_at_the_end_of_the_day_utc() {
        let t = end_of_day("2027-01-31").unwrap();
        assert_eq!((t.hour(), t.minute()), (23, 59));
        assert!(end_of_day("31/01/2027").is_err());
    }

    #[test]
    fn recommended_actions_are_one_per_line() {
        assert_eq!(lines(" a \n\n b\n"), vec!["a", "b"]);
    }
}
