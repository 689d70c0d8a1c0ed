//! The server-rendered web UI: askama templates under `crates/server/templates/`, one struct
//! per page in these modules, mounted by [`router`].
//!
//! ## The model
//!
//! Pages are thin views over the same code the JSON API runs. A page that reads a case loads
//! it through [`crate::api::cases::load_visible`] and builds [`crate::api::views::CaseView`]
//! (so the TLP filtering is the API's own); a form that changes something calls the API
//! handler function itself (claim, assess, decide, comment, tokens, login...) with the
//! authenticated [`crate::auth::Caller`], so a rule is never decided twice. Which action
//! buttons a page offers is asked of the domain by a dry run of the same command
//! (`case.claim(&ctx, user).is_ok()`), never re-derived from roles.
//!
//! Authentication is the session cookie of [`crate::auth`]. Browsers cannot send the API's
//! `X-CSRF-Token` header from a form, so every state-changing form carries the token in a
//! hidden `csrf` field instead ([`visitor::Visitor::verify`]); before login a separate
//! random cookie plays the session's part, so the login form is protected too. Every answer
//! to a form is a `303 See Other` to a GET page (Post/Redirect/Get); a refused form renders
//! the page again with the error.
//!
//! Everything from a submission is attacker-controlled. Templates escape by default and no
//! template uses `|safe` on data; invisible and bidi characters are split out
//! ([`text::Segment`]) and drawn as visible markers. The Content-Security-Policy for HTML
//! ([`crate::security::PAGE_CONTENT_SECURITY_POLICY`]) allows only this binary's own style
//! sheet and images: no script at all.

pub mod account;
pub mod admin;
pub mod assets;
pub mod case;
pub mod detectors;
pub mod diff;
pub mod lists;
pub mod submit;
pub mod text;
pub mod visitor;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use sx_domain::Role;
use time::OffsetDateTime;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use visitor::Visitor;

/// The web pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(lists::home))
        .route("/static/{file}", get(assets::serve))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", get(account::logout_form).post(account::logout))
        .route(
            "/register",
            get(account::register_form).post(account::register),
        )
        .route(
            "/invite/{token}",
            get(account::invite_form).post(account::invite_accept),
        )
        .route("/settings", get(account::settings))
        .route("/settings/password", post(account::change_password))
        .route("/settings/tokens", post(account::create_token))
        .route("/settings/tokens/{id}/revoke", post(account::revoke_token))
        .route("/settings/notifications", post(account::save_notifications))
        .route("/settings/mail-intake", post(account::new_mail_intake))
        .route(
            "/settings/mail-intake/remove",
            post(account::remove_mail_intake),
        )
        .route("/submit", get(submit::form).post(submit::submit))
        .route("/cases", get(lists::published))
        .route("/cases/{id}", get(case::show))
        .route("/cases/{id}/claim", post(case::claim))
        .route("/cases/{id}/unclaim", post(case::unclaim))
        .route("/cases/{id}/assess", post(case::assess))
        .route("/cases/{id}/decide", post(case::decide))
        .route("/cases/{id}/comment", post(case::comment))
        .route(
            "/cases/{id}/second-review",
            post(case::request_second_review),
        )
        .route(
            "/cases/{id}/second-reviews/{review_id}",
            post(case::submit_second_review),
        )
        .route("/cases/{id}/embargo", post(case::propose_embargo))
        .route("/cases/{id}/embargo/approve", post(case::approve_embargo))
        .route("/detectors", get(detectors::index))
        .route("/detectors/{id}", get(detectors::show))
        .route("/queue", get(lists::queue))
        .route("/log", get(lists::log))
        .route("/admin", get(admin::show))
        .route("/admin/invitations", post(admin::invite))
        .route("/admin/subgroups", post(admin::create_subgroup))
        .route("/admin/subgroups/members", post(admin::add_member))
        .route(
            "/admin/subgroups/members/remove",
            post(admin::remove_member),
        )
        .route("/admin/users/{handle}/disable", post(admin::disable_user))
        .route("/admin/users/{handle}/enable", post(admin::enable_user))
        .route("/admin/users/{handle}/roles/grant", post(admin::grant_role))
        .route(
            "/admin/users/{handle}/roles/revoke",
            post(admin::revoke_role),
        )
}

/// The navigation entry a page belongs to (marked `aria-current`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    /// `/`.
    Home,
    /// `/submit`.
    Submit,
    /// `/queue`.
    Queue,
    /// `/cases` and case pages.
    Cases,
    /// `/log`.
    Log,
    /// `/admin`.
    Admin,
    /// `/settings`.
    Settings,
    /// Login, register and error pages.
    None,
}

/// The signed-in user as the layout shows them.
#[derive(Clone, Debug)]
pub struct NavUser {
    /// Login handle.
    pub handle: String,
    /// Holds the maintainer role.
    pub maintainer: bool,
    /// Holds the expert role.
    pub expert: bool,
    /// Coordinator or admin.
    pub staff: bool,
}

/// What the layout (`base.html`) needs on every page.
#[derive(Clone, Debug)]
pub struct Shell {
    /// The page title (before " · S-Express").
    pub title: String,
    /// Who is signed in.
    pub user: Option<NavUser>,
    /// The CSRF token for this visitor's forms (the logout button needs it).
    pub csrf: String,
    /// Which navigation entry is current.
    pub nav: Nav,
    /// The style sheet's URL (versioned by content hash).
    pub css: &'static str,
    /// The logo's URL.
    pub logo: &'static str,
}

impl Shell {
    /// The shell for `visitor` on a page called `title`.
    #[must_use]
    pub fn new(visitor: &Visitor, title: impl Into<String>, nav: Nav) -> Self {
        let user = visitor.caller.as_ref().map(|c| {
            let u = c.user();
            NavUser {
                handle: u.handle.clone(),
                maintainer: u.has_role(Role::Maintainer),
                expert: u.has_role(Role::Expert),
                staff: u.has_role(Role::Coordinator) || u.has_role(Role::Admin),
            }
        });
        Shell {
            title: title.into(),
            user,
            csrf: visitor.csrf(),
            nav,
            css: assets::css_url(),
            logo: assets::logo_url(),
        }
    }

    /// A shell for answers given before the visitor is known (errors, 404).
    #[must_use]
    pub fn anonymous(title: impl Into<String>) -> Self {
        Shell {
            title: title.into(),
            user: None,
            csrf: String::new(),
            nav: Nav::None,
            css: assets::css_url(),
            logo: assets::logo_url(),
        }
    }

    /// Whether the navigation entry named `key` (`"queue"`, `"cases"`...) is the current one
    /// (for `aria-current`).
    #[must_use]
    pub fn current(&self, key: &str) -> bool {
        let current = match self.nav {
            Nav::Home => "home",
            Nav::Submit => "submit",
            Nav::Queue => "queue",
            Nav::Cases => "cases",
            Nav::Log => "log",
            Nav::Admin => "admin",
            Nav::Settings => "settings",
            Nav::None => "",
        };
        current == key
    }
}

/// Renders a template to an HTML response with `status`, adding the visitor's cookies.
pub fn render(visitor: &Visitor, status: StatusCode, page: &impl Template) -> Response {
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => return PageError::internal(e).into_response(),
    };
    visitor.add_cookies(&mut response);
    response
}

/// `303 See Other` to `to` (Post/Redirect/Get), with the visitor's cookies.
pub fn see_other(visitor: &Visitor, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    visitor.add_cookies(&mut response);
    response
}

/// The error page.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Layout.
    pub shell: Shell,
    /// HTTP status code.
    pub status: u16,
    /// Headline.
    pub heading: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// A page that could not be shown: rendered with the error template, or a redirect to the
/// login page when the visitor must sign in first.
#[derive(Debug)]
pub struct PageError {
    /// Status to answer with.
    pub status: StatusCode,
    /// Headline.
    pub heading: String,
    /// Message, safe to show.
    pub message: String,
    /// Send the visitor to `/login?next=...` instead.
    pub login_then: Option<String>,
}

impl PageError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, heading: &str, message: impl Into<String>) -> Self {
        PageError {
            status,
            heading: heading.to_string(),
            message: message.into(),
            login_then: None,
        }
    }

    /// 404.
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such page, or you may not see it. If someone sent you a link to a case, \
             log in with the account that may see it.",
        )
    }

    /// The visitor must log in and come back to `next`.
    #[must_use]
    pub fn login(next: &str) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "Please log in",
            "This page needs an account.",
        );
        e.login_then = Some(next.to_string());
        e
    }

    /// A fault on our side (logged).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::internal(cause).into()
    }
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        let status = err.code.status();
        let heading = match err.code {
            ErrorCode::NotFound => "Not found",
            ErrorCode::Forbidden => "Not allowed",
            ErrorCode::CsrfFailed => "The form expired",
            ErrorCode::Unauthenticated => "Please log in",
            ErrorCode::RateLimited => "Too many attempts",
            ErrorCode::Conflict => "Changed meanwhile",
            ErrorCode::InvalidState => "Not possible now",
            ErrorCode::Internal => "Something went wrong",
            _ => "That did not work",
        };
        let message = if err.code == ErrorCode::NotFound {
            "There is no such page, or you may not see it.".to_string()
        } else {
            err.message.clone()
        };
        // The API error logs its cause (never shown) when it becomes a response.
        let _ = err.into_response();
        PageError::new(status, heading, message)
    }
}

impl From<sx_store::StoreError> for PageError {
    fn from(err: sx_store::StoreError) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Some(next) = self.login_then {
            return Redirect::to(&format!("/login?next={}", encode_component(&next)))
                .into_response();
        }
        let page = ErrorPage {
            shell: Shell::anonymous(self.heading.clone()),
            status: self.status.as_u16(),
            heading: self.heading,
            message: self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "the error page failed to render");
                let mut r = (self.status, "error").into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                r
            }
        }
    }
}

/// The HTML 404 for unknown paths outside `/api/`.
pub fn not_found_response() -> Response {
    PageError::not_found().into_response()
}

/// The HTML 405 for a known page path with the wrong method.
pub fn method_not_allowed_response() -> Response {
    PageError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Not possible here",
        "This page does not accept that kind of request. Go back and use the page's own forms.",
    )
    .into_response()
}

/// A URL-encoded form body whose rejections (malformed, too large) render the error page.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(crate::error::payload_too_large().into())
            }
            Err(rejection) => Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "That did not work",
                format!(
                    "the form could not be read ({}); go back, reload the page and try again",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// Copies the `Set-Cookie` headers of an API answer (login, logout) onto the visitor's answer.
pub fn take_cookies(from: &Response, visitor: &mut Visitor) {
    for v in from.headers().get_all(header::SET_COOKIE) {
        if let Ok(v) = v.to_str() {
            visitor.set_cookie(v.to_string());
        }
    }
}

/// Reads the JSON body of an API handler's answer.
///
/// # Errors
/// When the body is not the JSON expected (a bug).
pub async fn json_of<T: DeserializeOwned>(response: Response) -> Result<T, PageError> {
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .map_err(PageError::internal)?;
    serde_json::from_slice(&bytes).map_err(PageError::internal)
}

/// A local path to return to after a form (`next=`); anything else becomes `/`, so the
/// parameter cannot send the visitor to another site.
#[must_use]
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok { next } else { "/" }
}

/// Percent-encodes a query component (for `next=` and filter links).
#[must_use]
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `2026-11-21 09:05 UTC`.
#[must_use]
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `2026-11-21T09:05:00Z` for `<time datetime>`.
#[must_use]
pub fn machine_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A duration in words: `3 h 12 min`, `2 d 4 h`, `45 s`.
#[must_use]
pub fn format_duration(d: time::Duration) -> String {
    let secs = d.whole_seconds().unsigned_abs();
    let (days, hours, mins) = (secs / 86_400, (secs % 86_400) / 3600, (secs % 3600) / 60);
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {mins} min")
    } else if mins > 0 {
        format!("{mins} min")
    } else {
        format!("{secs} s")
    }
}

/// A case's short id for people: the last 8 hex digits of its UUID. Case ids are UUIDv7, whose
/// leading digits are a timestamp (two cases received in the same minute share them); the
/// trailing ones are random, and the full id in the URL ends with them.
#[must_use]
pub fn short_id(id: sx_domain::CaseId) -> String {
    let text = id.to_string();
    text.get(text.len().saturating_sub(8)..)
        .unwrap_or(&text)
        .to_string()
}

/// The title a case is shown under: its change's title (hidden characters written out), or
/// `Case <short id>` when the change had none (a plain diff without a commit message, or a
/// blank title).
#[must_use]
pub fn case_title(title: Option<&str>, id: sx_domain::CaseId) -> String {
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => text::visible(t),
        None => format!("Case {}", short_id(id)),
    }
}

/// The CSS class of a TLP label (`tlp-amber-strict`).
#[must_use]
pub fn tlp_class(label: sx_domain::TlpLabel) -> &'static str {
    use sx_domain::TlpLabel as T;
    match label {
        T::Clear => "tlp-clear",
        T::Green => "tlp-green",
        T::Amber => "tlp-amber",
        T::AmberStrict => "tlp-amber-strict",
        T::Red => "tlp-red",
    }
}

/// What a TLP label means, in one line.
#[must_use]
pub fn tlp_meaning(label: sx_domain::TlpLabel) -> &'static str {
    use sx_domain::TlpLabel as T;
    match label {
        T::Clear => "Public: anyone may see and share this.",
        T::Green => "Community: registered users of this instance only.",
        T::Amber => "Need to know: the people working this case and its subgroups.",
        T::AmberStrict => {
            "Sealed: only the project's maintainers and the experts working this case. Do not share."
        }
        T::Red => "Named recipients only. Do not share with anyone.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_percent_encoded_except_safe_path_characters() {
        assert_eq!(
            encode_component("/cases/a b?x=<1>"),
            "/cases/a%20b%3Fx%3D%3C1%3E"
        );
    }

    #[test]
    fn next_links_stay_on_this_site() {
        assert_eq!(safe_next("/cases/1?x=2"), "/cases/1?x=2");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "",
            "javascript:x",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }

    #[test]
    fn untitled_cases_are_called_by_their_short_id() {
        let id: sx_domain::CaseId = "0199a1b2-0c3d-7e4f-8a5b-6c7d8e9f0a1b".parse().unwrap();
        assert_eq!(short_id(id), "8e9f0a1b");
        assert_eq!(case_title(None, id), "Case 8e9f0a1b");
        assert_eq!(case_title(Some("  \n"), id), "Case 8e9f0a1b");
        assert_eq!(
            case_title(Some(" Fix typo\u{202e} "), id),
            "Fix typo<U+202E>"
        );
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(format_duration(time::Duration::minutes(192)), "3 h 12 min");
        assert_eq!(format_duration(time::Duration::hours(52)), "2 d 4 h");
        assert_eq!(format_duration(time::Duration::seconds(-45)), "45 s");
    }
}
