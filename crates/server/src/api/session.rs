//! Login sessions: `POST /api/v1/session` (login), `DELETE /api/v1/session` (logout),
//! `GET /api/v1/me`.

use std::time::Instant;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sx_store::{SecretHash, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::{self, MAX_PASSWORD_BYTES};
use crate::api::views::UserView;
use crate::auth::{Caller, ClientIp, Credential, clear_session_cookie, session_cookie};
use crate::error::{ApiError, ErrorCode, Json};

/// Login input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login handle.
    pub handle: String,
    /// Password.
    pub password: String,
}

/// Login answer (the session itself is in the `Set-Cookie` header).
#[derive(Debug, Serialize)]
pub struct LoginResponse {
    /// Who is logged in.
    pub user: UserView,
    /// Send this in `X-CSRF-Token` with every state-changing request of this session.
    pub csrf_token: String,
    /// When the session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /api/v1/session`: logs in with handle and password.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    if req.handle.is_empty() || req.handle.len() > 64 || req.password.len() > MAX_PASSWORD_BYTES {
        return Err(wrong_credentials());
    }
    let handle = req.handle.to_ascii_lowercase();
    state
        .login_limiter
        .check(
            &[format!("ip:{ip}"), format!("account:{handle}")],
            Instant::now(),
        )
        .map_err(ApiError::rate_limited)?;
    let record = state.store.get_user_by_handle(&req.handle).await?;
    let phc = record
        .as_ref()
        .filter(|r| !r.disabled)
        .and_then(|r| r.password_hash.clone());
    let ok = accounts::verify_password_async(phc, req.password).await?;
    let Some(record) = record.filter(|_| ok) else {
        tracing::info!(%ip, "failed login");
        return Err(wrong_credentials());
    };
    let now = OffsetDateTime::now_utc();
    let session = accounts::start_session(&state, record.user.id, now).await?;
    tracing::info!(user = %record.user.id, %ip, "login");
    let max_age = (session.record.expires_at - now).whole_seconds();
    let cookie = session_cookie(&state, &session.secret, max_age);
    let body = LoginResponse {
        user: (&record.user).into(),
        csrf_token: session.csrf_token,
        expires_at: session.record.expires_at,
    };
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(body),
    )
        .into_response())
}

fn wrong_credentials() -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, "wrong handle or password")
}

/// `DELETE /api/v1/session`: logs out (ends the session on every replica).
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let Credential::Session { secret } = &caller.credential else {
        return Err(ApiError::invalid(
            "API tokens have no session to end; revoke the token with DELETE /api/v1/tokens/{id}",
        ));
    };
    state.store.delete_session(SecretHash::of(secret)).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_session_cookie(&state))],
    )
        .into_response())
}

/// Answer of `GET /api/v1/me`.
#[derive(Debug, Serialize)]
pub struct MeResponse {
    /// The caller.
    pub user: UserView,
    /// `session` or `token`.
    pub authenticated_by: &'static str,
    /// The session's CSRF token (sessions only).
    pub csrf_token: Option<String>,
}

/// `GET /api/v1/me`: who the caller is.
pub async fn me(caller: Caller) -> Json<MeResponse> {
    let (authenticated_by, csrf_token) = match &caller.credential {
        Credential::Session { secret } => ("session", Some(accounts::csrf_token_for(secret))),
        Credential::Token { .. } => ("token", None),
    };
    Json(MeResponse {
        user: caller.user().into(),
        authenticated_by,
        csrf_token,
    })
}
