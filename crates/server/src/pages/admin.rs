//! `/admin`, for coordinators and admins: invitations, subgroups, a user lookup, and the
//! embargo proposals that wait for this coordinator's approval.
//!
//! Invitations go through the API's `POST /api/v1/invitations` handler (coordinators invite
//! experts, admins any role). The approval list is a dry run of the domain's
//! `approve_embargo` for every open case this user may see: no admin bypass of the TLP rules.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sx_domain::{CaseContext, Role, Subgroup};
use sx_store::Store;
use time::OffsetDateTime;

use crate::AppState;
use crate::api;
use crate::error::{ApiError, Json};
use crate::pages::visitor::Visitor;
use crate::pages::{Nav, PageError, PageForm, Shell, format_time, json_of, render};

/// Most open cases scanned for pending embargo approvals.
const MAX_OPEN_SCAN: u32 = 500;

/// One subgroup as listed.
#[derive(Debug)]
pub struct SubgroupRow {
    name: String,
    slug: String,
    kind: String,
    members: usize,
    coordinators: usize,
}

/// One case waiting for an embargo approval.
#[derive(Debug)]
pub struct ApprovalRow {
    id: String,
    project: String,
    proposal: String,
}

/// A looked-up user.
#[derive(Debug)]
pub struct UserRow {
    handle: String,
    name: String,
    roles: String,
    disabled: bool,
    created: String,
}

/// The admin page.
#[derive(Debug, Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    shell: Shell,
    is_admin: bool,
    error: Option<String>,
    invitation: Option<(String, String)>,
    subgroups: Vec<SubgroupRow>,
    approvals: Vec<ApprovalRow>,
    lookup: String,
    found: Option<UserRow>,
    roles: Vec<&'static str>,
}

/// Query of `/admin`.
#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    /// A handle to look up.
    #[serde(default)]
    user: String,
}

fn require_staff(visitor: &Visitor) -> Result<&sx_domain::User, PageError> {
    let user = visitor.require()?.user();
    if user.has_role(Role::Coordinator) || user.has_role(Role::Admin) {
        Ok(user)
    } else {
        Err(ApiError::forbidden("this page is for coordinators and admins").into())
    }
}

async fn page(
    state: &AppState,
    visitor: &Visitor,
    lookup: &str,
    error: Option<String>,
    invitation: Option<(String, String)>,
) -> Result<AdminPage, PageError> {
    let user = require_staff(visitor)?.clone();
    let subgroups: Vec<Subgroup> = state
        .store
        .list_subgroups()
        .await?
        .into_iter()
        .map(|s| s.value)
        .collect();
    let mut approvals = Vec::new();
    if user.has_role(Role::Coordinator) {
        let now = OffsetDateTime::now_utc();
        let far = now + time::Duration::days(3650);
        for item in state.store.list_open_cases(far, MAX_OPEN_SCAN).await? {
            let case = item.case.value;
            if case.embargo.winning_proposal().is_none() {
                continue;
            }
            let Some(project) = state.store.get_project(case.project_id).await? else {
                continue;
            };
            let project = project.value;
            let viewer = case.viewer(&user, &project, &subgroups);
            if !sx_domain::may_view(&viewer, &case.tlp_object()) {
                continue;
            }
            let ctx = CaseContext {
                project: &project,
                subgroups: &subgroups,
                policy: &state.policy,
                now,
            };
            if case.approve_embargo(&ctx, &user).is_err() {
                continue;
            }
            approvals.push(ApprovalRow {
                id: case.id.to_string(),
                project: project.full_name(),
                proposal: case
                    .embargo
                    .winning_proposal()
                    .map(|p| format!("until {}", format_time(p.until)))
                    .unwrap_or_default(),
            });
        }
    }
    let found = match lookup.trim() {
        "" => None,
        handle => state
            .store
            .get_user_by_handle(handle)
            .await?
            .map(|r| UserRow {
                handle: r.user.handle.clone(),
                name: r.user.display_name.clone(),
                roles: r
                    .user
                    .roles
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                disabled: r.disabled,
                created: format_time(r.user.created_at),
            }),
    };
    Ok(AdminPage {
        shell: Shell::new(visitor, "Administration", Nav::Admin),
        is_admin: user.has_role(Role::Admin),
        error,
        invitation,
        subgroups: subgroups
            .iter()
            .map(|s| SubgroupRow {
                name: s.name.clone(),
                slug: s.slug.clone(),
                kind: s.kind.to_string(),
                members: s.members.len(),
                coordinators: s.coordinators.len(),
            })
            .collect(),
        approvals,
        lookup: lookup.trim().to_string(),
        found,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    })
}

/// `GET /admin`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<AdminQuery>,
) -> Result<Response, PageError> {
    let p = page(&state, &visitor, &q.user, None, None).await?;
    Ok(render(&visitor, StatusCode::OK, &p))
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    email: String,
    #[serde(default)]
    subgroup: String,
    /// Extra roles (admins only): `roles=expert&roles=coordinator` arrives as repeated keys;
    /// the form sends one select instead.
    #[serde(default)]
    role: String,
}

/// `POST /admin/invitations`: creates an invitation and shows its link once.
pub async fn invite(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<InviteForm>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    require_staff(&visitor)?;
    visitor.verify(&form.csrf)?;
    let roles = match form.role.trim() {
        "" => Ok(Vec::new()),
        r => r
            .parse::<Role>()
            .map(|r| vec![r])
            .map_err(|_| ApiError::invalid("choose a role")),
    };
    let created = match roles {
        Ok(roles) => {
            api::users::invite(
                State(state.clone()),
                caller,
                Json(api::users::Invite {
                    email: form.email.clone(),
                    roles,
                    subgroup: Some(form.subgroup.trim().to_string()).filter(|s| !s.is_empty()),
                }),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(answer) => {
            let body: serde_json::Value = json_of(answer).await?;
            let token = body["invitation_token"].as_str().unwrap_or_default();
            let link = format!(
                "{}/invite/{}",
                state.config.public_base_url.trim_end_matches('/'),
                token
            );
            let p = page(
                &state,
                &visitor,
                "",
                None,
                Some((form.email.trim().to_string(), link)),
            )
            .await?;
            Ok(render(&visitor, StatusCode::CREATED, &p))
        }
        Err(e) => {
            let status = e.code.status();
            let p = page(&state, &visitor, "", Some(e.message), None).await?;
            Ok(render(&visitor, status, &p))
        }
    }
}
