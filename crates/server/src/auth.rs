//! Who is calling: an API token (`Authorization: Bearer …`) or a session cookie.
//!
//! A presented credential that does not authenticate is an error (401), never a silent
//! downgrade to anonymous: a client with a revoked token must learn it. A request carrying a
//! session cookie that changes state (any method but GET/HEAD/OPTIONS) must also send the
//! session's CSRF token in `X-CSRF-Token`; bearer tokens are not sent by browsers on their own,
//! so they need none.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use sx_store::{SecretHash, Store, UserRecord};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::{constant_time_eq, csrf_token_for};
use crate::error::{ApiError, ErrorCode};

/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller authenticated.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A login session (the cookie's secret is needed to derive the CSRF token).
    Session {
        /// The cookie value.
        secret: String,
    },
    /// A personal API token.
    Token {
        /// Its hash.
        hash: SecretHash,
    },
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user with credentials.
    pub record: UserRecord,
    /// How they authenticated.
    pub credential: Credential,
}

impl Caller {
    /// The domain user.
    #[must_use]
    pub fn user(&self) -> &sx_domain::User {
        &self.record.user
    }
}

/// An optional caller: `None` for anonymous requests.
#[derive(Clone, Debug)]
pub struct MaybeCaller(pub Option<Caller>);

/// The cookie name: `__Host-` prefixed (pinned to this host, Secure, Path=/) over HTTPS.
#[must_use]
pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() {
        "__Host-sx_session"
    } else {
        "sx_session"
    }
}

/// The `Set-Cookie` value for a new session.
#[must_use]
pub fn session_cookie(state: &AppState, secret: &str, max_age_secs: i64) -> String {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}",
        session_cookie_name(state)
    )
}

/// The `Set-Cookie` value that removes the session cookie.
#[must_use]
pub fn clear_session_cookie(state: &AppState) -> String {
    session_cookie(state, "", 0)
}

/// The value of cookie `name` in the request's `Cookie` headers, if present and not empty.
pub(crate) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let now = OffsetDateTime::now_utc();
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 512)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthenticated,
                    "the Authorization header must be `Bearer <token>`",
                )
            })?;
        let hash = SecretHash::of(token);
        return match state.store.authenticate_token(hash, now).await? {
            Some((_, record)) => Ok(Some(Caller {
                record,
                credential: Credential::Token { hash },
            })),
            None => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the API token is unknown, expired or revoked; create a new one",
            )),
        };
    }
    let Some(secret) = cookie_value(&parts.headers, session_cookie_name(state)) else {
        return Ok(None);
    };
    let Some((_, record)) = state.store.get_session(SecretHash::of(secret), now).await? else {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "the session has expired or was ended; log in again",
        ));
    };
    if !is_safe(&parts.method) {
        let expected = csrf_token_for(secret);
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "send the session's CSRF token (from the login answer or GET /api/v1/me) in the X-CSRF-Token header",
            ));
        }
    }
    Ok(Some(Caller {
        record,
        credential: Credential::Session {
            secret: secret.to_string(),
        },
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(authenticate(parts, state).await?))
    }
}

/// The client's IP address as the socket saw it ("unknown" in in-process tests). Behind a
/// reverse proxy this is the proxy; trusting `X-Forwarded-For` needs a configured proxy list
/// (not yet offered).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(
                || "unknown".to_string(),
                |ConnectInfo(addr)| addr.ip().to_string(),
            );
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; sx_session=abc ; b=2"),
        );
        assert_eq!(cookie_value(&h, "sx_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "missing"), None);
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, HeaderValue::from_static("sx_session="));
        assert_eq!(cookie_value(&empty, "sx_session"), None);
    }
}
