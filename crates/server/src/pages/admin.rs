//! `/admin`, for coordinators and admins: invitations, subgroups and their members, accounts,
//! and the embargo proposals that wait for this coordinator's approval; for admins only, the
//! roles of an account and the audit log.
//!
//! Invitations go through the API's `POST /api/v1/invitations` handler (coordinators invite
//! experts, admins any role). Creating subgroups, adding and removing members, disabling or
//! enabling accounts and granting or revoking roles call [`crate::admin`], the functions
//! `s-express admin` runs, with the signed-in user as the actor: who may do what is the
//! domain's rule (`User::may_manage_subgroups`, `User::may_manage_accounts`), and every change
//! is recorded in the audit trail as the CLI's are. Every form carries the CSRF token and
//! answers with a redirect (Post/Redirect/Get), or the page again with the refusal.
//!
//! The audit log section (admins only: coordinators manage subgroups but do not see what
//! admins did to accounts) lists the trail newest first, [`AUDIT_PAGE`] records a page, with
//! handles and slugs in place of ids where they still exist.
//!
//! The approval list is a dry run of the domain's `approve_embargo` for every open case this
//! user may see: no admin bypass of the TLP rules.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sx_domain::{AttackVector, AuditTarget, CaseContext, Language, Role, Subgroup, UserId};
use sx_store::{AuditFilter, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::admin::{self as shared, Actor, AdminError, NewSubgroup};
use crate::api;
use crate::error::{ApiError, Json};
use crate::pages::text::visible;
use crate::pages::visitor::Visitor;
use crate::pages::{
    Nav, PageError, PageForm, Shell, encode_component, format_time, json_of, machine_time, render,
    see_other,
};

/// Most open cases scanned for pending embargo approvals.
const MAX_OPEN_SCAN: u32 = 500;

/// Most accounts listed (the lookup finds any other).
const MAX_USERS_LISTED: usize = 200;

/// Audit records per page.
pub const AUDIT_PAGE: u32 = 50;

/// One audit record as shown.
#[derive(Debug)]
pub struct AuditRow {
    at: String,
    at_iso: String,
    /// A handle, or `cli/operator`.
    actor: String,
    action: &'static str,
    target: String,
    details: String,
}

/// The audit log section (admins only).
#[derive(Debug)]
pub struct AuditSection {
    rows: Vec<AuditRow>,
    /// The cursor of the next (older) page, when there may be one.
    older: Option<u64>,
    /// Whether this is an older page (so a link back to the newest makes sense).
    paged: bool,
}

/// One subgroup as listed.
#[derive(Debug)]
pub struct SubgroupRow {
    name: String,
    slug: String,
    kind: String,
    routing: String,
    /// Member handles.
    members: Vec<String>,
    coordinators: usize,
}

/// One case waiting for an embargo approval.
#[derive(Debug)]
pub struct ApprovalRow {
    id: String,
    project: String,
    proposal: String,
}

/// An account as listed or looked up.
#[derive(Debug)]
pub struct UserRow {
    handle: String,
    /// The handle for a URL path.
    path: String,
    name: String,
    roles: String,
    disabled: bool,
    created: String,
    subgroups: String,
    /// The visitor's own account (it cannot be disabled from here).
    own: bool,
    /// Roles it holds (can be revoked).
    held: Vec<&'static str>,
    /// Roles it lacks (can be granted).
    lacking: Vec<&'static str>,
}

/// The admin page.
#[derive(Debug, Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    shell: Shell,
    is_admin: bool,
    manage_subgroups: bool,
    manage_accounts: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    invitation: Option<(String, String)>,
    subgroups: Vec<SubgroupRow>,
    approvals: Vec<ApprovalRow>,
    lookup: String,
    found: Option<UserRow>,
    users: Vec<UserRow>,
    more_users: usize,
    roles: Vec<&'static str>,
    languages: Vec<&'static str>,
    vectors: Vec<&'static str>,
    audit: Option<AuditSection>,
}

/// Query of `/admin`.
#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    /// A handle to look up.
    #[serde(default)]
    user: String,
    /// What just succeeded (a fixed key, never echoed).
    #[serde(default)]
    done: String,
    /// The audit log page: records older than this number (ignored unless a number).
    #[serde(default)]
    audit_before: String,
}

fn admin_notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "subgroup-created" => "The subgroup was created. Add its members below.",
        "member-added" => "The member was added; the subgroup's cases now appear in their queue.",
        "member-removed" => "The member was removed from the subgroup.",
        "user-disabled" => {
            "The account was disabled: its sessions ended and its API tokens no longer work."
        }
        "user-enabled" => "The account was enabled again.",
        "role-granted" => "The role was granted.",
        "role-revoked" => "The role was revoked.",
        "role-unchanged" => {
            "Nothing changed: the account already had, or already lacked, that role."
        }
        _ => return None,
    })
}

fn user_row(r: &sx_store::UserRecord, groups: &[Subgroup], me: UserId) -> UserRow {
    UserRow {
        handle: r.user.handle.clone(),
        path: encode_component(&r.user.handle),
        name: visible(&r.user.display_name),
        roles: r
            .user
            .roles
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        disabled: r.disabled,
        created: format_time(r.user.created_at),
        subgroups: groups
            .iter()
            .filter(|g| g.is_member(r.user.id) || g.is_coordinator(r.user.id))
            .map(|g| g.slug.clone())
            .collect::<Vec<_>>()
            .join(", "),
        own: r.user.id == me,
        held: r.user.roles.iter().map(|r| r.as_str()).collect(),
        lacking: Role::ALL
            .iter()
            .filter(|role| !r.user.has_role(**role))
            .map(|r| r.as_str())
            .collect(),
    }
}

/// The audit section for an admin: a page of records older than `before`, with ids shown as
/// the handles and slugs they have now.
async fn audit_section(
    state: &AppState,
    user: &sx_domain::User,
    before: Option<u64>,
    handles: &HashMap<UserId, String>,
    subgroups: &[Subgroup],
) -> Result<AuditSection, PageError> {
    let filter = AuditFilter {
        before,
        ..AuditFilter::newest(AUDIT_PAGE)
    };
    let records = shared::audit_trail(&state.store, Actor::User(user), &filter)
        .await
        .map_err(ApiError::from)?;
    let rows: Vec<AuditRow> = records
        .iter()
        .map(|r| {
            let e = &r.event;
            let actor = match e.actor.user() {
                Some(id) => handles.get(&id).cloned().unwrap_or_else(|| id.to_string()),
                None => e.actor.to_string(),
            };
            let target = match e.target {
                AuditTarget::User(id) => handles
                    .get(&id)
                    .map_or_else(|| e.target.to_string(), |h| format!("user {h}")),
                AuditTarget::Subgroup(id) => subgroups
                    .iter()
                    .find(|g| g.id == id)
                    .map_or_else(|| e.target.to_string(), |g| format!("subgroup {}", g.slug)),
                other => other.to_string(),
            };
            AuditRow {
                at: format_time(e.at),
                at_iso: machine_time(e.at),
                actor,
                action: e.action.as_str(),
                target,
                details: e
                    .details
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", visible(v)))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect();
    let older = records
        .last()
        .filter(|_| records.len() == AUDIT_PAGE as usize)
        .map(|r| r.seq);
    Ok(AuditSection {
        rows,
        older,
        paged: before.is_some(),
    })
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
    notice: Option<&'static str>,
    error: Option<String>,
    invitation: Option<(String, String)>,
    audit_before: Option<u64>,
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
            .map(|r| user_row(&r, &subgroups, user.id)),
    };
    let accounts = state.store.list_users().await?;
    let handles: HashMap<UserId, String> = accounts
        .iter()
        .map(|r| (r.user.id, r.user.handle.clone()))
        .collect();
    let users = accounts
        .iter()
        .take(MAX_USERS_LISTED)
        .map(|r| user_row(r, &subgroups, user.id))
        .collect();
    let audit = if user.may_manage_accounts() {
        Some(audit_section(state, &user, audit_before, &handles, &subgroups).await?)
    } else {
        None
    };
    let joined = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    Ok(AdminPage {
        shell: Shell::new(visitor, "Administration", Nav::Admin),
        is_admin: user.has_role(Role::Admin),
        manage_subgroups: user.may_manage_subgroups(),
        manage_accounts: user.may_manage_accounts(),
        notice,
        error,
        invitation,
        subgroups: subgroups
            .iter()
            .map(|s| SubgroupRow {
                name: visible(&s.name),
                slug: s.slug.clone(),
                kind: s.kind.to_string(),
                routing: joined(
                    s.routing
                        .languages
                        .iter()
                        .map(ToString::to_string)
                        .chain(s.routing.vectors.iter().map(ToString::to_string))
                        .collect(),
                ),
                members: s
                    .members
                    .iter()
                    .map(|m| handles.get(m).cloned().unwrap_or_else(|| m.to_string()))
                    .collect(),
                coordinators: s.coordinators.len(),
            })
            .collect(),
        approvals,
        lookup: lookup.trim().to_string(),
        found,
        more_users: accounts.len().saturating_sub(MAX_USERS_LISTED),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        languages: Language::ALL.iter().map(|l| l.as_str()).collect(),
        vectors: AttackVector::ALL.iter().map(|v| v.as_str()).collect(),
        audit,
    })
}

/// `GET /admin`.
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<AdminQuery>,
) -> Result<Response, PageError> {
    let p = page(
        &state,
        &visitor,
        &q.user,
        admin_notice(&q.done),
        None,
        None,
        q.audit_before.trim().parse().ok(),
    )
    .await?;
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
                None,
                Some((form.email.trim().to_string(), link)),
                None,
            )
            .await?;
            Ok(render(&visitor, StatusCode::CREATED, &p))
        }
        Err(e) => {
            let status = e.code.status();
            let p = page(&state, &visitor, "", None, Some(e.message), None, None).await?;
            Ok(render(&visitor, status, &p))
        }
    }
}

/// Runs one administrative action of [`crate::admin`] for the signed-in staff member after
/// the CSRF check: on success, back to `/admin` with the notice the action names; on refusal,
/// the page again with the reason (and the looked-up account, if any).
async fn act<F, Fut>(
    state: &AppState,
    visitor: &Visitor,
    csrf: &str,
    lookup: &str,
    action: F,
) -> Result<Response, PageError>
where
    F: FnOnce(sx_domain::User) -> Fut,
    Fut: std::future::Future<Output = Result<&'static str, AdminError>>,
{
    let user = require_staff(visitor)?.clone();
    visitor.verify(csrf)?;
    match action(user).await {
        Ok(done) => {
            let back = if lookup.is_empty() {
                format!("/admin?done={done}")
            } else {
                format!("/admin?done={done}&user={}", encode_component(lookup))
            };
            Ok(see_other(visitor, &back))
        }
        Err(e) => {
            let e = ApiError::from(e);
            let status = e.code.status();
            let p = page(
                state,
                visitor,
                lookup,
                None,
                Some(e.message.clone()),
                None,
                None,
            )
            .await?;
            // Logs the cause of a store failure, as every API error does.
            let _ = PageError::from(e);
            Ok(render(visitor, status, &p))
        }
    }
}

/// Reads a field of a name/value form (the first of that name).
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Every value of a repeated field, parsed.
fn parse_each<T: std::str::FromStr + Ord>(
    fields: &[(String, String)],
    name: &str,
    what: &str,
) -> Result<BTreeSet<T>, AdminError> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse().map_err(|_| {
                AdminError::Invalid(format!(
                    "unknown {what} {:?}",
                    v.chars().take(40).collect::<String>()
                ))
            })
        })
        .collect()
}

/// `POST /admin/subgroups`: creates a subgroup (slug, name, the languages and attack vectors
/// it takes, each a repeated `language` / `vector` field).
pub async fn create_subgroup(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let new = parse_each(&fields, "language", "language").and_then(|languages| {
        Ok(NewSubgroup {
            slug: field(&fields, "slug").trim().to_string(),
            name: field(&fields, "name").to_string(),
            languages,
            vectors: parse_each(&fields, "vector", "attack vector")?,
            coordinators: Vec::new(),
        })
    });
    act(
        &state,
        &visitor,
        field(&fields, "csrf"),
        "",
        |user| async move {
            shared::create_subgroup(&store, Actor::User(&user), new?)
                .await
                .map(|_| "subgroup-created")
        },
    )
    .await
}

/// The membership forms.
#[derive(Debug, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    csrf: String,
    /// The subgroup's slug.
    subgroup: String,
    handle: String,
}

/// `POST /admin/subgroups/members`: adds an expert to a subgroup.
pub async fn add_member(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<MemberForm>,
) -> Result<Response, PageError> {
    change_membership(state, visitor, form, true).await
}

/// `POST /admin/subgroups/members/remove`: removes a member from a subgroup.
pub async fn remove_member(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<MemberForm>,
) -> Result<Response, PageError> {
    change_membership(state, visitor, form, false).await
}

/// Adds the form's handle to its subgroup (`add`), or removes it.
async fn change_membership(
    state: AppState,
    visitor: Visitor,
    form: MemberForm,
    add: bool,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let handle = form.handle.trim().to_string();
    let slug = form.subgroup.trim().to_string();
    act(&state, &visitor, &form.csrf, "", |user| async move {
        let actor = Actor::User(&user);
        if add {
            shared::add_member(&store, actor, &slug, &handle)
                .await
                .map(|_| "member-added")
        } else {
            shared::remove_member(&store, actor, &slug, &handle)
                .await
                .map(|_| "member-removed")
        }
    })
    .await
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn set_disabled(
    state: AppState,
    visitor: Visitor,
    handle: String,
    csrf: String,
    disabled: bool,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let done = if disabled {
        "user-disabled"
    } else {
        "user-enabled"
    };
    let lookup = handle.clone();
    act(&state, &visitor, &csrf, &lookup, |user| async move {
        shared::set_disabled(&store, Actor::User(&user), &handle, disabled)
            .await
            .map(|_| done)
    })
    .await
}

/// `POST /admin/users/{handle}/disable` (admins): the account can no longer log in or use its
/// tokens; its sessions end at once.
pub async fn disable_user(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(handle): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    set_disabled(state, visitor, handle, form.csrf, true).await
}

/// `POST /admin/users/{handle}/enable` (admins).
pub async fn enable_user(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(handle): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    set_disabled(state, visitor, handle, form.csrf, false).await
}

/// The role forms.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

async fn change_role(
    state: AppState,
    visitor: Visitor,
    handle: String,
    form: RoleForm,
    grant: bool,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let lookup = handle.clone();
    let role = form.role.trim().parse::<Role>();
    act(&state, &visitor, &form.csrf, &lookup, |user| async move {
        let role = role.map_err(|_| AdminError::Invalid("choose a role".into()))?;
        let (_, changed) =
            shared::set_role(&store, Actor::User(&user), &handle, role, grant).await?;
        Ok(match (changed, grant) {
            (false, _) => "role-unchanged",
            (true, true) => "role-granted",
            (true, false) => "role-revoked",
        })
    })
    .await
}

/// `POST /admin/users/{handle}/roles/grant` (admins): gives the account a role.
pub async fn grant_role(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(handle): Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<Response, PageError> {
    change_role(state, visitor, handle, form, true).await
}

/// `POST /admin/users/{handle}/roles/revoke` (admins): takes a role away; never the account's
/// only role, nor the last enabled admin's admin role.
pub async fn revoke_role(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(handle): Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<Response, PageError> {
    change_role(state, visitor, handle, form, false).await
}
