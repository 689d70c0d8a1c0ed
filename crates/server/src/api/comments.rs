//! Comments on a case, each with its own TLP label: `GET/POST /api/v1/cases/{id}/comments`.
//!
//! A comment's effective label is the stricter of its own and its case's, so a CLEAR comment on
//! a sealed case stays sealed until publication. Reading filters every comment through
//! `may_view`; writing needs a participant of the case (named, maintainer, assigned expert or
//! read in). RED comments may name recipients, who must be named participants.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sx_domain::{CaseId, Comment, CommentId, TlpLabel, UserId};
use sx_store::Store;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::api::cases::load_visible;
use crate::auth::{Caller, MaybeCaller};
use crate::error::{ApiError, Json, Path};

/// Input of `POST /api/v1/cases/{id}/comments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Markdown text (shown escaped).
    pub body: String,
    /// The comment's label; defaults to AMBER+STRICT.
    pub tlp: Option<TlpLabel>,
    /// For RED comments: the named participants who may read it (empty: all of them).
    #[serde(default)]
    pub recipients: Vec<UserId>,
    /// The comment this answers.
    pub in_reply_to: Option<CommentId>,
}

/// `GET /api/v1/cases/{id}/comments`: the comments the caller may see, oldest first.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<CaseId>,
) -> Result<Json<Vec<Comment>>, ApiError> {
    let v = load_visible(&state, caller.as_ref().map(Caller::user), id).await?;
    let comments = state.store.list_comments(id).await?;
    Ok(Json(
        comments
            .into_iter()
            .filter(|c| sx_domain::may_view(&v.viewer, &v.case.value.comment_object(c)))
            .collect(),
    ))
}

/// `POST /api/v1/cases/{id}/comments`: a participant comments.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<CaseId>,
    Json(req): Json<NewComment>,
) -> Result<Response, ApiError> {
    let v = load_visible(&state, Some(caller.user()), id).await?;
    if !sx_domain::may_view_participants(&v.viewer) {
        return Err(ApiError::forbidden(
            "only participants of the case (its maintainers, assigned experts, read-in subgroups and named people) may comment",
        ));
    }
    let tlp = req.tlp.unwrap_or(TlpLabel::AmberStrict);
    if !req.recipients.is_empty() {
        if tlp != TlpLabel::Red {
            return Err(ApiError::invalid(
                "recipients are only for TLP:RED comments",
            ));
        }
        if let Some(stranger) = req.recipients.iter().find(|u| !v.case.value.is_named(**u)) {
            return Err(ApiError::invalid(format!(
                "recipient {stranger} is not a named participant of the case"
            )));
        }
    }
    let comment = Comment {
        id: CommentId::from_uuid(Uuid::now_v7()),
        case_id: id,
        author: caller.user().id,
        in_reply_to: req.in_reply_to,
        body: req.body,
        tlp,
        recipients: req.recipients,
        created_at: OffsetDateTime::now_utc(),
    };
    comment
        .validate()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    state
        .store
        .add_comment(&comment, comment.created_at)
        .await?;
    tracing::info!(case = %id, user = %caller.user().id, comment = %comment.id, "comment added");
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}
