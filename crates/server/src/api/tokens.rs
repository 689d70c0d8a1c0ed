//! Personal API tokens: `POST/GET /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sx_store::Store;
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::{self, token_id};
use crate::auth::{Caller, Credential};
use crate::error::{ApiError, ErrorCode, Json, Path};

/// Longest token lifetime, in days.
pub const MAX_TOKEN_DAYS: u32 = 366;

/// Input of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A label, e.g. "laptop CLI".
    pub name: String,
    /// Lifetime in days (1–366); no expiry when absent.
    pub expires_in_days: Option<u32>,
}

/// A token as listed (never the secret).
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// Public id (for revocation).
    pub id: String,
    /// Label.
    pub name: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Last use.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Revocation time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&sx_store::ApiToken> for TokenView {
    fn from(t: &sx_store::ApiToken) -> Self {
        TokenView {
            id: token_id(&t.token_hash),
            name: t.name.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// Answer of `POST /api/v1/tokens`: the only time the secret is shown.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    /// The token as listed.
    #[serde(flatten)]
    pub token: TokenView,
    /// The secret: send it as `Authorization: Bearer <token>`. It cannot be shown again.
    pub token_secret: String,
}

/// `POST /api/v1/tokens`: creates a token. Only a logged-in session may, so a leaked token
/// cannot mint more.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateToken>,
) -> Result<Response, ApiError> {
    if !matches!(caller.credential, Credential::Session { .. }) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "create API tokens from a logged-in session, not with a token",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let expires_at = match req.expires_in_days {
        Some(days @ 1..=MAX_TOKEN_DAYS) => Some(now + time::Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "expires_in_days must be between 1 and {MAX_TOKEN_DAYS}"
            )));
        }
        None => None,
    };
    let issued =
        accounts::issue_token(&state.store, caller.user().id, &req.name, expires_at, now).await?;
    tracing::info!(user = %caller.user().id, token = %token_id(&issued.record.token_hash), "API token created");
    let body = CreatedToken {
        token: (&issued.record).into(),
        token_secret: issued.secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/tokens`: the caller's tokens.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.store.list_api_tokens(caller.user().id).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens.
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let tokens = state.store.list_api_tokens(caller.user().id).await?;
    let token = tokens
        .iter()
        .find(|t| t.revoked_at.is_none() && token_id(&t.token_hash) == id)
        .ok_or_else(|| ApiError::not_found("token"))?;
    state
        .store
        .revoke_api_token(token.token_hash, OffsetDateTime::now_utc())
        .await?;
    tracing::info!(user = %caller.user().id, token = %id, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
