//! `GET/POST/DELETE /api/v1/me/mail-intake`: the caller's own intake address.
//!
//! `POST` makes a new address (replacing any old one, which stops working at once) and is the
//! only answer that shows it; afterwards only whether one exists, when it was made and last
//! used are shown. The answer also says which sender address messages must come from (the
//! caller's notification address) and whether everything needed is in place (`ready`).
//!
//! The handlers are thin: [`current`], [`make_new`] and [`remove`] do the work, and the
//! E-mail intake section of `/settings` calls the same three.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sx_domain::Role;
use sx_store::{MailIntake, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::require_role;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, Json};

/// Answer of `GET/POST /api/v1/me/mail-intake`.
#[derive(Debug, Serialize)]
pub struct MailIntakeView {
    /// Whether this instance has a mail intake (an intake domain is configured).
    pub available: bool,
    /// The form of intake addresses here, e.g. `submit+TOKEN@intake.example.org`.
    pub address_form: Option<String>,
    /// Whether the caller has an intake address.
    pub address_set: bool,
    /// The address: present only in the answer of the `POST` that made it. Store it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// When the address was made.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When a message to it last became a case.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// The only sender accepted: the caller's notification address (`PUT
    /// /api/v1/me/notifications`); `null` when none is set.
    pub sender: Option<String>,
    /// Whether a message forwarded now would be accepted (intake available, address and
    /// sender set).
    pub ready: bool,
}

async fn view(
    state: &AppState,
    caller: &Caller,
    intake: Option<&MailIntake>,
    new_address: Option<String>,
) -> Result<MailIntakeView, ApiError> {
    let config = &state.config.mail;
    let sender = state
        .store
        .get_notify_settings(caller.user().id)
        .await?
        .and_then(|s| s.email);
    let available = config.intake_domain.is_some();
    Ok(MailIntakeView {
        available,
        address_form: super::address(config, "TOKEN"),
        address_set: intake.is_some(),
        address: new_address,
        created_at: intake.map(|i| i.created_at),
        last_used_at: intake.and_then(|i| i.last_used_at),
        ready: available && intake.is_some() && sender.is_some(),
        sender,
    })
}

/// The caller's intake address settings (without the address, which is shown only when made):
/// `GET /api/v1/me/mail-intake` and the settings page.
///
/// # Errors
/// When the store fails.
pub async fn current(state: &AppState, caller: &Caller) -> Result<MailIntakeView, ApiError> {
    let intake = state.store.get_mail_intake(caller.user().id).await?;
    view(state, caller, intake.as_ref(), None).await
}

/// Makes a new intake address for the caller, replacing the old one (which stops working at
/// once); the answer is the only place the address appears: `POST /api/v1/me/mail-intake` and
/// the settings page.
///
/// # Errors
/// When the caller is not a maintainer, the instance has no mail intake, or the store fails.
pub async fn make_new(state: &AppState, caller: &Caller) -> Result<MailIntakeView, ApiError> {
    let user = caller.user();
    require_role(user, Role::Maintainer)?;
    if state.config.mail.intake_domain.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "this instance has no mail intake (its operator has not set mail.intake_domain); forward changes with `s-express submit` or the web form",
        ));
    }
    let token = super::new_token();
    let intake = MailIntake {
        user_id: user.id,
        token_hash: super::token_hash(&token),
        created_at: OffsetDateTime::now_utc(),
        last_used_at: None,
    };
    state.store.put_mail_intake(&intake).await?;
    tracing::info!(user = %user.id, "mail intake address made");
    let address = super::address(&state.config.mail, &token);
    view(state, caller, Some(&intake), address).await
}

/// Removes the caller's intake address: `DELETE /api/v1/me/mail-intake` and the settings page.
///
/// # Errors
/// Not found when the caller has none; when the store fails.
pub async fn remove(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let user = caller.user();
    if !state.store.delete_mail_intake(user.id).await? {
        return Err(ApiError::not_found("mail intake address"));
    }
    tracing::info!(user = %user.id, "mail intake address removed");
    Ok(())
}

/// `GET /api/v1/me/mail-intake`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MailIntakeView>, ApiError> {
    Ok(Json(current(&state, &caller).await?))
}

/// `POST /api/v1/me/mail-intake`: makes a new intake address (shown once), replacing the old.
pub async fn create(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let body = make_new(&state, &caller).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /api/v1/me/mail-intake`: removes the caller's intake address.
pub async fn delete(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    remove(&state, &caller).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
