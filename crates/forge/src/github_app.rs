//! GitHub App authentication: the app signs a short-lived JWT with its private key and
//! exchanges it for an installation access token, which then authenticates the REST calls for
//! the repositories of that installation.
//!
//! The model, as GitHub documents it ("Authenticating as a GitHub App" and "… as an installation"):
//!
//! 1. a JWT signed with RS256 by the app's private key, claims `iat` (60 seconds in the past,
//!    against clock drift), `exp` (at most 10 minutes ahead; we use 9) and `iss` (the app's
//!    client id or app id);
//! 2. `POST {api}/app/installations/{installation_id}/access_tokens` with that JWT answers
//!    `201 {"token": "ghs_…", "expires_at": "…"}` — a token valid for an hour;
//! 3. the installation id comes with every webhook delivery (`installation.id`); without one,
//!    `GET {api}/repos/{owner}/{repo}/installation` (JWT-authenticated) names it.
//!
//! [`GithubApp`] keeps the parsed key and caches installation tokens until
//! [`REFRESH_BEFORE`] ahead of their `expires_at`. It is blocking like [`ForgeClient`] and every
//! request goes through the same guard. Keys come as PEM, PKCS#1 (`BEGIN RSA PRIVATE KEY`, as
//! GitHub issues them) or PKCS#8 (`BEGIN PRIVATE KEY`); the key never leaves this type, and its
//! `Debug` form does not show it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::{ClientError, Endpoint, ForgeClient, Method};
use crate::webhook::{ForgeKind, PullRef, check_name};

/// How far in the past a JWT's `iat` is set (GitHub's advice, against clock drift).
pub const JWT_BACKDATE: time::Duration = time::Duration::seconds(60);

/// How far ahead of now a JWT expires (GitHub refuses more than 10 minutes).
pub const JWT_LIFETIME: time::Duration = time::Duration::minutes(9);

/// A cached installation token is replaced when it has less than this left.
pub const REFRESH_BEFORE: time::Duration = time::Duration::minutes(5);

/// Why a GitHub App's credentials are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppKeyError {
    /// The app id is neither a number nor a client id.
    #[error("the GitHub App id {0:?} is not an app id (digits) or client id (letters and digits)")]
    BadAppId(String),
    /// The file holds no PEM private key.
    #[error(
        "the GitHub App private key is not a PEM private key (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY): {0}"
    )]
    NotPem(String),
    /// The key is not an RSA key that can sign RS256.
    #[error("the GitHub App private key is not a usable RSA key: {0}")]
    Rejected(String),
}

/// An installation token and when it expires.
#[derive(Clone)]
struct CachedToken {
    token: String,
    expires_at: OffsetDateTime,
}

/// A GitHub App: its id, its private key and the installation tokens obtained so far.
pub struct GithubApp {
    app_id: String,
    key: RsaKeyPair,
    rng: SystemRandom,
    tokens: Mutex<HashMap<u64, CachedToken>>,
}

impl fmt::Debug for GithubApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubApp")
            .field("app_id", &self.app_id)
            .field("private_key", &"***")
            .finish_non_exhaustive()
    }
}

/// Two values are the same app when they have the same id and the same key.
impl PartialEq for GithubApp {
    fn eq(&self, other: &Self) -> bool {
        self.app_id == other.app_id && self.public_key_der() == other.public_key_der()
    }
}

impl Eq for GithubApp {}

impl GithubApp {
    /// Parses the app's private key (PEM, PKCS#1 or PKCS#8) for `app_id` (the numeric app id
    /// or the client id).
    ///
    /// # Errors
    /// When the id has odd characters, or the key is not a PEM RSA private key ring accepts
    /// (2048 to 8192 bits).
    pub fn from_pem(app_id: &str, pem: &[u8]) -> Result<GithubApp, AppKeyError> {
        let app_id = app_id.trim();
        if app_id.is_empty()
            || app_id.len() > 64
            || !app_id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(AppKeyError::BadAppId(app_id.chars().take(64).collect()));
        }
        let der =
            PrivateKeyDer::from_pem_slice(pem).map_err(|e| AppKeyError::NotPem(pem_error(&e)))?;
        let key = match &der {
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Sec1(_) => {
                return Err(AppKeyError::Rejected(
                    "an elliptic-curve key; GitHub Apps use RSA keys".into(),
                ));
            }
            _ => {
                return Err(AppKeyError::Rejected("an unknown key type".into()));
            }
        }
        .map_err(|e| AppKeyError::Rejected(e.to_string()))?;
        Ok(GithubApp {
            app_id: app_id.to_string(),
            key,
            rng: SystemRandom::new(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The app id or client id (the JWT's `iss`).
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The public key (DER `RSAPublicKey`), which verifies this app's JWTs.
    #[must_use]
    pub fn public_key_der(&self) -> &[u8] {
        self.key.public().as_ref()
    }

    /// A JWT for the app, valid from [`JWT_BACKDATE`] before `now` to [`JWT_LIFETIME`] after.
    ///
    /// # Errors
    /// When signing fails (the system's random source failed).
    pub fn jwt(&self, now: OffsetDateTime) -> Result<String, ClientError> {
        let header = json!({ "alg": "RS256", "typ": "JWT" });
        let claims = json!({
            "iat": (now - JWT_BACKDATE).unix_timestamp(),
            "exp": (now + JWT_LIFETIME).unix_timestamp(),
            "iss": self.app_id,
        });
        let mut text = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                text.as_bytes(),
                &mut signature,
            )
            .map_err(|_| ClientError::AppAuth("could not sign the GitHub App JWT".into()))?;
        text.push('.');
        text.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(text)
    }

    /// A client of `endpoint` that authenticates as the app itself (JWT).
    fn app_client(
        &self,
        endpoint: &Endpoint,
        now: OffsetDateTime,
    ) -> Result<ForgeClient, ClientError> {
        let mut endpoint = endpoint.clone();
        endpoint.token = Some(self.jwt(now)?);
        ForgeClient::new(endpoint)
    }

    /// An installation token for the installation `installation_id`, or (when `None`) for
    /// the installation that covers `pull`'s repository; cached until [`REFRESH_BEFORE`]
    /// ahead of its expiry. `endpoint` names the GitHub API (its token is not used).
    ///
    /// # Errors
    /// When a request fails (the app is not installed on the repository: 404), or GitHub's
    /// answer has no token or expiry.
    pub fn installation_token(
        &self,
        endpoint: &Endpoint,
        installation_id: Option<u64>,
        pull: &PullRef,
        now: OffsetDateTime,
    ) -> Result<String, ClientError> {
        if endpoint.kind != ForgeKind::Github {
            return Err(ClientError::AppAuth(format!(
                "GitHub App credentials cannot authenticate to {}",
                endpoint.kind
            )));
        }
        if let Some(id) = installation_id
            && let Some(token) = self.cached(id, now)
        {
            return Ok(token);
        }
        let client = self.app_client(endpoint, now)?;
        let id = match installation_id {
            Some(id) => id,
            None => {
                let id = repository_installation(&client, pull)?;
                if let Some(token) = self.cached(id, now) {
                    return Ok(token);
                }
                id
            }
        };
        let path = format!("/app/installations/{id}/access_tokens");
        let answer = client.json(Method::Post, &path, Some(&json!({})))?;
        let decode = |reason: &str| ClientError::Decode {
            forge: ForgeKind::Github,
            what: format!("POST {path}"),
            reason: reason.to_string(),
        };
        let token = answer
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && t.len() <= 1024 && t.chars().all(|c| c.is_ascii_graphic()))
            .ok_or_else(|| decode("no usable token"))?
            .to_string();
        let expires_at = answer
            .get("expires_at")
            .and_then(Value::as_str)
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .ok_or_else(|| decode("no RFC 3339 expires_at"))?;
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(
                id,
                CachedToken {
                    token: token.clone(),
                    expires_at,
                },
            );
        }
        Ok(token)
    }

    /// The cached token of an installation, if it is still good for [`REFRESH_BEFORE`].
    fn cached(&self, installation_id: u64, now: OffsetDateTime) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .get(&installation_id)
            .filter(|t| t.expires_at - now > REFRESH_BEFORE)
            .map(|t| t.token.clone())
    }

    /// Drops every cached token (after GitHub refused one: revoked when the app is reinstalled
    /// or its permissions change), so the next call obtains fresh ones.
    pub fn forget_tokens(&self) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.clear();
        }
    }
}

/// The installation of the app on `pull`'s repository.
fn repository_installation(client: &ForgeClient, pull: &PullRef) -> Result<u64, ClientError> {
    let invalid = |e: crate::webhook::PayloadError| ClientError::Refused(e.to_string());
    check_name("owner", &pull.owner, false).map_err(invalid)?;
    check_name("repository", &pull.repo, false).map_err(invalid)?;
    let path = format!("/repos/{}/{}/installation", pull.owner, pull.repo);
    let answer = client.json(Method::Get, &path, None)?;
    answer
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ClientError::Decode {
            forge: ForgeKind::Github,
            what: format!("GET {path}"),
            reason: "no installation id".into(),
        })
}

/// A PEM error without any of the file's content.
fn pem_error(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no private key section found".into(),
        Error::MissingSectionEnd { .. } => "a section has no END line".into(),
        Error::IllegalSectionStart { .. } => "a malformed BEGIN line".into(),
        Error::Base64Decode(_) => "the key is not valid base64".into(),
        _ => "the file is not valid PEM".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    // TEST-ONLY keys (tests/forge/testdata/README.md): public, never used for anything real.
    const PKCS1: &str = include_str!("../tests/forge/testdata/github-app-test-only.pkcs1.pem");
    const PKCS8: &str = include_str!("../tests/forge/testdata/github-app-test-only.pkcs8.pem");
    const PUBLIC: &str = include_str!("../tests/forge/testdata/github-app-test-only.public.pem");

    /// DER of the `RSA PUBLIC KEY` PEM, decoded here independently of the code under test.
    fn public_der() -> Vec<u8> {
        let b64: String = PUBLIC
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN RSA PUBLIC KEY"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    fn part(jwt: &str, i: usize) -> Value {
        let seg = jwt.split('.').nth(i).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
    }

    #[test]
    fn the_jwt_has_github_claims_and_verifies_with_the_public_key() {
        let app = GithubApp::from_pem("123456", PKCS1.as_bytes()).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let jwt = app.jwt(now).unwrap();
        assert_eq!(jwt.split('.').count(), 3);
        assert_eq!(part(&jwt, 0), json!({"alg": "RS256", "typ": "JWT"}));
        let claims = part(&jwt, 1);
        assert_eq!(claims["iss"], "123456");
        assert_eq!(claims["iat"], 1_700_000_000 - 60);
        assert_eq!(claims["exp"], 1_700_000_000 + 540);
        let exp = claims["exp"].as_i64().unwrap();
        assert!(
            exp - 1_700_000_000 <= 600,
            "GitHub refuses exp beyond 10 minutes"
        );
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_der());
        public.verify(signed.as_bytes(), &sig).unwrap();
        // A changed claim no longer verifies.
        let forged = signed.replacen(
            &URL_SAFE_NO_PAD.encode(claims.to_string()),
            &URL_SAFE_NO_PAD.encode(json!({"iss": "666"}).to_string()),
            1,
        );
        assert_ne!(forged, signed);
        assert!(public.verify(forged.as_bytes(), &sig).is_err());
    }

    #[test]
    fn pkcs1_and_pkcs8_forms_of_one_key_are_the_same_app() {
        let one = GithubApp::from_pem("Iv23liTestClient", PKCS1.as_bytes()).unwrap();
        let eight = GithubApp::from_pem("Iv23liTestClient", PKCS8.as_bytes()).unwrap();
        assert_eq!(one, eight);
        assert_eq!(one.public_key_der(), public_der().as_slice());
        assert!(!format!("{one:?}").contains("MII"), "{one:?}");
    }

    #[test]
    fn bad_ids_and_keys_are_refused_without_echoing_the_key() {
        assert!(matches!(
            GithubApp::from_pem("12/34", PKCS1.as_bytes()),
            Err(AppKeyError::BadAppId(_))
        ));
        assert!(matches!(
            GithubApp::from_pem("1", b"not a key"),
            Err(AppKeyError::NotPem(_))
        ));
        assert!(matches!(
            GithubApp::from_pem("1", PUBLIC.as_bytes()),
            Err(AppKeyError::NotPem(_))
        ));
        // A truncated key body: valid PEM framing, not a key.
        let lines: Vec<&str> = PKCS1.lines().collect();
        let truncated = [&lines[..3], &lines[lines.len() - 1..]].concat().join("\n");
        let e = GithubApp::from_pem("1", truncated.as_bytes()).unwrap_err();
        assert!(!e.to_string().contains(lines[2]), "{e}");
    }

    #[test]
    fn cached_tokens_are_reused_until_shortly_before_they_expire() {
        let app = GithubApp::from_pem("1", PKCS1.as_bytes()).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        app.tokens.lock().unwrap().insert(
            7,
            CachedToken {
                token: "ghs_cached".into(),
                expires_at: now + time::Duration::minutes(60),
            },
        );
        assert_eq!(app.cached(7, now).as_deref(), Some("ghs_cached"));
        assert_eq!(
            app.cached(7, now + time::Duration::minutes(54)).as_deref(),
            Some("ghs_cached")
        );
        assert_eq!(app.cached(7, now + time::Duration::minutes(55)), None);
        assert_eq!(app.cached(8, now), None);
        app.forget_tokens();
        assert_eq!(app.cached(7, now), None);
    }
}
