//! A small blocking HTTP client for journey tests: JSON in, status and JSON (or text) out,
//! with an optional bearer token or session cookie. Non-2xx answers are returned, not errors.

use std::time::Duration;

use serde_json::Value;

/// An answer: status, headers we look at, body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Every `Set-Cookie` header.
    pub set_cookies: Vec<String>,
    /// `Location`, if any.
    pub location: Option<String>,
    /// The body as text (lossy UTF-8).
    pub text: String,
}

impl Answer {
    /// The body parsed as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text))
    }
}

/// A client for one instance, optionally authenticated.
#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    auth: Option<String>,
    cookie: Option<String>,
    agent: ureq::Agent,
}

impl Client {
    /// An anonymous client for `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_string(),
            auth: None,
            cookie: None,
            agent,
        }
    }

    /// The same client sending `Authorization: Bearer TOKEN`.
    pub fn with_token(&self, token: &str) -> Client {
        Client {
            auth: Some(format!("Bearer {token}")),
            ..self.clone()
        }
    }

    /// The same client sending `Cookie: COOKIE`.
    pub fn with_cookie(&self, cookie: &str) -> Client {
        Client {
            cookie: Some(cookie.to_string()),
            ..self.clone()
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn finish(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = response.unwrap_or_else(|e| panic!("HTTP request failed: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let location = header("location");
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Answer {
            status,
            content_type,
            set_cookies,
            location,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> Answer {
        let mut req = self.agent.get(self.url(path));
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        Self::finish(req.call())
    }

    /// DELETE `path`.
    pub fn delete(&self, path: &str) -> Answer {
        let mut req = self.agent.delete(self.url(path));
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        Self::finish(req.call())
    }

    /// POST `body` with `content_type` to `path`, with extra headers.
    pub fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .agent
            .post(self.url(path))
            .header("Content-Type", content_type);
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::finish(req.send(body))
    }

    /// POST JSON to `path`.
    pub fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.post_bytes(path, "application/json", body.to_string().as_bytes(), &[])
    }
}
