//! API errors: every failure leaves as JSON `{"code": "...", "message": "..."}`.
//!
//! `code` is stable (clients branch on it; see [`ErrorCode`]), `message` is for humans and says
//! what to do. Causes (database errors, I/O, panics in jobs) are logged with the request's
//! context and never sent: they can name tables, paths or sealed content.
//!
//! The wrapped extractors [`Json`], [`Path`] and [`Query`] turn axum's rejections (bad JSON,
//! a body over the limit, a malformed id) into the same format, so no plain-text error ever
//! reaches a client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Stable error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is malformed (bad JSON syntax, bad query string).
    BadRequest,
    /// A field is missing, has the wrong type or is out of range.
    InvalidInput,
    /// The submitted change text could not be parsed as a diff, patch or mbox.
    InvalidChange,
    /// No valid session or token.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// A cookie-authenticated state change came without the session's CSRF token.
    CsrfFailed,
    /// No such resource, or the caller may not see it.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// Someone else changed the resource at the same time, or a unique key is taken.
    Conflict,
    /// The resource's state does not allow this action now.
    InvalidState,
    /// The body is over the size limit.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// A fault on our side; the cause is logged.
    Internal,
}

impl ErrorCode {
    /// The code's text form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidChange => "invalid_change",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status the code is sent with.
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput | ErrorCode::InvalidChange => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::CsrfFailed => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict | ErrorCode::InvalidState => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Every code, for the OpenAPI document.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadRequest,
        ErrorCode::InvalidInput,
        ErrorCode::InvalidChange,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::CsrfFailed,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::InvalidState,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];
}

/// An error answer. Build with the constructors; the cause, if any, is only logged.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Human message, safe to show.
    pub message: String,
    /// Seconds to wait (rate limiting).
    pub retry_after: Option<u64>,
    cause: Option<String>,
}

impl ApiError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// Attaches a cause to log (never sent).
    #[must_use]
    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// Invalid input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// Not found (also used for things the caller may not see).
    pub fn not_found(what: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no such {what}, or you may not see it"),
        )
    }

    /// Not logged in.
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "log in (POST /api/v1/session) or send an API token as `Authorization: Bearer <token>`",
        )
    }

    /// Not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// A fault on our side; `cause` is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::Internal,
            "something went wrong on our side; it was logged, please try again later",
        )
        .with_cause(cause)
    }

    /// Too many requests.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let secs = wait.as_secs().max(1);
        let mut e = Self::new(
            ErrorCode::RateLimited,
            format!("too many requests; try again in {secs} seconds"),
        );
        e.retry_after = Some(secs);
        e
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        match (&self.cause, status.is_server_error()) {
            (Some(cause), true) => {
                tracing::error!(code = self.code.as_str(), %cause, "request failed")
            }
            (Some(cause), false) => {
                tracing::debug!(code = self.code.as_str(), %cause, "request refused")
            }
            (None, _) => {}
        }
        let mut response = (
            status,
            axum::Json(Body {
                code: self.code.as_str(),
                message: &self.message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<sx_store::StoreError> for ApiError {
    fn from(err: sx_store::StoreError) -> Self {
        use sx_store::StoreError as E;
        match &err {
            E::Conflict { .. } => Self::new(
                ErrorCode::Conflict,
                "someone else changed this at the same time; reload and try again",
            )
            .with_cause(err),
            E::Duplicate { entity, .. } => {
                Self::new(ErrorCode::Conflict, format!("that {entity} already exists"))
                    .with_cause(err)
            }
            E::NotFound { entity, .. } => Self::not_found(entity).with_cause(err),
            E::LastAdmin { .. } => Self::new(
                ErrorCode::InvalidState,
                "that is the last enabled admin; grant another account the admin role first",
            )
            .with_cause(err),
            _ => Self::internal(err),
        }
    }
}

impl From<sx_domain::CaseError> for ApiError {
    fn from(err: sx_domain::CaseError) -> Self {
        use sx_domain::CaseError as E;
        let message = err.to_string();
        let code = match &err {
            E::Invalid(_) => ErrorCode::InvalidInput,
            E::NotAllowed { .. }
            | E::ConflictOfInterest { .. }
            | E::NotInSubgroup
            | E::NotYourAssessment(_)
            | E::SecondReviewerIsAuthor
            | E::DuplicateApproval => ErrorCode::Forbidden,
            E::UnknownAssessment(_)
            | E::UnknownSecondReview(_)
            | E::UnknownSubgroup(_)
            | E::UnknownExtension(_) => ErrorCode::NotFound,
            // A project mismatch is our bug, not the caller's.
            E::WrongProject { .. } => return Self::internal(err),
            _ => ErrorCode::InvalidState,
        };
        Self::new(code, message)
    }
}

/// JSON body extractor and responder whose rejections use our error format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            ApiError::invalid(format!("the JSON body does not fit: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            ErrorCode::BadRequest,
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
        other => ApiError::new(ErrorCode::BadRequest, "the request body could not be read")
            .with_cause(other.body_text()),
    }
}

/// The answer for a body over the limit.
pub fn payload_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        "the request body is over the size limit; changes are limited to the instance's maximum change size \
         (default 8 MiB, see GET /api/v1/openapi.json): split the change into smaller patches",
    )
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path extractor whose rejections use our error format (a malformed id is a 404: no such
/// resource can exist at that path).
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::new(
                ErrorCode::NotFound,
                "no such resource: the id in the path is malformed",
            )
            .with_cause(e.body_text())),
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}

/// Query-string extractor whose rejections use our error format.
#[derive(Debug, Clone, Copy)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::invalid(
                format!("the query string does not fit: {}", e.body_text()),
            )),
            Err(other) => Err(ApiError::new(
                ErrorCode::BadRequest,
                "the query string could not be read",
            )
            .with_cause(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_snake_case_name_matching_serde() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code:?}");
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
    }

    #[tokio::test]
    async fn internal_errors_never_send_their_cause() {
        let response = ApiError::internal("password=hunter2 in table users").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("\"code\":\"internal\""), "{text}");
    }

    #[test]
    fn store_conflicts_become_409_with_a_retry_hint() {
        let e: ApiError = sx_store::StoreError::Conflict {
            entity: "case",
            id: "x".into(),
            expected: 1,
        }
        .into();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(e.message.contains("try again"));
    }

    #[test]
    fn the_stores_last_admin_refusal_is_an_invalid_state_not_a_500() {
        let e: ApiError = sx_store::StoreError::LastAdmin { id: "u".into() }.into();
        assert_eq!(e.code, ErrorCode::InvalidState);
        assert!(e.message.contains("last enabled admin"), "{}", e.message);
    }
}
