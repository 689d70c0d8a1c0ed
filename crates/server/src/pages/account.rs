//! Accounts in the browser: `/login`, `/logout`, `/register` (maintainers), `/invite/{token}`
//! (experts and coordinators) and `/settings` (password, API tokens, notification
//! preferences, the e-mail intake address).
//!
//! Each form calls the JSON API's own handler (`api::session::login`, `api::users::register`,
//! `api::users::accept`, `api::tokens::*`, `notify::api::{get, put}`,
//! `mail::api::{current, make_new, remove}`), so rate limits,
//! password policy, address and webhook checks and timing-safe comparisons are the API's; the
//! page only adds the form's CSRF check and turns the answer into a redirect or an inline
//! error.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sx_store::{SecretHash, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts;
use crate::api;
use crate::auth::{ClientIp, Credential};
use crate::error::{ApiError, ErrorCode, Json};
use crate::notify::Event;
use crate::pages::visitor::Visitor;
use crate::pages::{
    Nav, PageError, PageForm, Shell, format_time, render, safe_next, see_other, take_cookies,
};

/// Query of `/login`.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    /// Where to go after logging in.
    #[serde(default)]
    pub next: String,
}

/// The login page.
#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    shell: Shell,
    error: Option<String>,
    handle: String,
    next: String,
}

/// `GET /login`.
pub async fn login_form(visitor: Visitor, Query(q): Query<NextQuery>) -> Response {
    if visitor.caller.is_some() {
        return see_other(&visitor, safe_next(&q.next));
    }
    let page = LoginPage {
        shell: Shell::new(&visitor, "Log in", Nav::None),
        error: None,
        handle: String::new(),
        next: safe_next(&q.next).to_string(),
    };
    render(&visitor, StatusCode::OK, &page)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    handle: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Logs in through the API handler; on success copies its session cookie.
async fn sign_in(
    state: &AppState,
    visitor: &mut Visitor,
    ip: &str,
    handle: &str,
    password: &str,
) -> Result<(), ApiError> {
    let answer = api::session::login(
        State(state.clone()),
        ClientIp(ip.to_string()),
        Json(api::session::LoginRequest {
            handle: handle.to_string(),
            password: password.to_string(),
        }),
    )
    .await?;
    take_cookies(&answer, visitor);
    Ok(())
}

/// `POST /login`.
pub async fn login(
    State(state): State<AppState>,
    mut visitor: Visitor,
    ClientIp(ip): ClientIp,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    visitor.verify(&form.csrf)?;
    let next = safe_next(&form.next).to_string();
    match sign_in(
        &state,
        &mut visitor,
        &ip,
        form.handle.trim(),
        &form.password,
    )
    .await
    {
        Ok(()) => Ok(see_other(&visitor, &next)),
        Err(e) => {
            let status = e.code.status();
            let page = LoginPage {
                shell: Shell::new(&visitor, "Log in", Nav::None),
                error: Some(e.message),
                handle: form.handle,
                next,
            };
            Ok(render(&visitor, status, &page))
        }
    }
}

/// The logout confirmation.
#[derive(Debug, Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    shell: Shell,
}

/// `GET /logout`: a button (logging out changes state, so it is a POST).
pub async fn logout_form(visitor: Visitor) -> Response {
    if visitor.caller.is_none() {
        return see_other(&visitor, "/");
    }
    let page = LogoutPage {
        shell: Shell::new(&visitor, "Log out", Nav::None),
    };
    render(&visitor, StatusCode::OK, &page)
}

/// A form that only carries its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    mut visitor: Visitor,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let Some(caller) = visitor.caller.clone() else {
        return Ok(see_other(&visitor, "/"));
    };
    visitor.verify(&form.csrf)?;
    let answer = api::session::logout(State(state), caller).await?;
    take_cookies(&answer, &mut visitor);
    Ok(see_other(&visitor, "/"))
}

/// The registration page.
#[derive(Debug, Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    shell: Shell,
    error: Option<String>,
    handle: String,
    display_name: String,
    min_password: usize,
}

/// `GET /register`.
pub async fn register_form(visitor: Visitor) -> Response {
    let page = RegisterPage {
        shell: Shell::new(&visitor, "Register as a maintainer", Nav::None),
        error: None,
        handle: String::new(),
        display_name: String::new(),
        min_password: accounts::MIN_PASSWORD_CHARS,
    };
    render(&visitor, StatusCode::OK, &page)
}

/// The registration form.
#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    handle: String,
    #[serde(default)]
    display_name: String,
    password: String,
    password_again: String,
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// `POST /register`: creates the maintainer account and logs in.
pub async fn register(
    State(state): State<AppState>,
    mut visitor: Visitor,
    ClientIp(ip): ClientIp,
    PageForm(form): PageForm<RegisterForm>,
) -> Result<Response, PageError> {
    visitor.verify(&form.csrf)?;
    let result = if form.password == form.password_again {
        api::users::register(
            State(state.clone()),
            ClientIp(ip.clone()),
            Json(api::users::Register {
                handle: form.handle.trim().to_string(),
                password: form.password.clone(),
                display_name: optional(&form.display_name),
            }),
        )
        .await
        .map(drop)
    } else {
        Err(ApiError::invalid(
            "the two passwords differ; type the same password twice",
        ))
    };
    let result = match result {
        Ok(()) => {
            sign_in(
                &state,
                &mut visitor,
                &ip,
                form.handle.trim(),
                &form.password,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&visitor, "/submit")),
        Err(e) => {
            let page = RegisterPage {
                shell: Shell::new(&visitor, "Register as a maintainer", Nav::None),
                error: Some(e.message.clone()),
                handle: form.handle,
                display_name: form.display_name,
                min_password: accounts::MIN_PASSWORD_CHARS,
            };
            Ok(render(&visitor, e.code.status(), &page))
        }
    }
}

/// The invitation page.
#[derive(Debug, Template)]
#[template(path = "invite.html")]
pub struct InvitePage {
    shell: Shell,
    error: Option<String>,
    roles: String,
    expires: String,
    handle: String,
    display_name: String,
    min_password: usize,
}

/// `GET /invite/{token}`: shows what the invitation grants (without using it up).
pub async fn invite_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let now = OffsetDateTime::now_utc();
    let invitation = state
        .store
        .get_invitation(SecretHash::of(&token))
        .await?
        .filter(|i| i.accepted_at.is_none() && i.expires_at > now)
        .ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                "Invitation not valid",
                "This invitation is unknown, already used or expired. Ask the person who invited you for a new one.",
            )
        })?;
    let page = InvitePage {
        shell: Shell::new(&visitor, "Accept your invitation", Nav::None),
        error: None,
        roles: roles_text(invitation.roles.iter()),
        expires: format_time(invitation.expires_at),
        handle: String::new(),
        display_name: String::new(),
        min_password: accounts::MIN_PASSWORD_CHARS,
    };
    Ok(render(&visitor, StatusCode::OK, &page))
}

fn roles_text<'a>(roles: impl Iterator<Item = &'a sx_domain::Role>) -> String {
    roles
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    handle: String,
    #[serde(default)]
    display_name: String,
    password: String,
    password_again: String,
}

/// `POST /invite/{token}`: creates the account through the API and logs in.
pub async fn invite_accept(
    State(state): State<AppState>,
    mut visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    PageForm(form): PageForm<InviteForm>,
) -> Result<Response, PageError> {
    visitor.verify(&form.csrf)?;
    let result = if form.password == form.password_again {
        api::users::accept(
            State(state.clone()),
            ClientIp(ip.clone()),
            Json(api::users::Accept {
                token: token.clone(),
                handle: form.handle.trim().to_string(),
                password: form.password.clone(),
                display_name: optional(&form.display_name),
            }),
        )
        .await
        .map(drop)
    } else {
        Err(ApiError::invalid(
            "the two passwords differ; type the same password twice",
        ))
    };
    let result = match result {
        Ok(()) => {
            sign_in(
                &state,
                &mut visitor,
                &ip,
                form.handle.trim(),
                &form.password,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&visitor, "/queue")),
        Err(e) => {
            let page = InvitePage {
                shell: Shell::new(&visitor, "Accept your invitation", Nav::None),
                error: Some(e.message.clone()),
                roles: String::new(),
                expires: String::new(),
                handle: form.handle,
                display_name: form.display_name,
                min_password: accounts::MIN_PASSWORD_CHARS,
            };
            Ok(render(&visitor, e.code.status(), &page))
        }
    }
}

/// One API token as listed.
#[derive(Debug)]
pub struct TokenRow {
    id: String,
    name: String,
    created: String,
    expires: String,
    last_used: String,
    revoked: Option<String>,
}

/// One event a user can be told about, as a checkbox.
#[derive(Debug)]
pub struct EventChoice {
    name: &'static str,
    label: &'static str,
    checked: bool,
}

/// The notification preferences as the form shows them (from `GET /api/v1/me/notifications`).
#[derive(Debug)]
pub struct NotifyView {
    email: String,
    events: Vec<EventChoice>,
    webhook_url: String,
    secret_set: bool,
    email_delivery: bool,
}

/// What a settings form just produced that is shown once: a token, a webhook secret or an
/// intake address.
#[derive(Debug, Default)]
pub struct Secrets {
    token: Option<String>,
    webhook: Option<String>,
    mail_address: Option<String>,
}

/// The e-mail intake section (maintainers only), from `GET /api/v1/me/mail-intake`'s function.
#[derive(Debug)]
pub struct MailIntakeSection {
    available: bool,
    address_set: bool,
    created: String,
    last_used: String,
    sender: Option<String>,
}

impl From<crate::mail::api::MailIntakeView> for MailIntakeSection {
    fn from(v: crate::mail::api::MailIntakeView) -> Self {
        MailIntakeSection {
            available: v.available,
            address_set: v.address_set,
            created: v.created_at.map(format_time).unwrap_or_default(),
            last_used: v.last_used_at.map_or_else(|| "never".into(), format_time),
            sender: v.sender,
        }
    }
}

/// The settings page.
#[derive(Debug, Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    shell: Shell,
    handle: String,
    display_name: String,
    roles: String,
    notice: Option<&'static str>,
    error: Option<String>,
    new_token: Option<String>,
    new_webhook_secret: Option<String>,
    new_mail_address: Option<String>,
    tokens: Vec<TokenRow>,
    notify: NotifyView,
    mail: Option<MailIntakeSection>,
    min_password: usize,
}

/// Query of `/settings`.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    /// What just succeeded (a fixed key, never echoed).
    #[serde(default)]
    pub done: String,
}

fn settings_notice(done: &str) -> Option<&'static str> {
    match done {
        "password" => Some("Your password was changed."),
        "token-revoked" => Some("The token was revoked; it no longer works."),
        "notifications" => Some("Your notification preferences were saved."),
        "mail-intake-removed" => {
            Some("Your intake address was removed; mail sent to it is refused from now on.")
        }
        // A form from a stale page (another tab, the back button): nothing was left to do.
        "token-gone" => Some(
            "That token was already revoked (perhaps in another tab) or no longer exists; nothing changed.",
        ),
        "mail-intake-gone" => Some(
            "That intake address was already removed (perhaps in another tab); nothing changed.",
        ),
        _ => None,
    }
}

/// The events in the order and words the form shows them.
fn event_label(event: Event) -> &'static str {
    match event {
        Event::ReportAttached => "The automated report is attached to a case you forwarded",
        Event::Queued => "A case enters your subgroup's queue (experts)",
        Event::Assessed => "An expert submits an assessment of your case",
        Event::SecondReview => "A second reviewer gives their verdict on your case",
        Event::Decided => "A maintainer records the decision on your project's case",
        Event::Published => "Your case is published",
    }
}

fn notify_view(v: crate::notify::api::NotificationSettingsView, defaults: bool) -> NotifyView {
    let chosen: Vec<String> = if defaults {
        crate::notify::default_events().into_iter().collect()
    } else {
        v.events
    };
    NotifyView {
        email: v.email.unwrap_or_default(),
        events: Event::ALL
            .iter()
            .map(|e| EventChoice {
                name: e.name(),
                label: event_label(*e),
                checked: chosen.iter().any(|c| c == e.name()),
            })
            .collect(),
        webhook_url: v
            .webhook
            .as_ref()
            .map(|w| w.url.clone())
            .unwrap_or_default(),
        secret_set: v.webhook.as_ref().is_some_and(|w| w.secret_set),
        email_delivery: v.email_delivery_configured,
    }
}

async fn settings_page(
    state: &AppState,
    visitor: &Visitor,
    notice: Option<&'static str>,
    error: Option<String>,
    secrets: Secrets,
) -> Result<SettingsPage, PageError> {
    let caller = visitor.require()?.clone();
    let user = caller.user().clone();
    let stored = state.store.get_notify_settings(user.id).await?;
    let notify = crate::notify::api::get(State(state.clone()), caller.clone())
        .await?
        .0;
    // Nothing saved yet: the boxes show what saving would choose (the API's defaults).
    let notify = notify_view(notify, stored.is_none());
    let mail = if user.has_role(sx_domain::Role::Maintainer) {
        Some(crate::mail::api::current(state, &caller).await?.into())
    } else {
        None
    };
    let tokens = api::tokens::list(State(state.clone()), caller).await?.0;
    let tokens = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: format_time(t.created_at),
            expires: t.expires_at.map_or_else(|| "never".into(), format_time),
            last_used: t.last_used_at.map_or_else(|| "never".into(), format_time),
            revoked: t.revoked_at.map(format_time),
        })
        .collect();
    Ok(SettingsPage {
        shell: Shell::new(visitor, "Settings", Nav::Settings),
        handle: user.handle.clone(),
        display_name: user.display_name.clone(),
        roles: roles_text(user.roles.iter()),
        notice,
        error,
        new_token: secrets.token,
        new_webhook_secret: secrets.webhook,
        new_mail_address: secrets.mail_address,
        tokens,
        notify,
        mail,
        min_password: accounts::MIN_PASSWORD_CHARS,
    })
}

/// `GET /settings`.
pub async fn settings(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let page = settings_page(
        &state,
        &visitor,
        settings_notice(&q.done),
        None,
        Secrets::default(),
    )
    .await?;
    Ok(render(&visitor, StatusCode::OK, &page))
}

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current: String,
    password: String,
    password_again: String,
}

/// Checks the current password and stores the new one's hash.
async fn set_password(
    state: &AppState,
    visitor: &Visitor,
    form: &PasswordForm,
) -> Result<(), ApiError> {
    let Some(caller) = visitor.caller.as_ref() else {
        return Err(ApiError::unauthenticated());
    };
    if form.password != form.password_again {
        return Err(ApiError::invalid(
            "the two new passwords differ; type the same password twice",
        ));
    }
    accounts::check_password_policy(&form.password)?;
    let user = caller.user().id;
    let stored = state
        .store
        .get_user(user)
        .await?
        .and_then(|r| r.password_hash);
    if !accounts::verify_password_async(stored, form.current.clone()).await? {
        return Err(ApiError::forbidden(
            "the current password is wrong; type the password you log in with",
        ));
    }
    let new = form.password.clone();
    let hash = tokio::task::spawn_blocking(move || accounts::hash_password(&new))
        .await
        .map_err(ApiError::internal)??;
    state.store.set_password_hash(user, Some(&hash)).await?;
    tracing::info!(user = %user, "password changed");
    Ok(())
}

/// `POST /settings/password`.
pub async fn change_password(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    visitor.require()?;
    visitor.verify(&form.csrf)?;
    match set_password(&state, &visitor, &form).await {
        Ok(()) => Ok(see_other(&visitor, "/settings?done=password")),
        Err(e) => {
            let status = e.code.status();
            let page =
                settings_page(&state, &visitor, None, Some(e.message), Secrets::default()).await?;
            Ok(render(&visitor, status, &page))
        }
    }
}

/// `POST /settings/notifications`: the notification form, saved through
/// `PUT /api/v1/me/notifications` (whose checks of the address, the events and the webhook URL
/// apply unchanged). A webhook secret the server generated is shown once, on this answer.
///
/// The form arrives as name/value pairs because each chosen event is one `event` field.
pub async fn save_notifications(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    visitor.verify(field("csrf"))?;
    let request = crate::notify::api::PutNotificationSettings {
        email: Some(field("email").to_string()),
        events: Some(
            fields
                .iter()
                .filter(|(k, _)| k == "event")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
        webhook_url: Some(field("webhook_url").to_string()),
        rotate_webhook_secret: field("rotate_webhook_secret") == "yes",
    };
    match crate::notify::api::put(State(state.clone()), caller, Json(request)).await {
        Ok(Json(saved)) => match saved.webhook_secret {
            Some(secret) => {
                let secrets = Secrets {
                    webhook: Some(secret),
                    ..Secrets::default()
                };
                let page = settings_page(
                    &state,
                    &visitor,
                    settings_notice("notifications"),
                    None,
                    secrets,
                )
                .await?;
                Ok(render(&visitor, StatusCode::OK, &page))
            }
            None => Ok(see_other(
                &visitor,
                "/settings?done=notifications#notifications",
            )),
        },
        Err(e) => {
            let status = e.code.status();
            let page =
                settings_page(&state, &visitor, None, Some(e.message), Secrets::default()).await?;
            Ok(render(&visitor, status, &page))
        }
    }
}

/// The new-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    expires_in_days: String,
}

/// `POST /settings/tokens`: creates a token and shows its secret once (this answer is the only
/// place it appears, and like every page it is `no-store`).
pub async fn create_token(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    visitor.verify(&form.csrf)?;
    if !matches!(caller.credential, Credential::Session { .. }) {
        return Err(PageError::login(&visitor.path));
    }
    let days = match form.expires_in_days.trim() {
        "" => Ok(None),
        d => d.parse::<u32>().map(Some).map_err(|_| {
            ApiError::invalid("the lifetime is a whole number of days, or empty for none")
        }),
    };
    let created = match days {
        Ok(expires_in_days) => {
            api::tokens::create(
                State(state.clone()),
                caller,
                Json(api::tokens::CreateToken {
                    name: form.name.clone(),
                    expires_in_days,
                }),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let outcome = match created {
        Ok(answer) => {
            let body: serde_json::Value = crate::pages::json_of(answer).await?;
            let secret = body["token_secret"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            Ok(Secrets {
                token: Some(secret),
                ..Secrets::default()
            })
        }
        Err(e) => Err(e),
    };
    shown_once(&state, &visitor, outcome).await
}

/// The settings page answering a form that made a secret: the secret shown once (`201`), or
/// the API's refusal inline with its status.
async fn shown_once(
    state: &AppState,
    visitor: &Visitor,
    outcome: Result<Secrets, ApiError>,
) -> Result<Response, PageError> {
    let (status, error, secrets) = match outcome {
        Ok(secrets) => (StatusCode::CREATED, None, secrets),
        Err(e) => (e.code.status(), Some(e.message), Secrets::default()),
    };
    let page = settings_page(state, visitor, None, error, secrets).await?;
    Ok(render(visitor, status, &page))
}

/// `POST /settings/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    visitor.verify(&form.csrf)?;
    match api::tokens::revoke(State(state), caller, crate::error::Path(id)).await {
        Ok(_) => Ok(see_other(&visitor, "/settings?done=token-revoked")),
        // Revoked meanwhile (a stale tab): say so on the settings page, not as an error page.
        Err(e) if e.code == ErrorCode::NotFound => {
            Ok(see_other(&visitor, "/settings?done=token-gone"))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/mail-intake`: makes a new intake address through the API's function and
/// shows it once (this answer is the only place it appears, and like every page it is
/// `no-store`); the old address stops working at once.
pub async fn new_mail_intake(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    visitor.verify(&form.csrf)?;
    let outcome = crate::mail::api::make_new(&state, &caller)
        .await
        .map(|made| Secrets {
            mail_address: made.address,
            ..Secrets::default()
        });
    shown_once(&state, &visitor, outcome).await
}

/// `POST /settings/mail-intake/remove`: removes the intake address through the API's function.
pub async fn remove_mail_intake(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let caller = visitor.require()?.clone();
    visitor.verify(&form.csrf)?;
    let done = match crate::mail::api::remove(&state, &caller).await {
        Ok(()) => "/settings?done=mail-intake-removed#mail-intake",
        // Removed meanwhile (a stale tab): say so on the settings page, not as an error page.
        Err(e) if e.code == ErrorCode::NotFound => "/settings?done=mail-intake-gone#mail-intake",
        Err(e) => return Err(e.into()),
    };
    Ok(see_other(&visitor, done))
}
