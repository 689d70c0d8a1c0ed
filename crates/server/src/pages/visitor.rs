//! Who is looking at a page, and the CSRF token of their forms.
//!
//! A signed-in visitor is the session cookie of [`crate::auth`]; their forms carry the
//! session's CSRF token ([`crate::accounts::csrf_token_for`]) in a hidden `csrf` field. An
//! anonymous visitor gets a random `sx_form` cookie (HttpOnly, SameSite=Strict) whose derived
//! token protects the login, registration and invitation forms, so another site cannot log a
//! victim into the attacker's account. Unlike the API, an expired or unknown session cookie is
//! not an error on a page: the visitor is simply anonymous again and the stale cookie is
//! removed. Bearer tokens are not accepted on pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use sx_store::{SecretHash, Store};
use time::OffsetDateTime;

use crate::AppState;
use crate::accounts::{constant_time_eq, csrf_token_for, random_secret};
use crate::auth::{self, Caller, Credential, clear_session_cookie, session_cookie_name};
use crate::error::{ApiError, ErrorCode};
use crate::pages::PageError;

/// The visitor of a page.
#[derive(Clone, Debug)]
pub struct Visitor {
    /// The signed-in user, if any.
    pub caller: Option<Caller>,
    /// The secret the CSRF token derives from (session id, or the anonymous form cookie).
    csrf_secret: String,
    /// `Set-Cookie` values to send with the answer.
    cookies: Vec<String>,
    /// The request path (for `login?next=`).
    pub path: String,
}

fn form_cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() {
        "__Host-sx_form"
    } else {
        "sx_form"
    }
}

/// [`auth::cookie_value`], ignoring values too long to be one of our secrets.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    auth::cookie_value(headers, name).filter(|v| v.len() <= 128)
}

impl Visitor {
    /// The token every form of this visitor must send back in its `csrf` field.
    #[must_use]
    pub fn csrf(&self) -> String {
        csrf_token_for(&self.csrf_secret)
    }

    /// Checks a form's `csrf` field.
    ///
    /// # Errors
    /// `csrf_failed` when it does not match this visitor's token.
    pub fn verify(&self, sent: &str) -> Result<(), PageError> {
        if constant_time_eq(sent.as_bytes(), self.csrf().as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "the form was too old or came from another site; go back, reload the page and send it again",
            )
            .into())
        }
    }

    /// The signed-in caller, or a redirect to the login page.
    ///
    /// # Errors
    /// When nobody is signed in.
    pub fn require(&self) -> Result<&Caller, PageError> {
        self.caller
            .as_ref()
            .ok_or_else(|| PageError::login(&self.path))
    }

    /// The signed-in domain user, if any.
    #[must_use]
    pub fn user(&self) -> Option<&sx_domain::User> {
        self.caller.as_ref().map(Caller::user)
    }

    /// Adds a `Set-Cookie` to the answer.
    pub fn set_cookie(&mut self, value: String) {
        self.cookies.push(value);
    }

    /// Adds this visitor's pending cookies to `response`.
    pub fn add_cookies(&self, response: &mut Response) {
        for c in &self.cookies {
            if let Ok(v) = HeaderValue::from_str(c) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let mut cookies = Vec::new();
        if let Some(secret) = cookie_value(&parts.headers, session_cookie_name(state)) {
            let now = OffsetDateTime::now_utc();
            match state.store.get_session(SecretHash::of(secret), now).await? {
                Some((_, record)) => {
                    return Ok(Visitor {
                        caller: Some(Caller {
                            record,
                            credential: Credential::Session {
                                secret: secret.to_string(),
                            },
                        }),
                        csrf_secret: secret.to_string(),
                        cookies,
                        path,
                    });
                }
                None => cookies.push(clear_session_cookie(state)),
            }
        }
        let name = form_cookie_name(state);
        let csrf_secret = match cookie_value(&parts.headers, name) {
            Some(existing) if existing.len() >= 32 => existing.to_string(),
            _ => {
                let fresh = random_secret();
                let secure = if state.config.is_https() {
                    "; Secure"
                } else {
                    ""
                };
                cookies.push(format!(
                    "{name}={fresh}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400{secure}"
                ));
                fresh
            }
        };
        Ok(Visitor {
            caller: None,
            csrf_secret,
            cookies,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_and_bounded() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("sx_form_x=1; sx_form=abc"),
        );
        assert_eq!(cookie_value(&h, "sx_form"), Some("abc"));
        let long = format!("sx_form={}", "a".repeat(200));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_str(&long).unwrap());
        assert_eq!(cookie_value(&h, "sx_form"), None);
    }
}
