//! Forge intake: webhook endpoints `/hooks/github`, `/hooks/gitlab`, `/hooks/forgejo`.
//!
//! A delivery is handled in this order, and each step can only refuse:
//!
//! 1. the forge must be configured (a webhook secret set), else 404;
//! 2. the signature (or GitLab token) over the raw body must match, else 401;
//! 3. the payload is parsed ([`sx_forge::webhook`]); a ping answers `pong`;
//! 4. the delivery id is recorded; a replay answers `duplicate` and does nothing;
//! 5. the repository must be on the configured forge's web host (a payload naming another
//!    host, `127.0.0.1` or a private address is refused with 422) — payload URLs are never
//!    fetched, API requests go to the configured API host only;
//! 6. the work is a durable job: [`crate::jobs::forge_forward`] checks the sender's write access
//!    through the API, fetches the change and creates the case (the same code path as the API),
//!    [`crate::jobs::forge_revision`] adds a new revision, and [`crate::jobs::forge_comment`]
//!    posts and later updates the S-Express comment on the pull request.
//!
//! The answer comes before any forge API call, so forges never time out on us.

pub mod comment;
pub mod settings;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use sx_forge::signature::{verify_forgejo, verify_github, verify_gitlab};
use sx_forge::{Event, ForgeKind, RepoInfo, Triggers};
use sx_store::Store;
use time::OffsetDateTime;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::jobs;

/// The webhook endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/github", post(github))
        .route("/hooks/gitlab", post(gitlab))
        .route("/hooks/forgejo", post(forgejo))
}

/// The command that forwards a pull request from a comment.
pub const COMMAND: &str = "/s-express";

fn header<'h>(headers: &'h HeaderMap, names: &[&str]) -> Option<&'h str> {
    names
        .iter()
        .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
}

async fn github(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(state, ForgeKind::Github, &headers, &body).await
}

async fn gitlab(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(state, ForgeKind::Gitlab, &headers, &body).await
}

async fn forgejo(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(state, ForgeKind::Forgejo, &headers, &body).await
}

async fn handle(state: AppState, kind: ForgeKind, headers: &HeaderMap, body: &[u8]) -> Response {
    match accept(&state, kind, headers, body).await {
        Ok(answer) => answer,
        Err(e) => e.into_response(),
    }
}

fn forge_name(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::Github => "GitHub",
        ForgeKind::Gitlab => "GitLab",
        ForgeKind::Forgejo => "Forgejo/Gitea",
    }
}

async fn accept(
    state: &AppState,
    kind: ForgeKind,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let settings = state.config.forges.get(kind);
    let Some(secret) = &settings.webhook_secret else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "the {} webhook is not enabled on this instance (no webhook secret configured)",
                forge_name(kind)
            ),
        ));
    };
    let secret = secret.expose().as_bytes();
    let verified = match kind {
        ForgeKind::Github => verify_github(header(headers, &["x-hub-signature-256"]), secret, body),
        ForgeKind::Gitlab => verify_gitlab(header(headers, &["x-gitlab-token"]), secret),
        ForgeKind::Forgejo => {
            let name = if headers.contains_key("x-forgejo-signature") {
                "X-Forgejo-Signature"
            } else {
                "X-Gitea-Signature"
            };
            verify_forgejo(
                name,
                header(headers, &["x-forgejo-signature", "x-gitea-signature"]),
                secret,
                body,
            )
        }
    };
    if let Err(e) = verified {
        tracing::warn!(forge = %kind, error = %e, "webhook delivery refused");
        return Err(ApiError::new(ErrorCode::Unauthenticated, e.to_string()));
    }
    let (event_headers, delivery_headers): (&[&str], &[&str]) = match kind {
        ForgeKind::Github => (&["x-github-event"], &["x-github-delivery"]),
        ForgeKind::Gitlab => (
            &["x-gitlab-event"],
            &["idempotency-key", "x-gitlab-event-uuid"],
        ),
        ForgeKind::Forgejo => (
            &["x-forgejo-event", "x-gitea-event"],
            &["x-forgejo-delivery", "x-gitea-delivery"],
        ),
    };
    let event_name = header(headers, event_headers).ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("the delivery has no {} header", event_headers[0]),
        )
    })?;
    // Gitea/Forgejo name the finer event (e.g. `pull_request_review_comment`) in a type header.
    let event_name = match kind {
        ForgeKind::Forgejo => header(headers, &["x-forgejo-event-type", "x-gitea-event-type"])
            .filter(|t| t.starts_with("pull_request_review") || *t == "pull_request_comment")
            .unwrap_or(event_name),
        _ => event_name,
    };
    let triggers = Triggers {
        command: COMMAND,
        label: &state.config.forges.label,
    };
    let parsed = match kind {
        ForgeKind::Github => sx_forge::webhook::parse_github(event_name, body, triggers),
        ForgeKind::Gitlab => sx_forge::webhook::parse_gitlab(event_name, body, triggers),
        ForgeKind::Forgejo => sx_forge::webhook::parse_forgejo(event_name, body, triggers),
    };
    let event = parsed.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
    if event == Event::Ping {
        return Ok((StatusCode::OK, axum::Json(json!({ "status": "pong" }))).into_response());
    }
    let delivery = header(headers, delivery_headers).ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!(
                "the delivery has no {} header, needed to refuse replays",
                delivery_headers[0]
            ),
        )
    })?;
    let now = OffsetDateTime::now_utc();
    if !state
        .store
        .record_forge_delivery(kind.as_str(), delivery, now)
        .await
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?
    {
        tracing::info!(forge = %kind, %delivery, "replayed webhook delivery ignored");
        return Ok(answer("duplicate", "this delivery was already handled"));
    }
    match event {
        Event::Ping => Ok(answer("pong", "")),
        Event::Ignored(reason) => Ok(answer("ignored", &reason)),
        Event::Forward(request) => {
            check_host(kind, &request.repo, &settings.web_host)?;
            let id = jobs::forge_forward::enqueue(state, kind, &request, now).await?;
            state.job_wakeup.notify_one();
            tracing::info!(forge = %kind, pull = %request.pull.full_name(), number = request.pull.number, sender = %request.sender.login, job = %id, "forward request accepted");
            Ok((
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "accepted", "job": id })),
            )
                .into_response())
        }
        Event::NewHead(new_head) => {
            check_host(kind, &new_head.repo, &settings.web_host)?;
            let threads = state
                .store
                .find_forge_threads(
                    kind.as_str(),
                    &settings.api_url,
                    &new_head.pull.owner,
                    &new_head.pull.repo,
                    new_head.pull.number,
                )
                .await?;
            if threads.is_empty() {
                return Ok(answer("ignored", "this pull request was not forwarded"));
            }
            for thread in &threads {
                jobs::forge_revision::enqueue(state, thread.case_id, &new_head, now).await?;
            }
            state.job_wakeup.notify_one();
            Ok((
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "accepted", "cases": threads.len() })),
            )
                .into_response())
        }
    }
}

fn answer(status: &str, reason: &str) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({ "status": status, "reason": reason })),
    )
        .into_response()
}

/// The payload's repository must live on the configured forge's web host.
fn check_host(kind: ForgeKind, repo: &RepoInfo, web_host: &str) -> Result<(), ApiError> {
    let host = repo.web_url.as_deref().and_then(settings::url_host);
    match host {
        Some(h) if h == web_host => Ok(()),
        other => Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "the payload names a repository on {}, not on this instance's configured {} host {web_host}; set the forge's web_url if that host is yours",
                other.as_deref().unwrap_or("an unknown host"),
                forge_name(kind)
            ),
        )),
    }
}
