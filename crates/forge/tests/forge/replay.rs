//! A tiny HTTP/1.1 server on 127.0.0.1 that answers recorded-format forge API responses by
//! `METHOD path` and records every request it got (method, path, headers, body).
//!
//! With [`ReplayServer::github_app`] it also plays GitHub's side of GitHub App authentication:
//! it checks the RS256 JWT of `POST …/app/installations/{id}/access_tokens` and
//! `GET …/repos/{owner}/{repo}/installation` against the app's public key (signature, `iss`,
//! `iat` in the past, `exp` at most 10 minutes ahead and not passed), hands out installation
//! tokens, and answers 401 to any `…/repos/{owner}/{repo}/…` request that does not carry a
//! token issued for the installation covering that repository.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub extra: Vec<(String, String)>,
}

impl Reply {
    pub fn json(body: &str) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body: body.as_bytes().to_vec(),
            extra: vec![],
        }
    }
    pub fn text(body: &str) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain",
            body: body.as_bytes().to_vec(),
            extra: vec![],
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: b"{\"message\":\"x\"}".to_vec(),
            extra: vec![],
        }
    }
}

/// GitHub's side of a GitHub App, for [`ReplayServer::github_app`].
#[derive(Debug, Default)]
struct AppMode {
    app_id: String,
    /// DER `RSAPublicKey`.
    public_key: Vec<u8>,
    /// Installation id → `owner/repo` it covers.
    installations: Vec<(u64, String)>,
    /// Tokens handed out: (installation, token).
    issued: Vec<(u64, String)>,
    /// How long a token lives (GitHub: one hour).
    token_lifetime: time::Duration,
}

impl AppMode {
    /// Checks a `Bearer` JWT: signature, issuer, times. `Err` names what is wrong.
    fn check_jwt(&self, authorization: Option<&str>) -> Result<(), String> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwt = authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .ok_or("no Bearer JWT")?;
        let (signed, sig) = jwt.rsplit_once('.').ok_or("not a JWT")?;
        let (header, claims) = signed.split_once('.').ok_or("not a JWT")?;
        let sig = b64.decode(sig).map_err(|_| "bad signature encoding")?;
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &self.public_key,
        )
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| "the JWT signature does not verify with the app's public key")?;
        let header: serde_json::Value =
            serde_json::from_slice(&b64.decode(header).map_err(|_| "bad header")?)
                .map_err(|_| "bad header")?;
        if header["alg"] != "RS256" {
            return Err("alg is not RS256".into());
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(claims).map_err(|_| "bad claims")?)
                .map_err(|_| "bad claims")?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let (iat, exp) = (
            claims["iat"].as_i64().ok_or("no iat")?,
            claims["exp"].as_i64().ok_or("no exp")?,
        );
        if claims["iss"].as_str() != Some(self.app_id.as_str()) {
            return Err(format!("iss {} is not the app id", claims["iss"]));
        }
        if iat > now || exp <= now || exp > now + 600 || exp - iat > 600 {
            return Err(format!("iat {iat} / exp {exp} out of range at {now}"));
        }
        Ok(())
    }

    /// Answers app requests; `None` lets the request through to the routes.
    fn answer(&mut self, method: &str, path: &str, authorization: Option<&str>) -> Option<Reply> {
        let denied = |why: String| {
            let mut r = Reply::status(401);
            r.body = serde_json::json!({ "message": why })
                .to_string()
                .into_bytes();
            Some(r)
        };
        if let Some(rest) = path.split_once("/app/installations/").map(|(_, r)| r) {
            let id = rest.strip_suffix("/access_tokens")?.parse::<u64>().ok()?;
            if method != "POST" {
                return Some(Reply::status(405));
            }
            if let Err(why) = self.check_jwt(authorization) {
                return denied(why);
            }
            if !self.installations.iter().any(|(i, _)| *i == id) {
                return Some(Reply::status(404));
            }
            let token = format!("ghs_replay_{id}_{}", self.issued.len() + 1);
            self.issued.push((id, token.clone()));
            let expires = time::OffsetDateTime::now_utc() + self.token_lifetime;
            let expires = expires
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            let mut reply = Reply::json(
                &serde_json::json!({ "token": token, "expires_at": expires, "permissions": {"pull_requests": "read", "issues": "write", "metadata": "read"} })
                    .to_string(),
            );
            reply.status = 201;
            return Some(reply);
        }
        let rest = path.split_once("/repos/").map(|(_, r)| r)?;
        let mut parts = rest.splitn(3, '/');
        let repo = format!("{}/{}", parts.next()?, parts.next()?);
        let installation = self
            .installations
            .iter()
            .find(|(_, r)| r.eq_ignore_ascii_case(&repo))
            .map(|(i, _)| *i);
        if parts.next() == Some("installation") {
            if let Err(why) = self.check_jwt(authorization) {
                return denied(why);
            }
            return Some(match installation {
                Some(id) => Reply::json(&format!("{{\"id\":{id}}}")),
                None => Reply::status(404),
            });
        }
        let token = authorization.and_then(|a| a.strip_prefix("Bearer "));
        let ok = self
            .issued
            .iter()
            .any(|(i, t)| Some(*i) == installation && Some(t.as_str()) == token);
        if ok {
            None
        } else {
            denied(format!("no installation token for {repo}"))
        }
    }
}

#[derive(Debug)]
pub struct ReplayServer {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    app: Arc<Mutex<Option<AppMode>>>,
}

impl ReplayServer {
    pub fn start() -> ReplayServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::new(Mutex::new(HashMap::new()));
        let app: Arc<Mutex<Option<AppMode>>> = Arc::new(Mutex::new(None));
        let (req2, routes2, app2) = (requests.clone(), routes.clone(), app.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (req3, routes3, app3) = (req2.clone(), routes2.clone(), app2.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or("").to_string();
                        let path = parts.next().unwrap_or("").to_string();
                        let mut headers = Vec::new();
                        let mut length = 0usize;
                        loop {
                            let mut h = String::new();
                            reader.read_line(&mut h).unwrap();
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                if k.eq_ignore_ascii_case("content-length") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                                headers.push((k.trim().to_string(), v.trim().to_string()));
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        req3.lock().unwrap().push(Recorded {
                            method: method.clone(),
                            path: path.clone(),
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        // `KEY#patch` answers requests for the patch media type.
                        let wants_patch = req3
                            .lock()
                            .unwrap()
                            .last()
                            .and_then(|r| r.header("accept").map(|a| a.contains("patch")))
                            .unwrap_or(false);
                        let authorization = req3
                            .lock()
                            .unwrap()
                            .last()
                            .and_then(|r| r.header("authorization").map(str::to_string));
                        let app_reply =
                            app3.lock().unwrap().as_mut().and_then(|app| {
                                app.answer(&method, &path, authorization.as_deref())
                            });
                        let routes = routes3.lock().unwrap();
                        let key = format!("{method} {path}");
                        let reply = app_reply
                            .or_else(|| {
                                wants_patch
                                    .then(|| routes.get(&format!("{key}#patch")))
                                    .flatten()
                                    .or_else(|| routes.get(&key))
                                    .cloned()
                            })
                            .unwrap_or_else(|| Reply::status(404));
                        drop(routes);
                        let mut head = format!(
                            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                            reply.status,
                            reply.content_type,
                            reply.body.len()
                        );
                        for (k, v) in &reply.extra {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(&reply.body).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        ReplayServer {
            base,
            requests,
            routes,
            app,
        }
    }

    /// Plays GitHub's side of a GitHub App: JWTs of `app_id` must verify with
    /// `public_key_der` (DER `RSAPublicKey`); `installations` maps installation ids to the
    /// `owner/repo` each covers. From now on every `…/repos/{owner}/{repo}/…` request must
    /// carry an installation token issued for that repository's installation.
    pub fn github_app(&self, app_id: &str, public_key_der: Vec<u8>, installations: &[(u64, &str)]) {
        *self.app.lock().unwrap() = Some(AppMode {
            app_id: app_id.to_string(),
            public_key: public_key_der,
            installations: installations
                .iter()
                .map(|(i, r)| (*i, (*r).to_string()))
                .collect(),
            issued: Vec::new(),
            token_lifetime: time::Duration::hours(1),
        });
    }

    /// Makes the installation tokens handed out from now on expire after `lifetime`.
    #[allow(
        dead_code,
        reason = "used by sx-forge's client tests, not by the e2e journeys sharing this file"
    )]
    pub fn app_token_lifetime(&self, lifetime: time::Duration) {
        if let Some(app) = self.app.lock().unwrap().as_mut() {
            app.token_lifetime = lifetime;
        }
    }

    /// Installation tokens handed out so far: (installation id, token).
    pub fn issued_tokens(&self) -> Vec<(u64, String)> {
        self.app
            .lock()
            .unwrap()
            .as_ref()
            .map(|a| a.issued.clone())
            .unwrap_or_default()
    }

    pub fn on(&self, method_path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .insert(method_path.to_string(), reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// DER of an `RSA PUBLIC KEY` PEM file (the test-only GitHub App key in `testdata/`).
pub fn rsa_public_key_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN RSA PUBLIC KEY"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// The TEST-ONLY GitHub App key (see `testdata/README.md`): its PKCS#1 PEM path and its public
/// key. Never use it for anything real: it is public in this repository.
pub const TEST_APP_KEY_PKCS1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../forge/tests/forge/testdata/github-app-test-only.pkcs1.pem"
);
pub const TEST_APP_PUBLIC_KEY: &str = include_str!("testdata/github-app-test-only.public.pem");
