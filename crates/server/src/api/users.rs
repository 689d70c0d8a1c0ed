//! Joining: maintainers register themselves (`POST /api/v1/users`); experts and coordinators
//! join only through an invitation (`POST /api/v1/invitations`, then
//! `POST /api/v1/invitations/accept`).
//!
//! An invitation token is shown once to the inviter (to send to the invitee) and stored hashed.
//! Coordinators may invite experts; admins may invite any role. Accepting checks the handle and
//! password first, then consumes the invitation in one statement (so a token works once), then
//! creates the account and, if the invitation names a subgroup, adds the new expert to it.

use std::collections::BTreeSet;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sx_domain::{Role, SubgroupId, UserId};
use sx_store::{SecretHash, Store, StoreError};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::{self, NewUser};
use crate::api::views::UserView;
use crate::auth::{Caller, ClientIp};
use crate::error::{ApiError, ErrorCode, Json};

/// How long an invitation stays valid.
pub const INVITATION_DAYS: i64 = 14;

/// Input of `POST /api/v1/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// Login handle (letters, digits, `-`, `_`, `.`).
    pub handle: String,
    /// Password (at least 12 characters).
    pub password: String,
    /// Name to show.
    pub display_name: Option<String>,
}

fn check_display_name(name: Option<&str>) -> Result<(), ApiError> {
    match name {
        Some(n)
            if n.trim().is_empty()
                || n.chars().count() > 100
                || n.chars().any(char::is_control) =>
        {
            Err(ApiError::invalid(
                "display_name is 1-100 characters without control characters",
            ))
        }
        _ => Ok(()),
    }
}

/// `POST /api/v1/users`: a maintainer registers (rate-limited per IP like logins).
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<Register>,
) -> Result<Response, ApiError> {
    state
        .login_limiter
        .check(&[format!("register-ip:{ip}")], Instant::now())
        .map_err(ApiError::rate_limited)?;
    check_display_name(req.display_name.as_deref())?;
    let new = NewUser {
        handle: req.handle,
        display_name: req.display_name,
        password: Some(req.password),
        roles: [Role::Maintainer].into_iter().collect(),
    };
    let user = accounts::create_user(&state.store, new, OffsetDateTime::now_utc()).await?;
    tracing::info!(user = %user.id, %ip, "maintainer registered");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}

/// Input of `POST /api/v1/invitations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// Where the invitation goes (recorded; sending it is the inviter's job for now).
    pub email: String,
    /// Roles granted on acceptance (default: expert).
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Subgroup the invitee joins (by slug).
    pub subgroup: Option<String>,
}

/// Answer of `POST /api/v1/invitations`.
#[derive(Debug, Serialize)]
pub struct CreatedInvitation {
    /// The secret to send to the invitee; shown only now.
    pub invitation_token: String,
    /// Roles it grants.
    pub roles: Vec<Role>,
    /// Subgroup it joins.
    pub subgroup_id: Option<SubgroupId>,
    /// Deadline for accepting.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /api/v1/invitations`: a coordinator invites an expert (admins may invite any role).
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<Invite>,
) -> Result<Response, ApiError> {
    let inviter = caller.user();
    let roles: BTreeSet<Role> = if req.roles.is_empty() {
        [Role::Expert].into_iter().collect()
    } else {
        req.roles.iter().copied().collect()
    };
    let allowed = inviter.has_role(Role::Admin)
        || (inviter.has_role(Role::Coordinator) && roles.iter().all(|r| *r == Role::Expert));
    if !allowed {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "coordinators may invite experts; only admins may grant other roles",
        ));
    }
    let email = req.email.trim();
    if email.len() > 254
        || !email.contains('@')
        || email.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(ApiError::invalid(
            "email must be an address such as expert@example.org",
        ));
    }
    let subgroup_id = match req.subgroup.as_deref() {
        Some(slug) => Some(
            state
                .store
                .get_subgroup_by_slug(slug)
                .await?
                .ok_or_else(|| ApiError::invalid(format!("no subgroup with the slug {slug:?}")))?
                .value
                .id,
        ),
        None => None,
    };
    let now = OffsetDateTime::now_utc();
    let (token, invitation) = accounts::issue_invitation(
        &state.store,
        accounts::InvitationSpec {
            email: email.to_string(),
            roles: roles.clone(),
            subgroup_id,
            invited_by: Some(inviter.id),
            valid_for: time::Duration::days(INVITATION_DAYS),
        },
        now,
    )
    .await?;
    let body = CreatedInvitation {
        invitation_token: token,
        roles: roles.into_iter().collect(),
        subgroup_id,
        expires_at: invitation.expires_at,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Input of `POST /api/v1/invitations/accept`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    /// The invitation token.
    pub token: String,
    /// Login handle.
    pub handle: String,
    /// Password (at least 12 characters).
    pub password: String,
    /// Name to show.
    pub display_name: Option<String>,
}

/// `POST /api/v1/invitations/accept`: the invitee creates their account.
pub async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<Accept>,
) -> Result<Response, ApiError> {
    state
        .login_limiter
        .check(&[format!("invite-ip:{ip}")], Instant::now())
        .map_err(ApiError::rate_limited)?;
    // Everything that can be refused is checked before the invitation is used up.
    accounts::check_handle(&req.handle)?;
    accounts::check_password_policy(&req.password)?;
    check_display_name(req.display_name.as_deref())?;
    if state.store.get_user_by_handle(&req.handle).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "that handle is taken; choose another",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let id = UserId::from_uuid(uuid::Uuid::now_v7());
    let invitation = match state
        .store
        .accept_invitation(SecretHash::of(&req.token), id, now)
        .await
    {
        Ok(invitation) => invitation,
        Err(StoreError::NotFound { .. }) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "the invitation is unknown, already used or expired; ask for a new one",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let new = NewUser {
        handle: req.handle,
        display_name: req.display_name,
        password: Some(req.password),
        roles: invitation.roles.clone(),
    };
    let user = accounts::create_user_with_id(&state.store, id, new, now).await?;
    if let Some(subgroup_id) = invitation.subgroup_id {
        join_subgroup(&state, subgroup_id, user.id).await?;
    }
    tracing::info!(user = %user.id, invited_by = ?invitation.invited_by, "invitation accepted");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}

async fn join_subgroup(
    state: &AppState,
    subgroup: SubgroupId,
    user: UserId,
) -> Result<(), ApiError> {
    for _ in 0..3 {
        let Some(mut current) = state.store.get_subgroup(subgroup).await? else {
            return Err(ApiError::internal(format!(
                "invitation names missing subgroup {subgroup}"
            )));
        };
        if current.value.members.contains(&user) {
            return Ok(());
        }
        current.value.members.push(user);
        match state
            .store
            .update_subgroup(&current.value, current.version)
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        "the subgroup kept changing; ask a coordinator to add you",
    ))
}
